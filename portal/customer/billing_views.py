"""Billing information: edit with per-field saves (htmx) or one form; email changes confirm."""

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from portal.access.activity import record_event
from portal.billing import billing_info
from portal.customer import bp
from portal.customer.session import signed_in
from portal.db import write_transaction
from portal.digits import whole_number
from portal.errors import Conflict, RateLimited, ValidationFailed
from portal.extensions import htmx
from portal.i18n import N_
from portal.models import Company, Customer
from portal.portal_settings.tenancy import origin_for
from portal.ratelimits import allow_email_change

from .forms import BillingForm, ButtonForm, EmailForm
from .shell import claim_nonce, new_nonce, render_portal, render_region, shell

TEMPLATE = "customer/billing_information.html"


def _billing_form(customer: Customer, formdata=None) -> BillingForm:
    form = BillingForm(formdata=formdata, obj=None if formdata else customer, prefix="bi")
    if formdata is None:
        form.version.data = customer.version
        form.country.data = customer.country or ""
    return form


def _context(form=None, email_form=None, conflict=None) -> dict:
    customer = shell().customer
    return {
        "form": form or _billing_form(customer),
        "email_form": email_form
        or EmailForm(formdata=None, prefix="em", data={"email": customer.email}),
        "nonce": new_nonce,
        "conflict": conflict,
        "customer": customer,
    }


@bp.route("/portal/billing-information")
@signed_in
def billing_information():
    return render_portal(TEMPLATE, **_context())


def _posted_version(form: BillingForm) -> int | None:
    raw = str(form.version.data or "")
    return whole_number(raw, 2**31 - 1)


def _changes(form: BillingForm) -> dict:
    return {name: form[name].data or "" for name in BillingForm.FIELDS}


def _record_update(fields: list[str]) -> None:
    record_event(
        current_user.company_id,
        current_user.customer_id,
        "billing_information.updated",
        {"fields": fields},
    )


@bp.route("/portal/billing-information", methods=["POST"])
@signed_in
def save_billing_information():
    form = _billing_form(current_user.customer, request.form)
    if form.validate_on_submit():
        try:
            version = _posted_version(form)
            with write_transaction():
                if claim_nonce(form.form_nonce.data, "billing_information"):
                    billing_info.update(
                        current_user.customer, _changes(form), expected_version=version
                    )
                    _record_update(sorted(_changes(form)))
            flash(N_("Billing information saved."), "done")
            return redirect(url_for("customer.billing_information"), 303)
        except ValidationFailed as exc:
            for name, message in exc.fields.items():
                form[name].errors.append(message)
        except Conflict as exc:
            fresh = _billing_form(Customer.get_by_id(current_user.customer_id))
            return render_portal(TEMPLATE, status=409, **_context(form=fresh, conflict=exc.plain))
    return render_portal(TEMPLATE, status=422, **_context(form=form))


@bp.route("/portal/billing-information/field/<name>", methods=["POST"])
@signed_in
def save_field(name):
    """htmx: validate and save one field as soon as it changes; answer with that field."""
    if name not in BillingForm.FIELDS:
        abort(404)
    form = _billing_form(current_user.customer, request.form)
    field = form[name]
    saved, page_version = False, None
    # CSRFProtect has already checked the token (htmx sends it as a header).
    if field.validate(form):
        try:
            with write_transaction():
                updated = billing_info.update(current_user.customer, {name: field.data or ""})
                _record_update([name])
            saved = True
            field.data = getattr(updated, name) or ""  # as stored: a tax ID is compacted
            page_version = _next_page_version(form, updated.version)
        except ValidationFailed as exc:
            field.errors = [exc.fields.get(name, exc.message)]
    return render_template(
        "customer/_billing_field.html",
        field=field,
        saved=saved,
        nonce=new_nonce,
        page_version=page_version,
    )


def _next_page_version(form: BillingForm, new_version: int) -> int | None:
    """The version the page's hidden input should move to after its own inline save (sent
    out of band), so pressing Save later is not a false conflict. Only when nobody else
    wrote since the page loaded: otherwise the full save must still answer 409."""
    posted = _posted_version(form)
    return new_version if posted is not None and posted + 1 == new_version else None


@bp.route("/portal/billing-information/email", methods=["POST"])
@signed_in
def change_email():
    email_form = EmailForm(prefix="em")
    status = 422
    if email_form.validate_on_submit():
        try:
            with write_transaction():
                if claim_nonce(email_form.form_nonce.data, "email_change"):
                    _send_email_confirmation(email_form.email.data)
            flash(
                _(
                    "We sent a confirmation link to %(email)s. "
                    "Your billing email changes once you open it.",
                    email=email_form.email.data,
                )
            )
            if htmx:
                return render_region(TEMPLATE, "email_region", **_context())
            return redirect(url_for("customer.billing_information"), 303)
        except (ValidationFailed, RateLimited) as exc:
            email_form.email.errors.append(exc.fields.get("email", exc.message))
            status = exc.status
    if htmx:
        return render_region(TEMPLATE, "email_region", **_context(email_form=email_form))
    return render_portal(TEMPLATE, status=status, **_context(email_form=email_form))


def _send_email_confirmation(new_email: str) -> None:
    customer = current_user.customer
    company = Company.get_by_id(current_user.company_id)
    token, row = billing_info.start_email_change(customer, new_email)
    if not allow_email_change(customer.id):
        # Raised inside the transaction: the change request and the nonce roll back.
        raise RateLimited(
            N_("You asked for several confirmation e-mails in a short time. Try again later.")
        )
    origin = origin_for(company.id, current_app.config["PORTAL_BASE_URL"])
    billing_info.queue_email_change_confirmation(company, row, token, origin)
    record_event(company.id, customer.id, "billing_information.email_change_requested")


@bp.route("/portal/confirm-email/<token>", methods=["GET", "POST"])
def confirm_email(token):
    """The new address proves itself; GET only shows the button (mail scanners open links)."""
    row = billing_info.pending_email_change(token)
    if row is None:
        return render_template("customer/link_invalid.html"), 404
    company = Company.get_by_id(row.company_id)
    form = ButtonForm()
    if request.method == "POST" and form.validate_on_submit():
        with write_transaction():
            customer = billing_info.confirm_email_change(row)
            if customer is not None:
                record_event(company.id, customer.id, "billing_information.email_changed")
        if customer is None:
            return render_template("customer/link_invalid.html"), 404
        return render_template(
            "customer/email_confirmed.html", company=company, email=row.new_email
        )
    return render_template(
        "customer/confirm_email.html", company=company, email=row.new_email, form=form
    )
