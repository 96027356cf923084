"""Merchant users: password checks, team members and invitations (sessions: sessions.py).

Invitations are random one-time tokens stored hashed and
used up with one conditional UPDATE, so a link works once however many requests race.
"""

from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from peewee import IntegrityError

from portal.access.merchants import hash_password
from portal.access.sessions import end_member_sessions
from portal.db import db
from portal.errors import Conflict, NotFound, ValidationFailed
from portal.mail import outbox
from portal.models import MerchantInvite, MerchantUser, utcnow
from portal.security import random_token, sha256_hex
from portal.timefmt import duration

INVITE_LIFETIME = timedelta(hours=48)
MIN_PASSWORD = 10
MAX_PASSWORD = 128
# The handful of passwords every guessing list starts with.
COMMON_PASSWORDS = {
    "password123",
    "1234567890",
    "qwertyuiop",
    "password1234",
    "iloveyou123",
    "letmein1234",
    "welcome123",
    "administrator",
}
_verifier = PasswordHasher()


def normal_email(email: str) -> str:
    return (email or "").strip().lower()


def password_problem(password: str) -> str | None:
    """Why ``password`` is not acceptable, or None (length rules only, no composition rules)."""
    if len(password) < MIN_PASSWORD:
        return f"Use at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"Use at most {MAX_PASSWORD} characters."
    if password.lower() in COMMON_PASSWORDS:
        return "This password is too common; choose another."
    return None


def authenticate(email: str, password: str) -> MerchantUser | None:
    """The user if the password matches. An unknown address costs one hash as well, so the
    answer takes the same time either way."""
    user = MerchantUser.get_or_none(MerchantUser.email == normal_email(email))
    if user is None:
        hash_password(password)
        return None
    try:
        _verifier.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def remove_member(company, owner: MerchantUser, user_id: str) -> MerchantUser:
    """Take a member out of the company: their account and every session of it end now.
    The owner cannot remove themselves (the company would have nobody to run it)."""
    user = MerchantUser.get_or_none(
        (MerchantUser.id == user_id) & (MerchantUser.company == company)
    )
    if user is None:
        raise NotFound("No such team member.")
    if user.id == owner.id or user.role == "owner":
        raise Conflict("The owner cannot be removed.")
    end_member_sessions(user)
    user.delete_instance()
    return user


def invite(company, inviter: MerchantUser, email: str, now=None) -> tuple[MerchantInvite, str]:
    """A one-time invitation for ``email``; earlier unused invitations for it stop working."""
    now = now or utcnow()
    email = normal_email(email)
    if MerchantUser.select().where(MerchantUser.email == email).exists():
        raise ValidationFailed.field("email", "This address already has a merchant account.")
    MerchantInvite.update(revoked_at=now).where(
        (MerchantInvite.company == company)
        & (MerchantInvite.email == email)
        & MerchantInvite.used_at.is_null()
        & MerchantInvite.revoked_at.is_null()
    ).execute()
    raw = random_token(32)
    row = MerchantInvite.create(
        company=company,
        invited_by=inviter,
        email=email,
        token_hash=sha256_hex(raw),
        expires_at=now + INVITE_LIFETIME,
    )
    return row, raw


def queue_invitation(company, row: MerchantInvite, raw: str, inviter_email: str, base_url: str):
    """Mail the invitation; the link comes from configuration, never from a request's Host."""
    return outbox.enqueue(
        company=company,
        kind="merchant_invite",
        to=row.email,
        template="invite",
        subject=f"You're invited to manage {company.name}'s billing portal",
        context={
            "inviter": inviter_email,
            "link": f"{base_url}/merchant/invite/{raw}",
            "lifetime": duration(INVITE_LIFETIME),
        },
        dedupe_key=f"merchant_invite:{row.id}",
    )


def read_invite(raw: str, now=None) -> MerchantInvite | None:
    """The invitation if it can still be used. Never changes anything (GET safe)."""
    now = now or utcnow()
    if not raw or len(raw) > 100:
        return None
    row = MerchantInvite.get_or_none(MerchantInvite.token_hash == sha256_hex(raw))
    if row is None or row.used_at or row.revoked_at or row.expires_at <= now:
        return None
    return row


def accept_invite(row: MerchantInvite, password: str, now=None) -> MerchantUser:
    """Use the invitation up and create the user; Conflict when it was used meanwhile."""
    now = now or utcnow()
    problem = password_problem(password)
    if problem:
        raise ValidationFailed.field("password", problem)
    used = (
        MerchantInvite.update(used_at=now)
        .where(
            (MerchantInvite.id == row.id)
            & MerchantInvite.used_at.is_null()
            & MerchantInvite.revoked_at.is_null()
            & (MerchantInvite.expires_at > now)
        )
        .execute()
    )
    if used != 1:
        raise Conflict("This invitation has already been used or has expired.")
    try:
        with db.atomic():
            return MerchantUser.create(
                company=row.company_id,
                email=row.email,
                password_hash=hash_password(password),
                role="member",
            )
    except IntegrityError:
        raise Conflict("This address already has a merchant account.") from None
