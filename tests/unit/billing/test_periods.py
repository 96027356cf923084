"""Billing periods: boundaries counted from the anchor (month ends clamp, then recover) and
the exact share of a period still ahead."""

from datetime import datetime, timedelta
from fractions import Fraction

import pytest

from portal.billing.periods import boundary, period_after, remaining_fraction

JAN31 = datetime(2026, 1, 31, 9, 30)


@pytest.mark.parametrize(
    ("anchor", "interval", "count", "n", "expected"),
    [
        (JAN31, "month", 1, 1, datetime(2026, 2, 28, 9, 30)),  # clamped to February's end
        (JAN31, "month", 1, 2, datetime(2026, 3, 31, 9, 30)),  # back to the 31st, not the 28th
        (JAN31, "month", 1, 3, datetime(2026, 4, 30, 9, 30)),
        (datetime(2028, 1, 31), "month", 1, 1, datetime(2028, 2, 29)),  # leap year
        (datetime(2028, 1, 31), "month", 1, 2, datetime(2028, 3, 31)),
        (JAN31, "month", 3, 1, datetime(2026, 4, 30, 9, 30)),  # quarterly
        (JAN31, "month", 1, 11, datetime(2026, 12, 31, 9, 30)),
        (JAN31, "month", 1, 12, datetime(2027, 1, 31, 9, 30)),
        (datetime(2028, 2, 29), "year", 1, 1, datetime(2029, 2, 28)),
        (datetime(2028, 2, 29), "year", 1, 4, datetime(2032, 2, 29)),
        (JAN31, "week", 2, 1, datetime(2026, 2, 14, 9, 30)),
        (JAN31, "day", 1, 1, datetime(2026, 2, 1, 9, 30)),
        (JAN31, "month", 1, 0, JAN31),
    ],
)
def test_boundary(anchor, interval, count, n, expected):
    assert boundary(anchor, interval, count, n) == expected


def test_boundary_refuses_unknown_interval():
    with pytest.raises(ValueError, match="fortnight"):
        boundary(JAN31, "fortnight", 1, 1)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (JAN31, datetime(2026, 2, 28, 9, 30)),
        (datetime(2026, 2, 28, 9, 30), datetime(2026, 3, 31, 9, 30)),
        (datetime(2026, 3, 31, 9, 30), datetime(2026, 4, 30, 9, 30)),
    ],
)
def test_period_after_walks_the_anchor_chain(start, expected):
    assert period_after(JAN31, "month", 1, start) == expected


START, END = datetime(2026, 1, 1), datetime(2026, 2, 1)  # 31 days


@pytest.mark.parametrize(
    ("at", "fraction"),
    [
        (START - timedelta(days=3), Fraction(1)),  # before the period: all of it is ahead
        (START, Fraction(1)),
        (datetime(2026, 1, 11), Fraction(21, 31)),
        (datetime(2026, 1, 16, 12), Fraction(1, 2)),
        (END - timedelta(seconds=1), Fraction(1, 31 * 86400)),
        (END, Fraction(0)),
        (END + timedelta(days=1), Fraction(0)),
        # A started second counts as used: only whole seconds are left.
        (datetime(2026, 1, 11, 0, 0, 0, 1000), Fraction(21 * 86400 - 1, 31 * 86400)),
    ],
)
def test_remaining_fraction_is_exact(at, fraction):
    assert remaining_fraction(START, END, at) == fraction


def test_remaining_fraction_of_an_empty_period_is_zero():
    assert remaining_fraction(START, START, START) == 0
