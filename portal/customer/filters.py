"""Jinja filters for money, dates and statuses, so templates never do arithmetic."""

from flask_babel import ngettext

from portal.billing.addresses import address_lines, customer_address
from portal.billing.invoices import display_status
from portal.billing.money import format_money
from portal.documents.line_text import line_text
from portal.i18n import N_, translate
from portal.timefmt import human_date

from .overview import cadence

STATUS_LABELS = {
    "PAST_DUE": N_("Past due"),
    "OPEN": N_("Open"),
    "PAID": N_("Paid"),
    "VOID": N_("Void"),
    "UNCOLLECTIBLE": N_("Uncollectible"),
    "DRAFT": N_("Draft"),
    "CREDIT_NOTE": N_("Credit note"),
    "active": N_("Active"),
    "trialing": N_("Trial"),
    "past_due": N_("Past due"),
    "unpaid": N_("Unpaid"),
    "incomplete": N_("Awaiting payment"),
    "canceled": N_("Canceled"),
    "paused": N_("Paused"),
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
    N_("Card")  # the brand filter's word for a card of no known brand
    app.add_template_filter(human_date, "date")
    app.add_template_filter(portal_status, "invoice_status")
    app.add_template_filter(lambda customer: address_lines(customer_address(customer)), "address")
    app.add_template_filter(status_label, "status_label")
    app.add_template_filter(local_cadence, "cadence")
    app.add_template_filter(brand, "brand")
    app.add_template_filter(line_text, "line_text")


def brand(code: str | None) -> str:
    return BRANDS.get(code or "") or (code.title() if code else translate("Card"))


def status_label(status: str) -> str:
    label = STATUS_LABELS.get(status)
    return translate(label) if label else status.replace("_", " ").title()


def local_cadence(price) -> str:
    """'month', '3 months', 'year', in the current language."""
    count = price.interval_count or 1
    if price.interval == "day":
        return ngettext("day", "%(num)d days", count)
    if price.interval == "week":
        return ngettext("week", "%(num)d weeks", count)
    if price.interval == "month":
        return ngettext("month", "%(num)d months", count)
    if price.interval == "year":
        return ngettext("year", "%(num)d years", count)
    return cadence(price)
