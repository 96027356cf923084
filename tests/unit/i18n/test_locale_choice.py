"""Which language a portal page is in: the signed-in customer's saved choice when the
merchant offers it, else the browser's best Accept-Language match among the offered
languages, else the merchant's default. Merchant pages and the JSON API stay English."""

import re

from browsing import page, submit
from builders import patch_config


def html_lang(html: str) -> str:
    return re.search(r'<html lang="([a-z]+)"', html).group(1)


def visit(client, path: str = "/portal", accept: str | None = None) -> str:
    headers = {"Accept-Language": accept} if accept else {}
    response = client.get(path, headers=headers)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def choose(client, language: str, on: str = "/portal"):
    response = submit(client, on, "/portal/language", {"language": language})
    assert response.status_code == 303
    return response


def test_without_a_choice_or_a_browser_language_the_page_is_in_the_default(client, signed_in):
    html = visit(client)
    assert html_lang(html) == "en"
    assert "Billing information" in html and "Sign out" in html


def test_the_best_accept_language_match_among_the_offered_languages(client, signed_in):
    html = visit(client, accept="fr-FR, de-DE;q=0.8, es;q=0.5")
    assert html_lang(html) == "de"
    assert "Rechnungsdaten" in html and "Abmelden" in html


def test_a_language_the_merchant_does_not_offer_is_ignored(client, merchant, signed_in):
    patch_config(merchant, supported_locales=["en", "es"])
    html = visit(client, accept="de-DE, es;q=0.5")
    assert html_lang(html) == "es"
    assert "Datos de facturación" in html


def test_the_merchant_default_when_the_browser_asks_for_nothing_offered(
    client, merchant, signed_in
):
    patch_config(merchant, default_locale="de")
    assert html_lang(visit(client, accept="fr, it;q=0.5")) == "de"
    assert html_lang(visit(client)) == "de"


def test_the_saved_choice_wins_over_accept_language(client, signed_in):
    choose(client, "es")
    html = visit(client, accept="de")
    assert html_lang(html) == "es"
    assert "Cerrar sesión" in html


def test_a_saved_choice_no_longer_offered_gives_way(client, merchant, signed_in):
    choose(client, "es")
    patch_config(merchant, supported_locales=["en", "de"])
    assert html_lang(visit(client, accept="de")) == "de"
    assert html_lang(visit(client, accept="fr")) == "en"


def test_merchant_pages_stay_english(client):
    html = visit(client, "/merchant/sign-in", accept="de")
    assert html_lang(html) == "en"
    assert "Abmelden" not in html and "Anmelden" not in html


def test_the_json_api_stays_english(client, merchant):
    response = merchant.get("/customers/cus_missing", headers={"Accept-Language": "de"})
    assert response.status_code == 404
    message = response.get_json()["error"]["message"]
    assert message.isascii() and "nicht" not in message


def test_signed_out_pages_follow_the_browser(client, merchant):
    html = visit(client, f"/p/{merchant.id}", accept="es-MX")
    assert html_lang(html) == "es"
    assert "Enviarme un enlace de inicio de sesión" in html


def test_the_signed_in_english_page_is_unchanged(client, signed_in):
    html = page(client, "/portal")
    assert "Hello, Jo" in html and "Your subscriptions" in html
