"""Subscriptions in the portal: list, cancel (reason → offer → confirm), keep, change plan."""

from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import current_user

from portal.access.activity import record_event
from portal.customer import bp
from portal.customer.session import signed_in
from portal.db import write_transaction
from portal.digits import is_ascii_digits
from portal.errors import Conflict, DomainError, PaymentDeclined, ValidationFailed
from portal.models import Subscription, utcnow
from portal.self_service import subscriptions as rules

from . import overview
from .forms import NonceForm
from .shell import claim_nonce, new_nonce, render_portal, require_section, settings

LISTED = (*overview.LIVE, "canceled")
ENDED = ("canceled", "incomplete_expired")


def _own(subscription_id: str, *, ended_ok: bool = False) -> Subscription:
    require_section("subscriptions_enabled")
    sub = Subscription.get_or_none(
        (Subscription.id == subscription_id)
        & (Subscription.company == current_user.company_id)
        & (Subscription.customer == current_user.customer_id)
    )
    if sub is None:
        abort(404)
    if not rules.changeable(sub, settings()) and not (ended_ok and sub.status in ENDED):
        abort(404)
    return sub


def _cancellable(subscription_id: str, *, ended_ok: bool = False) -> Subscription:
    """Every step of the cancel flow (retention offer included) is 404 with cancellations off.
    ``ended_ok``: a double-clicked "Cancel now" finds it ended and must get the list, not a 404."""
    sub = _own(subscription_id, ended_ok=ended_ok)
    if not settings()["cancellations_enabled"]:
        abort(404)
    return sub


def _flash_outcome(error: str | None, done: str) -> None:
    """A refusal reads as one (never in a success banner); a finished action offers the
    way back to the merchant's site."""
    flash(*((error, "error") if error else (done, "done")))


def _event(sub, action: str, details: dict | None = None) -> None:
    record_event(current_user.company_id, current_user.customer_id, action, details, sub.id)


@bp.route("/portal/subscriptions")
@signed_in
def subscriptions():
    require_section("subscriptions_enabled")
    views = overview.subscriptions(current_user.customer_id, LISTED)
    allowed = {v.sub.id for v in views if rules.changeable(v.sub, settings())}
    return render_portal(
        "customer/subscriptions.html",
        subscriptions=views,
        changeable=allowed,
        form=NonceForm(formdata=None),
        nonce=new_nonce,
    )


def _reason_args() -> tuple[str | None, str | None]:
    reason = (request.values.get("reason") or "").strip()[:100] or None
    comment = (request.values.get("comment") or "").strip()[:1000] or None
    return reason, comment


@bp.route("/portal/subscriptions/<subscription_id>/cancel")
@signed_in
def cancel_start(subscription_id):
    sub = _cancellable(subscription_id)
    if settings()["cancellation_reasons_enabled"]:
        return render_portal(
            "customer/cancel_reason.html", sub=sub, reasons=settings()["cancellation_reasons"]
        )
    return redirect(url_for("customer.cancel_offer", subscription_id=sub.id), 303)


@bp.route("/portal/subscriptions/<subscription_id>/cancel/offer")
@signed_in
def cancel_offer(subscription_id):
    sub = _cancellable(subscription_id)
    reason, comment = _reason_args()
    if (
        settings()["cancellation_reasons_enabled"]
        and reason not in settings()["cancellation_reasons"]
    ):
        return render_portal(
            "customer/cancel_reason.html",
            status=422,
            sub=sub,
            reasons=settings()["cancellation_reasons"],
            error="Choose a reason.",
        )
    coupon = rules.retention_offer(sub, settings())
    if coupon is None:
        return redirect(
            url_for(
                "customer.cancel_confirm",
                subscription_id=sub.id,
                reason=reason or "",
                comment=comment or "",
            ),
            303,
        )
    from portal.billing.coupons import describe

    return render_portal(
        "customer/cancel_offer.html",
        sub=sub,
        offer=describe(coupon, sub.currency),
        reason=reason,
        comment=comment,
        form=NonceForm(formdata=None),
        nonce=new_nonce,
    )


@bp.route("/portal/subscriptions/<subscription_id>/cancel/confirm")
@signed_in
def cancel_confirm(subscription_id):
    sub = _cancellable(subscription_id)
    reason, comment = _reason_args()
    now = utcnow()
    return render_portal(
        "customer/cancel_confirm.html",
        sub=sub,
        plan=rules.cancel_plan(sub, settings(), now),
        still_due=rules.still_due(sub),
        preview_token=_seal(sub, now),
        reason=reason,
        comment=comment,
        form=NonceForm(formdata=None),
        nonce=new_nonce,
    )


def _act(sub, action_name: str, work, raise_errors: bool = False):
    """Run a subscription action once per form; errors come back as a message (or, with
    ``raise_errors``, as the DomainError, after the transaction rolled back)."""
    form = NonceForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with write_transaction():
            if claim_nonce(form.form_nonce.data, action_name):
                return work(), None
            return None, None
    except DomainError as exc:
        if raise_errors:
            raise
        return None, exc.message


@bp.route("/portal/subscriptions/<subscription_id>/cancel", methods=["POST"])
@signed_in
def cancel(subscription_id):
    sub = _cancellable(subscription_id, ended_ok=True)
    reason, comment = _reason_args()

    def work():
        at = _sealed_instant(sub, None)
        ended, changed = rules.cancel(sub, settings(), reason, comment, now=at)
        if changed:
            action = (
                "subscription.canceled"
                if ended.status == "canceled"
                else "subscription.cancel_scheduled"
            )
            stored = {"reason": ended.cancellation_reason, "comment": ended.cancellation_comment}
            _event(ended, action, stored)  # what was stored, not what was sent
        return ended

    ended, error = _act(sub, "cancel", work)
    if error:
        flash(error, "error")
    elif ended is not None and ended.status == "canceled":
        flash("Your subscription has ended.", "done")
    elif ended is not None:
        ends = f"{ended.current_period_end:%b %-d, %Y}"
        flash(f"Your subscription stays active until {ends}, then ends.", "done")
    return redirect(url_for("customer.subscriptions"), 303)


@bp.route("/portal/subscriptions/<subscription_id>/keep", methods=["POST"])
@signed_in
def keep(subscription_id):
    sub = _own(subscription_id)

    def work():
        kept = rules.keep(sub, settings())
        _event(kept, "subscription.kept")
        return kept

    kept, error = _act(sub, "keep", work)
    _flash_outcome(error, "Your subscription will continue. Nothing else changes.")
    return redirect(url_for("customer.subscriptions"), 303)


@bp.route("/portal/subscriptions/<subscription_id>/retain", methods=["POST"])
@signed_in
def accept_offer(subscription_id):
    sub = _cancellable(subscription_id)

    def work():
        kept = rules.accept_retention(sub, settings())
        _event(
            kept,
            "subscription.retention_accepted",
            {"coupon_id": settings()["retention_coupon_id"]},
        )
        return kept

    _kept, error = _act(sub, "retain", work)
    _flash_outcome(error, "Offer applied. Thanks for staying!")
    return redirect(url_for("customer.subscriptions"), 303)


@bp.route("/portal/subscriptions/<subscription_id>/change")
@signed_in
def change_start(subscription_id):
    sub = _own(subscription_id)
    if not (settings()["allow_plan_switch"] or settings()["allow_quantity_updates"]):
        abort(404)
    views = overview.subscriptions(current_user.customer_id, (sub.status,))
    view = next(v for v in views if v.sub.id == sub.id)
    options = rules.switch_options(sub, settings()) if settings()["allow_plan_switch"] else []
    return render_portal(
        "customer/change_plan.html",
        view=view,
        options=options,
        max_quantity=rules.MAX_PORTAL_QUANTITY,
    )


def _whole(raw: str) -> int | None:
    """Digits only; past 9 digits, out of any range (a clear message, not an overflow)."""
    if not is_ascii_digits(raw):
        return None
    return int(raw) if len(raw) <= 9 else 10**9


def _target() -> tuple[str | None, int | None]:
    price_id = (request.values.get("price_id") or "").strip()[:64] or None
    raw = (request.values.get("quantity") or "").strip()
    if raw and _whole(raw) is None:
        raise Conflict("Enter the quantity as a whole number.")
    return price_id, (_whole(raw) if raw else None)


@bp.route("/portal/subscriptions/<subscription_id>/change/preview")
@signed_in
def change_preview(subscription_id, message=None, status=200):
    sub = _own(subscription_id)
    try:
        price_id, quantity = _target()
        now = utcnow()
        plan = rules.preview(sub, settings(), price_id, quantity, now=now)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("customer.change_start", subscription_id=sub.id), 303)
    return render_portal(
        "customer/change_preview.html",
        status=status,
        sub=sub,
        plan=plan,
        preview_token=_seal(sub, now),
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
    sub = _own(subscription_id)
    version = request.form.get("expected_version", "")
    try:
        price_id, quantity = _target()
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("customer.change_start", subscription_id=sub.id), 303)

    expected = _whole(version) or -1
    method_id = (request.form.get("payment_method_id") or "").strip()[:64] or None

    def work():
        at = _sealed_instant(sub, expected)
        changed = rules.change(sub, settings(), price_id, quantity, expected, at, method_id)
        _event(changed, "subscription.changed", {"price_id": price_id, "quantity": quantity})
        return changed

    try:
        _act(sub, "change", work, raise_errors=True)
    except (PaymentDeclined, ValidationFailed) as exc:
        # Nothing changed (the transaction rolled back): the same preview, another method.
        return change_preview(sub.id, message=exc.message, status=exc.status)
    except DomainError as exc:
        if isinstance(exc, Conflict) and "changed since" in exc.message:
            # The subscription moved on since the preview: a fresh one, never a surprise.
            return change_preview(sub.id, message=exc.message, status=409)
        flash(exc.message, "error")
        return redirect(url_for("customer.subscriptions"), 303)
    flash("Your plan has been updated.", "done")
    return redirect(url_for("customer.subscriptions"), 303)


def _seal(sub: Subscription, now) -> str:
    return rules.preview_token(current_app.config["SECRET_KEY"], sub, now)


def _sealed_instant(sub: Subscription, expected_version: int | None):
    """The instant the confirmed page was computed at: confirming bills exactly that."""
    return rules.preview_instant(
        current_app.config["SECRET_KEY"], request.form.get("preview_token"), sub, expected_version
    )
