"""Jinja filters for money, dates and statuses, so templates never do arithmetic."""

from portal.billing.addresses import address_lines, customer_address
from portal.billing.invoices import display_status
from portal.billing.money import format_money
from portal.timefmt import human_date

from .overview import cadence

STATUS_LABELS = {
    "PAST_DUE": "Past due",
    "OPEN": "Open",
    "PAID": "Paid",
    "VOID": "Void",
    "UNCOLLECTIBLE": "Uncollectible",
    "DRAFT": "Draft",
    "CREDIT_NOTE": "Credit note",
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


def portal_status(invoice) -> str:
    """What the customer sees: a document whose total is a credit is a credit note, never
    an invoice of a negative amount marked Paid."""
    return "CREDIT_NOTE" if invoice.total < 0 else display_status(invoice)


def install(app) -> None:
    app.add_template_filter(lambda cents, currency: format_money(cents, currency), "money")
    app.add_template_filter(human_date, "date")
    app.add_template_filter(portal_status, "invoice_status")
    app.add_template_filter(lambda customer: address_lines(customer_address(customer)), "address")
    app.add_template_filter(
        lambda s: STATUS_LABELS.get(s, s.replace("_", " ").title()), "status_label"
    )
    app.add_template_filter(cadence, "cadence")
    app.add_template_filter(lambda b: BRANDS.get(b or "", (b or "Card").title()), "brand")
