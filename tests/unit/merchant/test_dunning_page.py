"""The dunning settings page: every field of GET /dunning-config as a form that works without
JavaScript, the API's validation (each message next to its field, nothing saved), the retry
timeline of a payment that fails today, and who may use the page."""

import pytest
from browsing import csrf_of
from support import JAN1

from portal.models import DunningConfig

from .kit import form_state
from .test_invitations import member_of

PAGE = "/merchant/dunning"
API = "/dunning-config"
FIELDS = (
    "retry_mode",
    "smart_retry_attempts",
    "smart_retry_window",
    "custom_retry_schedule",
    "bank_debit_retries_enabled",
    "bank_debit_retry_schedule",
    "subscription_terminal_action",
    "invoice_terminal_action",
    "payment_failed_email_enabled",
    "expiring_card_email_enabled",
    "card_expiry_warn_days",
    "payment_failed_recovery_page_mode",
    "payment_failed_custom_link_url",
    "expiring_card_recovery_page_mode",
    "expiring_card_custom_link_url",
)


def html_of(browser, path=PAGE) -> str:
    response = browser.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def page_state(owner):
    """What the form would post right now (a browser without JavaScript)."""
    return form_state(html_of(owner), action=PAGE)


def post(owner, changes: dict, action=None):
    state = page_state(owner)
    for name, value in changes.items():
        if value is None:  # an unticked box or no radio chosen: not posted at all
            state.poplist(name)
        else:
            state.setlist(name, [value])
    if action:
        state["action"] = action
    return owner.client.post(PAGE, data=state)


def api_settings(merchant) -> dict:
    data = merchant.ok("GET", API)
    return {name: data[name] for name in FIELDS}


def stored(merchant):
    row = DunningConfig.get_or_none(DunningConfig.company == merchant.id)
    return (row.version, row.settings) if row else None


def days(*numbers) -> list[dict]:
    return [{"days_after_failure": n} for n in numbers]


@pytest.fixture
def today(monkeypatch):
    """The page's "today" is JAN1 (2026-01-01), so the timeline's dates are known."""
    monkeypatch.setattr("portal.merchant.dunning_views.utcnow", lambda: JAN1)
    return JAN1


def test_every_field_has_a_labelled_control_and_the_defaults_show(owner, merchant):
    html = html_of(owner)
    for name in FIELDS:
        assert f'id="field-{name}"' in html, name
        assert f'id="dun-{name}-hint"' in html, name
    for name in ("smart_retry_attempts", "custom_retry_schedule", "card_expiry_warn_days"):
        assert f'<label for="dun-{name}">' in html, name
    assert '<a href="/merchant/dunning" aria-current="page">Dunning</a>' in html
    state = page_state(owner)
    assert state["retry_mode"] == "smart" and state["smart_retry_window"] == "2_weeks"
    assert state["smart_retry_attempts"] == "4" and state["custom_retry_schedule"] == "3, 5, 7"
    assert state["bank_debit_retry_schedule"] == "3, 7"
    assert "bank_debit_retries_enabled" not in state
    assert state["payment_failed_email_enabled"] == "on"
    assert state["card_expiry_warn_days"] == "30"
    assert state["payment_failed_custom_link_url"] == ""
    assert DunningConfig.select().count() == 0  # showing the defaults stores nothing


def test_the_settings_pages_link_to_it(owner):
    for path in ("/merchant/settings", "/merchant/branding", "/merchant/team"):
        assert '<a href="/merchant/dunning">Dunning</a>' in html_of(owner, path), path


def test_the_timeline_of_a_failure_today_with_the_defaults(owner, today):
    html = html_of(owner)
    # Smart: 4 retries over 2 weeks, on days 2, 5, 10 and 14.
    assert 'fails today, <time datetime="2026-01-01">Jan 1, 2026</time>' in html
    for number, (date, label, day) in enumerate(
        [("2026-01-03", "Jan 3, 2026", 2), ("2026-01-06", "Jan 6, 2026", 5),
         ("2026-01-11", "Jan 11, 2026", 10), ("2026-01-15", "Jan 15, 2026", 14)], 1
    ):  # fmt: skip
        assert f'Retry {number}: <time datetime="{date}">{label}</time>' in html
        assert f"(day {day})" in html
    assert "Retry 5:" not in html
    assert "Bank debits are not retried." in html
    assert "The subscription is canceled and the invoice stays open and past due." in html


def test_saving_the_form_without_javascript(owner, merchant, today):
    changes = {
        "retry_mode": "custom",
        "custom_retry_schedule": " 1, 4 ,9 ",
        "bank_debit_retries_enabled": "on",
        "bank_debit_retry_schedule": "2 6",
        "subscription_terminal_action": "pause",
        "invoice_terminal_action": "uncollectible",
        "payment_failed_email_enabled": None,
        "card_expiry_warn_days": "14",
        "payment_failed_recovery_page_mode": "custom_link",
        "payment_failed_custom_link_url": " https://acme.example/fix ",
    }
    response = post(owner, changes)
    assert response.status_code == 303 and response.headers["Location"].endswith(PAGE)
    html = html_of(owner)
    assert "Dunning settings saved." in html
    assert api_settings(merchant) == {
        **api_settings_defaults(),
        "retry_mode": "custom",
        "custom_retry_schedule": days(1, 4, 9),
        "bank_debit_retries_enabled": True,
        "bank_debit_retry_schedule": days(2, 6),
        "subscription_terminal_action": "pause",
        "invoice_terminal_action": "uncollectible",
        "payment_failed_email_enabled": False,
        "card_expiry_warn_days": 14,
        "payment_failed_recovery_page_mode": "custom_link",
        "payment_failed_custom_link_url": "https://acme.example/fix",
    }
    # The page shows what was saved, and the timeline follows it.
    state = form_state(html, action=PAGE)
    assert state["custom_retry_schedule"] == "1, 4, 9" and state["retry_mode"] == "custom"
    assert 'Retry 3: <time datetime="2026-01-10">' in html and "Retry 4:" not in html
    assert 'Retry 2: <time datetime="2026-01-07">' in html  # the bank schedule: days 2 and 6
    assert "The subscription is paused and the invoice is marked uncollectible." in html
    assert "No “payment failed” e-mails are sent." in html


def api_settings_defaults() -> dict:
    from portal.billing.dunning_config import DEFAULTS
    from portal.billing.dunning_schema import wire_settings

    return {name: wire_settings(DEFAULTS)[name] for name in FIELDS}


def test_posting_the_unchanged_form_changes_nothing(owner, merchant):
    merchant.ok(
        "PATCH",
        API,
        {
            "retry_mode": "custom",
            "custom_retry_schedule": [2, 8],
            "expiring_card_recovery_page_mode": "custom_link",
            "expiring_card_custom_link_url": "https://acme.example/cards",
        },
    )
    before = api_settings(merchant)
    assert owner.client.post(PAGE, data=page_state(owner)).status_code == 303
    assert api_settings(merchant) == before


# (form changes, field, part of its message)
INVALID = [
    ({"smart_retry_attempts": "0"}, "smart_retry_attempts", "1 to 8 attempts"),
    ({"smart_retry_attempts": "many"}, "smart_retry_attempts", "whole number"),
    ({"smart_retry_attempts": ""}, "smart_retry_attempts", "whole number"),
    ({"smart_retry_attempts": "8", "smart_retry_window": "1_week"}, "smart_retry_attempts",
     "At most 7 attempts"),
    ({"custom_retry_schedule": "5, 3"}, "custom_retry_schedule", "ascending"),
    ({"custom_retry_schedule": "3, 3"}, "custom_retry_schedule", "ascending"),
    ({"custom_retry_schedule": ""}, "custom_retry_schedule", "1 to 8 retry days"),
    ({"custom_retry_schedule": "1 2 3 4 5 6 7 8 9"}, "custom_retry_schedule", "1 to 8"),
    ({"custom_retry_schedule": "3, 61"}, "custom_retry_schedule", "from 1 to 60"),
    ({"custom_retry_schedule": "3, five"}, "custom_retry_schedule", "separated by commas"),
    ({"bank_debit_retry_schedule": "-1"}, "bank_debit_retry_schedule", "separated by commas"),
    ({"card_expiry_warn_days": "91"}, "card_expiry_warn_days", "from 1 to 90"),
    ({"payment_failed_recovery_page_mode": "custom_link"}, "payment_failed_custom_link_url",
     "needs an absolute https:// URL"),
    ({"expiring_card_recovery_page_mode": "custom_link",
      "expiring_card_custom_link_url": "http://acme.example/cards"},
     "expiring_card_custom_link_url", "https://"),
    ({"payment_failed_custom_link_url": "https://user@acme.example/"},
     "payment_failed_custom_link_url", "no user name"),
    ({"payment_failed_custom_link_url": "https://acme.example/" + "a" * 2100},
     "payment_failed_custom_link_url", "2048"),
    ({"retry_mode": "aggressive"}, "retry_mode", "smart"),
    ({"invoice_terminal_action": None}, "invoice_terminal_action", "past_due"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "field", "message"), INVALID, ids=[f"{r[1]}-{i}" for i, r in enumerate(INVALID)]
)
def test_an_invalid_value_shows_its_error_beside_it_and_nothing_is_saved(
    owner, merchant, changes, field, message
):
    merchant.ok("PATCH", API, {"card_expiry_warn_days": 20})
    before, shown_before = stored(merchant), api_settings(merchant)
    # A valid change in the same form must not be saved either.
    response = post(owner, {"subscription_terminal_action": "unpaid", **changes})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing was saved" in html and f'<a href="#field-{field}">' in html
    error = html.split(f'id="dun-{field}-error">', 1)
    assert len(error) == 2 and message in error[1].split("</p>", 1)[0], html
    assert 'aria-invalid="true"' in html
    assert f'aria-describedby="dun-{field}-hint dun-{field}-error"' in html
    assert stored(merchant) == before and api_settings(merchant) == shown_before


def test_the_posted_values_show_again_after_an_error(owner):
    response = post(owner, {"custom_retry_schedule": "9, 4", "card_expiry_warn_days": "abc"})
    assert response.status_code == 422
    state = form_state(response.get_data(as_text=True), action=PAGE)
    assert state["custom_retry_schedule"] == "9, 4" and state["card_expiry_warn_days"] == "abc"
    html = response.get_data(as_text=True)
    assert 'id="dun-custom_retry_schedule-error"' in html
    assert 'id="dun-card_expiry_warn_days-error"' in html


def test_fixing_the_errors_saves_and_recomputes_the_timeline(owner, merchant, today):
    refused = post(owner, {"retry_mode": "custom", "custom_retry_schedule": "10, 2"})
    assert refused.status_code == 422
    # The timeline still shows the saved (default, smart) settings.
    assert 'Retry 4: <time datetime="2026-01-15">' in refused.get_data(as_text=True)
    fixed = post(owner, {"retry_mode": "custom", "custom_retry_schedule": "2, 10"})
    assert fixed.status_code == 303
    html = html_of(owner)
    assert api_settings(merchant)["custom_retry_schedule"] == days(2, 10)
    assert 'Retry 1: <time datetime="2026-01-03">' in html
    assert 'Retry 2: <time datetime="2026-01-11">' in html and "Retry 3:" not in html


def test_preview_shows_the_timeline_of_the_form_without_saving(owner, merchant, today):
    changes = {
        "retry_mode": "custom",
        "custom_retry_schedule": "1, 30",
        "subscription_terminal_action": "unpaid",
    }
    response = post(owner, changes, action="preview")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "the values in the form (not saved yet)" in html
    assert 'Retry 2: <time datetime="2026-01-31">' in html and "Retry 3:" not in html
    assert "The subscription is marked unpaid" in html
    assert form_state(html, action=PAGE)["custom_retry_schedule"] == "1, 30"
    assert stored(merchant) is None
    refused = post(owner, {"custom_retry_schedule": "30, 1"}, action="preview")
    assert refused.status_code == 422 and "ascending" in refused.get_data(as_text=True)


# --- who may use the page ------------------------------------------------------------------


def test_signed_out_browsers_go_to_the_sign_in_page(client):
    response = client.get(PAGE)
    assert response.status_code in (302, 303)
    assert "/merchant/sign-in" in response.headers["Location"]


def test_a_post_without_the_csrf_token_is_refused(owner, merchant):
    state = page_state(owner)
    state.poplist("csrf_token")
    state["retry_mode"] = "custom"
    assert owner.client.post(PAGE, data=state).status_code == 400
    assert stored(merchant) is None


def test_team_members_can_change_it_like_the_other_settings_pages(app, owner, merchant):
    browser, _user = member_of(app, owner)
    page = browser.get(PAGE)
    assert page.status_code == 200
    state = form_state(page.get_data(as_text=True), action=PAGE)
    state["card_expiry_warn_days"] = "7"
    assert csrf_of(page) == state["csrf_token"]
    assert browser.post(PAGE, data=state).status_code == 303
    assert api_settings(merchant)["card_expiry_warn_days"] == 7


def test_each_company_sees_and_changes_only_its_own(owner, merchant, other_owner, other_merchant):
    assert post(owner, {"card_expiry_warn_days": "11"}).status_code == 303
    theirs = form_state(html_of(other_owner), action=PAGE)
    assert theirs["card_expiry_warn_days"] == "30"
    assert post(other_owner, {"invoice_terminal_action": "uncollectible"}).status_code == 303
    assert api_settings(merchant)["invoice_terminal_action"] == "past_due"
    assert api_settings(other_merchant)["card_expiry_warn_days"] == 30
    assert api_settings(merchant)["card_expiry_warn_days"] == 11
