"""The company's dunning config: how failed payments are retried, what happens after the last
try, and which recovery e-mails go out. One row per company (``DunningConfig``); until the
merchant saves one, the documented defaults apply. The rules live here, so the JSON API, the
settings page and the billing run agree on what a valid config is."""

import copy
import math
from datetime import datetime, timedelta

from portal.db import locked, write_transaction
from portal.errors import ValidationFailed
from portal.models import DunningConfig, utcnow
from portal.portal_settings.config import check_return_url

RETRY_MODES = ("smart", "custom")
SMART_WINDOWS = {"1_week": 7, "2_weeks": 14, "3_weeks": 21, "4_weeks": 28}
SUBSCRIPTION_TERMINAL_ACTIONS = ("cancel", "unpaid", "past_due", "pause")
INVOICE_TERMINAL_ACTIONS = ("past_due", "uncollectible")
RECOVERY_PAGE_MODES = ("hosted", "custom_link")
MAX_ATTEMPTS = 8
MAX_RETRY_DAY = 60

DEFAULTS = {
    "retry_mode": "smart",
    "smart_retry_attempts": 4,
    "smart_retry_window": "2_weeks",
    "custom_retry_schedule": [3, 5, 7],
    "bank_debit_retries_enabled": False,
    "bank_debit_retry_schedule": [3, 7],
    "subscription_terminal_action": "cancel",
    "invoice_terminal_action": "past_due",
    "payment_failed_email_enabled": True,
    "expiring_card_email_enabled": True,
    "card_expiry_warn_days": 30,
    "payment_failed_recovery_page_mode": "hosted",
    "payment_failed_custom_link_url": None,
    "expiring_card_recovery_page_mode": "hosted",
    "expiring_card_custom_link_url": None,
}


MAX_WARN_DAYS = 90
CHOICES = {
    "retry_mode": RETRY_MODES,
    "smart_retry_window": tuple(SMART_WINDOWS),
    "subscription_terminal_action": SUBSCRIPTION_TERMINAL_ACTIONS,
    "invoice_terminal_action": INVOICE_TERMINAL_ACTIONS,
    "payment_failed_recovery_page_mode": RECOVERY_PAGE_MODES,
    "expiring_card_recovery_page_mode": RECOVERY_PAGE_MODES,
}
SWITCHES = (
    "bank_debit_retries_enabled",
    "payment_failed_email_enabled",
    "expiring_card_email_enabled",
)
SCHEDULES = ("custom_retry_schedule", "bank_debit_retry_schedule")
# Each recovery e-mail's page mode, and the URL its ``custom_link`` mode sends customers to.
LINKS = {
    "payment_failed_recovery_page_mode": "payment_failed_custom_link_url",
    "expiring_card_recovery_page_mode": "expiring_card_custom_link_url",
}


def defaults() -> dict:
    """A fresh copy of the defaults (their lists are not shared with the caller)."""
    return copy.deepcopy(DEFAULTS)


def settings_of(row: DunningConfig | None) -> dict:
    """Stored settings over the defaults: fields added later get their default, fields
    dropped since are left out."""
    stored = (row.settings if row is not None else None) or {}
    return {name: copy.deepcopy(stored.get(name, value)) for name, value in DEFAULTS.items()}


def settings_for(company_id: str) -> dict:
    """The company's settings over the defaults (fields added later get their default)."""
    return settings_of(DunningConfig.get_or_none(DunningConfig.company == company_id))


def get_config(company) -> DunningConfig:
    """The company's config row; until the merchant first saves one, an unsaved row with the
    defaults, dated from the company's creation. Reading never writes."""
    row = DunningConfig.get_or_none(DunningConfig.company == company)
    if row is None:
        since = getattr(company, "created_at", None) or utcnow()
        row = DunningConfig(
            company=company, settings=defaults(), created_at=since, updated_at=since
        )
    return row


def smart_retry_days(attempts: int, window_days: int) -> list[int]:
    """``attempts`` retries spread over the window, the gaps growing (a card that was
    declined an hour ago is rarely good a day later; most recover within days): the last
    one on the window's last day, each at least a day after the one before."""
    days, previous = [], 0
    for number in range(1, attempts + 1):
        day = max(previous + 1, math.ceil(window_days * (number / attempts) ** 1.5))
        days.append(day)
        previous = day
    return days


def retry_days(settings: dict, bank_debit: bool = False) -> list[int]:
    """Days after the failure on which the payment is tried again (ascending)."""
    if bank_debit:
        return (
            list(settings["bank_debit_retry_schedule"])
            if settings["bank_debit_retries_enabled"]
            else []
        )
    if settings["retry_mode"] == "custom":
        return list(settings["custom_retry_schedule"])
    window = SMART_WINDOWS[settings["smart_retry_window"]]
    return smart_retry_days(settings["smart_retry_attempts"], window)


def timeline(settings: dict, failed_at: datetime, bank_debit: bool = False) -> list[datetime]:
    """When each retry of a payment that failed at ``failed_at`` happens."""
    return [failed_at + timedelta(days=day) for day in retry_days(settings, bank_debit)]


# --- the rules -------------------------------------------------------------------------------


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def schedule_problem(days) -> str | None:
    """Why ``days`` is not a retry schedule (1-8 whole days, 1-60, ascending), or None."""
    if not isinstance(days, list) or not all(_whole(day) for day in days):
        return "Give the retry days as whole numbers of days after the failure."
    if not 1 <= len(days) <= MAX_ATTEMPTS:
        return f"Give 1 to {MAX_ATTEMPTS} retry days."
    if any(not 1 <= day <= MAX_RETRY_DAY for day in days):
        return f"Each retry day is from 1 to {MAX_RETRY_DAY} days after the failure."
    if any(later <= earlier for earlier, later in zip(days, days[1:], strict=False)):
        return "List the retry days in ascending order, each day once."
    return None


def _attempt_problems(settings: dict, changed) -> dict:
    attempts = settings["smart_retry_attempts"]
    if not _whole(attempts) or not 1 <= attempts <= MAX_ATTEMPTS:
        return {"smart_retry_attempts": f"Use 1 to {MAX_ATTEMPTS} attempts."}
    window = settings["smart_retry_window"]
    days = SMART_WINDOWS.get(window) if isinstance(window, str) else None
    if days is None or attempts <= days:
        return {}
    # Name the field the caller changed: shrinking the window is what broke the rule.
    name = "smart_retry_attempts"
    if "smart_retry_window" in changed and "smart_retry_attempts" not in changed:
        name = "smart_retry_window"
    return {name: f"At most {days} attempts fit in a {days}-day window (one a day)."}


def _link_problems(settings: dict) -> dict:
    errors = {}
    for mode, name in LINKS.items():
        url = settings[name]
        if url is None:
            if settings[mode] == "custom_link":
                errors[name] = "The custom link mode needs an absolute https:// URL."
        elif not isinstance(url, str):
            errors[name] = "Give an absolute https:// URL, or null."
        else:
            problem = check_return_url(url, env="production")
            if problem:
                errors[name] = problem
    return errors


def problems(settings: dict, changed=()) -> dict[str, str]:
    """Each field of ``settings`` (a whole config) that breaks a rule, with the reason.
    ``changed`` names the fields the caller changed, so a rule between two fields names the
    one that was changed."""
    errors = {name: "Unknown field." for name in settings if name not in DEFAULTS}
    settings = {**DEFAULTS, **settings}
    for name, options in CHOICES.items():
        if not isinstance(settings[name], str) or settings[name] not in options:
            errors[name] = f"Choose one of: {', '.join(options)}."
    for name in SWITCHES:
        if not isinstance(settings[name], bool):
            errors[name] = "Use true or false."
    for name in SCHEDULES:
        problem = schedule_problem(settings[name])
        if problem:
            errors[name] = problem
    errors.update(_attempt_problems(settings, set(changed)))
    warn = settings["card_expiry_warn_days"]
    if not _whole(warn) or not 1 <= warn <= MAX_WARN_DAYS:
        errors["card_expiry_warn_days"] = f"Use a whole number of days from 1 to {MAX_WARN_DAYS}."
    errors.update(_link_problems(settings))
    return errors


def check(settings: dict, changed=()) -> None:
    """Raise ValidationFailed, with a message per field, unless ``settings`` is valid."""
    errors = problems(settings, changed)
    if errors:
        raise ValidationFailed("Some dunning settings are not valid.", fields=errors)


def update_config(company, changes: dict, replace: bool = False) -> DunningConfig:
    """Apply ``changes`` over the stored config (``replace``: over the defaults, so every
    field left out takes its default) after checking every rule on the result; nothing is
    saved if one fails. Every save bumps the version."""
    with write_transaction():
        # The first save stores the row; a concurrent first save's insert is ignored.
        since = getattr(company, "created_at", None) or utcnow()
        DunningConfig.insert(
            company=company, settings=defaults(), created_at=since, updated_at=since
        ).on_conflict_ignore().execute()
        row = locked(DunningConfig.select().where(DunningConfig.company == company)).get()
        settings = {**(defaults() if replace else settings_of(row)), **copy.deepcopy(changes)}
        check(settings, changed=changes)
        row.settings = settings
        row.version += 1
        row.save()
    return row
