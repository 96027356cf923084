"""Coupons API: terms validation, name/metadata-only updates, soft delete."""

from datetime import timedelta

import httpx
import pytest
from support import count_rows, stored_subscription

from portal.api import schemas
from portal.billing.money import MAX_AMOUNT
from portal.billing.subscriptions import active_coupons
from portal.db import db
from portal.models import ApiKey, Coupon, Customer, Discount, utcnow
from portal.timefmt import iso

from .apiworld import validation_fields

PERCENT = {"name": "Spring", "duration": "once", "percent_off": 25}


def create_coupon(merchant, **fields) -> dict:
    data = merchant.ok("POST", "/coupons", {**PERCENT, **fields}, status=201)
    return schemas.Coupon.model_validate(data).model_dump()


def in_days(days: int) -> str:
    return iso(utcnow() + timedelta(days=days))


@pytest.fixture
def coupon(merchant):
    return create_coupon(merchant)


# ---- create -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"percent_off": 25}, {"percent_off": 25.0, "amount_off": None, "currency": None}),
        ({"percent_off": 33.33}, {"percent_off": 33.33}),
        ({"percent_off": 100}, {"percent_off": 100.0}),
        ({"percent_off": 0.01}, {"percent_off": 0.01}),
        (
            {"amount_off": 500, "currency": "eur"},
            {"amount_off": 500, "currency": "EUR", "percent_off": None},
        ),
        ({"percent_off": 10}, {"duration": "once", "duration_in_months": None}),
        (
            {"percent_off": 10, "duration": "repeating", "duration_in_months": 3},
            {"duration": "repeating", "duration_in_months": 3},
        ),
        ({"percent_off": 10, "duration": "forever"}, {"duration": "forever"}),
        ({"percent_off": 10, "max_redemptions": 5}, {"max_redemptions": 5}),
        ({"percent_off": 10, "name": "  Spring  "}, {"name": "Spring"}),
        ({"percent_off": 10, "metadata": {"campaign": "q2"}}, {"metadata": {"campaign": "q2"}}),
    ],
)
def test_create_coupon(merchant, body, expected):
    data = merchant.ok("POST", "/coupons", body, status=201)
    schemas.Coupon.model_validate(data)
    for key, value in expected.items():
        assert data[key] == value, key
    assert (data["valid"], data["times_redeemed"]) == (True, 0)


@pytest.mark.parametrize(
    ("redeem_by", "stored"),
    [
        ("2031-05-01T10:00:00Z", "2031-05-01T10:00:00.000Z"),
        ("2031-05-01T12:00:00+02:00", "2031-05-01T10:00:00.000Z"),
        ("2031-05-01T10:00:00.123456", "2031-05-01T10:00:00.123Z"),
    ],
)
def test_redeem_by_is_stored_in_utc(merchant, redeem_by, stored):
    assert create_coupon(merchant, redeem_by=redeem_by)["redeem_by"] == stored


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"duration": "weekly"}, "duration"),
        ({"duration": "repeating"}, "duration_in_months"),
        ({"duration": "once", "duration_in_months": 3}, "duration_in_months"),
        ({"duration": "forever", "duration_in_months": 3}, "duration_in_months"),
        ({"duration": "repeating", "duration_in_months": 0}, "duration_in_months"),
        ({"duration": "repeating", "duration_in_months": 121}, "duration_in_months"),
        ({"duration": "repeating", "duration_in_months": "3"}, "duration_in_months"),
        ({"percent_off": None}, "percent_off"),
        ({"percent_off": 0}, "percent_off"),
        ({"percent_off": -5}, "percent_off"),
        ({"percent_off": 100.01}, "percent_off"),
        ({"percent_off": 33.333}, "percent_off"),
        ({"percent_off": "25"}, "percent_off"),
        ({"percent_off": True}, "percent_off"),
        ({"amount_off": 500, "currency": "usd"}, "amount_off"),
        ({"percent_off": None, "amount_off": 0, "currency": "usd"}, "amount_off"),
        ({"percent_off": None, "amount_off": 1.5, "currency": "usd"}, "amount_off"),
        ({"percent_off": None, "amount_off": MAX_AMOUNT + 1, "currency": "usd"}, "amount_off"),
        ({"percent_off": None, "amount_off": 500}, "currency"),
        ({"percent_off": None, "amount_off": 500, "currency": "EURO"}, "currency"),
        ({"currency": "usd"}, "currency"),
        ({"max_redemptions": 0}, "max_redemptions"),
        ({"max_redemptions": "5"}, "max_redemptions"),
        ({"redeem_by": "2001-01-01T00:00:00Z"}, "redeem_by"),
        ({"redeem_by": "tomorrow"}, "redeem_by"),
        ({"redeem_by": 1900000000}, "redeem_by"),
        ({"name": "x" * 101}, "name"),
        ({"metadata": "x"}, "metadata"),
        ({"code": "SPRING"}, "code"),
    ],
)
def test_create_coupon_rejects_bad_fields(merchant, body, field):
    payload = {k: v for k, v in {**PERCENT, **body}.items() if v is not None}
    assert field in validation_fields(merchant.post("/coupons", payload))
    assert count_rows(Coupon) == 0


def test_redeem_by_now_is_not_the_future(merchant):
    assert "redeem_by" in validation_fields(
        merchant.post("/coupons", {**PERCENT, "redeem_by": in_days(0)})
    )


# ---- list and retrieve --------------------------------------------------------------------


def test_list_coupons_paginates_and_hides_deleted(merchant, other_merchant):
    ids = [create_coupon(merchant, name=f"C{n}")["id"] for n in range(4)]
    create_coupon(other_merchant)
    merchant.ok("DELETE", f"/coupons/{ids[0]}")

    first = merchant.get("/coupons?limit=2").get_json()
    assert [c["id"] for c in first["data"]] == [ids[3], ids[2]]
    assert first["pagination"] == {"total": 3, "limit": 2, "offset": 0, "has_more": True}
    rest = merchant.get("/coupons?limit=2&offset=2").get_json()
    assert [c["id"] for c in rest["data"]] == [ids[1]]
    assert rest["pagination"] == {"total": 3, "limit": 2, "offset": 2, "has_more": False}
    for item in first["data"]:
        schemas.Coupon.model_validate(item)
    picked = merchant.ok("GET", f"/coupons?ids={ids[0]},{ids[1]}")
    assert [c["id"] for c in picked] == [ids[1]]


def test_get_coupon(merchant, other_merchant, coupon):
    assert merchant.ok("GET", f"/coupons/{coupon['id']}/") == coupon
    theirs = create_coupon(other_merchant)
    response = merchant.get(f"/coupons/{theirs['id']}")
    assert (response.status_code, response.get_json()["error"]["code"]) == (404, "NOT_FOUND")
    assert merchant.get("/coupons/unknown").status_code == 404


# ---- update -------------------------------------------------------------------------------


def test_patch_changes_name_and_metadata(merchant, coupon):
    path = f"/coupons/{coupon['id']}"
    data = merchant.ok("PATCH", path, {"name": "Summer", "metadata": {"a": "b"}})
    assert (data["name"], data["metadata"], data["percent_off"]) == ("Summer", {"a": "b"}, 25.0)
    assert merchant.ok("PATCH", path, {"metadata": {}})["name"] == "Summer"
    assert merchant.ok("GET", path)["metadata"] == {}


@pytest.mark.parametrize(
    "body",
    [
        {"percent_off": 50},
        {"amount_off": 100},
        {"currency": "USD"},
        {"duration": "forever"},
        {"duration_in_months": 2},
        {"max_redemptions": 3},
        {"redeem_by": "2031-01-01T00:00:00Z"},
        {"name": "ok", "percent_off": 25},
    ],
)
def test_patch_refuses_discount_terms(merchant, coupon, body):
    response = merchant.patch(f"/coupons/{coupon['id']}", body)
    frozen = next(name for name in body if name != "name")
    assert "Only name and metadata" in validation_fields(response)[frozen]
    assert merchant.ok("GET", f"/coupons/{coupon['id']}") == coupon


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"metadata": [1]}, "metadata"),
        ({"times_redeemed": 0}, "times_redeemed"),
        ({"valid": True}, "valid"),
    ],
)
def test_patch_rejects_bad_fields(merchant, coupon, body, field):
    assert field in validation_fields(merchant.patch(f"/coupons/{coupon['id']}", body))
    assert merchant.ok("GET", f"/coupons/{coupon['id']}") == coupon


def test_patch_foreign_or_deleted_coupon_is_not_found(merchant, other_merchant, coupon):
    theirs = create_coupon(other_merchant)
    assert merchant.patch(f"/coupons/{theirs['id']}", {"name": "Mine"}).status_code == 404
    assert other_merchant.ok("GET", f"/coupons/{theirs['id']}")["name"] == "Spring"
    merchant.ok("DELETE", f"/coupons/{coupon['id']}")
    assert merchant.patch(f"/coupons/{coupon['id']}", {"name": "Back"}).status_code == 404


# ---- delete -------------------------------------------------------------------------------


def test_delete_is_soft(merchant, coupon):
    data = merchant.ok("DELETE", f"/coupons/{coupon['id']}")
    assert (data["id"], data["valid"]) == (coupon["id"], False)
    assert merchant.get(f"/coupons/{coupon['id']}").status_code == 404
    assert merchant.ok("GET", "/coupons") == []
    assert merchant.delete(f"/coupons/{coupon['id']}").status_code == 404
    with db.connection_context():
        assert Coupon.get_by_id(coupon["id"]).deleted_at is not None


def test_delete_foreign_coupon_is_not_found(merchant, other_merchant):
    theirs = create_coupon(other_merchant)
    assert merchant.delete(f"/coupons/{theirs['id']}").status_code == 404
    assert other_merchant.ok("GET", f"/coupons/{theirs['id']}")["valid"] is True


def test_existing_discount_survives_delete(merchant, coupon):
    now = utcnow()
    with db.connection_context():
        customer = Customer.create(company=merchant.company, first_name="A", last_name="B")
        sub = stored_subscription(merchant.company, customer, now=now)
        Discount.create(company=merchant.company, subscription=sub, coupon=coupon["id"], start=now)
    merchant.ok("DELETE", f"/coupons/{coupon['id']}")
    with db.connection_context():
        assert [c.id for c in active_coupons(sub, now + timedelta(days=1))] == [coupon["id"]]


# ---- auth, idempotency --------------------------------------------------------------------

ROUTES = [
    ("POST", "/coupons", PERCENT),
    ("GET", "/coupons", None),
    ("GET", "/coupons/{id}", None),
    ("PATCH", "/coupons/{id}", {"name": "Renamed"}),
    ("DELETE", "/coupons/{id}", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_routes_need_a_live_secret_key(client, merchant, coupon, method, path, body):
    path = path.format(id=coupon["id"])
    assert client.open("/v1/api" + path, method=method, json=body).status_code == 401
    denied = merchant.call(method, path, body, key=merchant.publishable)
    assert (denied.status_code, denied.get_json()["error"]["code"]) == (403, "PERMISSION_DENIED")
    with db.connection_context():
        ApiKey.update(revoked_at=utcnow()).where(ApiKey.key_type == "secret").execute()
    revoked = merchant.call(method, path, body)
    assert (revoked.status_code, revoked.get_json()["error"]["code"]) == (401, "INVALID_API_KEY")
    with db.connection_context():
        assert Coupon.select().count() == 1
        stored = Coupon.get_by_id(coupon["id"])
    assert (stored.name, stored.deleted_at) == ("Spring", None)


def test_idempotent_create(merchant):
    headers = {"Idempotency-Key": "c-1"}
    first = merchant.post("/coupons", PERCENT, headers=headers)
    again = merchant.post("/coupons", PERCENT, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert count_rows(Coupon) == 1
    reused = merchant.post("/coupons", {**PERCENT, "percent_off": 30}, headers=headers)
    assert (reused.status_code, reused.get_json()["error"]["code"]) == (
        409,
        "IDEMPOTENCY_KEY_REUSED",
    )
    assert count_rows(Coupon) == 1


def test_idempotent_patch_and_delete(merchant, coupon):
    path = f"/coupons/{coupon['id']}"
    first = merchant.patch(path, {"name": "A"}, headers={"Idempotency-Key": "p-1"})
    merchant.ok("PATCH", path, {"name": "B"})
    again = merchant.patch(path, {"name": "A"}, headers={"Idempotency-Key": "p-1"})
    assert again.get_json() == first.get_json()
    assert merchant.ok("GET", path)["name"] == "B"
    assert merchant.patch(path, {"name": "C"}, headers={"Idempotency-Key": "p-1"}).status_code == (
        409
    )

    gone = merchant.delete(path, headers={"Idempotency-Key": "d-1"})
    replay = merchant.delete(path, headers={"Idempotency-Key": "d-1"})
    assert (replay.status_code, replay.get_json()) == (200, gone.get_json())
    assert merchant.delete(path, headers={"Idempotency-Key": "d-2"}).status_code == 404


def test_official_client_round_trip(app, merchant):
    from easylabs._http import _HTTP
    from easylabs.resources import Coupons

    http = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://portal.test")
    coupons = Coupons(
        _HTTP(api_url="http://portal.test/v1/api", api_key=merchant.secret, client=http)
    )
    made = coupons.create(name="Ten", duration="repeating", duration_in_months=3, percent_off=10)
    assert coupons.retrieve(made.id).percent_off == 10
    assert coupons.update(made.id, name="Eleven").name == "Eleven"
    assert [c.id for c in coupons.list(ids=[made.id])] == [made.id]
    assert coupons.delete(made.id) is None
    assert coupons.list() == []
    http.close()
