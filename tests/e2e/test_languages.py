"""Issue 14 (languages) in a real browser, with JavaScript on and off: the footer's language
picker turns the portal German, then Spanish, then English again; the page text and
<html lang> follow, the choice stays across pages, and axe passes in each language. The
signed-out sign-in page has the same picker. Only the merchant API and the browser are used."""

import re

from browser_checks import assert_accessible, watch
from builders import build_account, make_price, patch_config
from playwright.sync_api import expect
from portal_steps import heading, sign_in_with_handoff


def check(page, js: bool) -> None:
    """axe runs in the page, so only with JavaScript on (as in the other journeys)."""
    if js:
        assert_accessible(page)


def pick(page, label: str, button: str) -> None:
    """Choose ``label`` in the footer's picker and press its button (``button``: its name in
    the page's current language)."""
    footer = page.get_by_role("contentinfo")
    footer.get_by_role("combobox").select_option(label=label)
    footer.get_by_role("button", name=button).click()


def test_switching_the_portal_language_from_the_footer(portal_page, merchant_site, js):
    page, site = portal_page, merchant_site
    problems = watch(page) if js else None
    patch_config(site, supported_locales=["en", "de", "es"], default_locale="en")
    price = make_price(site, unit_amount=123456, currency="EUR")
    account = build_account(site, price=price)
    sign_in_with_handoff(page, site, account.id, "Hello, Jo")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    options = page.get_by_role("contentinfo").locator("option")
    expect(options).to_have_text(["English", "Deutsch", "Español"])
    for code in ("en", "de", "es"):
        expect(options.and_(page.locator(f'[value="{code}"]'))).to_have_attribute("lang", code)
    check(page, js)

    pick(page, "Deutsch", "Change language")
    expect(heading(page, "Hallo Jo")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("navigation", name="Bereiche der Abrechnung")).to_be_visible()
    expect(page.get_by_text(re.compile(r"1\.234,56\s€"), exact=False).first).to_be_visible()
    check(page, js)

    page.get_by_role("link", name="Rechnungen").click()
    expect(heading(page, "Rechnungen")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    check(page, js)

    pick(page, "Español", "Sprache ändern")
    expect(heading(page, "Facturas")).to_be_visible()  # back on the same page
    expect(page.locator("html")).to_have_attribute("lang", "es")
    check(page, js)

    pick(page, "English", "Cambiar idioma")
    expect(heading(page, "Invoices")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    if problems:
        problems.assert_clean()


def test_the_sign_in_page_has_the_picker_too(portal_page, merchant_site, js):
    page, site = portal_page, merchant_site
    page.goto(f"/p/{site.company_id}")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    pick(page, "Deutsch", "Change language")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("button", name="Anmeldelink per E-Mail senden")).to_be_visible()
    check(page, js)
    pick(page, "Español", "Sprache ändern")
    expect(
        page.get_by_role("button", name="Enviarme un enlace de inicio de sesión")
    ).to_be_visible()
    check(page, js)


def test_no_picker_when_one_language_is_offered(page, merchant_site):
    patch_config(merchant_site, supported_locales=["es"], default_locale="es")
    account = build_account(merchant_site)
    sign_in_with_handoff(page, merchant_site, account.id, "Hola, Jo")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("contentinfo")).to_have_count(0)
    assert_accessible(page)


def test_card_errors_from_the_processor_are_shown_in_german(page, merchant_site):
    account = build_account(merchant_site)
    sign_in_with_handoff(page, merchant_site, account.id, "Hello, Jo")
    pick(page, "Deutsch", "Change language")
    page.goto("/portal/payment-methods")
    expect(heading(page, "Zahlungsmethoden")).to_be_visible()
    page.get_by_role("button", name="Karte hinzufügen").click()  # nothing filled in
    expect(page.locator("#card-number-error")).to_have_text("Geben Sie Ihre Kartennummer ein.")
    expect(page.get_by_text("Geben Sie den Namen auf der Karte ein.")).to_be_visible()
    assert_accessible(page)
