"""Custom domains: add a hostname, show its TXT record, verify, use it for the portal, remove."""

from flask import abort, current_app, flash, redirect, url_for

from portal.db import write_transaction
from portal.errors import DomainError
from portal.portal_settings import domains
from portal.portal_settings.config import get_config, settings_of
from portal.portal_settings.tenancy import base_host

from . import bp
from .forms import DomainForm
from .session import company, signed_in
from .settings_form import save
from .shell import render_page, txt_resolver

TEMPLATE = "merchant/domains.html"


def _page(form=None, status=200, problem=None):
    comp = company()
    return render_page(
        TEMPLATE,
        status=status,
        form=form or DomainForm(formdata=None),
        domains=domains.domains_of(comp),
        portal_domain_id=settings_of(get_config(comp))["custom_domain_id"],
        record_name=domains.record_name,
        record_value=domains.record_value,
        problem=problem,
    )


def _owned(domain_id: str):
    domain = domains.owned_domain(company(), domain_id)
    if domain is None:
        abort(404)
    return domain


def _back():
    return redirect(url_for("merchant.domains_page"), 303)


@bp.route("/merchant/domains")
@signed_in
def domains_page():
    return _page()


@bp.route("/merchant/domains", methods=["POST"])
@signed_in
def add_domain():
    form = DomainForm()
    if not form.validate_on_submit():
        return _page(form=form, status=422)
    config = current_app.config
    try:
        domain = domains.add_domain(
            company(),
            form.hostname.data,
            base_host(config["PORTAL_BASE_URL"]),
            allow_reserved=config["PORTAL_ENV"] != "production",
        )
    except DomainError as exc:
        form.hostname.errors = [exc.fields.get("hostname", exc.message)]
        return _page(form=form, status=exc.status)
    flash(f"{domain.hostname} added. Create the TXT record below, then press Verify.")
    return _back()


@bp.route("/merchant/domains/<domain_id>/verify", methods=["POST"])
@signed_in
def verify_domain(domain_id):
    domain = _owned(domain_id)
    try:
        with write_transaction():
            found = domains.verify_domain(domain, txt_resolver())
    except domains.DnsUnavailable:
        return _page(status=503, problem="DNS lookup is unavailable right now; try again later.")
    if not found:
        message = (
            f"No TXT record {domains.record_name(domain)} with the expected value yet. "
            "DNS changes can take a while to appear; try again in a few minutes."
        )
        return _page(status=422, problem=message)
    flash(f"{domain.hostname} is verified. You can now use it for the portal.")
    return _back()


@bp.route("/merchant/domains/<domain_id>/use", methods=["POST"])
@signed_in
def use_domain(domain_id):
    """Make a verified domain (or, for "none", the portal's own address) the portal domain."""
    domain = None if domain_id == "none" else _owned(domain_id)
    try:
        save(
            company(),
            {"custom_domain_id": domain.id if domain else None},
            current_app.config["PORTAL_ENV"],
        )
    except DomainError as exc:
        return _page(status=exc.status, problem=next(iter(exc.fields.values()), exc.message))
    flash(
        f"The portal now lives at {domain.hostname}."
        if domain
        else "The portal now uses its own address."
    )
    return _back()


@bp.route("/merchant/domains/<domain_id>/remove", methods=["POST"])
@signed_in
def remove_domain(domain_id):
    domain = _owned(domain_id)
    try:
        domains.remove_domain(company(), domain)
    except DomainError as exc:
        return _page(status=exc.status, problem=exc.message)
    flash(f"{domain.hostname} removed.")
    return _back()
