"""The portal settings form: one control per config field, how each reads its value from the
posted form, which switch it depends on, and saving through the JSON API's own validation
(the API's pydantic body model, then ``update_config``), so the page and the API agree."""

from dataclasses import dataclass

from pydantic import ValidationError

from portal.digits import is_ascii_digits
from portal.errors import ValidationFailed
from portal.portal_settings.config import MAX_PAUSE_PERIODS, update_config
from portal.portal_settings.config_schema import PortalConfigPatch


@dataclass(frozen=True)
class Control:
    name: str
    # switch | choice | count | multi | reasons | products | limits | coupon | domain | url | text
    kind: str
    label: str
    help: str
    parent: str | None = None
    options: tuple[tuple[str, str], ...] = ()


def _c(name, kind, label, help, parent=None, options=()) -> Control:
    return Control(name, kind, label, help, parent, options)


LIMIT_MIN, LIMIT_MAX = "limit-min-", "limit-max-"  # + product id: the quantity limit inputs
LANGUAGE_OPTIONS = (("en", "English"), ("de", "German (Deutsch)"), ("es", "Spanish (Español)"))


SECTIONS = (
    ("payments", "Payment methods", (
        _c("payment_methods_enabled", "switch", "Payment methods section",
           "Customers can add cards or bank accounts, choose a default and remove old ones."),
        _c("accepted_payment_methods", "multi", "Accepted kinds",
           "Which kinds of payment method customers may add.", "payment_methods_enabled",
           (("card", "Cards"), ("bank_account", "Bank accounts"))),
    )),
    ("subscriptions", "Subscriptions", (
        _c("subscriptions_enabled", "switch", "Subscriptions section",
           "Customers see their subscriptions and the actions you allow below."),
        _c("allow_plan_switch", "switch", "Plan switching",
           "Customers can move to another price of the products you allow.",
           "subscriptions_enabled"),
        _c("allow_quantity_updates", "switch", "Quantity changes",
           "Customers can change how many seats or units they pay for.", "subscriptions_enabled"),
        _c("subscription_product_ids", "products", "Products customers can switch to",
           "Plan switches offer only these products; none ticked means every active product. "
           "Cancelling and quantity changes work on every subscription.",
           "subscriptions_enabled"),
        _c("subscription_proration_behavior", "choice", "Price difference on a change",
           "How a plan or quantity change mid-period is priced.", "subscriptions_enabled",
           (("prorate", "Prorate: credit unused time, charge the rest of the period"),
            ("full_difference", "Full difference: charge the whole price difference"),
            ("none", "No proration: the new price starts next period"))),
        _c("subscription_charge_timing", "choice", "When the difference is charged",
           "Charge a change at once on its own invoice, or add it to the next invoice.",
           "subscriptions_enabled",
           (("immediately", "Immediately, on a separate invoice"),
            ("period_end", "On the next regular invoice"))),
        _c("downgrade_timing", "choice", "When a downgrade takes effect",
           "A downgrade is a change to a plan or quantity that costs less per year, or to a "
           "shorter billing interval. At the renewal: the customer keeps what they paid for "
           "until the period ends and sees the change as pending, which they can cancel.",
           "subscriptions_enabled",
           (("immediately", "Immediately, priced like any other change"),
            ("period_end", "At the renewal, with nothing charged or credited now"))),
        _c("quantity_limits", "limits", "Quantity limits",
           "The fewest and most units customers can choose for each product in the portal; "
           "leave both empty for 1 to 1000. Applies to quantity changes and plan switches.",
           "subscriptions_enabled"),
        _c("pause_enabled", "switch", "Pausing",
           "Customers can pause a subscription for a few billing periods and resume it early; "
           "no invoice is issued while it is paused.", "subscriptions_enabled"),
        _c("pause_max_periods", "count", "Longest pause",
           "The most billing periods a customer may pause for.", "pause_enabled",
           tuple((str(n), f"Up to {n} billing period{'s' if n > 1 else ''}")
                 for n in range(1, MAX_PAUSE_PERIODS + 1))),
        _c("resubscribe_enabled", "switch", "Resubscribing",
           "Customers whose subscription ended or is set to end can start it again on an "
           "allowed plan; the first period is charged at once.", "subscriptions_enabled"),
    )),
    ("cancellations", "Cancellations", (
        _c("cancellations_enabled", "switch", "Cancellations",
           "Customers can cancel their subscriptions themselves."),
        _c("cancellation_mode", "choice", "When a cancellation takes effect",
           "Immediately ends the subscription now; at period end keeps it until the paid "
           "period runs out.", "cancellations_enabled",
           (("end_of_period", "At the end of the billing period"),
            ("immediately", "Immediately"))),
        _c("cancellation_proration_enabled", "switch", "Credit unused time",
           "For immediate cancellations: credit the unused part of the period.",
           "cancellations_enabled"),
        _c("cancellation_credit_destination", "choice", "Where the credit goes",
           "The credit for unused time goes to the customer's balance, used by their next "
           "invoices, or back to the card or account that paid.",
           "cancellation_proration_enabled",
           (("credit_balance", "Credit balance for future invoices"),
            ("original_payment_method", "Refund to the original payment method"))),
        _c("cancellation_reasons_enabled", "switch", "Ask for a reason",
           "Customers pick one of your reasons, and may add a comment, before cancelling.",
           "cancellations_enabled"),
        _c("cancellation_reasons", "reasons", "Reasons offered",
           "1 to 10 reasons of up to 100 characters, in this order. Clear a line to remove it.",
           "cancellation_reasons_enabled"),
        _c("retention_coupon_id", "coupon", "Retention offer",
           "Offer this coupon before the customer confirms; accepting it keeps the "
           "subscription.", "cancellations_enabled"),
    )),
    ("invoices", "Invoices", (
        _c("invoice_history_enabled", "switch", "Invoice history",
           "Customers can list, pay and download their invoices as PDF."),
        _c("receipt_emails_enabled", "switch", "E-mail receipts",
           "When an invoice is paid, the customer gets a receipt with the invoice PDF."),
    )),
    ("languages", "Languages", (
        _c("supported_locales", "multi", "Languages offered",
           "The languages of the portal pages, e-mails and invoice PDFs; customers choose "
           "among them in the portal footer, which hides the choice when only one is ticked.",
           options=LANGUAGE_OPTIONS),
        _c("default_locale", "choice", "Default language",
           "For customers who chose none and whose browser asks for none of the languages "
           "offered; must be one of them.", options=LANGUAGE_OPTIONS),
    )),
    ("links", "Links and text", (
        _c("return_url", "url", "Return link",
           "Adds a “Return to” link to your site on every portal page (absolute https:// URL)."),
        _c("portal_header", "text", "Header text",
           "One line of plain text under your name on every portal page and sign-in email."),
        _c("custom_domain_id", "domain", "Portal domain",
           "Where the portal and the links in its emails live; add domains under Custom domains."),
    )),
)  # fmt: skip
CONTROLS = {control.name: control for _, _, controls in SECTIONS for control in controls}
CHILDREN = {
    name: [c for c in CONTROLS.values() if c.parent == name]
    for name in CONTROLS
    if any(c.parent == name for c in CONTROLS.values())
}


def is_enabled(control: Control, settings: dict) -> bool:
    """A control can be changed only while every switch above it is on."""
    parent = control.parent
    while parent is not None:
        if not settings.get(parent):
            return False
        parent = CONTROLS[parent].parent
    return True


def read_value(control: Control, form):
    """The control's value from posted form data, in the JSON API's types."""
    name, kind = control.name, control.kind
    if kind == "switch":
        return form.get(name) == "on"
    if kind in ("multi", "products"):
        return [value for value in form.getlist(name) if value]
    if kind == "reasons":
        return [line.strip() for line in form.getlist(name) if line.strip()]
    if kind == "limits":
        return _read_limits(form)
    value = form.get(name)
    if kind == "count":  # a whole number, as the JSON API takes it
        return int(value) if is_ascii_digits(value) and len(value) < 4 else value
    if kind in ("coupon", "domain", "url", "text"):
        value = (value or "").strip()
        return value or None
    return value


def _whole(text: str):
    """A whole number as the JSON API takes it; anything else as typed, for its 422."""
    text = text.strip()
    return int(text) if is_ascii_digits(text) and len(text) < 6 else text


def _read_limits(form) -> list[dict]:
    """``limit-min-<product id>`` and ``limit-max-<product id>`` inputs, one pair per
    product; a product with both empty has no limit."""
    limits = []
    for key in form:
        if not key.startswith(LIMIT_MIN):
            continue
        product_id = key.removeprefix(LIMIT_MIN)
        low, high = form.get(key, ""), form.get(LIMIT_MAX + product_id, "")
        if low.strip() or high.strip():
            limit = {"product_id": product_id, "minimum": _whole(low) if low.strip() else 1}
            limit["maximum"] = _whole(high) if high.strip() else None
            limits.append(limit)
    return limits


def read_form(form, settings: dict) -> dict:
    """Every control that was enabled when the page was drawn (disabled inputs are not posted,
    so a switched-off group keeps its stored values)."""
    return {
        name: read_value(control, form)
        for name, control in CONTROLS.items()
        if is_enabled(control, settings)
    }


def _type_errors(exc: ValidationError) -> dict:
    fields = {}
    for item in exc.errors():
        name = str(item["loc"][0]) if item["loc"] else "settings"
        fields.setdefault(name, item["msg"])
    return fields


def save(company, changes: dict, env: str):
    """Validate like PATCH /customer-portal-config and save; ValidationFailed on any error."""
    try:
        body = PortalConfigPatch.model_validate(changes)
    except ValidationError as exc:
        raise ValidationFailed("Some settings are not valid.", fields=_type_errors(exc)) from None
    return update_config(company, body.model_dump(exclude_unset=True), env)
