"""Customer access: magic links and handoff codes (the sessions they open: sessions.py).

Links are itsdangerous-signed with a salt used for nothing else and carry only a random
nonce and the company id; the database keeps the nonce's SHA-256 and enforces single use
with one conditional UPDATE, so a leaked signing key alone cannot mint a session.
"""

import hashlib
import re

from itsdangerous import BadData, BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.encoding import base64_decode, base64_encode

from portal.errors import ValidationFailed
from portal.models import Customer, HandoffCode, Invoice, LoginToken, utcnow
from portal.security import random_token, sha256_hex

from .sessions import Lifetimes

LINK_SALT = "portal-login-v1"
DESTINATIONS = {
    "home": "/portal",
    "payment_methods": "/portal/payment-methods",
    "billing_information": "/portal/billing-information",
}


class LinkInvalid(Exception):
    """Tampered, unknown or foreign link: nothing to offer but the sign-in page."""


class LinkSpent(Exception):
    """A genuine link that expired, was used or was replaced: offer a fresh one."""

    def __init__(self, row: LoginToken):
        super().__init__("link expired or used")
        self.row = row


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        secret_key, salt=LINK_SALT, signer_kwargs={"digest_method": hashlib.sha256}
    )


def issue_link(
    secret_key, customer: Customer, destination, context, lifetimes, now=None, lifetime=None
):
    """Mint a link for ``customer``; older unused links of that customer stop working.

    ``lifetime``: a recovery link (a billing e-mail, read maybe days later) that lives that
    long instead, signs its lifetime into the token, and replaces only older unused links
    to the same page, so a requested sign-in link and the e-mails about two invoices do not
    cancel each other."""
    now = now or utcnow()
    if lifetime is None:
        revoke_unused_links(customer, now, lifetimes.link)
    else:
        _revoke_unused_links_to(customer, destination, context, now)
    nonce = random_token(32)
    row = LoginToken.create(
        company=customer.company_id,
        customer=customer,
        nonce_hash=sha256_hex(nonce),
        destination=destination,
        destination_context=context,
        expires_at=now + (lifetime or lifetimes.link),
    )
    payload = {"n": nonce, "c": customer.company_id}
    if lifetime is not None:
        payload["t"] = int(lifetime.total_seconds())
    return _serializer(secret_key).dumps(payload), row


def _revoke_unused_links_to(customer: Customer, destination, context, now) -> None:
    LoginToken.update(revoked_at=now).where(
        (LoginToken.customer == customer)
        & (LoginToken.destination == destination)
        & (
            LoginToken.destination_context.is_null()
            if context is None
            else (LoginToken.destination_context == context)
        )
        & LoginToken.used_at.is_null()
        & LoginToken.revoked_at.is_null()
    ).execute()


def revoke_unused_links(customer: Customer | None, now=None, lifetime=None) -> None:
    """Older unused links of ``customer`` stop working (``None`` matches no row: the same
    query for an unknown address). With ``lifetime`` (the sign-in link's), only links that
    live no longer than that: asking for a sign-in link, which anyone knowing the address
    can do, must not kill the button of a billing e-mail (a recovery link lives longer)."""
    now = now or utcnow()
    unused = (
        (LoginToken.customer == customer)
        & LoginToken.used_at.is_null()
        & LoginToken.revoked_at.is_null()
    )
    if lifetime is not None:
        unused &= LoginToken.expires_at <= now + lifetime
    LoginToken.update(revoked_at=now).where(unused).execute()


def _canonical(token: str) -> bool:
    """Only the exact encoding: base64 decoding ignores a last character's unused bits, so
    without this check a few one-character edits of the signature still verify."""
    signature = token.rpartition(".")[2]
    try:
        return base64_encode(base64_decode(signature)).decode() == signature
    except BadData:
        return False


def read_link(secret_key: str, token: str, lifetimes: Lifetimes, now=None) -> LoginToken:
    """The link's row if it can still be used. Never changes anything (GET/HEAD safe)."""
    now = now or utcnow()
    if not _canonical(token):
        raise LinkInvalid()
    serializer = _serializer(secret_key)
    max_age = int(lifetimes.link.total_seconds())
    try:
        payload = serializer.loads(token, max_age=max_age)
    except SignatureExpired:
        # Genuine but old: the signature still checks out without the age limit.
        payload = serializer.loads(token)
        if not _within_own_lifetime(serializer, token, payload):
            row = _row_for(payload)
            raise (LinkSpent(row) if row else LinkInvalid()) from None
    except BadSignature:
        raise LinkInvalid() from None
    row = _row_for(payload)
    if row is None:
        raise LinkInvalid()
    if row.used_at or row.revoked_at or row.expires_at <= now:
        raise LinkSpent(row)
    return row


def _within_own_lifetime(serializer, token: str, payload) -> bool:
    """A recovery link outlives the sign-in link lifetime: it signed its own into the token
    (the row's ``expires_at`` still decides, below)."""
    seconds = payload.get("t") if isinstance(payload, dict) else None
    if type(seconds) is not int or seconds <= 0:
        return False
    try:
        serializer.loads(token, max_age=seconds)
    except SignatureExpired:
        return False
    return True


def _row_for(payload) -> LoginToken | None:
    if not isinstance(payload, dict) or not isinstance(payload.get("n"), str):
        return None
    row = LoginToken.get_or_none(LoginToken.nonce_hash == sha256_hex(payload["n"]))
    if row is None or row.company_id != payload.get("c"):
        return None
    return row


def consume_link(row: LoginToken, now=None) -> bool:
    """Use the link up; True for exactly one caller however many race."""
    now = now or utcnow()
    changed = (
        LoginToken.update(used_at=now)
        .where(
            (LoginToken.id == row.id)
            & LoginToken.used_at.is_null()
            & LoginToken.revoked_at.is_null()
            & (LoginToken.expires_at > now)
        )
        .execute()
    )
    return changed == 1


def issue_handoff(
    customer: Customer, destination, context, lifetimes, now=None
) -> tuple[str, HandoffCode]:
    now = now or utcnow()
    code = random_token(32)
    row = HandoffCode.create(
        company=customer.company_id,
        customer=customer,
        code_hash=sha256_hex(code),
        destination=destination,
        destination_context=context,
        expires_at=now + lifetimes.handoff,
    )
    return code, row


def exchange_handoff(code: str, now=None) -> HandoffCode | None:
    """Use a handoff code up; None when unknown, expired or already used."""
    now = now or utcnow()
    if not isinstance(code, str) or not 16 <= len(code) <= 100:
        return None
    row = HandoffCode.get_or_none(HandoffCode.code_hash == sha256_hex(code))
    if row is None:
        return None
    changed = (
        HandoffCode.update(used_at=now)
        .where(
            (HandoffCode.id == row.id)
            & HandoffCode.used_at.is_null()
            & (HandoffCode.expires_at > now)
        )
        .execute()
    )
    return row if changed == 1 else None


_ROW_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def plausible_id(value) -> str | None:
    """``value`` if it has a row id's shape (1-64 ASCII letters, digits, ``_`` or ``-``),
    else None. Says nothing about whether such a row exists."""
    return value if isinstance(value, str) and _ROW_ID.fullmatch(value) else None


def check_invoice_context(company_id: str, context: str | None, customer=None) -> str | None:
    """``destination_context`` names an invoice, nothing else: an existing invoice of the
    company (and of ``customer`` when the caller names one). Anything else is a 422, so no
    free text ever reaches a redirect."""
    if context is None:
        return None
    invoice = (
        Invoice.get_or_none((Invoice.id == context) & (Invoice.company == company_id))
        if plausible_id(context)
        else None
    )
    if invoice is None or (customer is not None and invoice.customer_id != customer.id):
        raise ValidationFailed.field(
            "destination_context", "Use the id of one of this customer's invoices."
        )
    return invoice.id


def destination_path(destination: str, context: str | None) -> str:
    if context:
        return f"/portal/invoices/{context}"
    return DESTINATIONS.get(destination, "/portal")


def mask_email(email: str | None) -> str:
    """j•••@example.com: enough to recognise, not enough to harvest."""
    if not email or "@" not in email:
        return "your account"
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"
