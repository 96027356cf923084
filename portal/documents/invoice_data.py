"""What an invoice document shows: the one dictionary the PDF is drawn from, served as is by
GET /invoices/:id/pdf, so the merchant's own renderer and ours read the same data.
Dates are YYYY-MM-DD, money in minor units."""

import re

from flask import current_app

from portal.billing.invoice_parties import parties
from portal.billing.invoices import amount_remaining, display_status, lines_by_invoice
from portal.models import Company, Invoice
from portal.portal_settings.tenancy import hosted_invoice_url, origin_for
from portal.timefmt import day

TOTALS = (
    "subtotal",
    "discount_amount",
    "credit_applied",
    "total",
    "amount_paid",
    "amount_due",
    "amount_remaining",
)


def pdf_data(invoice: Invoice) -> dict:
    rows = lines_by_invoice([invoice.id])[invoice.id]
    company = Company.get_by_id(invoice.company_id)
    seller, buyer = parties(invoice, company)
    origin = origin_for(invoice.company_id, current_app.config["PORTAL_BASE_URL"])
    totals = {name: getattr(invoice, name) for name in TOTALS if name != "amount_remaining"}
    return {
        "invoice_id": invoice.id,
        "number": invoice.number,
        "filename": "invoice-" + re.sub(r"[^A-Za-z0-9._-]", "_", invoice.number) + ".pdf",
        "status": display_status(invoice),
        "currency": invoice.currency,
        "issue_date": day(invoice.created_at),
        "due_date": day(invoice.due_date),
        "paid_date": day(invoice.paid_at),
        "period_start": day(invoice.period_start),
        "period_end": day(invoice.period_end),
        "merchant": {**seller, "brand_color": company.brand_color},
        "customer": buyer,
        "lines": [_line(row) for row in rows],
        "totals": {**totals, "amount_remaining": amount_remaining(invoice)},
        "hosted_invoice_url": hosted_invoice_url(origin, invoice.id),
    }


def _line(line) -> dict:
    return {
        "description": line.description,
        "quantity": line.quantity,
        "unit_amount": line.unit_amount,
        "amount": line.amount,
        "proration": line.proration,
        "period_start": day(line.period_start),
        "period_end": day(line.period_end),
    }
