"""The proration core as pure functions: worked examples and properties.

Monthly examples: the period is Jan 1 → Feb 1 2026 (31 days) and the change happens on
Jan 11, so 21/31 of the period is left. Yearly: Jan 1 2026 → Jan 1 2027 (365 days), change
on Jul 2, 183/365 left. Basic costs 10.00 (100.00 a year), Pro 30.00 (300.00 a year).
"""

from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.billing.proration import Billing, Priced, plan_change, proration_lines

MONTH = (datetime(2026, 1, 1), datetime(2026, 2, 1), datetime(2026, 3, 1), datetime(2026, 1, 11))
YEAR = (datetime(2026, 1, 1), datetime(2027, 1, 1), datetime(2028, 1, 1), datetime(2026, 7, 2))
PERIODS = {"month": MONTH, "year": YEAR}
PLANS = {
    "month": (Priced("basic", "Basic", 1000, 1), Priced("pro", "Pro", 3000, 1)),
    "year": (Priced("basic_y", "Basic", 10000, 1), Priced("pro_y", "Pro", 30000, 1)),
}


def plan_for(interval, direction, behavior, timing, *, credit_balance=0, coupons=()):
    start, end, next_end, now = PERIODS[interval]
    basic, pro = PLANS[interval]
    old, new = ([basic], [pro]) if direction == "up" else ([pro], [basic])
    billing = Billing("USD", start, end, next_end, credit_balance, coupons, coupons)
    return plan_change(old, new, behavior, timing, billing, now)


# interval, direction, behavior, timing → proration line amounts, due now, credit balance
# right after the change, amount of the next (renewal) invoice
WORKED_EXAMPLES = [
    ("month", "up", "none", "immediately", [], 0, 0, 3000),
    ("month", "up", "none", "period_end", [], 0, 0, 3000),
    ("month", "up", "prorate", "immediately", [-677, 2032], 1355, 0, 3000),
    ("month", "up", "prorate", "period_end", [-677, 2032], 0, 0, 4355),
    ("month", "up", "full_difference", "immediately", [2000], 2000, 0, 3000),
    ("month", "up", "full_difference", "period_end", [2000], 0, 0, 5000),
    ("month", "down", "none", "immediately", [], 0, 0, 1000),
    ("month", "down", "none", "period_end", [], 0, 0, 1000),
    ("month", "down", "prorate", "immediately", [-2032, 677], 0, 1355, 0),
    ("month", "down", "prorate", "period_end", [-2032, 677], 0, 0, 0),
    ("month", "down", "full_difference", "immediately", [-2000], 0, 2000, 0),
    ("month", "down", "full_difference", "period_end", [-2000], 0, 0, 0),
    ("year", "up", "none", "immediately", [], 0, 0, 30000),
    ("year", "up", "none", "period_end", [], 0, 0, 30000),
    ("year", "up", "prorate", "immediately", [-5014, 15041], 10027, 0, 30000),
    ("year", "up", "prorate", "period_end", [-5014, 15041], 0, 0, 40027),
    ("year", "up", "full_difference", "immediately", [20000], 20000, 0, 30000),
    ("year", "up", "full_difference", "period_end", [20000], 0, 0, 50000),
    ("year", "down", "none", "immediately", [], 0, 0, 10000),
    ("year", "down", "none", "period_end", [], 0, 0, 10000),
    ("year", "down", "prorate", "immediately", [-15041, 5014], 0, 10027, 0),
    ("year", "down", "prorate", "period_end", [-15041, 5014], 0, 0, 0),
    ("year", "down", "full_difference", "immediately", [-20000], 0, 20000, 0),
    ("year", "down", "full_difference", "period_end", [-20000], 0, 0, 0),
]


@pytest.mark.parametrize(
    ("interval", "direction", "behavior", "timing", "amounts", "due_now", "balance", "next_due"),
    WORKED_EXAMPLES,
)
def test_worked_examples(
    interval, direction, behavior, timing, amounts, due_now, balance, next_due
):
    plan = plan_for(interval, direction, behavior, timing)
    assert [line.amount for line in plan.lines] == amounts
    assert plan.amount_due_now == due_now
    assert plan.credit_balance_after == balance
    assert plan.next_invoice.amount_due == next_due
    # Lines billed later sit on the renewal invoice, after the new items' full price.
    later = plan.next_lines[1:]
    assert [line.amount for line in later] == (amounts if timing == "period_end" else [])


def test_downgrade_credit_carries_into_the_renewal():
    plan = plan_for("month", "down", "prorate", "immediately")
    # 13.55 credit pays the 10.00 renewal in full and leaves 3.55.
    assert plan.next_invoice.credit_applied == 1000
    assert plan.next_invoice.credit_balance == 355


def test_prorate_lines_describe_the_time_they_cover():
    credit, charge = plan_for("month", "up", "prorate", "immediately").lines
    assert credit.description == "Unused time on Basic × 1"
    assert charge.description == "Remaining time on Pro × 1"
    assert (credit.unit_amount, charge.unit_amount) == (-677, 2032)
    assert credit.proration and charge.proration
    assert (credit.period_start, credit.period_end) == (datetime(2026, 1, 11), datetime(2026, 2, 1))
    assert (credit.price_id, charge.price_id) == ("basic", "pro")


def test_full_difference_is_one_line_without_time_factor():
    (line,) = plan_for("year", "down", "full_difference", "immediately").lines
    assert (line.quantity, line.unit_amount, line.amount, line.price_id) == (
        1,
        -20000,
        -20000,
        None,
    )
    assert line.description.startswith("Downgrade")


def test_unchanged_items_cost_nothing_and_quantity_changes_prorate():
    start, end, _, now = MONTH
    seat, support = Priced("seat", "Seat", 500, 3), Priced("support", "Support", 2000, 1)
    more_seats = Priced("seat", "Seat", 500, 5)
    lines = proration_lines([seat, support], [more_seats, support], "prorate", (start, end), now)
    assert [(line.description, line.amount) for line in lines] == [
        ("Unused time on Seat × 3", -1016),  # 1500 × 21/31 = 1016.13
        ("Remaining time on Seat × 5", 1694),  # 2500 × 21/31 = 1693.55
    ]


def test_discounts_apply_to_a_positive_proration_invoice_only():
    quarter_off = SimpleNamespace(percent_off=Decimal(25), amount_off=None, currency=None)
    up = plan_for("month", "up", "prorate", "immediately", coupons=(quarter_off,))
    assert (up.invoice_now.discount, up.amount_due_now) == (339, 1016)  # 1355 × 25 % = 338.75
    down = plan_for("month", "down", "prorate", "immediately", coupons=(quarter_off,))
    assert (down.invoice_now.discount, down.credit_balance_after) == (0, 1355)


def test_existing_credit_pays_an_upgrade_first():
    plan = plan_for("month", "up", "prorate", "immediately", credit_balance=1000)
    assert (plan.invoice_now.credit_applied, plan.amount_due_now) == (1000, 355)
    assert plan.credit_balance_after == 0


def test_a_change_at_period_end_prorates_nothing():
    start, end, _, _ = MONTH
    basic, pro = PLANS["month"]
    assert proration_lines([basic], [pro], "prorate", (start, end), end) == []


@pytest.mark.parametrize("bad", [("prorate", "tomorrow"), ("sometimes", "immediately")])
def test_unknown_behavior_or_timing_is_a_programming_error(bad):
    behavior, timing = bad
    with pytest.raises(ValueError):
        plan_for("month", "up", behavior, timing)


# ---- properties ------------------------------------------------------------------------

prices = st.sampled_from(["p1", "p2", "p3", "p4"])
items = st.lists(
    st.builds(
        Priced,
        price_id=prices,
        name=st.just("Plan"),
        unit_amount=st.integers(0, 10_000_000),
        quantity=st.integers(1, 10_000),
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda item: item.price_id,
)
moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1))
lengths = st.integers(1, 400 * 86400).map(lambda s: timedelta(seconds=s))
offsets = st.floats(-0.2, 1.2)
behaviors = st.sampled_from(["none", "prorate", "full_difference"])
timings = st.sampled_from(["immediately", "period_end"])
coupons = st.lists(
    st.one_of(
        st.builds(
            SimpleNamespace,
            percent_off=st.decimals(1, 100, places=2),
            amount_off=st.none(),
            currency=st.none(),
        ),
        st.builds(
            SimpleNamespace,
            percent_off=st.none(),
            amount_off=st.integers(1, 100_000),
            currency=st.just("USD"),
        ),
    ),
    max_size=2,
)


def _instant(start, length, offset):
    return start + timedelta(seconds=int(length.total_seconds() * offset))


@given(items, items, behaviors, moments, lengths, offsets)
def test_switching_there_and_back_at_one_instant_nets_zero(a, b, behavior, start, length, offset):
    period, now = (start, start + length), _instant(start, length, offset)
    there = proration_lines(a, b, behavior, period, now)
    back = proration_lines(b, a, behavior, period, now)
    assert sum(line.amount for line in there + back) == 0


@given(items, items, moments, lengths, offsets)
def test_a_proration_never_exceeds_the_full_period_price(a, b, start, length, offset):
    period, now = (start, start + length), _instant(start, length, offset)
    lines = proration_lines(a, b, "prorate", period, now)
    charged = sum(line.amount for line in lines if line.amount > 0)
    credited = -sum(line.amount for line in lines if line.amount < 0)
    assert charged <= sum(item.amount for item in b)
    assert credited <= sum(item.amount for item in a)
    source = {True: {i.price_id: i for i in a}, False: {i.price_id: i for i in b}}
    for line in lines:
        assert abs(line.amount) <= source[line.amount < 0][line.price_id].amount


@given(items, items, behaviors, timings, coupons, st.integers(0, 10**7), moments, lengths, offsets)
def test_what_is_due_now_is_the_charges_less_credits_and_totals_never_go_negative(
    a, b, behavior, timing, coupon_list, balance, start, length, offset
):
    now = _instant(start, length, offset)
    billing = Billing(
        "USD", start, start + length, start + 2 * length, balance, coupon_list, coupon_list
    )
    plan = plan_change(a, b, behavior, timing, billing, now)
    net = sum(line.amount for line in plan.lines)
    discount = plan.invoice_now.discount if plan.invoice_now else 0
    if timing == "immediately":
        # Paid now, less the credit gained, is exactly the net of the proration lines.
        gained = plan.credit_balance_after - balance
        assert plan.amount_due_now - gained == net - discount
    else:
        assert (plan.amount_due_now, plan.credit_balance_after) == (0, balance)
    assert plan.amount_due_now >= 0
    assert plan.credit_balance_after >= 0
    assert plan.next_invoice.amount_due >= 0
    assert plan.next_invoice.credit_balance >= 0
