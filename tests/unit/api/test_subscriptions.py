"""The subscriptions API: create, list, read, change (with proration), cancel, resume, and
the proration preview, which must quote exactly what PATCH then bills."""

from types import SimpleNamespace

import httpx
import pytest
from support import JAN11, count_rows, customer_credit, stored_price

from portal.api.schemas import Subscription as SubscriptionShape
from portal.api.subscription_bodies import ProrationPreview
from portal.api.subscriptions import render_many
from portal.billing.instruments import add_instrument
from portal.db import db
from portal.models import Charge, Customer, Invoice, Subscription


def build_shop(merchant) -> SimpleNamespace:
    with db.connection_context():
        company = merchant.company
        customer = Customer.create(company=company, first_name="Ada", last_name="Lovelace")
        other = Customer.create(company=company, first_name="Bob", last_name="Builder")
        return SimpleNamespace(
            customer=customer.id,
            card=add_instrument(customer, "tok_visa").id,
            other_card=add_instrument(other, "tok_visa").id,
            basic=stored_price(company, "Basic", 1000).id,
            pro=stored_price(company, "Pro", 3000).id,
            yearly=stored_price(company, "Basic yearly", 10000, "year").id,
            one_time=stored_price(company, "Setup", 5000, None, type="one_time").id,
        )


@pytest.fixture
def shop(merchant, clock):
    return build_shop(merchant)


def subscribe(merchant, shop, price=None, **extra):
    body = {"identity_id": shop.customer, "items": [{"price_id": price or shop.basic}], **extra}
    return merchant.ok("POST", "/subscriptions", body, status=201)


def resolve(shop, value):
    """Replace "@name" strings (at any depth) by the shop's id of that name."""
    if isinstance(value, str) and value.startswith("@"):
        return getattr(shop, value[1:])
    if isinstance(value, list):
        return [resolve(shop, v) for v in value]
    if isinstance(value, dict):
        return {k: resolve(shop, v) for k, v in value.items()}
    return value


def fields_of(response) -> dict:
    assert response.status_code == 422, response.get_json()
    return response.get_json()["error"]["details"]["fields"]


# ---- create, read, list --------------------------------------------------------------


def test_create_charges_the_first_period(merchant, shop):
    sub = subscribe(merchant, shop, metadata={"plan": "basic"})
    SubscriptionShape.model_validate(sub)
    assert sub["status"] == "active" and sub["instrument_id"] == shop.card
    assert (sub["current_period_start"], sub["current_period_end"]) == (
        "2026-01-01T00:00:00.000Z",
        "2026-02-01T00:00:00.000Z",
    )
    assert [(i["price_id"], i["quantity"]) for i in sub["items"]] == [(shop.basic, 1)]
    with db.connection_context():
        invoice = Invoice.get_by_id(sub["latest_invoice_id"])
        assert (invoice.status, invoice.amount_paid) == ("PAID", 1000)
    assert merchant.ok("GET", f"/subscriptions/{sub['id']}") == sub


def test_a_declined_card_gives_an_incomplete_subscription(merchant, shop):
    with db.connection_context():
        declined = add_instrument(Customer.get_by_id(shop.customer), "tok_chargeDeclined").id
    sub = subscribe(merchant, shop, instrument_id=declined)
    assert sub["status"] == "incomplete"
    with db.connection_context():
        assert Invoice.get_by_id(sub["latest_invoice_id"]).status == "OPEN"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"identity_id": "nope"}, "identity_id"),
        ({"items": []}, "items"),
        ({"items": [{"price_id": "nope"}]}, "items.0.price_id"),
        ({"items": [{"price_id": "@one_time"}]}, "items.0.price_id"),
        ({"items": [{"price_id": "@basic"}, {"price_id": "@yearly"}]}, "items.1.price_id"),
        ({"items": [{"price_id": "@basic", "quantity": 0}]}, "items.0.quantity"),
        ({"items": [{"price_id": "@basic", "quantity": "2"}]}, "items.0.quantity"),
        ({"items": [{"price_id": "@basic"}] * 21}, "items"),
        ({"instrument_id": "@other_card"}, "instrument_id"),
        ({"coupon_id": "nope"}, "coupon_id"),
        ({"metadata": {"k" * 41: "v"}}, "metadata"),
        ({"plan": "gold"}, "plan"),
    ],
)
def test_create_validation_names_the_field_and_changes_nothing(merchant, shop, change, field):
    body = {"identity_id": shop.customer, "items": [{"price_id": shop.basic}], **change}
    assert field in fields_of(merchant.post("/subscriptions", resolve(shop, body)))
    assert count_rows(Subscription) == count_rows(Invoice) == 0


def test_ids_of_another_company_are_unknown(merchant, other_merchant, shop):
    theirs = build_shop(other_merchant)
    for change, field in [
        ({"identity_id": theirs.customer}, "identity_id"),
        ({"items": [{"price_id": theirs.basic}]}, "items.0.price_id"),
        ({"instrument_id": theirs.card}, "instrument_id"),
    ]:
        body = {"identity_id": shop.customer, "items": [{"price_id": shop.basic}], **change}
        assert field in fields_of(merchant.post("/subscriptions", body))
    sub = subscribe(merchant, shop)
    for method, path in [
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("POST", "/resume"),
        ("GET", "/proration-preview"),
    ]:
        response = other_merchant.call(method, f"/subscriptions/{sub['id']}{path}", json={})
        assert response.status_code == 404, (method, path)
    assert other_merchant.ok("GET", "/subscriptions") == []


def test_keys_are_required_and_must_be_secret(merchant, shop):
    assert merchant.get("/subscriptions", key="sk_test_wrong").status_code == 401
    response = merchant.client.get("/v1/api/subscriptions")
    assert response.status_code == 401
    assert merchant.get("/subscriptions", key=merchant.publishable).status_code == 403
    body = {"identity_id": shop.customer, "items": [{"price_id": shop.basic}]}
    assert merchant.post("/subscriptions", body, key=merchant.publishable).status_code == 403
    assert count_rows(Subscription) == 0


def test_list_filters_and_pages(merchant, shop):
    first = subscribe(merchant, shop)
    second = subscribe(merchant, shop, shop.pro)
    merchant.ok("DELETE", f"/subscriptions/{first['id']}")
    assert [s["id"] for s in merchant.ok("GET", "/subscriptions?status=canceled")] == [first["id"]]
    assert [s["id"] for s in merchant.ok("GET", "/subscriptions?status=active")] == [second["id"]]
    assert merchant.ok("GET", "/subscriptions?identity_id=someone-else") == []
    assert len(merchant.ok("GET", f"/subscriptions?identity_id={shop.customer}")) == 2
    page = merchant.get("/subscriptions?limit=1").get_json()
    assert page["pagination"] == {"total": 2, "limit": 1, "offset": 0, "has_more": True}
    assert [s["id"] for s in merchant.ok("GET", f"/subscriptions?ids={second['id']}")] == [
        second["id"]
    ]
    assert "status" in fields_of(merchant.get("/subscriptions?status=sleeping"))
    nested = merchant.ok("GET", f"/customer/{shop.customer}/subscriptions")
    assert (nested["total"], len(nested["data"])) == (2, 2)


def test_idempotent_create_replays_and_refuses_a_different_body(merchant, shop):
    body = {"identity_id": shop.customer, "items": [{"price_id": shop.basic}]}
    headers = {"Idempotency-Key": "create-sub-1"}
    first = merchant.post("/subscriptions", body, headers=headers)
    again = merchant.post("/subscriptions", body, headers=headers)
    assert (again.status_code, again.get_json()) == (first.status_code, first.get_json())
    assert count_rows(Subscription) == count_rows(Charge) == 1
    other = {**body, "metadata": {"x": "y"}}
    reused = merchant.post("/subscriptions", other, headers=headers)
    assert (reused.status_code, reused.get_json()["error"]["code"]) == (
        409,
        "IDEMPOTENCY_KEY_REUSED",
    )


def test_render_many_costs_the_same_queries_for_one_or_many(merchant, shop, monkeypatch):
    for _ in range(4):
        subscribe(merchant, shop)
    with db.connection_context():
        subs = list(Subscription.select())
        executed = []
        original = db.obj.execute_sql
        monkeypatch.setattr(
            db.obj, "execute_sql", lambda *a, **k: executed.append(a[0]) or original(*a, **k)
        )
        render_many(subs[:1])
        one = len(executed)
        executed.clear()
        rendered = render_many(subs)
    assert len(executed) == one == 2
    assert all(len(s["items"]) == 1 for s in rendered)


# ---- change, preview -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("behavior", "timing", "target", "due_now"),
    [
        ("prorate", "immediately", "pro", 1355),
        ("full_difference", "immediately", "pro", 2000),
        ("none", "immediately", "pro", 0),
        ("prorate", "period_end", "pro", 0),
        ("prorate", "immediately", "basic", 0),
    ],
)
def test_preview_quotes_what_patch_bills(merchant, shop, clock, behavior, timing, target, due_now):
    start = "pro" if target == "basic" else "basic"
    sub = subscribe(merchant, shop, getattr(shop, start))
    clock.move_to(JAN11)
    price = getattr(shop, target)
    query = f"items={price}:1&proration_behavior={behavior}&charge_timing={timing}"
    preview = merchant.ok("GET", f"/subscriptions/{sub['id']}/proration-preview?{query}")
    ProrationPreview.model_validate(preview)
    assert preview["amount_due_now"] == due_now
    assert preview["subscription_version"] == sub["version"]
    body = {
        "items": [{"price_id": price, "quantity": 1}],
        "proration_behavior": behavior,
        "charge_timing": timing,
        "expected_version": preview["subscription_version"],
    }
    changed = merchant.ok("PATCH", f"/subscriptions/{sub['id']}", body)
    assert [i["price_id"] for i in changed["items"]] == [price]
    assert changed["credit_balance"] == preview["credit_balance_after"]
    if timing == "immediately" and preview["lines"]:
        assert changed["latest_invoice_id"] != sub["latest_invoice_id"]
        with db.connection_context():
            invoice = Invoice.get_by_id(changed["latest_invoice_id"])
            lines = [(line.amount, line.description) for line in invoice.lines]
            assert invoice.amount_due == preview["amount_due_now"]
        assert sorted(lines) == sorted((x["amount"], x["description"]) for x in preview["lines"])
    else:
        assert changed["latest_invoice_id"] == sub["latest_invoice_id"]


def test_a_move_to_yearly_billing_restarts_the_period_and_bills_it_now(merchant, shop, clock):
    sub = subscribe(merchant, shop)
    clock.move_to(JAN11)
    path = f"/subscriptions/{sub['id']}/proration-preview?items={shop.yearly}:1"
    preview = merchant.ok("GET", path + "&charge_timing=period_end")
    assert [(x["amount"], x["price_id"]) for x in preview["lines"]] == [
        (-677, shop.basic),  # the unused 21/31 of January
        (10000, shop.yearly),  # a whole year from today
    ]
    assert (preview["amount_due_now"], preview["charge_timing"]) == (10000 - 677, "immediately")
    assert preview["next_invoice"] == {"amount": 10000, "date": "2027-01-11T00:00:00.000Z"}
    body = {
        "items": [{"price_id": shop.yearly}],
        "expected_version": preview["subscription_version"],
    }
    changed = merchant.ok("PATCH", f"/subscriptions/{sub['id']}", body)
    assert (changed["current_period_start"], changed["current_period_end"]) == (
        "2026-01-11T00:00:00.000Z",
        "2027-01-11T00:00:00.000Z",
    )
    with db.connection_context():
        assert Invoice.get_by_id(changed["latest_invoice_id"]).amount_paid == 10000 - 677


def test_preview_shows_lines_and_the_next_invoice(merchant, shop, clock):
    sub = subscribe(merchant, shop)
    clock.move_to(JAN11)
    path = f"/subscriptions/{sub['id']}/proration-preview?items={shop.pro}:2"
    preview = merchant.ok("GET", path + "&charge_timing=period_end")
    assert [(x["amount"], x["proration"], x["price_id"]) for x in preview["lines"]] == [
        (-677, True, shop.basic),
        (4065, True, shop.pro),  # 6000 × 21/31 = 4064.52
    ]
    assert preview["next_invoice"] == {"amount": 6000 + 3388, "date": "2026-02-01T00:00:00.000Z"}
    assert (preview["currency"], preview["amount_due_now"]) == ("USD", 0)
    assert merchant.ok("GET", f"/subscriptions/{sub['id']}/proration-preview")["lines"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("items=nope:1", "items.0.price_id"),
        ("items=@basic:x", "items.0.quantity"),
        ("items=@basic:0", "items.0.quantity"),
        ("items=:2", "items"),
        ("items=@basic,@yearly", "items.1.price_id"),
        ("proration_behavior=sometimes", "proration_behavior"),
        ("charge_timing=later", "charge_timing"),
    ],
)
def test_preview_validation(merchant, shop, query, field):
    sub = subscribe(merchant, shop)
    query = query.replace("@basic", shop.basic).replace("@yearly", shop.yearly)
    path = f"/subscriptions/{sub['id']}/proration-preview?{query}"
    assert field in fields_of(merchant.get(path))


def test_a_stale_expected_version_is_a_conflict(merchant, shop, clock):
    sub = subscribe(merchant, shop)
    merchant.ok("PATCH", f"/subscriptions/{sub['id']}", {"metadata": {"note": "changed"}})
    body = {"items": [{"price_id": shop.pro}], "expected_version": sub["version"]}
    response = merchant.patch(f"/subscriptions/{sub['id']}", body)
    assert (response.status_code, response.get_json()["error"]["code"]) == (409, "CONFLICT")
    assert "preview" in response.get_json()["error"]["message"]
    assert merchant.ok("GET", f"/subscriptions/{sub['id']}")["items"][0]["price_id"] == shop.basic


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"instrument_id": "@other_card"}, "instrument_id"),
        ({"instrument_id": None}, "instrument_id"),
        ({"items": None}, "items"),
        ({"items": [{"price_id": "nope", "quantity": 1}]}, "items.0.price_id"),
        ({"items": [{"price_id": "@pro"}, {"price_id": "@yearly"}]}, "items.1.price_id"),
        ({"items": [{"price_id": "@pro"}], "proration_behavior": "always"}, "proration_behavior"),
        ({"expected_version": "3"}, "expected_version"),
        ({"status": "active"}, "status"),
    ],
)
def test_patch_validation(merchant, shop, body, field):
    sub = subscribe(merchant, shop)
    assert field in fields_of(merchant.patch(f"/subscriptions/{sub['id']}", resolve(shop, body)))
    assert merchant.ok("GET", f"/subscriptions/{sub['id']}") == sub


def test_patch_metadata_and_instrument(merchant, shop):
    sub = subscribe(merchant, shop)
    with db.connection_context():
        card = add_instrument(Customer.get_by_id(shop.customer), "tok_mastercard").id
    changed = merchant.ok(
        "PATCH",
        f"/subscriptions/{sub['id']}",
        {"metadata": {"tier": "gold"}, "instrument_id": card},
    )
    assert (changed["metadata"], changed["instrument_id"]) == ({"tier": "gold"}, card)
    assert changed["version"] == sub["version"] + 1
    cleared = merchant.ok("PATCH", f"/subscriptions/{sub['id']}", {"metadata": None})
    assert cleared["metadata"] == {} and cleared["instrument_id"] == card


# ---- cancel, resume ------------------------------------------------------------------


def test_cancel_at_period_end_then_resume(merchant, shop):
    sub = subscribe(merchant, shop)
    path = f"/subscriptions/{sub['id']}"
    ending = merchant.ok("DELETE", f"{path}?at_period_end=true")
    assert (ending["status"], ending["cancel_at_period_end"]) == ("active", True)
    assert ending["canceled_at"] == "2026-01-01T00:00:00.000Z"
    resumed = merchant.ok("POST", f"{path}/resume")
    assert (resumed["cancel_at_period_end"], resumed["canceled_at"]) == (False, None)
    again = merchant.post(f"{path}/resume")
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "CONFLICT")


def test_cancel_now_as_the_official_client_sends_it(merchant, shop, clock):
    sub = subscribe(merchant, shop)
    clock.move_to(JAN11)
    response = merchant.client.delete(
        f"/v1/api/subscriptions/{sub['id']}?at_period_end=false&prorate=true",
        headers={"x-easy-api-key": merchant.secret, "Content-Type": "application/json"},
        data=b"",
    )
    ended = response.get_json()["data"]
    assert (response.status_code, ended["status"]) == (200, "canceled")
    assert ended["ended_at"] == "2026-01-11T00:00:00.000Z"
    # 1000 × 21/31, moved from the ended subscription to the customer's credit balance
    assert ended["credit_balance"] == 0 and customer_credit(shop.customer) == 677
    assert merchant.delete(f"/subscriptions/{sub['id']}").status_code == 409
    patched = merchant.patch(f"/subscriptions/{sub['id']}", {"metadata": {"a": "b"}})
    assert patched.status_code == 409
    assert "at_period_end" in fields_of(
        merchant.delete(f"/subscriptions/{sub['id']}?at_period_end=maybe")
    )


def test_official_client_round_trip(app, merchant, shop, clock):
    from easylabs._http import _HTTP
    from easylabs.resources import Subscriptions

    http = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://portal.test")
    subs = Subscriptions(
        _HTTP(api_url="http://portal.test/v1/api", api_key=merchant.secret, client=http)
    )
    made = subs.create(identity_id=shop.customer, items=[{"price_id": shop.basic, "quantity": 2}])
    assert (made.status, made.items[0].quantity) == ("active", 2)
    assert subs.retrieve(made.id).id == made.id
    assert [s.id for s in subs.list(ids=[made.id])] == [made.id]
    clock.move_to(JAN11)
    preview = subs.proration_preview(made.id, items=[{"price_id": shop.pro, "quantity": 1}])
    assert preview["amount_due_now"] == 2032 - 1355  # Pro 3000 and 2 × Basic, 21/31 left
    assert subs.update(made.id, metadata={"a": "b"}).metadata == {"a": "b"}
    assert subs.cancel(made.id, at_period_end=True).cancel_at_period_end is True
    assert subs.resume(made.id).cancel_at_period_end is False
    assert subs.cancel(made.id).status == "canceled"
    http.close()
