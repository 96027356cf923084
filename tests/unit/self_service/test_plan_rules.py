"""The merchant's plan-change rules in the portal: per-product quantity limits, and
downgrades that wait for the renewal (shown as a pending change the customer can cancel).
Both through the portal JSON API here; the pages ask the same self_service functions."""

from datetime import datetime

import pytest

from portal.billing.runner import run_billing

LIMITS_ON = {"allow_plan_switch": True, "allow_quantity_updates": True}


def sub_path(sub_id: str, action: str = "") -> str:
    return f"/subscriptions/{sub_id}{action}"


def items_of(sub: dict) -> list[tuple[str, int]]:
    return [(i["price_id"], i["quantity"]) for i in sub["items"]]


def confirm(portal, sub_id: str, **target) -> dict:
    query = "&".join(f"{k}={v}" for k, v in target.items())
    preview = portal.ok("GET", sub_path(sub_id, f"/preview?{query}"))
    body = {
        **target,
        "expected_version": preview["subscription_version"],
        "preview_token": preview["preview_token"],
    }
    return portal.ok("POST", sub_path(sub_id, "/change"), body)


# ---- quantity limits ----------------------------------------------------------------------


@pytest.mark.parametrize(("quantity", "allowed"), [(1, False), (2, True), (5, True), (6, False)])
def test_a_products_quantity_limits_hold_in_the_portal(portal, shop, quantity, allowed):
    limit = {"product_id": shop.basic_product, "minimum": 2, "maximum": 5}
    shop.configure(quantity_limits=[limit], **LIMITS_ON)
    response = portal.api("GET", sub_path(shop.sub, f"/preview?quantity={quantity}"))
    if allowed:
        assert response.status_code == 200
        assert items_of(confirm(portal, shop.sub, quantity=quantity)) == [(shop.basic, quantity)]
        return
    assert portal.error(response) == (422, "VALIDATION_ERROR")
    fields = response.get_json()["error"]["details"]["fields"]
    assert fields == {"quantity": "Choose a quantity from 2 to 5."}
    body = {"quantity": quantity, "expected_version": shop.subscription()["version"]}
    refused = portal.api("POST", sub_path(shop.sub, "/change"), body)
    assert portal.error(refused) == (422, "VALIDATION_ERROR")
    assert items_of(shop.subscription()) == [(shop.basic, 1)]


def test_switching_to_a_product_checks_that_products_limits(portal, shop):
    """One Basic seat cannot become one Team seat when Team needs three."""
    shop.configure(quantity_limits=[{"product_id": shop.team_product, "minimum": 3}], **LIMITS_ON)
    response = portal.api("GET", sub_path(shop.sub, f"/preview?price_id={shop.team}"))
    assert portal.error(response) == (422, "VALIDATION_ERROR")
    assert "from 3 to 1000" in response.get_json()["error"]["details"]["fields"]["quantity"]
    changed = confirm(portal, shop.sub, price_id=shop.team, quantity=3)
    assert items_of(changed) == [(shop.team, 3)]


def test_the_merchant_api_is_not_limited(shop):
    shop.configure(quantity_limits=[{"product_id": shop.basic_product, "maximum": 2}])
    body = {"items": [{"price_id": shop.basic, "quantity": 9}]}
    changed = shop.merchant.ok("PATCH", f"/subscriptions/{shop.sub}", body)
    assert changed["items"][0]["quantity"] == 9


@pytest.mark.parametrize(
    "limits",
    [
        [{"product_id": "prod_nope", "minimum": 1}],
        [{"product_id": "{basic}", "minimum": 4, "maximum": 3}],
        [{"product_id": "{basic}", "minimum": 0}],
        [{"product_id": "{basic}", "maximum": 1001}],
        [{"product_id": "{basic}"}, {"product_id": "{basic}", "maximum": 3}],
        [{"product_id": "{basic}", "minimum": "2"}],
        [{"product_id": "{basic}", "most": 3}],
        [{"product_id": "{foreign}"}],
    ],
)
def test_bad_quantity_limits_are_refused_and_change_nothing(shop, other_merchant, limits):
    foreign = other_merchant.ok("POST", "/products", {"name": "Theirs"})["id"]
    names = {"{basic}": shop.basic_product, "{foreign}": foreign}
    sent = [{k: names.get(v, v) for k, v in limit.items()} for limit in limits]
    response = shop.merchant.patch("/customer-portal-config", {"quantity_limits": sent})
    assert response.status_code == 422, response.json
    assert "quantity_limits" in str(response.json["error"]["details"])
    assert shop.merchant.ok("GET", "/customer-portal-config")["quantity_limits"] == []


def test_limits_are_stored_with_their_defaults(shop):
    config = shop.configure(quantity_limits=[{"product_id": shop.basic_product, "maximum": 4}])
    assert config["quantity_limits"] == [
        {"product_id": shop.basic_product, "minimum": 1, "maximum": 4}
    ]


# ---- downgrades at the renewal ------------------------------------------------------------


@pytest.fixture
def on_pro(portal, shop):
    """A Pro subscription (3000 a month) started now, with downgrades deferred."""
    shop.configure(downgrade_timing="period_end", **LIMITS_ON)
    sub = shop.subscribe(shop.pro)
    shop.sub = sub["id"]
    shop.renews_at = datetime.fromisoformat(sub["current_period_end"].replace("Z", "+00:00"))
    return shop


def test_a_downgrade_waits_for_the_renewal_and_is_billed_once_there(portal, on_pro, clock):
    shop = on_pro
    invoices_before = len(shop.invoices())
    preview = portal.ok("GET", sub_path(shop.sub, f"/preview?price_id={shop.team}"))
    assert preview["effective_at"] == shop.subscription()["current_period_end"]
    assert (preview["amount_due_now"], preview["lines"]) == (0, [])
    assert preview["next_invoice"] == {"amount": 2000, "date": preview["effective_at"]}
    changed = confirm(portal, shop.sub, price_id=shop.team)
    assert items_of(changed) == [(shop.pro, 1)]  # paid for until the renewal
    assert changed["scheduled_change"] == {
        "items": [{"price_id": shop.team, "quantity": 1}],
        "effective_at": changed["current_period_end"],
    }
    assert changed == shop.subscription()
    assert len(shop.invoices()) == invoices_before  # nothing charged or credited now
    clock.move_to(shop.renews_at)
    run_billing()
    renewed = shop.subscription()
    assert items_of(renewed) == [(shop.team, 1)] and renewed["scheduled_change"] is None
    renewal = shop.invoices()[-1]
    assert (renewal.amount_due, renewal.status, shop.amounts(renewal)) == (2000, "PAID", [2000])
    assert len(shop.invoices()) == invoices_before + 1
    run_billing()  # a second run at the same instant bills nothing more
    assert len(shop.invoices()) == invoices_before + 1


def test_the_customer_can_cancel_the_pending_change(portal, on_pro, clock):
    shop = on_pro
    confirm(portal, shop.sub, quantity=1, price_id=shop.team)
    kept = portal.ok("DELETE", sub_path(shop.sub, "/scheduled-change"))
    assert kept["scheduled_change"] is None and items_of(kept) == [(shop.pro, 1)]
    again = portal.api("DELETE", sub_path(shop.sub, "/scheduled-change"))
    assert portal.error(again) == (409, "CONFLICT")
    clock.move_to(shop.renews_at)
    run_billing()
    assert items_of(shop.subscription()) == [(shop.pro, 1)]
    assert shop.invoices()[-1].amount_due == 3000


def test_an_upgrade_is_still_immediate_and_replaces_a_pending_downgrade(portal, on_pro):
    shop = on_pro
    confirm(portal, shop.sub, price_id=shop.team)
    preview = portal.ok("GET", sub_path(shop.sub, "/preview?quantity=2"))
    assert preview["effective_at"] is None and preview["amount_due_now"] > 0
    changed = confirm(portal, shop.sub, quantity=2)
    assert items_of(changed) == [(shop.pro, 2)] and changed["scheduled_change"] is None


def test_downgrades_are_immediate_by_default(portal, shop):
    shop.configure(**LIMITS_ON)
    shop.sub = shop.subscribe(shop.pro)["id"]
    preview = portal.ok("GET", sub_path(shop.sub, f"/preview?price_id={shop.team}"))
    assert preview["effective_at"] is None
    changed = confirm(portal, shop.sub, price_id=shop.team)
    assert items_of(changed) == [(shop.team, 1)] and changed["scheduled_change"] is None


def test_a_shorter_interval_waits_and_starts_its_own_cycle_at_the_renewal(portal, shop, clock):
    shop.configure(downgrade_timing="period_end", **LIMITS_ON)
    yearly = shop.subscribe(shop.basic_yearly)
    shop.sub = yearly["id"]
    changed = confirm(portal, shop.sub, price_id=shop.basic)
    assert items_of(changed) == [(shop.basic_yearly, 1)]
    renews_at = datetime.fromisoformat(yearly["current_period_end"].replace("Z", "+00:00"))
    clock.move_to(renews_at)
    run_billing()
    monthly = shop.subscription()
    assert items_of(monthly) == [(shop.basic, 1)]
    assert monthly["current_period_start"] == yearly["current_period_end"]
    start = datetime.fromisoformat(monthly["current_period_start"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(monthly["current_period_end"].replace("Z", "+00:00"))
    assert 28 <= (end - start).days <= 31
    assert shop.invoices()[-1].amount_due == 1000
