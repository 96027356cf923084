"""What the portal config lets a customer do about pausing a subscription (no Flask here).

A customer pauses for 1 to ``pause_max_periods`` billing periods: pausing for N periods
skips the charges of the next N renewals (no invoice for them: behavior ``void``), and
collection resumes on the date of the renewal after those, which is charged as usual. They
may resume early, or pause again to change the length (counted from the coming renewal).
Renewals already charged nothing since the last billed one (``pause_skipped``: by this
pause, one resumed early, or the merchant's) count against ``pause_max_periods``, so no
sequence of pauses and resumes skips more renewals in a row. A pause the merchant set
(through the API, whatever its behavior) is the merchant's to end.
"""

from dataclasses import dataclass
from datetime import datetime

from portal.billing import pausing
from portal.billing.periods import period_after
from portal.billing.subscription_items import item_rows, lock
from portal.errors import Conflict, FeatureDisabled, PermissionDenied, ValidationFailed
from portal.models import Subscription, utcnow

from .scope import require

CUSTOMER_BEHAVIOR = "void"
PAUSABLE = ("active", "trialing", "paused")
UNPAID = "This subscription has an unpaid invoice: pay it first."
USED_UP = "That pause would skip more renewals in a row than we allow: choose a shorter one."
NOT_HERE = "This subscription can't be paused or resumed here. Please contact us."


@dataclass(frozen=True)
class PauseOption:
    periods: int
    resumes_at: datetime  # also the date of the next charge


CUSTOMER = "customer"


def _ours(sub: Subscription) -> bool:
    """Not paused, or paused by the customer in the portal (so they may change or end it)."""
    return sub.pause_behavior is None or sub.pause_source == CUSTOMER


def pausable(sub: Subscription) -> bool:
    return (
        sub.status in PAUSABLE
        and (sub.status != "paused" or pausing.collection_paused(sub))
        and not sub.cancel_at_period_end
        and not sub.scheduled_change
        and _ours(sub)
    )


def offers_pause(sub: Subscription, settings: dict) -> bool:
    """Whether the portal offers to pause ``sub`` (no query: for lists)."""
    return settings["subscriptions_enabled"] and settings["pause_enabled"] and pausable(sub)


def customer_paused(sub: Subscription) -> bool:
    """Paused the way a customer pauses, so they may resume it."""
    return pausing.collection_paused(sub) and _ours(sub)


def pause_options(sub: Subscription, settings: dict, now: datetime | None = None) -> list:
    """The pauses on offer, shortest first, each with the day collection resumes; none
    when pausing is off or this subscription cannot be paused. Periods count from the
    coming renewal; renewals skipped since the last billed one leave fewer (or none)."""
    if not offers_pause(sub, settings):
        return []
    price = item_rows(sub)[0].price
    options, at = [], sub.current_period_end
    for periods in range(1, settings["pause_max_periods"] - sub.pause_skipped + 1):
        at = period_after(sub.billing_cycle_anchor, price.interval, price.interval_count, at)
        options.append(PauseOption(periods, at))
    return options


def _require_pausing(settings: dict) -> None:
    require(settings, "subscriptions_enabled", "Subscriptions")
    if not settings["pause_enabled"]:
        raise FeatureDisabled("Pausing is turned off for this portal.")


def _refusal(sub: Subscription) -> str | None:
    """Why the customer cannot pause ``sub`` (locked), in their words; None when they can."""
    if sub.status in ("past_due", "unpaid") or (
        sub.status == "paused" and not pausing.collection_paused(sub)
    ):
        return UNPAID
    if sub.cancel_at_period_end:
        return "This subscription is set to cancel; keep it first to pause it."
    if sub.scheduled_change:
        return "A plan change is waiting for your renewal; cancel it first to pause."
    return None


def pause_for_periods(
    sub: Subscription, periods: int, settings: dict, now: datetime | None = None
) -> Subscription:
    """Pause for ``periods`` billing periods; pausing again replaces the pause."""
    now = now or utcnow()
    _require_pausing(settings)
    most = settings["pause_max_periods"]
    if type(periods) is not int or not 1 <= periods <= most:
        raise ValidationFailed.field("periods", f"Choose 1 to {most} billing periods.")
    sub = lock(sub)
    refusal = _refusal(sub)
    if refusal is not None:
        raise Conflict(refusal)
    if not pausable(sub):
        raise PermissionDenied(NOT_HERE)
    option = next((o for o in pause_options(sub, settings, now) if o.periods == periods), None)
    if option is None:
        raise Conflict(USED_UP)
    return pausing.pause_subscription(
        sub,
        CUSTOMER_BEHAVIOR,
        option.resumes_at,
        now,
        source=CUSTOMER,
        portal={"action": "paused", "pause_periods": periods},
    )


def resume_for_customer(
    sub: Subscription, settings: dict, now: datetime | None = None
) -> Subscription:
    """Resume early (allowed even once the merchant turned pausing off)."""
    require(settings, "subscriptions_enabled", "Subscriptions")
    sub = lock(sub)
    if not pausing.collection_paused(sub):
        raise Conflict(UNPAID if sub.status == "paused" else "This subscription isn't paused.")
    if not _ours(sub):
        raise PermissionDenied(NOT_HERE)
    return pausing.resume_paused(sub, now, portal={"action": "resumed"})
