"""Money is integer minor units. The one rounding rule: half away from zero, to the cent."""

from decimal import Decimal
from fractions import Fraction

MAX_AMOUNT = 99_999_999_999  # a billion in major units: far above any real invoice line

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$"}
ZERO_DECIMAL = {"JPY", "KRW"}


def round_cents(value: Fraction | Decimal | int) -> int:
    """Round an exact amount of cents to an integer: halves go away from zero."""
    exact = Fraction(value)
    magnitude = abs(exact)
    # floor(x + 1/2) in exact integer arithmetic
    rounded = (2 * magnitude.numerator + magnitude.denominator) // (2 * magnitude.denominator)
    return rounded if exact >= 0 else -rounded


def format_money(cents: int, currency: str) -> str:
    """Human form: $12.34, -€5.00, ¥1200."""
    code = currency.upper()
    symbol = CURRENCY_SYMBOLS.get(code, code + " ")
    sign = "-" if cents < 0 else ""
    if code in ZERO_DECIMAL:
        return f"{sign}{symbol}{abs(cents):,}"
    return f"{sign}{symbol}{abs(cents) // 100:,}.{abs(cents) % 100:02d}"
