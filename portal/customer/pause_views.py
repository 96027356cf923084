"""Pausing a subscription for a few billing periods and resuming it early, and cancelling a
plan change that waits for the renewal. Plain form posts, each acted on once."""

from flask import abort, flash, request
from flask_babel import gettext as _

from portal.customer import bp
from portal.customer.session import signed_in
from portal.digits import is_ascii_digits
from portal.i18n import N_
from portal.models import Subscription
from portal.self_service import pausing
from portal.self_service import subscriptions as rules
from portal.timefmt import human_date

from .forms import NonceForm
from .shell import new_nonce, render_portal, settings
from .subscription_actions import (
    act_once,
    back_to_list,
    flash_outcome,
    own_subscription,
    record_subscription_event,
)


@bp.route("/portal/subscriptions/<subscription_id>/pause")
@signed_in
def pause_start(subscription_id):
    sub = own_subscription(subscription_id)
    options = pausing.pause_options(sub, settings())
    if not options and pausing.offers_pause(sub, settings()):
        flash(N_("You can pause again after your next charge."), "error")  # used up
        return back_to_list(sub)
    if not options:
        abort(404)
    return render_portal(
        "customer/pause.html", sub=sub, options=options, form=NonceForm(None), nonce=new_nonce
    )


@bp.route("/portal/subscriptions/<subscription_id>/pause", methods=["POST"])
@signed_in
def pause(subscription_id):
    sub = own_subscription(subscription_id)
    raw = request.form.get("periods", "")
    periods = int(raw) if is_ascii_digits(raw) and len(raw) < 3 else -1

    def work():
        paused = pausing.pause_for_periods(sub, periods, settings())
        record_subscription_event(paused, "subscription.paused", {"periods": periods})
        return paused

    _paused, error = act_once("pause", work)
    now = Subscription.get_by_id(sub.id)  # also after a double submit, which acted once
    if error or now.pause_resumes_at is None:
        flash(error or N_("Nothing changed."), "error")
    else:
        when = human_date(now.pause_resumes_at)
        flash(_("Your subscription is paused. Your next charge is on %(date)s.", date=when), "done")
    return back_to_list(sub)


@bp.route("/portal/subscriptions/<subscription_id>/resume", methods=["POST"])
@signed_in
def resume(subscription_id):
    sub = own_subscription(subscription_id)

    def work():
        resumed = pausing.resume_for_customer(sub, settings())
        record_subscription_event(resumed, "subscription.resumed")
        return resumed

    _resumed, error = act_once("resume", work)
    flash_outcome(error, N_("Your subscription is active again."))
    return back_to_list(sub)


@bp.route("/portal/subscriptions/<subscription_id>/scheduled-change/cancel", methods=["POST"])
@signed_in
def cancel_scheduled_change(subscription_id):
    sub = own_subscription(subscription_id)

    def work():
        kept = rules.cancel_scheduled(sub, settings())
        record_subscription_event(kept, "subscription.scheduled_change_canceled")
        return kept

    _kept, error = act_once("cancel-scheduled-change", work)
    flash_outcome(error, N_("The pending change is canceled: your plan renews as it is."))
    return back_to_list(sub)
