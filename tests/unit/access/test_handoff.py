"""Handoff: a merchant's server mints a one-time, five-minute URL (or code) that signs a
known customer straight into the hosted portal. Also: no secret of a whole sign-in flow
(link, handoff, session, keys) reaches a log record."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from browsing import on
from builders import EXCHANGE, HANDOFF, handoff, make_customer
from support import add_domain

from portal.models import HandoffCode, Invoice, PortalEvent, PortalSession
from portal.security import sha256_hex

from .conftest import (
    BASE_URL,
    EMAIL,
    ME,
    SESSION_PAYLOAD,
    SID,
    HttpBrowser,
    access_logged_server,
    latest_link,
    path_of,
    session_cookie,
    session_rows,
    sign_in,
    token_of,
    use_domain,
)

START = datetime(2030, 3, 4, 9, 0, 0, tzinfo=UTC)


def follow(client, url):
    return client.get(path_of(url), **on(url.split("/")[2]))


def is_invalid_page(response) -> bool:
    return response.status_code == 404 and "This link doesn't work" in response.get_data(
        as_text=True
    )


def test_a_handoff_url_signs_the_customer_in_once(client, merchant, customer):
    with time_machine.travel(START, tick=False):
        data = handoff(merchant, customer["id"])
        assert data["url"] == f"{BASE_URL}/portal/handoff/{data['code']}"
        assert data["expires_at"] == "2030-03-04T09:05:00.000Z"
        assert len(data["code"]) >= 43
        row = HandoffCode.get()
        assert row.code_hash == sha256_hex(data["code"]) and data["code"] not in str(row.__data__)
        first = follow(client, data["url"])
        assert first.status_code == 303 and first.location == "/portal"
        assert session_cookie(client) and client.get("/portal").status_code == 200
        second = follow(client.application.test_client(), data["url"])
        assert is_invalid_page(second) and SID not in second.headers.get("Set-Cookie", "")
        assert session_rows() == 1
        assert PortalEvent.select().where(PortalEvent.action == "auth.handoff_redeemed").count()


def test_head_does_not_use_the_handoff_up(client, merchant, customer):
    url = handoff(merchant, customer["id"])["url"]
    assert client.head(path_of(url)).status_code == 405
    assert HandoffCode.get().used_at is None
    assert follow(client, url).status_code == 303


@pytest.mark.parametrize(
    ("minutes", "after", "works"),
    [
        (None, timedelta(minutes=5, seconds=-1), True),
        (None, timedelta(minutes=5, seconds=1), False),
        (2, timedelta(minutes=2, seconds=1), False),
    ],
)
def test_a_handoff_lives_five_minutes_or_the_configured_value(
    app, client, merchant, customer, minutes, after, works
):
    if minutes:
        app.config["PORTAL_HANDOFF_TTL_MINUTES"] = minutes
    with time_machine.travel(START, tick=False) as clock:
        web = handoff(merchant, customer["id"])
        api = handoff(merchant, customer["id"])
        clock.shift(after)
        assert follow(client, web["url"]).status_code == (303 if works else 404)
        exchanged = client.post("/v1/api" + EXCHANGE, json={"code": api["code"]})
        assert exchanged.status_code == (200 if works else 401)
        assert session_rows() == (2 if works else 0)


def _invoice_for(merchant, customer_id) -> str:
    return Invoice.create(
        company=merchant.id, customer=customer_id, number="ACME-0001", status="OPEN", currency="USD"
    ).id


@pytest.mark.parametrize(
    ("extra", "lands_on"),
    [
        ({}, "/portal"),
        ({"destination": "home"}, "/portal"),
        ({"destination": "payment_methods"}, "/portal/payment-methods"),
        ({"destination": "billing_information"}, "/portal/billing-information"),
        ({"destination_context": "INVOICE"}, "/portal/invoices/INVOICE"),
    ],
)
def test_a_handoff_lands_on_its_destination(client, merchant, customer, extra, lands_on):
    if "destination_context" in extra:
        invoice_id = _invoice_for(merchant, customer["id"])
        extra = {"destination_context": invoice_id}
        lands_on = lands_on.replace("INVOICE", invoice_id)
    response = follow(client, handoff(merchant, customer["id"], **extra)["url"])
    assert response.status_code == 303 and response.location == lands_on
    assert client.get(lands_on).status_code == 200


def test_an_invoice_destination_of_another_customer_is_refused(client, merchant, customer):
    other = make_customer(merchant, "Max", email="max@example.com")
    invoice_id = _invoice_for(merchant, other["id"])
    body = {"customer_id": customer["id"], "destination_context": invoice_id}
    response = merchant.post(HANDOFF, body)
    assert response.status_code == 422
    assert "destination_context" in response.get_json()["error"]["details"]["fields"]
    assert HandoffCode.select().count() == 0


def test_a_publishable_key_cannot_mint_handoffs(client, merchant, customer):
    response = merchant.post(HANDOFF, {"customer_id": customer["id"]}, key=merchant.publishable)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "PERMISSION_DENIED"
    assert HandoffCode.select().count() == 0


@pytest.mark.parametrize("which", ["other_company", "unknown"])
def test_only_customers_of_the_key_company(client, merchant, other_merchant, which):
    if which == "other_company":
        customer_id = make_customer(other_merchant, email=EMAIL)["id"]
    else:
        customer_id = "nope"
    response = merchant.post(HANDOFF, {"customer_id": customer_id})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and "customer_id" in error["details"]["fields"]
    assert HandoffCode.select().count() == 0


@pytest.mark.parametrize(
    "body",
    [{}, {"customer_id": None}, {"destination": "home"}, {"customer_id": "x", "destination": "/"}],
)
def test_bad_handoff_requests_are_422(client, merchant, customer, body):
    assert merchant.post(HANDOFF, body).status_code == 422
    assert HandoffCode.select().count() == 0


def test_exchange_returns_the_session_payload_once(client, merchant, customer):
    code = handoff(merchant, customer["id"], destination="payment_methods")["code"]
    response = client.post("/v1/api" + EXCHANGE, json={"code": code})
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert set(data) == SESSION_PAYLOAD
    assert data["customer_id"] == customer["id"] and data["company_id"] == merchant.id
    assert data["destination"] == "payment_methods"
    me = client.get("/v1/api" + ME, headers={"Authorization": f"Bearer {data['session_token']}"})
    assert me.get_json()["data"]["customer"]["id"] == customer["id"]
    again = client.post("/v1/api" + EXCHANGE, json={"code": code})
    assert again.status_code == 401 and again.get_json()["error"]["code"] == "INVALID_TOKEN"
    assert PortalSession.select().count() == 1


@pytest.mark.parametrize(("code", "status"), [("x" * 43, 401), ("short", 401), ("", 422)])
def test_exchange_refuses_unknown_codes(client, code, status):
    assert client.post("/v1/api" + EXCHANGE, json={"code": code}).status_code == status
    assert PortalSession.select().count() == 0


def test_a_handoff_url_only_works_on_its_companys_host(client, merchant, other_merchant, customer):
    use_domain(merchant, add_domain(merchant.company, "billing.acme.test"))
    add_domain(other_merchant.company, "billing.globex.test")
    url = handoff(merchant, customer["id"])["url"]
    assert url.startswith("http://billing.acme.test/portal/handoff/")
    for host in ("billing.globex.test", "portal.test"):
        response = client.get(path_of(url), **on(host))
        assert is_invalid_page(response)
        assert session_cookie(client, host) is None
    assert session_rows() == 0
    good = handoff(merchant, customer["id"])["url"]
    assert follow(client, good).status_code == 303
    assert client.get("/portal", **on("billing.acme.test")).status_code == 200


def test_a_handoff_replaces_the_session_the_browser_had(client, merchant, customer):
    before = sign_in(client, merchant)
    follow(client, handoff(merchant, customer["id"])["url"])
    after = session_cookie(client)
    assert after != before and session_rows() == 1
    replay = client.application.test_client()
    replay.set_cookie(SID, before, domain="portal.test")
    assert replay.get("/portal").status_code == 303


# --- log hygiene over a whole flow --------------------------------------------------------------


def _full_flow(call, merchant, customer):
    keys = {"x-easy-api-key": merchant.secret}
    public = {"x-easy-api-key": merchant.publishable}
    body = {"company_id": merchant.id, "email": EMAIL}
    assert call("POST", "/v1/api/customer-portal/access/request-link", json=body, headers=public)
    url = latest_link(EMAIL)
    page = call("GET", path_of(url))
    token = page.text.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    consumed = call("POST", path_of(url), data={"csrf_token": token})
    assert consumed.status_code == 303
    first = call("POST", "/v1/api" + HANDOFF, json={"customer_id": customer["id"]}, headers=keys)
    code = first.json()["data"]["code"]
    assert call("GET", f"/portal/handoff/{code}").status_code == 303
    second = call("POST", "/v1/api" + HANDOFF, json={"customer_id": customer["id"]}, headers=keys)
    other_code = second.json()["data"]["code"]
    api = call("POST", "/v1/api/customer-portal/access/handoff/exchange", json={"code": other_code})
    return [token_of(url), code, other_code, api.json()["data"]["session_token"]]


def test_no_secret_reaches_any_log_record(app, merchant, customer, caplog):
    caplog.set_level(logging.DEBUG)
    with access_logged_server(app) as (origin, recorder):
        browser = HttpBrowser(origin)
        secrets = _full_flow(browser, merchant, customer)
        secrets += [browser.cookies[SID], merchant.secret, merchant.publishable]
    # httpx/httpcore are this test's own HTTP client (they log the cookies it receives).
    records = [
        r
        for r in caplog.records + recorder.records
        if r.name.split(".")[0] not in ("httpx", "httpcore")
    ]
    assert any("/portal/access/" in r.getMessage() for r in recorder.records), "no access log"
    for record in records:
        text = " ".join(
            [record.getMessage(), repr(record.args), record.exc_text or "", str(record.msg)]
        )
        for secret in secrets:
            assert secret not in text, (secret, text)


@pytest.mark.parametrize("path", ["/merchant/invite/{}", "/portal/confirm-email/{}"])
def test_invitation_and_email_change_tokens_are_redacted_in_the_access_log(app, path):
    secret = "Zq8" + "x" * 40
    with access_logged_server(app) as (origin, recorder):
        HttpBrowser(origin)("GET", path.format(secret))
    lines = [r.getMessage() for r in recorder.records]
    assert any(path.format("[redacted]") in line for line in lines), lines
    assert not any(secret in line for line in lines)
