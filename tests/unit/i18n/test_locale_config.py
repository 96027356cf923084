"""The merchant's languages in the portal config: default_locale and supported_locales,
checked alike by the JSON API and the settings page (a value the API refuses is a 422)."""

import pytest

from portal.i18n import LANGUAGES

CONFIG = "/customer-portal-config"


def test_a_new_config_offers_every_language_with_english_first(merchant):
    config = merchant.ok("GET", CONFIG)
    assert config["default_locale"] == "en"
    assert config["supported_locales"] == list(LANGUAGES) == ["en", "de", "es"]


def test_the_languages_can_be_changed(merchant):
    config = merchant.ok(
        "PATCH", CONFIG, {"supported_locales": ["de", "es"], "default_locale": "es"}
    )
    assert config["supported_locales"] == ["de", "es"] and config["default_locale"] == "es"
    assert merchant.ok("GET", CONFIG)["default_locale"] == "es"


@pytest.mark.parametrize(
    "changes",
    [
        {"default_locale": "fr"},
        {"default_locale": "de-DE"},
        {"default_locale": None},
        {"supported_locales": ["en", "fr"]},
        {"supported_locales": []},
        {"supported_locales": ["en", "en"]},
        {"supported_locales": "en"},
        {"supported_locales": ["de"]},  # the default (en) would not be offered
        {"default_locale": "es", "supported_locales": ["en", "de"]},
    ],
)
def test_bad_languages_are_refused(merchant, changes):
    response = merchant.patch(CONFIG, changes)
    assert response.status_code == 422, response.get_json()
    fields = {name.split(".")[0] for name in response.get_json()["error"]["details"]["fields"]}
    assert fields & {"default_locale", "supported_locales"}, fields
    assert merchant.ok("GET", CONFIG)["supported_locales"] == ["en", "de", "es"]


def test_the_default_must_stay_offered(merchant):
    merchant.ok("PATCH", CONFIG, {"default_locale": "de"})
    response = merchant.patch(CONFIG, {"supported_locales": ["en", "es"]})
    assert response.status_code == 422
    assert "default_locale" in response.get_json()["error"]["details"]["fields"]


def test_the_schema_documents_both_fields(client):
    schema = client.get("/v1/api/openapi.json").get_json()
    text = str(schema)
    assert "default_locale" in text and "supported_locales" in text
