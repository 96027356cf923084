"""Transactional e-mail: an outbox row written in the caller's transaction, delivered over SMTP.

Flow: ``enqueue`` inside the business transaction → commit → the request wakes the delivery
(``wakeup.wake``) → the delivery thread (``PORTAL_MAIL_DELIVERY="thread"``) or a
``flask deliver-mail --loop`` worker (``"worker"``) sends it, and retries what failed, with
backoff. This module owns the first step: the row itself, its headers and its rendered bodies.
"""

import re
from contextvars import ContextVar

from flask import Flask, current_app
from peewee import IntegrityError

from portal.db import db
from portal.i18n import N_, translate
from portal.models import OutboxMessage

# The outbox rows written during the current request (None outside one): once its
# transaction committed, the request wakes the delivery if there are any (portal/deferred.py).
QUEUED: ContextVar[list | None] = ContextVar("portal_mail_queued", default=None)
DEFAULT_BRAND_COLOR = "#4338ca"
# In the language being rendered (the callers choose the customer's: portal/i18n.py).
SUBJECTS = {
    "sign_in": N_("Your sign-in link for {company_name}"),
    "email_change": N_("Confirm your new billing email for {company_name}"),
    "receipt": N_("Your receipt from {company_name}: invoice {number}"),
    "payment_failed": N_("Your payment to {company_name} failed: invoice {number}"),
    "card_expiring": N_("Your card for {company_name} expires soon"),
}
_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
_ADDRESS = re.compile(r"[^@\s<>(),;:\"\[\]\\]+@[^@\s<>(),;:\"\[\]\\]+")
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


def init_app(app: Flask) -> None:
    # False: requests wake no delivery, so mail stays in the outbox (tests read it there).
    app.config.setdefault("PORTAL_MAIL_IMMEDIATE", True)
    app.config.setdefault("PORTAL_MAIL_DELIVERY", "thread")
    # Seconds a delivery thread or worker sleeps when nobody wakes it (due retries wait that).
    app.config.setdefault("PORTAL_MAIL_POLL_INTERVAL", 5.0)
    _environments(app)


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

    The company's name and brand colour are in every template's context. ``subject``
    defaults to the template's entry in SUBJECTS. A second call with the same
    ``dedupe_key`` returns the first row instead of queueing a duplicate."""
    context = _branded(
        {"company_name": company.name, "brand_color": company.brand_color, **context}
    )
    subject = clean_header(subject or translate(SUBJECTS[template]).format(**context))[:200]
    text_body, html_body = render(template, context)
    existing = OutboxMessage.get_or_none(OutboxMessage.dedupe_key == dedupe_key)
    if existing is not None:
        return existing
    fields = {"company": company, "kind": kind, "dedupe_key": dedupe_key, "subject": subject}
    fields.update(to_address=clean_address(to), text_body=text_body, html_body=html_body)
    fields["attachment"] = attachment
    try:
        with db.atomic():  # a savepoint: a concurrent twin must not abort the caller's work
            row = OutboxMessage.create(**fields)
    except IntegrityError:
        return OutboxMessage.get(OutboxMessage.dedupe_key == dedupe_key)
    queued = QUEUED.get()
    if queued is not None:
        queued.append(row.id)
    return row


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
