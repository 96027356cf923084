"""Issue 6 in a real browser: a merchant signs in and configures the portal, branding and keys.

Each journey signs in as the merchant's owner, changes settings in the page, and checks the
effect where a customer or an API client meets it: the customer's portal (a second browser
context, signed in by a handoff link), the JSON API's config, or the API refusing a revoked key.
Only the merchant API and the browser are used, so QA can aim the journeys at a deployment.
"""

import re

import httpx
import pytest
from browser_checks import assert_accessible, watch
from playwright.sync_api import expect
from portal_steps import heading
from subscription_journeys import (
    card,
    configure,
    new_plan,
    open_subscriptions,
    subscribed_customer,
)

SETTINGS = re.compile(r"/merchant/settings(#.*)?$")
LOW_CONTRAST = "#ffff00"


def sign_in(page, site) -> None:
    page.goto("/merchant/sign-in")
    page.locator("#email").fill(site.owner_email)
    page.locator("#password").fill(site.owner_password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(SETTINGS)
    expect(heading(page, "Customer portal settings")).to_be_visible()


def expect_saved(page, name: str) -> None:
    """htmx swapped the control back with its quiet "Saved" status."""
    expect(page.locator(f"#field-{name}").get_by_role("status")).to_have_text("Saved")


def portal_config(site) -> dict:
    return site.call("GET", "/customer-portal-config")


@pytest.fixture
def customer_page(browser, deployment_url):
    """A second browser, the customer's, with no merchant session in it."""
    context = browser.new_context(base_url=deployment_url)
    yield context.new_page()
    context.close()


def subscribed(site, page) -> None:
    """A customer subscribed to "Studio", with their portal's subscriptions open in ``page``."""
    customer, _sub = subscribed_customer(site, new_plan(site, "Studio", 4000))
    open_subscriptions(page, site, customer["id"])


def cancel_link(page):
    return card(page, "Studio").get_by_role("link", name="Cancel subscription Studio")


def test_turning_cancellations_off_removes_cancel_from_the_customers_portal(
    page, customer_page, merchant_site
):
    site = merchant_site
    configure(site)
    subscribed(site, customer_page)
    expect(cancel_link(customer_page)).to_be_visible()
    problems = watch(page)
    sign_in(page, site)
    expect(page.locator("#preview-cancel")).to_be_visible()

    page.locator("#cfg-cancellations_enabled").uncheck()
    expect_saved(page, "cancellations_enabled")
    dependents = page.locator("#deps-cancellations_enabled")
    expect(dependents.get_by_role("switch", name="Ask for a reason")).to_be_disabled()
    expect(dependents.get_by_role("radio", name="Immediately", exact=True)).to_be_disabled()
    expect(page.locator("#preview-cancel")).to_have_count(0)
    assert portal_config(site)["cancellations_enabled"] is False

    customer_page.reload()
    expect(card(customer_page, "Studio")).to_be_visible()
    expect(
        card(customer_page, "Studio").get_by_role("link", name=re.compile("Cancel"))
    ).to_have_count(0)
    problems.assert_clean()


def test_immediate_cancellation_mode_reaches_the_customers_confirmation(
    page, customer_page, merchant_site
):
    site = merchant_site
    configure(site, cancellation_mode="end_of_period")
    problems = watch(page)
    sign_in(page, site)
    expect(page.locator("#preview-cancel")).to_contain_text("stays active until")

    mode = page.locator("#field-cancellation_mode")
    mode.get_by_role("radio", name="Immediately", exact=True).check()
    expect_saved(page, "cancellation_mode")
    expect(page.locator("#preview-cancel")).to_contain_text("Your subscription ends immediately")
    assert portal_config(site)["cancellation_mode"] == "immediately"

    subscribed(site, customer_page)
    cancel_link(customer_page).click()
    expect(heading(customer_page, "Confirm cancellation")).to_be_visible()
    expect(customer_page.get_by_text("Your subscription ends now.")).to_be_visible()
    expect(customer_page.get_by_role("button", name="Cancel now")).to_be_visible()
    problems.assert_clean()


def test_added_cancellation_reasons_show_in_the_preview(page, merchant_site):
    site = merchant_site
    configure(site, cancellation_reasons_enabled=False, cancellation_reasons=["Too expensive"])
    problems = watch(page)
    sign_in(page, site)
    expect(page.locator("#cfg-cancellation_reasons-new")).to_be_disabled()

    page.locator("#cfg-cancellation_reasons_enabled").check()
    expect_saved(page, "cancellation_reasons_enabled")
    for position, reason in enumerate(("Moving to a competitor", "Project finished"), start=2):
        new_slot = page.locator("#cfg-cancellation_reasons-new")
        new_slot.fill(reason)
        new_slot.press("Tab")  # leaving the field fires "change": htmx saves the list
        # The saved list comes back with the reason in its own line and a fresh empty slot.
        expect(page.locator(f"#cfg-cancellation_reasons-{position}")).to_have_value(reason)
        expect(page.locator("#cfg-cancellation_reasons-new")).to_have_value("")

    wanted = ["Too expensive", "Moving to a competitor", "Project finished"]
    expect(page.locator("#preview-cancel li")).to_have_text(wanted)
    config = portal_config(site)
    assert config["cancellation_reasons_enabled"] is True
    assert config["cancellation_reasons"] == wanted
    assert_accessible(page)
    problems.assert_clean()


def test_low_contrast_brand_colour_is_refused_with_a_clear_message(page, merchant_site):
    problems = watch(page)
    sign_in(page, merchant_site)
    page.get_by_role("navigation", name="Merchant settings").get_by_role(
        "link", name="Branding"
    ).click()
    expect(heading(page, "Branding")).to_be_visible()
    before = page.locator("#brand_color").input_value()

    page.locator("#brand_color").fill(LOW_CONTRAST)
    page.get_by_role("button", name="Save branding").click()

    expect(page.get_by_text(f"White text on {LOW_CONTRAST} has a contrast ratio")).to_be_visible()
    expect(page.get_by_text("WCAG AA needs at least 4.5:1")).to_be_visible()
    expect(page.locator("#brand_color")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)

    page.goto("/merchant/branding")
    expect(page.locator("#brand_color")).to_have_value(before)
    problems.assert_clean()


def key_status(site, key: str) -> int:
    response = httpx.get(
        f"{site.url}/v1/api/validate-key", headers={"x-easy-api-key": key}, timeout=15
    )
    return response.status_code


def test_created_key_works_until_it_is_revoked(page, merchant_site):
    site = merchant_site
    problems = watch(page)
    sign_in(page, site)
    page.goto("/merchant/keys")
    page.get_by_label("Key type").select_option("secret")
    page.get_by_label("Mode").select_option("test")
    page.get_by_role("button", name="Create key").click()

    key = page.locator("#new-key").input_value()
    assert key.startswith("sk_"), key
    assert key_status(site, key) == 200
    assert_accessible(page)

    page.get_by_role("button", name=re.compile(rf"^Revoke .*{re.escape(key[-4:])}$")).click()
    expect(page.get_by_text("requests using it now get 401")).to_be_visible()
    expect(page.locator("#new-key")).to_have_count(0)
    assert key_status(site, key) == 401
    assert key_status(site, site.secret) == 200
    problems.assert_clean()


def test_settings_page_saves_the_whole_form_without_javascript(
    browser, deployment_url, merchant_site
):
    site = merchant_site
    configure(site, cancellation_mode="end_of_period", invoice_history_enabled=True)
    context = browser.new_context(java_script_enabled=False, base_url=deployment_url)
    try:
        page = context.new_page()
        problems = watch(page)
        sign_in(page, site)
        page.locator("#cfg-invoice_history_enabled").uncheck()
        page.locator("#field-cancellation_mode").get_by_role(
            "radio", name="Immediately", exact=True
        ).check()
        page.get_by_role("button", name="Save", exact=True).click()

        expect(page).to_have_url(SETTINGS)
        expect(page.get_by_text("Settings saved.")).to_be_visible()
        expect(page.locator("#cfg-invoice_history_enabled")).not_to_be_checked()
        config = portal_config(site)
        assert config["invoice_history_enabled"] is False
        assert config["cancellation_mode"] == "immediately"
        problems.assert_clean()
    finally:
        context.close()


MERCHANT_PAGES = {
    "Portal settings": "Customer portal settings",
    "Dunning": "Dunning",
    "Branding": "Branding",
    "Custom domains": "Custom domains",
    "API keys": "API keys",
    "Webhooks": "Webhooks",
    "Activity": "Activity",
    "Team": "Team",
}


def test_axe_finds_no_violations_on_any_merchant_page(page, merchant_site):
    problems = watch(page)
    page.goto("/merchant/sign-in")
    expect(heading(page, "Sign in to your merchant settings")).to_be_visible()
    assert_accessible(page)
    sign_in(page, merchant_site)
    nav = page.get_by_role("navigation", name="Merchant settings")
    for link, title in MERCHANT_PAGES.items():
        nav.get_by_role("link", name=link).click()
        expect(heading(page, title)).to_be_visible()
        expect(nav.get_by_role("link", name=link)).to_have_attribute("aria-current", "page")
        assert_accessible(page)
    problems.assert_clean()
