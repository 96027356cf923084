"""Subscriptions: create (first invoice + charge), cancel now or at period end, resume, renew."""

from datetime import datetime, timedelta

from portal.errors import Conflict
from portal.models import (
    Coupon,
    Customer,
    Discount,
    Invoice,
    PaymentMethod,
    PendingInvoiceItem,
    Price,
    Subscription,
    SubscriptionItem,
    utcnow,
)
from portal.webhooks import notify

from . import credit, dunning, pausing, scheduled_changes
from .invoices import LineSpec, create_invoice, pay_invoice
from .periods import boundary
from .proration import period_line
from .subscription_items import (
    LIVE_STATUSES,
    RENEWING,
    active_coupons,
    apply_coupon,
    as_line,
    check_coupon,
    check_items,
    check_method,
    collect,
    default_method,
    end_once_discounts,
    item_rows,
    lock,
    next_period_end,
    pending_rows,
    priced,
)
from .unused_time import unused_time_credit


def _start(company, customer, items, method, metadata, now: datetime) -> Subscription:
    """The subscription row and its item rows, first period starting ``now``."""
    first = items[0][0]
    sub = Subscription.create(
        company=company,
        customer=customer,
        payment_method=method,
        status="incomplete",
        currency=first.currency,
        current_period_start=now,
        current_period_end=boundary(now, first.interval, first.interval_count, 1),
        billing_cycle_anchor=now,
        metadata=metadata,
        created_at=now,
    )
    for index, (price, quantity) in enumerate(items):
        # Items have no position column: a microsecond step keeps them in the given order.
        SubscriptionItem.create(
            company=company,
            subscription=sub,
            price=price,
            quantity=quantity,
            created_at=now + timedelta(microseconds=index),
            updated_at=now,
        )
    return sub


def create_subscription(
    company,
    customer: Customer,
    items: list[tuple[Price, int]],
    *,
    payment_method: PaymentMethod | None = None,
    coupon: Coupon | None = None,
    metadata: dict | None = None,
    now: datetime | None = None,
) -> Subscription:
    """Start a subscription now: first period, first invoice, and a charge to the card.
    Without a usable card, or when the charge fails, it stays ``incomplete``."""
    now = now or utcnow()
    check_items(items)  # every check runs before anything is written
    if payment_method is not None:
        check_method(customer, payment_method)
    if coupon is not None:
        check_coupon(coupon, items[0][0].currency, now)
    method = payment_method or default_method(customer)
    sub = _start(company, customer, items, method, metadata, now)
    if coupon is not None:
        apply_coupon(sub, coupon, now)
    end = sub.current_period_end
    invoice = create_invoice(
        company=company,
        customer=customer,
        currency=sub.currency,
        lines=[period_line(i, now, end) for i in priced(items)],
        subscription=sub,
        coupons=active_coupons(sub, now),
        period_start=now,
        period_end=end,
        now=now,
    )
    end_once_discounts(sub, now)
    sub.status = "active" if invoice.status == "PAID" else sub.status
    sub.save()
    if invoice.status == "OPEN" and method is not None:
        pay_invoice(invoice, method, now)
    return notify.subscription(Subscription.get_by_id(sub.id), "subscription.created")


def _final_invoice(sub: Subscription, extra: list[LineSpec], now: datetime) -> Invoice | None:
    """Bill what is still pending (plus ``extra`` lines) when a subscription ends."""
    pending = pending_rows(sub)
    lines = [as_line(row) for row in pending] + extra
    if not lines:
        return None
    invoice = create_invoice(
        company=sub.company,
        customer=sub.customer,
        currency=sub.currency,
        lines=lines,
        subscription=sub,
        period_start=min(line.period_start or now for line in lines),
        period_end=sub.current_period_end,
        now=now,
    )
    ids = [row.id for row in pending]
    PendingInvoiceItem.update(invoice=invoice).where(PendingInvoiceItem.id.in_(ids)).execute()
    return invoice


def _end(
    sub: Subscription,
    ended_at: datetime,
    extra: list[LineSpec],
    now: datetime,
    refund: bool = False,
) -> None:
    """Cancel for good: final invoice for pending lines, discounts stop, and credit left on
    the subscription goes to the customer (their balance, or refunded when ``refund``)."""
    invoice = _final_invoice(sub, extra, now)
    sub.status, sub.ended_at, sub.cancel_at_period_end = "canceled", ended_at, False
    sub.pause_behavior = sub.pause_resumes_at = sub.pause_source = None
    sub.scheduled_change = None
    Discount.update(ended_at=ended_at).where(
        (Discount.subscription == sub) & Discount.ended_at.is_null()
    ).execute()
    sub.version += 1
    sub.save()
    if invoice is not None and invoice.status == "OPEN":
        collect(invoice, sub, now)
    credit.release_subscription_credit(sub, now, refund)


def cancel_subscription(
    sub: Subscription,
    *,
    at_period_end: bool,
    prorate: bool = False,
    reason: str | None = None,
    comment: str | None = None,
    now: datetime | None = None,
    refund: bool = False,
) -> Subscription:
    """End now (optionally crediting unused time: to the customer's balance, or refunded to
    the original payment method when ``refund``) or schedule the end for the period's end."""
    now = now or utcnow()
    sub = lock(sub)
    if sub.status not in LIVE_STATUSES:
        raise Conflict("This subscription has already ended.")
    if reason is not None:
        sub.cancellation_reason, sub.cancellation_comment = reason, comment
    sub.canceled_at = now
    if at_period_end:
        sub.cancel_at_period_end = True
        sub.version += 1
        sub.save()
        notify.subscription(sub)
        return sub
    unused = unused_time_credit(sub, now) if prorate else []
    _end(sub, now, unused, now, refund)
    return notify.subscription(Subscription.get_by_id(sub.id), "subscription.deleted")


def resume_subscription(sub: Subscription, now: datetime | None = None) -> Subscription:
    """``POST /subscriptions/:id/resume``: a paused collection resumes (first, when it is
    also set to cancel: the cancellation stays); otherwise a scheduled cancellation is
    undone. A subscription dunning paused resumes only by paying its open invoice."""
    sub = lock(sub)
    if pausing.collection_paused(sub):
        return pausing.resume_paused(sub, now)
    if sub.status == "paused" and not sub.cancel_at_period_end:
        raise Conflict(pausing.DUNNING_PAUSED)
    return undo_cancellation(sub)


def undo_cancellation(sub: Subscription) -> Subscription:
    """Undo a scheduled cancellation before the period ends."""
    sub = lock(sub)
    if sub.status not in LIVE_STATUSES or not sub.cancel_at_period_end:
        raise Conflict("This subscription is not scheduled to cancel.")
    sub.cancel_at_period_end = False
    sub.canceled_at = None
    sub.cancellation_reason = sub.cancellation_comment = None
    sub.version += 1
    sub.save()
    notify.subscription(sub)
    return sub


def _renew_once(sub: Subscription, now: datetime, pause: str | None = None) -> Invoice | None:
    """Move to the next period and invoice it: items, pending lines, current coupons. While
    collection is paused (``pause``: its behavior) nothing is charged and no credit taken:
    ``void`` writes no invoice (pending lines and once-coupons wait for the next billed
    one), ``keep_as_draft`` writes a draft, ``mark_uncollectible`` an uncollectible one.
    A change scheduled for the renewal takes over first: the new period is for its items,
    so it waits for a renewal that is invoiced (pausing refuses one, but never bill a new
    period nothing invoices)."""
    if sub.scheduled_change and pause != "void":
        scheduled_changes.apply_at_renewal(sub, now)
    rows = item_rows(sub)
    start, end = sub.current_period_end, next_period_end(sub, rows)
    Discount.update(ended_at=Discount.end).where(
        (Discount.subscription == sub) & Discount.ended_at.is_null() & (Discount.end <= start)
    ).execute()
    invoice = None
    if pause != "void":
        pending = pending_rows(sub)
        items = priced([(row.price, row.quantity) for row in rows])
        invoice = create_invoice(
            company=sub.company,
            customer=sub.customer,
            currency=sub.currency,
            lines=[period_line(i, start, end) for i in items] + [as_line(p) for p in pending],
            subscription=sub,
            coupons=active_coupons(sub, start),
            period_start=start,
            period_end=end,
            now=now,
            draft=pause == "keep_as_draft",
            use_credit=pause is None,
        )
        ids = [row.id for row in pending]
        PendingInvoiceItem.update(invoice=invoice).where(PendingInvoiceItem.id.in_(ids)).execute()
        end_once_discounts(sub, now)
        if pause == "mark_uncollectible":
            pausing.mark_uncollectible(invoice, now)
    sub.current_period_start, sub.current_period_end = start, end
    # Billed again: a customer's next pause counts from scratch.
    sub.pause_skipped = 0 if pause is None else sub.pause_skipped + 1
    sub.version += 1
    sub.save()
    return invoice


def renew_subscription(sub: Subscription, now: datetime | None = None) -> Subscription:
    """Close every period that has ended by ``now``: invoice and charge the next one (while
    collection is paused, as its behavior says), or end the subscription when it was set to
    cancel; a pause whose date has come resumes first. Calling it again at the same instant
    (or before the new period ends) does nothing."""
    now = now or utcnow()
    sub = lock(sub)
    while sub.current_period_end <= now and sub.status in LIVE_STATUSES:
        # A pause that ends on or before this renewal ends first: the renewal is billed.
        sub = pausing.resume_due(sub, sub.current_period_end)
        if sub.cancel_at_period_end:
            _end(sub, sub.current_period_end, [], now)
        elif sub.status == "incomplete":
            # The first invoice was never paid: the subscription never really started.
            sub.status, sub.ended_at = "incomplete_expired", sub.current_period_end
            sub.version += 1
            sub.save()
        elif pausing.collection_paused(sub):
            _renew_once(sub, now, sub.pause_behavior)
        elif sub.status in RENEWING:
            invoice = _renew_once(sub, now)
            if invoice.status == "OPEN":
                collect(invoice, sub, now)
                dunning.renewal_failed(invoice.id, now)  # unless the charge succeeded
        else:
            break
        sub = Subscription.get_by_id(sub.id)
        ended = sub.status not in LIVE_STATUSES
        notify.subscription(sub, "subscription.deleted" if ended else "subscription.updated")
    return pausing.resume_due(sub, now)
