"""Jinja filters for money, dates and statuses, so templates never do arithmetic."""

from portal.billing.invoices import display_status
from portal.billing.money import format_money

from .overview import cadence

STATUS_LABELS = {
    "PAST_DUE": "Past due",
    "OPEN": "Open",
    "PAID": "Paid",
    "VOID": "Void",
    "UNCOLLECTIBLE": "Uncollectible",
    "DRAFT": "Draft",
    "active": "Active",
    "trialing": "Trial",
    "past_due": "Past due",
    "unpaid": "Unpaid",
    "incomplete": "Awaiting payment",
    "canceled": "Canceled",
    "paused": "Paused",
}
BRANDS = {
    "VISA": "Visa",
    "MASTERCARD": "Mastercard",
    "AMERICAN_EXPRESS": "American Express",
    "DISCOVER": "Discover",
}


def install(app) -> None:
    app.add_template_filter(lambda cents, currency: format_money(cents, currency), "money")
    app.add_template_filter(lambda d: d.strftime("%b %-d, %Y") if d else "", "date")
    app.add_template_filter(lambda inv: display_status(inv), "invoice_status")
    app.add_template_filter(
        lambda s: STATUS_LABELS.get(s, s.replace("_", " ").title()), "status_label"
    )
    app.add_template_filter(cadence, "cadence")
    app.add_template_filter(lambda b: BRANDS.get(b or "", (b or "Card").title()), "brand")
