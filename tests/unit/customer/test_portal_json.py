"""Portal-session JSON (Bearer): the signed-in customer's payment methods and invoices, with
the same rules as the pages."""

from datetime import timedelta

import pytest
from browsing import portal_json
from builders import add_payment_method, bearer, make_customer, patch_config, subscribe

from portal.billing.gateway import get_gateway
from portal.models import Invoice, PaymentMethod, new_id, utcnow


@pytest.fixture
def jo(merchant):
    return make_customer(merchant, email="jo@example.com")


@pytest.fixture
def auth(merchant, jo):
    return bearer(merchant, jo["id"])


def call(client, auth, method, path, body=None):
    return portal_json(client, method, path, auth, body)


def test_methods_are_listed_added_defaulted_and_removed(client, merchant, jo, auth):
    first = call(
        client, auth, "POST", "/payment-methods", {"type": "PAYMENT_CARD", "token": "tok_visa"}
    )
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["data"]["is_default"] is True
    second = call(
        client,
        auth,
        "POST",
        "/payment-methods",
        {"type": "PAYMENT_CARD", "token": "tok_mastercard", "name": "Work"},
    )
    second_id = second.get_json()["data"]["id"]
    listed = call(client, auth, "GET", "/payment-methods").get_json()
    assert [m["last_four"] for m in listed["data"]] == ["4444", "4242"]
    assert listed["pagination"]["total"] == 2

    made = call(client, auth, "POST", f"/payment-methods/{second_id}/default")
    assert made.status_code == 200 and made.get_json()["data"]["is_default"] is True
    assert not PaymentMethod.get_by_id(first.get_json()["data"]["id"]).is_default

    removed = call(client, auth, "DELETE", f"/payment-methods/{second_id}")
    assert removed.status_code == 200
    assert PaymentMethod.get_or_none(PaymentMethod.id == second_id) is None
    assert PaymentMethod.get_by_id(first.get_json()["data"]["id"]).is_default


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "PAYMENT_CARD", "token": "tok_unknown"}, "tokenId"),
        ({"type": "PAYMENT_CARD", "token": "tok_bank_account"}, "type"),
        ({"type": "CASH", "token": "tok_visa"}, "type"),
        ({"type": "PAYMENT_CARD"}, "token"),
        ({"type": "PAYMENT_CARD", "token": "tok_visa", "customer_id": "x"}, "customer_id"),
    ],
)
def test_a_bad_method_is_refused(client, jo, auth, body, field):
    response = call(client, auth, "POST", "/payment-methods", body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["details"]["fields"]
    assert PaymentMethod.select().count() == 0


def test_the_only_method_of_an_active_subscription_stays(client, merchant, jo, auth, price):
    card = add_payment_method(merchant, jo["id"], "tok_visa")
    subscribe(merchant, jo["id"], price["id"])
    response = call(client, auth, "DELETE", f"/payment-methods/{card['id']}")
    assert response.status_code == 409
    assert "only payment method" in response.get_json()["error"]["message"]
    assert PaymentMethod.get_or_none(PaymentMethod.id == card["id"]) is not None


def test_invoices_are_listed_newest_first_and_fetched(client, merchant, jo, auth):
    start = utcnow() - timedelta(days=1)
    rows = [
        {
            "id": new_id(),
            "company": merchant.id,
            "customer": jo["id"],
            "number": f"J-{i:03d}",
            "status": "PAID",
            "currency": "USD",
            "total": 100,
            "amount_due": 100,
            "amount_paid": 100,
            "created_at": start + timedelta(minutes=i // 2),
        }
        for i in range(25)
    ]  # pairs share a timestamp: the number breaks the tie, as in the merchant API
    Invoice.insert_many(rows).execute()
    first = call(client, auth, "GET", "/invoices").get_json()
    second = call(client, auth, "GET", "/invoices?offset=20").get_json()
    numbers = [i["number"] for i in first["data"] + second["data"]]
    assert numbers == [f"J-{i:03d}" for i in reversed(range(25))]
    assert first["pagination"] == {"total": 25, "limit": 20, "offset": 0, "has_more": True}
    one = call(client, auth, "GET", f"/invoices/{rows[3]['id']}")
    assert one.status_code == 200 and one.get_json()["data"]["number"] == "J-003"


def test_a_past_due_invoice_is_paid_with_a_chosen_method(client, merchant, account):
    auth = bearer(merchant, account.id)
    path = f"/invoices/{account.open_invoice}/pay"
    declined = call(client, auth, "POST", path, {"payment_method_id": account.bad_card["id"]})
    assert declined.status_code == 402
    assert declined.get_json()["error"]["code"] == "PAYMENT_DECLINED"
    assert declined.get_json()["error"]["details"]["invoice_status"] == "PAST_DUE"
    paid = call(client, auth, "POST", path, {"payment_method_id": account.good_card["id"]})
    assert paid.status_code == 200 and paid.get_json()["data"]["status"] == "PAID"
    again = call(client, auth, "POST", path, {"payment_method_id": account.good_card["id"]})
    assert again.status_code == 409


def test_paying_with_the_same_idempotency_key_charges_once(client, merchant, account):
    auth = {**bearer(merchant, account.id), "Idempotency-Key": "pay-once-1"}
    path = f"/invoices/{account.open_invoice}/pay"
    body = {"payment_method_id": account.good_card["id"]}
    calls = len(get_gateway().charge_calls)
    first, second = (call(client, auth, "POST", path, body) for _ in range(2))
    assert first.status_code == second.status_code == 200
    assert first.get_json()["data"] == second.get_json()["data"]
    assert len(get_gateway().charge_calls) == calls + 1


def test_a_signed_out_session_is_refused(client, merchant, jo, auth):
    assert call(client, auth, "POST", "/access/sign-out").status_code == 200
    response = call(client, auth, "GET", "/payment-methods")
    assert response.status_code == 401


def test_the_section_switch_applies_to_the_session_at_once(client, merchant, jo, auth):
    assert call(client, auth, "GET", "/invoices").status_code == 200
    patch_config(merchant, invoice_history_enabled=False)
    assert call(client, auth, "GET", "/invoices").status_code == 403


def test_an_idempotency_key_is_scoped_to_the_customer_not_the_merchant(client, merchant, auth):
    other = make_customer(merchant, email="sam@example.com")
    other_auth = bearer(merchant, other["id"])
    body = {"type": "PAYMENT_CARD", "token": "tok_visa"}
    key = {"Idempotency-Key": "add-card-1"}
    mine = call(client, {**auth, **key}, "POST", "/payment-methods", body)
    theirs = call(client, {**other_auth, **key}, "POST", "/payment-methods", body)
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.get_json()["data"]["id"] != mine.get_json()["data"]["id"]
    assert PaymentMethod.get_by_id(theirs.get_json()["data"]["id"]).customer_id == other["id"]
    # The first customer's own retry still replays.
    again = call(client, {**auth, **key}, "POST", "/payment-methods", body)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["data"]["id"] == mine.get_json()["data"]["id"]
