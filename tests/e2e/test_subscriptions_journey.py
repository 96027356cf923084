"""Issue 5 in a real browser: cancelling, retaining and locking down subscriptions.

Each journey sets the portal config it needs and builds its own plan, customer, card and
subscription through the merchant API; the plan changes are in test_subscription_changes_journey.
"""

import re

import httpx
from browser_checks import watch
from builders import make_coupon, portal_session_token
from playwright.sync_api import expect
from portal_steps import heading
from subscription_journeys import (
    card,
    cents,
    check_page,
    configure,
    day,
    expect_notice,
    fact,
    invoices,
    new_plan,
    open_subscriptions,
    subscribed_customer,
    subscription,
)

CREDIT = re.compile(r"You'll receive a credit of (\S+) for the unused time, used by your next")


def start_cancelling(page, name: str) -> None:
    card(page, name).get_by_role("link", name=f"Cancel subscription {name}").click()


def test_cancel_now_issues_the_credit_the_confirmation_showed(page, merchant_site):
    site = merchant_site
    configure(site, cancellation_mode="immediately", cancellation_proration_enabled=True)
    price = new_plan(site, "Studio", 4000)
    customer, sub = subscribed_customer(site, price)
    problems = watch(page)
    open_subscriptions(page, site, customer["id"])
    check_page(page)

    start_cancelling(page, "Studio")
    expect(heading(page, "Confirm cancellation")).to_be_visible()
    expect(page.get_by_text("Your subscription ends now.")).to_be_visible()
    shown_text = CREDIT.search(page.locator("main").inner_text()).group(1)
    shown = cents(shown_text)
    assert 0 < shown <= 4000
    check_page(page)

    page.get_by_role("button", name="Cancel now").click()
    expect_notice(page, "Your subscription has ended.")
    studio = card(page, "Studio")
    expect(fact(studio, "Status")).to_have_text("Canceled")
    expect(fact(studio, "Ended")).to_be_visible()
    # An ended subscription can only be started again: nothing left to change or cancel.
    expect(studio.get_by_role("link")).to_have_text(["Start again Studio"])

    assert subscription(site, sub["id"])["status"] == "canceled"
    credit_lines = [
        line
        for invoice in invoices(site, sub["id"])
        for line in invoice["items"]
        if line["proration"] and line["amount"] < 0
    ]
    assert [line["amount"] for line in credit_lines] == [-shown]
    # The credit is the customer's now: the overview shows it, ready for the next invoice.
    page.get_by_role("link", name="Overview").click()
    expect(page.get_by_text(f"Credit: {shown_text}")).to_be_visible()
    check_page(page)
    problems.assert_clean()


def test_cancel_at_period_end_then_keep_the_subscription(page, merchant_site):
    site = merchant_site
    configure(site, cancellation_mode="end_of_period")
    price = new_plan(site, "Studio", 4000)
    customer, sub = subscribed_customer(site, price)
    ends = day(sub["current_period_end"])
    problems = watch(page)
    open_subscriptions(page, site, customer["id"])

    start_cancelling(page, "Studio")
    expect(heading(page, "Confirm cancellation")).to_be_visible()
    expect(
        page.get_by_text(f"Your subscription stays active until {ends}, then ends.")
    ).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="Cancel at period end").click()

    expect_notice(page, f"Your subscription stays active until {ends}, then ends.")
    studio = card(page, "Studio")
    expect(fact(studio, "Ends on")).to_have_text(ends)
    expect(fact(studio, "Status")).to_have_text("Active")
    assert subscription(site, sub["id"])["cancel_at_period_end"] is True
    check_page(page)

    studio.get_by_role("button", name="Keep my subscription").click()
    expect_notice(page, "Your subscription will continue.")
    studio = card(page, "Studio")
    expect(fact(studio, "Next invoice")).to_have_text(f"$40.00 on {ends}")
    expect(fact(studio, "Ends on")).to_have_count(0)
    kept = subscription(site, sub["id"])
    assert kept["cancel_at_period_end"] is False and kept["status"] == "active"
    problems.assert_clean()


def test_accepting_the_retention_offer_discounts_instead_of_cancelling(page, merchant_site):
    site = merchant_site
    coupon = make_coupon(
        site, "Stay 20", duration="repeating", duration_in_months=3, percent_off=20
    )
    configure(site, retention_coupon_id=coupon["id"], cancellation_mode="immediately")
    price = new_plan(site, "Studio", 4000)
    customer, sub = subscribed_customer(site, price)
    problems = watch(page)
    open_subscriptions(page, site, customer["id"])
    expect(fact(card(page, "Studio"), "Next invoice")).to_contain_text("$40.00 on")

    start_cancelling(page, "Studio")
    expect(heading(page, "Before you go")).to_be_visible()
    expect(page.get_by_role("heading", name="Stay and get 20% off for 3 months")).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="Stay and get 20% off for 3 months").click()

    expect_notice(page, "Offer applied.")
    studio = card(page, "Studio")
    expect(fact(studio, "Discount")).to_have_text("Stay 20")
    expect(fact(studio, "Next invoice")).to_contain_text("$32.00 on")
    expect(fact(studio, "Status")).to_have_text("Active")

    kept = subscription(site, sub["id"])
    assert kept["status"] == "active"
    assert kept["cancel_at_period_end"] is False and kept["canceled_at"] is None
    assert kept["discount"]["coupon_id"] == coupon["id"]
    problems.assert_clean()


def test_the_chosen_reason_and_comment_reach_the_merchant(page, merchant_site):
    site = merchant_site
    reasons = ["Too pricey", "Found a cheaper tool", "Project finished"]
    configure(site, cancellation_reasons_enabled=True, cancellation_reasons=reasons)
    price = new_plan(site, "Studio", 4000)
    customer, sub = subscribed_customer(site, price)
    problems = watch(page)
    open_subscriptions(page, site, customer["id"])

    start_cancelling(page, "Studio")
    expect(heading(page, "Why are you cancelling?")).to_be_visible()
    for reason in reasons:
        expect(page.get_by_role("radio", name=reason)).to_be_visible()
    check_page(page)
    page.get_by_role("radio", name="Found a cheaper tool").check()
    page.get_by_label("Anything else? (optional)").fill("Half the price & same features")
    page.get_by_role("button", name="Continue").click()

    expect(heading(page, "Confirm cancellation")).to_be_visible()
    page.get_by_role("button", name="Cancel at period end").click()
    expect(fact(card(page, "Studio"), "Ends on")).to_be_visible()

    assert subscription(site, sub["id"])["cancellation_details"] == {
        "reason": "Found a cheaper tool",
        "comment": "Half the price & same features",
    }
    problems.assert_clean()


def test_a_product_outside_the_allowed_list_can_still_be_cancelled(page, merchant_site):
    """The product list limits what customers can switch to; it never hides Cancel."""
    site = merchant_site
    other = new_plan(site, "Team", 9000)
    configure(
        site,
        subscription_product_ids=[other["product_id"]],
        allow_plan_switch=True,
        allow_quantity_updates=True,
        cancellation_mode="end_of_period",
    )
    price = new_plan(site, "Studio", 4000)
    customer, sub = subscribed_customer(site, price)
    problems = watch(page)
    open_subscriptions(page, site, customer["id"])

    studio = card(page, "Studio")
    expect(studio.get_by_role("link", name="Change plan")).to_be_visible()
    check_page(page)
    start_cancelling(page, "Studio")
    expect(heading(page, "Confirm cancellation")).to_be_visible()
    page.get_by_role("button", name="Cancel at period end").click()
    expect(fact(card(page, "Studio"), "Ends on")).to_have_text(day(sub["current_period_end"]))
    assert subscription(site, sub["id"])["cancel_at_period_end"] is True
    problems.assert_clean()


def test_with_cancellations_off_there_is_no_cancel_button_and_the_api_refuses(page, merchant_site):
    site = merchant_site
    configure(site, cancellations_enabled=False, allow_plan_switch=True)
    price = new_plan(site, "Studio", 4000)
    new_plan(site, "Studio Plus", 6000)
    customer, sub = subscribed_customer(site, price)
    problems = watch(page)
    open_subscriptions(page, site, customer["id"])

    studio = card(page, "Studio")
    expect(studio.get_by_role("link", name="Change plan for Studio")).to_be_visible()
    expect(studio.get_by_role("link", name=re.compile("Cancel"))).to_have_count(0)
    expect(studio.get_by_role("button", name=re.compile("Cancel"))).to_have_count(0)
    assert page.goto(f"/portal/subscriptions/{sub['id']}/cancel").status == 404

    token = portal_session_token(site, customer["id"], destination="home")
    refused = httpx.post(
        f"{site.url}/v1/api/customer-portal/subscriptions/{sub['id']}/cancel",
        json={},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "FEATURE_DISABLED"
    after = subscription(site, sub["id"])
    assert after["status"] == "active" and after["cancel_at_period_end"] is False
    problems.assert_clean()
