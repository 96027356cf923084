"""Money: one rounding rule (half away from zero, exact arithmetic) and human formatting."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.billing.money import format_money, round_cents


@pytest.mark.parametrize(
    ("exact", "cents"),
    [
        (Fraction(1, 2), 1),
        (Fraction(-1, 2), -1),
        (Fraction(5, 2), 3),  # not banker's rounding: 2.5 → 3
        (Fraction(-5, 2), -3),
        (Fraction(7, 2), 4),
        (Fraction(1, 3), 0),
        (Fraction(2, 3), 1),
        (Fraction(-2, 3), -1),
        (Fraction(49_999, 100_000), 0),  # just under a half stays down
        (Fraction(1000 * 21, 31), 677),  # 677.419…
        (Fraction(3000 * 21, 31), 2032),  # 2032.258…
        (Decimal("12.5"), 13),
        (Decimal("-12.5"), -13),
        (Decimal("0.4999999999"), 0),
        (0, 0),
        (42, 42),
    ],
)
def test_round_cents_half_away_from_zero(exact, cents):
    assert round_cents(exact) == cents


@given(st.fractions(min_value=-(10**12), max_value=10**12))
def test_rounding_is_symmetric_and_within_half_a_cent(value):
    rounded = round_cents(value)
    assert round_cents(-value) == -rounded
    assert abs(rounded - value) <= Fraction(1, 2)


@pytest.mark.parametrize(
    ("cents", "currency", "text"),
    [
        (1234, "USD", "$12.34"),
        (-500, "eur", "-€5.00"),
        (123456789, "GBP", "£1,234,567.89"),
        (1200, "JPY", "¥1,200"),
        (5, "CHF", "CHF\u00a00.05"),
        (-123456, "SEK", "-SEK\u00a01,234.56"),
        (-700, "KRW", "-₩700"),
    ],
)
def test_format_money(cents, currency, text):
    assert format_money(cents, currency) == text
