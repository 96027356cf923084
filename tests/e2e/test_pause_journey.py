"""Subscription lifecycle in a real browser: a customer pauses a subscription for a few
billing periods from the portal (``pause_enabled``), sees the day of the next charge before
and after confirming, and resumes it early; with JavaScript on and off. With pausing off
there is nothing to press, and a pause the merchant set through the API is the merchant's
to end: the portal shows it but offers no way to resume or change it.

Only the merchant API and the browser are used, so QA can aim these at a deployment.
"""

import calendar
import re
from datetime import datetime, timedelta

import httpx
import pytest
from browser_checks import watch
from builders import portal_session_token
from playwright.sync_api import expect
from portal_steps import heading
from subscription_journeys import (
    card,
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


def parse(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def instant(iso: str) -> datetime:
    """An API timestamp as the billing clock takes it (naive UTC, like the dunning journey)."""
    return parse(iso).replace(tzinfo=None)


def period_end_after(sub: dict, periods: int) -> str:
    """The end of the ``periods``-th monthly period after the current one, as the portal
    prints it: months counted from the billing cycle anchor, its day kept (or the month's
    last day when shorter)."""
    anchor, end = parse(sub["billing_cycle_anchor"]), parse(sub["current_period_end"])
    months = (end.year - anchor.year) * 12 + end.month - anchor.month + periods
    year, month = divmod(anchor.month - 1 + months, 12)
    year, month = anchor.year + year, month + 1
    when = anchor.replace(
        year=year, month=month, day=min(anchor.day, calendar.monthrange(year, month)[1])
    )
    return f"{when:%b} {when.day}, {when.year}"


def choice(page, periods: int, date: str):
    noun = "billing period" if periods == 1 else "billing periods"
    return page.get_by_role("radio", name=f"{periods} {noun}: your next charge is on {date}")


def test_pause_for_two_periods_then_resume_now(portal_page, js, merchant_site):
    page, site = portal_page, merchant_site
    configure_lifecycle(site, pause_enabled=True, pause_max_periods=3)
    price = new_plan(site, "Studio", 4000)
    customer, sub = subscribed_customer(site, price)
    ends = day(sub["current_period_end"])
    dates = {n: period_end_after(sub, n) for n in (1, 2, 3)}
    before = invoices(site, sub["id"])
    problems = watch(page)
    open_subscriptions(page, site, customer["id"])
    check_page_if_js(page, js)

    card(page, "Studio").get_by_role("link", name="Pause subscription Studio").click()
    expect(heading(page, "Pause your subscription")).to_be_visible()
    expect(page.get_by_text(f"Your current period runs until {ends} as paid.")).to_be_visible()
    # One choice per period up to the merchant's maximum, each with the next charge's date.
    expect(page.get_by_role("radio")).to_have_count(3)
    for periods, date in dates.items():
        expect(choice(page, periods, date)).to_be_visible()
    expect(choice(page, 1, dates[1])).to_be_checked()
    check_page_if_js(page, js)
    choice(page, 2, dates[2]).check()
    page.get_by_role("button", name="Pause subscription").click()

    expect(heading(page, "Subscriptions")).to_be_visible()
    expect_notice(page, f"Your subscription is paused. Your next charge is on {dates[2]}.")
    studio = card(page, "Studio")
    expect(fact(studio, "Status")).to_have_text("Paused")
    expect(fact(studio, "Paused")).to_have_text(
        f"Until {dates[2]}: you are not charged until then."
    )
    expect(fact(studio, "Next charge")).to_have_text(f"$40.00 on {dates[2]}")
    expect(fact(studio, "Next invoice")).to_have_count(0)
    expect(studio.get_by_role("link", name=re.compile("^Pause"))).to_have_count(0)
    check_page_if_js(page, js)

    paused = subscription(site, sub["id"])
    assert paused["status"] == "paused"
    assert paused["pause_collection"]["behavior"] == "void"
    assert day(paused["pause_collection"]["resumes_at"]) == dates[2]
    assert len(invoices(site, sub["id"])) == len(before), "pausing must charge nothing"

    studio.get_by_role("button", name="Resume now Studio").click()
    expect_notice(page, "Your subscription is active again.")
    studio = card(page, "Studio")
    expect(fact(studio, "Status")).to_have_text("Active")
    expect(fact(studio, "Paused")).to_have_count(0)
    expect(fact(studio, "Next invoice")).to_have_text(f"$40.00 on {ends}")
    expect(studio.get_by_role("button", name=re.compile("^Resume"))).to_have_count(0)
    expect(studio.get_by_role("link", name="Pause subscription Studio")).to_be_visible()
    check_page_if_js(page, js)

    resumed = subscription(site, sub["id"])
    assert resumed["status"] == "active" and resumed["pause_collection"] is None
    assert resumed["current_period_end"] == sub["current_period_end"]
    assert len(invoices(site, sub["id"])) == len(before)
    problems.assert_clean()


def test_a_paused_period_is_not_charged_and_the_resume_date_is(page, merchant_site, billing_clock):
    """The dates the pause page promised hold when the renewals come (the billing clock)."""
    site = merchant_site
    configure_lifecycle(site, pause_enabled=True, pause_max_periods=1)
    price = new_plan(site, "Studio", 4000)
    customer, sub = subscribed_customer(site, price)
    resumes = period_end_after(sub, 1)
    problems = watch(page)
    open_subscriptions(page, site, customer["id"])
    card(page, "Studio").get_by_role("link", name="Pause subscription Studio").click()
    expect(page.get_by_role("radio")).to_have_count(1)  # pause_max_periods is 1
    page.get_by_role("button", name="Pause subscription").click()
    expect_notice(page, f"Your subscription is paused. Your next charge is on {resumes}.")
    paid_before = [i["id"] for i in invoices(site, sub["id"])]

    billing_clock(instant(sub["current_period_end"]) + timedelta(minutes=1))  # skipped
    skipped = subscription(site, sub["id"])
    assert skipped["status"] == "paused"
    assert day(skipped["current_period_end"]) == resumes
    assert [i["id"] for i in invoices(site, sub["id"])] == paid_before, "a paused period billed"

    billing_clock(instant(skipped["current_period_end"]) + timedelta(minutes=1))  # resumes
    back = subscription(site, sub["id"])
    assert back["status"] == "active" and back["pause_collection"] is None
    newest = invoices(site, sub["id"])[0]
    assert newest["id"] not in paid_before
    assert newest["total"] == 4000 and newest["amount_paid"] == 4000
    assert day(newest["created_at"]) == resumes

    page.reload()
    studio = card(page, "Studio")
    expect(fact(studio, "Status")).to_have_text("Active")
    expect(fact(studio, "Next invoice")).to_have_text(
        f"$40.00 on {day(back['current_period_end'])}"
    )
    problems.assert_clean()


def test_with_pausing_off_there_is_no_pause_link(portal_page, js, merchant_site):
    page, site = portal_page, merchant_site
    configure_lifecycle(site, pause_enabled=False, allow_plan_switch=True)
    price = new_plan(site, "Studio", 4000)
    new_plan(site, "Studio Plus", 6000)
    customer, sub = subscribed_customer(site, price)
    problems = watch(page)
    open_subscriptions(page, site, customer["id"])

    studio = card(page, "Studio")
    expect(studio.get_by_role("link", name="Change plan for Studio")).to_be_visible()
    expect(studio.get_by_role("link", name=re.compile("Pause"))).to_have_count(0)
    expect(studio.get_by_role("button", name=re.compile("Pause"))).to_have_count(0)
    check_page_if_js(page, js)
    assert page.goto(f"/portal/subscriptions/{sub['id']}/pause").status == 404
    assert subscription(site, sub["id"])["status"] == "active"
    problems.assert_clean()


# How the merchant paused it: behavior → days until it resumes by itself (None: until the
# merchant resumes it). Whatever the behavior, even the customer's own (void), it is theirs.
MERCHANT_PAUSES = {"mark_uncollectible": None, "keep_as_draft": 40, "void": None}
UNTIL_RESUMED = re.compile(r"^Until .+ resumes it: you are not charged meanwhile\.$")


@pytest.mark.parametrize("behavior", sorted(MERCHANT_PAUSES))
def test_a_pause_the_merchant_set_is_shown_but_only_the_merchant_ends_it(
    page, merchant_site, behavior
):
    site = merchant_site
    configure_lifecycle(site, pause_enabled=True, allow_plan_switch=True)
    price = new_plan(site, "Studio", 4000)
    new_plan(site, "Studio Plus", 6000)
    customer, sub = subscribed_customer(site, price)
    days = MERCHANT_PAUSES[behavior]
    body = {"behavior": behavior}
    if days is not None:
        body["resumes_at"] = (parse(sub["current_period_start"]) + timedelta(days=days)).isoformat()
    paused = site.ok("POST", f"/subscriptions/{sub['id']}/pause", body)
    assert paused["status"] == "paused"
    assert paused["pause_collection"]["behavior"] == behavior
    problems = watch(page)
    open_subscriptions(page, site, customer["id"])

    studio = card(page, "Studio")
    expect(fact(studio, "Status")).to_have_text("Paused")
    if days is None:
        expect(fact(studio, "Paused")).to_have_text(UNTIL_RESUMED)
        expect(fact(studio, "Next charge")).to_have_count(0)
    else:
        resumes = day(paused["pause_collection"]["resumes_at"])
        expect(fact(studio, "Paused")).to_have_text(
            f"Until {resumes}: you are not charged until then."
        )
        # It resumes inside the next period, which the pause leaves unbilled: the charge
        # after it is at that period's end, not on the resume date.
        expect(fact(studio, "Next charge")).to_have_text(f"$40.00 on {period_end_after(sub, 1)}")
    # Not the customer's pause: no Resume now, no Pause, no plan change; only cancelling.
    expect(studio.get_by_role("button")).to_have_count(0)
    expect(studio.get_by_role("link")).to_have_text(["Cancel subscription Studio"])
    check_page(page)
    assert page.goto(f"/portal/subscriptions/{sub['id']}/pause").status == 404

    token = portal_session_token(site, customer["id"], destination="home")
    refused = httpx.post(
        f"{site.url}/v1/api/customer-portal/subscriptions/{sub['id']}/resume",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "PERMISSION_DENIED"
    still = subscription(site, sub["id"])
    assert still["status"] == "paused"
    assert still["pause_collection"]["behavior"] == behavior
    problems.assert_clean()
