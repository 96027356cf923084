"""Pausing collection: renewals go on while paused but charge nothing (no invoice, a draft,
or an uncollectible one, as the behavior says), and collection resumes when asked or on
its date through run-billing, before a renewal due at that same instant.

Every call takes an explicit ``now``: periods end on the 1st of each month from T0."""

import json
from datetime import datetime

import pytest

from portal.billing import pausing, scheduled_changes
from portal.billing.changes import update_subscription
from portal.billing.instruments import remove
from portal.billing.runner import due_subscription_ids, run_billing
from portal.billing.subscription_items import apply_coupon
from portal.billing.subscriptions import (
    cancel_subscription,
    create_subscription,
    renew_subscription,
    resume_subscription,
)
from portal.errors import Conflict, ValidationFailed
from portal.models import (
    Coupon,
    Invoice,
    InvoiceLine,
    PaymentMethod,
    PendingInvoiceItem,
    Subscription,
    WebhookEvent,
)
from portal.webhooks import endpoints

T0 = datetime(2026, 1, 1)
JAN10, JAN11 = datetime(2026, 1, 10), datetime(2026, 1, 11)
FEB1, FEB15, MAR1, APR1 = (datetime(2026, m, d) for m, d in ((2, 1), (2, 15), (3, 1), (4, 1)))


@pytest.fixture
def sub(shop):
    return create_subscription(shop.company, shop.customer, [(shop.basic, 1)], now=T0)


def invoices(sub):
    return list(Invoice.select().where(Invoice.subscription == sub).order_by(Invoice.number))


def amounts(invoice):
    lines = InvoiceLine.select().where(InvoiceLine.invoice == invoice)
    return [line.amount for line in lines.order_by(InvoiceLine.created_at)]


def charged(shop) -> list[int]:
    return [call[1] for call in shop.gateway.charge_calls]


def bill(now):
    result = run_billing(now=now)
    assert result.errors == []
    return result


def fresh(sub) -> Subscription:
    return Subscription.get_by_id(sub.id)


def test_a_void_pause_writes_no_invoice_and_charges_nothing_across_two_renewals(shop, sub):
    paused = pausing.pause_subscription(sub, "void", None, JAN10)
    assert (paused.status, paused.pause_behavior, paused.pause_resumes_at) == (
        "paused",
        "void",
        None,
    )
    bill(FEB1)
    bill(MAR1)
    after = fresh(sub)
    assert (after.status, after.current_period_start, after.current_period_end) == (
        "paused",
        MAR1,
        APR1,
    )
    assert len(invoices(sub)) == 1 and charged(shop) == [1000]
    resumed = resume_subscription(after, now=datetime(2026, 3, 20))
    assert (resumed.status, resumed.pause_behavior) == ("active", None)
    bill(APR1)
    assert charged(shop) == [1000, 1000] and invoices(sub)[-1].period_start == APR1


def test_run_billing_resumes_on_the_date_and_charges_that_renewal_once(shop, sub):
    pausing.pause_subscription(sub, "void", MAR1, JAN10)
    bill(FEB1)
    assert fresh(sub).status == "paused" and charged(shop) == [1000]
    result = bill(MAR1)
    after = fresh(sub)
    assert (after.status, after.pause_behavior, after.current_period_end) == (
        "active",
        None,
        APR1,
    )
    assert result.resumed == 1 and result.renewed == 1
    bill(MAR1)  # the same instant again changes nothing
    assert charged(shop) == [1000, 1000] and invoices(sub)[-1].period_start == MAR1


def test_a_resume_date_inside_a_period_is_picked_up_before_the_period_ends(shop, sub):
    pausing.pause_subscription(sub, "void", FEB15, JAN10)
    bill(FEB1)
    assert due_subscription_ids(datetime(2026, 2, 14), 10) == []
    assert due_subscription_ids(FEB15, 10) == [sub.id]
    assert bill(FEB15).resumed == 1
    assert (fresh(sub).status, fresh(sub).current_period_end, charged(shop)) == (
        "active",
        MAR1,
        [1000],
    )
    bill(MAR1)
    assert charged(shop) == [1000, 1000]


def test_a_missed_run_skips_the_paused_renewal_and_bills_the_one_after(shop, sub):
    pausing.pause_subscription(sub, "void", MAR1, JAN10)
    after = renew_subscription(sub, now=datetime(2026, 3, 15))  # Feb 1 and Mar 1 at once
    assert (after.status, after.current_period_start) == ("active", MAR1)
    assert [inv.period_start for inv in invoices(sub)] == [T0, MAR1]
    assert charged(shop) == [1000, 1000]


def test_keep_as_draft_writes_draft_invoices_that_are_not_charged(shop, sub):
    Subscription.update(credit_balance=300).where(Subscription.id == sub.id).execute()
    pausing.pause_subscription(fresh(sub), "keep_as_draft", None, JAN10)
    bill(FEB1)
    bill(MAR1)
    drafts = invoices(sub)[1:]
    assert [(i.status, i.period_start, i.amount_paid) for i in drafts] == [
        ("DRAFT", FEB1, 0),
        ("DRAFT", MAR1, 0),
    ]
    assert [i.credit_applied for i in drafts] == [0, 0] and fresh(sub).credit_balance == 300
    assert charged(shop) == [1000] and fresh(sub).latest_invoice_id == drafts[-1].id


def test_mark_uncollectible_finalizes_and_marks_each_invoice_uncollectible(shop, sub):
    pausing.pause_subscription(sub, "mark_uncollectible", None, JAN10)
    bill(FEB1)
    bill(MAR1)
    marked = invoices(sub)[1:]
    assert [(i.status, i.amount_due, i.amount_paid) for i in marked] == [
        ("UNCOLLECTIBLE", 1000, 0),
        ("UNCOLLECTIBLE", 1000, 0),
    ]
    assert charged(shop) == [1000] and fresh(sub).status == "paused"


def test_pending_items_and_a_once_coupon_wait_for_the_next_billed_invoice(shop, sub):
    update_subscription(sub, items=[(shop.pro, 1)], timing="period_end", now=JAN11)
    once = Coupon.create(company=shop.company, duration="once", amount_off=500, currency="USD")
    apply_coupon(fresh(sub), once, JAN11)
    pausing.pause_subscription(fresh(sub), "void", MAR1, JAN11)
    bill(FEB1)
    assert PendingInvoiceItem.select().where(PendingInvoiceItem.invoice.is_null()).count() == 2
    bill(MAR1)
    march = invoices(sub)[-1]
    assert (march.period_start, amounts(march)) == (MAR1, [3000, -677, 2032])
    assert (march.discount_amount, march.amount_paid) == (500, 3000 - 677 + 2032 - 500)
    assert PendingInvoiceItem.select().where(PendingInvoiceItem.invoice.is_null()).count() == 0


def test_pause_and_resume_events_are_written(app, shop, sub):
    app.config["PORTAL_WEBHOOKS_IMMEDIATE"] = False
    endpoints.create_endpoint(shop.company, url="https://hooks.example.com/billing")
    pausing.pause_subscription(sub, "void", MAR1, JAN10)
    pausing.pause_subscription(sub, "keep_as_draft", MAR1, JAN11)  # a change, not a pause
    bill(MAR1)
    rows = WebhookEvent.select().where(WebhookEvent.type.startswith("subscription."))
    kinds = [(row.type, json.loads(row.body)["data"]) for row in rows.order_by(WebhookEvent.id)]
    # paused; the change of pause; the paused Feb 1 renewal; resumed (the Mar 1 renewal
    # folds into it: one event per object and action within the billing run)
    assert [kind for kind, _ in kinds] == [
        "subscription.paused",
        "subscription.updated",
        "subscription.updated",
        "subscription.resumed",
    ]
    assert kinds[0][1]["pause_collection"] == {
        "behavior": "void",
        "resumes_at": "2026-03-01T00:00:00.000Z",
    }
    assert kinds[3][1]["status"] == "active" and kinds[3][1]["pause_collection"] is None
    assert kinds[3][1]["current_period_start"] == "2026-03-01T00:00:00.000Z"


def test_pausing_again_changes_the_behavior_and_date(sub):
    pausing.pause_subscription(sub, "void", MAR1, JAN10)
    again = pausing.pause_subscription(sub, "mark_uncollectible", None, JAN11)
    assert (again.pause_behavior, again.pause_resumes_at, again.status) == (
        "mark_uncollectible",
        None,
        "paused",
    )


def test_a_paused_subscription_set_to_cancel_still_ends_at_period_end(shop, sub):
    cancel_subscription(sub, at_period_end=True, now=JAN10)
    pausing.pause_subscription(sub, "void", None, JAN11)
    bill(FEB1)
    ended = fresh(sub)
    assert (ended.status, ended.ended_at, ended.pause_behavior) == ("canceled", FEB1, None)
    assert charged(shop) == [1000]


def test_resume_prefers_the_pause_and_keeps_a_scheduled_cancellation(sub):
    cancel_subscription(sub, at_period_end=True, now=JAN10)
    pausing.pause_subscription(sub, "void", None, JAN11)
    resumed = resume_subscription(fresh(sub), now=JAN11)
    assert (resumed.status, resumed.pause_behavior, resumed.cancel_at_period_end) == (
        "active",
        None,
        True,
    )
    undone = resume_subscription(resumed, now=JAN11)
    assert undone.cancel_at_period_end is False


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("canceled", "ended"),
        ("incomplete", "first invoice"),
        ("incomplete_expired", "ended"),
        ("past_due", "unpaid invoice"),
        ("unpaid", "unpaid invoice"),
        ("paused", "collect its open invoice"),  # paused by dunning
    ],
)
def test_what_cannot_be_paused_is_refused_and_left_alone(sub, status, message):
    Subscription.update(status=status).where(Subscription.id == sub.id).execute()
    before = fresh(sub)
    with pytest.raises(Conflict, match=message):
        pausing.pause_subscription(before, "void", None, JAN10)
    assert (fresh(sub).version, fresh(sub).status, fresh(sub).pause_behavior) == (
        before.version,
        status,
        None,
    )


def test_a_dunning_paused_subscription_is_not_resumed_here(sub):
    Subscription.update(status="paused").where(Subscription.id == sub.id).execute()
    with pytest.raises(Conflict, match="collect its open invoice"):
        resume_subscription(fresh(sub), now=JAN10)
    with pytest.raises(Conflict, match="collect its open invoice"):
        pausing.resume_paused(fresh(sub), JAN10)
    assert fresh(sub).status == "paused"


@pytest.mark.parametrize(
    ("behavior", "resumes_at", "field"),
    [("skip", None, "behavior"), ("void", JAN10, "resumes_at"), ("void", T0, "resumes_at")],
)
def test_a_bad_behavior_or_a_past_resume_date_is_refused(sub, behavior, resumes_at, field):
    with pytest.raises(ValidationFailed) as refused:
        pausing.pause_subscription(sub, behavior, resumes_at, JAN10)
    assert field in refused.value.fields and fresh(sub).status == "active"


def test_resuming_what_is_not_paused_is_refused(sub):
    with pytest.raises(Conflict, match="isn't paused"):
        pausing.resume_paused(sub, JAN10)


def test_a_pause_is_refused_while_a_change_waits_for_the_renewal(sub, shop):
    # A monthly plan moving to yearly at its renewal: a pause voiding that renewal would
    # start a year that no invoice bills.
    scheduled_changes.schedule_change(sub, [(shop.basic_y, 1)])
    with pytest.raises(Conflict, match="plan change waiting for its renewal"):
        pausing.pause_subscription(sub, "void", MAR1, JAN10)
    assert (fresh(sub).status, fresh(sub).pause_behavior) == ("active", None)


def test_a_change_left_waiting_on_a_void_paused_subscription_waits_for_a_billed_renewal(shop, sub):
    pausing.pause_subscription(sub, "void", MAR1, JAN10)
    Subscription.update(scheduled_change=[{"price_id": shop.basic_y.id, "quantity": 1}]).where(
        Subscription.id == sub.id
    ).execute()  # as data older than the refusal above may hold
    bill(FEB1)
    skipped = fresh(sub)
    assert (skipped.current_period_end, skipped.items[0].price_id) == (MAR1, shop.basic.id)
    bill(MAR1)
    renewed = fresh(sub)
    assert renewed.items[0].price_id == shop.basic_y.id
    assert renewed.current_period_end == datetime(2027, 3, 1)
    assert charged(shop) == [1000, 10000] and invoices(sub)[-1].period_start == MAR1


def test_the_only_payment_method_stays_while_a_subscription_is_paused(shop, sub):
    pausing.pause_subscription(sub, "void", MAR1, JAN10)
    with pytest.raises(Conflict, match="only payment method"):
        remove(shop.card)
    assert PaymentMethod.get_by_id(shop.card.id).enabled


def test_the_run_summary_counts_the_subscriptions_it_resumed(sub):
    pausing.pause_subscription(sub, "void", FEB15, JAN10)
    bill(FEB1)
    assert "resumed 1" in bill(FEB15).summary()


def test_the_next_charge_of_a_pause_that_ends_inside_a_period_is_that_periods_end(shop, sub):
    pausing.pause_subscription(sub, "void", FEB15, JAN10)
    assert pausing.next_charge_at(fresh(sub), shop.basic) == MAR1
    pausing.pause_subscription(sub, "void", MAR1, JAN10)
    assert pausing.next_charge_at(fresh(sub), shop.basic) == MAR1
