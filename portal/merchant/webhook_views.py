"""Webhooks: the company's endpoints (add, edit, disable or enable, delete, roll the signing
secret, send a test event) and its recent deliveries (resend one). Plain form posts, no
JavaScript needed. A signing secret is shown once, in the response that created or rolled
it; it is never stored in the clear, not even in the session."""

from flask import abort, flash, redirect, request, url_for

from portal.db import write_transaction
from portal.errors import DomainError
from portal.webhooks import endpoints as hooks

from . import bp
from .session import company, signed_in
from .shell import render_page
from .webhook_form import (
    EVENT_CHOICES,
    endpoints_of,
    owned_delivery,
    owned_endpoint,
    read_form,
    recent_deliveries,
    validated,
    values_of,
)

TEMPLATE = "merchant/webhooks.html"


def _page(revealed=None, failed=None, status=200):
    """``failed``: (the form's target, the posted values, the messages by field)."""
    comp = company()
    return render_page(
        TEMPLATE,
        status=status,
        endpoints=endpoints_of(comp),
        deliveries=recent_deliveries(comp),
        choices=EVENT_CHOICES,
        values_of=values_of,
        revealed=revealed,
        failed=failed,
    )


def _refused(target: str, exc: DomainError):
    errors = exc.fields or {"form": exc.message}
    return _page(failed=(target, read_form(request.form), errors), status=exc.status)


def _refused_action(exc: DomainError):
    """A test or resend refused (too many waiting): the page with the reason."""
    return _page(failed=("action", {}, {"form": exc.message}), status=exc.status)


def _endpoint(endpoint_id: str):
    endpoint = owned_endpoint(company(), endpoint_id)
    if endpoint is None:
        abort(404)
    return endpoint


def _back():
    return redirect(url_for("merchant.webhooks"), 303)


@bp.route("/merchant/webhooks")
@signed_in
def webhooks():
    return _page()


@bp.route("/merchant/webhooks", methods=["POST"])
@signed_in
def add_webhook():
    try:
        with write_transaction():
            endpoint, secret = hooks.create_endpoint(company(), **validated(request.form))
    except DomainError as exc:
        return _refused("new", exc)
    # Rendered, not redirected: the secret must never be stored, not even in the session.
    return _page(revealed=(endpoint, secret, False))


@bp.route("/merchant/webhooks/<endpoint_id>", methods=["POST"])
@signed_in
def edit_webhook(endpoint_id):
    try:
        with write_transaction():
            endpoint = hooks.update_endpoint(_endpoint(endpoint_id), validated(request.form))
    except DomainError as exc:
        return _refused(endpoint_id, exc)
    flash(f"The endpoint {endpoint.url} is saved.")
    return _back()


@bp.route("/merchant/webhooks/<endpoint_id>/status", methods=["POST"])
@signed_in
def webhook_status(endpoint_id):
    status = "disabled" if request.form.get("status") == "disabled" else "enabled"
    with write_transaction():
        endpoint = hooks.update_endpoint(_endpoint(endpoint_id), {"status": status})
    if status == "disabled":
        flash(f"The endpoint {endpoint.url} is disabled: its events wait until it is enabled.")
    else:
        flash(f"The endpoint {endpoint.url} is enabled again.")
    return _back()


@bp.route("/merchant/webhooks/<endpoint_id>/delete", methods=["POST"])
@signed_in
def delete_webhook(endpoint_id):
    with write_transaction():
        endpoint = _endpoint(endpoint_id)
        hooks.delete_endpoint(endpoint)
    flash(f"The endpoint {endpoint.url} and its deliveries are deleted.")
    return _back()


@bp.route("/merchant/webhooks/<endpoint_id>/roll", methods=["POST"])
@signed_in
def roll_webhook_secret(endpoint_id):
    with write_transaction():
        endpoint = _endpoint(endpoint_id)
        secret = hooks.roll_secret(endpoint)
    return _page(revealed=(endpoint, secret, True))


@bp.route("/merchant/webhooks/<endpoint_id>/test", methods=["POST"])
@signed_in
def test_webhook(endpoint_id):
    try:
        with write_transaction():
            endpoint = _endpoint(endpoint_id)
            hooks.send_test(endpoint)
    except DomainError as exc:
        return _refused_action(exc)
    flash(f"A test.webhook event is on its way to {endpoint.url}.")
    return _back()


@bp.route("/merchant/webhooks/deliveries/<delivery_id>/resend", methods=["POST"])
@signed_in
def resend_delivery(delivery_id):
    try:
        with write_transaction():
            delivery = owned_delivery(company(), delivery_id)
            if delivery is None:
                abort(404)
            hooks.resend(delivery)
    except DomainError as exc:
        return _refused_action(exc)
    flash(f"The {delivery.event_type} event is queued again for {delivery.endpoint.url}.")
    return _back()
