"""The recovery e-mails of dunning, written to the outbox in the caller's transaction:
"payment failed" after a renewal's charge and after each failed retry, and "card expiring"
(a ``run-billing`` step) before the card the customer pays with runs out, once per card and
expiry. The button is a single-use sign-in link that lasts ``PORTAL_RECOVERY_LINK_TTL_HOURS``
and lands on the page that fixes it (hosted mode), or the merchant's URL (custom_link)."""

from datetime import datetime, timedelta

from babel.dates import format_date
from flask import current_app, has_app_context
from flask_babel import gettext as _

from portal.access import links
from portal.access.activity import record_event
from portal.access.sessions import Lifetimes
from portal.db import locked, write_transaction
from portal.i18n import customer_language, formatting_locale, language
from portal.mail import outbox as mail
from portal.models import (
    Charge,
    Company,
    Customer,
    Invoice,
    OutboxMessage,
    PaymentMethod,
    Subscription,
)
from portal.portal_settings.config import get_config, settings_of
from portal.portal_settings.tenancy import origin_for
from portal.timefmt import duration, human_date

from .dunning_config import settings_for
from .money import format_money

MAX_WARN_DAYS = 90  # the largest card_expiry_warn_days: cards further out are not read
# Subscriptions whose customer's card is worth a warning (an ended one needs no card).
CHARGED = ("trialing", "active", "past_due", "unpaid", "paused")


def failure_reason(charge: Charge | None) -> str:
    """In English: the e-mail templates translate it (the ``t`` filter), the API keeps it."""
    if charge is None:
        return "There was no payment method to charge."
    return charge.failure_message or "The payment failed."


def describe(method: PaymentMethod | None) -> str:
    """ "Visa ending in 4242", as the customer knows it, in the language being rendered."""
    if method is None:
        return ""
    if method.type == "BANK_ACCOUNT":
        brand = method.bank_name or _("Bank account")
    else:
        brand = (method.brand or "card").replace("_", " ").title()
    return _("%(brand)s ending in %(last_four)s", brand=brand, last_four=method.last_four)


def _button(company, customer, mode, url, destination, context, now):
    """(the button's URL, how long it works; None for the merchant's own URL)."""
    if mode == "custom_link" and url:
        return url, None
    config = current_app.config
    lifetime = timedelta(hours=config.get("PORTAL_RECOVERY_LINK_TTL_HOURS", 72))
    lives = Lifetimes.from_config(config)
    token, _row = links.issue_link(
        config["SECRET_KEY"], customer, destination, context, lives, now, lifetime=lifetime
    )
    origin = origin_for(company.id, config["PORTAL_BASE_URL"])
    return f"{origin}/portal/access/{token}", duration(lifetime)


def _send(company, customer, template, page, key, now, values: dict):
    """Queue ``template`` to ``customer``; ``page``: (recovery mode, the merchant's URL,
    destination, destination context). Returns the recovery mode used."""
    mode, url, destination, context = page
    if OutboxMessage.select().where(OutboxMessage.dedupe_key == key).exists():
        # Sent already: a new link would only revoke the one that e-mail carries.
        return "custom_link" if mode == "custom_link" and url else "hosted"
    link, lifetime = _button(company, customer, mode, url, destination, context, now)
    mail.enqueue(
        company=company,
        kind=template,
        to=customer.email,
        template=template,
        context={
            "portal_header": settings_of(get_config(company))["portal_header"],
            "greeting_name": customer.first_name,
            "link": link,
            "lifetime": lifetime,
            **values,
        },
        dedupe_key=key,
    )
    return "hosted" if lifetime else "custom_link"


def payment_failed(invoice_id, settings, attempt, charge, next_at, final, now) -> bool:
    """The "payment failed" e-mail after the first failure (``attempt`` 0) or a retry:
    when the next try is, or (``final``: the subscription terminal action) what happened."""
    if not has_app_context() or not settings["payment_failed_email_enabled"]:
        return False
    invoice = Invoice.get_by_id(invoice_id)
    customer = Customer.get_by_id(invoice.customer_id)
    if not customer.email:
        return False
    company = Company.get_by_id(invoice.company_id)
    with language(customer_language(customer, settings_of(get_config(company)))):
        return _payment_failed(
            invoice, customer, company, settings, (attempt, charge, next_at, final, now)
        )


def _payment_failed(invoice, customer, company, settings, facts) -> bool:
    attempt, charge, next_at, final, now = facts
    page = (
        settings["payment_failed_recovery_page_mode"],
        settings["payment_failed_custom_link_url"],
        "home",
        invoice.id,
    )
    values = {
        "number": invoice.number,
        "amount": format_money(invoice.amount_due - invoice.amount_paid, invoice.currency),
        "reason": failure_reason(charge),
        "method": describe(charge.payment_method if charge else None),
        "next_try": human_date(next_at) if next_at else "",
        "final_action": final or "",
    }
    key = f"payment_failed:{invoice.id}:{attempt}"
    recovery = _send(company, customer, "payment_failed", page, key, now, values)
    record_event(
        invoice.company_id,
        invoice.customer_id,
        "dunning.payment_failed_email",
        {"invoice_id": invoice.id, "attempt": attempt, "recovery": recovery},
        invoice.subscription_id,
    )
    return True


def _expiry_end(card) -> datetime:
    """The first instant after the card's expiry month (it works through that month)."""
    year, month = card.expiration_year, card.expiration_month
    return datetime(year + month // 12, month % 12 + 1, 1)


def _expiry_key(card) -> str:
    return f"card_expiring:{card.id}:{card.expiration_year}-{card.expiration_month:02d}"


def _candidates(now: datetime) -> list[PaymentMethod]:
    """Enabled cards expiring from this month to MAX_WARN_DAYS ahead that a subscription
    still running pays with (the default, or the subscription's own)."""
    horizon = now + timedelta(days=MAX_WARN_DAYS)
    month = PaymentMethod.expiration_year * 12 + PaymentMethod.expiration_month
    live = Subscription.status.in_(CHARGED)
    used = Subscription.select(Subscription.payment_method).where(
        live & Subscription.payment_method.is_null(False)
    )
    return list(
        PaymentMethod.select(
            PaymentMethod.id,
            PaymentMethod.company,
            PaymentMethod.expiration_year,
            PaymentMethod.expiration_month,
        )
        .where(
            (PaymentMethod.type == "PAYMENT_CARD")
            & (PaymentMethod.enabled == True)  # noqa: E712
            & PaymentMethod.expiration_year.is_null(False)
            & PaymentMethod.expiration_month.is_null(False)
            & month.between(now.year * 12 + now.month, horizon.year * 12 + horizon.month)
            & PaymentMethod.customer.in_(Subscription.select(Subscription.customer).where(live))
            & ((PaymentMethod.is_default == True) | PaymentMethod.id.in_(used))  # noqa: E712
        )
        .order_by(PaymentMethod.expiration_year, PaymentMethod.expiration_month)
    )


def _already_sent(keys: list[str]) -> set[str]:
    sent = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        rows = OutboxMessage.select(OutboxMessage.dedupe_key).where(
            OutboxMessage.dedupe_key.in_(chunk)
        )
        sent.update(row.dedupe_key for row in rows)
    return sent


def expiring_cards(now: datetime) -> int:
    """The run-billing step: warn about each card whose expiry month ends within its
    company's ``card_expiry_warn_days``, when ``expiring_card_email_enabled``; how many
    e-mails were queued. Each in its own transaction, under the card's row lock, so
    parallel runners send one e-mail per card and expiry."""
    if not has_app_context():
        return 0
    cards = _candidates(now)
    sent_before = _already_sent([_expiry_key(card) for card in cards])
    settings: dict[str, dict] = {}
    queued = 0
    for card in cards:
        if _expiry_key(card) in sent_before:
            continue
        if card.company_id not in settings:
            settings[card.company_id] = settings_for(card.company_id)
        config = settings[card.company_id]
        if not config["expiring_card_email_enabled"]:
            continue
        end = _expiry_end(card)
        if not end - timedelta(days=config["card_expiry_warn_days"]) <= now < end:
            continue
        with write_transaction():
            queued += _card_notice(card.id, config, now)
    return queued


def _card_notice(card_id: str, settings: dict, now: datetime) -> int:
    card = locked(PaymentMethod.select().where(PaymentMethod.id == card_id)).first()
    if card is None or not card.enabled:
        return 0
    key = _expiry_key(card)
    if OutboxMessage.select().where(OutboxMessage.dedupe_key == key).exists():
        return 0
    customer = Customer.get_by_id(card.customer_id)
    if not customer.email:
        return 0
    company = Company.get_by_id(card.company_id)
    with language(customer_language(customer, settings_of(get_config(company)))):
        return _card_expiring(card, customer, company, settings, (key, now))


def _card_expiring(card, customer, company, settings: dict, facts) -> int:
    key, now = facts
    last_day = _expiry_end(card).date() - timedelta(days=1)
    page = (
        settings["expiring_card_recovery_page_mode"],
        settings["expiring_card_custom_link_url"],
        "payment_methods",
        None,
    )
    values = {
        "method": describe(card),
        "expiry_month": format_date(last_day, "MMMM y", locale=formatting_locale()),
        "expiry": f"{card.expiration_month:02d}/{card.expiration_year % 100:02d}",
        "last_day": human_date(last_day),
    }
    recovery = _send(company, customer, "card_expiring", page, key, now, values)
    record_event(
        card.company_id,
        card.customer_id,
        "dunning.card_expiring_email",
        {
            "payment_method_id": card.id,
            "expires": f"{card.expiration_year}-{card.expiration_month:02d}",
            "recovery": recovery,
        },
    )
    return 1
