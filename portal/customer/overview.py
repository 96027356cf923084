"""View data for the portal pages, fetched with a fixed number of queries per page."""

from dataclasses import dataclass

from portal.billing import credit
from portal.billing.invoice_totals import compute_totals
from portal.billing.money import format_money
from portal.models import (
    Charge,
    Coupon,
    Discount,
    Invoice,
    PaymentMethod,
    PendingInvoiceItem,
    Price,
    Product,
    Subscription,
    SubscriptionItem,
    utcnow,
)

LIVE = ("trialing", "active", "past_due", "unpaid", "incomplete", "paused")


def cadence(price: Price) -> str:
    """'month', '3 months', 'year'."""
    count = price.interval_count or 1
    return price.interval if count == 1 else f"{count} {price.interval}s"


@dataclass
class SubscriptionView:
    sub: Subscription
    items: list
    coupons: list
    next_amount: int

    @property
    def name(self) -> str:
        return ", ".join(item.price.product.name for item in self.items)

    def money(self, cents: int) -> str:
        return format_money(cents, self.sub.currency)


def subscriptions(customer_id: str, statuses=LIVE, held=None) -> list[SubscriptionView]:
    """Subscriptions with items, prices, products, live discounts and changes waiting for
    renewal: four queries (five without ``held``, the customer's credit per currency, which
    next amounts count)."""
    subs = list(
        Subscription.select()
        .where((Subscription.customer == customer_id) & Subscription.status.in_(statuses))
        .order_by(Subscription.created_at.desc())
    )
    ids = [s.id for s in subs]
    items, coupons, pending = {i: [] for i in ids}, {i: [] for i in ids}, {i: [] for i in ids}
    if ids:
        for item in (
            SubscriptionItem.select(SubscriptionItem, Price, Product)
            .join(Price)
            .join(Product)
            .where(SubscriptionItem.subscription.in_(ids))
            .order_by(SubscriptionItem.created_at)
        ):
            items[item.subscription_id].append(item)
        for discount in (
            Discount.select(Discount, Coupon)
            .join(Coupon)
            .where(Discount.subscription.in_(ids) & Discount.ended_at.is_null())
        ):
            coupons[discount.subscription_id].append(discount.coupon)
        # Changes billed at renewal: the next invoice carries them, so its amount does too.
        for row in PendingInvoiceItem.select(
            PendingInvoiceItem.subscription, PendingInvoiceItem.amount
        ).where(PendingInvoiceItem.subscription.in_(ids) & PendingInvoiceItem.invoice.is_null()):
            pending[row.subscription_id].append(_Line(row.amount))
    views = []
    if held is None:
        held = credit.balances(customer_id) if subs else {}
    for sub in subs:
        lines = [_Line(i.price.unit_amount * i.quantity) for i in items[sub.id]] + pending[sub.id]
        available = sub.credit_balance + held.get(sub.currency, 0)
        totals = compute_totals(lines, coupons[sub.id], sub.currency, available)
        views.append(SubscriptionView(sub, items[sub.id], coupons[sub.id], totals.amount_due))
    return views


@dataclass
class _Line:
    amount: int


def methods(customer_id: str) -> list[PaymentMethod]:
    return list(
        PaymentMethod.select()
        .where((PaymentMethod.customer == customer_id) & (PaymentMethod.enabled == True))  # noqa: E712
        .order_by(PaymentMethod.is_default.desc(), PaymentMethod.created_at.desc())
    )


def unpaid_invoices(customer_id: str) -> list[Invoice]:
    return list(
        Invoice.select()
        .where((Invoice.customer == customer_id) & (Invoice.status == "OPEN"))
        .order_by(Invoice.created_at.desc())
        .limit(20)
    )


def invoice_page(customer_id: str, page: int, per_page: int = 20) -> tuple[list[Invoice], int, int]:
    """One page, newest first, the total count and the page shown (two queries whatever the
    page). A page past the end shows the last one: a stale link still lists invoices."""
    select = Invoice.select().where(Invoice.customer == customer_id)
    total = select.count()
    page = min(page, max(1, -(-total // per_page)))
    rows = list(
        # Same order as the merchant API: invoices issued in the same instant by number.
        select.order_by(Invoice.created_at.desc(), Invoice.number.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return rows, total, page


@dataclass
class PastDue:
    """What the customer owes late, why, and which invoice to pay first."""

    amount: int
    currency: str
    reason: str
    invoice: Invoice


def past_due(customer_id: str) -> PastDue | None:
    """The banner's facts in one query, whatever the customer owes (constant per page)."""
    latest_failure = (
        Charge.select(Charge.failure_message)
        .where((Charge.invoice == Invoice.id) & (Charge.status == "failed"))
        .order_by(Charge.created_at.desc())
        .limit(1)
    )
    late = list(
        Invoice.select(Invoice, latest_failure.alias("failure"))
        .where(
            (Invoice.customer == customer_id)
            & (Invoice.status == "OPEN")
            & (Invoice.payment_failed | (Invoice.due_date < utcnow()))
        )
        .order_by(Invoice.created_at)
    )
    if not late:
        return None
    first = late[0]
    reason = next((i.failure for i in reversed(late) if i.failure), None)
    owed = sum(i.amount_due - i.amount_paid for i in late if i.currency == first.currency)
    return PastDue(owed, first.currency, reason or "The payment date has passed.", first)
