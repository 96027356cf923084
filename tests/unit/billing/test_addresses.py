"""Addresses print in their country's order, and nothing the customer entered is dropped."""

import pytest

from portal.billing.addresses import address_lines


@pytest.mark.parametrize(
    ("address", "lines"),
    [
        (
            {
                "line1": "1 Main St",
                "line2": "Suite 4",
                "city": "Portland",
                "region": "OR",
                "postal_code": "97209",
                "country": "US",
            },
            ["1 Main St", "Suite 4", "Portland, OR 97209", "United States"],
        ),
        (
            {"line1": "Invalidenstr. 1", "city": "Berlin", "postal_code": "10115", "country": "DE"},
            ["Invalidenstr. 1", "10115 Berlin", "Germany"],
        ),
        (
            {
                "line1": "12 St James's Sq",
                "city": "London",
                "postal_code": "SW1Y 4JH",
                "country": "gb",
            },
            ["12 St James's Sq", "London", "SW1Y 4JH", "United Kingdom"],
        ),
        (
            {"line1": "1 Rue de Rivoli", "city": "Paris", "postal_code": "75001", "country": "FR"},
            ["1 Rue de Rivoli", "75001 Paris", "France"],
        ),
    ],
)
def test_each_country_has_its_own_order(address, lines):
    assert address_lines(address) == lines


def test_missing_parts_leave_no_dangling_separators():
    assert address_lines({"city": "Portland", "postal_code": "97209", "country": "US"}) == [
        "Portland, 97209",
        "United States",
    ]
    assert address_lines({"region": "OR", "postal_code": "97209", "country": "US"}) == [
        "OR 97209",
        "United States",
    ]


def test_a_region_or_city_the_format_has_no_place_for_is_kept():
    # Germany's format has no region; Japan's (in Latin script) no city.
    german = {
        "line1": "Hauptstr. 1",
        "city": "Köln",
        "region": "NRW",
        "postal_code": "50667",
        "country": "DE",
    }
    assert address_lines(german) == ["Hauptstr. 1", "50667 Köln", "NRW", "Germany"]
    japanese = {
        "line1": "1-1 Chiyoda",
        "city": "Chiyoda-ku",
        "region": "Tokyo",
        "postal_code": "100-0001",
        "country": "JP",
    }
    assert "Chiyoda-ku" in address_lines(japanese)


def test_without_a_country_the_address_still_prints():
    assert address_lines({"line1": "1 Main St", "city": "Springfield", "postal_code": "12345"}) == [
        "1 Main St",
        "12345 Springfield",
    ]
    assert address_lines({}) == []
