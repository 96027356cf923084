"""Money is integer minor units. The one rounding rule: half away from zero, to the cent."""

from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from babel.numbers import format_currency

from portal.i18n import formatting_locale

MAX_AMOUNT = 99_999_999_999  # a billion in major units: far above any real invoice line
ZERO_DECIMAL = {"JPY", "KRW"}  # currencies whose minor unit is the whole unit

NBSP = "\u00a0"


def round_cents(value: Fraction | Decimal | int) -> int:
    """Round an exact amount of cents to an integer: halves go away from zero."""
    exact = Fraction(value)
    magnitude = abs(exact)
    # floor(x + 1/2) in exact integer arithmetic
    rounded = (2 * magnitude.numerator + magnitude.denominator) // (2 * magnitude.denominator)
    return rounded if exact >= 0 else -rounded


def format_money(cents: int, currency: str, locale: str | None = None) -> str:
    """Human form, in the locale's symbols, grouping and minus sign: $12.34, -€5.00, ¥1,200.
    Without ``locale``: the language being rendered now (portal/i18n.py), else en_US."""
    return _format_money(cents, currency, locale or formatting_locale())


@lru_cache(maxsize=4096)  # a page shows the same few prices again and again; babel is slow
def _format_money(cents: int, currency: str, locale: str) -> str:
    code = currency.upper()
    zero_decimal = code in ZERO_DECIMAL
    amount = Decimal(cents) if zero_decimal else Decimal(cents).scaleb(-2)
    text = format_currency(amount, code, locale=locale, currency_digits=zero_decimal)
    return _space_after_letters(text)


def _space_after_letters(text: str) -> str:
    """CLDR's currency spacing, which babel leaves out: a symbol that ends in a letter
    (CHF, SEK) and the number it touches get a no-break space between them (CHF 0.05)."""
    for i in range(1, len(text)):
        if text[i - 1].isalpha() and text[i].isdigit():
            return text[:i] + NBSP + text[i:]
        if text[i - 1].isdigit() and text[i].isalpha():
            return text[:i] + NBSP + text[i:]
    return text
