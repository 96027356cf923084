"""The hosted pages for pausing, resuming, downgrades that wait for the renewal and
quantity limits: plain form posts (each acted on once), the same rules as the JSON API.
The subscription started on JAN1 (periods end on the 1st); the customer signed in on JAN11."""

from datetime import UTC, datetime

import pytest

from portal.billing.runner import run_billing

LIST = "/portal/subscriptions"
MAR1 = datetime(2026, 3, 1, tzinfo=UTC)


def sub_path(sub_id: str, action: str = "") -> str:
    return f"{LIST}/{sub_id}{action}"


def test_without_pausing_on_there_is_no_pause_button_or_page(portal, shop):
    assert "Pause subscription" not in portal.text(portal.get(LIST))
    assert portal.get(sub_path(shop.sub, "/pause")).status_code == 404
    refused = portal.post(sub_path(shop.sub, "/pause"), follow=True, periods="1")
    assert "Pausing is turned off for this portal." in portal.text(refused)
    assert shop.subscription()["pause_collection"] is None


def test_pausing_for_two_periods_shows_the_next_charge_and_resuming_is_one_click(portal, shop):
    shop.configure(pause_enabled=True, pause_max_periods=2)
    page = portal.get(LIST)
    assert "Pause subscription" in portal.text(page)
    choose = portal.get(sub_path(shop.sub, "/pause"))
    text = portal.text(choose)
    assert "1 billing period: your next charge is on Mar 1, 2026" in text
    assert "2 billing periods: your next charge is on Apr 1, 2026" in text
    done = portal.submit(choose, "/pause", follow=True, periods=2)
    assert "Your subscription is paused. Your next charge is on Apr 1, 2026." in portal.text(done)
    listed = portal.text(portal.get(LIST))
    assert "Paused Until Apr 1, 2026: you are not charged until then." in listed
    assert "Next charge $10.00 on Apr 1, 2026" in listed
    assert shop.subscription()["pause_collection"]["resumes_at"] == "2026-04-01T00:00:00.000Z"
    again = portal.submit(choose, "/pause", follow=True, periods=2)  # the same form twice
    assert again.status_code == 200 and shop.subscription()["version"] == 3
    resumed = portal.submit(portal.get(LIST), "/resume", follow=True)
    assert "Your subscription is active again." in portal.text(resumed)
    assert shop.subscription()["status"] == "active"
    assert shop.subscription()["pause_collection"] is None


def test_a_paused_period_is_not_charged_and_the_resume_date_is(portal, shop, clock):
    shop.configure(pause_enabled=True)
    portal.submit(portal.get(sub_path(shop.sub, "/pause")), "/pause", periods=1)
    invoices = len(shop.invoices())
    clock.move_to(datetime(2026, 2, 1, tzinfo=UTC))
    run_billing()
    assert len(shop.invoices()) == invoices  # February is skipped
    clock.move_to(MAR1)
    run_billing()
    assert shop.subscription()["status"] == "active"
    assert [i.amount_due for i in shop.invoices()[invoices:]] == [1000]


@pytest.mark.parametrize("periods", ["\u00b2", "\u0661", "", "x"])
def test_a_pause_length_that_is_not_a_number_is_refused_clearly(portal, shop, periods):
    shop.configure(pause_enabled=True)
    choose = portal.get(sub_path(shop.sub, "/pause"))
    refused = portal.submit(choose, "/pause", follow=True, periods=periods)
    assert refused.status_code == 200
    shown = portal.text(refused)
    assert "Choose 1 to 3 billing periods." in shown and "periods:" not in shown
    assert shop.subscription()["status"] == "active"


def test_the_overview_tells_when_a_paused_subscription_is_charged_next(portal, shop):
    shop.configure(pause_enabled=True)
    portal.submit(portal.get(sub_path(shop.sub, "/pause")), "/pause", periods=1)
    home = portal.text(portal.get("/portal"))
    assert "Paused: your next charge is on Mar 1, 2026" in home and "for $10.00" in home
    assert "Renews on" not in home


def test_a_merchants_resume_date_inside_a_period_charges_at_that_periods_end(portal, shop):
    body = {"behavior": "void", "resumes_at": "2026-02-15T00:00:00Z"}
    shop.merchant.ok("POST", f"/subscriptions/{shop.sub}/pause", body)
    listed = portal.text(portal.get(LIST))
    assert "Until Feb 15, 2026: you are not charged until then." in listed
    # Feb 1 is skipped; collection resumes on Feb 15, so Mar 1 is the first charge.
    assert "Next charge $10.00 on Mar 1, 2026" in listed
    assert "Resume now" not in listed  # the merchant's pause, not the customer's


def test_a_used_up_pause_says_when_pausing_is_possible_again(portal, shop, clock, open_portal):
    shop.configure(pause_enabled=True, pause_max_periods=1)
    portal.submit(portal.get(sub_path(shop.sub, "/pause")), "/pause", periods=1)
    clock.move_to(datetime(2026, 2, 2, tzinfo=UTC))
    run_billing()
    portal = open_portal(shop.merchant, shop.customer)
    portal.submit(portal.get(LIST), "/resume")
    answer = portal.get(sub_path(shop.sub, "/pause"), follow=True)
    assert "You can pause again after your next charge." in portal.text(answer)
    assert shop.subscription()["status"] == "active"


def test_a_downgrade_at_the_renewal_shows_as_pending_and_can_be_cancelled(portal, shop):
    shop.configure(downgrade_timing="period_end", allow_plan_switch=True)
    shop.merchant.ok(
        "PATCH", f"/subscriptions/{shop.sub}", {"items": [{"price_id": shop.pro, "quantity": 1}]}
    )
    preview = portal.preview_page(shop.sub, price_id=shop.team)
    text = portal.text(preview)
    assert "This change takes effect when your current period ends, on Feb 1, 2026." in text
    assert "Next invoice $20.00 on Feb 1, 2026" in text and "Due now $0.00" in text
    assert any("Schedule the change" in b for f in portal.forms(preview) for b in f.buttons)
    done = portal.submit(preview, "/change", follow=True)
    listed = portal.text(done)
    assert "Your plan changes on Feb 1, 2026, when your current period ends." in listed
    assert "Your plan has been updated." not in listed
    assert "Pending change Team · $20.00 / month, quantity 1, from Feb 1, 2026" in listed
    assert "Next invoice $20.00 on Feb 1, 2026" in listed
    assert shop.subscription()["items"][0]["price_id"] == shop.pro
    kept = portal.submit(portal.get(LIST), "/scheduled-change/cancel", follow=True)
    assert "The pending change is canceled: your plan renews as it is." in portal.text(kept)
    assert shop.subscription()["scheduled_change"] is None
    assert "Pending change" not in portal.text(portal.get(LIST))


def test_the_quantity_field_states_the_products_limits_and_a_value_outside_is_refused(portal, shop):
    limit = {"product_id": shop.basic_product, "minimum": 2, "maximum": 8}
    shop.configure(allow_quantity_updates=True, quantity_limits=[limit])
    html = portal.get(sub_path(shop.sub, "/change")).get_data(as_text=True)
    assert 'min="2" max="8"' in html and "From 2 to 8." in html
    refused = portal.get(sub_path(shop.sub, "/change/preview"), follow=True, quantity="9")
    assert "Choose a quantity from 2 to 8." in portal.text(refused)
    assert shop.subscription()["items"][0]["quantity"] == 1


def ended(shop) -> None:
    shop.merchant.ok("DELETE", f"/subscriptions/{shop.sub}")
    assert shop.subscription()["status"] == "canceled"


def subscriptions_of(shop) -> list[dict]:
    return shop.merchant.ok("GET", f"/customer/{shop.customer}/subscriptions")["data"]


def test_an_ended_subscription_starts_again_with_one_charge(portal, shop):
    ended(shop)
    listed = portal.get(LIST)
    assert "Start again" in portal.text(listed)
    choose = portal.get(sub_path(shop.sub, "/resubscribe"))
    assert "Basic · $10.00 / month (your plan)" in portal.text(choose)
    preview = portal.get(sub_path(shop.sub, "/resubscribe/preview"), price_id=shop.basic)
    text = portal.text(preview)
    assert "A new subscription starts today. Its first period, until Feb 11, 2026" in text
    assert "Due now $10.00" in text and "Paid with Visa" in text
    done = portal.submit(preview, "/resubscribe", follow=True)
    assert "Welcome back! Your subscription is running again." in portal.text(done)
    again = portal.submit(preview, "/resubscribe", follow=True)  # the same form twice
    assert again.status_code == 200
    live = [s for s in subscriptions_of(shop) if s["status"] == "active"]
    assert len(live) == 1 and live[0]["id"] != shop.sub
    (charged,) = [i for i in shop.invoices(live[0]["id"]) if i.status == "PAID"]
    assert charged.amount_paid == 1000
    assert "Start again" not in portal.text(portal.get(LIST))  # restarted once, from here
    back = portal.get(sub_path(shop.sub, "/resubscribe"), follow=True)  # the Back button
    assert back.status_code == 200
    assert "This subscription was already started again." in portal.text(back)


def test_a_declined_restart_creates_nothing_and_says_why(portal, shop):
    ended(shop)
    for method in shop.merchant.ok("GET", f"/customer/{shop.customer}/instruments"):
        shop.merchant.ok("PATCH", f"/payment/{method['id']}", {"enabled": False})
    shop.add_card(source="tok_chargeDeclined")
    preview = portal.get(sub_path(shop.sub, "/resubscribe/preview"))
    refused = portal.submit(preview, "/resubscribe")
    assert refused.status_code == 402
    assert "Your card was declined." in portal.text(refused)
    assert [s["status"] for s in subscriptions_of(shop)] == ["canceled"]


def test_a_subscription_set_to_end_can_be_kept_on_another_plan(portal, shop):
    shop.configure(allow_plan_switch=True)
    shop.merchant.ok("DELETE", f"/subscriptions/{shop.sub}?at_period_end=true")
    listed = portal.text(portal.get(LIST))
    assert "Keep my subscription" in listed and "Keep it on another plan" in listed
    preview = portal.get(sub_path(shop.sub, "/resubscribe/preview"), price_id=shop.pro)
    assert "Your cancellation is withdrawn and your plan changes." in portal.text(preview)
    portal.submit(preview, "/resubscribe", follow=True)
    sub = shop.subscription()
    assert sub["cancel_at_period_end"] is False and sub["items"][0]["price_id"] == shop.pro
