"""A customer's credit balance: credit left on an ended subscription moves to the customer,
pays their next invoices on any subscription (before any card is charged), or is refunded to
the original payment method; money is conserved over a whole cancel → resubscribe cycle."""

from datetime import datetime

from peewee import fn

from portal.billing import credit
from portal.billing.changes import preview_change
from portal.billing.subscriptions import (
    cancel_subscription,
    create_subscription,
    renew_subscription,
)
from portal.models import Charge, CreditEntry, Invoice, Refund, Subscription

from .test_subscriptions import JAN11, T0, invoices

FEB1, MAR1, APR1 = datetime(2026, 2, 1), datetime(2026, 3, 1), datetime(2026, 4, 1)


def _sum(query) -> int:
    return int(query.scalar() or 0)


def conserved(customer_id: str) -> tuple[int, int]:
    """(money in through the gateway, what the invoices and the balance account for)."""
    charged = _sum(
        Charge.select(fn.SUM(Charge.amount))
        .join(Invoice)
        .where((Invoice.customer == customer_id) & (Charge.status == "succeeded"))
    )
    refunded = _sum(
        Refund.select(fn.SUM(Refund.amount))
        .join(Charge)
        .join(Invoice)
        .where((Invoice.customer == customer_id) & (Refund.status == "succeeded"))
    )
    invoiced = _sum(Invoice.select(fn.SUM(Invoice.total)).where(Invoice.customer == customer_id))
    on_subs = _sum(
        Subscription.select(fn.SUM(Subscription.credit_balance)).where(
            Subscription.customer == customer_id
        )
    )
    held = sum(credit.balances(customer_id).values())
    return charged - refunded, invoiced + on_subs + held


def test_cancel_then_resubscribe_uses_the_credit_and_conserves_money(shop):
    pro = create_subscription(shop.company, shop.customer, [(shop.pro, 1)], now=T0)
    cancel_subscription(pro, at_period_end=False, prorate=True, now=JAN11)
    assert credit.balance(shop.customer.id, "USD") == 2032  # 21/31 of $30.00
    assert conserved(shop.customer.id)[0] == conserved(shop.customer.id)[1]

    # Back on Basic ($10): the credit pays two invoices, then part of the third.
    basic = create_subscription(shop.company, shop.customer, [(shop.basic, 1)], now=JAN11)
    basic = renew_subscription(basic, now=datetime(2026, 2, 11))
    basic = renew_subscription(basic, now=datetime(2026, 3, 11))
    paid = [(i.credit_applied, i.amount_due, i.status) for i in invoices(basic)]
    assert paid == [(1000, 0, "PAID"), (1000, 0, "PAID"), (32, 968, "PAID")]
    assert credit.balance(shop.customer.id, "USD") == 0
    money_in, accounted = conserved(shop.customer.id)
    assert money_in == accounted == 3000 + 968
    spent = CreditEntry.select().where(CreditEntry.kind == "applied").count()
    assert spent == 3  # one line per invoice the credit paid


def test_a_plan_change_preview_counts_the_customers_credit(shop):
    pro = create_subscription(shop.company, shop.customer, [(shop.pro, 1)], now=T0)
    cancel_subscription(pro, at_period_end=False, prorate=True, now=JAN11)
    basic = create_subscription(shop.company, shop.customer, [(shop.basic, 1)], now=JAN11)
    held = credit.balance(shop.customer.id, "USD")
    plan = preview_change(basic, [(shop.pro, 1)], timing="immediately", now=datetime(2026, 1, 20))
    lines_total = sum(line.amount for line in plan.lines)
    assert plan.invoice_now.credit_applied == min(held, lines_total)
    assert plan.amount_due_now == max(lines_total - held, 0)


def test_refund_mode_returns_the_credit_to_the_card_that_paid(shop):
    pro = create_subscription(shop.company, shop.customer, [(shop.pro, 1)], now=T0)
    ended = cancel_subscription(pro, at_period_end=False, prorate=True, refund=True, now=JAN11)
    [refund] = Refund.select()
    [paid] = Charge.select().where(Charge.status == "succeeded")
    assert (refund.amount, refund.charge_id, refund.status) == (2032, paid.id, "succeeded")
    assert shop.gateway.refund_calls == [(paid.gateway_ref, 2032, "USD", refund.idempotency_key)]
    assert ended.credit_balance == 0 and credit.balance(shop.customer.id, "USD") == 0
    kinds = [
        e.kind for e in CreditEntry.select().order_by(CreditEntry.created_at, CreditEntry.amount)
    ]
    assert sorted(kinds) == ["refunded", "subscription_ended"]
    money_in, accounted = conserved(shop.customer.id)
    assert money_in == accounted == 3000 - 2032


def test_a_refund_never_exceeds_what_was_charged(shop):
    pro = create_subscription(shop.company, shop.customer, [(shop.pro, 1)], now=T0)
    # Credit already on the subscription (say from an earlier downgrade) adds to the credit.
    Subscription.update(credit_balance=5000).where(Subscription.id == pro.id).execute()
    cancel_subscription(
        Subscription.get_by_id(pro.id), at_period_end=False, prorate=True, refund=True, now=JAN11
    )
    assert Refund.get().amount == 3000  # all of the only charge, no more
    assert credit.balance(shop.customer.id, "USD") == 5000 + 2032 - 3000


def test_credit_in_one_currency_never_pays_another(shop):
    pro = create_subscription(shop.company, shop.customer, [(shop.pro, 1)], now=T0)
    cancel_subscription(pro, at_period_end=False, prorate=True, now=JAN11)
    eur = shop.basic.__class__.create(
        company=shop.company,
        product=shop.basic.product,
        unit_amount=900,
        currency="EUR",
        type="recurring",
        interval="month",
        interval_count=1,
        active=True,
    )
    sub = create_subscription(shop.company, shop.customer, [(eur, 1)], now=JAN11)
    [invoice] = invoices(sub)
    assert (invoice.credit_applied, invoice.amount_due) == (0, 900)
    assert credit.balances(shop.customer.id) == {"USD": 2032}


def test_without_credit_nothing_is_applied_and_no_entry_is_written(shop):
    sub = create_subscription(shop.company, shop.customer, [(shop.basic, 1)], now=T0)
    sub = renew_subscription(sub, now=FEB1)
    assert [i.credit_applied for i in invoices(sub)] == [0, 0]
    assert credit.balances(shop.customer.id) == {}
    assert CreditEntry.select().count() == 0


def test_a_failed_charge_makes_the_invoice_due_now_not_later(shop):
    from portal.billing.instruments import add_instrument

    declined = add_instrument(shop.customer, "tok_chargeDeclined")
    sub = create_subscription(
        shop.company, shop.customer, [(shop.basic, 1)], payment_method=declined, now=T0
    )
    [invoice] = invoices(sub)
    assert invoice.payment_failed and invoice.due_date == T0  # past due from the failure on
