"""Subscription lifecycle in the domain: create, change items, cancel, resume, renew.

Every call takes an explicit ``now`` so periods and prorations are exact."""

from datetime import datetime, timedelta

import pytest
from support import customer_credit, stored_price

from portal.billing.changes import preview_change, update_subscription
from portal.billing.instruments import add_instrument
from portal.billing.subscriptions import (
    cancel_subscription,
    create_subscription,
    renew_subscription,
    resume_subscription,
)
from portal.errors import Conflict, ValidationFailed
from portal.models import (
    Coupon,
    Customer,
    Discount,
    Invoice,
    InvoiceLine,
    PendingInvoiceItem,
    Price,
    Subscription,
    SubscriptionItem,
)

T0 = datetime(2026, 1, 1)
JAN11 = datetime(2026, 1, 11)  # 21 of 31 days left in the first monthly period


def subscribe(shop, *items, now=T0, **kwargs):
    pairs = [(item, 1) if isinstance(item, Price) else item for item in items]
    return create_subscription(shop.company, shop.customer, pairs, now=now, **kwargs)


def invoices(sub):
    return list(Invoice.select().where(Invoice.subscription == sub).order_by(Invoice.number))


def amounts(invoice):
    lines = InvoiceLine.select().where(InvoiceLine.invoice == invoice)
    return [line.amount for line in lines.order_by(InvoiceLine.created_at)]


# ---- create --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "interval", "end"),
    [
        (datetime(2026, 1, 31, 9), "month", datetime(2026, 2, 28, 9)),
        (datetime(2028, 1, 31), "month", datetime(2028, 2, 29)),
        (datetime(2026, 3, 15), "year", datetime(2027, 3, 15)),
    ],
)
def test_create_bills_the_first_period_and_charges_the_default_card(shop, start, interval, end):
    price = shop.basic if interval == "month" else shop.basic_y
    sub = subscribe(shop, (price, 2), now=start)
    assert (sub.status, sub.current_period_start, sub.current_period_end) == ("active", start, end)
    (invoice,) = invoices(sub)
    assert (invoice.status, invoice.amount_due, invoice.period_end) == (
        "PAID",
        2 * price.unit_amount,
        end,
    )
    assert sub.latest_invoice_id == invoice.id and sub.payment_method_id == shop.card.id
    assert [call[1] for call in shop.gateway.charge_calls] == [2 * price.unit_amount]


def test_declined_card_leaves_the_subscription_incomplete_with_an_open_invoice(shop):
    declined = add_instrument(shop.customer, "tok_chargeDeclined")
    sub = subscribe(shop, shop.pro, payment_method=declined)
    (invoice,) = invoices(sub)
    assert (sub.status, invoice.status, invoice.payment_failed) == ("incomplete", "OPEN", True)


def test_no_card_means_incomplete_and_no_charge(shop):
    shop.card.delete_instance()
    sub = subscribe(shop, shop.pro)
    assert sub.status == "incomplete" and invoices(sub)[0].status == "OPEN"
    assert shop.gateway.charge_calls == []


def test_a_once_coupon_discounts_the_first_invoice_only(shop):
    coupon = Coupon.create(company=shop.company, duration="once", percent_off=50)
    sub = subscribe(shop, shop.basic, coupon=coupon)
    assert invoices(sub)[0].amount_due == 500
    assert Discount.get(Discount.subscription == sub).ended_at == T0
    renewed = renew_subscription(sub, now=datetime(2026, 2, 1))
    assert invoices(renewed)[-1].amount_due == 1000


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "one_time"}, "items.1.price_id"),
        ({"active": False}, "items.1.price_id"),
        ({"interval": "year"}, "items.1.price_id"),
        ({"currency": "EUR"}, "items.1.price_id"),
    ],
)
def test_create_refuses_unsuitable_prices_and_writes_nothing(shop, change, field):
    odd = stored_price(shop.company, "Odd", 500, **{"interval": "month", **change})
    with pytest.raises(ValidationFailed) as caught:
        subscribe(shop, shop.basic, odd)
    assert field in caught.value.fields
    assert Subscription.select().count() == 0


def foreign_card(shop):
    other = Customer.create(company=shop.company, first_name="Bob", last_name="Builder")
    return {"payment_method": add_instrument(other, "tok_visa")}


def disabled_card(shop):
    card = add_instrument(shop.customer, "tok_mastercard")
    card.enabled = False
    card.save()
    return {"payment_method": card}


def used_up_coupon(shop):
    coupon = Coupon.create(company=shop.company, duration="once", percent_off=5, max_redemptions=0)
    return {"coupon": coupon}


def euro_coupon(shop):
    coupon = Coupon.create(company=shop.company, duration="once", amount_off=5, currency="EUR")
    return {"coupon": coupon}


@pytest.mark.parametrize(
    ("items", "extra", "field"),
    [
        ([("basic", 1), ("basic", 1)], None, "items.1.price_id"),
        ([("basic", 0)], None, "items.0.quantity"),
        ([("basic", 10_001)], None, "items.0.quantity"),
        ([("basic", 1)], foreign_card, "instrument_id"),
        ([("basic", 1)], disabled_card, "instrument_id"),
        ([("basic", 1)], used_up_coupon, "coupon_id"),
        ([("basic", 1)], euro_coupon, "coupon_id"),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(shop, items, extra, field):
    kwargs = extra(shop) if extra else {}
    with pytest.raises(ValidationFailed) as caught:
        subscribe(shop, *[(getattr(shop, name), qty) for name, qty in items], **kwargs)
    assert field in caught.value.fields
    assert Subscription.select().count() == Invoice.select().count() == 0


# ---- item changes --------------------------------------------------------------------

PLANS = {"month": ("basic", "pro", JAN11), "year": ("basic_y", "pro_y", datetime(2026, 7, 2))}
EXPECTED_LINES = {
    ("month", "prorate"): 1355,
    ("month", "full_difference"): 2000,
    ("year", "prorate"): 10027,
    ("year", "full_difference"): 20000,
}


@pytest.mark.parametrize("interval", ["month", "year"])
@pytest.mark.parametrize("direction", ["up", "down"])
@pytest.mark.parametrize("behavior", ["none", "prorate", "full_difference"])
@pytest.mark.parametrize("timing", ["immediately", "period_end"])
def test_item_change_bills_exactly_what_the_preview_said(
    shop, interval, direction, behavior, timing
):
    cheap, dear, when = (getattr(shop, n) if isinstance(n, str) else n for n in PLANS[interval])
    old, new = (cheap, dear) if direction == "up" else (dear, cheap)
    sub = subscribe(shop, old)
    plan = preview_change(sub, [(new, 1)], behavior=behavior, timing=timing, now=when)
    changed = update_subscription(sub, items=[(new, 1)], behavior=behavior, timing=timing, now=when)

    net = EXPECTED_LINES.get((interval, behavior), 0) * (1 if direction == "up" else -1)
    assert sum(line.amount for line in plan.lines) == net
    assert [
        i.price_id for i in SubscriptionItem.select().where(SubscriptionItem.subscription == sub)
    ] == [new.id]
    after = invoices(changed)[1:]
    pending = PendingInvoiceItem.select().where(PendingInvoiceItem.subscription == sub)
    if timing == "immediately" and plan.lines:
        assert [inv.amount_due for inv in after] == [plan.amount_due_now]
        assert amounts(after[0]) == [line.amount for line in plan.lines]
        assert changed.credit_balance == plan.credit_balance_after == max(-net, 0)
    else:
        assert after == []
        assert [p.amount for p in pending.order_by(PendingInvoiceItem.created_at)] == [
            line.amount for line in plan.lines
        ]
    assert changed.version == sub.version + 1

    renewed = renew_subscription(changed, now=changed.current_period_end)
    assert invoices(renewed)[-1].amount_due == plan.next_invoice.amount_due
    assert renewed.credit_balance == plan.next_invoice.credit_balance


def test_switching_back_and_forth_at_one_instant_nets_zero(shop):
    sub = subscribe(shop, shop.basic)
    sub = update_subscription(sub, items=[(shop.pro, 1)], timing="period_end", now=JAN11)
    sub = update_subscription(sub, items=[(shop.basic, 1)], timing="period_end", now=JAN11)
    pending = PendingInvoiceItem.select().where(PendingInvoiceItem.subscription == sub)
    assert sum(p.amount for p in pending) == 0 and pending.count() == 4


def test_unchanged_prices_keep_their_item_and_quantities_change_in_place(shop):
    sub = subscribe(shop, (shop.basic, 2), shop.pro)
    before = {i.price_id: i.id for i in SubscriptionItem.select()}
    update_subscription(sub, items=[(shop.basic, 5), (shop.pro, 1)], now=JAN11)
    after = {i.price_id: (i.id, i.quantity) for i in SubscriptionItem.select()}
    assert after == {
        shop.basic.id: (before[shop.basic.id], 5),
        shop.pro.id: (before[shop.pro.id], 1),
    }


def test_the_same_items_change_nothing(shop):
    sub = subscribe(shop, shop.basic)
    same = update_subscription(sub, items=[(shop.basic, 1)], now=JAN11)
    assert same.version == sub.version and len(invoices(same)) == 1


def test_a_stale_version_is_refused_and_changes_nothing(shop):
    sub = subscribe(shop, shop.basic)
    with pytest.raises(Conflict, match="Refresh the preview"):
        update_subscription(sub, items=[(shop.pro, 1)], expected_version=sub.version - 1)
    assert SubscriptionItem.get().price_id == shop.basic.id


def test_a_declined_upgrade_leaves_an_open_invoice_and_the_subscription_past_due(shop):
    declined = add_instrument(shop.customer, "tok_chargeDeclined")
    sub = subscribe(shop, shop.basic)
    sub = update_subscription(sub, payment_method=declined, items=[(shop.pro, 1)], now=JAN11)
    upgrade = invoices(sub)[-1]
    assert (upgrade.status, upgrade.payment_failed, upgrade.amount_due) == ("OPEN", True, 1355)
    assert sub.status == "past_due"
    with pytest.raises(Conflict, match="past due"):
        update_subscription(sub, items=[(shop.basic, 1)], now=JAN11)


@pytest.mark.parametrize(
    ("prices", "field"),
    [(["basic_y", "basic"], "items.1.price_id"), (["basic", "basic"], "items.1.price_id")],
)
def test_new_items_share_one_interval_and_are_listed_once(shop, prices, field):
    sub = subscribe(shop, shop.pro)
    with pytest.raises(ValidationFailed) as caught:
        update_subscription(sub, items=[(getattr(shop, p), 1) for p in prices], now=JAN11)
    assert field in caught.value.fields


def test_an_archived_price_may_stay_but_not_be_added(shop):
    sub = subscribe(shop, shop.basic)
    Price.update(active=False).where(Price.id.in_([shop.basic.id, shop.pro.id])).execute()
    kept = update_subscription(sub, items=[(Price.get_by_id(shop.basic.id), 3)], now=JAN11)
    assert kept.version == sub.version + 1
    with pytest.raises(ValidationFailed):
        update_subscription(kept, items=[(Price.get_by_id(shop.pro.id), 1)], now=JAN11)


def test_ended_or_ending_subscriptions_cannot_change_plan(shop):
    sub = cancel_subscription(subscribe(shop, shop.basic), at_period_end=True, now=JAN11)
    with pytest.raises(Conflict, match="Resume"):
        update_subscription(sub, items=[(shop.pro, 1)], now=JAN11)
    ended = cancel_subscription(sub, at_period_end=False, now=JAN11)
    with pytest.raises(Conflict, match="ended"):
        update_subscription(ended, metadata={"a": "b"}, now=JAN11)


# ---- cancel, resume ------------------------------------------------------------------


def test_cancel_now_with_proration_credits_unused_time(shop):
    sub = cancel_subscription(
        subscribe(shop, shop.pro), at_period_end=False, prorate=True, now=JAN11
    )
    assert (sub.status, sub.ended_at, sub.canceled_at) == ("canceled", JAN11, JAN11)
    assert amounts(invoices(sub)[-1]) == [-2032]
    # The credit left the ended subscription for the customer's balance, where it is usable.
    assert sub.credit_balance == 0 and customer_credit(sub.customer_id) == 2032
    with pytest.raises(Conflict):
        cancel_subscription(sub, at_period_end=False, now=JAN11)


def test_cancel_now_credits_what_was_paid_not_the_list_price(shop):
    half_off = Coupon.create(company=shop.company, name="Half", duration="forever", percent_off=50)
    sub = subscribe(shop, shop.pro, coupon=half_off)
    assert invoices(sub)[0].total == 1500
    ended = cancel_subscription(sub, at_period_end=False, prorate=True, now=JAN11)
    # 21 of 31 days of the $15.00 actually paid, not of the $30.00 list price
    assert amounts(invoices(ended)[-1]) == [-1016] and customer_credit(ended.customer_id) == 1016


def test_cancel_now_bills_pending_changes_on_a_final_invoice(shop):
    sub = subscribe(shop, shop.basic)
    sub = update_subscription(sub, items=[(shop.pro, 1)], timing="period_end", now=JAN11)
    ended = cancel_subscription(sub, at_period_end=False, now=datetime(2026, 1, 20))
    final = invoices(ended)[-1]
    assert (amounts(final), final.status) == ([-677, 2032], "PAID")
    assert PendingInvoiceItem.get().invoice_id == final.id


def test_cancel_at_period_end_then_resume(shop):
    sub = cancel_subscription(subscribe(shop, shop.basic), at_period_end=True, now=JAN11)
    assert (sub.status, sub.cancel_at_period_end, sub.canceled_at) == ("active", True, JAN11)
    resumed = resume_subscription(sub)
    assert (resumed.cancel_at_period_end, resumed.canceled_at) == (False, None)
    with pytest.raises(Conflict, match="not scheduled"):
        resume_subscription(resumed)


# ---- renewal -------------------------------------------------------------------------


def test_renewal_follows_the_anchor_and_is_idempotent(shop):
    sub = subscribe(shop, shop.basic, now=datetime(2026, 1, 31))
    feb = renew_subscription(sub, now=datetime(2026, 2, 28))
    again = renew_subscription(feb, now=datetime(2026, 2, 28))
    assert (again.current_period_start, again.current_period_end) == (
        datetime(2026, 2, 28),
        datetime(2026, 3, 31),
    )
    assert again.version == feb.version and len(invoices(again)) == 2
    assert renew_subscription(again, now=datetime(2026, 3, 30)).version == again.version


def test_renewal_catches_up_on_every_missed_period(shop):
    sub = subscribe(shop, shop.basic)
    late = renew_subscription(sub, now=datetime(2026, 4, 15))
    assert late.current_period_end == datetime(2026, 5, 1)
    assert [inv.period_start.month for inv in invoices(late)] == [1, 2, 3, 4]


def test_renewal_bills_items_plus_pending_lines_once(shop):
    sub = subscribe(shop, shop.basic)
    update_subscription(sub, items=[(shop.pro, 1)], timing="period_end", now=JAN11)
    renewed = renew_subscription(sub, now=datetime(2026, 2, 1))
    assert amounts(invoices(renewed)[-1]) == [3000, -677, 2032]
    next_month = renew_subscription(renewed, now=datetime(2026, 3, 1))
    assert amounts(invoices(next_month)[-1]) == [3000]


def test_renewal_ends_a_subscription_set_to_cancel(shop):
    sub = cancel_subscription(subscribe(shop, shop.basic), at_period_end=True, now=JAN11)
    ended = renew_subscription(sub, now=datetime(2026, 2, 3))
    assert (ended.status, ended.ended_at) == ("canceled", datetime(2026, 2, 1))
    assert len(invoices(ended)) == 1


def test_a_declined_renewal_makes_the_subscription_past_due(shop):
    declined = add_instrument(shop.customer, "tok_chargeDeclined")
    sub = subscribe(shop, shop.basic)
    update_subscription(sub, payment_method=declined, now=JAN11)
    renewed = renew_subscription(sub, now=datetime(2026, 2, 1))
    assert renewed.status == "past_due"
    assert invoices(renewed)[-1].payment_failed


def test_repeating_discounts_expire_and_credit_pays_renewals(shop):
    coupon = Coupon.create(
        company=shop.company,
        duration="repeating",
        duration_in_months=1,
        amount_off=400,
        currency="USD",
    )
    sub = subscribe(shop, shop.basic, coupon=coupon)
    Subscription.update(credit_balance=250).where(Subscription.id == sub.id).execute()
    renewed = renew_subscription(sub, now=datetime(2026, 2, 1))
    feb = invoices(renewed)[-1]
    assert (feb.discount_amount, feb.credit_applied, feb.amount_due) == (0, 250, 750)
    assert Discount.get().ended_at == datetime(2026, 2, 1)


def test_an_unpaid_first_period_expires_the_subscription(shop):
    shop.card.delete_instance()
    sub = renew_subscription(subscribe(shop, shop.basic), now=timedelta(days=40) + T0)
    assert (sub.status, sub.ended_at) == ("incomplete_expired", datetime(2026, 2, 1))
