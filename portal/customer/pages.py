"""Signed-in portal pages (the shell every section shares)."""

from flask import abort, render_template
from flask_login import current_user

from portal.customer import bp
from portal.customer.session import signed_in
from portal.models import Company, Invoice
from portal.portal_config import get_config, settings_of

SECTIONS = (
    ("customer.home", "Overview", None),
    ("customer.payment_methods", "Payment methods", "payment_methods_enabled"),
    ("customer.billing_information", "Billing information", None),
    ("customer.invoices", "Invoices", "invoice_history_enabled"),
)


def render_portal(template: str, **context):
    """Render a portal page with the shell's data: company, config, enabled sections."""
    company = Company.get_by_id(current_user.company_id)
    settings = settings_of(get_config(company))
    nav = [
        (endpoint, label) for endpoint, label, flag in SECTIONS if flag is None or settings[flag]
    ]
    return render_template(
        template,
        company=company,
        portal=settings,
        nav=nav,
        customer=current_user.customer,
        **context,
    )


def require_section(flag: str) -> None:
    company = Company.get_by_id(current_user.company_id)
    if not settings_of(get_config(company))[flag]:
        abort(404)


@bp.route("/portal")
@signed_in
def home():
    return render_portal("customer/home.html")


@bp.route("/portal/payment-methods")
@signed_in
def payment_methods():
    require_section("payment_methods_enabled")
    return render_portal("customer/section.html", heading="Payment methods")


@bp.route("/portal/billing-information")
@signed_in
def billing_information():
    return render_portal("customer/section.html", heading="Billing information")


@bp.route("/portal/invoices")
@signed_in
def invoices():
    require_section("invoice_history_enabled")
    return render_portal("customer/section.html", heading="Invoices")


@bp.route("/portal/invoices/<invoice_id>")
@signed_in
def invoice(invoice_id):
    require_section("invoice_history_enabled")
    row = Invoice.get_or_none(
        (Invoice.id == invoice_id)
        & (Invoice.company == current_user.company_id)
        & (Invoice.customer == current_user.customer_id)
    )
    if row is None:
        abort(404)
    return render_portal("customer/section.html", heading=f"Invoice {row.number}")
