"""View data for the portal pages, fetched with a fixed number of queries per page."""

from dataclasses import dataclass

from peewee import JOIN, fn

from portal.billing import credit, pausing
from portal.billing.invoice_totals import compute_totals
from portal.billing.money import format_money
from portal.db import Compiled, string_agg
from portal.models import (
    Coupon,
    Discount,
    Invoice,
    InvoiceLine,
    PaymentMethod,
    PendingInvoiceItem,
    Price,
    Product,
    Subscription,
    SubscriptionItem,
)
from portal.self_service.scope import shown_invoices

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
    # (price with its product, quantity) replacing the items at the renewal, if scheduled
    scheduled: list | None = None

    @property
    def name(self) -> str:
        return ", ".join(item.price.product.name for item in self.items)

    def money(self, cents: int) -> str:
        return format_money(cents, self.sub.currency)

    @property
    def next_charge_at(self):
        """While paused with a resume date: the renewal charged next."""
        return pausing.next_charge_at(self.sub, self.items[0].price) if self.items else None


# Where the real values go in the compiled statements below (db.Compiled).
CUSTOMER_MARK, COMPANY_MARK, INVOICE_MARK = "\x00customer\x00", "\x00company\x00", "\x00invoice\x00"
LIMIT_MARK, OFFSET_MARK = 987_654_321, 987_654_322


def _subscriptions_query(customer_id, statuses):
    pending = (
        PendingInvoiceItem.select(fn.SUM(PendingInvoiceItem.amount))
        .where(
            (PendingInvoiceItem.subscription == Subscription.id)
            & PendingInvoiceItem.invoice.is_null()
        )
        .alias("pending")
    )
    return (
        Subscription.select(
            Subscription, SubscriptionItem, Price, Product, Discount, Coupon, pending
        )
        .join(SubscriptionItem, JOIN.LEFT_OUTER, attr="item")
        .join(Price, JOIN.LEFT_OUTER)
        .join(Product, JOIN.LEFT_OUTER)
        .switch(Subscription)
        .join(
            Discount,
            JOIN.LEFT_OUTER,
            on=(Discount.subscription == Subscription.id) & Discount.ended_at.is_null(),
            attr="live_discount",
        )
        .join(Coupon, JOIN.LEFT_OUTER)
        .where((Subscription.customer == customer_id) & Subscription.status.in_(statuses))
        .order_by(Subscription.created_at.desc(), Subscription.id, SubscriptionItem.created_at)
    )


_subscriptions_by_status: dict[tuple, Compiled] = {}


def subscriptions(customer_id: str, statuses=LIVE, held=None) -> list[SubscriptionView]:
    """Subscriptions with their items, prices, products, live discounts and the changes
    waiting for renewal, in one statement (one row per item and live discount). ``held``
    is the customer's credit per currency, which next amounts count (read when not given)."""
    statuses = tuple(statuses)
    query = _subscriptions_by_status.get(statuses)
    if query is None:
        query = _subscriptions_by_status[statuses] = Compiled(
            lambda customer: _subscriptions_query(customer, statuses), customer=CUSTOMER_MARK
        )
    rows = query.rows(customer=customer_id)
    subs, items, coupons, pending_amounts = {}, {}, {}, {}
    for row in rows:
        sub = subs.setdefault(row.id, row)
        item, discount = row.item, row.live_discount
        if item is not None and item.id is not None:
            items.setdefault(sub.id, {}).setdefault(item.id, item)
        if discount is not None and discount.id is not None:
            coupons.setdefault(sub.id, {}).setdefault(discount.id, discount.coupon)
        pending_amounts[sub.id] = row.pending or 0
    if held is None:
        held = credit.balances(customer_id) if subs else {}
    scheduled = _scheduled(subs.values())
    views = []
    for sub in subs.values():
        sub_items = list(items.get(sub.id, {}).values())
        sub_coupons = list(coupons.get(sub.id, {}).values())
        later = scheduled.get(sub.id)
        # The next invoice is for the scheduled items when a change waits for it.
        billed = later or [(i.price, i.quantity) for i in sub_items]
        lines = [_Line(price.unit_amount * quantity) for price, quantity in billed]
        lines.append(_Line(int(pending_amounts[sub.id])))
        available = sub.credit_balance + held.get(sub.currency, 0)
        totals = compute_totals(lines, sub_coupons, sub.currency, available)
        views.append(SubscriptionView(sub, sub_items, sub_coupons, totals.amount_due, later))
    return views


def _scheduled(subs) -> dict[str, list]:
    """Subscription id → the (price, quantity) of its scheduled change: one statement for
    the whole page, and only when a change is scheduled."""
    wanted = {sub.id: sub.scheduled_change for sub in subs if sub.scheduled_change}
    ids = {item["price_id"] for change in wanted.values() for item in change}
    if not ids:
        return {}
    prices = {p.id: p for p in Price.select(Price, Product).join(Product).where(Price.id.in_(ids))}
    return {
        sub_id: [(prices[i["price_id"]], i["quantity"]) for i in change if i["price_id"] in prices]
        for sub_id, change in wanted.items()
    }


@dataclass
class _Line:
    amount: int


_METHODS = Compiled(
    lambda customer: (
        PaymentMethod.select()
        .where((PaymentMethod.customer == customer) & (PaymentMethod.enabled == True))  # noqa: E712
        .order_by(PaymentMethod.is_default.desc(), PaymentMethod.created_at.desc())
    ),
    customer=CUSTOMER_MARK,
)
_UNPAID = Compiled(
    lambda customer: (
        Invoice.select()
        .where((Invoice.customer == customer) & (Invoice.status == "OPEN"))
        .order_by(Invoice.created_at.desc())
        .limit(20)
    ),
    customer=CUSTOMER_MARK,
)


def methods(customer_id: str) -> list[PaymentMethod]:
    return list(_METHODS.rows(customer=customer_id))


def unpaid_invoices(customer_id: str) -> list[Invoice]:
    return list(_UNPAID.rows(customer=customer_id))


COUPON_SEPARATOR = "\x1f"  # never in a coupon name (names hold no control characters)


def _invoice_detail_query(company_id, customer_id, invoice_id):
    paid_with = PaymentMethod.alias("paid_with")
    names = (
        Coupon.select(string_agg(Coupon.name, COUPON_SEPARATOR))
        .join(Discount)
        .where(Discount.subscription == Invoice.subscription)
        .alias("coupon_names")
    )
    return (
        Invoice.select(Invoice, paid_with, names)
        .join(paid_with, JOIN.LEFT_OUTER, on=(paid_with.id == Invoice.payment_method), attr="paid")
        .where(
            (Invoice.id == invoice_id)
            & (Invoice.company == company_id)
            & (Invoice.customer == customer_id)
            & shown_invoices()
        )
    )


_INVOICE_DETAIL = Compiled(
    _invoice_detail_query,
    company_id=COMPANY_MARK,
    customer_id=CUSTOMER_MARK,
    invoice_id=INVOICE_MARK,
)
_INVOICE_LINES = Compiled(
    lambda invoice: (
        InvoiceLine.select()
        .where(InvoiceLine.invoice == invoice)
        .order_by(InvoiceLine.created_at, InvoiceLine.id)
    ),
    invoice=INVOICE_MARK,
)


def invoice_detail(company_id: str, customer_id: str, invoice_id: str) -> Invoice | None:
    """The customer's invoice with the method it was paid with (``paid_with``) and the
    names of its subscription's coupons (``coupon_names``), in one statement."""
    rows = _INVOICE_DETAIL.rows(
        company_id=company_id, customer_id=customer_id, invoice_id=invoice_id
    )
    row = next(iter(rows), None)
    if row is not None:
        row.paid_with = row.paid if row.paid is not None and row.paid.id is not None else None
        row.coupon_names = [n for n in (row.coupon_names or "").split(COUPON_SEPARATOR) if n]
    return row


def invoice_lines(invoice_id: str) -> list[InvoiceLine]:
    """The invoice's lines in creation order."""
    return list(_INVOICE_LINES.rows(invoice=invoice_id))


_INVOICE_COUNT = Compiled(
    lambda customer: Invoice.select(fn.COUNT(Invoice.id)).where(
        (Invoice.customer == customer) & shown_invoices()
    ),
    customer=CUSTOMER_MARK,
)
_INVOICE_PAGE = Compiled(
    # Same order as the merchant API: invoices issued in the same instant by number.
    lambda customer, limit, offset: (
        Invoice.select()
        .where((Invoice.customer == customer) & shown_invoices())
        .order_by(Invoice.created_at.desc(), Invoice.number.desc())
        .limit(limit)
        .offset(offset)
    ),
    customer=CUSTOMER_MARK,
    limit=LIMIT_MARK,
    offset=OFFSET_MARK,
)


def invoice_page(customer_id: str, page: int, per_page: int = 20) -> tuple[list[Invoice], int, int]:
    """One page, newest first, the total count and the page shown (two queries whatever the
    page). A page past the end shows the last one: a stale link still lists invoices."""
    total = _INVOICE_COUNT.scalar(customer=customer_id)
    page = min(page, max(1, -(-total // per_page)))
    offset = (page - 1) * per_page
    rows = list(_INVOICE_PAGE.rows(customer=customer_id, limit=per_page, offset=offset))
    return rows, total, page
