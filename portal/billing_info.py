"""A customer's billing information: validation, optimistic-locked saves, email changes.

Shared by the portal page and PATCH /customer-portal/billing-information; no Flask here.
"""

import re
from datetime import timedelta

from portal.access import end_customer_sessions
from portal.countries import CODES
from portal.db import locked, write_transaction
from portal.errors import Conflict, ValidationFailed
from portal.models import Customer, EmailChange, utcnow
from portal.security import random_token, sha256_hex

EMAIL_RE = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
PHONE_RE = re.compile(r"^[0-9+().\-\s]{5,40}$")
CONTROL_RE = re.compile(r"[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]")
# field: (max length, required)
FIELDS = {
    "first_name": (100, True),
    "last_name": (100, True),
    "phone": (40, False),
    "address_line1": (200, False),
    "address_line2": (200, False),
    "city": (100, False),
    "region": (100, False),
    "postal_code": (20, False),
    "country": (2, False),
    "tax_id": (40, False),
}
EMAIL_CHANGE_LIFETIME = timedelta(hours=24)


def field_error(name: str, value) -> str | None:
    """Why ``value`` cannot be stored in field ``name``, or None."""
    limit, required = FIELDS[name]
    if value is None or value == "":
        return "This field is required." if required else None
    if not isinstance(value, str):
        return "Enter text."
    if len(value) > limit:
        return f"Use at most {limit} characters."
    if CONTROL_RE.search(value):
        return "Remove control characters."
    if name == "phone" and not PHONE_RE.match(value):
        return "Enter a phone number using digits, spaces, +, ( ) and -."
    if name == "country" and value.upper() not in CODES:
        return "Choose a country from the list."
    return None


def clean(changes: dict) -> dict:
    """Validate every field in ``changes``; return normalised values or raise with all errors."""
    errors, values = {}, {}
    for name, raw in changes.items():
        if name not in FIELDS:
            errors[name] = "Unknown field."
            continue
        value = raw.strip() if isinstance(raw, str) else raw
        problem = field_error(name, value)
        if problem:
            errors[name] = problem
        else:
            values[name] = (value.upper() if name == "country" and value else value) or None
    if errors:
        raise ValidationFailed("Some billing details are not valid.", fields=errors)
    return values


def update(customer: Customer, changes: dict, expected_version: int | None = None) -> Customer:
    """Save validated changes; with ``expected_version`` a concurrent edit is a 409, not lost."""
    values = clean(changes)
    with write_transaction():
        current = locked(Customer.select().where(Customer.id == customer.id)).get()
        stale = expected_version is not None and current.version != expected_version
        # A stale save that finds every value already in place overwrites nothing: e.g. Save
        # pressed while the page's own inline save of the last edited field is in flight.
        if stale and any(getattr(current, name) != value for name, value in values.items()):
            raise Conflict(
                "These details were changed elsewhere. Review the current values and save again.",
                details={"current_version": current.version},
            )
        if values:
            Customer.update(**values, version=Customer.version + 1, updated_at=utcnow()).where(
                Customer.id == customer.id
            ).execute()
    return Customer.get_by_id(customer.id)


def start_email_change(customer: Customer, new_email: str) -> tuple[str, EmailChange]:
    """Record the wish; the new address must confirm with the returned token."""
    address = (new_email or "").strip().lower()
    if not EMAIL_RE.match(address) or len(address) > 254:
        raise ValidationFailed.field("email", "Enter a valid email address.")
    if address == (customer.email or "").lower():
        raise ValidationFailed.field("email", "This is already your billing email.")
    token = random_token(32)
    now = utcnow()
    EmailChange.update(used_at=now).where(
        (EmailChange.customer == customer) & EmailChange.used_at.is_null()
    ).execute()
    row = EmailChange.create(
        company=customer.company_id,
        customer=customer,
        new_email=address,
        token_hash=sha256_hex(token),
        expires_at=now + EMAIL_CHANGE_LIFETIME,
    )
    return token, row


def pending_email_change(token: str) -> EmailChange | None:
    if not token or len(token) > 100:
        return None
    row = EmailChange.get_or_none(EmailChange.token_hash == sha256_hex(token))
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    return row


def confirm_email_change(row: EmailChange) -> Customer | None:
    """Apply the change once; None when the token was used or expired meanwhile."""
    now = utcnow()
    changed = (
        EmailChange.update(used_at=now)
        .where(
            (EmailChange.id == row.id)
            & EmailChange.used_at.is_null()
            & (EmailChange.expires_at > now)
        )
        .execute()
    )
    if changed != 1:
        return None
    Customer.update(email=row.new_email, version=Customer.version + 1, updated_at=now).where(
        Customer.id == row.customer_id
    ).execute()
    # Whoever held the old inbox may hold a session or a link: they all end here.
    end_customer_sessions(row.customer_id, now)
    return Customer.get_by_id(row.customer_id)
