"""The dunning settings form: one control per config field, how each reads its value from the
posted form, saving through the JSON API's own validation (the PATCH body model, then
``dunning_config.update_config``), and the retry timeline the page previews."""

import re
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from portal.billing.dunning_config import (
    MAX_ATTEMPTS,
    MAX_RETRY_DAY,
    MAX_WARN_DAYS,
    problems,
    timeline,
    update_config,
)
from portal.billing.dunning_schema import DunningConfigPatch
from portal.errors import ValidationFailed


@dataclass(frozen=True)
class Control:
    name: str
    kind: str  # switch | choice | number | days | url
    label: str
    help: str
    options: tuple[tuple[str, str], ...] = ()
    limits: tuple[int, int] = (1, 1)


def _c(name, kind, label, help, options=(), limits=(1, 1)) -> Control:
    return Control(name, kind, label, help, options, limits)


PAGE_MODES = (
    ("hosted", "Hosted: a sign-in link to the customer's invoice in your portal"),
    ("custom_link", "Your own page: the URL below"),
)
SECTIONS = (
    ("retries", "Card retries", (
        _c("retry_mode", "choice", "How failed payments are retried",
           "Smart retries spread the attempts over a window; custom retries follow your days.",
           (("smart", "Smart: spread the retries over a window"),
            ("custom", "Custom: retry on the days listed below"))),
        _c("smart_retry_attempts", "number", "Smart retries: number of attempts",
           f"1 to {MAX_ATTEMPTS}, at most one a day of the window.", limits=(1, MAX_ATTEMPTS)),
        _c("smart_retry_window", "choice", "Smart retries: window",
           "The last retry falls on the window's last day.",
           (("1_week", "1 week"), ("2_weeks", "2 weeks"), ("3_weeks", "3 weeks"),
            ("4_weeks", "4 weeks"))),
        _c("custom_retry_schedule", "days", "Custom retries: days after the failure",
           f"1 to {MAX_ATTEMPTS} days from 1 to {MAX_RETRY_DAY}, ascending, separated by commas "
           "(for example 3, 5, 7)."),
    )),
    ("bank", "Bank debit retries", (
        _c("bank_debit_retries_enabled", "switch", "Retry failed bank debits",
           "Off: a failed bank debit goes straight to the actions after the last retry."),
        _c("bank_debit_retry_schedule", "days", "Bank debit retries: days after the failure",
           f"1 to {MAX_ATTEMPTS} days from 1 to {MAX_RETRY_DAY}, ascending, separated by "
           "commas."),
    )),
    ("terminal", "After the last retry fails", (
        _c("subscription_terminal_action", "choice", "The subscription",
           "What happens to the subscription once every retry has failed.",
           (("cancel", "Cancel it now"), ("unpaid", "Mark it unpaid"),
            ("past_due", "Leave it past due"), ("pause", "Pause it"))),
        _c("invoice_terminal_action", "choice", "The invoice",
           "What happens to the unpaid invoice once every retry has failed.",
           (("past_due", "Leave it open and past due"),
            ("uncollectible", "Mark it uncollectible"))),
    )),
    ("payment_failed", "“Payment failed” e-mail", (
        _c("payment_failed_email_enabled", "switch", "Send the “payment failed” e-mail",
           "After the failure and after each failed retry, with a button to fix the payment."),
        _c("payment_failed_recovery_page_mode", "choice", "Where its button leads",
           "Hosted pages sign the customer in with a one-time link.", PAGE_MODES),
        _c("payment_failed_custom_link_url", "url", "Your page for failed payments",
           "An absolute https:// URL; needed for “Your own page”."),
    )),
    ("expiring_card", "“Card expiring” e-mail", (
        _c("expiring_card_email_enabled", "switch", "Send the “card expiring” e-mail",
           "Once per card, before the end of its expiry month."),
        _c("card_expiry_warn_days", "number", "Days before the card expires",
           f"1 to {MAX_WARN_DAYS} days before the end of the expiry month.",
           limits=(1, MAX_WARN_DAYS)),
        _c("expiring_card_recovery_page_mode", "choice", "Where its button leads",
           "Hosted pages sign the customer in and open their payment methods.",
           (("hosted", "Hosted: a sign-in link to payment methods in your portal"),
            ("custom_link", "Your own page: the URL below"))),
        _c("expiring_card_custom_link_url", "url", "Your page for expiring cards",
           "An absolute https:// URL; needed for “Your own page”."),
    )),
)  # fmt: skip
CONTROLS = {control.name: control for _, _, controls in SECTIONS for control in controls}
SUBSCRIPTION_OUTCOMES = {
    "cancel": "the subscription is canceled",
    "unpaid": "the subscription is marked unpaid",
    "past_due": "the subscription stays past due",
    "pause": "the subscription is paused",
}
INVOICE_OUTCOMES = {
    "past_due": "the invoice stays open and past due",
    "uncollectible": "the invoice is marked uncollectible",
}
_SEPARATORS = re.compile(r"[\s,;]+")


def shown(settings: dict) -> dict:
    """What each control shows for ``settings``: the text of number and day inputs."""
    text = {}
    for name, control in CONTROLS.items():
        value = settings[name]
        if control.kind == "days":
            value = ", ".join(str(day) for day in value)
        elif control.kind in ("number", "url"):
            value = "" if value is None else str(value)
        text[name] = value
    return text


def read_form(form) -> tuple[dict, dict, dict]:
    """The posted values in the API's types, the text to show again, and the messages of
    values that are not even numbers."""
    values, text, errors = {}, {}, {}
    for name, control in CONTROLS.items():
        raw = (form.get(name) or "").strip()
        text[name] = raw
        if control.kind == "switch":
            values[name] = text[name] = form.get(name) == "on"
        elif control.kind == "number":
            if re.fullmatch(r"[0-9]{1,6}", raw):
                values[name] = int(raw)
            else:
                errors[name] = "Enter a whole number."
        elif control.kind == "days":
            parts = [part for part in _SEPARATORS.split(raw) if part]
            if all(re.fullmatch(r"[0-9]{1,6}", part) for part in parts):
                values[name] = [int(part) for part in parts]
            else:
                errors[name] = "Enter whole days separated by commas, for example 3, 5, 7."
        else:
            values[name] = (raw or None) if control.kind == "url" else raw
    return values, text, errors


def _type_errors(exc: ValidationError) -> dict:
    fields = {}
    for item in exc.errors():
        fields.setdefault(str(item["loc"][0]) if item["loc"] else "dunning", item["msg"])
    return fields


def validated(stored: dict, form) -> tuple[dict, dict]:
    """The config the form asks for (over ``stored``) and the text to show again; raises
    ValidationFailed naming every field that is wrong, with the API's messages."""
    values, text, unreadable = read_form(form)
    try:
        DunningConfigPatch.model_validate(values)
        type_errors = {}
    except ValidationError as exc:
        type_errors = _type_errors(exc)
    readable = {k: v for k, v in values.items() if k not in unreadable}
    settings = {**stored, **readable}
    errors = {**type_errors, **problems(settings, changed=readable), **unreadable}
    if errors:
        raise ValidationFailed("Some dunning settings are not valid.", fields=errors)
    return settings, text


def save(company, stored: dict, form):
    """Validate the posted form like PATCH /dunning-config and save it."""
    settings, _text = validated(stored, form)
    return update_config(company, settings)


def preview(settings: dict, failed_at: datetime) -> dict:
    """The retry timeline of a payment that fails at ``failed_at``, and what happens then."""
    bank = settings["bank_debit_retries_enabled"]
    return {
        "failed_at": failed_at,
        "card": timeline(settings, failed_at),
        "bank": timeline(settings, failed_at, bank_debit=True) if bank else None,
        "subscription": SUBSCRIPTION_OUTCOMES[settings["subscription_terminal_action"]],
        "invoice": INVOICE_OUTCOMES[settings["invoice_terminal_action"]],
        "emails": settings["payment_failed_email_enabled"],
    }
