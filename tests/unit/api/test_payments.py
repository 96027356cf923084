"""Payment instruments API: POST /payment, GET|PATCH /payment/:id."""

import httpx
import pytest
from builders import make_customer
from support import count_rows, stored_subscription

from portal.api import schemas
from portal.db import db
from portal.models import ApiKey, IdempotencyRecord, PaymentMethod, Subscription, utcnow

from .apiworld import validation_fields

# Every test gets its own sandbox gateway (charges and refunds it saw start empty).
pytestmark = pytest.mark.usefixtures("gateway")


def new_customer(merchant) -> str:
    return make_customer(merchant, "Ada", "L")["id"]


def attach(merchant, customer_id, source="tok_visa", kind="PAYMENT_CARD", **extra) -> dict:
    body = {"type": kind, "identityId": customer_id, "tokenId": source, **extra}
    data = merchant.ok("POST", "/payment", body, status=201)
    return schemas.PaymentInstrument.model_validate(data).model_dump()


def live_subscription(customer_id, method_id):
    with db.connection_context():
        method = PaymentMethod.get_by_id(method_id)
        stored_subscription(method.company_id, customer_id, method)


@pytest.fixture
def customer_id(merchant):
    return new_customer(merchant)


@pytest.fixture
def card(merchant, customer_id):
    return attach(merchant, customer_id)


# ---- create -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "kind", "brand", "last_four", "account_type"),
    [
        ("tok_visa", "PAYMENT_CARD", "VISA", "4242", None),
        ("tok_mastercard", "PAYMENT_CARD", "MASTERCARD", "4444", None),
        ("tok_amex", "PAYMENT_CARD", "AMERICAN_EXPRESS", "0005", None),
        ("tok_chargeDeclined", "PAYMENT_CARD", "VISA", "0341", None),
        ("tok_bank_account", "BANK_ACCOUNT", None, "6789", "CHECKING"),
    ],
)
def test_create_from_test_tokens(
    merchant, customer_id, token, kind, brand, last_four, account_type
):
    data = attach(merchant, customer_id, token, kind, name="Main")
    assert (data["type"], data["brand"], data["last_four"]) == (kind, brand, last_four)
    assert (data["identity_id"], data["name"], data["enabled"]) == (customer_id, "Main", True)
    assert data["account_type"] == account_type
    assert merchant.ok("GET", f"/payment/{data['id']}") == data


def test_first_instrument_becomes_the_default(merchant, customer_id):
    first = attach(merchant, customer_id)
    second = attach(merchant, customer_id, "tok_mastercard")
    assert (first["is_default"], second["is_default"]) == (True, False)
    customer = merchant.ok("GET", f"/customer/{customer_id}")
    assert customer["default_payment_instrument_id"] == first["id"]


def test_official_client_extras_are_accepted(merchant, customer_id):
    address = {"line1": "1 Main St", "city": "Austin", "postal_code": "78701", "country": "USA"}
    card = attach(merchant, customer_id, address=address, name=None)
    assert card["name"] is None
    bank = attach(
        merchant,
        customer_id,
        "tok_bank_account",
        "BANK_ACCOUNT",
        account_type="savings",
        attempt_bank_account_validation_check=True,
    )
    assert (bank["account_type"], bank["bank_name"]) == ("SAVINGS", "Test Bank")


BASE = {"type": "PAYMENT_CARD", "tokenId": "tok_visa"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"type": None}, "type"),
        ({"type": "CASH"}, "type"),
        ({"type": "payment_card"}, "type"),
        ({"tokenId": None}, "tokenId"),
        ({"tokenId": ""}, "tokenId"),
        ({"tokenId": 42}, "tokenId"),
        ({"identityId": None}, "identityId"),
        ({"identityId": "x" * 65}, "identityId"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"address": "1 Main St"}, "address"),
        ({"address": {"zip": "78701"}}, "address.zip"),
        ({"address": {"country": "United States"}}, "address.country"),
        ({"account_type": "CHECKING"}, "account_type"),
        (
            {"type": "BANK_ACCOUNT", "tokenId": "tok_bank_account", "account_type": "GOLD"},
            "account_type",
        ),
        ({"type": "BANK_ACCOUNT", "tokenId": "tok_bank_account", "address": {}}, "address"),
        (
            {"type": "BANK_ACCOUNT", "attempt_bank_account_validation_check": "yes"},
            "attempt_bank_account_validation_check",
        ),
        ({"identity_id": "x"}, "identity_id"),
        ({"card_number": "4242424242424242"}, "card_number"),
        ({"tokenId": "tok_unknown"}, "tokenId"),
        ({"tokenId": "tok_bank_account"}, "type"),
        ({"type": "BANK_ACCOUNT", "tokenId": "tok_visa"}, "type"),
    ],
)
def test_create_field_errors_change_nothing(merchant, customer_id, changes, field):
    body = {**BASE, "identityId": customer_id, **changes}
    body = {k: v for k, v in body.items() if v is not None or k == "name"}
    response = merchant.post("/payment", body)
    assert field in validation_fields(response)
    assert "4242424242424242" not in response.get_data(as_text=True)
    assert count_rows(PaymentMethod) == 0


@pytest.mark.parametrize("owner", ["nobody", "other"])
def test_create_for_unknown_or_foreign_customer(merchant, other_merchant, owner):
    identity = new_customer(other_merchant) if owner == "other" else "missing"
    response = merchant.post("/payment", {**BASE, "identityId": identity})
    assert set(validation_fields(response)) == {"identityId"}
    assert count_rows(PaymentMethod) == 0


def test_create_is_idempotent(merchant, customer_id):
    body = {**BASE, "identityId": customer_id}
    headers = {"Idempotency-Key": "attach-1"}
    first = merchant.post("/payment", body, headers=headers)
    again = merchant.post("/payment", body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = merchant.post("/payment", {**body, "name": "Other"}, headers=headers)
    assert other.status_code == 409
    assert other.get_json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert count_rows(PaymentMethod) == 1


# ---- update -------------------------------------------------------------------------------


def test_rename_and_clear_name(merchant, card):
    renamed = merchant.ok("PATCH", f"/payment/{card['id']}", {"name": "  Work card "})
    assert renamed["name"] == "Work card"
    assert renamed["updated_at"] >= card["updated_at"]
    cleared = merchant.ok("PATCH", f"/payment/{card['id']}", {"name": None})
    assert (cleared["name"], cleared["enabled"], cleared["is_default"]) == (None, True, True)


def test_disable_moves_the_default_and_reenable_keeps_it(merchant, customer_id, card):
    second = attach(merchant, customer_id, "tok_mastercard")
    off = merchant.ok("PATCH", f"/payment/{card['id']}", {"enabled": False})
    assert (off["enabled"], off["is_default"]) == (False, False)
    assert merchant.ok("GET", f"/payment/{second['id']}")["is_default"] is True
    on = merchant.ok("PATCH", f"/payment/{card['id']}", {"enabled": True})
    assert (on["enabled"], on["is_default"]) == (True, False)


def test_reenabling_the_only_method_makes_it_default_again(merchant, card):
    merchant.ok("PATCH", f"/payment/{card['id']}", {"enabled": False})
    assert merchant.ok("PATCH", f"/payment/{card['id']}", {"enabled": True})["is_default"] is True


def test_make_default(merchant, customer_id, card):
    second = attach(merchant, customer_id, "tok_mastercard")
    live_subscription(customer_id, card["id"])
    made = merchant.ok("PATCH", f"/payment/{second['id']}", {"is_default": True})
    assert made["is_default"] is True
    assert merchant.ok("GET", f"/payment/{card['id']}")["is_default"] is False
    with db.connection_context():
        assert Subscription.get().payment_method_id == second["id"]


def test_disabling_the_only_method_of_a_live_subscription_is_refused(merchant, customer_id, card):
    live_subscription(customer_id, card["id"])
    response = merchant.patch(f"/payment/{card['id']}", {"enabled": False})
    assert response.status_code == 409
    assert "only payment method" in response.get_json()["error"]["message"]
    assert merchant.ok("GET", f"/payment/{card['id']}")["enabled"] is True
    attach(merchant, customer_id, "tok_mastercard")
    assert merchant.ok("PATCH", f"/payment/{card['id']}", {"enabled": False})["enabled"] is False


def test_a_refused_update_changes_nothing(merchant, customer_id, card):
    live_subscription(customer_id, card["id"])
    response = merchant.patch(f"/payment/{card['id']}", {"name": "Renamed", "enabled": False})
    assert response.status_code == 409
    assert merchant.ok("GET", f"/payment/{card['id']}") == card


def test_a_disabled_method_cannot_become_default(merchant, customer_id, card):
    attach(merchant, customer_id, "tok_mastercard")
    merchant.ok("PATCH", f"/payment/{card['id']}", {"enabled": False})
    response = merchant.patch(f"/payment/{card['id']}", {"is_default": True})
    assert response.status_code == 409
    assert merchant.ok("GET", f"/payment/{card['id']}")["is_default"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"enabled": "false"}, "enabled"),
        ({"enabled": None}, "enabled"),
        ({"is_default": False}, "is_default"),
        ({"is_default": None}, "is_default"),
        ({"enabled": False, "is_default": True}, "is_default"),
        ({"name": "x" * 101}, "name"),
        ({"brand": "VISA"}, "brand"),
        ({"last_four": "0000"}, "last_four"),
    ],
)
def test_update_field_errors_change_nothing(merchant, card, body, field):
    assert field in validation_fields(merchant.patch(f"/payment/{card['id']}", body))
    assert merchant.ok("GET", f"/payment/{card['id']}") == card


def test_update_is_idempotent(merchant, card):
    headers = {"Idempotency-Key": "rename-1"}
    path = f"/payment/{card['id']}"
    first = merchant.patch(path, {"name": "A"}, headers=headers)
    merchant.ok("PATCH", path, {"name": "B"})
    replay = merchant.patch(path, {"name": "A"}, headers=headers)
    assert replay.get_json() == first.get_json()
    assert merchant.ok("GET", path)["name"] == "B"
    assert merchant.patch(path, {"name": "C"}, headers=headers).status_code == 409


# ---- tenancy and auth ---------------------------------------------------------------------


@pytest.mark.parametrize(("method", "body"), [("GET", None), ("PATCH", {"name": "Mine now"})])
def test_other_company_instrument_is_not_found(merchant, other_merchant, card, method, body):
    response = other_merchant.call(method, f"/payment/{card['id']}", body)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "NOT_FOUND"
    assert merchant.ok("GET", f"/payment/{card['id']}")["name"] is None
    assert other_merchant.get("/payment/not-an-id").status_code == 404


ROUTES = [
    ("POST", "/payment", {**BASE, "identityId": "x"}),
    ("GET", "/payment/{id}", None),
    ("PATCH", "/payment/{id}", {"name": "x"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_auth_is_required(merchant, card, method, path, body):
    path = path.format(id=card["id"])
    missing = merchant.client.open(f"/v1/api{path}", method=method, json=body)
    assert missing.status_code == 401
    public = merchant.call(method, path, body, key=merchant.publishable)
    assert public.status_code == 403
    assert public.get_json()["error"]["code"] == "PERMISSION_DENIED"
    with db.connection_context():
        ApiKey.update(revoked_at=utcnow()).where(ApiKey.key_type == "secret").execute()
    assert merchant.call(method, path, body).status_code == 401
    assert count_rows(PaymentMethod) == 1 and count_rows(IdempotencyRecord) == 0


def test_official_client_creates_and_updates(app, merchant, customer_id):
    from easylabs._http import _HTTP
    from easylabs.resources import PaymentInstruments

    http = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://portal.test")
    instruments = PaymentInstruments(
        _HTTP(api_url="http://portal.test/v1/api", api_key=merchant.secret, client=http)
    )
    made = instruments.create(
        type="BANK_ACCOUNT",
        name="Payroll",
        identity_id=customer_id,
        token_id="tok_bank_account",
        account_type="CHECKING",
        attempt_bank_account_validation_check=False,
        idempotency_key="client-1",
    )
    assert (made.instrument_type, made.last_four, made.name) == ("BANK_ACCOUNT", "6789", "Payroll")
    updated = instruments.update(made.id, enabled=False)
    assert (updated.id, updated.enabled) == (made.id, False)
