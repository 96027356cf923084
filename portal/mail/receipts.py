"""Receipts: when an invoice is paid, its customer gets an e-mail receipt with the invoice
PDF attached, through the outbox, unless the merchant turned receipts off."""

from flask import Flask, current_app, has_app_context

from portal.billing import invoices
from portal.billing.money import format_money
from portal.i18n import customer_language, language
from portal.mail import outbox as mail
from portal.models import Company, Customer, Invoice
from portal.portal_settings.config import get_config, settings_of
from portal.portal_settings.tenancy import origin_for
from portal.timefmt import human_date

PDF_PREFIX = "invoice_pdf:"


def queue_receipt(invoice_id: str) -> None:
    """Inside the paying transaction: one receipt per invoice, whatever retries happen."""
    if not has_app_context():  # the billing core used on its own (scripts, some tests)
        return
    invoice = Invoice.get_by_id(invoice_id)
    customer = Customer.get_by_id(invoice.customer_id)
    company = Company.get_by_id(invoice.company_id)
    settings = settings_of(get_config(company))
    if not settings["receipt_emails_enabled"] or not customer.email:
        return
    origin = origin_for(company.id, current_app.config["PORTAL_BASE_URL"])
    with language(customer_language(customer, settings)):
        _enqueue_receipt(company, customer, invoice, settings, origin)


def _enqueue_receipt(company, customer, invoice, settings, origin) -> None:
    mail.enqueue(
        company=company,
        kind="receipt",
        to=customer.email,
        template="receipt",
        context={
            "portal_header": settings["portal_header"],
            "number": invoice.number,
            "amount": format_money(invoice.amount_due, invoice.currency),
            "paid_on": human_date(invoice.paid_at),
            "link": f"{origin}/portal/invoices/{invoice.id}",
        },
        dedupe_key=f"receipt:{invoice.id}",
        attachment=f"{PDF_PREFIX}{invoice.id}",
    )


def attachment_for(reference: str) -> tuple[str, bytes] | None:
    """(filename, PDF bytes) for an outbox attachment reference; None if it is gone."""
    from portal.documents.invoice_data import pdf_data
    from portal.documents.invoice_pdf import render_invoice_pdf

    if not reference.startswith(PDF_PREFIX):
        return None
    invoice = Invoice.get_or_none(Invoice.id == reference.removeprefix(PDF_PREFIX))
    if invoice is None:
        return None
    data = pdf_data(invoice)
    customer = Customer.get_by_id(invoice.customer_id)
    settings = settings_of(get_config(Company.get_by_id(invoice.company_id)))
    return data["filename"], render_invoice_pdf(data, customer_language(customer, settings))


def install(app: Flask) -> None:
    if queue_receipt not in invoices.PAID_HOOKS:
        invoices.PAID_HOOKS.append(queue_receipt)
