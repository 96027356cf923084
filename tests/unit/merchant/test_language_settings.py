"""The Languages section of the portal settings page: which languages customers may choose
and the default, saved through the same validation as the JSON API. The page itself stays
English whatever the browser asks for."""

CONFIG = "/customer-portal-config"


def test_the_page_has_both_language_controls_and_stays_english(owner):
    html = owner.get("/merchant/settings", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Languages offered" in html and "Default language" in html
    for name in ("supported_locales", "default_locale"):
        assert f'id="field-{name}"' in html
        assert f'hx-post="/merchant/settings/field/{name}"' in html
    assert "German (Deutsch)" in html and "Spanish (Español)" in html


def test_saving_the_languages_matches_the_api(owner, merchant):
    response = owner.hx_post(
        "/merchant/settings/field/supported_locales", {"supported_locales": ["en", "de"]}
    )
    assert response.status_code == 200
    assert merchant.ok("GET", CONFIG)["supported_locales"] == ["en", "de"]
    response = owner.hx_post("/merchant/settings/field/default_locale", {"default_locale": "de"})
    assert response.status_code == 200
    assert merchant.ok("GET", CONFIG)["default_locale"] == "de"


def test_a_default_that_is_not_offered_is_refused_and_nothing_changes(owner, merchant):
    merchant.ok("PATCH", CONFIG, {"supported_locales": ["en", "es"]})
    response = owner.hx_post("/merchant/settings/field/default_locale", {"default_locale": "de"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Trigger" not in response.headers
    assert "default language must be one of" in html and 'id="cfg-default_locale-error"' in html
    assert merchant.ok("GET", CONFIG)["default_locale"] == "en"
