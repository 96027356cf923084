"""Server-side sessions, one mechanism for customers (portal) and merchant users (settings).

The cookie holds a random id; the database keeps only its SHA-256, so a database dump holds
no usable session. A session ends at an absolute limit or after an idle spell, and expired
rows are deleted the moment they are seen. Ending one is deleting its row.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from portal.models import (
    HandoffCode,
    LoginToken,
    MerchantSession,
    MerchantUser,
    PortalSession,
    utcnow,
)
from portal.security import random_token, sha256_hex

MAX_RAW = 100
TOUCH_EVERY = timedelta(seconds=60)  # the sliding idle window is written at most this often


@dataclass(frozen=True)
class Lifetimes:
    link: timedelta
    handoff: timedelta
    idle: timedelta
    absolute: timedelta

    @classmethod
    def from_config(cls, config) -> "Lifetimes":
        return cls(
            link=timedelta(minutes=config["PORTAL_LINK_TTL_MINUTES"]),
            handoff=timedelta(minutes=config["PORTAL_HANDOFF_TTL_MINUTES"]),
            idle=timedelta(minutes=config["PORTAL_SESSION_IDLE_MINUTES"]),
            absolute=timedelta(hours=config["PORTAL_SESSION_MAX_HOURS"]),
        )


def _start(model, lives: Lifetimes, user_agent: str | None, now=None, **owner):
    """A new session row with a fresh random id; returns (row, raw cookie value)."""
    now = now or utcnow()
    raw = random_token(32)
    row = model.create(
        token_hash=sha256_hex(raw),
        last_seen_at=now,
        expires_at=now + lives.absolute,
        user_agent=(user_agent or "")[:300] or None,
        **owner,
    )
    return row, raw


def _live(model, row, lives: Lifetimes, now):
    """``row`` if it is still live (its idle window slid forward), else None (and deleted)."""
    if row.expires_at <= now or row.last_seen_at + lives.idle <= now:
        model.delete().where(model.id == row.id).execute()
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        model.update(last_seen_at=now).where(model.id == row.id).execute()
        row.last_seen_at = now
    return row


def _end(model, raw: str) -> bool:
    if not raw:
        return False
    return model.delete().where(model.token_hash == sha256_hex(raw)).execute() == 1


def _well_formed(raw) -> bool:
    return isinstance(raw, str) and 0 < len(raw) <= MAX_RAW


# Customer (portal) sessions: bound to the host they were opened on (None for the JSON API).


def start_session(customer_id, company_id, host, user_agent, lives: Lifetimes, now=None):
    return _start(
        PortalSession, lives, user_agent, now, company=company_id, customer=customer_id, host=host
    )


def _session_row(token_hash: str, _now):
    return PortalSession.get_or_none(PortalSession.token_hash == token_hash)


def load_session(
    raw: str, host: str | None, lives: Lifetimes, now=None, fetch=_session_row
) -> PortalSession | None:
    """The live portal session for ``raw`` on ``host``. ``fetch(token_hash, now)`` reads the
    row: the portal pages read it with everything their shell shows, in one statement."""
    if not _well_formed(raw):
        return None
    now = now or utcnow()
    row = fetch(sha256_hex(raw), now)
    if row is None or row.host != host:
        return None
    return _live(PortalSession, row, lives, now)


def end_session(raw: str) -> bool:
    return _end(PortalSession, raw)


def idle_deadline(row, lives: Lifetimes) -> datetime:
    return min(row.expires_at, row.last_seen_at + lives.idle)


def end_customer_sessions(customer_id: str, now=None) -> int:
    """Sign the customer out everywhere: every portal session ends, and sign-in links and
    handoff codes not used yet stop working (they could start a new session). Returns the
    number of sessions ended. Called on request and whenever the billing e-mail changes."""
    now = now or utcnow()
    LoginToken.update(revoked_at=now).where(
        (LoginToken.customer == customer_id)
        & LoginToken.used_at.is_null()
        & LoginToken.revoked_at.is_null()
    ).execute()
    HandoffCode.update(used_at=now).where(
        (HandoffCode.customer == customer_id) & HandoffCode.used_at.is_null()
    ).execute()
    return PortalSession.delete().where(PortalSession.customer == customer_id).execute()


# Merchant-user sessions: loaded with their user (the settings pages need its role).


def start_merchant_session(user: MerchantUser, user_agent: str | None, lives: Lifetimes, now=None):
    return _start(MerchantSession, lives, user_agent, now, company=user.company_id, user=user)


def load_merchant_session(raw: str, lives: Lifetimes, now=None) -> MerchantSession | None:
    if not _well_formed(raw):
        return None
    row = (
        MerchantSession.select(MerchantSession, MerchantUser)
        .join(MerchantUser)
        .where(MerchantSession.token_hash == sha256_hex(raw))
        .first()
    )
    return None if row is None else _live(MerchantSession, row, lives, now or utcnow())


def end_merchant_session(raw: str) -> bool:
    return _end(MerchantSession, raw)


def end_member_sessions(user: MerchantUser) -> int:
    return MerchantSession.delete().where(MerchantSession.user == user).execute()
