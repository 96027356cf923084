"""Portal-session JSON: the signed-in customer's invoices and paying them."""

from flask import g
from pydantic import Field

from portal.billing.invoices import collect_now
from portal.errors import ValidationFailed
from portal.models import Invoice
from portal.self_service.scope import shown_invoices

from . import schemas
from .core import ListQuery, api_route
from .envelope import error, success
from .fields import Id
from .invoices import invoice_page, render
from .portal_scope import event, own, require
from .validation import Body


class PayBody(Body):
    payment_method_id: Id | None = Field(None, description="Default: the usual method.")


def _invoice(invoice_id: str) -> Invoice:
    require("invoice_history_enabled", "Invoices")
    return own(Invoice, invoice_id, "invoice")


def _collect(invoice: Invoice, method_id: str | None):
    """collect_now names the merchant API's field; here the field is payment_method_id."""
    try:
        return collect_now(invoice, method_id)
    except ValidationFailed as exc:
        if "instrument_id" not in exc.fields:
            raise
        raise ValidationFailed.field("payment_method_id", exc.fields["instrument_id"]) from None


@api_route(
    "/customer-portal/invoices",
    "GET",
    auth="session",
    tag="Customer portal",
    summary="The signed-in customer's invoices, newest first",
    query=ListQuery,
    response=schemas.Invoice,
    paginated=True,
)
def portal_list_invoices(query: ListQuery):
    require("invoice_history_enabled", "Invoices")
    return invoice_page(
        Invoice.select().where(
            (Invoice.customer == g.portal_session.customer_id) & shown_invoices()
        ),
        query,
    )


@api_route(
    "/customer-portal/invoices/<invoice_id>",
    "GET",
    auth="session",
    tag="Customer portal",
    summary="One invoice of the signed-in customer",
    response=schemas.Invoice,
)
def portal_get_invoice(invoice_id: str):
    return success(render(_invoice(invoice_id)))


@api_route(
    "/customer-portal/invoices/<invoice_id>/pay",
    "POST",
    auth="session",
    tag="Customer portal",
    summary="Pay an open invoice now",
    body=PayBody,
    response=schemas.Invoice,
)
def portal_pay_invoice(invoice_id: str, body: PayBody):
    invoice = _invoice(invoice_id)
    charge = _collect(invoice, body.payment_method_id)
    succeeded = charge.status == "succeeded"
    event("invoice.payment_attempted", {"invoice_id": invoice.id, "succeeded": succeeded})
    fresh = render(Invoice.get_by_id(invoice.id))
    if not succeeded:
        # Returned, not raised: the failed attempt must stay recorded.
        return error(
            402,
            "PAYMENT_DECLINED",
            charge.failure_message or "The payment was declined.",
            {"invoice_id": invoice.id, "invoice_status": fresh["status"]},
        )
    return success(fresh, message="Invoice paid")
