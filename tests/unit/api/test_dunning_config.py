"""GET|POST|PATCH /dunning-config: the documented defaults until saved, POST replaces, PATCH
merges, every rule refuses with a 422 that changes nothing, the easylabs client's names work
both ways, and each company has its own config."""

import re

import pytest

from portal.db import db
from portal.models import DunningConfig

from .apiworld import assert_error_envelope, validation_fields

PATH = "/dunning-config"
ISO_MS = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"
STAMPS = ("version", "updated_at")


def days(*numbers) -> list[dict]:
    return [{"days_after_failure": n} for n in numbers]


# The defaults the issue documents, as GET returns them (schedules as objects).
DEFAULTS = {
    "retry_mode": "smart",
    "smart_retry_attempts": 4,
    "smart_retry_window": "2_weeks",
    "custom_retry_schedule": days(3, 5, 7),
    "bank_debit_retries_enabled": False,
    "bank_debit_retry_schedule": days(3, 7),
    "subscription_terminal_action": "cancel",
    "invoice_terminal_action": "past_due",
    "payment_failed_email_enabled": True,
    "expiring_card_email_enabled": True,
    "card_expiry_warn_days": 30,
    "payment_failed_recovery_page_mode": "hosted",
    "payment_failed_custom_link_url": None,
    "expiring_card_recovery_page_mode": "hosted",
    "expiring_card_custom_link_url": None,
    # The easylabs client's names of the same settings.
    "recovery_page_mode": "hosted",
    "custom_recovery_link": None,
    "notifications": {
        "payment_failed_email_enabled": True,
        "expiring_card_email_enabled": True,
        "card_expiry_warn_days": 30,
    },
}


def rows(company_id=None) -> list:
    with db.connection_context():
        query = DunningConfig.select()
        if company_id:
            query = query.where(DunningConfig.company == company_id)
        return list(query.order_by(DunningConfig.id).tuples())


def settings(data: dict) -> dict:
    return {k: data[k] for k in DEFAULTS}


def test_the_defaults_are_read_without_storing_anything(merchant):
    data = merchant.ok("GET", PATH)
    assert settings(data) == DEFAULTS
    assert data["company_id"] == merchant.id and data["version"] == 1
    for stamp in ("created_at", "updated_at"):
        assert re.fullmatch(ISO_MS, data[stamp])
    assert merchant.ok("GET", PATH + "/") == data  # trailing slash, and stable across reads
    assert rows() == []
    saved = merchant.ok("PATCH", PATH, {"retry_mode": "custom"})
    assert len(rows()) == 1 and saved["created_at"] == data["created_at"]
    assert saved["version"] == 2


CHANGES = [
    ("retry_mode", "custom"),
    ("smart_retry_attempts", 1),
    ("smart_retry_attempts", 8),
    ("smart_retry_window", "1_week"),
    ("smart_retry_window", "4_weeks"),
    ("custom_retry_schedule", days(1)),
    ("custom_retry_schedule", days(1, 2, 3, 4, 5, 6, 7, 60)),
    ("bank_debit_retries_enabled", True),
    ("bank_debit_retry_schedule", days(2, 9, 30)),
    ("subscription_terminal_action", "unpaid"),
    ("subscription_terminal_action", "past_due"),
    ("subscription_terminal_action", "pause"),
    ("invoice_terminal_action", "uncollectible"),
    ("payment_failed_email_enabled", False),
    ("expiring_card_email_enabled", False),
    ("card_expiry_warn_days", 1),
    ("card_expiry_warn_days", 90),
    ("payment_failed_custom_link_url", "https://acme.example/billing?fix=1#card"),
    ("expiring_card_custom_link_url", "https://acme.example/cards"),
]


@pytest.mark.parametrize(("field", "value"), CHANGES)
def test_patch_changes_one_field_and_leaves_the_others(merchant, field, value):
    if field == "smart_retry_window" and value == "1_week":
        merchant.ok("PATCH", PATH, {"smart_retry_attempts": 3})
    before = merchant.ok("GET", PATH)
    after = merchant.ok("PATCH", PATH, {field: value})
    assert after[field] == value
    assert merchant.ok("GET", PATH) == after
    others = [k for k in before if k not in (field, *STAMPS) and k in DEFAULTS]
    others = [k for k in others if k not in ("notifications", "custom_recovery_link")]
    assert {k: after[k] for k in others} == {k: before[k] for k in others}
    assert after["version"] == before["version"] + 1


def test_patches_accumulate(merchant):
    merchant.ok("PATCH", PATH, {"retry_mode": "custom", "custom_retry_schedule": [2, 4]})
    merchant.ok("PATCH", PATH, {"invoice_terminal_action": "uncollectible"})
    data = merchant.ok("PATCH", PATH, {})
    assert data["retry_mode"] == "custom" and data["custom_retry_schedule"] == days(2, 4)
    assert data["invoice_terminal_action"] == "uncollectible"


def test_post_replaces_every_field_and_the_rest_take_their_default(merchant):
    merchant.ok(
        "PATCH",
        PATH,
        {"retry_mode": "custom", "card_expiry_warn_days": 10, "bank_debit_retries_enabled": True},
    )
    data = merchant.ok("POST", PATH, {"subscription_terminal_action": "pause"})
    assert settings(data) == {**DEFAULTS, "subscription_terminal_action": "pause"}
    assert merchant.ok("GET", PATH) == data
    assert settings(merchant.ok("POST", PATH, {})) == DEFAULTS
    assert len(rows()) == 1


def test_post_creates_the_config_with_every_field(merchant):
    body = {
        "retry_mode": "custom",
        "smart_retry_attempts": 2,
        "smart_retry_window": "3_weeks",
        "custom_retry_schedule": [1, 3, 8],
        "bank_debit_retries_enabled": True,
        "bank_debit_retry_schedule": days(5),
        "subscription_terminal_action": "unpaid",
        "invoice_terminal_action": "uncollectible",
        "payment_failed_email_enabled": False,
        "expiring_card_email_enabled": False,
        "card_expiry_warn_days": 14,
        "payment_failed_recovery_page_mode": "custom_link",
        "payment_failed_custom_link_url": "https://acme.example/pay",
        "expiring_card_recovery_page_mode": "custom_link",
        "expiring_card_custom_link_url": "https://acme.example/cards",
    }
    data = merchant.ok("POST", PATH, body)
    expected = {**body, "custom_retry_schedule": days(1, 3, 8)}
    assert {k: data[k] for k in body} == expected
    assert data["recovery_page_mode"] == "custom_link"
    assert data["custom_recovery_link"] == "https://acme.example/pay"
    assert data["notifications"] == {
        "payment_failed_email_enabled": False,
        "expiring_card_email_enabled": False,
        "card_expiry_warn_days": 14,
    }


def test_schedules_take_day_numbers_or_objects_and_are_returned_as_objects(merchant):
    data = merchant.ok("PATCH", PATH, {"custom_retry_schedule": [2, {"days_after_failure": 6}]})
    assert data["custom_retry_schedule"] == days(2, 6)
    with db.connection_context():
        assert DunningConfig.get().settings["custom_retry_schedule"] == [2, 6]


def test_nullable_urls_clear_with_null(merchant):
    merchant.ok("PATCH", PATH, {"payment_failed_custom_link_url": "https://acme.example/pay"})
    data = merchant.ok("PATCH", PATH, {"payment_failed_custom_link_url": None})
    assert data["payment_failed_custom_link_url"] is None


# (body, the field the 422 names); each is sent over a valid change that must not be saved.
REFUSED = [
    ({"retry_mode": "aggressive"}, "retry_mode"),
    ({"smart_retry_attempts": 0}, "smart_retry_attempts"),
    ({"smart_retry_attempts": 9}, "smart_retry_attempts"),
    ({"smart_retry_attempts": -1}, "smart_retry_attempts"),
    ({"smart_retry_attempts": 10**30}, "smart_retry_attempts"),
    ({"smart_retry_attempts": 8, "smart_retry_window": "1_week"}, "smart_retry_attempts"),
    ({"smart_retry_window": "5_weeks"}, "smart_retry_window"),
    ({"custom_retry_schedule": []}, "custom_retry_schedule"),
    ({"custom_retry_schedule": list(range(1, 10))}, "custom_retry_schedule"),
    ({"custom_retry_schedule": [0, 3]}, "custom_retry_schedule"),
    ({"custom_retry_schedule": [3, 61]}, "custom_retry_schedule"),
    ({"custom_retry_schedule": [5, 3]}, "custom_retry_schedule"),
    ({"custom_retry_schedule": [3, 3]}, "custom_retry_schedule"),
    ({"custom_retry_schedule": days(3, 2)}, "custom_retry_schedule"),
    ({"bank_debit_retry_schedule": []}, "bank_debit_retry_schedule"),
    ({"bank_debit_retry_schedule": [7, 3]}, "bank_debit_retry_schedule"),
    ({"bank_debit_retry_schedule": [1, 2, 3, 4, 5, 6, 7, 8, 9]}, "bank_debit_retry_schedule"),
    ({"bank_debit_retry_schedule": [90]}, "bank_debit_retry_schedule"),
    ({"subscription_terminal_action": "delete"}, "subscription_terminal_action"),
    ({"invoice_terminal_action": "void"}, "invoice_terminal_action"),
    ({"card_expiry_warn_days": 0}, "card_expiry_warn_days"),
    ({"card_expiry_warn_days": 91}, "card_expiry_warn_days"),
    ({"payment_failed_recovery_page_mode": "email"}, "payment_failed_recovery_page_mode"),
    ({"expiring_card_recovery_page_mode": "email"}, "expiring_card_recovery_page_mode"),
    # A custom link mode needs its https URL.
    ({"payment_failed_recovery_page_mode": "custom_link"}, "payment_failed_custom_link_url"),
    ({"expiring_card_recovery_page_mode": "custom_link"}, "expiring_card_custom_link_url"),
    (
        {
            "payment_failed_recovery_page_mode": "custom_link",
            "payment_failed_custom_link_url": "http://acme.example/pay",
        },
        "payment_failed_custom_link_url",
    ),
    (
        {"expiring_card_recovery_page_mode": "custom_link", "expiring_card_custom_link_url": ""},
        "expiring_card_custom_link_url",
    ),
    # Unknown fields and wrong types (strict: no "1" for 1, no 1 for true).
    ({"bogus_field": True}, "bogus_field"),
    ({"smart_retry_attempts": "3"}, "smart_retry_attempts"),
    ({"smart_retry_attempts": 3.0}, "smart_retry_attempts"),
    ({"smart_retry_attempts": True}, "smart_retry_attempts"),
    ({"smart_retry_attempts": None}, "smart_retry_attempts"),
    ({"bank_debit_retries_enabled": 1}, "bank_debit_retries_enabled"),
    ({"bank_debit_retries_enabled": "true"}, "bank_debit_retries_enabled"),
    ({"retry_mode": None}, "retry_mode"),
    ({"custom_retry_schedule": "3,5,7"}, "custom_retry_schedule"),
    ({"custom_retry_schedule": ["3"]}, "custom_retry_schedule"),
    ({"custom_retry_schedule": [True]}, "custom_retry_schedule"),
    ({"custom_retry_schedule": [{"days_after_failure": "3"}]}, "custom_retry_schedule"),
    ({"custom_retry_schedule": [{"days": 3}]}, "custom_retry_schedule"),
    ({"custom_retry_schedule": [{"days_after_failure": 3, "x": 1}]}, "custom_retry_schedule"),
    ({"custom_retry_schedule": list(range(1, 200))}, "custom_retry_schedule"),
    ({"card_expiry_warn_days": "30"}, "card_expiry_warn_days"),
    ({"payment_failed_custom_link_url": 7}, "payment_failed_custom_link_url"),
    ({"notifications": {"sms_enabled": True}}, "notifications"),
    ({"notifications": {"card_expiry_warn_days": "5"}}, "notifications"),
    ({"notifications": {"card_expiry_warn_days": 200}}, "card_expiry_warn_days"),
    ({"notifications": None}, "notifications"),
    ({"notifications": "on"}, "notifications"),
    ({"recovery_page_mode": "email"}, "recovery_page_mode"),
    ({"recovery_page_mode": "custom_link"}, "payment_failed_custom_link_url"),
    ({"custom_recovery_link": "ftp://acme.example"}, "payment_failed_custom_link_url"),
    # Huge strings.
    ({"retry_mode": "x" * 100_000}, "retry_mode"),
    ({"payment_failed_custom_link_url": "https://acme.example/" + "a" * 5000}, "payment_failed"),
]
BAD_URLS = [
    "javascript:alert(1)",
    "http://acme.example/",
    "//evil.example/path",
    "/relative/path",
    "acme.example",
    "https://",
    "https://user@evil.example/",
    "https://user:pw@acme.example/",
    "https://acme.example/a b",
    " https://acme.example/",
    "https://acme.example/\n",
    "https:\\\\evil.example",
    "https://acme.example/" + "a" * 2028,
]
URL_CASES = [
    ({name: url}, name)
    for url in BAD_URLS
    for name in ("payment_failed_custom_link_url", "expiring_card_custom_link_url")
]


@pytest.mark.parametrize("method", ["PATCH", "POST"])
@pytest.mark.parametrize(("body", "field"), REFUSED + URL_CASES)
def test_rules_refuse_and_nothing_is_saved(merchant, method, body, field):
    merchant.ok("PATCH", PATH, {"card_expiry_warn_days": 45})
    original, stored = merchant.ok("GET", PATH), rows()
    response = merchant.call(method, PATH, {"subscription_terminal_action": "pause", **body})
    named = validation_fields(response)
    assert any(key == field or key.startswith(field) for key in named), named
    assert all(isinstance(message, str) and message for message in named.values())
    assert rows() == stored
    assert merchant.ok("GET", PATH) == original


def test_a_2048_character_url_is_accepted(merchant):
    url = "https://acme.example/" + "a" * 2027
    data = merchant.ok("PATCH", PATH, {"expiring_card_custom_link_url": url})
    assert data["expiring_card_custom_link_url"] == url


def test_custom_link_with_its_https_url_is_accepted(merchant):
    data = merchant.ok(
        "PATCH",
        PATH,
        {
            "payment_failed_recovery_page_mode": "custom_link",
            "payment_failed_custom_link_url": "https://acme.example/pay",
        },
    )
    assert data["payment_failed_recovery_page_mode"] == "custom_link"
    # Clearing the URL while the mode still needs it is refused.
    response = merchant.patch(PATH, {"payment_failed_custom_link_url": None})
    assert "payment_failed_custom_link_url" in validation_fields(response)
    back = merchant.ok("PATCH", PATH, {"payment_failed_recovery_page_mode": "hosted"})
    assert back["payment_failed_custom_link_url"] == "https://acme.example/pay"  # kept


def test_shrinking_the_window_below_the_attempts_names_the_window(merchant):
    merchant.ok("PATCH", PATH, {"smart_retry_attempts": 8})
    response = merchant.patch(PATH, {"smart_retry_window": "1_week"})
    fields = validation_fields(response)
    assert list(fields) == ["smart_retry_window"] and "7 attempts" in fields["smart_retry_window"]


def test_every_broken_rule_is_named_at_once(merchant):
    response = merchant.patch(
        PATH,
        {
            "smart_retry_attempts": 0,
            "custom_retry_schedule": [4, 2],
            "card_expiry_warn_days": 0,
            "expiring_card_recovery_page_mode": "custom_link",
        },
    )
    error = assert_error_envelope(response, 422, "VALIDATION_ERROR")
    assert set(error["details"]["fields"]) == {
        "smart_retry_attempts",
        "custom_retry_schedule",
        "card_expiry_warn_days",
        "expiring_card_custom_link_url",
    }
    assert rows() == []


# --- the easylabs client's names -----------------------------------------------------------


def test_the_clients_names_are_accepted_and_returned(merchant):
    data = merchant.ok(
        "PATCH",
        PATH,
        {
            "recovery_page_mode": "custom_link",
            "custom_recovery_link": "https://acme.example/fix",
            "notifications": {"card_expiry_warn_days": 7, "expiring_card_email_enabled": False},
        },
    )
    assert data["payment_failed_recovery_page_mode"] == data["recovery_page_mode"] == "custom_link"
    assert data["payment_failed_custom_link_url"] == "https://acme.example/fix"
    assert data["custom_recovery_link"] == "https://acme.example/fix"
    assert (data["card_expiry_warn_days"], data["expiring_card_email_enabled"]) == (7, False)
    assert data["payment_failed_email_enabled"] is True  # left out of notifications: unchanged
    assert data["notifications"] == {
        "payment_failed_email_enabled": True,
        "expiring_card_email_enabled": False,
        "card_expiry_warn_days": 7,
    }
    # POST with the client's names: the rest take their default.
    data = merchant.ok("POST", PATH, {"notifications": {"payment_failed_email_enabled": False}})
    assert settings(data) == {
        **DEFAULTS,
        "payment_failed_email_enabled": False,
        "notifications": {**DEFAULTS["notifications"], "payment_failed_email_enabled": False},
    }


def test_both_names_with_the_same_value_are_fine(merchant):
    data = merchant.ok(
        "PATCH",
        PATH,
        {
            "recovery_page_mode": "hosted",
            "payment_failed_recovery_page_mode": "hosted",
            "card_expiry_warn_days": 12,
            "notifications": {"card_expiry_warn_days": 12},
        },
    )
    assert data["card_expiry_warn_days"] == 12


@pytest.mark.parametrize("method", ["PATCH", "POST"])
@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"recovery_page_mode": "hosted", "payment_failed_recovery_page_mode": "custom_link"},
            "recovery_page_mode",
        ),
        (
            {
                "custom_recovery_link": "https://a.example/",
                "payment_failed_custom_link_url": "https://b.example/",
            },
            "custom_recovery_link",
        ),
        (
            {"custom_recovery_link": None, "payment_failed_custom_link_url": "https://b.example/"},
            "custom_recovery_link",
        ),
        (
            {"notifications": {"card_expiry_warn_days": 5}, "card_expiry_warn_days": 6},
            "notifications.card_expiry_warn_days",
        ),
        (
            {
                "notifications": {"payment_failed_email_enabled": False},
                "payment_failed_email_enabled": True,
            },
            "notifications.payment_failed_email_enabled",
        ),
    ],
)
def test_both_names_with_different_values_are_refused(merchant, method, body, field):
    response = merchant.call(method, PATH, body)
    assert field in validation_fields(response)
    assert rows() == []


def test_a_refusal_names_the_field_also_as_it_was_sent(merchant):
    body = {
        "recovery_page_mode": "custom_link",
        "custom_recovery_link": "http://acme.example/fix",
        "notifications": {"card_expiry_warn_days": 0, "expiring_card_email_enabled": False},
    }
    fields = validation_fields(merchant.patch(PATH, body))
    assert set(fields) == {
        "payment_failed_custom_link_url",
        "custom_recovery_link",
        "card_expiry_warn_days",
        "notifications.card_expiry_warn_days",
    }
    assert fields["custom_recovery_link"] == fields["payment_failed_custom_link_url"]
    assert rows() == []


# --- who sees what -------------------------------------------------------------------------


def test_each_company_has_its_own_config(merchant, other_merchant):
    merchant.ok("PATCH", PATH, {"retry_mode": "custom", "card_expiry_warn_days": 5})
    theirs = other_merchant.ok("GET", PATH)
    assert theirs["company_id"] == other_merchant.id and settings(theirs) == DEFAULTS
    other_merchant.ok("POST", PATH, {"invoice_terminal_action": "uncollectible"})
    mine = merchant.ok("GET", PATH)
    assert (mine["retry_mode"], mine["card_expiry_warn_days"]) == ("custom", 5)
    assert mine["invoice_terminal_action"] == "past_due"
    assert len(rows(merchant.id)) == len(rows(other_merchant.id)) == 1


def test_keys_are_needed_and_a_publishable_key_cannot_read_or_write(client, merchant):
    assert_error_envelope(client.get(f"/v1/api{PATH}"), 401)
    for method in ("GET", "POST", "PATCH"):
        response = merchant.call(method, PATH, {"retry_mode": "custom"}, key=merchant.publishable)
        assert_error_envelope(response, 403, "PERMISSION_DENIED")
    assert rows() == []


def test_idempotency_key_replays_the_first_response(merchant):
    headers = {"Idempotency-Key": "dunning-1"}
    body = {"custom_retry_schedule": [2, 4]}
    first = merchant.patch(PATH, body, headers=headers)
    again = merchant.patch(PATH, body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert merchant.ok("GET", PATH)["version"] == 2  # saved once
    other = merchant.patch(PATH, {"custom_retry_schedule": [3]}, headers=headers)
    assert_error_envelope(other, 409, "IDEMPOTENCY_KEY_REUSED")
    replaced = merchant.post(PATH, {}, headers={"Idempotency-Key": "dunning-2"})
    assert merchant.post(PATH, {}, headers={"Idempotency-Key": "dunning-2"}).get_data() == (
        replaced.get_data()
    )
    assert merchant.ok("GET", PATH)["version"] == 3


def test_a_refused_change_replays_its_422(merchant):
    headers = {"Idempotency-Key": "dunning-bad"}
    first = merchant.patch(PATH, {"card_expiry_warn_days": 0}, headers=headers)
    again = merchant.patch(PATH, {"card_expiry_warn_days": 0}, headers=headers)
    assert first.status_code == again.status_code == 422
    assert again.get_data() == first.get_data()
    assert rows() == []


# --- the OpenAPI document ------------------------------------------------------------------


def _resolve(doc, node):
    while "$ref" in node:
        target = doc
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def test_the_document_states_each_default_and_the_clients_names(client):
    doc = client.get("/v1/api/openapi.json").get_json()
    operations = doc["paths"][PATH]
    assert set(operations) == {"get", "post", "patch"}
    envelope = operations["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    data = _resolve(doc, _resolve(doc, envelope)["properties"]["data"])
    for name, value in DEFAULTS.items():
        assert data["properties"][name]["default"] == value, name
        assert name in data["required"], name
    for method in ("post", "patch"):
        body = operations[method]["requestBody"]["content"]["application/json"]["schema"]
        properties = _resolve(doc, body)["properties"]
        assert set(properties) == set(DEFAULTS)
        assert all("default" not in field for field in properties.values())
