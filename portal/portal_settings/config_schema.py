"""The config object's shape: every field with its description and limits, as the JSON API
documents and validates it. The settings page validates its form through the same patch
model, so a value the API refuses the page refuses too."""

import copy
import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from portal.i18n import LANGUAGES

from .config import CHOICES, DEFAULTS, MAX_PAUSE_PERIODS, PAYMENT_KINDS, PORTAL_MAX_QUANTITY

Reason = Annotated[str, StringConstraints(max_length=100)]
ShortId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
# The allowed values come from config.py, so the schema cannot drift from the rules.
PaymentKind = Literal[PAYMENT_KINDS]
CancellationMode = Literal[CHOICES["cancellation_mode"]]
CreditDestination = Literal[CHOICES["cancellation_credit_destination"]]
ProrationBehavior = Literal[CHOICES["subscription_proration_behavior"]]
ChargeTiming = Literal[CHOICES["subscription_charge_timing"]]
DowngradeTiming = Literal[CHOICES["downgrade_timing"]]
Units = Annotated[int, Field(ge=1, le=PORTAL_MAX_QUANTITY)]


class QuantityLimit(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    product_id: ShortId
    minimum: Units = 1
    maximum: Units | None = None


PausePeriods = Annotated[int, Field(ge=1, le=MAX_PAUSE_PERIODS)]
Language = Literal[LANGUAGES]

# One line per config field, shown on the response and on the PATCH body.
DESCRIPTIONS = {
    "payment_methods_enabled": "Customers can add, choose a default among and remove payment "
    "methods.",
    "accepted_payment_methods": "The kinds of payment method customers may add, each at most "
    "once; at least one while payment methods are on.",
    "subscriptions_enabled": "Customers see their subscriptions and the actions allowed below.",
    "allow_plan_switch": "Customers can move a subscription to another price of the allowed "
    "products.",
    "allow_quantity_updates": "Customers can change how many seats or units they pay for.",
    "subscription_product_ids": "Ids of this account's products customers can switch to (at "
    "most 100); empty means every active product. Cancelling and quantity changes work on "
    "every subscription.",
    "cancellations_enabled": "Customers can cancel their subscriptions themselves.",
    "cancellation_mode": "When a customer's cancellation takes effect: at once, or when the paid "
    "period ends.",
    "cancellation_proration_enabled": "An immediate cancellation credits the unused part of the "
    "period.",
    "cancellation_credit_destination": "Where the credit for unused time goes: the "
    "customer's credit balance (used by their next invoices), or refunded to the payment "
    "method that paid the period.",
    "cancellation_reasons_enabled": "Customers pick one of cancellation_reasons before cancelling.",
    "cancellation_reasons": "The reasons offered, in order: 1 to 10 while reasons are on, each "
    "1-100 characters and listed once.",
    "retention_coupon_id": "A valid coupon of this account offered before a customer confirms a "
    "cancellation; null for no offer.",
    "subscription_proration_behavior": "How a mid-period plan or quantity change is priced: "
    "prorated, the full price difference, or none (the new price starts next period).",
    "subscription_charge_timing": "When the price difference of a change is charged: at once on "
    "its own invoice, or on the next regular invoice.",
    "pause_enabled": "Customers can pause a subscription for 1 to pause_max_periods billing "
    "periods and resume it early.",
    "pause_max_periods": f"The most billing periods a customer may pause for, 1 to "
    f"{MAX_PAUSE_PERIODS}; no invoice is issued for the periods skipped.",
    "resubscribe_enabled": "Customers whose subscription ended or is set to end can start it "
    "again on an allowed plan; the first period is charged at once.",
    "downgrade_timing": "When a customer's downgrade (a plan or quantity change that costs "
    "less per year, or a shorter billing interval) takes effect: at once, or at the renewal "
    "(nothing is charged or credited; the portal shows it as a pending change the customer "
    "can cancel until then).",
    "quantity_limits": "Per product, the fewest (minimum, at least 1) and most (maximum; null "
    "for the portal's ceiling of 1000) units customers may choose in the portal; at most 100 "
    "products, each listed once. Products not listed allow 1 to 1000.",
    "invoice_history_enabled": "Customers can list, pay and download their invoices.",
    "receipt_emails_enabled": "When an invoice is paid, its customer gets an e-mail receipt "
    "with the invoice PDF attached.",
    "return_url": "Absolute https URL (http outside production) of the 'Return to' link on "
    "every portal page; null for no link.",
    "portal_header": "One line of plain text (at most 120 characters) shown on every portal page "
    "and sign-in email; null for none.",
    "custom_domain_id": "A verified custom domain of this account that serves the portal and "
    "its email links; null for the default host.",
    "default_locale": "The language of the portal pages, e-mails and invoice PDFs when the "
    "customer chose none and their browser asks for none of supported_locales; one of "
    "supported_locales.",
    "supported_locales": "The languages customers can choose in the portal footer (en, de, "
    "es), each at most once; the picker is hidden when only one is offered.",
}


def _shown(name: str):
    """A response field: required (every response carries it), documented with the default
    a company reads until it changes the field."""

    def extra(schema: dict) -> None:
        schema["default"] = copy.deepcopy(DEFAULTS[name])

    return Field(description=DESCRIPTIONS[name], json_schema_extra=extra)


def _changed(name: str):
    """A PATCH field: omitted means unchanged, so the schema claims no default (pydantic's
    ``None`` is only the "not sent" marker); the starting value is stated in words."""

    def extra(schema: dict) -> None:
        schema.pop("default", None)

    return Field(
        None,
        description=f"{DESCRIPTIONS[name]} Omit to keep the current value; a new config "
        f"starts with {json.dumps(DEFAULTS[name])}.",
        json_schema_extra=extra,
    )


class ConfigFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payment_methods_enabled: bool = _shown("payment_methods_enabled")
    accepted_payment_methods: list[PaymentKind] = _shown("accepted_payment_methods")
    subscriptions_enabled: bool = _shown("subscriptions_enabled")
    allow_plan_switch: bool = _shown("allow_plan_switch")
    allow_quantity_updates: bool = _shown("allow_quantity_updates")
    subscription_product_ids: list[str] = _shown("subscription_product_ids")
    cancellations_enabled: bool = _shown("cancellations_enabled")
    cancellation_mode: CancellationMode = _shown("cancellation_mode")
    cancellation_proration_enabled: bool = _shown("cancellation_proration_enabled")
    cancellation_credit_destination: CreditDestination = _shown("cancellation_credit_destination")
    cancellation_reasons_enabled: bool = _shown("cancellation_reasons_enabled")
    cancellation_reasons: list[str] = _shown("cancellation_reasons")
    retention_coupon_id: str | None = _shown("retention_coupon_id")
    subscription_proration_behavior: ProrationBehavior = _shown("subscription_proration_behavior")
    subscription_charge_timing: ChargeTiming = _shown("subscription_charge_timing")
    downgrade_timing: DowngradeTiming = _shown("downgrade_timing")
    quantity_limits: list[QuantityLimit] = _shown("quantity_limits")
    pause_enabled: bool = _shown("pause_enabled")
    pause_max_periods: int = _shown("pause_max_periods")
    resubscribe_enabled: bool = _shown("resubscribe_enabled")
    invoice_history_enabled: bool = _shown("invoice_history_enabled")
    receipt_emails_enabled: bool = _shown("receipt_emails_enabled")
    return_url: str | None = _shown("return_url")
    portal_header: str | None = _shown("portal_header")
    custom_domain_id: str | None = _shown("custom_domain_id")
    default_locale: Language = _shown("default_locale")
    supported_locales: list[Language] = _shown("supported_locales")


class PortalConfigOut(ConfigFields):
    company_id: str
    version: int
    created_at: str
    updated_at: str


class PortalConfigPatch(BaseModel):
    """A change to the config: unknown fields are refused, types are strict."""

    model_config = ConfigDict(extra="forbid", strict=True)

    payment_methods_enabled: bool = _changed("payment_methods_enabled")
    accepted_payment_methods: Annotated[list[PaymentKind], Field(max_length=2)] = _changed(
        "accepted_payment_methods"
    )
    subscriptions_enabled: bool = _changed("subscriptions_enabled")
    allow_plan_switch: bool = _changed("allow_plan_switch")
    allow_quantity_updates: bool = _changed("allow_quantity_updates")
    subscription_product_ids: Annotated[list[ShortId], Field(max_length=100)] = _changed(
        "subscription_product_ids"
    )
    cancellations_enabled: bool = _changed("cancellations_enabled")
    cancellation_mode: CancellationMode = _changed("cancellation_mode")
    cancellation_proration_enabled: bool = _changed("cancellation_proration_enabled")
    cancellation_credit_destination: CreditDestination = _changed("cancellation_credit_destination")
    cancellation_reasons_enabled: bool = _changed("cancellation_reasons_enabled")
    cancellation_reasons: Annotated[list[Reason], Field(max_length=10)] = _changed(
        "cancellation_reasons"
    )
    retention_coupon_id: ShortId | None = _changed("retention_coupon_id")
    subscription_proration_behavior: ProrationBehavior = _changed("subscription_proration_behavior")
    subscription_charge_timing: ChargeTiming = _changed("subscription_charge_timing")
    downgrade_timing: DowngradeTiming = _changed("downgrade_timing")
    quantity_limits: Annotated[list[QuantityLimit], Field(max_length=100)] = _changed(
        "quantity_limits"
    )
    pause_enabled: bool = _changed("pause_enabled")
    pause_max_periods: PausePeriods = _changed("pause_max_periods")
    resubscribe_enabled: bool = _changed("resubscribe_enabled")
    invoice_history_enabled: bool = _changed("invoice_history_enabled")
    receipt_emails_enabled: bool = _changed("receipt_emails_enabled")
    return_url: Annotated[str, StringConstraints(max_length=2048)] | None = _changed("return_url")
    portal_header: Annotated[str, StringConstraints(max_length=120)] | None = _changed(
        "portal_header"
    )
    custom_domain_id: ShortId | None = _changed("custom_domain_id")
    default_locale: Language = _changed("default_locale")
    supported_locales: Annotated[list[Language], Field(min_length=1, max_length=3)] = _changed(
        "supported_locales"
    )
