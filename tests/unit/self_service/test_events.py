"""Every portal subscription action leaves one event (company, customer, subscription, action,
details, time) that the merchant lists with GET /customer-portal/events: newest first,
filtered, paginated, and never another company's."""

from datetime import UTC, datetime, timedelta

import pytest

from portal.models import PortalEvent

EVENTS = "/customer-portal/events"
JAN11 = datetime(2026, 1, 11, tzinfo=UTC)


def subscription_events(sub_id: str) -> list[PortalEvent]:
    return list(PortalEvent.select().where(PortalEvent.subscription_id == sub_id))


def do_cancel(portal, shop, via):
    shop.configure(cancellation_reasons_enabled=True, cancellation_reasons=["Too pricey"])
    reason = {"reason": "Too pricey", "comment": "Half the price?"}
    if via == "json":
        portal.ok("POST", f"/subscriptions/{shop.sub}/cancel", reason)
    else:
        portal.confirm_cancel(shop.sub, **reason)
    return "subscription.cancel_scheduled", reason


def do_cancel_now(portal, shop, via):
    shop.configure(cancellation_mode="immediately")
    if via == "json":
        portal.ok("POST", f"/subscriptions/{shop.sub}/cancel", {})
    else:
        portal.confirm_cancel(shop.sub)
    return "subscription.canceled", {"reason": None, "comment": None}


def do_keep(portal, shop, via):
    shop.merchant.ok("DELETE", f"/subscriptions/{shop.sub}?at_period_end=true")
    if via == "json":
        portal.ok("POST", f"/subscriptions/{shop.sub}/keep")
    else:
        portal.submit(portal.get("/portal/subscriptions"), f"/{shop.sub}/keep")
    return "subscription.kept", None


def do_retain(portal, shop, via):
    coupon = shop.coupon(percent_off=20)
    shop.configure(retention_coupon_id=coupon)
    if via == "json":
        portal.ok("POST", f"/subscriptions/{shop.sub}/retention-offer")
    else:
        portal.submit(portal.cancel_page(shop.sub, "offer"), f"/{shop.sub}/retain")
    return "subscription.retention_accepted", {"coupon_id": coupon}


def do_switch(portal, shop, via):
    shop.configure(allow_plan_switch=True)
    if via == "json":
        body = {"price_id": shop.pro, "expected_version": 2}
        portal.ok("POST", f"/subscriptions/{shop.sub}/change", body)
    else:
        portal.submit(portal.preview_page(shop.sub, price_id=shop.pro), f"/{shop.sub}/change")
    return "subscription.changed", {"price_id": shop.pro, "quantity": None}


def do_quantity(portal, shop, via):
    shop.configure(allow_quantity_updates=True)
    if via == "json":
        body = {"quantity": 4, "expected_version": 2}
        portal.ok("POST", f"/subscriptions/{shop.sub}/change", body)
    else:
        portal.submit(portal.preview_page(shop.sub, quantity=4), f"/{shop.sub}/change")
    return "subscription.changed", {"price_id": None, "quantity": 4}


ACTIONS = [do_cancel, do_cancel_now, do_keep, do_retain, do_switch, do_quantity]


@pytest.mark.parametrize("via", ["json", "page"])
@pytest.mark.parametrize("act", ACTIONS, ids=lambda f: f.__name__[3:])
def test_every_action_is_one_event_with_who_what_and_when(portal, shop, merchant, via, act):
    action, details = act(portal, shop, via)
    (event,) = subscription_events(shop.sub)
    assert (event.company_id, event.customer_id, event.action, event.details) == (
        merchant.id,
        shop.customer,
        action,
        details,
    )
    listed = merchant.ok("GET", f"{EVENTS}?subscription_id={shop.sub}")
    assert listed == [
        {
            "id": event.id,
            "company_id": merchant.id,
            "customer_id": shop.customer,
            "subscription_id": shop.sub,
            "action": action,
            "details": details,
            "created_at": "2026-01-11T00:00:00.000Z",
        }
    ]


@pytest.mark.parametrize("via", ["json", "page"])
def test_a_reason_sent_while_reasons_are_off_is_neither_stored_nor_logged(portal, shop, via):
    sent = {"reason": "Too expensive", "comment": "psst"}
    if via == "json":
        portal.ok("POST", f"/subscriptions/{shop.sub}/cancel", sent)
    else:
        portal.confirm_cancel(shop.sub, **sent)
    assert shop.subscription()["cancellation_details"] == {"reason": None, "comment": None}
    (event,) = subscription_events(shop.sub)
    assert event.details == {"reason": None, "comment": None}


def test_a_refused_action_leaves_no_event(portal, shop):
    shop.configure(allow_plan_switch=True)
    shop.merchant.ok("PATCH", f"/subscriptions/{shop.sub}", {"metadata": {"crm": "1"}})
    stale = {"price_id": shop.pro, "expected_version": 2}
    assert portal.api("POST", f"/subscriptions/{shop.sub}/change", stale).status_code == 409
    assert portal.api("POST", f"/subscriptions/{shop.sub}/keep").status_code == 409
    assert subscription_events(shop.sub) == []


@pytest.fixture
def history(portal, open_portal, shop, clock):
    """Six actions of two customers, one second apart: (customer, action) oldest first."""
    shop.configure(allow_quantity_updates=True)
    neighbour = shop.new_customer("bo@example.com")
    theirs = shop.subscribe(shop.basic, customer_id=neighbour)["id"]
    other = open_portal(shop.merchant, neighbour)
    steps = []
    for n in range(3):
        for who, sub_id, session in ((shop.customer, shop.sub, portal), (neighbour, theirs, other)):
            clock.move_to(JAN11 + timedelta(seconds=len(steps) + 1))
            version = shop.subscription(sub_id)["version"]
            body = {"quantity": n + 2, "expected_version": version}
            session.ok("POST", f"/subscriptions/{sub_id}/change", body)
            steps.append((who, "subscription.changed"))
    return steps


def listed(merchant, query: str = "") -> tuple[list[dict], dict]:
    response = merchant.get(f"{EVENTS}?action=subscription.changed{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"], response.get_json()["pagination"]


def test_events_are_listed_newest_first(merchant, history):
    events, page = listed(merchant)
    assert [(e["customer_id"], e["action"]) for e in events] == history[::-1]
    stamps = [e["created_at"] for e in events]
    assert stamps == sorted(stamps, reverse=True) and len(set(stamps)) == 6
    assert page == {"total": 6, "limit": 20, "offset": 0, "has_more": False}


def test_events_filter_by_customer_and_action(merchant, shop, history):
    mine, page = listed(merchant, f"&customer_id={shop.customer}")
    assert {e["customer_id"] for e in mine} == {shop.customer} and page["total"] == 3
    assert [e["details"]["quantity"] for e in mine] == [4, 3, 2]
    signed_in = merchant.ok("GET", f"{EVENTS}?customer_id={shop.customer}")
    assert {e["action"] for e in signed_in} > {"subscription.changed"}  # sign-ins too
    none = merchant.ok("GET", f"{EVENTS}?action=subscription.canceled")
    assert none == []


def test_events_paginate(merchant, history):
    everything, _ = listed(merchant)
    pages = [listed(merchant, f"&limit=4&offset={offset}") for offset in (0, 4)]
    assert [e["id"] for data, _ in pages for e in data] == [e["id"] for e in everything]
    assert [p["has_more"] for _, p in pages] == [True, False]
    assert pages[1][1] == {"total": 6, "limit": 4, "offset": 4, "has_more": False}


def test_another_company_never_sees_our_events(merchant, other_merchant, shop, history):
    assert len(listed(merchant)[0]) == 6
    for query in ("", f"&customer_id={shop.customer}", f"&subscription_id={shop.sub}"):
        theirs, page = listed(other_merchant, query)
        assert theirs == [] and page["total"] == 0
    assert other_merchant.ok("GET", EVENTS) == []


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "offset=-1",
        "action=" + "x" * 61,
        "customer_id=" + "x" * 65,
    ],
)
def test_bad_list_queries_are_422(merchant, query):
    response = merchant.get(f"{EVENTS}?{query}")
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "VALIDATION_ERROR"


def test_the_events_list_needs_the_secret_key(client, merchant, portal):
    assert client.get(f"/v1/api{EVENTS}").status_code == 401
    assert merchant.get(EVENTS, key=merchant.publishable).status_code == 403
    bearer = client.get(f"/v1/api{EVENTS}", headers={"Authorization": f"Bearer {portal.token}"})
    assert bearer.status_code == 401
