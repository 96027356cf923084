"""The parts of a subscription that billing works with: its items, coupons, pending lines,
and collecting an invoice. Shared by the lifecycle (subscriptions.py) and changes.py."""

from datetime import datetime

from portal.db import locked
from portal.errors import ValidationFailed
from portal.models import (
    Charge,
    Coupon,
    Customer,
    Discount,
    Invoice,
    PaymentMethod,
    PendingInvoiceItem,
    Price,
    Product,
    Subscription,
    SubscriptionItem,
)

from . import coupons as coupon_rules
from .invoices import LineSpec, pay_invoice
from .periods import period_after
from .proration import Priced

MAX_QUANTITY = 10_000
LIVE_STATUSES = ("incomplete", "trialing", "active", "past_due", "unpaid", "paused")
RENEWING = ("trialing", "active", "past_due")
STATUSES = (*LIVE_STATUSES, "incomplete_expired", "canceled")


def default_method(customer: Customer) -> PaymentMethod | None:
    return PaymentMethod.get_or_none(
        (PaymentMethod.customer == customer)
        & (PaymentMethod.is_default == True)  # noqa: E712
        & (PaymentMethod.enabled == True)  # noqa: E712
    )


def check_method(customer: Customer, method: PaymentMethod) -> None:
    if method.customer_id != customer.id:
        raise ValidationFailed.field("instrument_id", "This payment method is another customer's.")
    if not method.enabled:
        raise ValidationFailed.field("instrument_id", "This payment method is disabled.")


def check_items(items: list[tuple[Price, int]], keep: frozenset = frozenset()) -> None:
    """All items recurring, active (or already in ``keep``), distinct, one currency and one
    billing interval."""
    if not items:
        raise ValidationFailed.field("items", "Add at least one price.")
    first = items[0][0]
    seen = set()
    for index, (price, quantity) in enumerate(items):
        field = f"items.{index}"
        if price.type != "recurring" or not (price.active or price.id in keep):
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


def priced(items: list[tuple[Price, int]]) -> list[Priced]:
    return [Priced(p.id, p.product.name, p.unit_amount, q) for p, q in items]


def item_rows(sub: Subscription) -> list[SubscriptionItem]:
    """The subscription's items with their prices and products, oldest first."""
    return list(
        SubscriptionItem.select(SubscriptionItem, Price, Product)
        .join(Price)
        .join(Product)
        .where(SubscriptionItem.subscription == sub)
        .order_by(SubscriptionItem.created_at, SubscriptionItem.id)
    )


def current_items(sub: Subscription) -> list[Priced]:
    return priced([(row.price, row.quantity) for row in item_rows(sub)])


def next_period_end(sub: Subscription, rows: list[SubscriptionItem]) -> datetime:
    """End of the period after the current one, counted from the billing cycle anchor."""
    price = rows[0].price
    return period_after(
        sub.billing_cycle_anchor, price.interval, price.interval_count, sub.current_period_end
    )


def active_coupons(sub: Subscription, period_start: datetime) -> list[Coupon]:
    discounts = (
        Discount.select(Discount, Coupon)
        .join(Coupon)
        .where(Discount.subscription == sub)
        .order_by(Discount.start, Discount.id)
    )
    return [d.coupon for d in discounts if coupon_rules.applies(d, period_start)]


def end_once_discounts(sub: Subscription, now: datetime) -> None:
    """A 'once' coupon has done its job after the first invoice it discounted."""
    once = Coupon.select(Coupon.id).where(Coupon.duration == "once")
    Discount.update(ended_at=now).where(
        (Discount.subscription == sub) & Discount.ended_at.is_null() & Discount.coupon.in_(once)
    ).execute()


def check_coupon(coupon: Coupon, currency: str, now: datetime) -> None:
    if not coupon_rules.is_valid(coupon, now):
        raise ValidationFailed.field("coupon_id", "This coupon can no longer be redeemed.")
    if coupon.amount_off is not None and (coupon.currency or "").upper() != currency.upper():
        raise ValidationFailed.field("coupon_id", "This coupon is in another currency.")


def apply_coupon(sub: Subscription, coupon: Coupon, now: datetime) -> Discount:
    check_coupon(coupon, sub.currency, now)
    Coupon.update(times_redeemed=Coupon.times_redeemed + 1).where(Coupon.id == coupon.id).execute()
    return Discount.create(
        company=sub.company_id,
        subscription=sub,
        coupon=coupon,
        start=now,
        end=coupon_rules.discount_end(coupon, now),
    )


def lock(sub: Subscription) -> Subscription:
    """Re-read the subscription under a write lock before changing it."""
    return locked(Subscription.select().where(Subscription.id == sub.id)).get()


def collect(invoice: Invoice, sub: Subscription, now: datetime) -> Charge | None:
    """Charge an open invoice to the subscription's method (else the customer's default).
    With no usable method the invoice stays open as failed and the subscription falls due."""
    method = usual_method(sub)
    if method is not None:
        return pay_invoice(invoice, method, now)
    Invoice.update(payment_failed=True).where(Invoice.id == invoice.id).execute()
    Subscription.update(status="past_due", version=Subscription.version + 1).where(
        (Subscription.id == sub.id) & (Subscription.status == "active")
    ).execute()
    return None


def usual_method(sub: Subscription) -> PaymentMethod | None:
    """What pays the subscription: its own method while enabled, else the default."""
    method = sub.payment_method if sub.payment_method_id else None
    if method is None or not method.enabled:
        method = default_method(sub.customer_id)
    return method


def pending_rows(sub: Subscription) -> list[PendingInvoiceItem]:
    return list(
        PendingInvoiceItem.select()
        .where((PendingInvoiceItem.subscription == sub) & PendingInvoiceItem.invoice.is_null())
        .order_by(PendingInvoiceItem.created_at, PendingInvoiceItem.id)
    )


def as_line(row: PendingInvoiceItem) -> LineSpec:
    return LineSpec(
        row.description,
        row.quantity,
        row.unit_amount,
        row.amount,
        row.proration,
        row.period_start,
        row.period_end,
        row.price_id,
    )
