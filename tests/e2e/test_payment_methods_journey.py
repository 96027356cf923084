"""Issue 4 in a real browser: adding, defaulting and removing payment methods in the portal.

Each journey runs with JavaScript (htmx swaps the methods region in place) and without it
(plain form posts answered with a redirect, or the whole page with its errors). Removing
asks first: with htmx the question replaces the method's row and takes the focus; without
JavaScript it is a page of its own. The same card is never saved twice.
Only the merchant API and the browser are used.
"""

import re

import pytest
from browser_checks import assert_accessible, watch
from builders import customer_with_card, make_price, subscribe
from playwright.sync_api import expect
from portal_steps import MARK, SAME_PAGE, add_card, sign_in_with_handoff


def open_payment_methods(page, site, customer_id: str) -> None:
    sign_in_with_handoff(page, site, customer_id, "Payment methods", destination="payment_methods")


def saved_methods(page):
    return page.locator("section", has=page.get_by_role("heading", name="Saved methods")).locator(
        ".method"
    )


def method_row(page, label: str):
    return saved_methods(page).filter(has_text=label)


def ask_to_remove(page, last_four: str, js: bool):
    """Press a method's Remove: the confirmation, in place (htmx) or as its own page."""
    page.get_by_role("link", name=f"Remove method ending in {last_four}").click()
    question = page.get_by_role("group", name=re.compile(rf"^Remove .* ending in {last_four}"))
    expect(question).to_be_visible()
    if js:  # in the row, and the focus moved to the question, so it is read out
        expect(question.locator("[id$='-question']")).to_be_focused()
        expect(page.get_by_role("heading", level=1, name="Payment methods")).to_be_visible()
    else:
        expect(page.get_by_role("heading", level=1, name="Remove payment method")).to_be_visible()
        expect(page).to_have_url(re.compile(r"/portal/payment-methods/[^/]+/remove$"))
    return question


def confirm_removal(page, last_four: str, js: bool) -> None:
    question = ask_to_remove(page, last_four, js)
    question.get_by_role("button", name=f"Remove method ending in {last_four}").click()


def expect_notice(page, text: str) -> None:
    """The message lands in the page's one live region, so screen readers announce it."""
    expect(page.locator("#flash")).to_have_count(1)
    expect(page.locator("#flash[role=status] .notice")).to_have_text(text)


def expect_card_field_error(page, message: str, js: bool = False) -> None:
    number = page.get_by_label("Card number")
    expect(number).to_have_attribute("aria-invalid", "true")
    expect(number).to_have_accessible_description(message)
    if not js:  # the server never echoes a card number back into the page
        expect(number).to_have_value("")


def card_posts(page) -> list[str]:
    """The bodies of every post to the portal's add-card route, as the browser sent them."""
    bodies: list[str] = []
    page.on(
        "request",
        lambda request: (
            bodies.append(request.post_data or "")
            if request.method == "POST" and request.url.endswith("/portal/payment-methods/card")
            else None
        ),
    )
    return bodies


def instruments(site, customer_id: str) -> dict[str, dict]:
    rows = site.call("GET", f"/customer/{customer_id}/instruments")
    return {row["last_four"]: row for row in rows}


REFUSED_CARDS = [
    ("4000 0000 0000 0002", "Your card was declined."),
    ("4242 4242 4242 4241", "Your card number is not valid."),
]


def test_add_card_make_it_default_and_remove_the_old_one(portal_page, js, merchant_site):
    page, site = portal_page, merchant_site
    customer = customer_with_card(site, "tok_mastercard")
    problems = watch(page)
    posted = card_posts(page)
    open_payment_methods(page, site, customer["id"])
    if js:
        page.evaluate(MARK)

    for number, message in REFUSED_CARDS:
        add_card(page, number, postal_code="94107")
        expect_card_field_error(page, message, js)
        expect(saved_methods(page)).to_have_count(1)
    if js:  # axe runs as a script in the page
        assert_accessible(page)

    add_card(page, "4242 4242 4242 4242", postal_code="94107")
    expect_notice(page, "Card ending in 4242 added.")
    expect(method_row(page, "Visa ending in 4242")).to_be_visible()
    expect(saved_methods(page)).to_have_count(2)
    expect(page.get_by_label("Card number")).not_to_have_attribute("aria-invalid", "true")

    # the same card again: refused on its number
    add_card(page, "4242 4242 4242 4242", postal_code="94107")
    expect_card_field_error(page, "This card is already saved.", js)
    expect(saved_methods(page)).to_have_count(2)

    new_card = method_row(page, "Visa ending in 4242")
    new_card.get_by_role("button", name="Make default (ending in 4242)").click()
    expect_notice(page, "The method ending in 4242 is now your default.")
    expect(method_row(page, "Visa ending in 4242").locator(".badge")).to_have_text("Default")
    expect(method_row(page, "Mastercard ending in 4444").locator(".badge")).to_have_count(0)

    ask_to_remove(page, "4444", js)  # second thoughts: nothing is removed
    if js:
        assert_accessible(page)
    page.get_by_role("link", name="Keep it").click()
    expect(saved_methods(page)).to_have_count(2)
    keep_link = page.get_by_role("link", name="Remove method ending in 4444")
    expect(keep_link).to_be_visible()
    if js:  # the row is back and the focus with it
        expect(keep_link).to_be_focused()
    assert set(instruments(site, customer["id"])) == {"4242", "4444"}

    confirm_removal(page, "4444", js)
    expect_notice(page, "The method ending in 4444 was removed.")
    expect(saved_methods(page)).to_have_count(1)
    expect(method_row(page, "Visa ending in 4242")).to_be_visible()
    if js:
        assert page.evaluate(SAME_PAGE), "an htmx action reloaded the whole page"
        assert_accessible(page)
    stored = instruments(site, customer["id"])
    assert set(stored) == {"4242"} and stored["4242"]["is_default"] is True
    if js:  # the card went to the tokenizer; the portal saw only its token
        assert posted and all("card-token=tok_" in body for body in posted)
        assert not any("4242" in body or "card-cvc" in body for body in posted)
    problems.assert_clean()


@pytest.mark.parametrize("js", [False], ids=["no-js"])
def test_reloading_after_adding_a_card_adds_nothing_twice(portal_page, merchant_site):
    """Post/redirect/get: refreshing the page after a plain post does not resubmit it."""
    page, site = portal_page, merchant_site
    customer = customer_with_card(site, "tok_mastercard")
    open_payment_methods(page, site, customer["id"])
    add_card(page, "4242 4242 4242 4242", postal_code="94107")
    expect(saved_methods(page)).to_have_count(2)

    page.reload()
    expect(page.get_by_role("heading", level=1, name="Payment methods")).to_be_visible()
    expect(saved_methods(page)).to_have_count(2)
    assert set(instruments(site, customer["id"])) == {"4242", "4444"}


def test_the_only_card_of_a_live_subscription_cannot_be_removed(portal_page, js, merchant_site):
    page, site = portal_page, merchant_site
    customer = customer_with_card(site, "tok_visa")
    subscribe(site, customer["id"], make_price(site, "Pro plan", 1500)["id"])
    problems = watch(page)
    open_payment_methods(page, site, customer["id"])

    confirm_removal(page, "4242", js)
    expect(page.get_by_role("alert")).to_have_text(
        "This is the only payment method for an active subscription. Add another one first."
    )
    expect(method_row(page, "Visa ending in 4242")).to_be_visible()
    assert set(instruments(site, customer["id"])) == {"4242"}
    problems.assert_clean()
