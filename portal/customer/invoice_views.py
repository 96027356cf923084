"""Invoices: paginated list, detail with Pay now, PDF download — only the customer's own."""

from flask import abort, flash, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from portal.access.activity import record_event
from portal.billing.addresses import address_lines
from portal.billing.invoice_parties import parties
from portal.billing.invoices import collect_now, display_status
from portal.customer import bp
from portal.customer.session import signed_in
from portal.db import write_transaction
from portal.digits import page_number
from portal.documents.invoice_data import pdf_data
from portal.documents.invoice_pdf import render_invoice_pdf
from portal.errors import DomainError
from portal.extensions import htmx
from portal.i18n import N_, translate
from portal.models import Charge, Invoice, PaymentMethod

from . import overview
from .forms import PayForm
from .shell import (
    claim_nonce,
    company,
    new_nonce,
    own_row,
    render_portal,
    render_region,
    require_section,
    settings,
)

PER_PAGE = 20


def _own_invoice(invoice_id: str) -> Invoice:
    require_section("invoice_history_enabled")
    return own_row(Invoice, invoice_id, "invoice")


def _detail_row(invoice_id: str) -> Invoice:
    row = overview.invoice_detail(current_user.company_id, current_user.customer_id, invoice_id)
    if row is None:
        abort(404)
    return row


def _payable_invoice(invoice_id: str) -> Invoice:
    """The customer's invoice. With the invoice history off, only a past-due one exists
    for them: the banner sends them there to fix the payment."""
    row = _detail_row(invoice_id)
    if not settings()["invoice_history_enabled"] and display_status(row) != "PAST_DUE":
        abort(404)
    return row


@bp.route("/portal/invoices")
@signed_in
def invoices():
    require_section("invoice_history_enabled")
    page = page_number(request.args.get("page"))
    rows, total, page = overview.invoice_page(current_user.customer_id, page, PER_PAGE)
    pages = max(1, -(-total // PER_PAGE))
    context = {"invoices": rows, "page": page, "pages": pages, "total": total}
    if htmx:
        response = make_response(render_region("customer/invoices.html", "list_region", **context))
        response.headers["Vary"] = "HX-Request"
        return response
    response = make_response(render_portal("customer/invoices.html", **context))
    response.headers["Vary"] = "HX-Request"
    return response


def _pay_form(invoice: Invoice, methods: list[PaymentMethod], formdata=None) -> PayForm:
    form = PayForm(formdata=formdata)
    form.method_id.choices = [SelectChoice(m.id, _label(m)) for m in methods]
    if formdata is None and methods:
        form.method_id.data = methods[0].id
    return form


def _label(method: PaymentMethod) -> str:
    from .filters import BRANDS

    if method.type == "BANK_ACCOUNT":
        return f"{method.bank_name or 'Bank account'} ending in {method.last_four}"
    return f"{BRANDS.get(method.brand or '', 'Card')} ending in {method.last_four}"


def _detail_context(invoice: Invoice, form=None, error=None) -> dict:
    """``invoice`` as read by ``overview.invoice_detail``. The methods to pay with are read
    only while there is something to pay."""
    methods = overview.methods(current_user.customer_id) if invoice.status == "OPEN" else []
    seller, buyer = parties(invoice, company(), current_user.customer)
    return {
        "invoice": invoice,
        "seller": seller,
        "buyer": buyer,
        "buyer_address": address_lines(buyer["address"]),
        "lines": overview.invoice_lines(invoice.id),
        "coupon_names": invoice.coupon_names,
        "paid_with": invoice.paid_with,
        "form": form or _pay_form(invoice, methods),
        "methods": methods,
        "nonce": new_nonce,
        "error": error,
    }


@bp.route("/portal/invoices/<invoice_id>")
@signed_in
def invoice(invoice_id):
    return render_portal("customer/invoice.html", **_detail_context(_payable_invoice(invoice_id)))


@bp.route("/portal/invoices/<invoice_id>/pay", methods=["POST"])
@signed_in
def pay_invoice(invoice_id):
    invoice = _payable_invoice(invoice_id)
    form = _pay_form(invoice, overview.methods(current_user.customer_id), request.form)
    error = _pay(invoice, form) if form.validate_on_submit() else N_("Choose a payment method.")
    invoice = _detail_row(invoice.id)  # paid now, perhaps: shown once more all the same
    if htmx:
        return render_region(
            "customer/invoice.html", "pay_region", **_detail_context(invoice, error=error)
        )
    if error:
        return render_portal(
            "customer/invoice.html", status=402, **_detail_context(invoice, error=error)
        )
    if not settings()["invoice_history_enabled"]:
        return redirect(url_for("customer.home"), 303)  # a paid invoice is not listed then
    return redirect(url_for("customer.invoice", invoice_id=invoice.id), 303)


def _pay(invoice: Invoice, form: PayForm) -> str | None:
    """Charge the chosen method once per form; the error to show, or None."""
    try:
        with write_transaction():
            charge = None
            if claim_nonce(form.form_nonce.data, "pay_invoice"):
                charge = collect_now(invoice, form.method_id.data)
                record_event(
                    current_user.company_id,
                    current_user.customer_id,
                    "invoice.payment_attempted",
                    {"invoice_id": invoice.id, "succeeded": charge.status == "succeeded"},
                )
        return _outcome(charge)
    except DomainError as exc:
        return exc.plain


def _outcome(charge: Charge | None) -> str | None:
    if charge is None or charge.status == "succeeded":
        if charge is not None:
            flash(N_("Payment received. Thank you!"), "done")
        return None
    reason = translate(charge.failure_message or N_("The payment failed."))
    return _("%(reason)s Try another payment method.", reason=reason)


@bp.route("/portal/invoices/<invoice_id>/pdf")
@signed_in
def invoice_pdf(invoice_id):
    invoice = _own_invoice(invoice_id)
    data = pdf_data(invoice)
    response = make_response(render_invoice_pdf(data))
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{data["filename"]}"'
    response.headers["Cache-Control"] = "no-store"
    return response
