"""Subscriptions: create (first invoice + charge), cancel now or at period end, resume."""

from datetime import datetime

from portal.db import locked
from portal.errors import Conflict, ValidationFailed
from portal.models import (
    Coupon,
    Customer,
    Discount,
    PaymentMethod,
    Price,
    Subscription,
    SubscriptionItem,
    utcnow,
)

from . import coupons as coupon_rules
from .invoices import LineSpec, create_invoice, pay_invoice
from .money import round_cents
from .periods import boundary, remaining_fraction

MAX_QUANTITY = 10_000
LIVE_STATUSES = ("incomplete", "trialing", "active", "past_due", "unpaid", "paused")


def default_method(customer: Customer) -> PaymentMethod | None:
    return PaymentMethod.get_or_none(
        (PaymentMethod.customer == customer)
        & (PaymentMethod.is_default == True)  # noqa: E712
        & (PaymentMethod.enabled == True)  # noqa: E712
    )


def check_items(items: list[tuple[Price, int]]) -> None:
    """All items recurring, active, distinct, one currency and one billing interval."""
    if not items:
        raise ValidationFailed.field("items", "Add at least one price.")
    first = items[0][0]
    seen = set()
    for index, (price, quantity) in enumerate(items):
        field = f"items.{index}"
        if price.type != "recurring" or not price.active:
            raise ValidationFailed.field(f"{field}.price_id", "Use an active recurring price.")
        if (price.currency, price.interval, price.interval_count) != (
            first.currency,
            first.interval,
            first.interval_count,
        ):
            raise ValidationFailed.field(
                f"{field}.price_id", "All prices need the same currency and billing interval."
            )
        if price.id in seen:
            raise ValidationFailed.field(f"{field}.price_id", "Each price may appear once.")
        if not 1 <= quantity <= MAX_QUANTITY:
            raise ValidationFailed.field(
                f"{field}.quantity", f"Use a quantity from 1 to {MAX_QUANTITY}."
            )
        seen.add(price.id)


def period_lines(items, start: datetime, end: datetime) -> list[LineSpec]:
    return [
        LineSpec(
            description=f"{price.product.name} × {quantity}",
            quantity=quantity,
            unit_amount=price.unit_amount,
            amount=price.unit_amount * quantity,
            period_start=start,
            period_end=end,
            price_id=price.id,
        )
        for price, quantity in items
    ]


def active_coupons(sub: Subscription, period_start: datetime) -> list[Coupon]:
    discounts = Discount.select(Discount, Coupon).join(Coupon).where(Discount.subscription == sub)
    return [d.coupon for d in discounts if coupon_rules.applies(d, period_start)]


def end_once_discounts(sub: Subscription, now: datetime) -> None:
    """A 'once' coupon has done its job after the first invoice it discounted."""
    once = Coupon.select(Coupon.id).where(Coupon.duration == "once")
    Discount.update(ended_at=now).where(
        (Discount.subscription == sub) & Discount.ended_at.is_null() & Discount.coupon.in_(once)
    ).execute()


def apply_coupon(sub: Subscription, coupon: Coupon, now: datetime) -> Discount:
    if not coupon_rules.is_valid(coupon, now):
        raise ValidationFailed.field("coupon_id", "This coupon can no longer be redeemed.")
    if coupon.amount_off is not None and (coupon.currency or "").upper() != sub.currency:
        raise ValidationFailed.field("coupon_id", "This coupon is in another currency.")
    Coupon.update(times_redeemed=Coupon.times_redeemed + 1).where(Coupon.id == coupon.id).execute()
    return Discount.create(
        company=sub.company_id,
        subscription=sub,
        coupon=coupon,
        start=now,
        end=coupon_rules.discount_end(coupon, now),
    )


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
    """Start a subscription now: first period, first invoice, and a charge to the card."""
    now = now or utcnow()
    check_items(items)
    first = items[0][0]
    end = boundary(now, first.interval, first.interval_count, 1)
    method = payment_method or default_method(customer)
    sub = Subscription.create(
        company=company,
        customer=customer,
        payment_method=method,
        status="incomplete",
        currency=first.currency,
        current_period_start=now,
        current_period_end=end,
        billing_cycle_anchor=now,
        metadata=metadata,
    )
    for price, quantity in items:
        SubscriptionItem.create(company=company, subscription=sub, price=price, quantity=quantity)
    if coupon is not None:
        apply_coupon(sub, coupon, now)
    invoice = create_invoice(
        company=company,
        customer=customer,
        currency=sub.currency,
        lines=period_lines(items, now, end),
        subscription=sub,
        coupons=active_coupons(sub, now),
        period_start=now,
        period_end=end,
        now=now,
    )
    end_once_discounts(sub, now)
    if invoice.status == "PAID":
        sub.status = "active"
    sub.save()
    if invoice.status == "OPEN" and method is not None:
        pay_invoice(invoice, method, now)
    return Subscription.get_by_id(sub.id)


def lock(sub: Subscription) -> Subscription:
    """Re-read the subscription under a write lock before changing it."""
    return locked(Subscription.select().where(Subscription.id == sub.id)).get()


def unused_credit_lines(sub: Subscription, now: datetime) -> list[LineSpec]:
    """Credit for the unused part of the current, paid period (negative amounts)."""
    fraction = remaining_fraction(sub.current_period_start, sub.current_period_end, now)
    lines = []
    for item in (
        SubscriptionItem.select(SubscriptionItem, Price)
        .join(Price)
        .where(SubscriptionItem.subscription == sub)
    ):
        credit = round_cents(item.price.unit_amount * item.quantity * fraction)
        if credit:
            lines.append(
                LineSpec(
                    description=f"Unused time on {item.price.product.name} × {item.quantity}",
                    quantity=item.quantity,
                    unit_amount=-round_cents(item.price.unit_amount * fraction),
                    amount=-credit,
                    proration=True,
                    period_start=now,
                    period_end=sub.current_period_end,
                    price_id=item.price_id,
                )
            )
    return lines


def cancel_subscription(
    sub: Subscription,
    *,
    at_period_end: bool,
    prorate: bool = False,
    reason: str | None = None,
    comment: str | None = None,
    now: datetime | None = None,
) -> Subscription:
    """End now (optionally crediting unused time) or schedule the end for the period's end."""
    now = now or utcnow()
    sub = lock(sub)
    if sub.status == "canceled":
        raise Conflict("This subscription has already ended.")
    if reason is not None:
        sub.cancellation_reason, sub.cancellation_comment = reason, comment
    sub.canceled_at = now
    if at_period_end:
        sub.cancel_at_period_end = True
    else:
        if prorate and _current_period_paid(sub):
            credit = unused_credit_lines(sub, now)
            if credit:
                create_invoice(
                    company=sub.company,
                    customer=sub.customer,
                    currency=sub.currency,
                    lines=credit,
                    subscription=sub,
                    period_start=now,
                    period_end=sub.current_period_end,
                    now=now,
                )
        sub.status, sub.ended_at, sub.cancel_at_period_end = "canceled", now, False
        Discount.update(ended_at=now).where(
            (Discount.subscription == sub) & Discount.ended_at.is_null()
        ).execute()
    sub.version += 1
    sub.save()
    return sub


def _current_period_paid(sub: Subscription) -> bool:
    from portal.models import Invoice

    return (
        Invoice.select()
        .where(
            (Invoice.subscription == sub)
            & (Invoice.period_start == sub.current_period_start)
            & (Invoice.status == "PAID")
            & (Invoice.total > 0)
        )
        .exists()
    )


def resume_subscription(sub: Subscription, now: datetime | None = None) -> Subscription:
    """Undo a scheduled cancellation before the period ends."""
    sub = lock(sub)
    if sub.status == "canceled" or not sub.cancel_at_period_end:
        raise Conflict("This subscription is not scheduled to cancel.")
    sub.cancel_at_period_end = False
    sub.canceled_at = None
    sub.cancellation_reason = sub.cancellation_comment = None
    sub.version += 1
    sub.save()
    return sub
