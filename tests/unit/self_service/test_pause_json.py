"""Pausing in the portal-session JSON API: behind ``pause_enabled``, 1 to
``pause_max_periods`` billing periods, each skipping one renewal (no invoice), resuming on
the renewal after them; the customer may resume early. The subscription started on JAN1
(periods end on the 1st), the customer signed in on JAN11."""

import json
from datetime import UTC, datetime

import pytest

from portal.billing.runner import run_billing
from portal.models import PortalEvent, WebhookEvent

FEB1, MAR1, APR1 = (f"2026-0{month}-01T00:00:00.000Z" for month in (2, 3, 4))


def path(sub_id: str, action: str) -> str:
    return f"/subscriptions/{sub_id}{action}"


def test_with_pausing_off_the_pause_is_refused_and_nothing_is_offered(portal, shop):
    assert portal.error(portal.api("POST", path(shop.sub, "/pause"), {"periods": 1})) == (
        403,
        "FEATURE_DISABLED",
    )
    assert portal.ok("GET", path(shop.sub, "/pause-options")) == {"options": []}
    assert shop.subscription()["status"] == "active"


@pytest.mark.parametrize("periods", [0, 4, 3, "2", None])
def test_a_number_of_periods_out_of_range_is_a_422(portal, shop, periods):
    shop.configure(pause_enabled=True, pause_max_periods=2)
    before = shop.subscription()
    response = portal.api("POST", path(shop.sub, "/pause"), {"periods": periods})
    assert portal.error(response) == (422, "VALIDATION_ERROR")
    assert "periods" in response.get_json()["error"]["details"]["fields"]
    assert shop.subscription() == before


def test_the_options_count_billing_periods_from_the_next_renewal(portal, shop):
    shop.configure(pause_enabled=True, pause_max_periods=3)
    options = portal.ok("GET", path(shop.sub, "/pause-options"))["options"]
    assert options == [
        {"periods": 1, "resumes_at": MAR1},
        {"periods": 2, "resumes_at": APR1},
        {"periods": 3, "resumes_at": "2026-05-01T00:00:00.000Z"},
    ]


def test_pause_then_resume_early(app, portal, shop):
    app.config["PORTAL_WEBHOOKS_IMMEDIATE"] = False
    shop.merchant.ok("POST", "/webhooks", {"url": "https://hooks.example/in"})
    shop.configure(pause_enabled=True, pause_max_periods=2)
    paused = portal.ok("POST", path(shop.sub, "/pause"), {"periods": 2})
    assert (paused["status"], paused["pause_collection"]) == (
        "paused",
        {"behavior": "void", "resumes_at": APR1},
    )
    assert portal.ok("GET", "/subscriptions")[0]["pause_collection"] == paused["pause_collection"]
    resumed = portal.ok("POST", path(shop.sub, "/resume"))
    assert (resumed["status"], resumed["pause_collection"]) == ("active", None)
    refused = portal.api("POST", path(shop.sub, "/resume"))
    assert portal.error(refused) == (409, "CONFLICT")
    bodies = [json.loads(e.body) for e in WebhookEvent.select().order_by(WebhookEvent.id)]
    portal_data = [(b["type"], b["data"].get("portal")) for b in bodies if "portal" in b["data"]]
    assert portal_data == [
        ("subscription.paused", {"action": "paused", "pause_periods": 2}),
        ("subscription.resumed", {"action": "resumed"}),
    ]
    actions = [
        e.action for e in PortalEvent.select().where(PortalEvent.subscription_id == shop.sub)
    ]
    assert sorted(actions) == ["subscription.paused", "subscription.resumed"]


def test_a_pause_of_one_period_skips_one_renewal(portal, shop, clock):
    shop.configure(pause_enabled=True, pause_max_periods=1)
    portal.ok("POST", path(shop.sub, "/pause"), {"periods": 1})
    for month in (2, 3):
        clock.move_to(datetime(2026, month, 1, tzinfo=UTC))
        assert run_billing().errors == []
    after = shop.subscription()
    assert (after["status"], after["current_period_start"]) == ("active", MAR1)
    assert [i.period_start.month for i in shop.invoices()] == [1, 3]


def test_another_customers_subscription_is_not_found(portal, shop):
    shop.configure(pause_enabled=True)
    neighbour = shop.new_customer("bo@example.com")
    theirs = shop.subscribe(shop.basic, customer_id=neighbour)["id"]
    for action, body in (("/pause", {"periods": 1}), ("/resume", None), ("/pause-options", None)):
        method = "GET" if action == "/pause-options" else "POST"
        assert portal.error(portal.api(method, path(theirs, action), body)) == (404, "NOT_FOUND")
    assert shop.subscription(theirs)["status"] == "active"


def test_a_pause_the_merchant_set_is_not_the_customers_to_end(portal, shop):
    shop.configure(pause_enabled=True)
    shop.merchant.ok("POST", f"/subscriptions/{shop.sub}/pause", {"behavior": "keep_as_draft"})
    for action, body in (("/pause", {"periods": 1}), ("/resume", None)):
        response = portal.api("POST", path(shop.sub, action), body)
        assert portal.error(response) == (403, "PERMISSION_DENIED")
    assert shop.subscription()["pause_collection"]["behavior"] == "keep_as_draft"


def test_a_subscription_set_to_cancel_is_not_paused(portal, shop):
    shop.configure(pause_enabled=True)
    portal.ok("POST", path(shop.sub, "/cancel"), {})
    assert portal.ok("GET", path(shop.sub, "/pause-options")) == {"options": []}
    refused = portal.api("POST", path(shop.sub, "/pause"), {"periods": 1})
    assert portal.error(refused) == (409, "CONFLICT")
    assert "keep it first" in refused.get_json()["error"]["message"]


def test_a_draft_kept_while_paused_is_not_shown_to_the_customer(open_portal, shop, clock):
    shop.merchant.ok("POST", path(shop.sub, "/pause"), {"behavior": "keep_as_draft"})
    clock.move_to(datetime(2026, 2, 1, tzinfo=UTC))
    run_billing()
    portal = open_portal(shop.merchant, shop.customer)
    (draft,) = [i for i in shop.invoices() if i.status == "DRAFT"]
    listed = portal.ok("GET", "/invoices")
    assert draft.id not in [i["id"] for i in listed] and len(listed) == 1
    assert portal.error(portal.api("GET", f"/invoices/{draft.id}")) == (404, "NOT_FOUND")
    assert portal.error(portal.api("POST", f"/invoices/{draft.id}/pay", {})) == (404, "NOT_FOUND")
    assert portal.get(f"/portal/invoices/{draft.id}").status_code == 404
    page = portal.get("/portal/invoices").get_data(as_text=True)
    assert draft.number not in page and shop.invoices()[0].number in page


def test_a_void_pause_the_merchant_set_is_not_the_customers_either(portal, shop):
    shop.configure(pause_enabled=True)
    shop.merchant.ok("POST", f"/subscriptions/{shop.sub}/pause", {"behavior": "void"})
    assert portal.ok("GET", path(shop.sub, "/pause-options")) == {"options": []}
    for action, body in (("/pause", {"periods": 1}), ("/resume", None)):
        response = portal.api("POST", path(shop.sub, action), body)
        assert portal.error(response) == (403, "PERMISSION_DENIED")
    after = shop.subscription()
    assert (after["status"], after["pause_collection"]["resumes_at"]) == ("paused", None)


def test_renewals_skipped_since_the_last_charge_count_against_the_longest_pause(
    open_portal, shop, clock
):
    shop.configure(pause_enabled=True, pause_max_periods=2)
    portal = open_portal(shop.merchant, shop.customer)
    portal.ok("POST", path(shop.sub, "/pause"), {"periods": 2})  # skips Feb 1 and Mar 1
    clock.move_to(datetime(2026, 2, 2, tzinfo=UTC))
    assert run_billing().errors == []
    portal = open_portal(shop.merchant, shop.customer)
    # One renewal skipped: one more is the most, counted from the coming renewal.
    assert portal.ok("GET", path(shop.sub, "/pause-options"))["options"] == [
        {"periods": 1, "resumes_at": APR1}
    ]
    refused = portal.api("POST", path(shop.sub, "/pause"), {"periods": 2})
    assert portal.error(refused) == (409, "CONFLICT")
    assert "more renewals in a row" in refused.get_json()["error"]["message"]
    assert shop.subscription()["pause_collection"]["resumes_at"] == APR1
    # Nor does resuming early and pausing again start a fresh count.
    portal.ok("POST", path(shop.sub, "/resume"))
    assert portal.ok("GET", path(shop.sub, "/pause-options"))["options"] == [
        {"periods": 1, "resumes_at": APR1}
    ]
    portal.ok("POST", path(shop.sub, "/pause"), {"periods": 1})
    for month in (3, 4):
        clock.move_to(datetime(2026, month, 1, tzinfo=UTC))
        assert run_billing().errors == []
    assert [i.period_start.month for i in shop.invoices()] == [1, 4]
    portal = open_portal(shop.merchant, shop.customer)
    # Billed again: the next pause may be as long as the portal allows.
    assert len(portal.ok("GET", path(shop.sub, "/pause-options"))["options"]) == 2


def test_renewals_the_merchants_pause_skipped_count_too(open_portal, shop, clock):
    shop.configure(pause_enabled=True, pause_max_periods=3)
    shop.merchant.ok("POST", path(shop.sub, "/pause"), {"behavior": "void"})
    for month in (2, 3):
        clock.move_to(datetime(2026, month, 1, tzinfo=UTC))
        assert run_billing().errors == []
    clock.move_to(datetime(2026, 3, 2, tzinfo=UTC))
    shop.merchant.ok("POST", path(shop.sub, "/resume"))
    portal = open_portal(shop.merchant, shop.customer)
    assert portal.ok("GET", path(shop.sub, "/pause-options"))["options"] == [
        {"periods": 1, "resumes_at": "2026-05-01T00:00:00.000Z"}
    ]


def test_a_change_waiting_for_the_renewal_blocks_pausing_until_it_is_cancelled(portal, shop):
    shop.configure(pause_enabled=True, downgrade_timing="period_end", allow_plan_switch=True)
    shop.merchant.ok(
        "PATCH", f"/subscriptions/{shop.sub}", {"items": [{"price_id": shop.pro, "quantity": 1}]}
    )
    preview = portal.ok("GET", path(shop.sub, f"/preview?price_id={shop.team}"))
    body = {
        "price_id": shop.team,
        "expected_version": preview["subscription_version"],
        "preview_token": preview["preview_token"],
    }
    portal.ok("POST", path(shop.sub, "/change"), body)
    assert shop.subscription()["scheduled_change"] is not None
    assert portal.ok("GET", path(shop.sub, "/pause-options")) == {"options": []}
    refused = portal.api("POST", path(shop.sub, "/pause"), {"periods": 1})
    assert portal.error(refused) == (409, "CONFLICT")
    assert "cancel it first to pause" in refused.get_json()["error"]["message"]
    portal.ok("DELETE", path(shop.sub, "/scheduled-change"))
    assert portal.ok("POST", path(shop.sub, "/pause"), {"periods": 1})["status"] == "paused"


def test_the_merchant_cancels_a_waiting_change_with_the_current_items_then_pauses(portal, shop):
    shop.configure(downgrade_timing="period_end", allow_plan_switch=True)
    shop.merchant.ok(
        "PATCH", f"/subscriptions/{shop.sub}", {"items": [{"price_id": shop.pro, "quantity": 1}]}
    )
    preview = portal.ok("GET", path(shop.sub, f"/preview?price_id={shop.team}"))
    body = {
        "price_id": shop.team,
        "expected_version": preview["subscription_version"],
        "preview_token": preview["preview_token"],
    }
    portal.ok("POST", path(shop.sub, "/change"), body)
    pause = {"behavior": "void"}
    refused = shop.merchant.call("POST", f"/subscriptions/{shop.sub}/pause", pause)
    assert refused.status_code == 409 and "current items" in refused.get_json()["error"]["message"]
    current = {"items": [{"price_id": shop.pro, "quantity": 1}]}
    assert (
        shop.merchant.ok("PATCH", f"/subscriptions/{shop.sub}", current)["scheduled_change"] is None
    )
    assert shop.merchant.ok("POST", f"/subscriptions/{shop.sub}/pause", pause)["status"] == "paused"
