"""What every signed-in page shares: the shell context, section switches, regions, nonces."""

from flask import abort, g, redirect, render_template, url_for
from flask_login import current_user
from jinja2_fragments.flask import render_block
from peewee import IntegrityError, fn

from portal.customer import bp, overview
from portal.db import db
from portal.errors import FeatureDisabled, NotFound
from portal.extensions import htmx
from portal.models import ApiKey, Company, FormNonce
from portal.portal_settings.config import get_config, settings_of
from portal.security import random_token
from portal.self_service import scope

SECTIONS = (
    ("customer.home", "Overview", None),
    ("customer.subscriptions", "Subscriptions", "subscriptions_enabled"),
    ("customer.payment_methods", "Payment methods", "payment_methods_enabled"),
    ("customer.billing_information", "Billing information", None),
    ("customer.invoices", "Invoices", "invoice_history_enabled"),
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


def company() -> Company:
    """The customer's company, loaded once per request; ``has_live_key`` rides along in the
    same query (no extra statement per page) for the shell's Test mode mark."""
    if "portal_company" not in g:
        live = ApiKey.select(ApiKey.id).where(
            (ApiKey.company == Company.id)
            & (ApiKey.livemode == True)  # noqa: E712
            & ApiKey.revoked_at.is_null()
        )
        g.portal_company = (
            Company.select(Company, fn.EXISTS(live).alias("has_live_key"))
            .where(Company.id == current_user.company_id)
            .get()
        )
    return g.portal_company


def in_test_mode() -> bool:
    """The company works with test keys only: no live API key that is not revoked."""
    return not company().has_live_key


def settings() -> dict:
    if "portal_settings" not in g:
        g.portal_settings = settings_of(get_config(company()))
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
    return {
        "company": company(),
        "portal": settings(),
        "nav": nav,
        "customer": current_user.customer,
        "overdue": overview.past_due(current_user.customer_id),
        "test_mode": in_test_mode(),
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
