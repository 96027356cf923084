"""A shared invoice link in a real browser: a returning customer, signed out, opens the
invoice's hosted_invoice_url, gets the company's branded sign-in page for that invoice, asks
for a link and lands on the invoice after following it. With JavaScript on and off.

Only the merchant API and the browser are used, so QA can aim this at a deployment.
"""

import re

from browser_checks import assert_accessible, assert_no_horizontal_scroll, watch
from builders import customer_with_card, make_price, subscribe
from playwright.sync_api import expect
from portal_steps import heading, sign_in_with_handoff

LINK = re.compile(r"https?://\S+/portal/access/[\w.-]+")
HEADER = "Questions about an invoice? Write to billing@example.com"


def customer_with_an_invoice(site) -> tuple[dict, dict]:
    """A customer whose subscription start produced one (paid) invoice; the invoice as the
    merchant API shows it."""
    customer = customer_with_card(site, "tok_visa", "Grace", "Hopper")
    price = make_price(site, "Compiler seats", 2400)
    sub = subscribe(site, customer["id"], price["id"])
    return customer, site.call("GET", f"/invoices/{sub['latest_invoice_id']}")


def signed_in_before(page, site, customer_id: str) -> None:
    """Sign in once (a handoff from the merchant's site), then the session ends without a
    sign-out (the merchant revokes it, as an idle timeout would end it): the browser is a
    returning visitor of this company, without a session. (Signing out would not do: its
    Clear-Site-Data wipes every cookie, the company one included.)"""
    sign_in_with_handoff(page, site, customer_id, "Hello, Grace")
    site.call("POST", "/customer-portal/access/revoke", {"customer_id": customer_id})


def checked(page, js: bool) -> None:
    """axe and the phone-width check run as scripts in the page, so only with JavaScript on;
    these pages are rendered by the server alike either way."""
    if js:
        assert_accessible(page)
        assert_no_horizontal_scroll(page)


def test_a_shared_invoice_link_signs_in_and_opens_the_invoice(
    portal_page, js, merchant_site, inbox
):
    page, site = portal_page, merchant_site
    site.call("PATCH", "/customer-portal-config", {"portal_header": HEADER})
    customer, invoice = customer_with_an_invoice(site)
    email, invoice_id = customer["email"], invoice["id"]
    problems = watch(page)
    signed_in_before(page, site, customer["id"])

    # The shared link, signed out: the company's sign-in page for that invoice.
    page.goto(invoice["hosted_invoice_url"])
    expect(page).to_have_url(re.compile(rf"/p/{site.company_id}\?invoice={invoice_id}$"))
    expect(heading(page, "Sign in to see this invoice")).to_be_visible()
    expect(page.locator(".portal-header")).to_have_text(HEADER)
    checked(page, js)

    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(heading(page, "Check your inbox")).to_be_visible()
    expect(page.locator(".portal-header")).to_have_text(HEADER)
    checked(page, js)

    message = inbox.wait_for(email, subject="sign-in link")  # the invoice's receipt came first
    page.goto(LINK.search(message.get_body(("plain",)).get_content()).group(0))
    expect(heading(page, re.compile(r"^Continue to .+ billing$"))).to_be_visible()
    expect(page.locator(".portal-header")).to_have_text(HEADER)
    checked(page, js)
    page.get_by_role("button", name=re.compile(r"^Continue to .+ billing as ")).click()

    expect(page).to_have_url(re.compile(rf"/portal/invoices/{invoice_id}$"))
    expect(heading(page, f"Invoice {invoice['number']}")).to_be_visible()
    checked(page, js)
    problems.assert_clean()
