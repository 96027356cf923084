"""Pausing collection: a paused subscription keeps its periods but is not charged for them.

While paused its status is ``paused`` and ``pause_behavior`` says what each renewal does
meanwhile (``subscriptions._renew_once``): ``void`` writes no invoice, ``keep_as_draft``
writes the period's invoice as a draft, ``mark_uncollectible`` finalizes it and marks it
uncollectible; none is charged. It resumes (``active``) when asked, or by itself at
``pause_resumes_at`` (``run-billing``), before a renewal due at that same instant.

Dunning also pauses subscriptions (its terminal action): those have no pause behavior,
cannot be paused or resumed here, and resume when their open invoice is paid.
"""

from datetime import datetime, timedelta

from portal.errors import Conflict, ValidationFailed
from portal.models import Invoice, Price, Subscription, utcnow
from portal.webhooks import notify

from .periods import period_after
from .subscription_items import lock

BEHAVIORS = ("void", "keep_as_draft", "mark_uncollectible")
DUNNING_PAUSED = (
    "This subscription was paused after failed payments: collect its open invoice "
    "(POST /invoices/:id/pay) to resume it."
)
SCHEDULED = (
    "This subscription has a plan change waiting for its renewal: cancel that change "
    "before pausing (PATCH /subscriptions/:id with its current items)."
)
_REFUSED = {
    "canceled": "This subscription has ended; it can't be paused.",
    "incomplete_expired": "This subscription has ended; it can't be paused.",
    "incomplete": "This subscription's first invoice isn't paid yet; it can't be paused.",
    "past_due": "This subscription has an unpaid invoice: collect it before pausing.",
    "unpaid": "This subscription has an unpaid invoice: collect it before pausing.",
}


def next_charge_at(sub: Subscription, price: Price) -> datetime | None:
    """The renewal a paused collection is charged again on (``price``: one of its items,
    for the interval): the first period end on or after its resume date, since a resume
    date inside a period resumes that period unbilled; None when no date is set."""
    if sub.pause_resumes_at is None:
        return None
    just_before = sub.pause_resumes_at - timedelta(microseconds=1)
    end = period_after(sub.billing_cycle_anchor, price.interval, price.interval_count, just_before)
    return max(end, sub.current_period_end)


def collection_paused(sub: Subscription) -> bool:
    """Paused on purpose (by the merchant or the customer), not by dunning."""
    return sub.pause_behavior is not None


def check_pausable(sub: Subscription, behavior: str, resumes_at, now: datetime) -> None:
    """Why ``sub`` cannot be paused like this, as a domain error; nothing when it can."""
    if behavior not in BEHAVIORS:
        raise ValidationFailed.field("behavior", f"Choose one of: {', '.join(BEHAVIORS)}.")
    if resumes_at is not None and resumes_at <= now:
        raise ValidationFailed.field("resumes_at", "Choose a moment in the future.")
    if sub.status in _REFUSED:
        raise Conflict(_REFUSED[sub.status])
    if sub.status == "paused" and not collection_paused(sub):
        raise Conflict(DUNNING_PAUSED)
    if sub.scheduled_change:
        # A change that waits for a renewal the pause would skip could start a new period
        # (another interval) that no invoice ever bills.
        raise Conflict(SCHEDULED)


def pause_subscription(
    sub: Subscription,
    behavior: str,
    resumes_at: datetime | None = None,
    now: datetime | None = None,
    *,
    source: str = "merchant",
    portal: dict | None = None,
) -> Subscription:
    """Pause collection (``resumes_at``: when it resumes by itself; None: until resumed).
    Pausing a paused subscription changes its behavior and resume date. A subscription set
    to cancel at period end may be paused: it still ends then. ``source`` says who paused
    (``merchant`` or ``customer``: only the customer's own pause is theirs to change)."""
    now = now or utcnow()
    sub = lock(sub)
    check_pausable(sub, behavior, resumes_at, now)
    event = "subscription.updated" if collection_paused(sub) else "subscription.paused"
    sub.status, sub.pause_behavior, sub.pause_resumes_at = "paused", behavior, resumes_at
    sub.pause_source = source
    sub.version += 1
    sub.save()
    return notify.subscription(sub, event, portal=portal)


def resume_paused(
    sub: Subscription, now: datetime | None = None, *, portal: dict | None = None
) -> Subscription:
    """Resume a paused collection now: the next renewal is billed as usual."""
    sub = lock(sub)
    if not collection_paused(sub):
        paused_by_dunning = sub.status == "paused"
        raise Conflict(DUNNING_PAUSED if paused_by_dunning else "This subscription isn't paused.")
    return _resume(sub, portal)


def resume_due(sub: Subscription, at: datetime) -> Subscription:
    """Inside the renewal (``sub`` locked): resume a pause whose resume date is ``at`` or
    earlier; ``sub`` either way."""
    due = sub.pause_resumes_at is not None and sub.pause_resumes_at <= at
    return _resume(sub, None) if collection_paused(sub) and due else sub


def _resume(sub: Subscription, portal: dict | None) -> Subscription:
    sub.status, sub.pause_behavior, sub.pause_resumes_at = "active", None, None
    sub.pause_source = None  # pause_skipped stays until a renewal is billed
    sub.version += 1
    sub.save()
    return notify.subscription(sub, "subscription.resumed", portal=portal)


def mark_uncollectible(invoice: Invoice, now: datetime) -> None:
    """A paused period's finalized invoice: not to be collected (a zero one stays paid)."""
    marked = Invoice.update(status="UNCOLLECTIBLE", updated_at=now, version=Invoice.version + 1)
    if marked.where((Invoice.id == invoice.id) & (Invoice.status == "OPEN")).execute():
        notify.invoice(invoice, "invoice.marked_uncollectible")
