"""Issue 3 in a real browser: magic-link sign-in from the hosted page to the portal and out.

Only the merchant API and the browser are used, so QA can aim this at a deployment.
"""

import html
import re

import pytest
from browser_checks import assert_accessible, assert_no_horizontal_scroll, watch
from builders import handoff, make_customer, unique_email
from playwright.sync_api import expect
from portal_steps import heading

FIRST_NAME = "Jordan"
LINK = re.compile(r"https?://\S+/portal/access/[\w.-]+")
LIFETIME = re.compile(r"expires in \d+ minutes")


def new_customer(site) -> dict:
    return make_customer(site, FIRST_NAME, "Rivera", email=unique_email("jordan"))


def request_link(site, email: str, destination: str) -> None:
    body = {"company_id": site.company_id, "email": email, "destination": destination}
    site.call("POST", "/customer-portal/access/request-link", body, key=site.publishable)


def link_in(message) -> str:
    return LINK.search(message.get_body(("plain",)).get_content()).group(0)


def open_sign_in_page(page, site) -> str:
    """Open the merchant's hosted sign-in page; returns the merchant name it shows."""
    page.goto(f"/p/{site.company_id}")
    merchant = page.locator(".brand-name").inner_text().strip()
    expect(heading(page, f"Manage your {merchant} billing")).to_be_visible()
    return merchant


def ask_for_link(page, email: str) -> None:
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(heading(page, "Check your inbox")).to_be_visible()


def assert_sign_in_email(message, merchant: str, email: str) -> None:
    text, rich = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and rich is not None, "needs both a text and an HTML part"
    assert email in str(message["To"]) and merchant in str(message["Subject"])
    link = link_in(message)
    for content, name in (
        (text.get_content(), merchant),
        (rich.get_content(), html.escape(merchant)),
    ):
        assert name in content
        assert link in content
        assert LIFETIME.search(content)
        assert "If you didn't ask for this, you can ignore this email." in html.unescape(content)


def continue_button(page, merchant: str, email: str):
    masked = f"{email[0]}•••@{email.partition('@')[2]}"
    return page.get_by_role("button", name=f"Continue to {merchant} billing as {masked}")


def sign_in_by_email(page, site, inbox, email: str) -> tuple[str, str]:
    """Hosted sign-in page → email → confirm → portal home, checking each page on the way.

    Returns the merchant name and the (now used) link."""
    merchant = open_sign_in_page(page, site)
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    ask_for_link(page, email)
    assert_accessible(page)

    message = inbox.wait_for(email)
    assert_sign_in_email(message, merchant, email)
    link = link_in(message)

    page.goto(link)
    expect(heading(page, f"Continue to {merchant} billing")).to_be_visible()
    assert_accessible(page)
    continue_button(page, merchant, email).click()
    expect(page).to_have_url(re.compile(r"/portal$"))
    expect(heading(page, f"Hello, {FIRST_NAME}")).to_be_visible()
    assert_accessible(page)
    return merchant, link


def assert_used_link_offers_a_new_one(page, inbox, email: str, link: str) -> None:
    assert page.goto(link).status == 410
    expect(heading(page, "This link has expired")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Email me a new link").click()
    expect(heading(page, "Check your inbox")).to_be_visible()
    assert link_in(inbox.wait_for(email, after=1)) != link


def test_magic_link_journey_from_sign_in_page_to_sign_out(page, merchant_site, inbox):
    email = new_customer(merchant_site)["email"]
    problems = watch(page)
    merchant, link = sign_in_by_email(page, merchant_site, inbox, email)
    sign_in_page = re.compile(rf"/p/{merchant_site.company_id}(\?|$)")

    cookies_before_sign_out = page.context.cookies()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(sign_in_page)
    expect(heading(page, f"Manage your {merchant} billing")).to_be_visible()

    assert_used_link_offers_a_new_one(page, inbox, email, link)

    # Replaying the cookies from before sign-out gets the sign-in page, not the portal.
    page.context.add_cookies(cookies_before_sign_out)
    page.goto("/portal")
    expect(page).to_have_url(sign_in_page)
    expect(heading(page, f"Manage your {merchant} billing")).to_be_visible()
    problems.assert_clean()


PORTAL_PAGES = {
    "home": f"Hello, {FIRST_NAME}",
    "payment_methods": "Payment methods",
    "billing_information": "Billing information",
}


@pytest.mark.parametrize("destination", ["payment_methods", "billing_information"])
def test_emailed_link_lands_on_requested_destination(page, merchant_site, inbox, destination):
    email = new_customer(merchant_site)["email"]
    problems = watch(page)
    request_link(merchant_site, email, destination)

    page.goto(link_in(inbox.wait_for(email)))
    page.get_by_role("button", name=re.compile(r"^Continue to .+ billing as ")).click()

    expect(heading(page, PORTAL_PAGES[destination])).to_be_visible()
    expect(page.locator('nav a[aria-current="page"]')).to_have_text(PORTAL_PAGES[destination])
    problems.assert_clean()


@pytest.mark.parametrize("destination", sorted(PORTAL_PAGES))
def test_handoff_link_signs_straight_in_once(page, merchant_site, destination):
    customer = new_customer(merchant_site)
    problems = watch(page)
    url = handoff(merchant_site, customer["id"], destination=destination)["url"]

    page.goto(url)
    expect(heading(page, PORTAL_PAGES[destination])).to_be_visible()

    # One-time: the same URL in a browser without the session signs nobody in.
    page.context.clear_cookies()
    assert page.goto(url).status == 404
    expect(heading(page, "This link doesn't work")).to_be_visible()
    problems.assert_clean()


def test_sign_in_works_without_javascript(browser, deployment_url, merchant_site, inbox):
    email = new_customer(merchant_site)["email"]
    context = browser.new_context(java_script_enabled=False, base_url=deployment_url)
    try:
        page = context.new_page()
        problems = watch(page)
        merchant = open_sign_in_page(page, merchant_site)
        ask_for_link(page, email)

        page.goto(link_in(inbox.wait_for(email)))
        continue_button(page, merchant, email).click()

        expect(page).to_have_url(re.compile(r"/portal$"))
        expect(heading(page, f"Hello, {FIRST_NAME}")).to_be_visible()
        problems.assert_clean()
    finally:
        context.close()
