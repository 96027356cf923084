"""What every signed-in page shares: the shell context, section switches, regions, nonces."""

from flask import abort, g, redirect, render_template, request, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block
from peewee import IntegrityError

from portal.customer import bp, shell_query
from portal.customer.session import SESSION_COOKIE
from portal.db import db
from portal.errors import FeatureDisabled, NotFound
from portal.extensions import htmx
from portal.i18n import N_
from portal.models import Company, FormNonce, utcnow
from portal.portal_settings.config import settings_at
from portal.security import random_token, sha256_hex
from portal.self_service import scope

SECTIONS = (
    ("customer.home", N_("Overview"), None),
    ("customer.subscriptions", N_("Subscriptions"), "subscriptions_enabled"),
    ("customer.payment_methods", N_("Payment methods"), "payment_methods_enabled"),
    ("customer.billing_information", N_("Billing information"), None),
    ("customer.invoices", N_("Invoices"), "invoice_history_enabled"),
)


# Path values that name a row; no row id is longer than 64 characters or holds NUL.
ID_VALUES = ("invoice_id", "method_id", "subscription_id", "company_id")


@bp.url_value_preprocessor
def _plausible_ids(_endpoint, values) -> None:
    """Not found before any lookup: PostgreSQL cannot even compare text holding NUL."""
    for name in ID_VALUES:
        value = (values or {}).get(name)
        if value is not None and (len(value) > 64 or "\x00" in value):
            abort(404)


def shell():
    """The session row read with the shell (portal/customer/shell_query.py). While handling
    a POST it is read again on every call: the action may have just changed the banner, the
    default method, the credit or the billing details (one statement, only when rendering)."""
    if request.method == "POST":
        fresh = shell_query.fetch(sha256_hex(SESSION_COOKIE.read()), utcnow())
        if fresh is not None:
            current_user.session = fresh
    return current_user.session


def customer_credits() -> dict[str, int]:
    """The customer's credit per currency, read with the shell."""
    return shell_query.credits(shell())


def company() -> Company:
    """The customer's company, with ``has_live_key`` for the shell's Test mode mark."""
    row = current_user.session
    row.company.has_live_key = bool(row.has_live_key)
    return row.company


def in_test_mode() -> bool:
    """The company works with test keys only: no live API key that is not revoked."""
    return not company().has_live_key


def settings() -> dict:
    if "portal_settings" not in g:
        g.portal_settings = settings_at(company(), current_user.session.config_version)
    return g.portal_settings


def require_section(flag: str) -> None:
    """A section the merchant switched off does not exist for the customer."""
    try:
        scope.require(settings(), flag, flag)
    except FeatureDisabled:
        abort(404)


def own_row(model, object_id: str, label: str):
    """A row of the signed-in customer; another customer's (or no) row is a 404."""
    try:
        return scope.own(model, current_user.company_id, current_user.customer_id, object_id, label)
    except NotFound:
        abort(404)


def shell_context() -> dict:
    nav = [
        (endpoint, label) for endpoint, label, flag in SECTIONS if flag is None or settings()[flag]
    ]
    row = shell()
    return {
        "company": company(),
        "portal": settings(),
        "nav": nav,
        "customer": row.customer,
        "overdue": shell_query.past_due(row),
        "test_mode": in_test_mode(),
        "logo_digest": row.logo,
    }


def render_portal(template: str, status: int = 200, **context):
    return render_template(template, **{**shell_context(), **context}), status


def render_region(template: str, block: str, **context):
    """Only the named block of a page: the region htmx swaps in place."""
    return render_block(template, block, **{**shell_context(), **context})


def page_or_region(template: str, block: str, endpoint: str, acted_on=None, **context):
    """After a successful action: the region for htmx, a redirect (PRG) for plain forms.
    ``acted_on``: the id of the element whose control was used, so the page shows the
    message there too (beside the live region) and a plain form lands back on it."""
    if htmx:
        return render_region(template, block, acted_on=acted_on, **context)
    if acted_on:
        return redirect(url_for(endpoint, done=acted_on, _anchor=acted_on), 303)
    return redirect(url_for(endpoint), 303)


def new_nonce() -> str:
    return random_token(16)


def claim_nonce(nonce: str | None, action: str) -> bool:
    """True the first time a form's nonce is used; call inside the action's transaction."""
    if not nonce or len(nonce) > 64:
        return True  # forms without a nonce (e.g. API-built) are still protected by state checks
    try:
        with db.atomic():
            FormNonce.create(company=current_user.company_id, nonce=nonce, action=action)
    except IntegrityError:
        return False
    return True
