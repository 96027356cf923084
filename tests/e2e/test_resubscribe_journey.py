"""Starting a subscription again in a real browser: one that ended starts anew (its first
period charged once, however often the confirmation is sent), one set to end is kept on
another plan, the merchant can turn the offer off, and a declined card creates nothing.

Each journey sets the portal config it needs and builds its plans, customer, card and
subscription through the merchant API; only the merchant API and the browser are used.
Prices are monthly, so the seconds between preview and confirm move no amount by a cent.
"""

import re

import httpx
from browser_checks import watch
from builders import add_payment_method, portal_session_token
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

WELCOME_BACK = "Welcome back! Your subscription is running again."
# A second confirmation of a restart already done, from a preview loaded before it.
REFUSED_AGAIN = re.compile("already started again|changed since it was loaded")


def configure_restart(site, **settings) -> dict:
    return configure_lifecycle(site, **{"allow_plan_switch": True, **settings})


def end_now(site, sub_id: str) -> dict:
    """The merchant cancels the subscription at once (no credit for the unused time)."""
    return site.call("DELETE", f"/subscriptions/{sub_id}?at_period_end=false")


def end_at_period_end(site, sub_id: str) -> dict:
    return site.call("DELETE", f"/subscriptions/{sub_id}?at_period_end=true")


def customer_subscriptions(site, customer_id: str) -> list[dict]:
    return site.call("GET", f"/subscriptions?identity_id={customer_id}&limit=100")


def customer_invoices(site, customer_id: str) -> list[dict]:
    return site.call("GET", f"/invoices?customer_id={customer_id}&limit=100")


def sub_card(page, sub_id: str):
    """One subscription's card by its id: after a restart two cards carry the plan's name."""
    return page.locator(f"section[aria-labelledby='sub-{sub_id}']")


def due_now(page) -> int:
    return cents(page.locator(".facts > div", has_text="Due now").locator("dd").inner_text())


def confirm_form(page, button):
    """The confirmation's form fields as the browser would post them, and its action."""
    form = page.locator("form", has=button)
    fields = {}
    for hidden in form.locator("input[type=hidden]").all():
        fields[hidden.get_attribute("name")] = hidden.input_value()
    return form.get_attribute("action"), fields


def test_an_ended_subscription_starts_again_with_one_charge(portal_page, merchant_site, js):
    page, site = portal_page, merchant_site
    configure_restart(site)
    basic, premium = new_plan(site, "Basic", 4000), new_plan(site, "Premium", 6000)
    customer, sub = subscribed_customer(site, basic)
    assert end_now(site, sub["id"])["status"] == "canceled"
    invoices_before = {i["id"] for i in customer_invoices(site, customer["id"])}
    problems = watch(page) if js else None
    open_subscriptions(page, site, customer["id"])

    ended = sub_card(page, sub["id"])
    expect(fact(ended, "Status")).to_have_text("Canceled")
    expect(ended.get_by_role("link")).to_have_text(["Start again Basic"])
    check_page_if_js(page, js)
    ended.get_by_role("link", name="Start again Basic").click()

    expect(heading(page, "Start your subscription again")).to_be_visible()
    expect(page.get_by_role("radio", name="Basic · $40.00 / month (your plan)")).to_be_checked()
    check_page_if_js(page, js)
    page.get_by_role("radio", name="Premium · $60.00 / month").check()
    page.get_by_role("button", name="See what it costs").click()

    expect(heading(page, "Review your restart")).to_be_visible()
    expect(page.get_by_text("A new subscription starts today.")).to_be_visible()
    shown = due_now(page)
    assert shown == 6000  # the new plan's whole first period, nothing credited
    expect(page.get_by_text("Paid with Visa ending in 4242")).to_be_visible()
    check_page_if_js(page, js)
    # The same preview open in a second tab, to confirm again once it is done in this one.
    other_tab = page.context.new_page()
    other_tab.goto(page.url)
    expect(heading(other_tab, "Review your restart")).to_be_visible()
    confirm = page.get_by_role("button", name="Start again and pay $60.00")
    action, fields = confirm_form(page, confirm)
    confirm.click()

    expect_notice(page, WELCOME_BACK)
    subs = customer_subscriptions(site, customer["id"])
    started = [s for s in subs if s["id"] != sub["id"]]
    assert len(started) == 1, subs
    new = started[0]
    assert new["status"] == "active"
    assert [item["price_id"] for item in new["items"]] == [premium["id"]]
    assert subscription(site, sub["id"])["status"] == "canceled"
    new_card = sub_card(page, new["id"])
    expect(fact(new_card, "Status")).to_have_text("Active")
    expect(fact(new_card, "Plan")).to_have_text("Premium · $60.00 / month")
    expect(fact(new_card, "Next invoice")).to_have_text(
        f"$60.00 on {day(new['current_period_end'])}"
    )
    # Started again once, the old one offers no second restart.
    expect(sub_card(page, sub["id"]).get_by_role("link")).to_have_count(0)
    check_page_if_js(page, js)

    # The very same form posted again (a double click, a retried request) acts once...
    again = page.request.post(action, form=fields, max_redirects=0)
    assert again.status == 303, again.text()
    # ...Back to the preview no longer offers to pay: it lands on the list, saying why...
    page.go_back()
    expect(heading(page, "Subscriptions")).to_be_visible()
    expect(page.locator("#flash .alert")).to_have_text(
        "This subscription was already started again."
    )
    expect(page.get_by_role("button", name="Start again and pay $60.00")).to_have_count(0)
    # ...and confirming the preview left open in the other tab is refused, saying why.
    other_tab.get_by_role("button", name="Start again and pay $60.00").click()
    expect(heading(other_tab, "Subscriptions")).to_be_visible()
    expect(other_tab.locator("#flash .alert")).to_have_text(REFUSED_AGAIN)
    expect(other_tab.locator("#flash .notice")).to_have_count(0)
    other_tab.close()

    subs = customer_subscriptions(site, customer["id"])
    assert sorted(s["id"] for s in subs) == sorted([sub["id"], new["id"]]), subs
    charged = [i for i in customer_invoices(site, customer["id"]) if i["id"] not in invoices_before]
    assert len(charged) == 1, charged
    assert charged[0]["subscription_id"] == new["id"]
    assert charged[0]["total"] == shown and charged[0]["amount_paid"] == shown
    assert charged[0]["status"] == "PAID"
    if problems:
        problems.assert_clean()


def test_a_subscription_set_to_end_is_kept_on_another_plan(page, merchant_site):
    site = merchant_site
    configure_restart(site, subscription_proration_behavior="full_difference")
    basic, premium = new_plan(site, "Basic", 4000), new_plan(site, "Premium", 6000)
    customer, sub = subscribed_customer(site, basic)
    assert end_at_period_end(site, sub["id"])["cancel_at_period_end"] is True
    before = invoices(site, sub["id"])
    problems = watch(page)
    open_subscriptions(page, site, customer["id"])

    ending = card(page, "Basic")
    expect(fact(ending, "Ends on")).to_have_text(day(sub["current_period_end"]))
    expect(ending.get_by_role("button", name="Keep my subscription")).to_be_visible()
    expect(ending.get_by_role("link")).to_have_text(["Keep it on another plan Basic"])
    check_page(page)
    ending.get_by_role("link", name="Keep it on another plan Basic").click()

    expect(heading(page, "Start your subscription again")).to_be_visible()
    check_page(page)
    page.get_by_role("radio", name="Premium · $60.00 / month").check()
    page.get_by_role("button", name="See what it costs").click()

    expect(heading(page, "Review your restart")).to_be_visible()
    expect(
        page.get_by_text("Your cancellation is withdrawn and your plan changes.")
    ).to_be_visible()
    shown = due_now(page)
    assert shown == 2000  # the difference between the plans, as a plan change bills it
    check_page(page)
    page.get_by_role("button", name="Start again and pay $20.00").click()

    expect_notice(page, WELCOME_BACK)
    kept_card = card(page, "Premium")
    expect(fact(kept_card, "Plan")).to_have_text("Premium · $60.00 / month")
    expect(fact(kept_card, "Ends on")).to_have_count(0)
    expect(kept_card.get_by_role("link", name="Cancel subscription Premium")).to_be_visible()
    check_page(page)

    kept = subscription(site, sub["id"])
    assert kept["status"] == "active"
    assert kept["cancel_at_period_end"] is False and kept["canceled_at"] is None
    assert [item["price_id"] for item in kept["items"]] == [premium["id"]]
    assert [s["id"] for s in customer_subscriptions(site, customer["id"])] == [sub["id"]]
    after = invoices(site, sub["id"])
    assert len(after) == len(before) + 1
    assert after[0]["total"] == shown and after[0]["amount_paid"] == shown
    problems.assert_clean()


def test_with_restarts_off_nothing_offers_or_accepts_one(page, merchant_site):
    site = merchant_site
    configure_restart(site, resubscribe_enabled=False)
    basic, team = new_plan(site, "Basic", 4000), new_plan(site, "Team", 9000)
    new_plan(site, "Premium", 6000)
    customer, ended_sub = subscribed_customer(site, basic)
    end_now(site, ended_sub["id"])
    ending_sub = site.ok(
        "POST",
        "/subscriptions",
        {"identity_id": customer["id"], "items": [{"price_id": team["id"], "quantity": 1}]},
    )
    end_at_period_end(site, ending_sub["id"])
    problems = watch(page)
    open_subscriptions(page, site, customer["id"])

    ended = card(page, "Basic")
    expect(fact(ended, "Status")).to_have_text("Canceled")
    expect(ended.get_by_role("link")).to_have_count(0)
    ending = card(page, "Team")
    expect(ending.get_by_role("button", name="Keep my subscription")).to_be_visible()
    expect(ending.get_by_role("link")).to_have_count(0)
    check_page(page)

    for sub in (ended_sub, ending_sub):
        assert page.goto(f"/portal/subscriptions/{sub['id']}/resubscribe").status == 404
    preview = page.goto(f"/portal/subscriptions/{ended_sub['id']}/resubscribe/preview")
    assert preview.status == 404

    token = portal_session_token(site, customer["id"], destination="home")
    refused = httpx.post(
        f"{site.url}/v1/api/customer-portal/subscriptions/{ended_sub['id']}/resubscribe",
        json={"expected_version": 0},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "FEATURE_DISABLED"
    subs = customer_subscriptions(site, customer["id"])
    assert sorted(s["id"] for s in subs) == sorted([ended_sub["id"], ending_sub["id"]])
    assert subscription(site, ended_sub["id"])["status"] == "canceled"
    problems.assert_clean()


def test_a_declined_card_starts_nothing_and_says_so(page, merchant_site):
    site = merchant_site
    configure_restart(site)
    basic = new_plan(site, "Basic", 4000)
    customer, sub = subscribed_customer(site, basic)
    end_now(site, sub["id"])
    declining = add_payment_method(site, customer["id"], "tok_chargeDeclined")
    site.call("PATCH", f"/payment/{declining['id']}", {"is_default": True})
    invoices_before = customer_invoices(site, customer["id"])
    problems = watch(page)
    open_subscriptions(page, site, customer["id"])

    card(page, "Basic").get_by_role("link", name="Start again Basic").click()
    expect(heading(page, "Start your subscription again")).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="See what it costs").click()
    expect(heading(page, "Review your restart")).to_be_visible()
    expect(page.get_by_text("Paid with Visa ending in 0341")).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="Start again and pay $40.00").click()

    expect(heading(page, "Review your restart")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text("Your card was declined. Nothing was changed.")
    expect(page.get_by_role("link", name="Add a payment method")).to_be_visible()
    check_page(page)
    assert [s["id"] for s in customer_subscriptions(site, customer["id"])] == [sub["id"]]
    assert subscription(site, sub["id"])["status"] == "canceled"
    after = customer_invoices(site, customer["id"])
    assert [i["id"] for i in after] == [i["id"] for i in invoices_before]

    # Nothing was started, so the subscription can still be started again.
    page.get_by_role("link", name="Not now").click()
    expect(card(page, "Basic").get_by_role("link", name="Start again Basic")).to_be_visible()
    problems.assert_clean()
