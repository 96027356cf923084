"""Issue 4 in a real browser: every portal page passes axe, fits a 360 px phone and stays
within the Content-Security-Policy, also after htmx swaps a region in place.

The customer is set up so every section has something to show (subscriptions, a past-due
and paid invoices with proration and a discount, a card and a bank account, an address),
with long names to stress the narrow layout. Only the merchant API and the browser are used.
"""

import re

import pytest
from browser_checks import PHONE, assert_accessible, assert_no_horizontal_scroll, watch
from builders import (
    add_payment_method,
    make_coupon,
    make_customer,
    make_price,
    patch_config,
    subscribe,
    unique_email,
)
from playwright.sync_api import expect
from portal_steps import sign_in_with_handoff

LONG_PRODUCTS = (
    "Enterprise analytics workspace with priority support and audit trail",
    "Supercalifragilisticexpialidocious-data-retention-add-on",
)


def full_portal_customer(site) -> dict:
    """A customer with something in every section of every page."""
    patch_config(
        site,
        accepted_payment_methods=["card", "bank_account"],
        portal_header="Questions about your bill? Write to accounts-receivable@example.com",
        return_url="https://example.com/account/settings",
    )
    customer = make_customer(
        site,
        "Ada",
        "Lovelace-Montgomery-Featherstonehaugh",
        email=unique_email("ada.lovelace.montgomery.featherstonehaugh"),
        personal_address={
            "line1": "Flat 12, Marlborough Mansions, Cannon Hill",
            "city": "London",
            "postal_code": "NW6 1RA",
            "country": "GB",
        },
        tax_id="GB123456782",
    )
    declining = add_payment_method(site, customer["id"], "tok_chargeDeclined")
    bank = add_payment_method(site, customer["id"], "tok_bank_account")
    _subscription_paid_with(site, customer, LONG_PRODUCTS[0], bank)
    site.call("PATCH", f"/payment/{declining['id']}", {"is_default": True})
    _subscription_paid_with(site, customer, LONG_PRODUCTS[1], None)  # declines: past due
    return customer


def _subscription_paid_with(site, customer, product_name: str, method) -> None:
    price = make_price(site, product_name, 12900, "EUR")
    coupon = make_coupon(site, "Launch offer", percent_off=10)
    paid_with = {"instrument_id": method["id"]} if method else {}
    sub = subscribe(site, customer["id"], price["id"], coupon_id=coupon["id"], **paid_with)
    if method:  # a prorated seat increase: an invoice with proration lines
        items = [{"price_id": price["id"], "quantity": 3}]
        site.call("PATCH", f"/subscriptions/{sub['id']}", {"items": items})


def portal_pages(page) -> list[str]:
    """Every section in the navigation, and an invoice of each kind from the list."""
    sections = page.get_by_role("navigation", name="Billing sections").get_by_role("link")
    paths = [
        re.sub(r"^https?://[^/]+", "", href)
        for href in sections.evaluate_all("links => links.map(a => a.href)")
        if "/portal" in href
    ]
    page.goto("/portal/invoices")
    links = page.locator("#invoice-list tbody a")
    rows = page.locator("#invoice-list tbody tr")
    for status in ("Past due", "Paid"):
        row = rows.filter(has=page.locator(".badge", has_text=status)).first
        paths.append(row.locator("a").get_attribute("href"))
    assert links.count() >= 3
    return paths


def test_every_portal_page_passes_axe_and_fits_a_phone(page, merchant_site):
    customer = full_portal_customer(merchant_site)
    problems = watch(page)
    sign_in_with_handoff(page, merchant_site, customer["id"], "Hello, Ada")
    paths = portal_pages(page)
    for expected in ("/portal", "/portal/payment-methods", "/portal/billing-information"):
        assert expected in paths
    assert "/portal/invoices" in paths and sum("/portal/invoices/" in p for p in paths) == 2

    for path in paths:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_have_count(1)
        assert_accessible(page)
        assert_no_horizontal_scroll(page)

    # The branded error page, inside the merchant's shell, with the way back.
    assert page.goto("/portal/invoices/inv_doesnotexist").status == 404
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    expect(page.get_by_role("heading", level=1, name="We can't find that page")).to_be_visible()
    expect(page.get_by_role("link", name="Back to your billing overview")).to_be_visible()
    assert_accessible(page)
    assert_no_horizontal_scroll(page)
    problems.assert_clean()


@pytest.fixture
def phone_page(browser, deployment_url):
    context = browser.new_context(viewport=PHONE, base_url=deployment_url)
    yield context.new_page()
    context.close()


def check(page) -> None:
    assert_accessible(page)
    assert_no_horizontal_scroll(page)


def test_pages_stay_accessible_after_htmx_swaps_on_a_phone(phone_page, merchant_site):
    page, site = phone_page, merchant_site
    customer = full_portal_customer(site)
    problems = watch(page)
    sign_in_with_handoff(page, site, customer["id"], "Hello, Ada")

    page.goto("/portal/payment-methods")
    page.evaluate("window.__stillSamePage = true")
    page.get_by_role("button", name="Add card").click()  # nothing filled in
    for label in ("Card number", "Expiry date (MM/YY)", "Security code", "Name on card"):
        expect(page.get_by_label(label)).to_have_attribute("aria-invalid", "true")
    check(page)
    page.get_by_role("button", name=re.compile(r"^Make default .*6789")).click()
    expect(page.locator("#flash .notice")).to_contain_text("is now your default")
    check(page)

    page.goto("/portal/billing-information")
    page.evaluate("window.__stillSamePage = true")
    page.get_by_label("First name").fill("")
    page.get_by_label("First name").press("Tab")
    expect(page.get_by_label("First name")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("City").fill("Kingston upon Thames")
    page.get_by_label("City").press("Tab")
    expect(page.locator("#field-city").get_by_role("status")).to_have_text("Saved")
    check(page)

    page.goto("/portal/invoices")
    past_due = page.locator("#invoice-list tbody tr").filter(has_text="Past due").locator("a")
    past_due.click()
    page.evaluate("window.__stillSamePage = true")
    pay = page.locator("section", has=page.get_by_role("heading", name="Pay now"))
    pay.get_by_label("Pay with").select_option(label="Visa ending in 0341")
    pay.get_by_role("button", name=re.compile(r"^Pay ")).click()
    expect(page.get_by_role("alert")).to_contain_text("Your card was declined.")
    check(page)

    assert page.evaluate("window.__stillSamePage === true")
    problems.assert_clean()
