"""Starting again in the portal-session JSON API: an ended subscription restarts as a new one
(first period charged once, at the preview's amount), a set-to-end one is kept (nothing
charged) or kept on another plan (priced like a change). The subscription started on JAN1
(Basic, 1000/month), the customer signed in on JAN11."""

import json

import pytest

from portal.db import db
from portal.models import Invoice, Subscription, WebhookEvent

JAN11, FEB1, FEB11 = "2026-01-11T00:00:00.000Z", "2026-02-01T00:00:00.000Z", "2026-02-11T"


def path(sub_id: str, action: str = "") -> str:
    return f"/subscriptions/{sub_id}{action}"


def end_now(portal, shop) -> None:
    shop.configure(cancellation_mode="immediately")
    assert portal.ok("POST", path(shop.sub, "/cancel"), {})["status"] == "canceled"


def set_to_end(portal, shop) -> None:
    assert portal.ok("POST", path(shop.sub, "/cancel"), {})["cancel_at_period_end"] is True


def preview(portal, shop, **query) -> dict:
    params = "&".join(f"{k}={v}" for k, v in query.items())
    return portal.ok("GET", path(shop.sub, f"/resubscribe/preview?{params}"))


def confirm(portal, shop, shown: dict, **body):
    body = {
        "expected_version": shown["subscription_version"],
        "preview_token": shown["preview_token"],
        **body,
    }
    return portal.api("POST", path(shop.sub, "/resubscribe"), body)


def customer_subscriptions(shop) -> list[Subscription]:
    with db.connection_context():
        return list(Subscription.select().where(Subscription.customer == shop.customer))


def customer_invoices(shop) -> list[Invoice]:
    with db.connection_context():
        return list(Invoice.select().where(Invoice.customer == shop.customer))


def test_an_ended_subscription_starts_again_with_one_charge_of_the_previewed_amount(portal, shop):
    end_now(portal, shop)
    options = portal.ok("GET", path(shop.sub, "/resubscribe-options"))["options"]
    assert [(o["price_id"], o["current"], o["product_name"]) for o in options] == [
        (shop.basic, True, "Basic")
    ]
    listed = portal.ok("GET", "/subscriptions")
    assert [(s["id"], s["status"]) for s in listed] == [(shop.sub, "canceled")]
    shown = preview(portal, shop)
    assert (shown["mode"], shown["amount_due_now"], shown["currency"]) == ("new", 1000, "USD")
    assert shown["next_charge_at"].startswith(FEB11)
    assert [line["amount"] for line in shown["lines"]] == [1000]
    invoices_before = len(customer_invoices(shop))
    response = confirm(portal, shop, shown)
    assert response.status_code == 200, response.get_json()
    new = response.get_json()["data"]
    assert new["id"] != shop.sub and new["status"] == "active"
    assert new["current_period_end"].startswith(FEB11)
    new_invoices = [i for i in customer_invoices(shop) if i.subscription_id == new["id"]]
    assert [(i.status, i.amount_due, i.amount_paid) for i in new_invoices] == [("PAID", 1000, 1000)]
    assert len(customer_invoices(shop)) == invoices_before + 1
    assert shop.subscription()["status"] == "canceled"
    assert len(customer_subscriptions(shop)) == 2
    # A replayed confirm (same version) and a fresh one both create nothing more.
    assert portal.error(confirm(portal, shop, shown)) == (409, "CONFLICT")
    old = next(s for s in customer_subscriptions(shop) if s.id == shop.sub)
    again = {"expected_version": old.version}
    assert portal.error(portal.api("POST", path(shop.sub, "/resubscribe"), again)) == (
        409,
        "CONFLICT",
    )
    assert portal.ok("GET", path(shop.sub, "/resubscribe-options")) == {"options": []}
    assert len(customer_subscriptions(shop)) == 2
    assert len(customer_invoices(shop)) == invoices_before + 1


def test_a_declined_first_charge_is_a_402_and_creates_nothing(portal, shop):
    end_now(portal, shop)
    declining = shop.add_card(source="tok_chargeDeclined")
    portal.ok("POST", f"/payment-methods/{declining}/default")
    shown = preview(portal, shop)
    invoices_before = len(customer_invoices(shop))
    response = confirm(portal, shop, shown)
    assert portal.error(response) == (402, "PAYMENT_DECLINED")
    assert "Nothing was changed." in response.get_json()["error"]["message"]
    assert [s.id for s in customer_subscriptions(shop)] == [shop.sub]
    assert len(customer_invoices(shop)) == invoices_before
    # The preview still stands: with the good card as default the same confirm works.
    portal.ok("POST", f"/payment-methods/{shop.card}/default")
    assert confirm(portal, shop, shown).status_code == 200


def test_set_to_end_on_the_same_plan_undoes_the_cancellation_and_charges_nothing(portal, shop):
    set_to_end(portal, shop)
    shown = preview(portal, shop)
    assert (shown["mode"], shown["amount_due_now"], shown["next_charge_at"]) == ("keep", 0, FEB1)
    invoices_before = len(shop.invoices())
    response = confirm(portal, shop, shown)
    assert response.status_code == 200, response.get_json()
    kept = response.get_json()["data"]
    assert (kept["id"], kept["cancel_at_period_end"], kept["status"]) == (shop.sub, False, "active")
    assert len(shop.invoices()) == invoices_before
    assert len(customer_subscriptions(shop)) == 1
    assert portal.error(confirm(portal, shop, shown)) == (409, "CONFLICT")


def test_set_to_end_on_another_plan_is_priced_like_a_change(portal, shop):
    shop.configure(allow_plan_switch=True)
    set_to_end(portal, shop)
    prices = [
        o["price_id"] for o in portal.ok("GET", path(shop.sub, "/resubscribe-options"))["options"]
    ]
    assert prices[0] == shop.basic and shop.pro in prices and shop.pro_eur not in prices
    shown = preview(portal, shop, price_id=shop.pro)
    # 21 of January's 31 days at 3000 - 1000: 2000 * 21 / 31 = 1355 (rounded).
    assert shown["mode"] == "change" and shown["amount_due_now"] == 1355
    response = confirm(portal, shop, shown, price_id=shop.pro)
    assert response.status_code == 200, response.get_json()
    kept = response.get_json()["data"]
    assert kept["cancel_at_period_end"] is False
    assert kept["items"][0]["price_id"] == shop.pro
    assert [i.amount_due for i in shop.invoices()] == [1000, 1355]


def test_with_the_feature_off_it_is_refused_and_nothing_is_offered(portal, shop):
    end_now(portal, shop)
    shop.configure(resubscribe_enabled=False)
    assert portal.ok("GET", path(shop.sub, "/resubscribe-options")) == {"options": []}
    response = portal.api("GET", path(shop.sub, "/resubscribe/preview"))
    assert portal.error(response) == (403, "FEATURE_DISABLED")
    body = {"expected_version": shop.subscription()["version"]}
    response = portal.api("POST", path(shop.sub, "/resubscribe"), body)
    assert portal.error(response) == (403, "FEATURE_DISABLED")
    shop.configure(resubscribe_enabled=True, subscriptions_enabled=False)
    response = portal.api("GET", path(shop.sub, "/resubscribe/preview"))
    assert portal.error(response) == (403, "FEATURE_DISABLED")
    assert len(customer_subscriptions(shop)) == 1


def test_a_running_subscription_has_nothing_to_start_again(portal, shop):
    assert portal.ok("GET", path(shop.sub, "/resubscribe-options")) == {"options": []}
    response = portal.api("GET", path(shop.sub, "/resubscribe/preview"))
    assert portal.error(response) == (409, "CONFLICT")


def test_another_customers_subscription_is_not_found(portal, shop):
    other = shop.new_customer("bo@example.com")
    theirs = shop.subscribe(shop.basic, customer_id=other)["id"]
    shop.merchant.ok("DELETE", f"/subscriptions/{theirs}")
    for method, action in (("GET", "/resubscribe-options"), ("GET", "/resubscribe/preview")):
        assert portal.error(portal.api(method, path(theirs, action))) == (404, "NOT_FOUND")
    response = portal.api("POST", path(theirs, "/resubscribe"), {"expected_version": 1})
    assert portal.error(response) == (404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("settings", "price", "quantity", "expected"),
    [
        ({}, "pro", None, (403, "PERMISSION_DENIED")),  # plan switching off
        ({"allow_plan_switch": True}, "pro_eur", None, (403, "PERMISSION_DENIED")),
        ({"allow_plan_switch": True}, "retired", None, (403, "PERMISSION_DENIED")),
        ({}, None, 3, (403, "FEATURE_DISABLED")),  # quantity changes off
        ({"allow_quantity_updates": True}, None, 1001, (422, "VALIDATION_ERROR")),
    ],
)
def test_a_plan_or_quantity_not_allowed_is_refused(
    portal, shop, settings, price, quantity, expected
):
    end_now(portal, shop)
    shop.configure(**settings)
    query = {}
    if price:
        query["price_id"] = getattr(shop, price)
    if quantity:
        query["quantity"] = quantity
    params = "&".join(f"{k}={v}" for k, v in query.items())
    response = portal.api("GET", path(shop.sub, f"/resubscribe/preview?{params}"))
    assert portal.error(response) == expected


def test_a_new_quantity_when_allowed(portal, shop):
    end_now(portal, shop)
    shop.configure(allow_quantity_updates=True)
    shown = preview(portal, shop, quantity=3)
    assert shown["amount_due_now"] == 3000
    new = confirm(portal, shop, shown, quantity=3).get_json()["data"]
    assert new["items"][0]["quantity"] == 3


def test_strict_bodies(portal, shop):
    end_now(portal, shop)
    body = {"expected_version": 1, "surprise": True}
    response = portal.api("POST", path(shop.sub, "/resubscribe"), body)
    assert portal.error(response) == (422, "VALIDATION_ERROR")


def test_the_new_subscriptions_created_event_says_where_it_came_from(app, portal, shop):
    app.config["PORTAL_WEBHOOKS_IMMEDIATE"] = False
    shop.merchant.ok("POST", "/webhooks", {"url": "https://hooks.example/in"})
    end_now(portal, shop)
    new = confirm(portal, shop, preview(portal, shop)).get_json()["data"]
    with db.connection_context():
        rows = WebhookEvent.select().where(WebhookEvent.type == "subscription.created")
        created = [json.loads(e.body)["data"] for e in rows]
    created = [data for data in created if data["id"] == new["id"]]
    assert len(created) == 1
    assert created[0]["portal"] == {"action": "resubscribed", "resubscribed_from": shop.sub}
    assert created[0]["status"] == "active"


def test_keeping_sends_one_update_that_says_so(app, portal, shop):
    app.config["PORTAL_WEBHOOKS_IMMEDIATE"] = False
    shop.merchant.ok("POST", "/webhooks", {"url": "https://hooks.example/in"})
    set_to_end(portal, shop)
    with db.connection_context():
        before = WebhookEvent.select().count()
    assert confirm(portal, shop, preview(portal, shop)).status_code == 200
    with db.connection_context():
        rows = list(WebhookEvent.select().order_by(WebhookEvent.id).offset(before))
    assert [row.type for row in rows] == ["subscription.updated"]
    data = json.loads(rows[0].body)["data"]
    assert data["portal"] == {"action": "resubscribed", "resubscribed_from": shop.sub}
    assert data["cancel_at_period_end"] is False


def test_a_restarted_subscription_restarts_from_its_successor_only(portal, shop):
    end_now(portal, shop)
    new = confirm(portal, shop, preview(portal, shop)).get_json()["data"]
    portal.ok("POST", path(new["id"], "/cancel"), {})  # the shop still cancels immediately
    response = portal.api("GET", path(shop.sub, "/resubscribe/preview"))
    assert portal.error(response) == (409, "CONFLICT")
    assert response.get_json()["error"]["details"]["subscription_id"] == new["id"]
    shown = portal.ok("GET", path(new["id"], "/resubscribe/preview"))
    assert shown["mode"] == "new"


def test_the_customers_credit_pays_part_of_the_first_period_as_previewed(portal, shop):
    shop.configure(cancellation_mode="immediately", cancellation_proration_enabled=True)
    portal.ok("POST", path(shop.sub, "/cancel"), {})  # 21 of 31 days unused: 677 of credit
    shown = preview(portal, shop)
    assert (shown["mode"], shown["amount_due_now"]) == ("new", 1000 - 677)
    new = confirm(portal, shop, shown).get_json()["data"]
    invoices = [i for i in customer_invoices(shop) if i.subscription_id == new["id"]]
    assert [(i.status, i.credit_applied, i.amount_due) for i in invoices] == [("PAID", 677, 323)]
