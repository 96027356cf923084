"""Issue 4 in a real browser: editing billing information in the portal.

With JavaScript each field saves as soon as it changes ("Saved" appears next to it, no page
load); without it the same form saves with the Save button. Either way a reload shows the
values kept, and the merchant API sees them. Only the merchant API and the browser are used.
"""

import pytest
from browser_checks import assert_accessible, watch
from builders import make_customer, unique_email
from playwright.sync_api import expect
from portal_steps import MARK, SAME_PAGE, sign_in_with_handoff

TEXT_FIELDS = {
    "Company name": "Analytical Engines GmbH",
    "Phone": "+49 30 1234567",
    "Address line 1": "Unter den Linden 5",
    "City": "Berlin",
    "Postal code": "10117",
    "Tax ID": "DE123456788",
}
COUNTRY = ("DE", "Germany")


def sign_in(page, site) -> dict:
    customer = make_customer(site, "Ada", "Lovelace", email=unique_email("ada"))
    sign_in_with_handoff(
        page, site, customer["id"], "Billing information", destination="billing_information"
    )
    return customer


def details_form(page):
    return page.locator("form", has=page.get_by_role("button", name="Save", exact=True))


def field_box(page, label: str):
    """The label, input and message of one field (the unit htmx swaps)."""
    return details_form(page).locator(".field", has=page.get_by_label(label, exact=True))


def change_inline(page, label: str, value: str) -> None:
    """Type a new value and leave the field, as a person would; it saves on its own."""
    page.get_by_label(label, exact=True).fill(value)
    page.get_by_label(label, exact=True).press("Tab")
    expect(field_box(page, label).get_by_role("status")).to_have_text("Saved")


def expect_field_error(page, label: str, message: str) -> None:
    box = page.get_by_label(label, exact=True)
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(box).to_have_accessible_description(message)


def expect_values_kept(page) -> None:
    for label, value in TEXT_FIELDS.items():
        expect(page.get_by_label(label, exact=True)).to_have_value(value)
    expect(page.get_by_label("Country", exact=True)).to_have_value(COUNTRY[0])
    expect(page.get_by_label("First name", exact=True)).to_have_value("Ada")


def assert_merchant_sees_the_changes(site, customer_id: str) -> None:
    stored = site.call("GET", f"/customer/{customer_id}")
    entity, address = stored["entity"], stored["entity"]["personal_address"]
    assert entity["phone"] == TEXT_FIELDS["Phone"] and entity["first_name"] == "Ada"
    assert address["line1"] == TEXT_FIELDS["Address line 1"]
    assert (address["city"], address["postal_code"], address["country"]) == (
        TEXT_FIELDS["City"],
        TEXT_FIELDS["Postal code"],
        COUNTRY[0],
    )
    assert stored["tax_id"] == TEXT_FIELDS["Tax ID"]
    assert entity["company_name"] == TEXT_FIELDS["Company name"]


@pytest.mark.parametrize("js", [True], ids=["js"])
def test_fields_save_inline_as_they_change(portal_page, merchant_site):
    page, site = portal_page, merchant_site
    problems = watch(page)
    customer = sign_in(page, site)
    page.evaluate(MARK)

    for label, value in TEXT_FIELDS.items():
        change_inline(page, label, value)
    page.get_by_label("Country", exact=True).select_option(label=COUNTRY[1])
    expect(field_box(page, "Country").get_by_role("status")).to_have_text("Saved")

    page.get_by_label("First name", exact=True).fill("")
    page.get_by_label("First name", exact=True).press("Tab")
    expect_field_error(page, "First name", "Enter your first name.")
    page.get_by_label("Tax ID", exact=True).fill("DE123456789")  # fails its checksum
    page.get_by_label("Tax ID", exact=True).press("Tab")
    expect_field_error(
        page, "Tax ID", "This is not a valid EU VAT number (for example DE123456789)."
    )
    assert_accessible(page)
    change_inline(page, "First name", "Ada")
    change_inline(page, "Tax ID", TEXT_FIELDS["Tax ID"])
    assert page.evaluate(SAME_PAGE), "an inline save reloaded the whole page"

    # Save right after the inline saves (the last one may still be in flight) is not
    # mistaken for someone else's edit.
    details_form(page).get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#flash .notice")).to_have_text("Billing information saved.")

    page.reload()
    expect_values_kept(page)
    assert_merchant_sees_the_changes(site, customer["id"])
    problems.assert_clean()


def test_the_save_button_saves_every_field(portal_page, js, merchant_site):
    """The form works without JavaScript; with it, Save still saves everything at once."""
    page, site = portal_page, merchant_site
    problems = watch(page)
    customer = sign_in(page, site)

    page.get_by_label("First name", exact=True).fill("")
    for label, value in TEXT_FIELDS.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("Country", exact=True).select_option(label=COUNTRY[1])
    details_form(page).get_by_role("button", name="Save", exact=True).click()
    expect_field_error(page, "First name", "Enter your first name.")
    if not js:  # with JS the other fields saved inline as they changed; without, nothing did
        assert site.call("GET", f"/customer/{customer['id']}")["entity"]["phone"] is None

    page.get_by_label("First name", exact=True).fill("Ada")
    details_form(page).get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#flash .notice")).to_have_text("Billing information saved.")

    page.reload()
    expect_values_kept(page)
    assert_merchant_sees_the_changes(site, customer["id"])
    problems.assert_clean()
