"""Payment instruments in the billing core: the same card or bank account (the gateway's
fingerprint) is stored once per customer while it is enabled, whichever route adds it."""

import pytest
from builders import make_customer

from portal.billing.instruments import add_instrument, remove, set_enabled
from portal.db import db
from portal.errors import ValidationFailed
from portal.models import Customer, PaymentMethod

CARD_SAVED = {"tokenId": "This card is already saved."}
BANK_SAVED = {"tokenId": "This bank account is already saved."}


@pytest.fixture
def customer(ctx, merchant, gateway):
    return Customer.create(company=merchant.company, first_name="Ada", last_name="Lovelace")


def methods_of(customer) -> list[PaymentMethod]:
    return list(PaymentMethod.select().where(PaymentMethod.customer == customer.id))


def refusal(customer, token: str) -> dict:
    with pytest.raises(ValidationFailed) as caught:
        add_instrument(customer, token)
    return caught.value.fields


@pytest.mark.parametrize(
    ("token", "fields"), [("tok_visa", CARD_SAVED), ("tok_bank_account", BANK_SAVED)]
)
def test_the_same_instrument_twice_is_refused_and_nothing_is_stored(customer, token, fields):
    first = add_instrument(customer, token)
    assert refusal(customer, token) == fields
    assert [m.id for m in methods_of(customer)] == [first.id]


def test_the_same_card_number_tokenized_twice_is_refused(customer, gateway):
    def token():
        return gateway.tokenize_card("4242 4242 4242 4242", 12, 2039, "123")

    add_instrument(customer, token())
    assert refusal(customer, token()) == CARD_SAVED
    # The fingerprint is keyed on the number: a new token is not a new card, another number is.
    assert add_instrument(customer, gateway.tokenize_card("5555555555554444", 12, 2039, "111"))
    assert len(methods_of(customer)) == 2


def test_the_same_bank_account_tokenized_twice_is_refused(customer, gateway):
    def token():
        return gateway.tokenize_bank_account("Ada Lovelace", "110000000", "000123456789")

    add_instrument(customer, token())
    assert refusal(customer, token()) == BANK_SAVED
    add_instrument(customer, gateway.tokenize_bank_account("Ada", "110000000", "000999"))
    assert len(methods_of(customer)) == 2


def test_different_cards_and_other_customers_are_not_refused(customer, merchant, other_merchant):
    for token in ("tok_visa", "tok_mastercard", "tok_amex", "tok_chargeDeclined"):
        add_instrument(customer, token)
    neighbour = Customer.create(company=merchant.company, first_name="B", last_name="C")
    stranger = Customer.create(company=other_merchant.company, first_name="D", last_name="E")
    assert add_instrument(neighbour, "tok_visa").is_default
    assert add_instrument(stranger, "tok_visa").is_default
    assert len(methods_of(customer)) == 4


def test_a_removed_card_can_be_added_again(customer):
    old = add_instrument(customer, "tok_visa")
    remove(old)
    again = add_instrument(customer, "tok_visa")
    assert [m.id for m in methods_of(customer)] == [again.id] and again.is_default


def test_a_disabled_card_does_not_block_adding_it_again(customer):
    old = add_instrument(customer, "tok_visa")
    set_enabled(old, False)
    again = add_instrument(customer, "tok_visa")
    assert again.enabled and again.is_default
    assert {m.id: m.enabled for m in methods_of(customer)} == {old.id: False, again.id: True}


def test_a_refused_token_type_is_named_before_the_duplicate(customer):
    add_instrument(customer, "tok_visa")
    with pytest.raises(ValidationFailed) as caught:
        add_instrument(customer, "tok_visa", expected_type="BANK_ACCOUNT")
    assert set(caught.value.fields) == {"type"}


# --- through the merchant API (POST /v1/api/payment) -------------------------------------------


def api_customer(merchant) -> str:
    return make_customer(merchant, "Ada", "Lovelace", email="ada@example.com")["id"]


def stored(customer_id: str) -> list[str]:
    with db.connection_context():
        return [m.id for m in PaymentMethod.select().where(PaymentMethod.customer == customer_id)]


def attach(merchant, customer_id: str, token: str, kind: str = "PAYMENT_CARD"):
    body = {"type": kind, "identityId": customer_id, "tokenId": token}
    return merchant.post("/payment", body)


@pytest.mark.parametrize(
    ("token", "kind", "message"),
    [
        ("tok_visa", "PAYMENT_CARD", "This card is already saved."),
        ("tok_bank_account", "BANK_ACCOUNT", "This bank account is already saved."),
    ],
)
def test_the_api_answers_422_for_a_saved_instrument_and_stores_nothing(
    merchant, token, kind, message
):
    customer_id = api_customer(merchant)
    assert attach(merchant, customer_id, token, kind).status_code == 201
    before = stored(customer_id)
    response = attach(merchant, customer_id, token, kind)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["fields"] == {"tokenId": message}
    assert message in error["message"]
    after = stored(customer_id)
    assert after == before and len(after) == 1


def test_the_api_adds_the_card_again_once_it_is_disabled_or_removed(merchant):
    customer_id = api_customer(merchant)
    first = attach(merchant, customer_id, "tok_visa").get_json()["data"]
    assert merchant.patch(f"/payment/{first['id']}", {"enabled": False}).status_code == 200
    second = attach(merchant, customer_id, "tok_visa")
    assert second.status_code == 201, second.get_json()
    listed = merchant.ok("GET", f"/customer/{customer_id}/instruments")
    assert sorted(row["enabled"] for row in listed) == [False, True]
    with db.connection_context():  # as the portal's Remove does
        remove(PaymentMethod.get_by_id(second.get_json()["data"]["id"]))
    third = attach(merchant, customer_id, "tok_visa")
    assert third.status_code == 201, third.get_json()
