"""Portal sessions: cookie flags, fresh ids, idle and absolute timeouts, host and company
binding, sign-out (HTML and Bearer)."""

from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie

import pytest
import time_machine
from browsing import csrf_of, on
from builders import EXCHANGE, handoff, make_customer
from support import add_domain

from portal.models import PortalEvent, PortalSession
from portal.security import sha256_hex

from .conftest import (
    CONSUME,
    EMAIL,
    ME,
    SID,
    SIGN_OUT,
    fresh_link,
    host_of,
    path_of,
    press_continue,
    session_cookie,
    session_rows,
    sign_in,
    token_of,
    use_domain,
)

START = datetime(2030, 3, 4, 9, 0, 0, tzinfo=UTC)


def portal_status(client, host="portal.test"):
    response = client.get("/portal", **on(host))
    return response.status_code, response.location


def api_session(merchant, email="jo@example.com") -> str:
    token = token_of(fresh_link(merchant, email))
    return merchant.ok("POST", CONSUME, {"token": token})["session_token"]


def bearer(raw):
    return {"headers": {"Authorization": f"Bearer {raw}"}}


# --- the cookie ----------------------------------------------------------------------------


def test_session_cookie_is_host_only_secure_httponly_lax(client, merchant, customer):
    response = press_continue(client, fresh_link(merchant))
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(SID + "=")]
    assert len(headers) == 1
    cookie = SimpleCookie()
    cookie.load(headers[0])
    morsel = cookie[SID]
    attributes = {part.split("=")[0].strip().lower() for part in headers[0].split(";")[1:]}
    assert {"secure", "httponly", "path", "samesite"} <= attributes
    assert "domain" not in attributes
    assert morsel["path"] == "/" and morsel["samesite"] == "Lax"
    assert len(morsel.value) >= 43  # 256 random bits, URL-safe base64
    # Only a hash is stored server-side.
    row = PortalSession.get()
    assert row.token_hash == sha256_hex(morsel.value)
    assert morsel.value not in str(row.__data__)


def test_a_preset_cookie_is_replaced_by_a_fresh_id(client, merchant, customer):
    client.set_cookie(SID, "chosen-by-an-attacker-0123456789abcdefghijklmnop", domain="portal.test")
    raw = sign_in(client, merchant)
    assert raw and raw != "chosen-by-an-attacker-0123456789abcdefghijklmnop"
    attacker = client.application.test_client()
    attacker.set_cookie(
        SID, "chosen-by-an-attacker-0123456789abcdefghijklmnop", domain="portal.test"
    )
    assert portal_status(attacker)[0] == 303


def test_signing_in_again_discards_the_previous_session(client, merchant, customer):
    first = sign_in(client, merchant)
    second = sign_in(client, merchant)
    assert first != second
    assert session_rows() == 1
    replay = client.application.test_client()
    replay.set_cookie(SID, first, domain="portal.test")
    assert portal_status(replay)[0] == 303
    assert portal_status(client) == (200, None)


# --- timeouts ------------------------------------------------------------------------------


@pytest.mark.parametrize("idle_minutes", [None, 10])
def test_idle_timeout_is_30_minutes_or_the_configured_value(
    app, client, merchant, customer, idle_minutes
):
    if idle_minutes:
        app.config["PORTAL_SESSION_IDLE_MINUTES"] = idle_minutes
    idle = timedelta(minutes=idle_minutes or 30)
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, merchant)
        for _ in range(3):  # activity keeps sliding the window
            clock.shift(idle - timedelta(minutes=1))
            assert portal_status(client) == (200, None)
        clock.shift(idle + timedelta(seconds=1))
        assert portal_status(client) == (303, f"/p/{merchant.id}")
        assert session_rows() == 0


@pytest.mark.parametrize("max_hours", [None, 2])
def test_absolute_lifetime_is_12_hours_or_the_configured_value(
    app, client, merchant, customer, max_hours
):
    if max_hours:
        app.config["PORTAL_SESSION_MAX_HOURS"] = max_hours
    lifetime = timedelta(hours=max_hours or 12)
    with time_machine.travel(START, tick=False) as clock:
        sign_in(client, merchant)
        step = timedelta(minutes=20)
        elapsed = timedelta(0)
        while elapsed + step < lifetime:  # never idle for long
            clock.shift(step)
            elapsed += step
            assert portal_status(client) == (200, None), elapsed
        clock.shift(lifetime - elapsed + timedelta(seconds=1))
        assert portal_status(client) == (303, f"/p/{merchant.id}")


def test_bearer_sessions_time_out_too(client, merchant, customer):
    with time_machine.travel(START, tick=False) as clock:
        raw = api_session(merchant)
        clock.shift(timedelta(minutes=29))
        assert client.get("/v1/api" + ME, **bearer(raw)).status_code == 200
        clock.shift(timedelta(minutes=30, seconds=1))
        assert client.get("/v1/api" + ME, **bearer(raw)).status_code == 401


# --- binding to host and company ---------------------------------------------------------


def test_a_session_only_works_on_the_host_it_was_made_for(
    client, merchant, other_merchant, customer
):
    use_domain(merchant, add_domain(merchant.company, "billing.acme.test"))
    use_domain(other_merchant, add_domain(other_merchant.company, "billing.globex.test"))
    url = fresh_link(merchant)
    assert host_of(url) == "billing.acme.test"
    press_continue(client, url)
    raw = session_cookie(client, "billing.acme.test")
    assert raw and portal_status(client, "billing.acme.test") == (200, None)
    for host in ("billing.globex.test", "portal.test"):
        replay = client.application.test_client()
        replay.set_cookie(SID, raw, domain=host)
        status, location = portal_status(replay, host)
        assert status == 303 and location in ("/", "/portal/session-ended"), host
    assert session_rows() == 1  # a foreign host does not destroy the real session


def test_a_cookie_session_is_not_a_bearer_token_and_vice_versa(client, merchant, customer):
    cookie = sign_in(client, merchant)
    assert client.get("/v1/api" + ME, **bearer(cookie)).status_code == 401
    token = api_session(merchant)
    browser = client.application.test_client()
    browser.set_cookie(SID, token, domain="portal.test")
    assert portal_status(browser)[0] == 303


def test_me_returns_the_signed_in_customer_of_that_company(
    client, merchant, other_merchant, customer
):
    make_customer(other_merchant, email=EMAIL)  # same address at another merchant
    raw = api_session(merchant)
    data = client.get("/v1/api" + ME, **bearer(raw)).get_json()["data"]
    assert data["customer"]["id"] == customer["id"]
    assert data["company"]["id"] == merchant.id


# --- sign-out ------------------------------------------------------------------------------


def test_sign_out_ends_the_session_server_side(client, merchant, customer):
    raw = sign_in(client, merchant)
    page = client.get("/portal")
    response = client.post("/portal/sign-out", data={"csrf_token": csrf_of(page)})
    assert response.status_code == 303
    assert response.location == f"/p/{merchant.id}?signed_out=1"
    assert '"cookies"' in response.headers["Clear-Site-Data"]
    assert any(
        h.startswith(SID + "=;") and "Max-Age=0" in h
        for h in response.headers.getlist("Set-Cookie")
    )
    assert session_rows() == 0
    assert PortalEvent.select().where(PortalEvent.action == "auth.sign_out").count() == 1
    client.set_cookie(SID, raw, domain="portal.test")  # the stolen/old cookie comes back
    assert portal_status(client) == (303, f"/p/{merchant.id}")
    landing = client.get(f"/p/{merchant.id}")
    assert landing.status_code == 200 and "Email me a sign-in link" in landing.get_data(
        as_text=True
    )


def test_bearer_sign_out_ends_the_session(client, merchant, customer):
    raw = api_session(merchant)
    assert client.get("/v1/api" + ME, **bearer(raw)).status_code == 200
    out = client.post("/v1/api" + SIGN_OUT, **bearer(raw))
    assert out.status_code == 200 and out.get_json()["success"] is True
    assert session_rows() == 0
    again = client.get("/v1/api" + ME, **bearer(raw))
    assert again.status_code == 401 and again.get_json()["success"] is False
    assert client.post("/v1/api" + SIGN_OUT, **bearer(raw)).status_code == 401


@pytest.mark.parametrize(
    "header", [None, "Basic abc", "Bearer ", "Bearer not-a-session", "Bearer " + "x" * 500]
)
def test_portal_json_needs_a_live_bearer_session(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/v1/api" + ME, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] in ("AUTHENTICATION_REQUIRED", "INVALID_SESSION")


def test_signed_out_browser_is_sent_to_its_merchants_sign_in_page(client, merchant, customer):
    sign_in(client, merchant)
    page = client.get("/portal")
    client.post("/portal/sign-out", data={"csrf_token": csrf_of(page)})
    assert portal_status(client) == (303, f"/p/{merchant.id}")
    assert path_of(f"http://portal.test/p/{merchant.id}") == f"/p/{merchant.id}"


REVOKE = "/customer-portal/access/revoke"


def test_the_merchant_can_sign_a_customer_out_everywhere(client, merchant, customer):
    sign_in(client, merchant)  # a browser session
    raw = api_session(merchant)  # and a Bearer session
    other = make_customer(merchant, email="sam@example.com")
    theirs = handoff(merchant, other["id"])
    unused = handoff(merchant, customer["id"])
    link = fresh_link(merchant)
    done = merchant.ok("POST", REVOKE, {"customer_id": customer["id"]})
    assert done == {"customer_id": customer["id"], "sessions_ended": 2}
    assert portal_status(client)[0] == 303
    assert client.get("/v1/api" + ME, **bearer(raw)).status_code == 401
    # Links and handoffs minted before the revocation cannot start a new session either.
    assert merchant.call("POST", EXCHANGE, {"code": unused["code"]}).status_code == 401
    assert merchant.call("POST", CONSUME, {"token": token_of(link)}).status_code == 401
    # Other customers keep theirs; repeating is harmless.
    assert merchant.call("POST", EXCHANGE, {"code": theirs["code"]}).status_code == 200
    assert merchant.ok("POST", REVOKE, {"customer_id": customer["id"]})["sessions_ended"] == 0
    assert PortalEvent.select().where(PortalEvent.action == "auth.sessions_revoked").count() == 2


def test_revoking_needs_a_secret_key_and_a_customer_of_that_company(
    client, merchant, other_merchant, customer
):
    foreign = merchant.call(
        "POST", REVOKE, {"customer_id": customer["id"]}, key=other_merchant.secret
    )
    assert foreign.status_code in (404, 422)
    public = merchant.call(
        "POST", REVOKE, {"customer_id": customer["id"]}, key=merchant.publishable
    )
    assert public.status_code in (401, 403)


def test_changing_the_email_through_the_api_ends_the_customers_sessions(client, merchant, customer):
    raw = api_session(merchant)
    merchant.ok("PATCH", f"/customer/{customer['id']}", {"first_name": "Joanna"})
    assert client.get("/v1/api" + ME, **bearer(raw)).status_code == 200  # other edits: kept
    merchant.ok("PATCH", f"/customer/{customer['id']}", {"email": "new@example.com"})
    assert client.get("/v1/api" + ME, **bearer(raw)).status_code == 401
