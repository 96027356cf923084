"""Subscription lifecycle in a real browser: with ``downgrade_timing: period_end`` a cheaper
plan waits for the renewal (the customer keeps what they paid for, nothing is charged now,
the card shows the pending change until they call it off), while an upgrade still applies at
once; ``quantity_limits`` bound the quantity a customer may choose. JavaScript on and off.

Only the merchant API and the browser are used, so QA can aim these at a deployment.
"""

import re
from datetime import datetime, timedelta

import pytest
from browser_checks import watch
from playwright.sync_api import expect
from portal_steps import heading
from subscription_journeys import (
    card,
    cents,
    check_page,
    check_page_if_js,
    configure_lifecycle,
    day,
    expect_notice,
    fact,
    invoices,
    new_plan,
    open_subscriptions,
    subscribed_customer,
    subscription,
)


def summary(page, term: str):
    """A figure of the change preview (Due now, Next invoice)."""
    return page.locator(".facts > div", has=page.locator("dt", has_text=term)).locator("dd")


def preview_switch(page, current: str, target: str) -> None:
    card(page, current).get_by_role("link", name=f"Change plan for {current}").click()
    expect(heading(page, f"Change {current}")).to_be_visible()
    page.get_by_role("radio", name=target).check()
    page.get_by_role("button", name="Preview the change").click()
    expect(heading(page, "Review your change")).to_be_visible()


def invoice_ids(site, sub_id: str) -> list[str]:
    return [invoice["id"] for invoice in invoices(site, sub_id)]


def test_a_downgrade_waits_for_the_renewal_and_can_be_called_off(portal_page, js, merchant_site):
    page, site = portal_page, merchant_site
    configure_lifecycle(
        site,
        downgrade_timing="period_end",
        allow_plan_switch=True,
        subscription_proration_behavior="prorate",
        pause_enabled=True,
    )
    premium, basic = new_plan(site, "Premium", 6000), new_plan(site, "Basic", 4000)
    customer, sub = subscribed_customer(site, premium)
    ends = day(sub["current_period_end"])
    before = invoice_ids(site, sub["id"])
    problems = watch(page)
    open_subscriptions(page, site, customer["id"])

    preview_switch(page, "Premium", "Basic · $40.00 / month")
    expect(
        page.get_by_text(f"This change takes effect when your current period ends, on {ends}.")
    ).to_be_visible()
    expect(page.get_by_text("nothing is charged or credited now")).to_be_visible()
    expect(page.get_by_role("table")).to_have_count(0)  # no proration lines
    assert cents(summary(page, "Due now").inner_text()) == 0
    expect(summary(page, "Next invoice")).to_have_text(f"$40.00 on {ends}")
    expect(page.get_by_role("button", name=re.compile("pay"))).to_have_count(0)
    check_page_if_js(page, js)
    page.get_by_role("button", name="Schedule the change").click()

    expect(heading(page, "Subscriptions")).to_be_visible()
    # Still on the plan paid for; the cheaper one is pending, and bills the next invoice.
    plan = card(page, "Premium")
    expect(fact(plan, "Plan")).to_have_text("Premium · $60.00 / month")
    expect(fact(plan, "Pending change")).to_have_text(
        f"Basic · $40.00 / month, quantity 1, from {ends}"
    )
    expect(fact(plan, "Next invoice")).to_have_text(f"$40.00 on {ends}")
    # A pause would skip the renewal the change waits for: not offered meanwhile.
    expect(plan.get_by_role("link", name=re.compile("^Pause"))).to_have_count(0)
    check_page_if_js(page, js)

    scheduled = subscription(site, sub["id"])
    assert scheduled["items"][0]["price_id"] == premium["id"]
    assert scheduled["scheduled_change"] == {
        "items": [{"price_id": basic["id"], "quantity": 1}],
        "effective_at": sub["current_period_end"],
    }
    assert invoice_ids(site, sub["id"]) == before, "scheduling a downgrade must charge nothing"

    plan.get_by_role("button", name="Cancel the pending change Premium").click()
    expect_notice(page, "The pending change is canceled: your plan renews as it is.")
    plan = card(page, "Premium")
    expect(fact(plan, "Pending change")).to_have_count(0)
    expect(fact(plan, "Plan")).to_have_text("Premium · $60.00 / month")
    expect(fact(plan, "Next invoice")).to_have_text(f"$60.00 on {ends}")
    expect(plan.get_by_role("button", name=re.compile("pending change"))).to_have_count(0)
    expect(plan.get_by_role("link", name="Pause subscription Premium")).to_be_visible()
    check_page_if_js(page, js)

    kept = subscription(site, sub["id"])
    assert kept["scheduled_change"] is None
    assert kept["items"][0]["price_id"] == premium["id"] and kept["status"] == "active"
    assert invoice_ids(site, sub["id"]) == before
    problems.assert_clean()


def test_a_scheduled_downgrade_takes_over_at_the_renewal(page, merchant_site, billing_clock):
    site = merchant_site
    configure_lifecycle(site, downgrade_timing="period_end", allow_plan_switch=True)
    premium, basic = new_plan(site, "Premium", 6000), new_plan(site, "Basic", 4000)
    customer, sub = subscribed_customer(site, premium)
    problems = watch(page)
    open_subscriptions(page, site, customer["id"])
    preview_switch(page, "Premium", "Basic · $40.00 / month")
    page.get_by_role("button", name="Schedule the change").click()
    expect(fact(card(page, "Premium"), "Pending change")).to_be_visible()
    before = invoice_ids(site, sub["id"])

    renewal = datetime.fromisoformat(sub["current_period_end"].replace("Z", "+00:00"))
    billing_clock(renewal.replace(tzinfo=None) + timedelta(minutes=1))

    renewed = subscription(site, sub["id"])
    assert renewed["items"][0]["price_id"] == basic["id"]
    assert renewed["scheduled_change"] is None and renewed["status"] == "active"
    newest = invoices(site, sub["id"])[0]
    assert newest["id"] not in before
    assert newest["total"] == 4000 and newest["amount_paid"] == 4000
    assert [line["price_id"] for line in newest["items"]] == [basic["id"]]
    assert not any(line["proration"] for line in newest["items"])

    page.reload()
    plan = card(page, "Basic")
    expect(fact(plan, "Plan")).to_have_text("Basic · $40.00 / month")
    expect(fact(plan, "Pending change")).to_have_count(0)
    expect(fact(plan, "Next invoice")).to_have_text(
        f"$40.00 on {day(renewed['current_period_end'])}"
    )
    problems.assert_clean()


def test_an_upgrade_still_applies_at_once(portal_page, js, merchant_site):
    page, site = portal_page, merchant_site
    configure_lifecycle(
        site,
        downgrade_timing="period_end",
        allow_plan_switch=True,
        subscription_proration_behavior="full_difference",
    )
    basic, premium = new_plan(site, "Basic", 4000), new_plan(site, "Premium", 6000)
    customer, sub = subscribed_customer(site, basic)
    ends = day(sub["current_period_end"])
    before = invoice_ids(site, sub["id"])
    problems = watch(page)
    open_subscriptions(page, site, customer["id"])

    preview_switch(page, "Basic", "Premium · $60.00 / month")
    expect(
        page.get_by_text("This change takes effect when your current period ends")
    ).to_have_count(0)
    assert cents(summary(page, "Due now").inner_text()) == 2000
    expect(summary(page, "Next invoice")).to_have_text(f"$60.00 on {ends}")
    check_page_if_js(page, js)
    page.get_by_role("button", name="Confirm change and pay $20.00").click()

    expect_notice(page, "Your plan has been updated.")
    plan = card(page, "Premium")
    expect(fact(plan, "Plan")).to_have_text("Premium · $60.00 / month")
    expect(fact(plan, "Pending change")).to_have_count(0)
    expect(fact(plan, "Next invoice")).to_have_text(f"$60.00 on {ends}")
    check_page_if_js(page, js)

    upgraded = subscription(site, sub["id"])
    assert upgraded["items"][0]["price_id"] == premium["id"]
    assert upgraded["scheduled_change"] is None
    after = invoices(site, sub["id"])
    assert len(after) == len(before) + 1
    assert after[0]["total"] == 2000 and after[0]["amount_paid"] == 2000
    problems.assert_clean()


def test_an_upgrade_replaces_a_pending_downgrade(page, merchant_site):
    site = merchant_site
    configure_lifecycle(
        site,
        downgrade_timing="period_end",
        allow_plan_switch=True,
        subscription_proration_behavior="full_difference",
    )
    standard = new_plan(site, "Standard", 4000)
    new_plan(site, "Basic", 2000)
    premium = new_plan(site, "Premium", 6000)
    customer, sub = subscribed_customer(site, standard)
    problems = watch(page)
    open_subscriptions(page, site, customer["id"])
    preview_switch(page, "Standard", "Basic · $20.00 / month")
    page.get_by_role("button", name="Schedule the change").click()
    expect(fact(card(page, "Standard"), "Pending change")).to_contain_text("Basic · $20.00")

    preview_switch(page, "Standard", "Premium · $60.00 / month")
    page.get_by_role("button", name="Confirm change and pay $20.00").click()
    plan = card(page, "Premium")
    expect(fact(plan, "Plan")).to_have_text("Premium · $60.00 / month")
    expect(fact(plan, "Pending change")).to_have_count(0)
    expect(fact(plan, "Next invoice")).to_contain_text("$60.00 on")
    check_page(page)
    changed = subscription(site, sub["id"])
    assert changed["items"][0]["price_id"] == premium["id"]
    assert changed["scheduled_change"] is None
    problems.assert_clean()


def test_a_quantity_over_the_limit_is_refused(portal_page, js, merchant_site):
    page, site = portal_page, merchant_site
    seats = new_plan(site, "Seats", 1000)
    configure_lifecycle(
        site,
        allow_quantity_updates=True,
        quantity_limits=[{"product_id": seats["product_id"], "maximum": 5}],
    )
    customer, sub = subscribed_customer(site, seats, quantity=2)
    before = invoice_ids(site, sub["id"])
    problems = watch(page)
    open_subscriptions(page, site, customer["id"])

    card(page, "Seats").get_by_role("link", name="Change plan for Seats").click()
    expect(heading(page, "Change Seats")).to_be_visible()
    quantity = page.get_by_label("Quantity")
    expect(quantity).to_have_value("2")
    expect(quantity).to_have_accessible_description("From 1 to 5.")
    expect(quantity).to_have_attribute("max", "5")
    check_page_if_js(page, js)

    # The browser holds the form back itself: the field says what it takes.
    quantity.fill("6")
    page.get_by_role("button", name="Preview the change").click()
    expect(heading(page, "Change Seats")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/change$"))
    if js:
        assert quantity.evaluate("field => field.validity.rangeOverflow")

    # The portal refuses it too (an old tab, a hand-edited address): back to the form, with why.
    page.goto(f"/portal/subscriptions/{sub['id']}/change/preview?quantity=6")
    expect(heading(page, "Change Seats")).to_be_visible()
    # to_contain_text: the page prefixes the field's name today ("quantity: Choose …").
    expect(page.locator("#flash .alert")).to_contain_text("Choose a quantity from 1 to 5.")
    expect(page.get_by_label("Quantity")).to_have_value("2")
    check_page_if_js(page, js)

    unchanged = subscription(site, sub["id"])
    assert unchanged["items"][0]["quantity"] == 2 and unchanged["scheduled_change"] is None
    assert invoice_ids(site, sub["id"]) == before

    # Within the limit it goes through: the limit is the merchant's, not a dead end.
    page.get_by_label("Quantity").fill("5")
    page.get_by_role("button", name="Preview the change").click()
    expect(heading(page, "Review your change")).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Confirm change")).click()
    expect(fact(card(page, "Seats"), "Quantity")).to_have_text("5")
    assert subscription(site, sub["id"])["items"][0]["quantity"] == 5
    problems.assert_clean()


@pytest.mark.parametrize("js", [True], ids=["js"])
def test_a_downgrade_by_quantity_also_waits_for_the_renewal(portal_page, merchant_site):
    """Fewer units cost less per year: a downgrade too, under the same rule."""
    page, site = portal_page, merchant_site
    seats = new_plan(site, "Seats", 1000)
    configure_lifecycle(site, downgrade_timing="period_end", allow_quantity_updates=True)
    customer, sub = subscribed_customer(site, seats, quantity=4)
    ends = day(sub["current_period_end"])
    before = invoice_ids(site, sub["id"])
    problems = watch(page)
    open_subscriptions(page, site, customer["id"])

    card(page, "Seats").get_by_role("link", name="Change plan for Seats").click()
    page.get_by_label("Quantity").fill("1")
    page.get_by_role("button", name="Preview the change").click()
    expect(
        page.get_by_text(f"This change takes effect when your current period ends, on {ends}.")
    ).to_be_visible()
    expect(summary(page, "Next invoice")).to_have_text(f"$10.00 on {ends}")
    page.get_by_role("button", name="Schedule the change").click()

    seats_card = card(page, "Seats")
    expect(fact(seats_card, "Quantity")).to_have_text("4")
    expect(fact(seats_card, "Pending change")).to_have_text(
        f"Seats · $10.00 / month, quantity 1, from {ends}"
    )
    check_page(page)
    later = subscription(site, sub["id"])
    assert later["items"][0]["quantity"] == 4
    assert later["scheduled_change"]["items"] == [{"price_id": seats["id"], "quantity": 1}]
    assert invoice_ids(site, sub["id"]) == before
    problems.assert_clean()
