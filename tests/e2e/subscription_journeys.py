"""Shared steps of the subscription journeys (issue 5): build a subscribed customer through
the merchant API, sign in with a handoff link, and read the subscription cards.

Only the merchant API (through ``builders``) and the browser are used, so QA can aim the
journeys at a deployment.
"""

from datetime import datetime

from browser_checks import assert_accessible, assert_no_horizontal_scroll
from builders import customer_with_card, make_price, patch_config, subscribe
from playwright.sync_api import expect
from portal_steps import heading, sign_in_with_handoff

# Every setting a journey may depend on, so each journey states its config in full and
# does not inherit one from a merchant it shares with others (QA's deployment).
BASE_CONFIG = {
    "subscriptions_enabled": True,
    "allow_plan_switch": False,
    "allow_quantity_updates": False,
    "subscription_product_ids": [],
    "cancellations_enabled": True,
    "cancellation_mode": "end_of_period",
    "cancellation_proration_enabled": False,
    "cancellation_reasons_enabled": False,
    "retention_coupon_id": None,
    "subscription_proration_behavior": "prorate",
    "subscription_charge_timing": "immediately",
}


def configure(site, **settings) -> dict:
    return patch_config(site, **{**BASE_CONFIG, **settings})


def new_plan(site, name: str, unit_amount: int) -> dict:
    """A product with one monthly USD price; returns the price (with its product's name)."""
    return {**make_price(site, name, unit_amount), "name": name}


def subscribed_customer(site, price: dict, quantity: int = 1) -> tuple[dict, dict]:
    """A customer with a Visa card and a paid, active subscription to ``price``."""
    customer = customer_with_card(site, "tok_visa", "Sam", "Okafor")
    sub = subscribe(site, customer["id"], price["id"], quantity)
    assert sub["status"] == "active", sub
    return customer, sub


def subscription(site, sub_id: str) -> dict:
    return site.call("GET", f"/subscriptions/{sub_id}")


def invoices(site, sub_id: str) -> list[dict]:
    """The subscription's invoices, newest first."""
    return site.call("GET", f"/invoices?subscription_id={sub_id}&limit=100")


def open_subscriptions(page, site, customer_id: str) -> None:
    """Sign in with a one-time handoff link, then follow the nav to the subscriptions."""
    sign_in_with_handoff(page, site, customer_id, "Hello, Sam", destination="home")
    page.get_by_role("navigation", name="Billing sections").get_by_role(
        "link", name="Subscriptions"
    ).click()
    expect(heading(page, "Subscriptions")).to_be_visible()


def check_page(page) -> None:
    """Every page of these flows: no axe violations, fits a phone screen."""
    assert_accessible(page)
    assert_no_horizontal_scroll(page)


def check_page_if_js(page, js: bool) -> None:
    """``check_page`` runs scripts in the page: only with JavaScript on."""
    if js:
        check_page(page)


# The lifecycle settings the issue-14 journeys depend on, stated in full (the merchant is
# shared by the whole run).
LIFECYCLE = {
    "pause_enabled": False,
    "pause_max_periods": 3,
    "downgrade_timing": "immediately",
    "quantity_limits": [],
    "resubscribe_enabled": True,
}


def configure_lifecycle(site, **settings) -> dict:
    return configure(site, **{**LIFECYCLE, **settings})


def card(page, name: str):
    """The subscription card titled ``name`` (a region labelled by its heading)."""
    return page.get_by_role("region", name=name)


def fact(region, term: str):
    """The value (dd) next to the label (dt) ``term`` in a card's facts list."""
    return region.locator(".facts > div", has=region.page.locator("dt", has_text=term)).locator(
        "dd"
    )


def expect_notice(page, text: str) -> None:
    """The message is announced in the live region; after an action on a subscription it
    also shows on that subscription's card, where the eye is."""
    expect(page.locator("#flash[role=status] .notice", has_text=text)).to_be_visible()
    if "#sub-" in page.url:
        card = page.locator(f"section[aria-labelledby='{page.url.rsplit('#', 1)[1]}']")
        expect(card.locator(".beside", has_text=text)).to_be_visible()


def day(iso: str) -> str:
    """An API timestamp as the portal prints dates: 'Mar 7, 2026'."""
    when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return f"{when:%b} {when.day}, {when.year}"


def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


def cents(text: str) -> int:
    """'$1,234.50' or '-$5.00' → minor units."""
    value = text.strip().replace("$", "").replace(",", "")
    sign = -1 if value.startswith("-") else 1
    whole, _, fraction = value.lstrip("-").partition(".")
    return sign * (int(whole) * 100 + int(fraction or 0))
