"""Branding: display name, brand colour, header text and logo; and the logo file itself,
served by the app (also on custom domains, where the portal shows it)."""

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_login import current_user

from portal.db import write_transaction
from portal.errors import ValidationFailed
from portal.extensions import limiter
from portal.portal_settings import branding
from portal.portal_settings.config import get_config, settings_of

from . import bp
from .forms import BrandingForm, LogoForm
from .preview import preview_context
from .session import company, signed_in
from .settings_form import save
from .shell import render_page

TEMPLATE = "merchant/branding.html"
# The upload's request may carry the 512 KB file plus the multipart envelope around it.
UPLOAD_LIMIT = branding.MAX_LOGO_BYTES + 64 * 1024
TOO_LARGE = "The logo is larger than 512 KB."


@bp.url_value_preprocessor
def _upload_limit(endpoint, _values):
    # Runs before every before_request hook, so CSRF's form parsing already sees this limit.
    if endpoint == "merchant.upload_logo":
        request.max_content_length = UPLOAD_LIMIT


def _page(form=None, logo_form=None, status=200):
    comp = company()
    stored = settings_of(get_config(comp))
    if form is None:
        form = BrandingForm(
            formdata=None,
            data={
                "name": comp.name,
                "brand_color": comp.brand_color,
                "portal_header": stored["portal_header"] or "",
            },
        )
    return render_page(
        TEMPLATE,
        status=status,
        form=form,
        logo_form=logo_form or LogoForm(formdata=None),
        **preview_context(comp, stored),
    )


@bp.route("/merchant/branding")
@signed_in
def branding_page():
    return _page()


@bp.route("/merchant/branding", methods=["POST"])
@signed_in
def save_branding():
    form = BrandingForm()
    if not form.validate_on_submit():
        return _page(form=form, status=422)
    comp = company()
    errors = branding.brand_problems(form.name.data, form.brand_color.data)
    try:
        with write_transaction():
            header = {"portal_header": (form.portal_header.data or "").strip() or None}
            save(comp, header, current_app.config["PORTAL_ENV"])
            branding.update_brand(comp, form.name.data, form.brand_color.data)
    except ValidationFailed as exc:
        for name, message in {**exc.fields, **errors}.items():
            form[name].errors = [*form[name].errors, message]
        return _page(form=form, status=422)
    flash("Branding saved.")
    return redirect(url_for("merchant.branding_page"), 303)


@bp.route("/merchant/branding/logo", methods=["POST"])
@signed_in
def upload_logo():
    logo_form = LogoForm()
    upload = request.files.get("logo")
    raw = upload.read(branding.MAX_LOGO_BYTES + 1) if upload else b""
    try:
        branding.save_logo(company(), branding.clean_logo(raw))
    except ValidationFailed as exc:
        logo_form.logo.errors = [exc.fields.get("logo", exc.message)]
        return _page(logo_form=logo_form, status=422)
    flash("Logo uploaded.")
    return redirect(url_for("merchant.branding_page"), 303)


@bp.route("/merchant/branding/logo/remove", methods=["POST"])
@signed_in
def remove_logo():
    with write_transaction():
        removed = branding.remove_logo(company())
    flash("Logo removed." if removed else "There was no logo to remove.")
    return redirect(url_for("merchant.branding_page"), 303)


@bp.errorhandler(413)
def _too_large(error):
    if request.endpoint != "merchant.upload_logo" or not current_user.is_authenticated:
        return error
    logo_form = LogoForm(formdata=None)
    logo_form.logo.errors = [TOO_LARGE]
    return _page(logo_form=logo_form, status=413)


@bp.route("/brand/<company_id>/logo")
@limiter.exempt
def logo(company_id):
    """The stored logo; on a custom domain only that domain's company's logo exists."""
    host_company = g.get("host_company")
    if host_company is not None and host_company.id != company_id:
        abort(404)
    row = branding.logo_of(company_id) if len(company_id) <= 64 else None
    if row is None:
        abort(404)
    response = current_app.response_class(bytes(row.data), mimetype=row.content_type)
    # Even opened directly, an SVG logo can run nothing and load nothing.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )
    response.headers["Content-Disposition"] = "inline"
    fresh = request.args.get("v") == row.digest[:12]
    response.headers["Cache-Control"] = "public, max-age=86400" if fresh else "no-cache"
    return response
