"""Issue 12 in a real browser: from the "payment failed" e-mail to a paid invoice.

The merchant API sets the scene: a subscription whose card starts declining. The renewal
then needs time to pass, so `run-billing` runs as of the period's end (``billing_clock``).
From there on it is the customer's journey, with JavaScript on and off: the e-mail's link
signs them in on the failed invoice, they pay it with their other card, and the retries
that were scheduled never charge.
"""

import re
from datetime import datetime, timedelta

from browser_checks import assert_accessible, watch
from builders import add_payment_method, customer_with_card, make_price, subscribe
from playwright.sync_api import expect
from portal_steps import heading

LINK = re.compile(r"https?://\S+/portal/access/[\w.-]+")


def parse_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")


def fact(page, term: str):
    return page.locator(".facts div", has=page.get_by_role("term").filter(has_text=term)).locator(
        "dd"
    )


def test_from_the_payment_failed_email_to_a_paid_invoice(
    portal_page, js, merchant_site, inbox, billing_clock
):
    page, site = portal_page, merchant_site
    customer = customer_with_card(site, "tok_visa")  # Visa ending in 4242, the default
    price = make_price(site, "Studio plan", 1500)
    sub = subscribe(site, customer["id"], price["id"])
    declining = add_payment_method(site, customer["id"], "tok_chargeDeclined")
    site.call("PATCH", f"/subscriptions/{sub['id']}", {"instrument_id": declining["id"]})

    renewal = parse_time(sub["current_period_end"]) + timedelta(minutes=1)
    billing_clock(renewal)  # other journeys' subscriptions may renew too: the API tells ours
    sub = site.call("GET", f"/subscriptions/{sub['id']}")
    invoice = sub["latest_invoice_id"]
    assert sub["status"] == "past_due"

    message = inbox.wait_for(customer["email"], subject="failed")
    text = message.get_body(("plain",)).get_content()
    assert "$15.00" in text and "Your card was declined." in text
    assert message.get_body(("html",)) is not None

    problems = watch(page)
    page.goto(LINK.search(text).group(0))
    page.get_by_role("button", name=re.compile(r"^Continue to .+ billing as ")).click()
    expect(page).to_have_url(re.compile(rf"/portal/invoices/{invoice}$"))
    expect(page.locator(".past-due")).to_contain_text("$15.00 is past due.")
    expect(fact(page, "Status")).to_have_text("Past due")
    if js:
        assert_accessible(page)

    pay = page.locator("section", has=page.get_by_role("heading", name="Pay now"))
    pay.get_by_label("Pay with").select_option(label="Visa ending in 4242")
    pay.get_by_role("button", name="Pay $15.00").click()
    expect(page.locator("#flash .notice")).to_have_text("Payment received. Thank you!")
    expect(fact(page, "Status")).to_have_text("Paid")
    if js:
        assert_accessible(page)
    page.get_by_role("navigation", name="Billing sections").get_by_role(
        "link", name="Overview"
    ).click()
    expect(heading(page, re.compile("^Hello"))).to_be_visible()
    expect(page.locator(".past-due")).to_have_count(0)

    assert site.call("GET", f"/invoices/{invoice}")["status"] == "PAID"
    assert site.call("GET", f"/subscriptions/{sub['id']}")["status"] == "active"
    # The retries scheduled at the failure were canceled by the payment: none ever runs.
    billing_clock(renewal + timedelta(days=20))  # past the whole 2-week schedule
    assert [e["details"]["reason"] for e in dunning_events(site, "canceled")] == ["invoice_paid"]
    assert dunning_events(site, "attempt_succeeded") == dunning_events(site, "attempt_failed") == []
    assert site.call("GET", f"/invoices/{invoice}")["amount_paid"] == 1500
    problems.assert_clean()


def dunning_events(site, what: str) -> list[dict]:
    """This company's activity events of dunning (``dunning.<what>``), over the API."""
    return site.call("GET", f"/customer-portal/events?action=dunning.{what}")
