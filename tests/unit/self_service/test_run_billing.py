"""run-billing under time travel: renewals invoice and charge, a declined card makes the
subscription past due, scheduled cancellations end at period end, repeating discounts run out,
and a second run (sequential or in parallel, same instant) bills nothing more."""

import threading
from datetime import UTC, datetime

import pytest

from portal.billing.runner import run_billing
from portal.db import db
from portal.models import MODELS, Charge, Discount, Invoice, Subscription

FEB1 = datetime(2026, 2, 1, tzinfo=UTC)
MAR1 = datetime(2026, 3, 1, tzinfo=UTC)


def naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


def charges(sub_id: str) -> list[Charge]:
    return list(Charge.select().join(Invoice).where(Invoice.subscription == sub_id))


def snapshot() -> dict:
    with db.connection_context():
        return {m.__name__: list(m.select().order_by(m.id).tuples()) for m in MODELS}


def billing(app, *args) -> str:
    result = app.test_cli_runner().invoke(args=["run-billing", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_due_subscription_is_renewed_invoiced_and_charged(app, shop, clock):
    clock.move_to(datetime(2026, 1, 31, 23, 59, 59, tzinfo=UTC))
    assert "renewed 0" in billing(app)
    clock.move_to(FEB1)
    assert "renewed 1 (past due 0), ended 0" in billing(app)
    sub = shop.subscription()
    assert (sub["status"], sub["current_period_start"], sub["current_period_end"]) == (
        "active",
        "2026-02-01T00:00:00.000Z",
        "2026-03-01T00:00:00.000Z",
    )
    renewal = shop.invoices()[-1]
    assert (renewal.status, renewal.amount_paid, sub["latest_invoice_id"]) == (
        "PAID",
        1000,
        renewal.id,
    )
    assert [(c.amount, c.status) for c in charges(shop.sub)] == [(1000, "succeeded")] * 2


def test_a_declined_renewal_makes_the_subscription_past_due(app, shop, clock):
    declining = shop.add_card(source="tok_chargeDeclined")
    shop.merchant.ok("PATCH", f"/subscriptions/{shop.sub}", {"instrument_id": declining})
    clock.move_to(FEB1)
    assert "renewed 1 (past due 1)" in billing(app)
    assert shop.subscription()["status"] == "past_due"
    renewal = shop.invoices()[-1]
    assert (renewal.status, renewal.payment_failed, renewal.amount_paid) == ("OPEN", True, 0)
    assert [c.status for c in charges(shop.sub)] == ["succeeded", "failed"]


def test_a_scheduled_cancellation_ends_at_period_end(app, shop, portal, clock):
    portal.ok("POST", f"/subscriptions/{shop.sub}/cancel", {})  # end_of_period by default
    clock.move_to(datetime(2026, 1, 31, 23, 59, 59, tzinfo=UTC))
    assert "ended 0" in billing(app)
    assert shop.subscription()["status"] == "active"
    clock.move_to(FEB1)
    assert "renewed 0 (past due 0), ended 1" in billing(app)
    sub = shop.subscription()
    assert (sub["status"], sub["ended_at"], sub["cancel_at_period_end"]) == (
        "canceled",
        "2026-02-01T00:00:00.000Z",
        False,
    )
    assert (len(shop.invoices()), len(charges(shop.sub))) == (1, 1)


def test_a_kept_subscription_renews(app, shop, portal, clock):
    portal.ok("POST", f"/subscriptions/{shop.sub}/cancel", {})
    portal.ok("POST", f"/subscriptions/{shop.sub}/keep")
    clock.move_to(FEB1)
    assert "renewed 1" in billing(app)
    assert shop.subscription()["status"] == "active"


def test_the_retention_discount_lasts_its_months_then_expires(app, shop, portal, clock):
    coupon = shop.coupon(percent_off=20, duration="repeating", duration_in_months=3)
    shop.configure(retention_coupon_id=coupon)
    portal.ok("POST", f"/subscriptions/{shop.sub}/retention-offer")  # accepted on Jan 11
    for month in (2, 3, 4):
        run_billing(now=datetime(2026, month, 1))
    assert run_billing(now=datetime(2026, 4, 10, 23)).discounts_expired == 0
    assert run_billing(now=datetime(2026, 4, 11)).discounts_expired == 1  # 3 months on
    assert run_billing(now=datetime(2026, 4, 11)).discounts_expired == 0
    for month in (5, 6):
        run_billing(now=datetime(2026, month, 1))
    renewals = [i.amount_paid for i in shop.invoices()[1:]]
    assert renewals == [800, 800, 800, 1000, 1000]
    assert Discount.get().ended_at == datetime(2026, 4, 11)
    assert shop.subscription()["discount"] is None


def test_running_twice_at_the_same_instant_changes_nothing(app, shop, clock):
    shop.merchant.ok("DELETE", f"/subscriptions/{shop.sub}?at_period_end=true")
    other = shop.new_customer("bo@example.com")
    shop.subscribe(shop.pro, customer_id=other)
    clock.move_to(FEB1)
    assert "renewed 1 (past due 0), ended 1" in billing(app)
    before = snapshot()
    summary = "renewed 0 (past due 0), ended 0, resumed 0, discounts expired 0, errors 0"
    assert summary in billing(app)
    assert snapshot() == before


def test_a_missed_run_catches_up_period_by_period(shop, clock):
    result = run_billing(now=datetime(2026, 4, 15))
    assert result.renewed == 1
    periods = [(i.period_start.month, i.amount_paid) for i in shop.invoices()]
    assert periods == [(1, 1000), (2, 1000), (3, 1000), (4, 1000)]


@pytest.mark.parametrize("runners", [2, 4])
def test_parallel_runners_renew_each_subscription_once(shop, clock, runners):
    subs = [shop.sub]
    for n in range(4):
        customer = shop.new_customer(f"c{n}@example.com")
        subs.append(shop.subscribe(shop.team, customer_id=customer)["id"])
    start, results = threading.Barrier(runners), []

    def runner():
        start.wait()
        with db.connection_context():
            results.append(run_billing(now=naive(MAR1)))

    threads = [threading.Thread(target=runner) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.errors for r in results] == [[]] * runners
    for sub_id in subs:
        assert [i.period_start.month for i in shop.invoices(sub_id)] == [1, 2, 3]
        assert len(charges(sub_id)) == 3
    assert sum(r.renewed for r in results) == len(subs)
    ends = {s.current_period_end for s in Subscription.select().where(Subscription.id.in_(subs))}
    assert ends == {datetime(2026, 4, 1)}
