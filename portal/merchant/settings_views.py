"""The customer portal settings page: every config field, saved per field with htmx or all at
once with the Save button, the live preview beside it and "send me a test link"."""

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from portal.access.signin import queue_preview_link
from portal.billing.coupons import describe, is_valid
from portal.db import write_transaction
from portal.errors import ValidationFailed
from portal.extensions import htmx, limiter
from portal.models import Coupon, CustomDomain, Product
from portal.portal_settings.branding import HEX_COLOR
from portal.portal_settings.config import get_config, settings_of

from . import bp
from .preview import preview_context, preview_customer
from .session import company, signed_in
from .settings_form import CHILDREN, CONTROLS, SECTIONS, is_enabled, read_form, read_value, save
from .shell import render_page, render_region, share_url

TEMPLATE = "merchant/settings.html"


def _stored() -> dict:
    return settings_of(get_config(company()))


def _choices(comp) -> dict:
    """Options of the three pickers: products, valid coupons, verified domains."""
    products = list(
        Product.select(Product.id, Product.name, Product.active)
        .where(Product.company == comp)
        .order_by(Product.active.desc(), Product.name, Product.id)
        .limit(100)
    )
    coupons = [
        (coupon.id, f"{coupon.name or 'Coupon'} — {describe(coupon, coupon.currency or 'USD')}")
        for coupon in Coupon.select()
        .where((Coupon.company == comp) & Coupon.deleted_at.is_null())
        .order_by(Coupon.created_at.desc(), Coupon.id)
        .limit(100)
        if is_valid(coupon)
    ]
    domains = [
        (domain.id, domain.hostname)
        for domain in CustomDomain.select()
        .where((CustomDomain.company == comp) & (CustomDomain.verified == True))  # noqa: E712
        .order_by(CustomDomain.hostname)
    ]
    return {"products": products, "coupons": coupons, "domains": domains}


def _controls(stored: dict, values=None, errors=None, saved_field=None) -> dict:
    """What the controls need: stored settings (they decide what is disabled), the values to
    show (the submitted ones after an error), errors and the pickers' options."""
    return {
        "settings": stored,
        "values": values or stored,
        "errors": errors or {},
        "saved_field": saved_field,
        "sections": SECTIONS,
        "children": CHILDREN,
        **_choices(company()),
    }


def _page_context(stored: dict, values=None, errors=None) -> dict:
    comp = company()
    return {
        **_controls(stored, values, errors),
        "share_url": share_url(comp),
        **preview_context(comp, stored),
    }


@bp.route("/merchant/settings")
@signed_in
def settings():
    return render_page(TEMPLATE, **_page_context(_stored()))


@bp.route("/merchant/settings", methods=["POST"])
@signed_in
def save_settings():
    """Without JavaScript: the whole form at once; nothing is saved if any field is refused."""
    stored = _stored()
    changes = read_form(request.form, stored)
    try:
        save(company(), changes, current_app.config["PORTAL_ENV"])
    except ValidationFailed as exc:
        errors = exc.fields or {"settings": exc.message}
        context = _page_context(stored, values={**stored, **changes}, errors=errors)
        return render_page(TEMPLATE, status=422, **context)
    flash("Settings saved.")
    return redirect(url_for("merchant.settings"), 303)


def _save_one(control, value, stored: dict) -> str | None:
    """Save one field; the reason it was refused, or None when it was saved."""
    if not is_enabled(control, stored):
        return f"Turn on “{CONTROLS[control.parent].label}” first."
    try:
        save(company(), {control.name: value}, current_app.config["PORTAL_ENV"])
    except ValidationFailed as exc:
        return exc.fields.get(control.name) or next(iter(exc.fields.values()), exc.message)
    return None


@bp.route("/merchant/settings/field/<name>", methods=["POST"])
@signed_in
def save_field(name):
    """htmx: validate and save one control as it changes; answer with that control (and the
    controls that depend on it, swapped out of band)."""
    control = CONTROLS.get(name)
    if control is None:
        abort(404)
    stored = _stored()
    value = read_value(control, request.form)
    error = _save_one(control, value, stored)
    if error is None:
        context = _controls(_stored(), saved_field=name)
    else:
        context = _controls(stored, values={**stored, name: value}, errors={name: error})
    html = render_template("merchant/_field_response.html", control=control, **context)
    response = make_response(html)
    if error is None:
        response.headers["HX-Trigger"] = "settings-saved"
    return response


@bp.route("/merchant/settings/preview")
@signed_in
def preview():
    if not htmx:
        return redirect(url_for("merchant.settings") + "#preview", 303)
    return render_region(TEMPLATE, "preview", **_page_context(_stored()))


@bp.route("/merchant/preview.css")
@signed_in
def preview_css():
    """The brand colour for the preview only, as a stylesheet (the CSP forbids inline styles)."""
    color = company().brand_color
    color = color if HEX_COLOR.fullmatch(color or "") else "#4338ca"
    css = f".preview-frame, .brand-swatch {{ --brand: {color}; }}\n"
    return current_app.response_class(css, mimetype="text/css")


def _user_limit_key() -> str:
    return f"merchant-user:{current_user.get_id() if current_user.is_authenticated else '-'}"


@bp.route("/merchant/settings/test-link", methods=["POST"])
@limiter.limit("10 per hour", key_func=_user_limit_key)
@signed_in
def send_test_link():
    """Email the signed-in user a sign-in link to the portal as the company's demo customer."""
    comp = company()
    with write_transaction():
        queue_preview_link(comp, preview_customer(comp), current_user.email)

    flash(f"We emailed {current_user.email} a sign-in link as the demo customer.")
    return redirect(url_for("merchant.settings") + "#preview", 303)
