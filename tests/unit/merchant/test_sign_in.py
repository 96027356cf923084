"""Merchant sign-in: argon2 passwords, identical failures, throttling that cannot lock the
owner out, session cookie flags, a fresh id at sign-in, sign-out, and pages behind sign-in."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from browsing import csrf_of, from_ip
from support import OWNER_PASSWORD, add_domain

from portal.models import MerchantSession, MerchantUser

from .kit import (
    DEVICE,
    SID,
    post_sign_in,
    session_rows,
    sid,
)
from .kit import (
    MerchantUser as Browser,
)

START = datetime(2030, 5, 6, 9, 0, 0, tzinfo=UTC)
PAGES = [
    "/merchant/settings",
    "/merchant/branding",
    "/merchant/domains",
    "/merchant/keys",
    "/merchant/activity",
    "/merchant/team",
]


def test_the_owner_signs_in_and_lands_on_the_settings_page(client, merchant):
    response = post_sign_in(client, merchant.owner_email, OWNER_PASSWORD)
    assert response.status_code == 303
    assert response.location.endswith("/merchant/settings")
    page = client.get("/merchant/settings")
    assert page.status_code == 200
    assert "Customer portal settings" in page.get_data(as_text=True)
    assert MerchantUser.get().password_hash.startswith("$argon2id$")


def test_the_session_cookie_has_the_portal_flags_and_is_stored_hashed(client, merchant):
    response = post_sign_in(client, merchant.owner_email, OWNER_PASSWORD)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith(SID + "="))
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert {"secure", "httponly", "samesite=lax", "path=/"} <= set(flags)
    assert not any(flag.startswith("domain=") for flag in flags)
    raw = sid(client)
    assert (
        len(raw) >= 43
        and MerchantSession.select().where(MerchantSession.token_hash == raw).count() == 0
    )


def test_development_uses_a_plain_cookie_name_without_secure(app, client, merchant):
    app.config["PORTAL_ENV"] = "development"
    response = post_sign_in(client, merchant.owner_email, OWNER_PASSWORD)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if "merchant_sid=" in c)
    assert cookie.startswith("merchant_sid=") and "Secure" not in cookie and "HttpOnly" in cookie


@pytest.mark.parametrize("path", PAGES)
def test_pages_need_a_signed_in_merchant(client, merchant, path):
    response = client.get(path)
    assert response.status_code == 303 and response.location.endswith("/merchant/sign-in")
    hx = client.get(path, headers={"HX-Request": "true"})
    assert hx.headers["HX-Redirect"].endswith("/merchant/sign-in")


def test_sign_in_gives_a_fresh_session_id_and_ends_the_previous_one(client, merchant):
    Browser(client, merchant)
    first = sid(client)
    Browser(client, merchant)
    second = sid(client)
    assert first != second and session_rows() == 1
    client.set_cookie(SID, first, domain="portal.test")
    assert client.get("/merchant/settings").status_code == 303


def test_sign_out_deletes_the_session_and_the_old_cookie_stops_working(client, owner):
    raw = sid(client)
    response = owner.post("/merchant/sign-out")
    assert response.status_code == 303 and "signed_out=1" in response.location
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'
    assert session_rows() == 0
    client.set_cookie(SID, raw, domain="portal.test")
    assert client.get("/merchant/settings").status_code == 303


def test_a_merchant_cookie_is_no_customer_session_and_vice_versa(client, owner):
    assert client.get("/portal").status_code == 303  # the customer portal still wants sign-in
    client.set_cookie("__Host-portal_sid", sid(client), domain="portal.test")
    client.delete_cookie(SID, domain="portal.test")
    assert client.get("/merchant/settings").status_code == 303


def test_idle_and_absolute_limits_end_a_session(client, merchant):
    with time_machine.travel(START, tick=False) as clock:
        Browser(client, merchant)
        clock.shift(timedelta(minutes=29))
        assert client.get("/merchant/settings").status_code == 200
        clock.shift(timedelta(minutes=31))
        assert client.get("/merchant/settings").status_code == 303
        assert session_rows() == 0


# --- failures look the same ----------------------------------------------------------------


def _failure(client, email, password):
    response = post_sign_in(client, email, password)
    body = response.get_data(as_text=True).replace(csrf_of(response), "<csrf>")
    return response.status_code, body.replace(email, "<email>")


def test_unknown_address_and_wrong_password_get_identical_answers(client, merchant):
    unknown = _failure(client, "nobody@example.com", OWNER_PASSWORD)
    wrong = _failure(client, merchant.owner_email, "not the password")
    assert unknown == wrong
    assert unknown[0] == 401 and "Email address or password is incorrect." in unknown[1]
    assert sid(client) is None


def test_a_failed_sign_in_does_not_echo_the_password(client, merchant):
    response = post_sign_in(client, merchant.owner_email, "secret-guess-123")
    assert "secret-guess-123" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "data", [{"email": "", "password": "x"}, {"email": "a@b.example", "password": ""}]
)
def test_missing_fields_are_form_errors(client, merchant, data):
    page = client.get("/merchant/sign-in")
    response = client.post("/merchant/sign-in", data={"csrf_token": csrf_of(page), **data})
    assert response.status_code == 422 and sid(client) is None


def test_signing_in_needs_the_csrf_token(client, merchant):
    client.get("/merchant/sign-in")
    data = {"email": merchant.owner_email, "password": OWNER_PASSWORD}
    assert client.post("/merchant/sign-in", data=data).status_code == 400
    assert sid(client) is None


# --- throttling ----------------------------------------------------------------------------


def test_the_eleventh_attempt_from_one_address_within_a_minute_is_refused(client, merchant):
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(10):
            response = post_sign_in(client, f"x{_}@example.com", "wrong", **from_ip("10.1.1.1"))
            assert response.status_code == 401
        blocked = post_sign_in(client, merchant.owner_email, OWNER_PASSWORD, **from_ip("10.1.1.1"))
        assert blocked.status_code == 429 and sid(client) is None
        other = post_sign_in(client, merchant.owner_email, OWNER_PASSWORD, **from_ip("10.1.1.2"))
        assert other.status_code == 303
        clock.shift(timedelta(seconds=61))
        assert (
            post_sign_in(client, "y@example.com", "wrong", **from_ip("10.1.1.1")).status_code == 401
        )


def test_guessing_one_account_from_many_addresses_is_throttled(app, merchant):
    with time_machine.travel(START, tick=False):
        for i in range(10):
            attacker = app.test_client()
            response = post_sign_in(
                attacker, merchant.owner_email, f"guess-{i}", **from_ip(f"10.2.0.{i}")
            )
            assert response.status_code == 401
        attacker = app.test_client()
        right = post_sign_in(attacker, merchant.owner_email, OWNER_PASSWORD, **from_ip("10.2.1.1"))
        assert right.status_code == 429


def test_the_owners_own_browser_is_never_locked_out_by_someone_elses_guessing(app, merchant):
    owner_browser = app.test_client()
    with time_machine.travel(START, tick=False):
        Browser(owner_browser, merchant).post("/merchant/sign-out")
        assert owner_browser.get_cookie(DEVICE, domain="portal.test") is not None
        assert sid(owner_browser) is None
        for i in range(12):
            post_sign_in(
                app.test_client(), merchant.owner_email, f"guess-{i}", **from_ip(f"10.3.0.{i}")
            )
        response = post_sign_in(
            owner_browser, merchant.owner_email, OWNER_PASSWORD, **from_ip("10.9.9.9")
        )
        assert response.status_code == 303


def test_successful_sign_ins_do_not_use_up_the_account_budget(client, merchant):
    with time_machine.travel(START, tick=False):
        for i in range(10):
            fresh = client.application.test_client()
            assert (
                post_sign_in(
                    fresh, merchant.owner_email, OWNER_PASSWORD, **from_ip(f"10.4.0.{i}")
                ).status_code
                == 303
            )
        assert (
            post_sign_in(
                client, merchant.owner_email, OWNER_PASSWORD, **from_ip("10.4.1.1")
            ).status_code
            == 303
        )


# --- host guard ----------------------------------------------------------------------------


def test_merchant_pages_do_not_exist_on_a_custom_domain(client, owner, merchant):

    add_domain(merchant.company, "billing.acme.test")
    on_domain = {"base_url": "http://billing.acme.test"}
    assert client.get("/merchant/sign-in", **on_domain).status_code == 404
    assert client.get("/merchant/settings", **on_domain).status_code == 404


def test_a_device_cookie_only_exempts_the_account_it_signed_in_to(app, merchant, other_merchant):
    browser = app.test_client()
    with time_machine.travel(START, tick=False):
        Browser(browser, merchant).post("/merchant/sign-out")
        target = other_merchant.owner_email
        for i in range(10):
            guess = post_sign_in(browser, target, f"guess-{i}", **from_ip(f"10.5.0.{i}"))
            assert guess.status_code == 401
        right = post_sign_in(browser, target, OWNER_PASSWORD, **from_ip("10.5.1.1"))
        assert right.status_code == 429
