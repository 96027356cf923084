"""Changing a live subscription: its items (with proration), payment method and metadata.

``preview_change`` and ``update_subscription`` build the same ChangePlan from the same rows,
so what a preview promises is exactly what the change bills."""

from datetime import datetime, timedelta

from portal.errors import Conflict, PaymentDeclined, ValidationFailed
from portal.models import (
    Invoice,
    PaymentMethod,
    PendingInvoiceItem,
    Price,
    Subscription,
    SubscriptionItem,
    utcnow,
)
from portal.webhooks import notify

from . import credit
from .invoices import LineSpec, create_invoice, line_rows
from .periods import boundary
from .proration import Billing, ChangePlan, plan_change, plan_interval_change
from .subscription_items import (
    LIVE_STATUSES,
    active_coupons,
    as_line,
    check_items,
    check_method,
    collect,
    item_rows,
    lock,
    next_period_end,
    pending_rows,
    priced,
)

Items = list[tuple[Price, int]]


def check_changeable(sub: Subscription) -> None:
    if sub.status not in LIVE_STATUSES:
        raise Conflict("This subscription has ended and can no longer be changed.")


def check_version(sub: Subscription, expected: int | None) -> None:
    """Refuse a change computed (previewed) against an older state of the subscription."""
    if expected is not None and expected != sub.version:
        raise Conflict(
            "This subscription changed since it was loaded. Refresh the preview and try again.",
            details={"expected_version": expected, "version": sub.version},
        )


def check_plan_change(sub: Subscription, rows: list[SubscriptionItem], items: Items) -> None:
    """Plans change only on a paid-up, active subscription, within its currency; every new
    item is billed on one interval (the current one, or another that starts a new period)."""
    check_changeable(sub)
    if sub.status != "active":
        status = sub.status.replace("_", " ")
        raise Conflict(f"Only an active subscription can change plans; this one is {status}.")
    if sub.cancel_at_period_end:
        raise Conflict("This subscription is set to cancel. Resume it before changing its plan.")
    # A price already on the subscription may stay even if it was archived since.
    check_items(items, keep=frozenset(row.price_id for row in rows))
    current = rows[0].price
    for index, (price, _quantity) in enumerate(items):
        if price.currency != current.currency:
            raise ValidationFailed.field(
                f"items.{index}.price_id",
                f"Use prices in {current.currency}, like the current plan.",
            )
        if _cadence(price) != _cadence(items[0][0]):
            raise ValidationFailed.field(
                f"items.{index}.price_id", "Use prices that are all billed on the same interval."
            )


def _cadence(price) -> tuple[str, int]:
    return price.interval, price.interval_count


def changes_interval(rows: list[SubscriptionItem], items: Items) -> bool:
    """Whether the new items are billed on another interval than the subscription is."""
    return _cadence(items[0][0]) != _cadence(rows[0].price)


def _billing(sub: Subscription, rows: list[SubscriptionItem], now: datetime) -> Billing:
    return Billing(
        currency=sub.currency,
        period_start=sub.current_period_start,
        period_end=sub.current_period_end,
        next_period_end=next_period_end(sub, rows),
        # All the credit the next invoices can use, as create_invoice will apply it.
        credit_balance=sub.credit_balance + credit.balance(sub.customer_id, sub.currency),
        coupons_now=tuple(active_coupons(sub, now)),
        coupons_next=tuple(active_coupons(sub, sub.current_period_end)),
        pending=tuple(as_line(row) for row in pending_rows(sub)),
    )


def _plan(sub, rows, items: Items, behavior: str, timing: str, now: datetime) -> ChangePlan:
    check_plan_change(sub, rows, items)
    old = priced([(row.price, row.quantity) for row in rows])
    billing = _billing(sub, rows, now)
    if changes_interval(rows, items):
        interval, count = _cadence(items[0][0])
        periods = (boundary(now, interval, count, 1), boundary(now, interval, count, 2))
        return plan_interval_change(old, priced(items), behavior, billing, now, periods)
    return plan_change(old, priced(items), behavior, timing, billing, now)


def preview_change(
    sub: Subscription,
    items: Items | None = None,
    *,
    behavior: str = "prorate",
    timing: str = "immediately",
    now: datetime | None = None,
) -> ChangePlan:
    """What replacing the items with ``items`` (default: the same ones) would bill."""
    now = now or utcnow()
    rows = item_rows(sub)
    items = items if items is not None else [(row.price, row.quantity) for row in rows]
    return _plan(sub, rows, items, behavior, timing, now)


def replace_items(sub: Subscription, rows: list[SubscriptionItem], items: Items, now) -> None:
    """Unchanged prices keep their item (and id); quantities change in place."""
    by_price = {row.price_id: row for row in rows}
    wanted = {price.id for price, _ in items}
    gone = [row.id for row in rows if row.price_id not in wanted]
    SubscriptionItem.delete().where(SubscriptionItem.id.in_(gone)).execute()
    for index, (price, quantity) in enumerate(items):
        row = by_price.get(price.id)
        if row is None:
            SubscriptionItem.create(
                company=sub.company_id,
                subscription=sub,
                price=price,
                quantity=quantity,
                created_at=now + timedelta(microseconds=index),
            )
        elif row.quantity != quantity:
            SubscriptionItem.update(quantity=quantity, updated_at=now).where(
                SubscriptionItem.id == row.id
            ).execute()


def _store_pending(sub: Subscription, lines: list[LineSpec], now: datetime) -> None:
    rows = line_rows(lines, now, company=sub.company_id, subscription=sub.id)
    PendingInvoiceItem.insert_many(rows).execute()


def _change_items(sub, items: Items, behavior, timing, now) -> tuple[bool, Invoice | None]:
    """Apply an item change to the locked ``sub``; (whether anything changed, invoice now)."""
    rows = item_rows(sub)
    plan = _plan(sub, rows, items, behavior, timing, now)
    if {(r.price_id, r.quantity) for r in rows} == {(p.id, q) for p, q in items}:
        return False, None
    replace_items(sub, rows, items, now)
    if plan.new_period is not None:
        # The new interval counts its periods from now (saved by update_subscription).
        sub.current_period_start, sub.current_period_end = plan.new_period
        sub.billing_cycle_anchor = now
    if plan.invoice_now is None:
        if plan.lines:
            _store_pending(sub, plan.lines, now)
        return True, None
    invoice = create_invoice(
        company=sub.company,
        customer=sub.customer,
        currency=sub.currency,
        lines=plan.lines,
        subscription=sub,
        coupons=plan.billing.coupons_now,
        period_start=now,
        period_end=plan.next_invoice_date,
        now=now,
    )
    return True, invoice


def update_subscription(
    sub: Subscription,
    *,
    metadata: dict | None = None,
    payment_method: PaymentMethod | None = None,
    items: Items | None = None,
    behavior: str = "prorate",
    timing: str = "immediately",
    expected_version: int | None = None,
    now: datetime | None = None,
    require_payment: bool = False,
) -> Subscription:
    """Change what was given (None = leave as is); item changes are billed per the plan.
    With ``require_payment`` a change whose immediate charge fails raises PaymentDeclined,
    so the caller's transaction rolls the whole change back: nothing changes."""
    now = now or utcnow()
    sub = lock(sub)
    check_changeable(sub)
    check_version(sub, expected_version)
    changed, invoice = False, None
    if metadata is not None:
        sub.metadata, changed = metadata, True
    if payment_method is not None:
        check_method(sub.customer, payment_method)
        sub.payment_method, changed = payment_method, True
    if items is not None:
        items_changed, invoice = _change_items(sub, items, behavior, timing, now)
        changed = changed or items_changed
        if sub.scheduled_change:  # a change made now replaces one waiting for the renewal
            sub.scheduled_change, changed = None, True
    if changed:
        sub.version += 1
        sub.save()
    if invoice is not None and invoice.status == "OPEN":
        charge = collect(invoice, sub, now)
        if require_payment and (charge is None or charge.status != "succeeded"):
            why = charge.failure_message if charge else "There is no payment method to charge."
            raise PaymentDeclined(f"{why} Nothing was changed.")
    sub = Subscription.get_by_id(sub.id)
    if changed:
        notify.subscription(sub)
    return sub
