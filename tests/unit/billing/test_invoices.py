"""Invoice domain rules: numbering, line order, status filters, collection, voiding."""

from datetime import timedelta

import pytest
from support import stored_subscription

from portal.billing.instruments import add_instrument, set_enabled
from portal.billing.invoices import (
    LineSpec,
    collect_now,
    create_invoice,
    display_status,
    lines_by_invoice,
    status_condition,
    void_invoice,
)
from portal.errors import Conflict, ValidationFailed
from portal.models import Charge, Customer, Invoice, Subscription, utcnow


@pytest.fixture
def customer(ctx, merchant):
    return Customer.create(company=merchant.company, first_name="Ada", last_name="Lovelace")


def invoice_for(customer, *amounts, subscription=None, **kwargs):
    lines = [LineSpec(f"Line {i}", 1, amount, amount) for i, amount in enumerate(amounts)]
    return create_invoice(
        company=customer.company,
        customer=customer,
        currency="USD",
        lines=lines,
        subscription=subscription,
        **kwargs,
    )


def subscription_for(customer, method=None):
    return stored_subscription(customer.company, customer, method)


def test_numbers_count_up_per_company(customer, other_merchant):
    other = Customer.create(company=other_merchant.company, first_name="B", last_name="C")
    numbers = [invoice_for(customer, 100).number for _ in range(2)]
    assert numbers == ["ACMECL-00001", "ACMECL-00002"]
    assert invoice_for(other, 100).number == "GLOBEX-00001"


def test_totals_and_credit_balance(customer):
    sub = subscription_for(customer)
    sub.credit_balance = 300
    invoice = invoice_for(customer, 1000, -200, subscription=sub)
    assert (invoice.subtotal, invoice.total, invoice.credit_applied, invoice.amount_due) == (
        800,
        800,
        300,
        500,
    )
    assert sub.credit_balance == 0 and invoice.status == "OPEN"


def test_fully_credited_invoice_is_paid(customer):
    invoice = invoice_for(customer, 0)
    assert invoice.status == "PAID" and invoice.paid_at is not None


def test_lines_keep_their_order_and_come_in_one_query(customer):
    first = invoice_for(customer, *range(900, 100, -100))
    second = invoice_for(customer, 5)
    grouped = lines_by_invoice([first.id, second.id, "missing"])
    assert [line.amount for line in grouped[first.id]] == list(range(900, 100, -100))
    assert [line.amount for line in grouped[second.id]] == [5]
    assert grouped["missing"] == []


def _states(customer):
    now = utcnow()
    failed = invoice_for(customer, 100)
    Invoice.update(payment_failed=True).where(Invoice.id == failed.id).execute()
    overdue = invoice_for(customer, 100, now=now - timedelta(days=8))
    voided = void_invoice(invoice_for(customer, 100))
    no_due_date = invoice_for(customer, 100)
    Invoice.update(due_date=None).where(Invoice.id == no_due_date.id).execute()
    return {
        "open": invoice_for(customer, 100).id,
        "no_due_date": no_due_date.id,
        "failed": failed.id,
        "overdue": overdue.id,
        "paid": invoice_for(customer, 0).id,
        "void": voided.id,
    }


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("OPEN", {"open", "no_due_date"}),
        ("PAST_DUE", {"failed", "overdue"}),
        ("PAID", {"paid"}),
        ("VOID", {"void"}),
        ("DRAFT", set()),
    ],
)
def test_status_filter_matches_display_status(customer, status, expected):
    ids = _states(customer)
    found = list(Invoice.select().where(status_condition(status)))
    assert {name for name, i in ids.items() if i in {inv.id for inv in found}} == expected
    assert all(display_status(inv) == status for inv in found)


def test_collect_uses_the_customer_default(customer, gateway):
    method = add_instrument(customer, "tok_visa")
    invoice = invoice_for(customer, 1500)
    charge = collect_now(invoice)
    assert (charge.status, charge.amount, charge.payment_method_id) == (
        "succeeded",
        1500,
        method.id,
    )
    paid = Invoice.get_by_id(invoice.id)
    assert (paid.status, paid.amount_paid) == ("PAID", 1500)
    assert len(gateway.charge_calls) == 1


def test_collect_prefers_the_subscription_method_while_enabled(customer, gateway):
    default = add_instrument(customer, "tok_visa")
    chosen = add_instrument(customer, "tok_mastercard")
    sub = subscription_for(customer, chosen)
    assert collect_now(invoice_for(customer, 100, subscription=sub)).payment_method_id == chosen.id
    set_enabled(chosen, False)
    sub = Subscription.get_by_id(sub.id)
    assert collect_now(invoice_for(customer, 100, subscription=sub)).payment_method_id == default.id


def test_declined_charge_is_recorded_and_shows_past_due(customer, gateway):
    add_instrument(customer, "tok_chargeDeclined")
    good = add_instrument(customer, "tok_visa")
    invoice = invoice_for(customer, 700)
    assert collect_now(invoice).status == "failed"
    assert display_status(Invoice.get_by_id(invoice.id)) == "PAST_DUE"
    assert collect_now(invoice, good.id).status == "succeeded"
    keys = [c.idempotency_key for c in Charge.select().order_by(Charge.created_at)]
    assert len(set(keys)) == 2 and len(gateway.charge_calls) == 2
    assert display_status(Invoice.get_by_id(invoice.id)) == "PAID"


def test_collect_refusals(customer, merchant, other_merchant, gateway):
    stranger = Customer.create(company=merchant.company, first_name="S", last_name="T")
    theirs = add_instrument(stranger, "tok_visa")
    foreign = add_instrument(
        Customer.create(company=other_merchant.company, first_name="F", last_name="G"), "tok_visa"
    )
    invoice = invoice_for(customer, 100)
    for method_id in (None, theirs.id, foreign.id, "nope"):
        with pytest.raises(ValidationFailed) as caught:
            collect_now(invoice, method_id)
        assert set(caught.value.fields) == {"instrument_id"}
    disabled = add_instrument(customer, "tok_visa")
    add_instrument(customer, "tok_amex")
    set_enabled(disabled, False)
    with pytest.raises(ValidationFailed):
        collect_now(invoice, disabled.id)
    assert Charge.select().count() == 0 and gateway.charge_calls == []


@pytest.mark.parametrize("state", ["PAID", "VOID"])
def test_only_open_invoices_are_collected(customer, gateway, state):
    add_instrument(customer, "tok_visa")
    invoice = invoice_for(customer, 100)
    Invoice.update(status=state).where(Invoice.id == invoice.id).execute()
    with pytest.raises(Conflict):
        collect_now(Invoice.get_by_id(invoice.id))
    assert gateway.charge_calls == []


@pytest.mark.parametrize(("state", "voidable"), [("OPEN", True), ("PAID", False), ("VOID", False)])
def test_void_only_open(customer, state, voidable):
    invoice = invoice_for(customer, 100)
    Invoice.update(status=state).where(Invoice.id == invoice.id).execute()
    if voidable:
        assert void_invoice(invoice).status == "VOID"
    else:
        with pytest.raises(Conflict):
            void_invoice(invoice)
        assert Invoice.get_by_id(invoice.id).status == state
