"""The dunning config's wire shape: the strict request bodies of POST (create or replace) and
PATCH (change some fields) and the response, as the JSON API validates and documents them.
The settings page validates its form through the same PATCH model.

The official ``easylabs`` client names some fields differently; both names are accepted and
both are returned: ``recovery_page_mode`` is ``payment_failed_recovery_page_mode``,
``custom_recovery_link`` is ``payment_failed_custom_link_url`` and ``notifications`` groups
``payment_failed_email_enabled``, ``expiring_card_email_enabled`` and
``card_expiry_warn_days``. Retry schedules are returned as ``[{"days_after_failure": 3}]``
and accepted either so or as plain day numbers."""

import copy
import json
from contextlib import contextmanager
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

from portal.errors import ValidationFailed
from portal.timefmt import iso

from .dunning_config import (
    CHOICES,
    DEFAULTS,
    MAX_ATTEMPTS,
    MAX_RETRY_DAY,
    MAX_WARN_DAYS,
    SCHEDULES,
    settings_of,
)

# The allowed values come from dunning_config.py, so the schema cannot drift from the rules.
RetryMode = Literal[CHOICES["retry_mode"]]
SmartWindow = Literal[CHOICES["smart_retry_window"]]
SubscriptionAction = Literal[CHOICES["subscription_terminal_action"]]
InvoiceAction = Literal[CHOICES["invoice_terminal_action"]]
PageMode = Literal[CHOICES["payment_failed_recovery_page_mode"]]
Url = Annotated[str, StringConstraints(max_length=2048)]
ALIASES = {
    "recovery_page_mode": "payment_failed_recovery_page_mode",
    "custom_recovery_link": "payment_failed_custom_link_url",
}
NOTIFICATIONS = (
    "payment_failed_email_enabled",
    "expiring_card_email_enabled",
    "card_expiry_warn_days",
)
_SCHEDULE = (
    f"1 to {MAX_ATTEMPTS} retries, each a whole number of days (1-{MAX_RETRY_DAY}) after the "
    "failure, strictly ascending"
)
_URL = (
    "Absolute https URL (at most 2048 characters, a host, no user name) of the button in "
    "custom_link mode; null for none. Required while that mode is custom_link."
)
DESCRIPTIONS = {
    "retry_mode": "smart spreads smart_retry_attempts retries over smart_retry_window; custom "
    "retries on the days of custom_retry_schedule.",
    "smart_retry_attempts": f"Retries in smart mode: 1 to {MAX_ATTEMPTS}, at most one a day of "
    "the window.",
    "smart_retry_window": "How long smart mode keeps retrying; the last retry falls on the "
    "window's last day.",
    "custom_retry_schedule": f"Retry days in custom mode: {_SCHEDULE}.",
    "bank_debit_retries_enabled": "Failed bank debits are retried too (on "
    "bank_debit_retry_schedule); off: a failed debit goes straight to the terminal actions.",
    "bank_debit_retry_schedule": f"Retry days of bank debits: {_SCHEDULE}.",
    "subscription_terminal_action": "What happens to the subscription after the last retry "
    "fails: cancel (ends now), unpaid, past_due (left as is) or pause.",
    "invoice_terminal_action": "What happens to the invoice after the last retry fails: "
    "past_due (left open) or uncollectible.",
    "payment_failed_email_enabled": "The customer gets a 'payment failed' e-mail after the "
    "failure and after each failed retry.",
    "expiring_card_email_enabled": "The customer gets one 'card expiring' e-mail per card "
    "before it expires.",
    "card_expiry_warn_days": f"Days before the end of the expiry month the 'card expiring' "
    f"e-mail goes out: 1 to {MAX_WARN_DAYS}.",
    "payment_failed_recovery_page_mode": "Where the 'payment failed' e-mail's button leads: "
    "hosted (a sign-in link to the invoice in the portal) or custom_link.",
    "payment_failed_custom_link_url": _URL,
    "expiring_card_recovery_page_mode": "Where the 'card expiring' e-mail's button leads: "
    "hosted (a sign-in link to the portal's payment methods) or custom_link.",
    "expiring_card_custom_link_url": _URL,
    "recovery_page_mode": "The easylabs client's name of payment_failed_recovery_page_mode.",
    "custom_recovery_link": "The easylabs client's name of payment_failed_custom_link_url.",
    "notifications": "The easylabs client's grouping of payment_failed_email_enabled, "
    "expiring_card_email_enabled and card_expiry_warn_days.",
}


class RetryDay(BaseModel):
    """One retry of a schedule."""

    model_config = ConfigDict(extra="forbid", strict=True)

    days_after_failure: int = Field(
        description=f"Days after the failed payment: 1 to {MAX_RETRY_DAY}."
    )


def _one_day(value, handler):
    """One message for an entry that is neither form (rather than one per union member)."""
    try:
        return handler(value)
    except ValidationError:
        raise PydanticCustomError(
            "retry_day", "Give a whole number of days, or an object with days_after_failure."
        ) from None


def _days(entries: list) -> list:
    return [e.days_after_failure if isinstance(e, RetryDay) else e for e in entries]


# Plain day numbers or RetryDay objects; the rules (count, range, order) are checked on the
# whole config, so the message is the same wherever the value came from.
Schedule = Annotated[
    list[Annotated[int | RetryDay, WrapValidator(_one_day)]],
    Field(max_length=100),
    AfterValidator(_days),
]


def wire_settings(settings: dict) -> dict:
    """Settings as the API returns them: schedules as objects, the client's names added."""
    out = copy.deepcopy(settings)
    for name in SCHEDULES:
        out[name] = [{"days_after_failure": day} for day in settings[name]]
    for alias, name in ALIASES.items():
        out[alias] = settings[name]
    out["notifications"] = {name: settings[name] for name in NOTIFICATIONS}
    return out


WIRE_DEFAULTS = wire_settings(DEFAULTS)


def _shown(name: str):
    """A response field: always present, documented with what a new company reads."""

    def extra(schema: dict) -> None:
        schema["default"] = copy.deepcopy(WIRE_DEFAULTS[name])

    return Field(description=DESCRIPTIONS[name], json_schema_extra=extra)


def _sent(name: str):
    """A request field: omitted means unchanged (PATCH) or the default (POST), so the schema
    claims no default; the starting value is stated in words."""

    def extra(schema: dict) -> None:
        schema.pop("default", None)

    start = json.dumps(DEFAULTS.get(ALIASES.get(name, name), WIRE_DEFAULTS.get(name)))
    return Field(
        None,
        description=f"{DESCRIPTIONS[name]} Omit to keep the current value (PATCH) or to take "
        f"the default (POST); a new config starts with {start}.",
        json_schema_extra=extra,
    )


class Notifications(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payment_failed_email_enabled: bool = _shown("payment_failed_email_enabled")
    expiring_card_email_enabled: bool = _shown("expiring_card_email_enabled")
    card_expiry_warn_days: int = _shown("card_expiry_warn_days")


class NotificationsChange(BaseModel):
    """Some of the notification settings; those left out are treated as not sent."""

    model_config = ConfigDict(extra="forbid", strict=True)

    payment_failed_email_enabled: bool = _sent("payment_failed_email_enabled")
    expiring_card_email_enabled: bool = _sent("expiring_card_email_enabled")
    card_expiry_warn_days: int = _sent("card_expiry_warn_days")


class DunningConfigOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    retry_mode: RetryMode = _shown("retry_mode")
    smart_retry_attempts: int = _shown("smart_retry_attempts")
    smart_retry_window: SmartWindow = _shown("smart_retry_window")
    custom_retry_schedule: list[RetryDay] = _shown("custom_retry_schedule")
    bank_debit_retries_enabled: bool = _shown("bank_debit_retries_enabled")
    bank_debit_retry_schedule: list[RetryDay] = _shown("bank_debit_retry_schedule")
    subscription_terminal_action: SubscriptionAction = _shown("subscription_terminal_action")
    invoice_terminal_action: InvoiceAction = _shown("invoice_terminal_action")
    payment_failed_email_enabled: bool = _shown("payment_failed_email_enabled")
    expiring_card_email_enabled: bool = _shown("expiring_card_email_enabled")
    card_expiry_warn_days: int = _shown("card_expiry_warn_days")
    payment_failed_recovery_page_mode: PageMode = _shown("payment_failed_recovery_page_mode")
    payment_failed_custom_link_url: str | None = _shown("payment_failed_custom_link_url")
    expiring_card_recovery_page_mode: PageMode = _shown("expiring_card_recovery_page_mode")
    expiring_card_custom_link_url: str | None = _shown("expiring_card_custom_link_url")
    recovery_page_mode: PageMode = _shown("recovery_page_mode")
    custom_recovery_link: str | None = _shown("custom_recovery_link")
    notifications: Notifications = _shown("notifications")
    company_id: str
    version: int
    created_at: str
    updated_at: str


class DunningConfigPatch(BaseModel):
    """A change to some fields of the dunning config; the others keep their value. Unknown
    fields are refused, types are strict; the result must pass every rule."""

    model_config = ConfigDict(extra="forbid", strict=True)

    retry_mode: RetryMode = _sent("retry_mode")
    smart_retry_attempts: int = _sent("smart_retry_attempts")
    smart_retry_window: SmartWindow = _sent("smart_retry_window")
    custom_retry_schedule: Schedule = _sent("custom_retry_schedule")
    bank_debit_retries_enabled: bool = _sent("bank_debit_retries_enabled")
    bank_debit_retry_schedule: Schedule = _sent("bank_debit_retry_schedule")
    subscription_terminal_action: SubscriptionAction = _sent("subscription_terminal_action")
    invoice_terminal_action: InvoiceAction = _sent("invoice_terminal_action")
    payment_failed_email_enabled: bool = _sent("payment_failed_email_enabled")
    expiring_card_email_enabled: bool = _sent("expiring_card_email_enabled")
    card_expiry_warn_days: int = _sent("card_expiry_warn_days")
    payment_failed_recovery_page_mode: PageMode = _sent("payment_failed_recovery_page_mode")
    payment_failed_custom_link_url: Url | None = _sent("payment_failed_custom_link_url")
    expiring_card_recovery_page_mode: PageMode = _sent("expiring_card_recovery_page_mode")
    expiring_card_custom_link_url: Url | None = _sent("expiring_card_custom_link_url")
    recovery_page_mode: PageMode = _sent("recovery_page_mode")
    custom_recovery_link: Url | None = _sent("custom_recovery_link")
    notifications: NotificationsChange = _sent("notifications")

    def changes(self) -> dict:
        """The fields sent, under this API's own names (the client's names folded in)."""
        return canonical(self.model_dump(exclude_unset=True))

    @contextmanager
    def errors_as_sent(self):
        """A refusal names a field also under the client's name when it was sent so."""
        try:
            yield
        except ValidationFailed as exc:
            names = {a: name for a, name in ALIASES.items() if a in self.model_fields_set}
            if self.notifications is not None:
                grouped = self.notifications.model_fields_set
                names.update({f"notifications.{name}": name for name in grouped})
            for alias, name in names.items():
                if name in exc.fields:
                    exc.fields[alias] = exc.fields[name]
            raise


class DunningConfigReplace(DunningConfigPatch):
    """The whole dunning config: every field left out takes its default. Unknown fields are
    refused, types are strict; the result must pass every rule."""


def canonical(sent: dict) -> dict:
    """``sent`` with the client's names replaced by this API's; a field given under both
    names with different values is refused."""
    changes = dict(sent)
    pairs = [(alias, name, changes.pop(alias)) for alias, name in ALIASES.items() if alias in sent]
    grouped = changes.pop("notifications", None) or {}
    pairs += [(f"notifications.{name}", name, value) for name, value in grouped.items()]
    errors = {}
    for alias, name, value in pairs:
        if name in changes and changes[name] != value:
            errors[alias] = f"{name} is also given, with another value: send one of the two."
        changes[name] = value
    if errors:
        raise ValidationFailed("A field is given twice with different values.", fields=errors)
    return changes


def to_wire(row) -> dict:
    """The response of every dunning-config route."""
    return {
        **wire_settings(settings_of(row)),
        "company_id": row.company_id,
        "version": row.version,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }
