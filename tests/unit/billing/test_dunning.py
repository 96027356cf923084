"""Dunning under time travel: a renewal declined by the default card is retried by
``run_billing`` on the company's schedule, one charge per retry however many runners race,
settled by a fixed card or a payment made elsewhere, and ended by the terminal actions.
Every step is in the activity log. The e-mails are in tests/unit/mail/test_dunning_mail.py.

The company's dunning config is written straight to its row (the API has its own tests)."""

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from portal.billing import dunning
from portal.billing.changes import update_subscription
from portal.billing.dunning_config import retry_days, settings_for
from portal.billing.instruments import add_instrument, make_default
from portal.billing.invoices import void_invoice
from portal.billing.runner import run_billing
from portal.billing.subscriptions import create_subscription
from portal.db import db
from portal.models import (
    Charge,
    DunningAttempt,
    DunningConfig,
    Invoice,
    PaymentMethod,
    PortalEvent,
    Subscription,
)

FEB1 = datetime(2026, 2, 1)  # naive UTC, as the database gives it back: the first renewal
MAR1 = datetime(2026, 3, 1)
DAY = timedelta(days=1)


def travel(clock, moment: datetime) -> None:
    clock.move_to(moment.replace(tzinfo=UTC))


def bill(clock, moment: datetime):
    travel(clock, moment)
    result = run_billing()
    assert result.errors == []
    return result


def configure(company, **changes) -> None:
    row = DunningConfig.get_or_none(DunningConfig.company == company)
    if row is None:
        DunningConfig.create(company=company, settings=changes)
    else:
        row.settings = {**row.settings, **changes}
        row.version += 1
        row.save()


def attempts(invoice_id: str) -> list[DunningAttempt]:
    query = DunningAttempt.select().where(DunningAttempt.invoice == invoice_id)
    return list(query.order_by(DunningAttempt.number))


def charges(invoice_id: str) -> list[Charge]:
    return list(Charge.select().where(Charge.invoice == invoice_id))


def events(action: str | None = None) -> list[PortalEvent]:
    query = PortalEvent.select().where(PortalEvent.action.startswith("dunning."))
    if action is not None:
        query = query.where(PortalEvent.action == action)
    return list(query.order_by(PortalEvent.created_at))


def sub_of(shop) -> Subscription:
    return Subscription.get_by_id(shop.sub.id)


def invoice_of(invoice_id: str) -> Invoice:
    return Invoice.get_by_id(invoice_id)


def pay_by_api(merchant, invoice_id: str, method_id: str):
    """POST /invoices/:id/pay from another thread: the request opens and closes a database
    connection of its own, not the one this test holds (``ctx``)."""
    answers = []
    path, body = f"/invoices/{invoice_id}/pay", {"instrument_id": method_id}
    thread = threading.Thread(target=lambda: answers.append(merchant.post(path, body)))
    thread.start()
    thread.join()
    return answers[0]


@pytest.fixture
def failing(shop, clock):
    """Ada's monthly Basic plan (10.00), paid on Jan 1 with her Visa; then she makes a card
    that declines her default, so the Feb 1 renewal fails."""
    shop.sub = create_subscription(shop.company, shop.customer, [(shop.basic, 1)])
    assert shop.sub.status == "active"
    shop.bad = make_default(add_instrument(shop.customer, "tok_chargeDeclined"))
    return shop


def fail_renewal(shop, clock) -> str:
    """Run the Feb 1 renewal; the id of its failed invoice."""
    result = bill(clock, FEB1)
    assert (result.renewed, result.past_due) == (1, 1)
    invoice_id = sub_of(shop).latest_invoice_id
    assert invoice_of(invoice_id).payment_failed
    return invoice_id


# --- scheduling ---------------------------------------------------------------------------------


def test_a_declined_renewal_schedules_the_smart_retries(failing, clock):
    invoice_id = fail_renewal(failing, clock)
    days = retry_days(settings_for(failing.company.id))
    assert len(days) == 4 and days[-1] == 14  # the defaults: 4 tries over 2 weeks
    assert [(a.number, a.due_at, a.status) for a in attempts(invoice_id)] == [
        (n, FEB1 + day * DAY, "scheduled") for n, day in enumerate(days, 1)
    ]
    assert sub_of(failing).status == "past_due"
    [started] = events("dunning.started")
    assert started.details["invoice_id"] == invoice_id
    assert started.details["retry_at"] == [
        (FEB1 + day * DAY).strftime("%Y-%m-%dT%H:%M:%S.000Z") for day in days
    ]
    assert started.details["failure_message"] == "Your card was declined."
    assert (started.customer_id, started.subscription_id) == (failing.customer.id, failing.sub.id)


def test_the_whole_smart_schedule_charges_once_per_retry_then_cancels(failing, clock):
    invoice_id = fail_renewal(failing, clock)
    due = [a.due_at for a in attempts(invoice_id)]
    charged_at = {}
    moment = FEB1
    while moment < MAR1 + 2 * DAY:  # four runs a day, past the next renewal date
        moment += timedelta(hours=6)
        before = len(charges(invoice_id))
        bill(clock, moment)
        if len(charges(invoice_id)) != before:
            charged_at[moment] = len(charges(invoice_id)) - before
    assert charged_at == dict.fromkeys(due, 1)  # each retry on its day, one charge each
    rows = attempts(invoice_id)
    assert [a.status for a in rows] == ["failed"] * 4
    assert [a.finished_at for a in rows] == due
    assert len(charges(invoice_id)) == 1 + 4  # the renewal's and one per retry
    assert {a.charge.idempotency_key for a in rows} == {f"dunning:{a.id}" for a in rows}
    assert {c.payment_method_id for c in charges(invoice_id)} == {failing.bad.id}
    # The default terminal actions: the subscription ends at the last retry, and the
    # invoice stays open (past due): no March renewal.
    sub = sub_of(failing)
    assert (sub.status, sub.ended_at) == ("canceled", due[-1])
    assert invoice_of(invoice_id).status == "OPEN"
    assert Invoice.select().where(Invoice.subscription == sub.id).count() == 2
    assert [e.action for e in events()] == [
        "dunning.started",
        *["dunning.attempt_failed"] * 4,
        "dunning.exhausted",
    ]
    failed = events("dunning.attempt_failed")
    assert [e.details["attempt"] for e in failed] == [1, 2, 3, 4]
    assert [e.details["next_attempt_at"] is None for e in failed] == [False] * 3 + [True]
    assert failed[0].details["payment_method_id"] == failing.bad.id
    [exhausted] = events("dunning.exhausted")
    assert exhausted.details == {
        "invoice_id": invoice_id,
        "invoice_action": "past_due",
        "invoice_status": "OPEN",
        "subscription_action": "cancel",
        "subscription_status": "canceled",
    }


def test_a_custom_schedule_retries_on_its_days(failing, clock):
    configure(failing.company, retry_mode="custom", custom_retry_schedule=[1, 4, 9])
    invoice_id = fail_renewal(failing, clock)
    charged_on = []
    for day in range(1, 20):
        bill(clock, FEB1 + day * DAY)
        charged_on += [day] * (len(charges(invoice_id)) - 1 - len(charged_on))
    assert charged_on == [1, 4, 9]
    assert [a.due_at for a in attempts(invoice_id)] == [FEB1 + d * DAY for d in (1, 4, 9)]


@pytest.mark.parametrize("enabled", [True, False])
def test_a_bank_account_follows_the_bank_schedule_or_none(failing, clock, monkeypatch, enabled):
    bank = make_default(add_instrument(failing.customer, "tok_bank_account"))
    real = failing.gateway.charge

    def declining(ref, amount, currency, key):  # the sandbox's bank accounts never fail
        result = real(ref, amount, currency, key)
        return result if ref != bank.gateway_ref else type(result)(False, "ch_x", "R01")

    monkeypatch.setattr(failing.gateway, "charge", declining)
    configure(failing.company, bank_debit_retries_enabled=enabled, bank_debit_retry_schedule=[2, 6])
    result = bill(clock, FEB1)
    invoice_id = sub_of(failing).latest_invoice_id
    assert invoice_of(invoice_id).payment_failed
    assert events("dunning.started")[0].details["bank_debit"] is True
    if enabled:
        assert [a.due_at for a in attempts(invoice_id)] == [FEB1 + 2 * DAY, FEB1 + 6 * DAY]
        assert sub_of(failing).status == "past_due"
    else:  # no retries: that failure was the last one, so the terminal actions apply now
        assert (result.renewed, result.ended) == (0, 1)
        assert attempts(invoice_id) == []
        assert sub_of(failing).status == "canceled"
        assert [e.action for e in events()] == ["dunning.started", "dunning.exhausted"]


def test_no_usable_method_is_a_failed_retry(failing, clock):
    configure(failing.company, retry_mode="custom", custom_retry_schedule=[2])
    PaymentMethod.update(enabled=False, is_default=False).execute()
    invoice_id = fail_renewal(failing, clock)
    assert charges(invoice_id) == []
    bill(clock, FEB1 + 2 * DAY)
    [attempt] = attempts(invoice_id)
    assert (attempt.status, attempt.charge) == ("failed", None)
    [failed] = events("dunning.attempt_failed")
    assert failed.details["failure_message"] == "There was no payment method to charge."


def test_first_invoices_and_plan_changes_that_fail_start_no_dunning(failing, clock):
    declined = create_subscription(
        failing.company, failing.customer, [(failing.pro, 1)], payment_method=failing.bad
    )
    assert declined.status == "incomplete"
    travel(clock, datetime(2026, 1, 11))
    update_subscription(sub_of(failing), items=[(failing.pro, 1)])  # an upgrade, declined
    upgrade = invoice_of(sub_of(failing).latest_invoice_id)
    assert (upgrade.status, upgrade.payment_failed) == ("OPEN", True)
    assert DunningAttempt.select().count() == 0 and events() == []
    renewal = fail_renewal(failing, clock)  # the renewal does, for its own invoice only
    assert Subscription.get_by_id(declined.id).status == "incomplete_expired"
    assert {a.invoice_id for a in DunningAttempt.select()} == {renewal}
    assert [e.details["invoice_id"] for e in events("dunning.started")] == [renewal]


# --- exactly once --------------------------------------------------------------------------------


def race(app, runners: int, work) -> list:
    """Run ``work`` in ``runners`` threads released at once; their results."""
    start, results = threading.Barrier(runners), []

    def runner():
        start.wait()
        with app.app_context(), db.connection_context():
            results.append(work())

    threads = [threading.Thread(target=runner) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize("runners", [2, 3])
def test_parallel_runners_charge_each_retry_once(app, failing, clock, runners):
    configure(failing.company, retry_mode="custom", custom_retry_schedule=[1, 2, 3])
    travel(clock, FEB1)
    started = race(app, runners, run_billing)
    assert sum(r.renewed for r in started) == 1
    invoice_id = sub_of(failing).latest_invoice_id
    assert len(attempts(invoice_id)) == 3 and len(events("dunning.started")) == 1
    for day in (1, 2, 3):
        travel(clock, FEB1 + day * DAY)
        results = race(app, runners, run_billing)
        assert [r.errors for r in results] == [[]] * runners
        ran = Counter()
        for result in results:
            ran.update({k: v for k, v in result.retries.items() if v})
        assert ran["failed"] + ran["exhausted"] == 1 and ran["succeeded"] == 0
    assert len(charges(invoice_id)) == 1 + 3
    keys = [call[3] for call in failing.gateway.charge_calls if call[3].startswith("dunning:")]
    assert sorted(keys) == sorted(f"dunning:{a.id}" for a in attempts(invoice_id))
    assert len(events("dunning.attempt_failed")) == 3 and len(events("dunning.exhausted")) == 1


def test_two_runners_on_one_retry_charge_it_once(app, failing, clock):
    invoice_id = fail_renewal(failing, clock)
    first = attempts(invoice_id)[0]
    travel(clock, first.due_at)
    outcomes = race(app, 2, lambda: dunning.run_attempt(first.id, first.due_at))
    assert sorted(outcomes) == ["failed", "skipped"]
    assert len(charges(invoice_id)) == 2
    assert dunning.run_attempt(first.id, first.due_at) == "skipped"  # and again later


def test_a_missed_run_charges_only_the_latest_due_retry(failing, clock):
    invoice_id = fail_renewal(failing, clock)
    due = [a.due_at for a in attempts(invoice_id)]
    result = bill(clock, due[2] + timedelta(hours=1))  # three retries due at once
    assert (result.retries["skipped"], result.retries["failed"]) == (2, 1)
    assert [a.status for a in attempts(invoice_id)] == [
        "canceled",
        "canceled",
        "failed",
        "scheduled",
    ]
    assert len(charges(invoice_id)) == 2
    assert [e.details["attempt"] for e in events("dunning.attempt_skipped")] == [1, 2]


# --- settled -----------------------------------------------------------------------------------


def test_a_card_fixed_before_the_second_retry_settles_everything(failing, clock):
    invoice_id = fail_renewal(failing, clock)
    first, second = attempts(invoice_id)[:2]
    bill(clock, first.due_at)
    good = make_default(add_instrument(failing.customer, "tok_mastercard"))  # fixed in the portal
    result = bill(clock, second.due_at)
    assert result.retries["succeeded"] == 1
    assert [a.status for a in attempts(invoice_id)] == [
        "failed",
        "succeeded",
        "canceled",
        "canceled",
    ]
    paid = attempts(invoice_id)[1].charge
    assert (paid.status, paid.payment_method_id, paid.amount) == ("succeeded", good.id, 1000)
    assert invoice_of(invoice_id).status == "PAID"
    assert sub_of(failing).status == "active"
    [succeeded] = events("dunning.attempt_succeeded")
    assert succeeded.details == {
        "invoice_id": invoice_id,
        "attempt": 2,
        "charge_id": paid.id,
        "payment_method_id": good.id,
    }
    [canceled] = events("dunning.canceled")
    assert canceled.details == {
        "invoice_id": invoice_id,
        "attempts": [3, 4],
        "reason": "invoice_paid",
    }
    for moment in (FEB1 + 20 * DAY, MAR1):
        bill(clock, moment)
    assert len(charges(invoice_id)) == 3  # renewal, retry 1, retry 2: no more
    assert invoice_of(sub_of(failing).latest_invoice_id).status == "PAID"  # March, good card


def test_paying_through_the_api_between_retries_cancels_the_rest(failing, merchant, clock):
    invoice_id = fail_renewal(failing, clock)
    bill(clock, attempts(invoice_id)[0].due_at)
    travel(clock, FEB1 + 4 * DAY)
    paid = pay_by_api(merchant, invoice_id, failing.card.id)
    assert paid.status_code == 200, paid.get_json()
    assert [a.status for a in attempts(invoice_id)] == [
        "failed",
        "canceled",
        "canceled",
        "canceled",
    ]
    assert sub_of(failing).status == "active"
    assert events("dunning.canceled")[0].details["attempts"] == [2, 3, 4]
    for day in range(5, 20):
        assert sum(bill(clock, FEB1 + day * DAY).retries.values()) == 0
    assert len(charges(invoice_id)) == 3


def test_a_voided_invoice_cancels_its_retries_when_they_come_due(failing, clock):
    invoice_id = fail_renewal(failing, clock)
    void_invoice(invoice_of(invoice_id))
    result = bill(clock, attempts(invoice_id)[0].due_at)
    assert result.retries["canceled"] == 1
    assert {a.status for a in attempts(invoice_id)} == {"canceled"}
    assert events("dunning.canceled")[0].details["reason"] == "invoice_closed"
    assert len(charges(invoice_id)) == 1


# --- the terminal actions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "sub_status"),
    [("cancel", "canceled"), ("unpaid", "unpaid"), ("past_due", "past_due"), ("pause", "paused")],
)
@pytest.mark.parametrize(
    ("invoice_action", "invoice_status"), [("past_due", "OPEN"), ("uncollectible", "UNCOLLECTIBLE")]
)
def test_each_terminal_action(failing, clock, action, sub_status, invoice_action, invoice_status):
    configure(
        failing.company,
        retry_mode="custom",
        custom_retry_schedule=[2],
        subscription_terminal_action=action,
        invoice_terminal_action=invoice_action,
    )
    invoice_id = fail_renewal(failing, clock)
    bill(clock, FEB1 + DAY)
    assert (sub_of(failing).status, invoice_of(invoice_id).status) == ("past_due", "OPEN")
    result = bill(clock, FEB1 + 2 * DAY)
    assert result.retries["exhausted"] == 1
    assert (sub_of(failing).status, invoice_of(invoice_id).status) == (sub_status, invoice_status)
    [exhausted] = events("dunning.exhausted")
    assert exhausted.details["subscription_status"] == sub_status
    assert exhausted.details["invoice_status"] == invoice_status
    bill(clock, MAR1)  # only a past-due subscription is still renewed (and dunned again)
    renewals = Invoice.select().where(Invoice.subscription == failing.sub.id).count()
    assert renewals == (3 if action == "past_due" else 2)


def test_an_older_invoices_last_retry_leaves_a_paid_up_subscription_alone(failing, clock):
    """Retries can outlast a period: when a later renewal was paid, the failed invoice's
    last retry applies its invoice action but never cancels the paid-up subscription."""
    configure(
        failing.company,
        retry_mode="custom",
        custom_retry_schedule=[40],
        subscription_terminal_action="cancel",
    )
    invoice_id = fail_renewal(failing, clock)
    good = PaymentMethod.get(  # her Visa pays the subscription itself from now on
        (PaymentMethod.customer == failing.customer) & (PaymentMethod.id != failing.bad.id)
    )
    Subscription.update(payment_method=good.id).where(Subscription.id == failing.sub.id).execute()
    bill(clock, MAR1)
    assert sub_of(failing).status == "active" and sub_of(failing).latest_invoice_id != invoice_id
    result = bill(clock, FEB1 + 40 * DAY)  # the retry charges the declining default again
    assert result.retries["exhausted"] == 1
    assert (sub_of(failing).status, invoice_of(invoice_id).status) == ("active", "OPEN")


def test_paying_a_paused_subscriptions_invoice_reactivates_it(failing, merchant, clock):
    configure(
        failing.company,
        retry_mode="custom",
        custom_retry_schedule=[1],
        subscription_terminal_action="pause",
    )
    invoice_id = fail_renewal(failing, clock)
    bill(clock, FEB1 + DAY)
    assert sub_of(failing).status == "paused"
    paid = pay_by_api(merchant, invoice_id, failing.card.id)
    assert paid.status_code == 200, paid.get_json()
    assert sub_of(failing).status == "active"
    assert [e.action for e in events("dunning.subscription_reactivated")] == [
        "dunning.subscription_reactivated"
    ]


def test_config_changes_are_picked_up(failing, clock):
    configure(
        failing.company,
        retry_mode="custom",
        custom_retry_schedule=[2],
        subscription_terminal_action="past_due",
    )
    february = fail_renewal(failing, clock)
    # The schedule of a failure is fixed when it fails; a new one applies to the next.
    configure(failing.company, custom_retry_schedule=[1, 2])
    assert bill(clock, FEB1 + 2 * DAY).retries["exhausted"] == 1
    assert len(attempts(february)) == 1 and sub_of(failing).status == "past_due"
    bill(clock, MAR1)
    march = sub_of(failing).latest_invoice_id
    assert [a.due_at for a in attempts(march)] == [MAR1 + DAY, MAR1 + 2 * DAY]
    # The terminal action is read when the last retry fails.
    configure(failing.company, subscription_terminal_action="unpaid")
    bill(clock, MAR1 + DAY)
    bill(clock, MAR1 + 2 * DAY)
    assert sub_of(failing).status == "unpaid"


def test_run_billing_prints_the_retry_counts(app, failing, clock):
    configure(failing.company, retry_mode="custom", custom_retry_schedule=[1, 2])
    fail_renewal(failing, clock)
    travel(clock, FEB1 + DAY)
    output = app.test_cli_runner().invoke(args=["run-billing"]).output
    assert "retries 1 (succeeded 0, failed 1, exhausted 0, canceled 0, skipped 0)" in output
    travel(clock, FEB1 + 2 * DAY)
    output = app.test_cli_runner().invoke(args=["run-billing"]).output
    assert "retries 1 (succeeded 0, failed 0, exhausted 1, canceled 0, skipped 0)" in output
    assert "expiring card e-mails 0" in output
