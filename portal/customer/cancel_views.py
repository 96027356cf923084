"""Cancelling in the portal: reason → retention offer → confirm, and the two ways back out
(accept the offer, or keep a subscription already set to end)."""

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from portal.customer import bp
from portal.customer.offers import offer_text
from portal.customer.session import signed_in
from portal.i18n import N_
from portal.models import utcnow
from portal.self_service import subscriptions as rules
from portal.timefmt import human_date

from .forms import NonceForm
from .shell import new_nonce, render_portal, settings
from .subscription_actions import (
    act_once,
    back_to_list,
    cancellable_subscription,
    flash_outcome,
    own_subscription,
    record_subscription_event,
    seal_preview,
    sealed_instant,
)


def _reason_args() -> tuple[str | None, str | None]:
    reason = (request.values.get("reason") or "").strip()[:100] or None
    comment = (request.values.get("comment") or "").strip()[:1000] or None
    return reason, comment


def _reason_page(sub, **extra):
    reasons = settings()["cancellation_reasons"]
    return render_portal("customer/cancel_reason.html", sub=sub, reasons=reasons, **extra)


def _reason_missing(reason: str | None) -> bool:
    """With reasons switched on, the flow goes on only with one of the merchant's reasons."""
    config = settings()
    return config["cancellation_reasons_enabled"] and reason not in config["cancellation_reasons"]


@bp.route("/portal/subscriptions/<subscription_id>/cancel")
@signed_in
def cancel_start(subscription_id):
    sub = cancellable_subscription(subscription_id)
    if settings()["cancellation_reasons_enabled"]:
        return _reason_page(sub)
    return redirect(url_for("customer.cancel_offer", subscription_id=sub.id), 303)


@bp.route("/portal/subscriptions/<subscription_id>/cancel/offer")
@signed_in
def cancel_offer(subscription_id):
    sub = cancellable_subscription(subscription_id)
    reason, comment = _reason_args()
    if _reason_missing(reason):
        return _reason_page(sub, status=422, error=N_("Choose a reason."))
    coupon = rules.retention_offer(sub, settings())
    if coupon is None:
        confirm = url_for(
            "customer.cancel_confirm",
            subscription_id=sub.id,
            reason=reason or "",
            comment=comment or "",
        )
        return redirect(confirm, 303)
    return render_portal(
        "customer/cancel_offer.html",
        sub=sub,
        offer=offer_text(coupon, sub.currency),
        reason=reason,
        comment=comment,
        form=NonceForm(formdata=None),
        nonce=new_nonce,
    )


@bp.route("/portal/subscriptions/<subscription_id>/cancel/confirm")
@signed_in
def cancel_confirm(subscription_id):
    sub = cancellable_subscription(subscription_id)
    reason, comment = _reason_args()
    now = utcnow()
    return render_portal(
        "customer/cancel_confirm.html",
        sub=sub,
        plan=rules.cancel_plan(sub, settings(), now),
        still_due=rules.still_due(sub),
        preview_token=seal_preview(sub, now),
        reason=reason,
        comment=comment,
        form=NonceForm(formdata=None),
        nonce=new_nonce,
    )


@bp.route("/portal/subscriptions/<subscription_id>/cancel", methods=["POST"])
@signed_in
def cancel(subscription_id):
    sub = cancellable_subscription(subscription_id, ended_ok=True)
    reason, comment = _reason_args()

    def work():
        at = sealed_instant(sub, None)
        ended, changed = rules.cancel(sub, settings(), reason, comment, now=at)
        if changed:
            _record_cancel(ended)
        return ended

    ended, error = act_once("cancel", work)
    _flash_cancel_outcome(ended, error)
    return back_to_list(sub)


def _record_cancel(ended) -> None:
    action = (
        "subscription.canceled" if ended.status == "canceled" else "subscription.cancel_scheduled"
    )
    stored = {"reason": ended.cancellation_reason, "comment": ended.cancellation_comment}
    record_subscription_event(ended, action, stored)  # what was stored, not what was sent


def _flash_cancel_outcome(ended, error: str | None) -> None:
    if error:
        flash(error, "error")
    elif ended is not None and ended.status == "canceled":
        flash(N_("Your subscription has ended."), "done")
    elif ended is not None:
        ends = human_date(ended.current_period_end)
        flash(_("Your subscription stays active until %(date)s, then ends.", date=ends), "done")


@bp.route("/portal/subscriptions/<subscription_id>/keep", methods=["POST"])
@signed_in
def keep(subscription_id):
    sub = own_subscription(subscription_id)

    def work():
        kept = rules.keep(sub, settings())
        record_subscription_event(kept, "subscription.kept")
        return kept

    kept, error = act_once("keep", work)
    flash_outcome(error, N_("Your subscription will continue. Nothing else changes."))
    return back_to_list(sub)


@bp.route("/portal/subscriptions/<subscription_id>/retain", methods=["POST"])
@signed_in
def accept_offer(subscription_id):
    sub = cancellable_subscription(subscription_id)

    def work():
        kept = rules.accept_retention(sub, settings())
        record_subscription_event(
            kept,
            "subscription.retention_accepted",
            {"coupon_id": settings()["retention_coupon_id"]},
        )
        return kept

    _kept, error = act_once("retain", work)
    flash_outcome(error, N_("Offer applied. Thanks for staying!"))
    return back_to_list(sub)
