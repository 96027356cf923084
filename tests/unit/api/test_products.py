"""Products API: create, list, retrieve, update, archive, and a product with its prices."""

import logging

import httpx
import pytest
from support import count_rows

from portal.api import schemas
from portal.db import db
from portal.models import ApiKey, Product, utcnow

from .apiworld import validation_fields


def create_product(merchant, **fields) -> dict:
    data = merchant.ok("POST", "/products", {"name": "Pro plan", **fields}, status=201)
    return schemas.Product.model_validate(data).model_dump()


def create_price(merchant, product_id, **fields) -> dict:
    body = {"product_id": product_id, "currency": "usd", "unit_amount": 1500, **fields}
    return merchant.ok("POST", "/product-prices", body, status=201)


@pytest.fixture
def product(merchant):
    return create_product(merchant)


# ---- create -------------------------------------------------------------------------------


def test_create_product_returns_it_with_defaults(merchant):
    data = create_product(merchant, description="Everything", metadata={"tier": "gold"})
    assert data["name"] == "Pro plan"
    assert data["description"] == "Everything"
    assert data["active"] is True
    assert data["default_price_id"] is None
    assert data["price_ids"] == []
    assert data["metadata"] == {"tier": "gold"}
    assert data["company_id"] == merchant.id
    assert data["created_at"].endswith("Z")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": 5}, "name"),
        ({"name": "A", "description": "x" * 2001}, "description"),
        ({"name": "A", "active": "yes"}, "active"),
        ({"name": "A", "metadata": ["a"]}, "metadata"),
        ({"name": "A", "metadata": {f"k{i}": i for i in range(51)}}, "metadata"),
        ({"name": "A", "color": "red"}, "color"),
    ],
)
def test_create_product_rejects_bad_fields(merchant, body, field):
    assert field in validation_fields(merchant.post("/products", body))
    assert count_rows(Product) == 0


def test_create_product_refuses_non_json(merchant):
    response = merchant.call(
        "POST", "/products", data="name=A", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert count_rows(Product) == 0


# ---- list ---------------------------------------------------------------------------------


def test_list_products_paginates_newest_first(merchant, other_merchant):
    names = ["One", "Two", "Three"]
    for name in names:
        create_product(merchant, name=name)
    create_product(other_merchant, name="Theirs")

    first = merchant.get("/products?limit=2").get_json()
    assert [p["name"] for p in first["data"]] == ["Three", "Two"]
    assert first["pagination"] == {"total": 3, "limit": 2, "offset": 0, "has_more": True}
    rest = merchant.get("/products?limit=2&offset=2").get_json()
    assert [p["name"] for p in rest["data"]] == ["One"]
    assert rest["pagination"] == {"total": 3, "limit": 2, "offset": 2, "has_more": False}
    for item in first["data"]:
        schemas.Product.model_validate(item)


def test_list_products_filters_by_ids_and_active(merchant, other_merchant):
    a, b = create_product(merchant, name="A"), create_product(merchant, name="B")
    create_product(merchant, name="C", active=False)
    theirs = create_product(other_merchant)

    picked = merchant.ok("GET", f"/products?ids={a['id']},{b['id']},{theirs['id']}")
    assert sorted(p["name"] for p in picked) == ["A", "B"]
    assert [p["name"] for p in merchant.ok("GET", "/products?active=false")] == ["C"]


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "offset=-1", "limit=abc"])
def test_list_products_rejects_bad_paging(merchant, query):
    assert merchant.get(f"/products?{query}").status_code == 422


def test_list_carries_price_ids_in_one_query(merchant, caplog):
    """A page of 1 product and a page of 6 cost the same number of queries."""
    for n in range(6):
        product = create_product(merchant, name=f"P{n}")
        create_price(merchant, product["id"])
        create_price(merchant, product["id"], unit_amount=900)

    def queries(limit):
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="peewee"):
            page = merchant.ok("GET", f"/products?limit={limit}")
        return len([r for r in caplog.records if r.name == "peewee"]), page

    few, _ = queries(1)
    many, page = queries(6)
    assert many == few
    assert all(len(p["price_ids"]) == 2 for p in page)


# ---- retrieve -----------------------------------------------------------------------------


def test_get_product_shows_its_prices(merchant, product):
    first = create_price(merchant, product["id"])
    second = create_price(merchant, product["id"], unit_amount=2500)
    data = merchant.ok("GET", f"/products/{product['id']}")
    assert data["price_ids"] == [first["id"], second["id"]]
    assert data["default_price_id"] == first["id"]


@pytest.mark.parametrize("suffix", ["", "/prices"])
def test_other_merchants_product_is_not_found(merchant, other_merchant, suffix):
    theirs = create_product(other_merchant)
    response = merchant.get(f"/products/{theirs['id']}{suffix}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "NOT_FOUND"
    assert merchant.get(f"/products/nope{suffix}").status_code == 404


def test_product_with_prices(merchant, product):
    monthly = create_price(merchant, product["id"], recurring=True, interval="month")
    once = create_price(merchant, product["id"], unit_amount=100)
    data = merchant.ok("GET", f"/products/{product['id']}/prices/")
    shaped = schemas.ProductWithPrices.model_validate(data)
    assert [p.id for p in shaped.prices] == [monthly["id"], once["id"]]
    assert shaped.price_ids == [monthly["id"], once["id"]]
    assert shaped.prices[0].interval == "month"


# ---- update -------------------------------------------------------------------------------


def test_patch_changes_only_sent_fields(merchant, product):
    data = merchant.ok(
        "PATCH", f"/products/{product['id']}", {"description": "New", "metadata": {"a": "b"}}
    )
    schemas.Product.model_validate(data)
    assert data["name"] == "Pro plan"
    assert (data["description"], data["metadata"]) == ("New", {"a": "b"})
    data = merchant.ok("PATCH", f"/products/{product['id']}", {"name": "Team", "active": False})
    assert (data["name"], data["active"], data["description"]) == ("Team", False, "New")
    assert merchant.ok("GET", f"/products/{product['id']}")["name"] == "Team"


def test_patch_sets_and_clears_default_price(merchant, product):
    first = create_price(merchant, product["id"])
    second = create_price(merchant, product["id"], unit_amount=99)
    path = f"/products/{product['id']}"
    assert (
        merchant.ok("PATCH", path, {"default_price_id": second["id"]})["default_price_id"]
        == (second["id"])
    )
    assert merchant.ok("PATCH", path, {"default_price_id": None})["default_price_id"] is None
    assert first["id"] != second["id"]


@pytest.mark.parametrize("owner", ["other_product", "other_merchant", "archived", "unknown"])
def test_patch_refuses_foreign_default_price(merchant, other_merchant, product, owner):
    if owner == "other_product":
        price_id = create_price(merchant, create_product(merchant, name="B")["id"])["id"]
    elif owner == "other_merchant":
        price_id = create_price(other_merchant, create_product(other_merchant)["id"])["id"]
    elif owner == "archived":
        price_id = create_price(merchant, product["id"], active=False)["id"]
    else:
        price_id = "no-such-price"
    response = merchant.patch(f"/products/{product['id']}", {"default_price_id": price_id})
    assert "default_price_id" in validation_fields(response)
    assert merchant.ok("GET", f"/products/{product['id']}")["default_price_id"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": None}, "name"),
        ({"name": ""}, "name"),
        ({"active": None}, "active"),
        ({"active": 0}, "active"),
        ({"metadata": "x"}, "metadata"),
        ({"price_ids": []}, "price_ids"),
        ({"company_id": "x"}, "company_id"),
    ],
)
def test_patch_rejects_bad_fields(merchant, product, body, field):
    assert field in validation_fields(merchant.patch(f"/products/{product['id']}", body))
    assert merchant.ok("GET", f"/products/{product['id']}") == product


def test_patch_other_merchants_product_is_not_found(merchant, other_merchant):
    theirs = create_product(other_merchant)
    assert merchant.patch(f"/products/{theirs['id']}", {"name": "Mine"}).status_code == 404
    assert other_merchant.ok("GET", f"/products/{theirs['id']}")["name"] == "Pro plan"


def test_archive_deactivates(merchant, other_merchant, product):
    data = merchant.ok("PATCH", f"/products/{product['id']}/archive")
    assert schemas.Product.model_validate(data).active is False
    assert merchant.ok("PATCH", f"/products/{product['id']}/archive")["active"] is False
    theirs = create_product(other_merchant)
    assert merchant.patch(f"/products/{theirs['id']}/archive").status_code == 404
    assert other_merchant.ok("GET", f"/products/{theirs['id']}")["active"] is True


def test_archive_refuses_fields(merchant, product):
    assert "name" in validation_fields(
        merchant.patch(f"/products/{product['id']}/archive", {"name": "x"})
    )
    assert merchant.ok("GET", f"/products/{product['id']}")["active"] is True


# ---- auth, idempotency, slashes -----------------------------------------------------------

ROUTES = [
    ("POST", "/products", {"name": "New"}),
    ("GET", "/products", None),
    ("GET", "/products/{id}", None),
    ("PATCH", "/products/{id}", {"name": "Renamed"}),
    ("PATCH", "/products/{id}/archive", None),
    ("GET", "/products/{id}/prices", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_routes_need_a_live_secret_key(client, merchant, product, method, path, body):
    url = "/v1/api" + path.format(id=product["id"])
    assert client.open(url, method=method, json=body).status_code == 401
    assert (
        merchant.call(method, path.format(id=product["id"]), body, key="sk_test_nope").status_code
        == 401
    )
    publishable = merchant.call(
        method, path.format(id=product["id"]), body, key=merchant.publishable
    )
    assert publishable.status_code == 403
    assert publishable.get_json()["error"]["code"] == "PERMISSION_DENIED"
    with db.connection_context():
        ApiKey.update(revoked_at=utcnow()).where(ApiKey.key_type == "secret").execute()
    revoked = merchant.call(method, path.format(id=product["id"]), body)
    assert revoked.status_code == 401
    assert revoked.get_json()["error"]["code"] == "INVALID_API_KEY"
    assert count_rows(Product) == 1
    with db.connection_context():
        stored = Product.get_by_id(product["id"])
    assert (stored.name, stored.active) == ("Pro plan", True)


@pytest.mark.parametrize(
    ("method", "path", "body", "other_body"),
    [
        ("POST", "/products", {"name": "A"}, {"name": "B"}),
        ("PATCH", "/products/{id}", {"name": "A"}, {"name": "B"}),
        ("PATCH", "/products/{id}/archive", None, {}),
    ],
)
def test_idempotency_key_replays_and_guards(merchant, product, method, path, body, other_body):
    path = path.format(id=product["id"])
    headers = {"Idempotency-Key": "key-1"}
    first = merchant.call(method, path, body, headers=headers)
    assert first.status_code < 300
    # Undo the effect out of band: a replay must not do the work again.
    merchant.ok("PATCH", f"/products/{product['id']}", {"name": "Changed", "active": True})
    again = merchant.call(method, path, body, headers=headers)
    assert (again.status_code, again.get_json()) == (first.status_code, first.get_json())
    assert count_rows(Product) == (2 if method == "POST" else 1)
    current = merchant.ok("GET", f"/products/{product['id']}")
    assert (current["name"], current["active"]) == ("Changed", True)
    reused = merchant.call(method, path, other_body, headers=headers)
    assert reused.status_code == 409
    assert reused.get_json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert count_rows(Product) == (2 if method == "POST" else 1)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/products", {"name": "A\x00"}),
        ("POST", "/products", {"name": "A", "metadata": {"k\x00": 1}}),
        ("GET", "/products/a%00b", None),
        ("GET", "/products?ids=a%00b", None),
        ("GET", "/product-prices?product_id=a%00b", None),
    ],
)
def test_nul_characters_are_refused_not_crashed_on(merchant, method, path, body):
    """PostgreSQL cannot store or even compare text holding NUL: 4xx, never 500."""
    response = merchant.call(method, path, body)
    assert response.status_code in (400, 404, 422)
    assert response.get_json()["success"] is False
    assert count_rows(Product) == 0


def test_trailing_slash_works(merchant):
    created = merchant.ok("POST", "/products/", {"name": "Slash"}, status=201)
    assert merchant.ok("GET", f"/products/{created['id']}/")["name"] == "Slash"
    assert len(merchant.ok("GET", "/products/")) == 1


def test_official_client_round_trip(app, merchant):
    from easylabs._http import _HTTP
    from easylabs.resources import Products

    transport = httpx.WSGITransport(app=app)
    http = httpx.Client(transport=transport, base_url="http://portal.test")
    products = Products(
        _HTTP(api_url="http://portal.test/v1/api", api_key=merchant.secret, client=http)
    )
    made = products.create(name="Client plan", metadata={"a": 1})
    assert products.retrieve(made.id).name == "Client plan"
    assert [p.id for p in products.list(ids=[made.id], limit=5)] == [made.id]
    assert products.archive(made.id, idempotency_key="arch-1").active is False
    assert products.update(made.id, description="Hi").description == "Hi"
    assert products.with_prices(made.id)["prices"] == []
    http.close()
