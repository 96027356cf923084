"""Prices API: one-time and recurring prices, the frozen terms, archive, default price."""

import httpx
import pytest
from support import count_rows

from portal.api import schemas
from portal.db import db
from portal.models import ApiKey, Price, utcnow

from .apiworld import validation_fields


def new_product(merchant, name="Pro plan") -> dict:
    return merchant.ok("POST", "/products", {"name": name}, status=201)


def create_price(merchant, product_id, **fields) -> dict:
    body = {"product_id": product_id, "currency": "usd", "unit_amount": 1500, **fields}
    data = merchant.ok("POST", "/product-prices", body, status=201)
    return schemas.Price.model_validate(data).model_dump()


@pytest.fixture
def product(merchant):
    return new_product(merchant)


@pytest.fixture
def price(merchant, product):
    return create_price(merchant, product["id"], type="recurring", interval="month")


# ---- create -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "kind", "interval", "interval_count"),
    [
        ({}, "one_time", None, None),
        ({"recurring": False}, "one_time", None, None),
        ({"type": "one_time"}, "one_time", None, None),
        ({"recurring": True, "interval": "month"}, "recurring", "month", 1),
        ({"type": "recurring", "interval": "week", "interval_count": 2}, "recurring", "week", 2),
        ({"recurring": True, "type": "recurring", "interval": "day"}, "recurring", "day", 1),
        ({"interval": "year", "interval_count": 3}, "recurring", "year", 3),
        ({"interval": "month", "interval_count": 36}, "recurring", "month", 36),
    ],
)
def test_create_price_kinds(merchant, product, fields, kind, interval, interval_count):
    data = create_price(merchant, product["id"], **fields)
    assert (data["type"], data["recurring"]) == (kind, kind == "recurring")
    assert (data["interval"], data["interval_count"]) == (interval, interval_count)
    assert (data["currency"], data["unit_amount"]) == ("USD", 1500)
    assert data["product_id"] == product["id"]
    assert data["active"] is True


def test_first_price_becomes_the_default(merchant, product):
    first = create_price(merchant, product["id"])
    create_price(merchant, product["id"], unit_amount=10)
    again = merchant.ok("GET", f"/products/{product['id']}")
    assert again["default_price_id"] == first["id"]
    assert len(again["price_ids"]) == 2


def test_inactive_first_price_is_not_the_default(merchant, product):
    create_price(merchant, product["id"], active=False)
    assert merchant.ok("GET", f"/products/{product['id']}")["default_price_id"] is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"product_id": None}, "product_id"),
        ({"product_id": "no-such-product"}, "product_id"),
        ({"currency": None}, "currency"),
        ({"currency": "US"}, "currency"),
        ({"currency": "u$d"}, "currency"),
        ({"unit_amount": None}, "unit_amount"),
        ({"unit_amount": -1}, "unit_amount"),
        ({"unit_amount": 15.5}, "unit_amount"),
        ({"unit_amount": "1500"}, "unit_amount"),
        ({"unit_amount": 100_000_000_000}, "unit_amount"),
        ({"recurring": "yes"}, "recurring"),
        ({"type": "metered"}, "type"),
        ({"recurring": True, "type": "one_time", "interval": "month"}, "type"),
        ({"recurring": False, "type": "recurring", "interval": "month"}, "type"),
        ({"recurring": True}, "interval"),
        ({"type": "recurring", "interval": "fortnight"}, "interval"),
        ({"recurring": True, "interval": "month", "interval_count": 0}, "interval_count"),
        ({"recurring": True, "interval": "month", "interval_count": 37}, "interval_count"),
        ({"recurring": True, "interval": "year", "interval_count": 4}, "interval_count"),
        ({"recurring": False, "interval": "month"}, "interval"),
        ({"type": "one_time", "interval_count": 1}, "interval_count"),
        ({"description": "x" * 201}, "description"),
        ({"metadata": 3}, "metadata"),
        ({"active": "true"}, "active"),
        ({"pricing_model": "flat"}, "pricing_model"),
    ],
)
def test_create_price_rejects_bad_fields(merchant, product, fields, field):
    body = {"product_id": product["id"], "currency": "usd", "unit_amount": 1500, **fields}
    body = {k: v for k, v in body.items() if v is not None}
    assert field in validation_fields(merchant.post("/product-prices", body))
    assert count_rows(Price) == 0
    assert merchant.ok("GET", f"/products/{product['id']}")["default_price_id"] is None


def test_create_price_for_other_merchants_product_names_the_field(merchant, other_merchant):
    theirs = new_product(other_merchant)
    body = {"product_id": theirs["id"], "currency": "usd", "unit_amount": 1}
    assert "product_id" in validation_fields(merchant.post("/product-prices", body))
    assert count_rows(Price) == 0


# ---- list and retrieve --------------------------------------------------------------------


def test_list_prices_paginates_and_filters(merchant, other_merchant, product):
    other = new_product(merchant, "Other")
    ids = [create_price(merchant, product["id"], unit_amount=n)["id"] for n in (1, 2, 3)]
    mine_elsewhere = create_price(merchant, other["id"], active=False)["id"]
    create_price(other_merchant, new_product(other_merchant)["id"])

    first = merchant.get("/product-prices?limit=3").get_json()
    assert [p["id"] for p in first["data"]] == [mine_elsewhere, ids[2], ids[1]]
    assert first["pagination"] == {"total": 4, "limit": 3, "offset": 0, "has_more": True}
    rest = merchant.get("/product-prices?limit=3&offset=3").get_json()
    assert [p["id"] for p in rest["data"]] == [ids[0]]
    assert rest["pagination"]["has_more"] is False
    for item in first["data"]:
        schemas.Price.model_validate(item)

    by_product = merchant.ok("GET", f"/product-prices?product_id={product['id']}")
    assert sorted(p["id"] for p in by_product) == sorted(ids)
    assert [p["id"] for p in merchant.ok("GET", "/product-prices?active=false")] == [mine_elsewhere]
    picked = merchant.ok("GET", f"/product-prices?ids={ids[0]},{mine_elsewhere}")
    assert sorted(p["id"] for p in picked) == sorted([ids[0], mine_elsewhere])


def test_get_price(merchant, other_merchant, price):
    data = merchant.ok("GET", f"/product-prices/{price['id']}/")
    assert schemas.Price.model_validate(data).model_dump() == price
    theirs = create_price(other_merchant, new_product(other_merchant)["id"])
    assert merchant.get(f"/product-prices/{theirs['id']}").status_code == 404
    assert merchant.get("/product-prices/unknown").status_code == 404


# ---- update and archive -------------------------------------------------------------------


def test_patch_changes_active_description_metadata(merchant, price):
    path = f"/product-prices/{price['id']}"
    data = merchant.ok("PATCH", path, {"description": "Monthly", "metadata": {"k": "v"}})
    assert (data["description"], data["metadata"], data["active"]) == ("Monthly", {"k": "v"}, True)
    data = merchant.ok("PATCH", path, {"active": False})
    assert (data["active"], data["description"], data["unit_amount"]) == (False, "Monthly", 1500)


@pytest.mark.parametrize(
    "body",
    [
        {"unit_amount": 999},
        {"currency": "EUR"},
        {"interval": "year"},
        {"interval_count": 2},
        {"type": "one_time"},
        {"recurring": False},
        {"product_id": "x"},
        {"description": "ok", "unit_amount": 1500},
    ],
)
def test_patch_refuses_to_change_terms(merchant, price, body):
    response = merchant.patch(f"/product-prices/{price['id']}", body)
    fields = validation_fields(response)
    frozen = next(name for name in body if name != "description")
    assert "never change after creation" in fields[frozen]
    assert "never change after creation" in response.get_json()["error"]["message"]
    assert merchant.ok("GET", f"/product-prices/{price['id']}") == price


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"active": None}, "active"),
        ({"active": "no"}, "active"),
        ({"description": "x" * 201}, "description"),
        ({"metadata": []}, "metadata"),
        ({"nickname": "x"}, "nickname"),
    ],
)
def test_patch_rejects_bad_fields(merchant, price, body, field):
    assert field in validation_fields(merchant.patch(f"/product-prices/{price['id']}", body))
    assert merchant.ok("GET", f"/product-prices/{price['id']}") == price


@pytest.mark.parametrize("how", ["archive", "patch"])
def test_deactivating_the_default_price_clears_it(merchant, product, price, how):
    spare = create_price(merchant, product["id"], unit_amount=5)
    if how == "archive":
        data = merchant.ok("PATCH", f"/product-prices/{price['id']}/archive")
    else:
        data = merchant.ok("PATCH", f"/product-prices/{price['id']}", {"active": False})
    assert data["active"] is False
    assert merchant.ok("GET", f"/products/{product['id']}")["default_price_id"] is None
    merchant.ok("PATCH", f"/product-prices/{spare['id']}/archive")
    assert merchant.ok("GET", f"/product-prices/{spare['id']}")["active"] is False


def test_archive_refuses_fields_and_foreign_prices(merchant, other_merchant, price):
    assert "active" in validation_fields(
        merchant.patch(f"/product-prices/{price['id']}/archive", {"active": True})
    )
    theirs = create_price(other_merchant, new_product(other_merchant)["id"])
    assert merchant.patch(f"/product-prices/{theirs['id']}/archive").status_code == 404
    assert merchant.patch(f"/product-prices/{theirs['id']}", {"active": False}).status_code == 404
    assert other_merchant.ok("GET", f"/product-prices/{theirs['id']}")["active"] is True
    assert merchant.ok("GET", f"/product-prices/{price['id']}")["active"] is True


# ---- auth, idempotency --------------------------------------------------------------------

ROUTES = [
    ("POST", "/product-prices", {"product_id": "{product}", "currency": "usd", "unit_amount": 1}),
    ("GET", "/product-prices", None),
    ("GET", "/product-prices/{id}", None),
    ("PATCH", "/product-prices/{id}", {"active": False}),
    ("PATCH", "/product-prices/{id}/archive", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_routes_need_a_live_secret_key(client, merchant, product, price, method, path, body):
    path = path.format(id=price["id"])
    if body and "product_id" in body:
        body = {**body, "product_id": product["id"]}
    assert client.open("/v1/api" + path, method=method, json=body).status_code == 401
    denied = merchant.call(method, path, body, key=merchant.publishable)
    assert (denied.status_code, denied.get_json()["error"]["code"]) == (403, "PERMISSION_DENIED")
    with db.connection_context():
        ApiKey.update(revoked_at=utcnow()).where(ApiKey.key_type == "secret").execute()
    revoked = merchant.call(method, path, body)
    assert (revoked.status_code, revoked.get_json()["error"]["code"]) == (401, "INVALID_API_KEY")
    with db.connection_context():
        assert Price.select().count() == 1
        assert Price.get_by_id(price["id"]).active is True


def test_idempotent_create(merchant, product):
    body = {"product_id": product["id"], "currency": "usd", "unit_amount": 700}
    headers = {"Idempotency-Key": "create-1"}
    first = merchant.post("/product-prices", body, headers=headers)
    again = merchant.post("/product-prices", body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert count_rows(Price) == 1
    reused = merchant.post("/product-prices", {**body, "unit_amount": 800}, headers=headers)
    assert (reused.status_code, reused.get_json()["error"]["code"]) == (
        409,
        "IDEMPOTENCY_KEY_REUSED",
    )
    assert count_rows(Price) == 1


@pytest.mark.parametrize(
    ("path", "body", "other_body"),
    [
        ("/product-prices/{id}", {"active": False}, {"active": False, "description": "x"}),
        ("/product-prices/{id}/archive", None, {}),
    ],
)
def test_idempotent_updates_replay_without_redoing(merchant, price, path, body, other_body):
    path = path.format(id=price["id"])
    headers = {"Idempotency-Key": "upd-1"}
    first = merchant.patch(path, body, headers=headers)
    assert first.get_json()["data"]["active"] is False
    merchant.ok("PATCH", f"/product-prices/{price['id']}", {"active": True})
    again = merchant.patch(path, body, headers=headers)
    assert (again.status_code, again.get_json()) == (first.status_code, first.get_json())
    assert merchant.ok("GET", f"/product-prices/{price['id']}")["active"] is True
    assert merchant.patch(path, other_body, headers=headers).status_code == 409


def test_official_client_round_trip(app, merchant, product):
    from easylabs._http import _HTTP
    from easylabs.resources import ProductPrices

    http = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://portal.test")
    prices = ProductPrices(
        _HTTP(api_url="http://portal.test/v1/api", api_key=merchant.secret, client=http)
    )
    made = prices.create(
        product_id=product["id"],
        currency="usd",
        unit_amount=1200,
        recurring=True,
        interval="month",
        interval_count=1,
    )
    assert (made.type, made.interval, made.unit_amount) == ("recurring", "month", 1200)
    assert prices.retrieve(made.id).currency == "USD"
    assert [p.id for p in prices.list(ids=[made.id])] == [made.id]
    assert prices.update(made.id, description="Monthly").description == "Monthly"
    assert prices.archive(made.id).active is False
    http.close()
