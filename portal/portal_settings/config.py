"""The customer portal config: defaults and rules, shared by the JSON API and the settings page."""

import re
import unicodedata
from urllib.parse import urlsplit

from portal.db import locked, write_transaction
from portal.errors import ValidationFailed
from portal.i18n import LANGUAGES
from portal.models import Coupon, CustomDomain, PortalConfig, Product, utcnow

from .quantity_limits import check_quantity_limits, with_defaults

DEFAULT_REASONS = [
    "Too expensive",
    "Missing features I need",
    "Switching to another service",
    "Not using it enough",
    "Technical problems",
    "Other",
]

DEFAULTS = {
    "payment_methods_enabled": True,
    "accepted_payment_methods": ["card"],
    "subscriptions_enabled": True,
    "allow_plan_switch": False,
    "allow_quantity_updates": False,
    "subscription_product_ids": [],
    "cancellations_enabled": True,
    "cancellation_mode": "end_of_period",
    "cancellation_proration_enabled": False,
    "cancellation_credit_destination": "credit_balance",
    "cancellation_reasons_enabled": False,
    "cancellation_reasons": DEFAULT_REASONS,
    "retention_coupon_id": None,
    "subscription_proration_behavior": "prorate",
    "subscription_charge_timing": "immediately",
    "downgrade_timing": "immediately",
    "quantity_limits": [],
    "pause_enabled": False,
    "pause_max_periods": 3,
    "resubscribe_enabled": True,
    "invoice_history_enabled": True,
    "receipt_emails_enabled": True,
    "return_url": None,
    "portal_header": None,
    "custom_domain_id": None,
    "default_locale": "en",
    "supported_locales": list(LANGUAGES),
}
PAYMENT_KINDS = ("card", "bank_account")
PORTAL_MAX_QUANTITY = 1000  # the most units a customer can choose in the portal
MAX_PAUSE_PERIODS = 3  # the most billing periods a customer may pause for
CHOICES = {
    "cancellation_mode": ("immediately", "end_of_period"),
    "cancellation_credit_destination": ("credit_balance", "original_payment_method"),
    "subscription_proration_behavior": ("none", "prorate", "full_difference"),
    "subscription_charge_timing": ("immediately", "period_end"),
    "downgrade_timing": ("immediately", "period_end"),
}
_BIDI_OR_CONTROL = re.compile(r"[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]")


def get_config(company) -> PortalConfig:
    """The company's config row; the defaults (an unsaved row) until the merchant first
    changes something. Reading never writes, so concurrent first reads cannot collide."""
    row = PortalConfig.get_or_none(PortalConfig.company == company)
    if row is None:
        # Stable across reads: the defaults date from the company's creation.
        since = getattr(company, "created_at", None) or utcnow()
        row = PortalConfig(
            company=company, settings=dict(DEFAULTS), created_at=since, updated_at=since
        )
    return row


def settings_of(row: PortalConfig) -> dict:
    """Stored settings over the defaults (fields added later get their default)."""
    return {**DEFAULTS, **(row.settings or {})}


# Company id -> (config version, settings) as this process last read them. Every change
# bumps the version (update_config), and pages read the version with the session, so a
# change made through any worker or server is seen on the next request.
_seen: dict[str, tuple[int | None, dict]] = {}


def settings_at(company, version: int | None) -> dict:
    """The company's settings at ``version`` (None: never saved, so the defaults), read
    from the database only when this process has not seen that version yet."""
    seen = _seen.get(company.id)
    if seen is None or seen[0] != version:
        row = get_config(company) if version is not None else None
        settings = settings_of(row) if row is not None else dict(DEFAULTS)
        # Labelled with what was read: never older than ``version``, at worst one more read.
        seen = _seen[company.id] = (row.version if row is not None else None, settings)
    return dict(seen[1])


def check_return_url(value: str, env: str) -> str | None:
    """Why ``value`` is not an acceptable return URL, or None when it is."""
    if len(value) > 2048:
        return "Use at most 2048 characters."
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in value) or "\\" in value:
        return "A URL cannot contain spaces, control characters or backslashes."
    parts = urlsplit(value)
    allowed = ("https",) if env == "production" else ("https", "http")
    if parts.scheme not in allowed:
        return (
            "Use an absolute https:// URL."
            if env == "production"
            else "Use an absolute http(s) URL."
        )
    if not parts.hostname or parts.username is not None or parts.password is not None:
        return "Use an absolute URL with a host name and no user name."
    return None


def _check_rules(company, settings: dict, env: str) -> dict:
    errors = {}
    accepted = settings["accepted_payment_methods"]
    if any(kind not in PAYMENT_KINDS for kind in accepted) or len(set(accepted)) != len(accepted):
        errors["accepted_payment_methods"] = "Choose from card and bank_account, each once."
    elif settings["payment_methods_enabled"] and not accepted:
        errors["accepted_payment_methods"] = (
            "Accept at least one kind while payment methods are on."
        )
    for name, options in CHOICES.items():
        if settings[name] not in options:
            errors[name] = f"Choose one of: {', '.join(options)}."
    max_periods = settings["pause_max_periods"]
    if type(max_periods) is not int or not 1 <= max_periods <= MAX_PAUSE_PERIODS:
        errors["pause_max_periods"] = f"Choose 1 to {MAX_PAUSE_PERIODS} billing periods."
    reasons = settings["cancellation_reasons"]
    if settings["cancellation_reasons_enabled"] and not 1 <= len(reasons) <= 10:
        errors["cancellation_reasons"] = "Give 1 to 10 reasons while reasons are on."
    elif any(not 1 <= len(r.strip()) <= 100 for r in reasons) or len(set(reasons)) != len(reasons):
        errors["cancellation_reasons"] = "Each reason is 1-100 characters and appears once."
    if len(reasons) > 10:
        errors["cancellation_reasons"] = "Give at most 10 reasons."
    ids = settings["subscription_product_ids"]
    if len(ids) > 100 or len(set(ids)) != len(ids):
        errors["subscription_product_ids"] = "List each product once, at most 100."
    elif ids and Product.select().where(
        Product.company == company, Product.id.in_(ids)
    ).count() != len(ids):
        errors["subscription_product_ids"] = "Every id must be a product of this account."
    coupon_id = settings["retention_coupon_id"]
    if coupon_id is not None and not _valid_coupon(company, coupon_id):
        errors["retention_coupon_id"] = "Choose a valid coupon of this account."
    if settings["return_url"] is not None:
        problem = check_return_url(settings["return_url"], env)
        if problem:
            errors["return_url"] = problem
    header = settings["portal_header"]
    if header is not None and (len(header) > 120 or _BIDI_OR_CONTROL.search(header)):
        errors["portal_header"] = (
            "Plain text of at most 120 characters, without control characters."
        )
    domain_id = settings["custom_domain_id"]
    if (
        domain_id is not None
        and not CustomDomain.select()
        .where(
            CustomDomain.id == domain_id,
            CustomDomain.company == company,
            CustomDomain.verified == True,  # noqa: E712
        )
        .exists()
    ):
        errors["custom_domain_id"] = "Choose a verified custom domain of this account."
    errors.update(_check_languages(settings))
    errors.update(check_quantity_limits(company, settings["quantity_limits"], PORTAL_MAX_QUANTITY))
    return errors


def _check_languages(settings: dict) -> dict:
    offered = settings["supported_locales"]
    if (
        not offered
        or any(lang not in LANGUAGES for lang in offered)
        or len(set(offered)) != len(offered)
    ):
        return {"supported_locales": f"Choose from {', '.join(LANGUAGES)}, each once."}
    if settings["default_locale"] not in offered:
        return {"default_locale": "The default language must be one of supported_locales."}
    return {}


def _valid_coupon(company, coupon_id: str) -> bool:
    from portal.billing.coupons import is_valid

    coupon = Coupon.get_or_none(Coupon.id == coupon_id, Coupon.company == company)
    return coupon is not None and is_valid(coupon)


def update_config(company, changes: dict, env: str) -> PortalConfig:
    """Apply a partial change after checking every rule; nothing is saved if one fails."""
    with write_transaction():
        # The first change stores the row; a concurrent first change's insert is ignored.
        since = getattr(company, "created_at", None) or utcnow()
        PortalConfig.insert(
            company=company, settings=dict(DEFAULTS), created_at=since, updated_at=since
        ).on_conflict_ignore().execute()
        row = locked(PortalConfig.select().where(PortalConfig.company == company)).get()
        settings = {**settings_of(row), **changes}
        if isinstance(settings.get("portal_header"), str):
            settings["portal_header"] = settings["portal_header"].strip() or None
        settings["quantity_limits"] = with_defaults(settings["quantity_limits"])
        errors = _check_rules(company, settings, env)
        if errors:
            raise ValidationFailed("Some settings are not valid.", fields=errors)
        row.settings = settings
        row.version += 1
        row.save()
    return row
