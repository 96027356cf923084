"""Moving a subscription to another billing interval (monthly to yearly and back): the new
plan's first period starts at the change and is charged in full at once, less the unused
rest of the old period; the preview and the change bill the same amounts."""

from datetime import datetime

import pytest

from portal.billing.changes import preview_change, update_subscription
from portal.billing.subscriptions import create_subscription, renew_subscription
from portal.errors import ValidationFailed
from portal.models import Charge, Invoice, InvoiceLine, Subscription

JAN1 = datetime(2026, 1, 1)
JAN11 = datetime(2026, 1, 11)  # 21 of 31 days of January left
UNUSED_JANUARY = 677  # 1000 × 21/31 = 677.42 → 677


def lines_of(invoice):
    rows = InvoiceLine.select().where(InvoiceLine.invoice == invoice)
    return [
        (row.amount, row.period_start, row.period_end)
        for row in rows.order_by(InvoiceLine.created_at)
    ]


def monthly(shop):
    return create_subscription(shop.company, shop.customer, [(shop.basic, 1)], now=JAN1)


def test_monthly_to_yearly_starts_a_year_now_and_credits_the_unused_month(shop):
    sub = monthly(shop)
    plan = preview_change(sub, [(shop.basic_y, 1)], now=JAN11)
    assert [line.amount for line in plan.lines] == [-UNUSED_JANUARY, 10000]
    assert plan.amount_due_now == 10000 - UNUSED_JANUARY
    assert plan.next_invoice_date == datetime(2027, 1, 11)
    assert plan.next_invoice.amount_due == 10000

    changed = update_subscription(sub, items=[(shop.basic_y, 1)], now=JAN11)
    assert (changed.current_period_start, changed.current_period_end) == (
        JAN11,
        datetime(2027, 1, 11),
    )
    assert changed.billing_cycle_anchor == JAN11
    invoice = Invoice.get_by_id(changed.latest_invoice_id)
    assert (invoice.amount_due, invoice.status) == (plan.amount_due_now, "PAID")
    assert lines_of(invoice)[1] == (10000, JAN11, datetime(2027, 1, 11))
    [charge] = Charge.select().where(Charge.invoice == invoice)
    assert (charge.amount, charge.status) == (10000 - UNUSED_JANUARY, "succeeded")

    renewed = renew_subscription(Subscription.get_by_id(sub.id), now=datetime(2027, 1, 11))
    assert renewed.current_period_end == datetime(2028, 1, 11)
    assert Invoice.get_by_id(renewed.latest_invoice_id).amount_due == 10000


def test_yearly_to_monthly_leaves_the_unused_year_as_credit(shop):
    sub = create_subscription(shop.company, shop.customer, [(shop.basic_y, 1)], now=JAN1)
    plan = preview_change(sub, [(shop.basic, 1)], now=JAN11)
    unused_year = round(10000 * 355 / 365)
    assert [line.amount for line in plan.lines] == [-unused_year, 1000]
    assert plan.amount_due_now == 0
    assert plan.credit_balance_after == unused_year - 1000
    assert plan.next_invoice_date == datetime(2026, 2, 11)
    # The credit pays the next months before the card is charged again.
    assert plan.next_invoice.amount_due == 0


def test_without_proration_the_new_period_is_charged_in_full(shop):
    sub = monthly(shop)
    plan = preview_change(sub, [(shop.basic_y, 1)], behavior="none", now=JAN11)
    assert [line.amount for line in plan.lines] == [10000]


def test_an_interval_change_is_always_charged_now(shop):
    sub = monthly(shop)
    plan = preview_change(sub, [(shop.basic_y, 1)], timing="period_end", now=JAN11)
    assert (plan.timing, plan.amount_due_now) == ("immediately", 10000 - UNUSED_JANUARY)


def test_new_items_on_two_intervals_are_refused(shop):
    sub = monthly(shop)
    with pytest.raises(ValidationFailed) as caught:
        preview_change(sub, [(shop.basic_y, 1), (shop.pro, 1)], now=JAN11)
    assert "items.1.price_id" in caught.value.fields
