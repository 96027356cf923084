"""The sandbox gateway: card checks, test tokens, charge outcomes, and no card data at rest."""

import re
from datetime import date

import pytest

from portal.billing.gateway import (
    GatewayError,
    card_brand,
    luhn_ok,
)
from portal.billing.instruments import add_instrument
from portal.db import db
from portal.models import MODELS, Customer

NEXT_YEAR = date.today().year + 1


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("4242424242424242", True),
        ("4242424242424241", False),
        ("79927398713", True),
        ("79927398710", False),
        ("378282246310005", True),
        ("0000000000000000", True),
    ],
)
def test_luhn(number, valid):
    assert luhn_ok(number) is valid


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4242424242424242", "VISA"),
        ("5555555555554444", "MASTERCARD"),
        ("2223003122003222", "MASTERCARD"),
        ("378282246310005", "AMERICAN_EXPRESS"),
        ("6011111111111117", "DISCOVER"),
        ("3056930009020004", "UNKNOWN"),
    ],
)
def test_card_brand(number, brand):
    assert card_brand(number) == brand


def test_good_card_tokenizes_attaches_and_charges(gateway):
    token = gateway.tokenize_card("4242 4242 4242 4242", 7, NEXT_YEAR, "123")
    instrument = gateway.create_instrument(token)
    assert (instrument.type, instrument.brand, instrument.last_four) == (
        "PAYMENT_CARD",
        "VISA",
        "4242",
    )
    assert (instrument.expiration_month, instrument.expiration_year) == (7, NEXT_YEAR)
    result = gateway.charge(instrument.gateway_ref, 1999, "USD", "k1")
    assert result.succeeded and result.failure_message is None


def test_a_token_is_used_once(gateway):
    token = gateway.tokenize_card("4242424242424242", 7, NEXT_YEAR, "123")
    gateway.create_instrument(token)
    with pytest.raises(GatewayError) as caught:
        gateway.create_instrument(token)
    assert caught.value.field == "token"


@pytest.mark.parametrize(
    ("number", "month", "year", "cvc", "field"),
    [
        ("4242424242424241", 7, NEXT_YEAR, "123", "number"),
        ("4242-4242-4242-4242", 7, NEXT_YEAR, "123", "number"),
        ("42424242", 7, NEXT_YEAR, "123", "number"),
        ("4000000000000002", 7, NEXT_YEAR, "123", "number"),
        ("4242424242424242", 1, date.today().year - 1, "123", "expiry"),
        ("4242424242424242", 13, NEXT_YEAR, "123", "expiry"),
        ("4242424242424242", 0, NEXT_YEAR, "123", "expiry"),
        ("4242424242424242", 7, NEXT_YEAR, "12", "cvc"),
        ("4242424242424242", 7, NEXT_YEAR, "12345", "cvc"),
        ("4242424242424242", 7, NEXT_YEAR, "1a3", "cvc"),
    ],
)
def test_tokenize_card_refusals_name_the_field(gateway, number, month, year, cvc, field):
    with pytest.raises(GatewayError) as caught:
        gateway.tokenize_card(number, month, year, cvc)
    assert caught.value.field == field


def test_verification_decline_says_declined(gateway):
    with pytest.raises(GatewayError, match="declined"):
        gateway.tokenize_card("4000000000000002", 7, NEXT_YEAR, "123")


def test_charge_decline_card_attaches_but_charges_fail(gateway):
    instrument = gateway.create_instrument(
        gateway.tokenize_card("4000000000000341", 7, NEXT_YEAR, "123")
    )
    assert instrument.last_four == "0341"
    result = gateway.charge(instrument.gateway_ref, 500, "USD", "k1")
    assert not result.succeeded
    assert "declined" in result.failure_message


@pytest.mark.parametrize(
    ("token", "kind", "brand", "last_four", "charges"),
    [
        ("tok_visa", "PAYMENT_CARD", "VISA", "4242", True),
        ("tok_mastercard", "PAYMENT_CARD", "MASTERCARD", "4444", True),
        ("tok_amex", "PAYMENT_CARD", "AMERICAN_EXPRESS", "0005", True),
        ("tok_chargeDeclined", "PAYMENT_CARD", "VISA", "0341", False),
        ("tok_bank_account", "BANK_ACCOUNT", None, "6789", True),
    ],
)
def test_named_test_tokens(gateway, token, kind, brand, last_four, charges):
    instrument = gateway.create_instrument(token)
    assert (instrument.type, instrument.brand, instrument.last_four) == (kind, brand, last_four)
    assert gateway.charge(instrument.gateway_ref, 100, "USD", token).succeeded is charges


def test_unknown_token_is_refused(gateway):
    with pytest.raises(GatewayError) as caught:
        gateway.create_instrument("tok_nonsense")
    assert caught.value.field == "token"


@pytest.mark.parametrize(
    ("routing", "account", "field"),
    [("12345678", "000123456789", "routing_number"), ("110000000", "12", "account_number")],
)
def test_bank_account_refusals(gateway, routing, account, field):
    with pytest.raises(GatewayError) as caught:
        gateway.tokenize_bank_account("Ada", routing, account)
    assert caught.value.field == field


def test_charges_are_deduplicated_by_idempotency_key(gateway):
    ref = gateway.create_instrument("tok_visa").gateway_ref
    first = gateway.charge(ref, 1000, "USD", "invoice:1:attempt:1")
    again = gateway.charge(ref, 1000, "USD", "invoice:1:attempt:1")
    other = gateway.charge(ref, 1000, "USD", "invoice:1:attempt:2")
    assert again == first
    assert other.gateway_ref != first.gateway_ref
    assert [call[3] for call in gateway.charge_calls] == [
        "invoice:1:attempt:1",
        "invoice:1:attempt:2",
    ]


# A card-like run: 13-19 digits, optionally spaced or dashed, not part of a longer word.
CARD_LIKE = re.compile(r"(?<![0-9A-Za-z])\d(?:[ -]?\d){12,18}(?![0-9A-Za-z])")
CARDS = [("4242424242424242", "9731"), ("4000000000000341", "8642"), ("378282246310005", "5319")]


def _dump() -> list[str]:
    return [
        str(value)
        for model in MODELS
        for row in model.select().tuples()
        for value in row
        if value is not None
    ]


def test_card_number_and_cvc_are_never_stored(app, merchant, gateway):
    with app.app_context(), db.connection_context():
        customer = Customer.create(company=merchant.company, first_name="Ada", last_name="L")
        for number, cvc in CARDS:
            add_instrument(customer, gateway.tokenize_card(number, 7, NEXT_YEAR, cvc))
        dump = _dump()
    assert {"4242", "0341", "0005"} <= set(dump)  # the last four digits are kept
    for value in dump:
        for run in CARD_LIKE.findall(value):
            assert not luhn_ok(re.sub(r"\D", "", run)), f"card-like value stored: {value!r}"
        for number, cvc in CARDS:
            assert number not in value
            assert not re.search(rf"(?<!\w){cvc}(?!\w)", value)
