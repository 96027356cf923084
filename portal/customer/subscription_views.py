"""Subscriptions in the portal: the list, and changing plan or quantity (choose → preview →
confirm). Cancelling is in cancel_views."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.customer import bp
from portal.customer.session import signed_in
from portal.errors import Conflict, DomainError, PaymentDeclined, ValidationFailed
from portal.i18n import N_
from portal.models import Subscription, utcnow
from portal.portal_settings.quantity_limits import quantity_range
from portal.self_service import pausing, resubscribe
from portal.self_service import subscriptions as rules
from portal.timefmt import human_date

from . import overview
from .forms import NonceForm
from .shell import customer_credits, new_nonce, render_portal, require_section, settings
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

LISTED = (*overview.LIVE, "canceled")


@bp.route("/portal/subscriptions")
@signed_in
def subscriptions():
    require_section("subscriptions_enabled")
    views = overview.subscriptions(current_user.customer_id, LISTED, held=customer_credits())
    allowed = {v.sub.id for v in views if rules.changeable(v.sub, settings())}
    return render_portal(
        "customer/subscriptions.html",
        subscriptions=views,
        changeable=allowed,
        pausable={v.sub.id for v in views if pausing.offers_pause(v.sub, settings())},
        resumable={v.sub.id for v in views if pausing.customer_paused(v.sub)},
        restartable={v.sub.id for v in views if resubscribe.offers_restart(v.sub, settings())},
        form=NonceForm(formdata=None),
        nonce=new_nonce,
    )


@bp.route("/portal/subscriptions/<subscription_id>/change")
@signed_in
def change_start(subscription_id):
    sub = own_subscription(subscription_id)
    if not (settings()["allow_plan_switch"] or settings()["allow_quantity_updates"]):
        abort(404)
    views = overview.subscriptions(current_user.customer_id, (sub.status,), customer_credits())
    view = next(v for v in views if v.sub.id == sub.id)
    if len(view.items) != 1:
        abort(404)  # several items: the merchant changes them; no form that always fails
    options = rules.switch_options(sub, settings()) if settings()["allow_plan_switch"] else []
    product_id = view.items[0].price.product_id
    low, high = quantity_range(settings(), product_id, rules.MAX_PORTAL_QUANTITY)
    return render_portal(
        "customer/change_plan.html",
        view=view,
        options=options,
        min_quantity=low,
        max_quantity=high,
    )


@bp.route("/portal/subscriptions/<subscription_id>/change/preview")
@signed_in
def change_preview(subscription_id, message=None, status=200):
    sub = own_subscription(subscription_id)
    try:
        price_id, quantity = requested_target()
        now = utcnow()
        plan = rules.preview(sub, settings(), price_id, quantity, now=now)
    except DomainError as exc:
        return back_to_choosing(sub, exc)
    return render_portal(
        "customer/change_preview.html",
        status=status,
        sub=sub,
        plan=plan,
        preview_token=seal_preview(sub, now),
        price_id=price_id,
        quantity=quantity,
        message=message,
        stale=status == 409,
        methods=overview.methods(current_user.customer_id) if plan.amount_due_now else [],
        paying=rules.paying_method(sub),
        form=NonceForm(formdata=None),
        nonce=new_nonce,
    )


@bp.route("/portal/subscriptions/<subscription_id>/change", methods=["POST"])
@signed_in
def change(subscription_id):
    sub = own_subscription(subscription_id)
    version = request.form.get("expected_version", "")
    try:
        price_id, quantity = requested_target()
    except DomainError as exc:
        return back_to_choosing(sub, exc)
    expected = whole_number(version) or -1
    method_id = (request.form.get("payment_method_id") or "").strip()[:64] or None

    def work():
        at = sealed_instant(sub, expected)
        changed = rules.change(sub, settings(), price_id, quantity, expected, at, method_id)
        record_subscription_event(
            changed, "subscription.changed", {"price_id": price_id, "quantity": quantity}
        )
        return changed

    try:
        act_once("change", work, raise_errors=True)
    except DomainError as exc:
        return _change_refused(sub, exc)
    _flash_changed(Subscription.get_by_id(sub.id))  # also after a double submit
    return back_to_list(sub)


def _flash_changed(sub: Subscription) -> None:
    """Done now, or waiting for the renewal (a downgrade the merchant defers)."""
    if sub.scheduled_change:
        when = human_date(sub.current_period_end)
        flash(_("Your plan changes on %(date)s, when your current period ends.", date=when), "done")
    else:
        flash(N_("Your plan has been updated."), "done")


def _change_refused(sub, exc: DomainError):
    """Nothing changed (the transaction rolled back): show why where it can be put right."""
    if isinstance(exc, (PaymentDeclined, ValidationFailed)):
        # The same preview, so another method can pay.
        return change_preview(sub.id, message=exc.plain, status=exc.status)
    if isinstance(exc, Conflict) and "changed since" in exc.message:
        # The subscription moved on since the preview: a fresh one, never a surprise.
        return change_preview(sub.id, message=exc.message, status=409)
    flash(exc.plain, "error")
    return redirect(url_for("customer.subscriptions"), 303)
