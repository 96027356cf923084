"""Hosted sign-in: the shareable sign-in page, the link confirm page, handoff, sign-out."""

from flask import abort, current_app, g, redirect, render_template, request
from wtforms import HiddenField

from portal import i18n
from portal.access import links as access
from portal.access import sessions
from portal.access.activity import record_event
from portal.access.signin import consume, exchange, lifetimes, request_link
from portal.customer import bp
from portal.customer.forms import ButtonForm, SignInForm
from portal.customer.language import LANGUAGE_COOKIE
from portal.customer.session import (
    COMPANY_COOKIE,
    clear_session_cookie,
    cookie_name,
    current_session,
    set_session_cookie,
    sign_in_url_for,
)
from portal.db import write_transaction
from portal.extensions import limiter
from portal.models import Company, Customer
from portal.portal_settings.config import get_config, settings_of
from portal.portal_settings.tenancy import expected_host
from portal.ratelimits import consume_limit, link_email_limit, link_ip_limit


def _company_or_404(company_id: str) -> Company:
    host_company = g.get("host_company")
    if host_company is not None:
        if company_id != host_company.id:
            abort(404)
        return host_company
    company = Company.get_or_none(Company.id == company_id) if len(company_id) <= 64 else None
    if company is None:
        abort(404)
    return company


class InvoiceSignInForm(SignInForm):
    """The sign-in form; from a shared invoice link it also carries that invoice's id."""

    invoice = HiddenField()


def portal_settings(company: Company) -> dict:
    """The company's portal settings, read once per request however many parts of a
    signed-out page (the e-mail, the header, the return link) need them."""
    cache = g.setdefault("signed_out_settings", {})
    if company.id not in cache:
        cache[company.id] = settings_of(get_config(company))
    return cache[company.id]


@bp.app_template_global()
def public_portal_header(company) -> str | None:
    """The merchant's header text for a signed-out page of ``company`` (one config read per
    request, shared with the page's other settings)."""
    return portal_settings(company)["portal_header"] if company else None


def _email_link(company: Company, email: str, destination: str, context: str | None) -> None:
    settings = portal_settings(company)
    request_link(company, email, destination, context, settings, i18n.current_language())


def _sign_in_page(company: Company):
    form = InvoiceSignInForm()
    # Only an id's shape, never a path: the link lands on /portal/invoices/<id> through
    # access.destination_path, and request_link drops an id that is not the customer's.
    source = form.invoice.data if request.method == "POST" else request.args.get("invoice")
    invoice_id = access.plausible_id(source)
    form.invoice.data = invoice_id or ""
    if form.validate_on_submit():
        destination = (
            form.destination.data if form.destination.data in access.DESTINATIONS else "home"
        )
        _email_link(company, form.email.data, destination, invoice_id)
        return render_template(
            "customer/check_inbox.html", company=company, invoice_id=invoice_id
        ), 200
    status = 422 if request.method == "POST" else 200
    return_url = portal_settings(company)["return_url"]
    return render_template(
        "customer/sign_in.html",
        company=company,
        form=form,
        return_url=return_url,
        invoice_id=invoice_id,
    ), status


@bp.route("/p/<company_id>", methods=["GET", "POST"])
@link_ip_limit
@link_email_limit
def sign_in(company_id):
    return _sign_in_page(_company_or_404(company_id))


@bp.route("/", methods=["GET", "POST"])
@link_ip_limit
@link_email_limit
def custom_domain_root():
    company = g.get("host_company")
    if company is None:
        if request.method == "POST":
            abort(405)
        return render_template("customer/landing.html")
    return _sign_in_page(company)


def _read_link_for_this_host(token: str):
    """The link's row; a link of another host is invalid here, spent or not (no page of
    company A, nor a fresh link for it, is served on company B's domain)."""
    try:
        row = access.read_link(current_app.config["SECRET_KEY"], token, lifetimes())
    except access.LinkSpent as spent:
        _check_host(spent.row)
        raise
    _check_host(row)
    return row


def _check_host(row) -> None:
    if request.host.lower() != expected_host(row.company_id, current_app.config["PORTAL_BASE_URL"]):
        raise access.LinkInvalid()


def _link_or_page(token: str, *, spent_ok: bool = False):
    """(the link's row, None) when this host may use it, else (None, the page to show):
    410 with a fresh-link button for a spent link (or its row, with ``spent_ok``), 404."""
    try:
        return _read_link_for_this_host(token), None
    except access.LinkSpent as spent:
        return (spent.row, None) if spent_ok else (None, _spent_page(spent.row))
    except access.LinkInvalid:
        return None, (render_template("customer/link_invalid.html"), 404)


def _spent_page(row):
    company = Company.get_by_id(row.company_id)
    return render_template("customer/link_spent.html", company=company, form=ButtonForm()), 410


@bp.route("/portal/access/<token>", methods=["GET"])
@limiter.exempt
def confirm_link(token):
    """Validate only: mail scanners fetch links, so GET and HEAD never use the token up."""
    row, page = _link_or_page(token)
    if page:
        return page
    customer = Customer.get_by_id(row.customer_id)
    return render_template(
        "customer/confirm.html",
        company=Company.get_by_id(row.company_id),
        masked_email=access.mask_email(customer.email),
        form=ButtonForm(),
    )


@bp.route("/portal/access/<token>", methods=["POST"])
@consume_limit
def consume_link(token):
    if not ButtonForm().validate_on_submit():
        abort(400)
    row, page = _link_or_page(token)
    if page:
        return page
    # Chosen in the footer before signing in (the cookie is the host's, shared by every
    # merchant on it): kept only if this merchant offers it.
    picked = request.cookies.get(LANGUAGE_COOKIE)
    offered = i18n.offered(portal_settings(Company.get_by_id(row.company_id)))
    kept = picked if picked in offered else None
    started = consume(row, request.host.lower(), request.user_agent.string, kept)
    if started is None:
        return _spent_page(row)
    _session, raw = started
    _end_previous_session()
    response = redirect(access.destination_path(row.destination, row.destination_context), 303)
    set_session_cookie(response, raw, row.company_id)
    return response


def _end_previous_session() -> None:
    """A fresh id at every sign-in: the session this browser held before stops working."""
    previous = request.cookies.get(cookie_name(), "")
    if previous:
        with write_transaction():
            sessions.end_session(previous)


@bp.route("/portal/access/<token>/renew", methods=["POST"])
@link_ip_limit
@link_email_limit
def renew_link(token):
    """One click from an expired or used link to a fresh one in the inbox."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    row, page = _link_or_page(token, spent_ok=True)
    if page:
        return page
    company = Company.get_by_id(row.company_id)
    customer = Customer.get_by_id(row.customer_id)
    if customer.email:
        _email_link(company, customer.email, row.destination, row.destination_context)
    return render_template("customer/check_inbox.html", company=company)


@bp.route("/portal/handoff/<code>", methods=["GET"])
@consume_limit
def handoff(code):
    """A one-time URL the merchant's server minted: straight into the portal."""
    if request.method == "HEAD":
        abort(405)
    result = exchange(code, request.host.lower(), request.user_agent.string)
    if result is None:
        return render_template("customer/link_invalid.html"), 404
    row, _session, raw = result
    if request.host.lower() != expected_host(row.company_id, current_app.config["PORTAL_BASE_URL"]):
        with write_transaction():
            sessions.end_session(raw)
        return render_template("customer/link_invalid.html"), 404
    _end_previous_session()
    response = redirect(access.destination_path(row.destination, row.destination_context), 303)
    set_session_cookie(response, raw, row.company_id)
    return response


@bp.route("/portal/sign-out", methods=["POST"])
def sign_out():
    session = current_session()
    company_id = session.company_id if session else request.cookies.get(COMPANY_COOKIE)
    if session is not None:
        with write_transaction():
            sessions.end_session(request.cookies.get(cookie_name(), ""))
            record_event(session.company_id, session.customer_id, "auth.sign_out")
    response = redirect(sign_in_url_for(company_id) + "?signed_out=1", 303)
    clear_session_cookie(response)
    return response


@bp.route("/portal/session-ended")
def session_ended():
    return render_template("customer/session_ended.html", company=_remembered_company())


def _remembered_company() -> Company | None:
    """The custom domain's company, else the one this browser last signed in to."""
    host_company = g.get("host_company")
    if host_company is not None:
        return host_company
    company_id = access.plausible_id(request.cookies.get(COMPANY_COOKIE))
    return Company.get_or_none(Company.id == company_id) if company_id else None


@bp.route("/brand/<company_id>.css")
@limiter.exempt
def brand_css(company_id):
    """The brand colour as a stylesheet, so pages need no inline styles under the CSP."""
    company = _company_or_404(company_id)
    color = company.brand_color if _is_hex_color(company.brand_color) else "#4338ca"
    response = current_app.response_class(f":root{{--brand:{color}}}\n", mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _is_hex_color(value: str) -> bool:
    return (
        len(value) == 7
        and value[0] == "#"
        and all(c in "0123456789abcdefABCDEF" for c in value[1:])
    )
