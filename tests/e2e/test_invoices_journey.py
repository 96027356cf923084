"""Issue 4 in a real browser: invoice history, the PDF, and paying a past-due invoice.

Each journey runs with JavaScript (htmx swaps the list page and the pay region in place)
and without it (links and plain posts). Only the merchant API and the browser are used.
"""

import re

from browser_checks import assert_accessible, watch
from builders import customer_with_card, make_price, subscribe
from playwright.sync_api import expect
from portal_steps import MARK, SAME_PAGE, add_card, sign_in_with_handoff

PER_PAGE = 20


def subscribe_to_seats(site, customer_id: str, unit_amount: int = 1500) -> tuple[dict, dict]:
    """A subscription to one seat of a new monthly "Team seats" plan, and its price."""
    price = make_price(site, "Team seats", unit_amount)
    return subscribe(site, customer_id, price["id"]), price


def invoice_numbers(site, customer_id: str) -> list[str]:
    """The customer's invoice numbers, newest first, as the merchant API lists them."""
    rows = site.api.get("/invoices", params={"customer_id": customer_id, "limit": 100})
    return [row["number"] for row in rows.json()["data"]]


def customer_with_invoices(site, count: int) -> tuple[dict, list[str]]:
    """One invoice from starting a subscription, then one per prorated seat increase."""
    customer = customer_with_card(site, "tok_visa")
    sub, price = subscribe_to_seats(site, customer["id"])
    for quantity in range(2, count + 1):
        items = [{"price_id": price["id"], "quantity": quantity}]
        body = {"items": items, "proration_behavior": "prorate", "charge_timing": "immediately"}
        site.call("PATCH", f"/subscriptions/{sub['id']}", body)
    numbers = invoice_numbers(site, customer["id"])
    assert len(numbers) == count
    return customer, numbers


def nav(page, name: str) -> None:
    page.get_by_role("navigation", name="Billing sections").get_by_role("link", name=name).click()


def listed_numbers(page):
    return page.locator("#invoice-list tbody td[data-label=Invoice]")


def expect_list_page(page, number: int, of: int, numbers: list[str]) -> None:
    pager = page.get_by_role("navigation", name="Invoice pages")
    expect(pager).to_contain_text(f"Page {number} of {of}")
    expect(listed_numbers(page)).to_have_text(numbers)


def test_page_through_invoices_and_download_a_pdf(portal_page, js, merchant_site, tmp_path):
    page, site = portal_page, merchant_site
    customer, numbers = customer_with_invoices(site, PER_PAGE + 1)
    problems = watch(page)
    sign_in_with_handoff(page, site, customer["id"], "Hello, Ada")
    nav(page, "Invoices")
    expect(page.get_by_role("heading", level=1, name="Invoices")).to_be_visible()
    if js:
        page.evaluate(MARK)
    expect_list_page(page, 1, 2, numbers[:PER_PAGE])

    page.get_by_role("link", name="Older").click()
    expect_list_page(page, 2, 2, numbers[PER_PAGE:])
    expect(page).to_have_url(re.compile(r"/portal/invoices\?page=2$"))
    expect(page.get_by_role("link", name="Older")).to_have_count(0)
    if js:
        assert_accessible(page)
    page.get_by_role("link", name="Newer").click()
    expect_list_page(page, 1, 2, numbers[:PER_PAGE])
    if js:
        assert page.evaluate(SAME_PAGE), "paging reloaded the whole page"

    newest = numbers[0]  # the last seat increase: a prorated charge
    page.get_by_role("link", name=newest, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=f"Invoice {newest}")).to_be_visible()
    expect(fact(page, "Status")).to_have_text("Paid")
    expect(page.get_by_role("cell", name=re.compile("Prorated")).first).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename == f"invoice-{newest}.pdf"
    saved = tmp_path / "invoice.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF-")
    problems.assert_clean()


def fact(page, term: str):
    """The value next to ``term`` in the invoice summary (Status, Paid, Amount due, …)."""
    return page.locator(".facts div", has=page.get_by_role("term").filter(has_text=term)).locator(
        "dd"
    )


def pay_with(page, method: str) -> None:
    pay = page.locator("section", has=page.get_by_role("heading", name="Pay now"))
    pay.get_by_label("Pay with").select_option(label=method)
    pay.get_by_role("button", name="Pay $15.00").click()


def test_pay_a_past_due_invoice_with_a_newly_added_card(portal_page, js, merchant_site):
    page, site = portal_page, merchant_site
    customer = customer_with_card(site, "tok_chargeDeclined")
    sub, _price = subscribe_to_seats(site, customer["id"])
    (number,) = invoice_numbers(site, customer["id"])
    problems = watch(page)
    sign_in_with_handoff(page, site, customer["id"], "Hello, Ada")

    due = page.locator("section", has=page.get_by_role("heading", name="Invoices to pay"))
    expect(due.get_by_role("row", name=re.compile(rf"{number} .* Past due"))).to_be_visible()
    due.get_by_role("link", name=f"Pay now invoice {number}").click()
    expect(page.get_by_role("heading", level=1, name=f"Invoice {number}")).to_be_visible()
    expect(fact(page, "Status")).to_have_text("Past due")

    pay_with(page, "Visa ending in 0341")  # the card on file declines again
    expect(page.get_by_role("alert")).to_have_text(
        "Your card was declined. Try another payment method."
    )
    page.get_by_role("link", name="Add a new payment method").click()
    expect(page.get_by_role("heading", level=1, name="Payment methods")).to_be_visible()
    add_card(page, "4242 4242 4242 4242")
    expect(page.locator("#flash .notice")).to_have_text("Card ending in 4242 added.")

    nav(page, "Overview")
    page.get_by_role("link", name=f"Pay now invoice {number}").click()
    if js:
        page.evaluate(MARK)
        assert_accessible(page)
    pay_with(page, "Visa ending in 4242")
    expect(page.locator("#flash .notice")).to_have_text("Payment received. Thank you!")
    expect(fact(page, "Status")).to_have_text("Paid")
    expect(fact(page, "Paid")).to_contain_text("with Visa ending in 4242")
    expect(fact(page, "Amount due")).to_have_text("$0.00")
    expect(page.get_by_role("heading", name="Pay now")).to_have_count(0)
    if js:
        assert page.evaluate(SAME_PAGE), "paying reloaded the whole page"
        assert_accessible(page)

    assert site.call("GET", f"/subscriptions/{sub['id']}")["status"] == "active"
    nav(page, "Overview")
    expect(page.get_by_role("heading", name="Invoices to pay")).to_have_count(0)
    problems.assert_clean()
