"""The portal settings form: one control per config field, how each reads its value from the
posted form, which switch it depends on, and saving through the JSON API's own validation
(the API's pydantic body model, then ``update_config``), so the page and the API agree."""

from dataclasses import dataclass

from pydantic import ValidationError

from portal.errors import ValidationFailed
from portal.portal_settings.config import update_config
from portal.portal_settings.config_schema import PortalConfigPatch


@dataclass(frozen=True)
class Control:
    name: str
    kind: str  # switch | choice | multi | reasons | products | coupon | domain | url | text
    label: str
    help: str
    parent: str | None = None
    options: tuple[tuple[str, str], ...] = ()


def _c(name, kind, label, help, parent=None, options=()) -> Control:
    return Control(name, kind, label, help, parent, options)


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
    value = form.get(name)
    if kind in ("coupon", "domain", "url", "text"):
        value = (value or "").strip()
        return value or None
    return value


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
