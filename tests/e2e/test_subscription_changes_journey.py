"""Issue 5 in a real browser: switching plan and changing quantity, where the preview's
"Due now" must be exactly what the invoice created by the confirmation bills.

Prices are monthly, so the seconds between preview and confirm move no amount by a cent.
"""

import pytest
from browser_checks import watch
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


def due_now(page) -> int:
    return cents(page.locator(".facts > div", has_text="Due now").locator("dd").inner_text())


def confirm_change(page) -> None:
    page.get_by_role("button", name="Confirm change").click()
    expect_notice(page, "Your plan has been updated.")


# behaviour → (amount due now, proration lines on the invoice made now) for $40 → $60
# a few seconds into the period: prorating credits $40.00 and charges $60.00 of time left.
SWITCHES = {
    "none": (0, None),
    "prorate": (2000, [-4000, 6000]),
    "full_difference": (2000, [2000]),
}


@pytest.mark.parametrize("behavior", sorted(SWITCHES))
def test_plan_switch_bills_what_the_preview_showed(page, merchant_site, behavior):
    site = merchant_site
    configure(site, allow_plan_switch=True, subscription_proration_behavior=behavior)
    basic, premium = new_plan(site, "Basic", 4000), new_plan(site, "Premium", 6000)
    customer, sub = subscribed_customer(site, basic)
    before = invoices(site, sub["id"])
    problems = watch(page)
    open_subscriptions(page, site, customer["id"])

    card(page, "Basic").get_by_role("link", name="Change plan for Basic").click()
    expect(heading(page, "Change Basic")).to_be_visible()
    check_page(page)
    page.get_by_role("radio", name="Premium · $60.00 / month").check()
    page.get_by_role("button", name="Preview the change").click()

    expect(heading(page, "Review your change")).to_be_visible()
    shown = due_now(page)
    expected_due, expected_lines = SWITCHES[behavior]
    assert shown == expected_due
    ends = day(sub["current_period_end"])
    next_invoice = page.locator(".facts > div", has_text="Next invoice").locator("dd")
    expect(next_invoice).to_have_text(f"$60.00 on {ends}")
    check_page(page)
    confirm_change(page)

    expect(fact(card(page, "Premium"), "Plan")).to_have_text("Premium · $60.00 / month")
    after = invoices(site, sub["id"])
    if expected_lines is None:
        assert [i["id"] for i in after] == [i["id"] for i in before], "no invoice expected"
    else:
        newest = after[0]
        assert len(after) == len(before) + 1
        assert newest["total"] == shown and newest["amount_paid"] == shown
        assert [line["amount"] for line in newest["items"]] == expected_lines
    assert subscription(site, sub["id"])["items"][0]["price_id"] == premium["id"]
    problems.assert_clean()


def test_change_quantity_from_one_to_three(page, merchant_site):
    site = merchant_site
    configure(site, allow_quantity_updates=True, subscription_proration_behavior="prorate")
    seats = new_plan(site, "Seats", 4000)
    customer, sub = subscribed_customer(site, seats)
    before = invoices(site, sub["id"])
    problems = watch(page)
    open_subscriptions(page, site, customer["id"])

    card(page, "Seats").get_by_role("link", name="Change plan for Seats").click()
    expect(heading(page, "Change Seats")).to_be_visible()
    expect(page.get_by_role("radio")).to_have_count(0)  # switching plans is not allowed
    quantity = page.get_by_label("Quantity")
    expect(quantity).to_have_value("1")
    expect(quantity).to_have_accessible_description("From 1 to 1000.")
    quantity.fill("3")
    page.get_by_role("button", name="Preview the change").click()

    expect(heading(page, "Review your change")).to_be_visible()
    shown = due_now(page)
    assert shown == 8000  # $40.00 of unused time credited, three seats' time charged
    expect(page.get_by_role("button", name="Confirm change and pay $80.00")).to_be_visible()
    check_page(page)
    confirm_change(page)

    expect(fact(card(page, "Seats"), "Quantity")).to_have_text("3")
    expect(fact(card(page, "Seats"), "Next invoice")).to_contain_text("$120.00 on")
    assert subscription(site, sub["id"])["items"][0]["quantity"] == 3
    after = invoices(site, sub["id"])
    assert len(after) == len(before) + 1 and after[0]["total"] == shown
    problems.assert_clean()


def test_a_stale_preview_is_shown_again_instead_of_charging(page, merchant_site):
    """The merchant changes the subscription while the customer reads the preview."""
    site = merchant_site
    configure(site, allow_plan_switch=True, subscription_proration_behavior="full_difference")
    basic = new_plan(site, "Basic", 4000)
    new_plan(site, "Premium", 6000)
    customer, sub = subscribed_customer(site, basic)
    before = invoices(site, sub["id"])
    problems = watch(page)
    open_subscriptions(page, site, customer["id"])
    card(page, "Basic").get_by_role("link", name="Change plan for Basic").click()
    page.get_by_role("radio", name="Premium · $60.00 / month").check()
    page.get_by_role("button", name="Preview the change").click()
    expect(heading(page, "Review your change")).to_be_visible()

    site.call("PATCH", f"/subscriptions/{sub['id']}", {"metadata": {"note": "edited"}})
    page.get_by_role("button", name="Confirm change and pay $20.00").click()

    expect(heading(page, "Review your change")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Here is the updated preview.")
    assert len(invoices(site, sub["id"])) == len(before)
    assert subscription(site, sub["id"])["items"][0]["price_id"] == basic["id"]
    check_page(page)

    confirm_change(page)  # the fresh preview confirms
    expect(fact(card(page, "Premium"), "Plan")).to_have_text("Premium · $60.00 / month")
    assert invoices(site, sub["id"])[0]["total"] == 2000
    problems.assert_clean()
