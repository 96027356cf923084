"""The footer's language picker: a plain form with the CSRF token that saves a signed-in
customer's choice (303 back to the page), a visitor's in a cookie; only the merchant's
languages, each named in itself; none when the merchant offers one language."""

import re

from browsing import form, forms_of, page, submit, text_of
from builders import patch_config

from portal.db import db
from portal.models import Customer

PICKER = "/portal/language"


def saved_locale(customer_id: str) -> str | None:
    with db.connection_context():
        return Customer.get_by_id(customer_id).locale


def options(html: str) -> list[tuple[str, str, str]]:
    """(value, lang attribute, label) of each option of the picker."""
    picker = html[html.index('name="language"') :]
    picker = picker[: picker.index("</select>")]
    return re.findall(r'<option value="(\w+)" lang="(\w+)"(?: selected)?>([^<]+)</option>', picker)


def test_the_picker_offers_each_language_in_its_own_name(client, signed_in):
    html = page(client, "/portal")
    assert options(html) == [
        ("en", "en", "English"),
        ("de", "de", "Deutsch"),
        ("es", "es", "Español"),
    ]
    fields = form(html, PICKER)
    assert fields["csrf_token"] and fields["next"] == "/portal"


def test_choosing_a_language_saves_it_and_goes_back_to_the_page(client, signed_in):
    response = submit(client, "/portal/invoices", PICKER, {"language": "de"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/portal/invoices")
    assert saved_locale(signed_in.id) == "de"
    html = page(client, "/portal/invoices")
    assert '<html lang="de">' in html and "Rechnungen" in text_of(html)


def test_the_picker_needs_the_csrf_token(client, signed_in):
    response = client.post(PICKER, data={"language": "de", "next": "/portal"})
    assert response.status_code == 400
    assert saved_locale(signed_in.id) is None


def test_an_unknown_language_changes_nothing(client, signed_in):
    submit(client, "/portal", PICKER, {"language": "fr"})
    assert saved_locale(signed_in.id) is None


def test_the_picker_never_sends_the_browser_to_another_site(client, signed_in):
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"):
        response = submit(client, "/portal", PICKER, {"language": "es", "next": target})
        assert response.status_code == 303
        assert response.headers["Location"] in ("/portal", "http://localhost/portal"), target


def test_no_picker_when_the_merchant_offers_one_language(client, merchant, signed_in):
    patch_config(merchant, supported_locales=["de"], default_locale="de")
    html = page(client, "/portal")
    assert PICKER not in [f["action"] for f in forms_of(html)]
    assert '<html lang="de">' in html


def test_only_the_offered_languages_are_listed(client, merchant, signed_in):
    patch_config(merchant, supported_locales=["en", "es"])
    assert [value for value, _, _ in options(page(client, "/portal"))] == ["en", "es"]


def test_a_visitor_choice_is_kept_in_a_cookie(client, merchant):
    sign_in = f"/p/{merchant.id}"
    response = submit(client, sign_in, PICKER, {"language": "es"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(sign_in)
    assert "portal_language=es" in response.headers["Set-Cookie"]
    html = page(client, sign_in)
    assert '<html lang="es">' in html
    assert "Enviarme un enlace de inicio de sesión" in html
