"""Starting a subscription again, from one that ended or is set to end: choose a plan →
preview what is charged → confirm (one charge, acted on once). The rules and prices are
self_service.resubscribe's, as for the portal JSON API."""

from flask import abort, flash, request, session
from flask_login import current_user

from portal.billing.subscription_items import item_rows
from portal.customer import bp
from portal.customer.session import signed_in
from portal.errors import DomainError, PaymentDeclined, ValidationFailed
from portal.i18n import N_
from portal.models import utcnow
from portal.portal_settings.quantity_limits import quantity_range
from portal.self_service import resubscribe as rules
from portal.self_service.subscriptions import MAX_PORTAL_QUANTITY

from . import overview
from .forms import NonceForm
from .shell import new_nonce, render_portal, settings
from .subscription_actions import (
    act_once,
    back_to_choosing,
    back_to_list,
    own_subscription,
    record_subscription_event,
    requested_target,
    seal_preview,
    sealed_instant,
    whole_number,
)


@bp.route("/portal/subscriptions/<subscription_id>/resubscribe")
@signed_in
def resubscribe_start(subscription_id):
    sub = own_subscription(subscription_id, ended_ok=True)
    options = rules.resubscribe_options(sub, settings())
    if not options and sub.resubscribed_to_id:
        # Back from a restart that is done: to the list, where the new one shows.
        if not session.get("_flashes"):
            flash(N_("This subscription was already started again."), "error")
        return back_to_list(sub)
    if not options:
        abort(404)
    current = rules.current_price_id(sub)
    quantity = item_rows(sub)[0].quantity
    low, high = quantity_range(settings(), options[0].product_id, MAX_PORTAL_QUANTITY)
    return render_portal(
        "customer/resubscribe.html",
        sub=sub,
        options=options,
        current=current,
        quantity=quantity,
        min_quantity=low,
        max_quantity=high,
    )


@bp.route("/portal/subscriptions/<subscription_id>/resubscribe/preview")
@signed_in
def resubscribe_preview(subscription_id, message=None, status=200):
    sub = own_subscription(subscription_id, ended_ok=True)
    try:
        price_id, quantity = requested_target()
        now = utcnow()
        plan = rules.preview_resubscribe(sub, settings(), price_id, quantity, now=now)
    except DomainError as exc:
        return back_to_choosing(sub, exc, "customer.resubscribe_start")
    return render_portal(
        "customer/resubscribe_preview.html",
        status=status,
        sub=sub,
        plan=plan,
        preview_token=seal_preview(sub, now),
        message=message,
        methods=overview.methods(current_user.customer_id),
        form=NonceForm(formdata=None),
        nonce=new_nonce,
    )


@bp.route("/portal/subscriptions/<subscription_id>/resubscribe", methods=["POST"])
@signed_in
def resubscribe(subscription_id):
    sub = own_subscription(subscription_id, ended_ok=True)
    try:
        price_id, quantity = requested_target()
    except DomainError as exc:
        return back_to_choosing(sub, exc, "customer.resubscribe_start")
    expected = whole_number(request.form.get("expected_version", "")) or -1

    def work():
        at = sealed_instant(sub, expected)
        started = rules.resubscribe(sub, settings(), price_id, quantity, expected, at=at)
        details = {"price_id": price_id, "quantity": quantity, "resubscribed_from": sub.id}
        record_subscription_event(started, "subscription.resubscribed", details)
        return started

    try:
        started, _error = act_once("resubscribe", work, raise_errors=True)
    except (PaymentDeclined, ValidationFailed) as exc:  # nothing was done: pay another way
        return resubscribe_preview(sub.id, message=exc.plain, status=exc.status)
    except DomainError as exc:
        flash(exc.plain, "error")
        return back_to_list(sub)
    flash(N_("Welcome back! Your subscription is running again."), "done")
    return back_to_list(started or sub)
