"""The e-mail on the wire: the MIME message built from an outbox row, and the transport that
sends it (SMTP when configured, the development mailbox otherwise)."""

import functools
import hashlib
import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from flask import Flask

from portal.models import Company, OutboxMessage

from .outbox import clean_address, clean_header

log = logging.getLogger(__name__)

SMTP_TIMEOUT = 20


class MailNotConfigured(RuntimeError):
    """No usable PORTAL_SMTP_URL outside development: mail cannot leave this server."""


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


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Made once per process: loading the system's CA certificates takes ~40 ms of CPU."""
    return ssl.create_default_context()


def smtp_send(settings: SmtpSettings, email: EmailMessage) -> None:
    """One connection per message: transactional volume is low and no socket outlives an error."""
    s = settings
    context = _tls_context() if s.implicit_tls or s.starttls else None
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
