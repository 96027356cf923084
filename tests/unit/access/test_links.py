"""Magic links: lifetime, single use (also under a race), revocation, signing, opaque
payloads, scanner-safe GET/HEAD, the confirm page, renewal and audit rows."""

import base64
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from browsing import csrf_of
from builders import make_customer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeTimedSerializer

from portal.access import links as access
from portal.access.sessions import Lifetimes
from portal.models import PortalEvent, PortalSession

from .conftest import (
    CONSUME,
    EMAIL,
    SID,
    fresh_link,
    latest_link,
    login_row,
    outbox,
    outbox_ids,
    path_of,
    press_continue,
    race,
    session_cookie,
    session_rows,
    token_of,
)

START = datetime(2030, 3, 4, 9, 0, 0, tzinfo=UTC)
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def is_spent_page(response) -> bool:
    return response.status_code == 410 and "Email me a new link" in response.get_data(as_text=True)


def is_invalid_page(response) -> bool:
    return response.status_code == 404 and "This link doesn't work" in response.get_data(
        as_text=True
    )


# --- lifetime and revocation ------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "after", "works"),
    [
        (None, timedelta(minutes=15, seconds=-1), True),
        (None, timedelta(minutes=15, seconds=1), False),
        (5, timedelta(minutes=5, seconds=-1), True),
        (5, timedelta(minutes=5, seconds=1), False),
        (30, timedelta(minutes=29), True),
    ],
)
def test_link_lifetime_is_15_minutes_or_the_configured_value(
    app, client, merchant, customer, minutes, after, works
):
    if minutes is not None:
        app.config["PORTAL_LINK_TTL_MINUTES"] = minutes
    with time_machine.travel(START, tick=False) as clock:
        url = fresh_link(merchant)
        assert f"expires in {minutes or 15} minutes" in outbox()[-1].text_body
        clock.shift(after)
        if works:
            assert press_continue(client, url).status_code == 303
            assert session_rows() == 1
        else:
            assert is_spent_page(client.get(path_of(url)))
            page = client.get("/p/" + merchant.id)
            response = client.post(path_of(url), data={"csrf_token": csrf_of(page)})
            assert is_spent_page(response)
            assert session_rows() == 0
            assert login_row(url).used_at is None


def test_a_new_link_revokes_the_older_unused_ones(client, merchant, customer):
    first = fresh_link(merchant)
    second = fresh_link(merchant)
    assert first != second
    assert is_spent_page(client.get(path_of(first)))
    assert login_row(first).revoked_at is not None
    assert press_continue(client, second).status_code == 303


def test_a_link_of_another_customer_is_not_revoked(client, merchant, customer):
    make_customer(merchant, "Max", email="max@example.com")
    mine = fresh_link(merchant)
    fresh_link(merchant, "max@example.com")
    assert press_continue(client, mine).status_code == 303


def test_a_link_works_once(client, merchant, customer):
    url = fresh_link(merchant)
    page = client.get(path_of(url))
    first = client.post(path_of(url), data={"csrf_token": csrf_of(page)})
    assert first.status_code == 303
    second = client.post(path_of(url), data={"csrf_token": csrf_of(page)})
    assert is_spent_page(second)
    assert SID not in second.headers.get("Set-Cookie", "")
    assert session_rows() == 1
    assert merchant.post(CONSUME, {"token": token_of(url)}).status_code == 401
    assert session_rows() == 1


def _html_attempt(app, url):
    def prepare(_i):
        browser = app.test_client()
        page = browser.get(path_of(url))
        token = csrf_of(page)
        return lambda: browser.post(path_of(url), data={"csrf_token": token}).status_code

    return prepare


def _api_attempt(app, url):
    def prepare(_i):
        caller = app.test_client()
        return lambda: caller.post("/v1/api" + CONSUME, json={"token": token_of(url)}).status_code

    return prepare


@pytest.mark.parametrize(
    ("make_attempt", "won", "lost"),
    [(_html_attempt, 303, 410), (_api_attempt, 200, 401)],
    ids=["html", "api"],
)
def test_twenty_concurrent_consumes_open_exactly_one_session(
    app, merchant, customer, make_attempt, won, lost
):
    url = fresh_link(merchant)
    statuses = race(20, make_attempt(app, url))
    assert sorted(statuses) == sorted([won] + [lost] * 19)
    assert PortalSession.select().count() == 1
    assert login_row(url).used_at is not None


# --- signing and payload ------------------------------------------------------------------


def _payload(token: str) -> dict:
    return URLSafeTimedSerializer("any").loads_unsafe(token)[1]


def test_a_token_signed_for_another_purpose_is_rejected(app, client, merchant, customer):
    url = fresh_link(merchant)
    payload = _payload(token_of(url))

    def signed(salt):
        return URLSafeTimedSerializer(
            app.config["SECRET_KEY"], salt=salt, signer_kwargs={"digest_method": hashlib.sha256}
        ).dumps(payload)

    forged = signed("merchant-reset")
    assert is_invalid_page(client.get(f"/portal/access/{forged}"))
    assert merchant.post(CONSUME, {"token": forged}).status_code == 401
    assert login_row(url).used_at is None and session_rows() == 0
    # Control: the very same payload with the login salt is accepted, so only the salt differed.
    assert client.get(f"/portal/access/{signed('portal-login-v1')}").status_code == 200


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_flipping_any_character_invalidates_the_token(app, client, merchant, customer, data):
    app.config["PORTAL_CONSUME_RATE_LIMIT_IP"] = "100000 per minute"
    if not outbox():
        fresh_link(merchant)
    token = token_of(latest_link())
    # The signature's last characters are where lenient base64 decoding hides edits.
    tail = st.integers(len(token) - 3, len(token) - 1)
    index = data.draw(st.one_of(tail, st.integers(0, len(token) - 1)), label="index")
    replacement = data.draw(
        st.sampled_from([c for c in B64URL + "." if c != token[index]]), label="char"
    )
    flipped = token[:index] + replacement + token[index + 1 :]
    assert is_invalid_page(client.get(f"/portal/access/{flipped}"))
    assert merchant.post(CONSUME, {"token": flipped}).status_code == 401
    assert session_rows() == 0


def test_every_one_character_edit_is_rejected_by_the_link_reader(app, merchant, customer):
    token = token_of(fresh_link(merchant))
    lives = Lifetimes.from_config(app.config)
    key = app.config["SECRET_KEY"]
    assert access.read_link(key, token, lives)  # the original is fine
    accepted = []
    for index, original in enumerate(token):
        for char in B64URL + ".":
            if char == original:
                continue
            edited = token[:index] + char + token[index + 1 :]
            try:
                access.read_link(key, edited, lives)
            except (access.LinkInvalid, access.LinkSpent):
                continue
            accepted.append((index, char))
    assert accepted == []


def test_the_token_carries_a_long_random_nonce_and_no_personal_data(merchant, customer):
    token = token_of(fresh_link(merchant))
    payload = _payload(token)
    assert set(payload) <= {"n", "c"}
    nonce = payload["n"]
    raw = nonce.encode() + b"=" * (-len(nonce) % 4)
    assert len(base64.urlsafe_b64decode(raw)) >= 16
    segment = token.split(".")[0]  # not compressed (that would start the token with ".")
    decoded = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)).decode()
    assert json.loads(decoded) == payload
    assert "@" not in decoded and "example.com" not in decoded
    # Stored hashed: neither the nonce nor the token is in the database row.
    row = login_row(token)
    assert nonce not in json.dumps(row.__data__, default=str)
    assert row.nonce_hash == hashlib.sha256(nonce.encode()).hexdigest()


def test_a_validly_signed_token_without_a_stored_row_is_rejected(app, client, merchant, customer):
    serializer = URLSafeTimedSerializer(
        app.config["SECRET_KEY"],
        salt="portal-login-v1",
        signer_kwargs={"digest_method": hashlib.sha256},
    )
    forged = serializer.dumps({"n": "A" * 43, "c": merchant.id})
    assert is_invalid_page(client.get(f"/portal/access/{forged}"))


# --- scanners, confirm page, renewal -------------------------------------------------------


def test_get_and_head_never_use_the_link_up(client, merchant, customer):
    url = fresh_link(merchant)
    for _ in range(5):
        for response in (client.get(path_of(url)), client.head(path_of(url))):
            assert response.status_code == 200
            assert SID not in " ".join(response.headers.getlist("Set-Cookie"))
    assert login_row(url).used_at is None
    assert session_rows() == 0 and session_cookie(client) is None
    assert press_continue(client, url).status_code == 303


def test_the_confirm_page_names_merchant_and_masked_address_and_waits_for_a_click(
    client, merchant, customer
):
    page = client.get(path_of(fresh_link(merchant)))
    html = page.get_data(as_text=True)
    assert "Continue to Acme Cloud billing as j•••@example.com" in html
    assert EMAIL not in html
    assert '<form method="post">' in html and 'type="submit"' in html
    lowered = html.lower()
    for forbidden in ("onload", ".submit(", "hx-trigger", 'http-equiv="refresh"'):
        assert forbidden not in lowered
    # Only external, same-origin scripts (htmx); no inline script could auto-submit.
    scripts = [part.split(">", 1)[0] for part in lowered.split("<script")[1:]]
    assert scripts and all(re.search(r'src="/[^/]', tag) for tag in scripts)
    assert page.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("why", ["expired", "used", "replaced"])
def test_a_spent_link_offers_a_fresh_one_that_works(client, merchant, customer, why):
    with time_machine.travel(START, tick=False) as clock:
        url = fresh_link(merchant)
        if why == "expired":
            clock.shift(timedelta(minutes=16))
        elif why == "used":
            assert press_continue(client, url).status_code == 303
        else:
            fresh_link(merchant)
        before = outbox_ids()
        page = client.get(path_of(url))
        assert is_spent_page(page)
        renewed = client.post(path_of(url) + "/renew", data={"csrf_token": csrf_of(page)})
        assert renewed.status_code == 200
        assert "Check your inbox" in renewed.get_data(as_text=True)
        new_url = latest_link(EMAIL, since=before)
        assert new_url != url
        assert press_continue(app_client(client), new_url).status_code == 303


def app_client(client):
    """A second browser (the person may open the new mail elsewhere)."""
    return client.application.test_client()


def test_renewing_an_invalid_token_sends_nothing(client, merchant, customer):
    page = client.get("/p/" + merchant.id)
    response = client.post("/portal/access/not.a.token/renew", data={"csrf_token": csrf_of(page)})
    assert is_invalid_page(response)
    assert outbox() == []


# --- audit and logs --------------------------------------------------------------------------


def test_issuing_and_redeeming_are_audited(client, merchant, customer):
    url = fresh_link(merchant)
    press_continue(client, url)
    events = {
        e.action: e for e in PortalEvent.select().where(PortalEvent.action.startswith("auth.link_"))
    }
    assert {"auth.link_issued", "auth.link_redeemed"} <= set(events)
    for event in events.values():
        assert event.company_id == merchant.id and event.customer_id == customer["id"]
        assert event.ip == "127.0.0.1"
        assert token_of(url) not in json.dumps(event.details or {})
