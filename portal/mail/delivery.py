"""Claiming and delivering outbox rows, and the delivery loop the worker and the delivery
thread share.

Every attempt first claims its row with one conditional UPDATE (committed before any network
I/O), so concurrent workers — threads or processes, SQLite or PostgreSQL — never send twice.
Requests never send: they wake the delivery (``wakeup.wake``), which is this process's
delivery thread when ``PORTAL_MAIL_DELIVERY`` is ``"thread"`` (``poke_thread``) and a
``flask deliver-mail --loop`` process when it is ``"worker"``.
"""

import logging
import os
import smtplib
import socket
import threading
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app

from portal import background
from portal.db import db, write_transaction
from portal.models import Company, OutboxMessage, utcnow

from .transport import MailNotConfigured, build_message, transport_for

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
CLAIM_TTL = timedelta(minutes=2)
BASE_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
BATCH = 50  # a pass that sent this many goes again at once: there may be more due
THREAD_NAME = "portal-mail-delivery"


def deliver_due(worker_id: str, *, batch: int = BATCH, now: datetime | None = None) -> int:
    """Send up to ``batch`` due messages; return how many were sent. Safe to run in parallel."""
    transport = transport_for(current_app)
    clock = _clock(now)
    _bury_abandoned(clock())
    M = OutboxMessage
    rows = M.select(M.id).where(_due(clock())).order_by(M.next_attempt_at).limit(batch)
    return _deliver([row.id for row in rows], worker_id, clock, transport)


def deliver_pass(app: Flask, worker_id: str) -> int:
    """One pass of the loop: its own app context and connection, no transaction left open."""
    with app.app_context(), db.connection_context():
        return deliver_due(worker_id)


def _mail_pass(app: Flask, worker_id: str) -> int:
    try:
        return deliver_pass(app, worker_id)
    except MailNotConfigured as exc:
        log.warning("%s", exc)
        return 0


def poke_thread(app: Flask) -> bool:
    """Wake this process's delivery thread, starting it on first use; False when mail cannot
    leave this server (no SMTP configured), as then there is nothing for it to do."""
    try:
        transport_for(app)
    except MailNotConfigured as exc:
        log.warning("%s", exc)
        return False
    background.poke(
        app, THREAD_NAME, _mail_pass, batch=BATCH, worker_id=lambda: worker_name("thread")
    )
    return True


def delivery_thread():
    """This process's running delivery thread, if one was started."""
    return background.running(THREAD_NAME)


def stop_thread(timeout: float = 30.0) -> None:
    """Stop the delivery thread after its current pass (tests, and anyone who asks)."""
    background.stop(THREAD_NAME, timeout)


def _deliver(ids: list[str], worker_id: str, clock, send) -> int:
    sent = 0
    for message_id in ids:
        if _claim(message_id, worker_id, clock()):
            sent += _attempt(message_id, worker_id, clock(), send)
    return sent


def _due(now: datetime):
    M = OutboxMessage
    waiting = (M.status == "pending") & (M.next_attempt_at <= now)
    abandoned = (M.status == "sending") & (M.claimed_until < now) & (M.attempts < MAX_ATTEMPTS)
    return waiting | abandoned


def _claim(message_id: str, worker_id: str, now: datetime) -> bool:
    """One conditional UPDATE: exactly one worker sees rowcount 1 for a given attempt."""
    M = OutboxMessage
    query = M.update(
        status="sending",
        claimed_by=worker_id,
        claimed_until=now + CLAIM_TTL,
        attempts=M.attempts + 1,
        updated_at=now,
    ).where((M.id == message_id) & _due(now))
    with write_transaction():
        return query.execute() == 1


def _attempt(message_id: str, worker_id: str, now: datetime, send) -> int:
    message = OutboxMessage.get_by_id(message_id)
    company = Company.get_or_none(Company.id == message.company_id)
    try:
        send(build_message(message, company, current_app.config["PORTAL_MAIL_FROM"]))
    except Exception as exc:  # whatever went wrong is recorded on the row and retried
        _record_failure(message, worker_id, now, exc)
        return 0
    _finish(message_id, worker_id, status="sent", sent_at=now, last_error=None)
    return 1


def backoff(attempts: int) -> timedelta:
    return min(BASE_BACKOFF * 2 ** (attempts - 1), MAX_BACKOFF)


def _record_failure(message: OutboxMessage, worker_id: str, now: datetime, exc: Exception):
    error = f"{type(exc).__name__}: {exc}"[:500]
    log.warning("mail %s attempt %s failed: %s", message.id, message.attempts, type(exc).__name__)
    if message.attempts >= MAX_ATTEMPTS or _permanent(exc):
        _finish(message.id, worker_id, status="dead", last_error=error)
    else:
        retry_at = now + backoff(message.attempts)
        _finish(message.id, worker_id, status="pending", next_attempt_at=retry_at, last_error=error)


def _permanent(exc: Exception) -> bool:
    """Every recipient refused with a 5xx: retrying cannot help."""
    if not isinstance(exc, smtplib.SMTPRecipientsRefused) or not exc.recipients:
        return False
    return all(code >= 500 for code, _ in exc.recipients.values())


def _finish(message_id: str, worker_id: str, **changes) -> None:
    """Release our claim; if it expired and another worker took over, leave its state alone."""
    M = OutboxMessage
    owned = (M.id == message_id) & (M.status == "sending") & (M.claimed_by == worker_id)
    with write_transaction():
        M.update(claimed_by=None, claimed_until=None, updated_at=utcnow(), **changes).where(
            owned
        ).execute()


def _bury_abandoned(now: datetime) -> None:
    """A claim that expired on the last allowed attempt (worker died mid-send) is dead."""
    M = OutboxMessage
    stale = (M.status == "sending") & (M.claimed_until < now) & (M.attempts >= MAX_ATTEMPTS)
    with write_transaction():
        M.update(
            status="dead",
            claimed_by=None,
            claimed_until=None,
            updated_at=now,
            last_error="the worker stopped during the last attempt",
        ).where(stale).execute()


def _clock(now: datetime | None):
    if now is None:
        return utcnow
    fixed = now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now
    return lambda: fixed


def worker_name(prefix: str) -> str:
    return f"{prefix}:{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:64]
