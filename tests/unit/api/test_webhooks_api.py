"""The webhook endpoints API: the secret is shown on create and on a roll only, and stored
sealed; list/get/patch/delete scoped to the company; strict 422s; test events and resends
queue deliveries; the delivery lists filter, paginate and count in the nested shape the
official client reads; idempotent POSTs replay; `easylabs` works against it unmodified."""

from datetime import timedelta

import pytest
from easylabs.models import RegisteredWebhookEndpoint, WebhookEndpoint
from support import count_rows

from portal.api.webhooks import WebhookDeliveryOut, WebhookDeliveryPage, WebhookEndpointOut
from portal.db import db
from portal.models import WebhookDelivery, WebhookEvent, utcnow
from portal.models import WebhookEndpoint as EndpointRow
from portal.timefmt import iso

from .apiworld import validation_fields
from .test_easylabs_client import api_url, easy  # noqa: F401  (fixtures)

URL = "https://hooks.acme.example/billing"


@pytest.fixture(autouse=True)
def _no_delivery_thread(app):
    app.config["PORTAL_WEBHOOKS_IMMEDIATE"] = False


def register(merchant, **body) -> dict:
    return merchant.ok("POST", "/webhooks", {"url": URL, **body}, status=201)


def set_delivery(delivery_id: str, **values) -> None:
    with db.connection_context():
        WebhookDelivery.update(**values).where(WebhookDelivery.id == delivery_id).execute()


def test_create_shows_the_secret_once_and_stores_it_sealed(merchant):
    created = register(merchant, description="Billing sync")
    assert created["secret"].startswith("whsec_")
    assert created["events"] == ["*"] and created["status"] == "enabled"
    assert created["description"] == "Billing sync" and created["url"] == URL
    assert WebhookEndpointOut.model_validate({k: v for k, v in created.items() if k != "secret"})
    fetched = merchant.ok("GET", f"/webhooks/{created['id']}")
    assert "secret" not in fetched
    assert all("secret" not in e for e in merchant.ok("GET", "/webhooks"))
    with db.connection_context():
        sealed = EndpointRow.get_by_id(created["id"]).secret_sealed
    assert created["secret"] not in sealed and created["secret"][6:] not in sealed


def test_events_are_kept_sorted_and_star_means_all(merchant):
    made = register(merchant, events=["invoice.paid", "subscription.created", "invoice.paid"])
    assert made["events"] == ["invoice.paid", "subscription.created"]
    assert register(merchant, events=["*"])["events"] == ["*"]


def test_list_get_patch_delete(merchant):
    first = register(merchant)
    second = register(merchant, events=["invoice.paid"])
    response = merchant.get("/webhooks")
    body = response.get_json()
    assert [e["id"] for e in body["data"]] == [second["id"], first["id"]]  # newest first
    assert body["pagination"] == {"total": 2, "limit": 20, "offset": 0, "has_more": False}
    page = merchant.get("/webhooks?limit=1&offset=1").get_json()
    assert [e["id"] for e in page["data"]] == [first["id"]]

    path = f"/webhooks/{first['id']}"
    patched = merchant.ok("PATCH", path, {"status": "disabled"})
    assert patched["status"] == "disabled"
    assert (patched["url"], patched["events"]) == (URL, ["*"])  # untouched
    patched = merchant.ok("PATCH", path, {"description": "Sync", "events": ["invoice.paid"]})
    assert (patched["status"], patched["description"]) == ("disabled", "Sync")
    assert patched["events"] == ["invoice.paid"]
    patched = merchant.ok("PATCH", path, {"url": "https://other.example/h"})
    assert (patched["url"], patched["description"]) == ("https://other.example/h", "Sync")
    assert merchant.ok("GET", path) == patched

    gone = merchant.ok("DELETE", path)
    assert gone["id"] == first["id"] and "secret" not in gone
    assert merchant.get(path).status_code == 404
    assert [e["id"] for e in merchant.ok("GET", "/webhooks")] == [second["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://hooks.example/x"}, "url"),
        ({"url": "https://user:pw@hooks.example/x"}, "url"),
        ({"url": "https://" + "a" * 2050 + ".example"}, "url"),
        ({"url": URL, "events": ["invoice.exploded"]}, "events"),
        ({"url": URL, "events": ["invoice.paid"] * 51}, "events"),
        ({"url": URL, "events": "invoice.paid"}, "events"),
        ({"url": URL, "events": [1]}, "events.0"),
        ({"url": URL, "description": "x" * 501}, "description"),
        ({"url": URL, "colour": "red"}, "colour"),
        ({"url": 42}, "url"),
        ({}, "url"),
    ],
)
def test_create_refuses_bad_input(merchant, body, field):
    assert field in validation_fields(merchant.post("/webhooks", body))
    assert count_rows(EndpointRow) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http//nope"}, "url"),
        ({"events": ["nope.nope"]}, "events"),
        ({"status": "paused"}, "status"),
        ({"status": True}, "status"),
        ({"secret": "whsec_mine"}, "secret"),
        ({"description": "x" * 100_000}, "description"),
    ],
)
def test_patch_refuses_bad_input_and_changes_nothing(merchant, body, field):
    made = register(merchant)
    path = f"/webhooks/{made['id']}"
    before = merchant.ok("GET", path)
    assert field in validation_fields(merchant.patch(path, body))
    assert merchant.ok("GET", path) == before


def test_another_companys_endpoint_and_delivery_are_not_found(merchant, other_merchant):
    theirs = register(other_merchant)
    delivery = other_merchant.ok("POST", f"/webhooks/{theirs['id']}/test", status=202)
    path = f"/webhooks/{theirs['id']}"
    for method, suffix in [
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("POST", "/roll-secret"),
        ("POST", "/test"),
        ("GET", "/deliveries"),
    ]:
        response = merchant.call(method, path + suffix, {} if method == "PATCH" else None)
        assert response.status_code == 404, (method, suffix)
        assert response.get_json()["error"]["code"] == "NOT_FOUND"
    resend = merchant.post(f"/webhooks/deliveries/{delivery['id']}/resend")
    assert resend.status_code == 404
    assert merchant.ok("GET", "/webhooks") == []
    assert merchant.ok("GET", "/webhooks/deliveries")["data"] == []
    assert other_merchant.ok("GET", path)["status"] == "enabled"


def test_roll_secret_replaces_it(merchant):
    made = register(merchant)
    with db.connection_context():
        sealed_before = EndpointRow.get_by_id(made["id"]).secret_sealed
    rolled = merchant.ok("POST", f"/webhooks/{made['id']}/roll-secret")
    assert rolled["id"] == made["id"]
    assert rolled["secret"].startswith("whsec_") and rolled["secret"] != made["secret"]
    with db.connection_context():
        sealed = EndpointRow.get_by_id(made["id"]).secret_sealed
    assert sealed != sealed_before and rolled["secret"] not in sealed
    assert "secret" not in merchant.ok("GET", f"/webhooks/{made['id']}")


def test_test_event_queues_a_pending_delivery(merchant):
    made = register(merchant, events=["invoice.paid"])
    delivery = merchant.ok("POST", f"/webhooks/{made['id']}/test", status=202)
    WebhookDeliveryOut.model_validate(delivery)
    assert (delivery["event_type"], delivery["status"]) == ("test.webhook", "pending")
    assert delivery["endpoint_id"] == made["id"] and delivery["success"] is None
    assert delivery["attempt"] == delivery["attempt_number"] == 0
    with db.connection_context():
        assert WebhookEvent.get_by_id(delivery["event_id"]).type == "test.webhook"


def test_resend_queues_a_new_delivery_of_the_same_event(merchant):
    made = register(merchant)
    first = merchant.ok("POST", f"/webhooks/{made['id']}/test", status=202)
    set_delivery(first["id"], status="failed", attempts=5)
    again = merchant.ok("POST", f"/webhooks/deliveries/{first['id']}/resend", status=202)
    assert again["id"] != first["id"] and again["event_id"] == first["event_id"]
    assert (again["status"], again["endpoint_id"]) == ("pending", made["id"])
    assert merchant.post("/webhooks/deliveries/nope/resend").status_code == 404
    # A double click while that copy is on its way: refused, nothing more queued.
    twice = merchant.post(f"/webhooks/deliveries/{first['id']}/resend")
    assert twice.status_code == 409 and twice.json["success"] is False
    assert "still being delivered" in twice.json["error"]["message"]
    with db.connection_context():
        assert WebhookDelivery.select().count() == 2


def deliveries(merchant) -> tuple[dict, dict, list[dict]]:
    """Two endpoints; three test deliveries: a (succeeded, oldest), b (failed), c (pending)."""
    one, two = register(merchant), register(merchant)
    made = [
        merchant.ok("POST", f"/webhooks/{endpoint['id']}/test", status=202)
        for endpoint in (one, two, one)
    ]
    now = utcnow()
    set_delivery(made[0]["id"], status="succeeded", attempts=1, created_at=now - timedelta(2))
    set_delivery(made[1]["id"], status="failed", attempts=3, created_at=now - timedelta(1))
    return one, two, made


def ids(data: dict) -> list[str]:
    return [d["id"] for d in data["data"]]


def test_delivery_lists_filter_paginate_and_count(merchant):
    one, two, (a, b, c) = deliveries(merchant)
    everything = merchant.ok("GET", "/webhooks/deliveries")
    WebhookDeliveryPage.model_validate(everything)
    assert ids(everything) == [c["id"], b["id"], a["id"]]  # newest first
    assert (everything["total"], everything["limit"], everything["offset"]) == (3, 20, 0)
    assert everything["has_more"] is False and "counts" not in everything

    def listed(query: str, path: str = "/webhooks/deliveries") -> list[str]:
        return ids(merchant.ok("GET", f"{path}?{query}"))

    assert listed("status=failed") == [b["id"]]
    assert listed("status=pending") == [c["id"]]
    assert listed("success=true") == [a["id"]]
    assert listed("success=false") == [b["id"]]
    assert listed(f"endpoint_id={one['id']}") == [c["id"], a["id"]]
    assert listed(f"endpoint_id={two['id']}&status=pending") == []
    assert listed("attempt=3") == listed("attempt_number=3") == [b["id"]]
    assert listed("event_type=invoice.paid") == []
    since = iso(utcnow() - timedelta(hours=36))
    assert listed(f"created_after={since}") == [c["id"], b["id"]]
    assert listed(f"created_before={since}") == [a["id"]]
    assert listed("status=pending", f"/webhooks/{one['id']}/deliveries") == [c["id"]]
    assert listed("", f"/webhooks/{two['id']}/deliveries") == [b["id"]]

    page = merchant.ok("GET", "/webhooks/deliveries?limit=2&offset=0&include_counts=true")
    assert ids(page) == [c["id"], b["id"]] and page["has_more"] is True
    assert page["counts"] == {"pending": 1, "succeeded": 1, "failed": 1}
    rest = merchant.ok("GET", "/webhooks/deliveries?limit=2&offset=2")
    assert ids(rest) == [a["id"]] and rest["has_more"] is False
    counted = merchant.ok("GET", f"/webhooks/{one['id']}/deliveries?include_counts=true")
    assert counted["counts"] == {"pending": 1, "succeeded": 1, "failed": 0}


@pytest.mark.parametrize(
    "query",
    ["status=lost", "limit=0", "limit=101", "offset=-1", "success=maybe", "created_after=soon"],
)
def test_delivery_list_refuses_bad_queries(merchant, query):
    field = query.split("=")[0]
    assert field in validation_fields(merchant.get(f"/webhooks/deliveries?{query}"))


def test_idempotent_posts_replay(merchant):
    headers = {"Idempotency-Key": "wh-1"}
    first = merchant.post("/webhooks", {"url": URL}, headers=headers)
    again = merchant.post("/webhooks", {"url": URL}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()  # the secret too: it is the same response
    assert count_rows(EndpointRow) == 1
    reused = merchant.post("/webhooks", {"url": URL + "/2"}, headers=headers)
    assert (reused.status_code, reused.get_json()["error"]["code"]) == (
        409,
        "IDEMPOTENCY_KEY_REUSED",
    )
    path = f"/webhooks/{first.get_json()['data']['id']}/test"
    sent = merchant.post(path, headers={"Idempotency-Key": "wh-test"})
    replay = merchant.post(path, headers={"Idempotency-Key": "wh-test"})
    assert sent.status_code == replay.status_code == 202
    assert replay.get_json() == sent.get_json()
    assert count_rows(WebhookDelivery) == 1


def test_official_client_manages_endpoints_and_reads_deliveries(easy):  # noqa: F811
    api = easy.webhooks_management
    registered = api.register(url=URL, events=["invoice.paid", "invoice.created"])
    assert isinstance(registered, RegisteredWebhookEndpoint)
    assert registered.secret.startswith("whsec_")
    assert registered.events == ["invoice.created", "invoice.paid"]
    listed = api.list()
    assert [e.id for e in listed] == [registered.id]
    assert isinstance(listed[0], WebhookEndpoint) and listed[0].model_dump().get("secret") is None

    updated = api.update(registered.id, status="disabled", description="Paused for now")
    assert (updated.status, updated.url) == ("disabled", URL)
    api.update(registered.id, status="enabled")

    easy._http.request("POST", f"/webhooks/{registered.id}/test")
    everything = api.list_deliveries(include_counts=True, limit=10)
    assert everything["total"] == 1 and everything["limit"] == 10
    assert everything["data"][0]["event_type"] == "test.webhook"
    assert everything["counts"] == {"pending": 1, "succeeded": 0, "failed": 0}
    assert api.list_deliveries(success=True)["data"] == []
    assert api.list_deliveries(endpoint_id=registered.id, attempt=0)["total"] == 1
    mine = api.list_endpoint_deliveries(registered.id, event_type="test.webhook", offset=0)
    assert [d["endpoint_id"] for d in mine["data"]] == [registered.id]

    api.delete(registered.id)
    assert api.list() == []
    assert api.list_deliveries()["total"] == 0
