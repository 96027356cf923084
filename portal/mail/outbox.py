"""Transactional e-mail: an outbox row written in the caller's transaction, delivered over SMTP.

Flow: ``enqueue`` inside the business transaction → commit → ``send_soon`` tries at once on a
background thread → ``flask deliver-mail --loop`` retries whatever is still due, with backoff.
Every attempt first claims its row with one conditional UPDATE (committed before any network
I/O), so concurrent workers — threads or processes, SQLite or PostgreSQL — never send twice.
"""

import hashlib
import logging
import os
import re
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

import click
from flask import Flask, current_app
from peewee import DatabaseError, IntegrityError

from portal.db import db, write_transaction
from portal.models import Company, OutboxMessage, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
CLAIM_TTL = timedelta(minutes=2)
BASE_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
SMTP_TIMEOUT = 20
DEFAULT_BRAND_COLOR = "#4338ca"
SUBJECTS = {
    "sign_in": "Your sign-in link for {company_name}",
    "email_change": "Confirm your new billing email for {company_name}",
    "receipt": "Your receipt from {company_name}: invoice {number}",
}
_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
_ADDRESS = re.compile(r"[^@\s<>(),;:\"\[\]\\]+@[^@\s<>(),;:\"\[\]\\]+")
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


class MailNotConfigured(RuntimeError):
    """No usable PORTAL_SMTP_URL outside development: mail cannot leave this server."""


def init_app(app: Flask) -> None:
    app.config.setdefault("PORTAL_MAIL_IMMEDIATE", True)
    _environments(app)


# --- writing to the outbox ---------------------------------------------------------------


def clean_header(value: str | None) -> str:
    """One line of header text: CR/LF and other control characters cannot start a new header."""
    return " ".join(_LINE_BREAKS.sub(" ", value or "").split())


def clean_address(value: str) -> str:
    """A single bare address; anything that could add a header or a recipient is refused."""
    address = _LINE_BREAKS.sub("", value or "").strip()
    if len(address) > 254 or not _ADDRESS.fullmatch(address):
        raise ValueError("not a single e-mail address")
    return address


def enqueue(
    *, company, kind, to, template, context, dedupe_key, subject=None, attachment=None
) -> OutboxMessage:
    """Write one e-mail into the outbox. Call inside the caller's transaction; no network here.

    ``subject`` defaults to the template's entry in SUBJECTS. A second call with the same
    ``dedupe_key`` returns the first row instead of queueing a duplicate."""
    context = _branded(context)
    subject = clean_header(subject or SUBJECTS[template].format(**context))[:200]
    text_body, html_body = render(template, context)
    existing = OutboxMessage.get_or_none(OutboxMessage.dedupe_key == dedupe_key)
    if existing is not None:
        return existing
    fields = {"company": company, "kind": kind, "dedupe_key": dedupe_key, "subject": subject}
    fields.update(to_address=clean_address(to), text_body=text_body, html_body=html_body)
    fields["attachment"] = attachment
    try:
        with db.atomic():  # a savepoint: a concurrent twin must not abort the caller's work
            return OutboxMessage.create(**fields)
    except IntegrityError:
        return OutboxMessage.get(OutboxMessage.dedupe_key == dedupe_key)


def render(template: str, context: dict) -> tuple[str, str]:
    """(text, html): HTML always autoescaped, text never (it is not HTML)."""
    envs = _environments(current_app)
    text = envs["text"].get_template(f"mail/{template}.txt").render(context)
    html = envs["html"].get_template(f"mail/{template}.html").render(context)
    return text, html


def _environments(app: Flask) -> dict:
    envs = app.extensions.get("portal_mail")
    if envs is None:
        envs = app.extensions["portal_mail"] = {
            "html": app.jinja_env.overlay(autoescape=True),
            "text": app.jinja_env.overlay(autoescape=False),
        }
    return envs


def _branded(context: dict) -> dict:
    """Brand colour goes into inline CSS, so only a plain #rrggbb is let through."""
    color = context.get("brand_color") or ""
    color = color if _COLOR.fullmatch(color) else DEFAULT_BRAND_COLOR
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    light = 0.299 * red + 0.587 * green + 0.114 * blue > 160
    return {**context, "brand_color": color, "brand_text_color": "#18181b" if light else "#ffffff"}


# --- claiming and delivering ---------------------------------------------------------------


def deliver_due(worker_id: str, *, batch: int = 50, now: datetime | None = None) -> int:
    """Send up to ``batch`` due messages; return how many were sent. Safe to run in parallel."""
    transport = transport_for(current_app)
    clock = _clock(now)
    _bury_abandoned(clock())
    M = OutboxMessage
    rows = M.select(M.id).where(_due(clock())).order_by(M.next_attempt_at).limit(batch)
    return _deliver([row.id for row in rows], worker_id, clock, transport)


def send_soon(app: Flask, ids) -> Future | None:
    """Try just-committed messages now, off the request thread; the worker retries failures."""
    app = getattr(app, "_get_current_object", lambda: app)()
    ids = [getattr(item, "id", item) for item in ids]
    if not ids or not app.config.get("PORTAL_MAIL_IMMEDIATE", True):
        return None
    try:
        transport = transport_for(app)
    except MailNotConfigured as exc:
        log.warning("%s", exc)
        return None
    return _executor().submit(_send_now, app, ids, transport)


def _send_now(app: Flask, ids: list[str], transport) -> int:
    try:
        with app.app_context(), db.connection_context():
            return _deliver(ids, worker_name("soon"), _clock(None), transport)
    except Exception:  # a background thread has nobody to raise to; the worker retries
        log.exception("immediate mail delivery failed; deliver-mail will retry")
        return 0


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


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="portal-mail")
        return _pool


def worker_name(prefix: str) -> str:
    return f"{prefix}:{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:64]


# --- the message and the wire ----------------------------------------------------------------


def message_id(message: OutboxMessage, sender: str) -> str:
    """Retries carry the same id, so a receiver that already has the message drops the copy."""
    addr_spec = parseaddr(sender)[1]
    digest = hashlib.sha256(message.dedupe_key.encode()).hexdigest()[:40]
    return f"<{digest}@{addr_spec.rpartition('@')[2] or 'localhost'}>"


def build_message(message: OutboxMessage, company: Company | None, sender: str) -> EmailMessage:
    """multipart/alternative text + HTML, From in the merchant's name, a stable Message-ID."""
    display_name, addr_spec = parseaddr(sender)
    email = EmailMessage()
    email["From"] = Address(
        clean_header(company.name if company else display_name), addr_spec=addr_spec
    )
    email["To"] = clean_address(message.to_address)
    email["Subject"] = clean_header(message.subject)
    email["Date"] = format_datetime(message.created_at.replace(tzinfo=UTC))
    email["Message-ID"] = message_id(message, sender)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.text_body)
    email.add_alternative(message.html_body, subtype="html")
    if message.attachment:
        from portal.mail.receipts import attachment_for

        found = attachment_for(message.attachment)
        if found is not None:
            filename, data = found
            email.add_attachment(data, maintype="application", subtype="pdf", filename=filename)
    return email


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpSettings:
    """smtp://user:pass@host:port, smtps://… (implicit TLS), or smtp://…?starttls=1."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname or port == -1:
        raise MailNotConfigured("PORTAL_SMTP_URL must look like smtp://user:pass@host:port")
    implicit = parts.scheme == "smtps"
    flag = parse_qs(parts.query).get("starttls", ["0"])[-1].lower()
    starttls = not implicit and flag in ("1", "true", "yes", "on")
    default_port = 465 if implicit else 587 if starttls else 25
    user, password = parts.username, parts.password
    return SmtpSettings(
        host=parts.hostname,
        port=port or default_port,
        implicit_tls=implicit,
        starttls=starttls,
        username=unquote(user) if user else None,
        password=unquote(password) if password is not None else None,
    )


def smtp_send(settings: SmtpSettings, email: EmailMessage) -> None:
    """One connection per message: transactional volume is low and no socket outlives an error."""
    s, context = settings, ssl.create_default_context()
    if s.implicit_tls:
        conn = smtplib.SMTP_SSL(s.host, s.port, timeout=SMTP_TIMEOUT, context=context)
    else:
        conn = smtplib.SMTP(s.host, s.port, timeout=SMTP_TIMEOUT)
    with conn:
        if s.starttls:
            conn.starttls(context=context)
        if s.username:
            conn.login(s.username, s.password or "")
        conn.send_message(email)


def _to_dev_mailbox(email: EmailMessage) -> None:
    log.info("dev mailbox: %s to %s (see /dev/mailbox)", email["Subject"], email["To"])


def transport_for(app: Flask) -> Callable[[EmailMessage], None]:
    """SMTP when configured; in development without it, /dev/mailbox is the inbox."""
    url = app.config.get("PORTAL_SMTP_URL", "")
    if url:
        settings = parse_smtp_url(url)
        return lambda email: smtp_send(settings, email)
    if app.config["PORTAL_ENV"] == "development":
        return _to_dev_mailbox
    raise MailNotConfigured(
        "PORTAL_SMTP_URL is not set, so e-mail cannot be delivered; "
        "messages stay queued in the outbox until it is"
    )


def register_commands(app: Flask) -> None:
    @app.cli.command("deliver-mail")
    @click.option("--loop", is_flag=True, help="Keep delivering until Ctrl-C.")
    @click.option("--interval", type=click.FloatRange(min=0.1), default=5.0, show_default=True)
    def deliver_mail_command(loop, interval):
        """Send due e-mails from the outbox: one pass, or --loop until Ctrl-C."""
        try:
            _run_worker(worker_name("cli"), loop, interval)
        except MailNotConfigured as exc:
            raise click.ClickException(str(exc)) from exc
        except KeyboardInterrupt:
            click.echo("Stopped.")


def _run_worker(worker_id: str, loop: bool, interval: float) -> None:
    while True:
        try:
            with db.connection_context():
                sent = deliver_due(worker_id)
        except DatabaseError as exc:
            if not loop:
                raise
            click.echo(f"Database error, retrying: {exc}", err=True)
            sent = 0
        if sent or not loop:
            click.echo(f"Sent {sent} message(s).")
        if not loop:
            return
        time.sleep(interval)
