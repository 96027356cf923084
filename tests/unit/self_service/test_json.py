"""The portal-session JSON API for subscriptions: the same rules as the pages, as envelopes
(403 FEATURE_DISABLED / PERMISSION_DENIED, 404 for what is not the customer's, 409 stale)."""

from datetime import UTC, datetime, timedelta

import pytest
from support import customer_credit

from portal.billing.runner import run_billing
from portal.models import Discount

FEB1 = datetime(2026, 2, 1, tzinfo=UTC)
PERCENT_3_MONTHS = {"percent_off": 20, "duration": "repeating", "duration_in_months": 3}


def sub_path(shop, action: str = "") -> str:
    return f"/subscriptions/{shop.sub}{action}"


def test_the_customer_lists_their_subscriptions(portal, shop):
    listed = portal.ok("GET", "/subscriptions")
    assert [s["id"] for s in listed] == [shop.sub]
    assert listed[0] == shop.subscription()


# ---- every action refused by a switch, a product list, or ownership -------------------------

ACTIONS = [
    ("GET", "/preview?quantity=2", None),
    ("POST", "/change", {"quantity": 2, "expected_version": 2}),
    ("GET", "/retention-offer", None),
    ("POST", "/retention-offer", None),
    ("POST", "/cancel", {}),
    ("POST", "/keep", None),
]
OPEN_EVERYTHING = {
    "allow_plan_switch": True,
    "allow_quantity_updates": True,
    "cancellation_reasons_enabled": False,
}


@pytest.mark.parametrize(("method", "action", "body"), ACTIONS)
def test_with_subscriptions_off_every_route_is_feature_disabled(portal, shop, method, action, body):
    shop.configure(subscriptions_enabled=False, **OPEN_EVERYTHING)
    assert portal.error(portal.api(method, sub_path(shop, action), body)) == (
        403,
        "FEATURE_DISABLED",
    )
    assert portal.error(portal.api("GET", "/subscriptions")) == (403, "FEATURE_DISABLED")


def test_the_product_list_limits_switching_only(portal, shop):
    """Basic is not in the list: the customer can still change its quantity and cancel it,
    and can switch only to a listed product."""
    shop.configure(subscription_product_ids=[shop.pro_product], **OPEN_EVERYTHING)
    preview = portal.ok("GET", sub_path(shop, "/preview?quantity=2"))
    body = {
        "quantity": 2,
        "expected_version": preview["subscription_version"],
        "preview_token": preview["preview_token"],
    }
    assert portal.ok("POST", sub_path(shop, "/change"), body)["items"][0]["quantity"] == 2
    refused = portal.api("GET", sub_path(shop, f"/preview?price_id={shop.team}"))
    assert portal.error(refused) == (403, "PERMISSION_DENIED")
    assert portal.ok("GET", sub_path(shop, f"/preview?price_id={shop.pro}"))["amount_due_now"] > 0
    assert portal.ok("POST", sub_path(shop, "/cancel"), {})["cancel_at_period_end"] is True


@pytest.mark.parametrize(("method", "action", "body"), ACTIONS)
def test_another_customers_subscription_is_not_found(
    portal, shop, open_portal, other_merchant, method, action, body
):
    shop.configure(**OPEN_EVERYTHING)
    neighbour = shop.new_customer("bo@example.com")
    theirs = shop.subscribe(shop.basic, customer_id=neighbour)["id"]
    assert portal.error(portal.api(method, f"/subscriptions/{theirs}{action}", body)) == (
        404,
        "NOT_FOUND",
    )
    # and a customer of another company cannot reach ours
    foreign = other_merchant.ok("POST", "/customer", {"first_name": "Eve", "last_name": "X"})
    intruder = open_portal(other_merchant, foreign["id"])
    assert intruder.error(intruder.api(method, sub_path(shop, action), body))[0] == 404


# ---- cancellation -------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "body"), [("/cancel", {}), ("/retention-offer", None)])
def test_with_cancellations_off_the_api_refuses(portal, shop, path, body):
    shop.configure(cancellations_enabled=False, retention_coupon_id=shop.coupon(percent_off=20))
    response = portal.api("POST", sub_path(shop, path), body)
    assert portal.error(response) == (403, "FEATURE_DISABLED")
    sub = shop.subscription()
    assert (sub["status"], sub["cancel_at_period_end"], sub["discount"]) == ("active", False, None)


@pytest.mark.parametrize(
    ("mode", "prorate", "status", "scheduled", "credit", "final"),
    [
        ("immediately", True, "canceled", False, 677, [[-677]]),
        ("immediately", False, "canceled", False, 0, []),
        ("end_of_period", True, "active", True, 0, []),
        ("end_of_period", False, "active", True, 0, []),
    ],
)
def test_cancel_follows_the_mode_and_proration_setting(
    portal, shop, mode, prorate, status, scheduled, credit, final
):
    shop.configure(cancellation_mode=mode, cancellation_proration_enabled=prorate)
    sub = portal.ok("POST", sub_path(shop, "/cancel"), {})
    assert (sub["status"], sub["cancel_at_period_end"]) == (status, scheduled)
    assert sub["credit_balance"] == 0 and customer_credit(shop.customer) == credit
    assert sub == shop.subscription()
    assert [shop.amounts(invoice) for invoice in shop.invoices()[1:]] == final


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "reason"),
        ({"reason": "Bored"}, "reason"),
        ({"reason": "too pricey"}, "reason"),
        ({"reason": "Too pricey", "comment": "x" * 1001}, "comment"),
        ({"reason": "x" * 101}, "reason"),
        ({"reason": "Too pricey", "when": "now"}, "when"),
    ],
)
def test_a_reason_from_the_list_is_required(portal, shop, body, field):
    shop.configure(cancellation_reasons_enabled=True, cancellation_reasons=["Too pricey", "Other"])
    response = portal.api("POST", sub_path(shop, "/cancel"), body)
    assert portal.error(response) == (422, "VALIDATION_ERROR")
    assert field in response.get_json()["error"]["details"]["fields"]
    assert shop.subscription()["cancel_at_period_end"] is False


def test_the_reason_and_comment_are_stored(portal, shop):
    shop.configure(cancellation_reasons_enabled=True, cancellation_reasons=["Too pricey", "Other"])
    body = {"reason": "Other", "comment": "Moving to a cabin without internet"}
    portal.ok("POST", sub_path(shop, "/cancel"), body)
    assert shop.subscription()["cancellation_details"] == body


def test_keep_undoes_a_scheduled_cancellation_only(portal, shop):
    assert portal.error(portal.api("POST", sub_path(shop, "/keep"))) == (409, "CONFLICT")
    portal.ok("POST", sub_path(shop, "/cancel"), {})
    kept = portal.ok("POST", sub_path(shop, "/keep"))
    assert (kept["cancel_at_period_end"], kept["canceled_at"], kept["status"]) == (
        False,
        None,
        "active",
    )


# ---- retention offer ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("terms", "words"),
    [
        (PERCENT_3_MONTHS, "20% off for 3 months"),
        ({"percent_off": 12.5, "duration": "forever"}, "12.5% off forever"),
        ({"amount_off": 500, "currency": "USD", "duration": "once"}, "$5.00 off"),
        ({"percent_off": 50, "duration": "repeating", "duration_in_months": 1}, "for 1 month"),
    ],
)
def test_the_offer_is_worded_from_the_coupon(portal, shop, terms, words):
    coupon = shop.coupon(**terms)
    shop.configure(retention_coupon_id=coupon)
    offer = portal.ok("GET", sub_path(shop, "/retention-offer"))
    assert offer["coupon_id"] == coupon and words in offer["description"]


def test_accepting_the_offer_discounts_and_cancels_nothing_and_is_not_offered_again(portal, shop):
    coupon = shop.coupon(**PERCENT_3_MONTHS)
    shop.configure(retention_coupon_id=coupon)
    kept = portal.ok("POST", sub_path(shop, "/retention-offer"))
    assert (kept["status"], kept["cancel_at_period_end"], kept["canceled_at"]) == (
        "active",
        False,
        None,
    )
    assert kept["discount"]["coupon_id"] == coupon
    assert portal.ok("GET", sub_path(shop, "/retention-offer")) == {
        "coupon_id": None,
        "description": None,
    }
    again = portal.api("POST", sub_path(shop, "/retention-offer"))
    assert portal.error(again) == (409, "CONFLICT")
    assert Discount.select().count() == 1


def test_no_offer_for_a_subscription_already_set_to_end(portal, shop):
    shop.configure(retention_coupon_id=shop.coupon(**PERCENT_3_MONTHS))
    portal.ok("POST", sub_path(shop, "/cancel"), {})
    assert portal.ok("GET", sub_path(shop, "/retention-offer"))["coupon_id"] is None
    refused = portal.api("POST", sub_path(shop, "/retention-offer"))
    assert portal.error(refused) == (409, "CONFLICT")
    sub = shop.subscription()
    assert (sub["cancel_at_period_end"], sub["discount"]) == (True, None)


@pytest.mark.parametrize("spoil", ["deleted", "used_up", "other_currency"])
def test_an_unusable_coupon_is_not_offered(portal, shop, spoil):
    shop.unusable_retention_coupon(spoil)
    assert portal.ok("GET", sub_path(shop, "/retention-offer"))["coupon_id"] is None
    refused = portal.api("POST", sub_path(shop, "/retention-offer"))
    assert portal.error(refused) == (409, "CONFLICT")
    assert shop.subscription()["discount"] is None


# ---- plan switch and quantity -------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "query", "expected"),
    [
        ({}, "price_id=@pro", (403, "FEATURE_DISABLED")),
        ({"allow_plan_switch": True}, "quantity=2", (403, "FEATURE_DISABLED")),
        ({"allow_plan_switch": True}, "price_id=@pro_eur", (403, "PERMISSION_DENIED")),
        ({"allow_plan_switch": True}, "price_id=@pro_archived", (403, "PERMISSION_DENIED")),
        ({"allow_plan_switch": True}, "price_id=@pro_setup", (403, "PERMISSION_DENIED")),
        ({"allow_plan_switch": True}, "price_id=@retired", (403, "PERMISSION_DENIED")),
        ({"allow_plan_switch": True}, "price_id=no-such-price", (422, "VALIDATION_ERROR")),
        (
            {"allow_plan_switch": True, "subscription_product_ids": ["@basic_product"]},
            "price_id=@pro",
            (403, "PERMISSION_DENIED"),
        ),
        ({"allow_quantity_updates": True}, "quantity=0", (422, "VALIDATION_ERROR")),
        ({"allow_quantity_updates": True}, "quantity=1001", (422, "VALIDATION_ERROR")),
        ({"allow_quantity_updates": True}, "quantity=two", (422, "VALIDATION_ERROR")),
        ({"allow_quantity_updates": True}, "quantity=1", (422, "VALIDATION_ERROR")),
    ],
)
def test_a_refused_preview_or_change_says_why_and_changes_nothing(
    portal, shop, settings, query, expected
):
    def resolve(value: str) -> str:
        return getattr(shop, value[1:]) if value.startswith("@") else value

    shop.configure(
        **{k: [resolve(v) for v in x] if isinstance(x, list) else x for k, x in settings.items()}
    )
    name, _, value = query.partition("=")
    assert portal.error(portal.api("GET", sub_path(shop, f"/preview?{name}={resolve(value)}"))) == (
        expected
    )
    body = {name: int(value) if value.isdigit() else resolve(value), "expected_version": 2}
    assert portal.error(portal.api("POST", sub_path(shop, "/change"), body)) == expected
    sub = shop.subscription()
    assert [(i["price_id"], i["quantity"]) for i in sub["items"]] == [(shop.basic, 1)]
    assert (sub["version"], len(shop.invoices())) == (2, 1)


def test_quantity_errors_name_the_bounds(portal, shop):
    shop.configure(allow_quantity_updates=True)
    response = portal.api("GET", sub_path(shop, "/preview?quantity=1001"))
    assert "1000" in response.get_json()["error"]["details"]["fields"]["quantity"]
    assert portal.ok("GET", sub_path(shop, "/preview?quantity=1000"))["amount_due_now"] > 0


def merchant_preview(shop, price: str, quantity: int, behavior: str, timing: str) -> dict:
    query = f"items={price}:{quantity}&proration_behavior={behavior}&charge_timing={timing}"
    return shop.merchant.ok("GET", f"/subscriptions/{shop.sub}/proration-preview?{query}")


@pytest.mark.parametrize("behavior", ["none", "prorate", "full_difference"])
@pytest.mark.parametrize("timing", ["immediately", "period_end"])
@pytest.mark.parametrize(("target", "quantity"), [("pro", 1), ("team", 1), ("basic", 3)])
def test_the_preview_is_the_merchant_preview_and_what_confirming_bills(
    portal, shop, clock, behavior, timing, target, quantity
):
    shop.configure(
        allow_plan_switch=True,
        allow_quantity_updates=True,
        subscription_proration_behavior=behavior,
        subscription_charge_timing=timing,
    )
    price = getattr(shop, target)
    preview = portal.ok("GET", sub_path(shop, f"/preview?price_id={price}&quantity={quantity}"))
    token = preview.pop("preview_token")
    assert preview == merchant_preview(shop, price, quantity, behavior, timing)
    body = {
        "price_id": price,
        "quantity": quantity,
        "expected_version": preview["subscription_version"],
        "preview_token": token,
    }
    changed = portal.ok("POST", sub_path(shop, "/change"), body)
    assert [(i["price_id"], i["quantity"]) for i in changed["items"]] == [(price, quantity)]
    assert changed["credit_balance"] == preview["credit_balance_after"]
    now = shop.invoices()[1:]
    if timing == "immediately" and preview["lines"]:
        assert [(i.amount_due, shop.amounts(i)) for i in now] == [
            (preview["amount_due_now"], [line["amount"] for line in preview["lines"]])
        ]
    else:
        assert now == [] and preview["amount_due_now"] == 0
    # The next invoice is the one the preview announced.
    clock.move_to(FEB1)
    run_billing()
    renewal = shop.invoices()[-1]
    assert (renewal.period_start.date(), renewal.amount_due) == (
        FEB1.date(),
        preview["next_invoice"]["amount"],
    )
    assert preview["next_invoice"]["date"] == "2026-02-01T00:00:00.000Z"


def test_a_stale_change_is_a_409_and_a_fresh_preview_works(portal, shop):
    shop.configure(allow_plan_switch=True)
    preview = portal.ok("GET", sub_path(shop, f"/preview?price_id={shop.pro}"))
    shop.merchant.ok("PATCH", f"/subscriptions/{shop.sub}", {"metadata": {"crm": "42"}})
    body = {"price_id": shop.pro, "expected_version": preview["subscription_version"]}
    stale = portal.api("POST", sub_path(shop, "/change"), body)
    assert portal.error(stale) == (409, "CONFLICT")
    assert stale.get_json()["error"]["details"] == {"expected_version": 2, "version": 3}
    assert shop.subscription()["items"][0]["price_id"] == shop.basic
    fresh = portal.ok("GET", sub_path(shop, f"/preview?price_id={shop.pro}"))
    # Same bill; the token is sealed to the new version, so the old one no longer confirms.
    assert fresh.pop("preview_token") != preview.pop("preview_token")
    assert fresh == {**preview, "subscription_version": 3}
    body["expected_version"] = 3
    assert portal.ok("POST", sub_path(shop, "/change"), body)["items"][0]["price_id"] == shop.pro


@pytest.mark.parametrize("version", [None, "2", 0, -1, 2**40])
def test_the_expected_version_is_required_and_checked(portal, shop, version):
    shop.configure(allow_quantity_updates=True)
    body = {"quantity": 2} if version is None else {"quantity": 2, "expected_version": version}
    status, _ = portal.error(portal.api("POST", sub_path(shop, "/change"), body))
    assert status in (409, 422)
    assert shop.subscription()["items"][0]["quantity"] == 1


def test_confirming_bills_the_instant_of_the_preview_not_the_moment_of_the_click(
    portal, shop, clock
):
    shop.configure(
        allow_plan_switch=True,
        allow_quantity_updates=True,
        subscription_proration_behavior="prorate",
    )
    preview = portal.ok("GET", sub_path(shop, f"/preview?price_id={shop.pro}&quantity=9"))
    clock.shift(timedelta(minutes=25))  # the customer reads the preview for a while
    body = {
        "price_id": shop.pro,
        "quantity": 9,
        "expected_version": preview["subscription_version"],
        "preview_token": preview["preview_token"],
    }
    later = portal.ok("GET", sub_path(shop, f"/preview?price_id={shop.pro}&quantity=9"))
    assert later["amount_due_now"] != preview["amount_due_now"]  # time did move the price
    portal.ok("POST", sub_path(shop, "/change"), body)
    assert shop.invoices()[-1].total == preview["amount_due_now"]


def test_a_forged_preview_token_bills_the_present_moment(portal, shop, clock):
    shop.configure(
        allow_plan_switch=True,
        allow_quantity_updates=True,
        subscription_proration_behavior="prorate",
    )
    preview = portal.ok("GET", sub_path(shop, f"/preview?price_id={shop.pro}&quantity=9"))
    clock.shift(timedelta(minutes=25))
    later = portal.ok("GET", sub_path(shop, f"/preview?price_id={shop.pro}&quantity=9"))
    body = {
        "price_id": shop.pro,
        "quantity": 9,
        "expected_version": preview["subscription_version"],
        "preview_token": preview["preview_token"][:-2] + "xx",
    }
    portal.ok("POST", sub_path(shop, "/change"), body)
    assert shop.invoices()[-1].total == later["amount_due_now"] != preview["amount_due_now"]


def test_an_old_preview_token_cannot_bill_a_change_at_its_earlier_instant(portal, shop, clock):
    """Raising the quantity with a fresh preview and lowering it with an older one would credit
    the time between the two previews without it ever having been paid for."""
    shop.configure(allow_quantity_updates=True, subscription_proration_behavior="prorate")
    lower_early = portal.ok("GET", sub_path(shop, "/preview?quantity=2"))
    clock.shift(timedelta(minutes=20))
    raise_now = portal.ok("GET", sub_path(shop, "/preview?quantity=9"))
    portal.ok(
        "POST",
        sub_path(shop, "/change"),
        {
            "quantity": 9,
            "expected_version": raise_now["subscription_version"],
            "preview_token": raise_now["preview_token"],
        },
    )
    invoices_before = [(i.id, i.total, i.status) for i in shop.invoices()]
    balance_before = shop.subscription()["credit_balance"]
    current = shop.subscription()["version"]
    replay = portal.api(
        "POST",
        sub_path(shop, "/change"),
        {
            "quantity": 2,
            "expected_version": current,
            "preview_token": lower_early["preview_token"],
        },
    )
    assert portal.error(replay) == (409, "CONFLICT")
    assert [(i.id, i.total, i.status) for i in shop.invoices()] == invoices_before
    assert shop.subscription()["credit_balance"] == balance_before
    assert shop.subscription()["items"][0]["quantity"] == 9


def test_a_declined_change_is_a_402_that_changes_nothing(portal, shop):
    shop.configure(allow_quantity_updates=True)
    good = shop.subscription()["instrument_id"] or shop.add_card()
    declining = shop.add_card(source="tok_chargeDeclined")
    shop.merchant.ok("PATCH", f"/subscriptions/{shop.sub}", {"instrument_id": declining})
    before = shop.subscription()
    preview = portal.ok("GET", sub_path(shop, "/preview?quantity=3"))
    body = {
        "quantity": 3,
        "expected_version": preview["subscription_version"],
        "preview_token": preview["preview_token"],
    }
    response = portal.api("POST", sub_path(shop, "/change"), body)
    assert portal.error(response) == (402, "PAYMENT_DECLINED")
    assert "Nothing was changed." in response.get_json()["error"]["message"]
    assert shop.subscription() == before and len(shop.invoices()) == 1
    changed = portal.ok("POST", sub_path(shop, "/change"), {**body, "payment_method_id": good})
    assert changed["items"][0]["quantity"] == 3 and changed["status"] == "active"
