"""A change of items that waits for the renewal: the current items are kept (and were paid
for) until the period ends; at the renewal the new items replace them and that period's
invoice is for them. Nothing is prorated or charged when it is scheduled. The portal uses
this for downgrades when the merchant says so; the customer can cancel it until then."""

from datetime import datetime

from portal.errors import Conflict
from portal.models import Price, Subscription

from . import credit
from .changes import replace_items
from .invoice_totals import compute_totals
from .periods import boundary
from .proration import Billing, ChangePlan, period_line
from .subscription_items import (
    LIVE_STATUSES,
    active_coupons,
    as_line,
    item_rows,
    lock,
    next_period_end,
    pending_rows,
    priced,
)

Items = list[tuple[Price, int]]


def scheduled_items(sub: Subscription) -> Items | None:
    """The items the subscription moves to at its renewal, or None. A price deleted since
    cannot be (prices are never deleted), but one made inactive still renews, as items do."""
    stored = sub.scheduled_change
    if not stored:
        return None
    prices = {p.id: p for p in Price.select().where(Price.id.in_([i["price_id"] for i in stored]))}
    return [(prices[i["price_id"]], i["quantity"]) for i in stored if i["price_id"] in prices]


def _first_period_end(sub: Subscription, items: Items) -> datetime:
    """The end of the first period on the new items, which starts at the renewal."""
    price = items[0][0]
    current = item_rows(sub)[0].price
    if (price.interval, price.interval_count) == (current.interval, current.interval_count):
        return next_period_end(sub, item_rows(sub))
    return boundary(sub.current_period_end, price.interval, price.interval_count, 1)


def plan_at_renewal(sub: Subscription, items: Items, now: datetime) -> ChangePlan:
    """What scheduling ``items`` bills: nothing now; the renewal invoice is for them."""
    end = _first_period_end(sub, items)
    billing = Billing(
        currency=sub.currency,
        period_start=sub.current_period_start,
        period_end=sub.current_period_end,
        next_period_end=end,
        credit_balance=sub.credit_balance + credit.balance(sub.customer_id, sub.currency),
        coupons_now=tuple(active_coupons(sub, now)),
        coupons_next=tuple(active_coupons(sub, sub.current_period_end)),
        pending=tuple(as_line(row) for row in pending_rows(sub)),
    )
    next_lines = [period_line(i, sub.current_period_end, end) for i in priced(items)]
    next_lines += list(billing.pending)
    totals = compute_totals(next_lines, billing.coupons_next, sub.currency, billing.credit_balance)
    return ChangePlan(
        behavior="none",
        timing="period_end",
        billing=billing,
        lines=[],
        invoice_now=None,
        credit_balance_after=billing.credit_balance,
        next_lines=next_lines,
        next_invoice=totals,
        effective_at=sub.current_period_end,
    )


def schedule_change(sub: Subscription, items: Items) -> Subscription:
    sub = lock(sub)
    if sub.status not in LIVE_STATUSES:
        raise Conflict("This subscription has ended and can no longer be changed.")
    sub.scheduled_change = [{"price_id": p.id, "quantity": q} for p, q in items]
    sub.version += 1
    sub.save()
    return sub


def cancel_scheduled_change(sub: Subscription) -> Subscription:
    sub = lock(sub)
    if not sub.scheduled_change:
        raise Conflict("This subscription has no change waiting for its renewal.")
    sub.scheduled_change = None
    sub.version += 1
    sub.save()
    return sub


def apply_at_renewal(sub: Subscription, now: datetime) -> None:
    """Called as the period ends, before the next one is invoiced: the new items replace
    the old; a new interval starts its own cycle at the renewal."""
    items = scheduled_items(sub)
    sub.scheduled_change = None
    if not items:
        return
    rows = item_rows(sub)
    price, current = items[0][0], rows[0].price
    if (price.interval, price.interval_count) != (current.interval, current.interval_count):
        sub.billing_cycle_anchor = sub.current_period_end
    replace_items(sub, rows, items, now)
    sub.save()
