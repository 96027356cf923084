"""Invoices: GET /invoices, GET /invoices/:id, GET /invoices/:id/pdf (the data a PDF
needs), POST /invoices/:id/pay, POST /invoices/:id/void. Invoices are created by
subscriptions, never through this API."""

from typing import Annotated

from flask import g
from pydantic import AfterValidator, Field

from portal.billing import objects
from portal.billing.invoices import (
    STATUSES,
    collect_now,
    display_status,
    status_condition,
    void_invoice,
)
from portal.documents import invoice_data
from portal.errors import PaymentDeclined
from portal.models import Invoice

from . import schemas
from .core import ListQuery, TextFilter, api_route, owned, paginate
from .envelope import error, success
from .fields import Id
from .validation import Body


def _status(value: str) -> str:
    if value.upper() not in STATUSES:
        raise ValueError(f"use one of {', '.join(STATUSES)}")
    return value.upper()


class InvoiceListQuery(ListQuery):
    status: Annotated[str, AfterValidator(_status)] | None = Field(
        None, description="OPEN lists open invoices that are not PAST_DUE."
    )
    customer_id: TextFilter = Field(None, max_length=64)
    subscription_id: TextFilter = Field(None, max_length=64)


class PayInvoice(Body):
    instrument_id: Id | None = Field(
        None, description="Default: the subscription's method, else the customer's default."
    )


class PdfMerchant(schemas.InvoiceSeller):
    brand_color: str


class PdfLine(schemas.Shape):
    description: str
    quantity: int
    unit_amount: int
    amount: int
    proration: bool
    period_start: str | None
    period_end: str | None


class PdfTotals(schemas.Shape):
    subtotal: int
    discount_amount: int
    credit_applied: int
    total: int
    amount_paid: int
    amount_due: int
    amount_remaining: int


class InvoicePdf(schemas.Shape):
    """Everything needed to draw the invoice; dates are YYYY-MM-DD, money in minor units."""

    invoice_id: str
    number: str
    filename: str
    status: str
    currency: str
    issue_date: str
    due_date: str | None
    paid_date: str | None
    period_start: str | None
    period_end: str | None
    merchant: PdfMerchant
    customer: schemas.InvoiceBuyer
    lines: list[PdfLine]
    totals: PdfTotals
    hosted_invoice_url: str


render_many = objects.invoices


def render(invoice: Invoice) -> dict:
    return render_many([invoice])[0]


def invoice_page(select, query: ListQuery, *, filters=()):
    """A page of invoices, newest first: by number within the same instant."""
    order = (Invoice.created_at.desc(), Invoice.number.desc(), Invoice.id)
    return paginate(select, query, render_many, filters=filters, order=order)


@api_route(
    "/invoices",
    "GET",
    summary="List invoices, newest first (filters: status, customer_id, subscription_id, ids)",
    tag="Invoices",
    query=InvoiceListQuery,
    response=schemas.Invoice,
    paginated=True,
)
def list_invoices(query: InvoiceListQuery):
    select = Invoice.select().where(Invoice.company == g.company)
    if query.status:
        select = select.where(status_condition(query.status))
    filters = ((Invoice.customer, query.customer_id), (Invoice.subscription, query.subscription_id))
    return invoice_page(select, query, filters=filters)


@api_route(
    "/invoices/<invoice_id>",
    "GET",
    summary="Retrieve an invoice",
    tag="Invoices",
    response=schemas.Invoice,
)
def get_invoice(invoice_id: str):
    return success(render(owned(Invoice, invoice_id, "invoice")))


@api_route(
    "/invoices/<invoice_id>/pdf",
    "GET",
    summary="The data needed to render an invoice PDF",
    tag="Invoices",
    response=InvoicePdf,
)
def get_invoice_pdf(invoice_id: str):
    return success(invoice_data.pdf_data(owned(Invoice, invoice_id, "invoice")))


@api_route(
    "/invoices/<invoice_id>/pay",
    "POST",
    summary="Charge an open invoice now (402 PAYMENT_DECLINED when the charge fails)",
    tag="Invoices",
    body=PayInvoice,
    response=schemas.Invoice,
)
def pay_invoice_now(invoice_id: str, body: PayInvoice):
    invoice = owned(Invoice, invoice_id, "invoice")
    charge = collect_now(invoice, body.instrument_id)
    if charge.status != "succeeded":
        # Returned, not raised: the failed charge and the invoice's payment_failed flag
        # must commit, and raising would roll them back.
        return error(
            PaymentDeclined.status,
            PaymentDeclined.code,
            f"The payment was declined: {charge.failure_message or 'no reason given'}",
            {
                "invoice_id": invoice.id,
                "charge_id": charge.id,
                "invoice_status": display_status(Invoice.get_by_id(invoice.id)),
            },
        )
    return success(render(Invoice.get_by_id(invoice.id)), message="Invoice paid")


@api_route(
    "/invoices/<invoice_id>/void",
    "POST",
    summary="Void an open invoice (409 otherwise)",
    tag="Invoices",
    response=schemas.Invoice,
)
def void_open_invoice(invoice_id: str):
    invoice = void_invoice(owned(Invoice, invoice_id, "invoice"))
    return success(render(invoice), message="Invoice voided")
