"""The JSON access routes: request-link (publishable or secret key), consume, and links
built from configuration whatever the request's headers say."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from builders import make_customer
from support import add_domain

from portal.models import LoginToken, PortalSession

from .conftest import (
    BASE_URL,
    CONSUME,
    EMAIL,
    ME,
    REQUEST_LINK,
    SESSION_PAYLOAD,
    assert_same_time,
    fresh_link,
    links_in_outbox,
    login_row,
    outbox,
    press_continue,
    relax_link_limits,
    request_link,
    token_of,
    use_domain,
)

START = datetime(2030, 3, 4, 9, 0, 0, tzinfo=UTC)
KEYS = ["publishable", "secret"]
# Counters that move with every request, whoever it is for.
VARYING_HEADERS = {"RateLimit-Remaining", "RateLimit-Reset"}


def key_of(merchant, kind):
    return getattr(merchant, kind)


def envelope_without_timestamp(response):
    body = response.get_json()
    assert body.pop("timestamp").endswith("Z")
    return body


# --- request-link ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KEYS)
def test_known_and_unknown_addresses_get_the_same_answer(client, merchant, customer, kind):
    answers = []
    for email in (EMAIL, "nobody@example.com"):
        response = request_link(merchant, email, key=key_of(merchant, kind))
        headers = sorted((k, v) for k, v in response.headers.items() if k not in VARYING_HEADERS)
        assert set(response.headers.keys()) >= VARYING_HEADERS
        answers.append((response.status_code, envelope_without_timestamp(response), headers))
    assert answers[0] == answers[1]
    status, body, _ = answers[0]
    assert status == 200 and body["success"] is True and body["data"] == {"requested": True}
    assert [m.to_address for m in outbox()] == [EMAIL]
    assert LoginToken.select().count() == 1


def test_known_and_unknown_addresses_take_the_same_time(app, merchant, customer):
    relax_link_limits(app)
    assert_same_time(
        lambda: request_link(merchant, EMAIL),
        lambda: request_link(merchant, "nobody@example.com"),
    )


def test_known_and_unknown_addresses_run_the_same_statements(merchant, customer, caplog):
    """The deterministic side of the timing rule: an unknown address must not skip the work."""
    counts = []
    for email in (EMAIL, "nobody@example.com", EMAIL, "nobody@example.com"):
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="peewee"):
            assert request_link(merchant, email).status_code == 200
        counts.append(sum(1 for r in caplog.records if r.name == "peewee"))
    known, unknown = counts[2], counts[3]  # after the first pair: config rows exist
    assert abs(known - unknown) <= 2, counts


@pytest.mark.parametrize("kind", KEYS)
def test_a_key_cannot_request_links_for_another_company(
    client, merchant, other_merchant, customer, kind
):
    make_customer(other_merchant, email=EMAIL)
    response = request_link(
        merchant, EMAIL, key=key_of(merchant, kind), company_id=other_merchant.id
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and "company_id" in error["details"]["fields"]
    assert outbox() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"email": "a@" + "b" * 260 + ".com"}, "email"),
        ({"email": None}, "email"),
        ({"destination": "https://evil.example"}, "destination"),
        ({"destination_context": "x" * 65}, "destination_context"),
        ({"company": "extra"}, "company"),
    ],
)
def test_bad_link_requests_are_422_and_send_nothing(client, merchant, customer, body, field):
    response = merchant.post(REQUEST_LINK, {"company_id": merchant.id, "email": EMAIL, **body})
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]["fields"]
    assert outbox() == []


@pytest.mark.parametrize("key", [None, "pk_test_unknown", "sk_test_unknown"])
def test_request_link_needs_a_key_of_that_company(client, merchant, customer, key):
    headers = {"x-easy-api-key": key} if key else {}
    response = client.post(
        "/v1/api" + REQUEST_LINK, json={"company_id": merchant.id, "email": EMAIL}, headers=headers
    )
    assert response.status_code == 401
    assert outbox() == []


def test_a_publishable_key_can_do_nothing_else(client, merchant, customer):
    for method, path, body in [
        ("GET", "/customer", None),
        ("POST", "/customer-portal/access/handoff", {"customer_id": customer["id"]}),
        ("PATCH", "/customer-portal-config", {"portal_header": "x"}),
    ]:
        response = merchant.call(method, path, body, key=merchant.publishable)
        assert response.status_code == 403, path


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-Host": "evil.example"},
        {
            "X-Forwarded-Host": "evil.example",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Port": "8443",
        },
        {"X-Host": "evil.example"},
        {"Forwarded": "for=1.2.3.4;host=evil.example;proto=https"},
        {"Origin": "https://evil.example", "Referer": "https://evil.example/x"},
    ],
)
@pytest.mark.parametrize("host", ["portal.test", "evil.example"])
def test_links_are_built_from_configuration_only(client, merchant, customer, headers, host):
    response = request_link(merchant, request={"headers": headers, "base_url": f"http://{host}"})
    assert response.status_code == 200
    links = links_in_outbox()
    assert links and all(link.startswith(BASE_URL + "/portal/access/") for link in links)


def test_links_use_the_chosen_verified_custom_domain(client, merchant, customer):
    add_domain(merchant.company, "billing.other.test")  # verified but not chosen
    use_domain(merchant, add_domain(merchant.company, "billing.acme.test"))
    request_link(merchant, request={"headers": {"X-Forwarded-Host": "evil.example"}})
    links = links_in_outbox()
    assert links and all(
        link.startswith("http://billing.acme.test/portal/access/") for link in links
    )


# --- consume ---------------------------------------------------------------------------------


@pytest.mark.parametrize("destination", ["home", "payment_methods", "billing_information"])
def test_consume_returns_a_bearer_session(client, merchant, customer, destination):
    with time_machine.travel(START, tick=False):
        token = token_of(fresh_link(merchant, destination=destination))
        response = client.post("/v1/api" + CONSUME, json={"token": token})  # no API key needed
        assert response.status_code == 200
        data = response.get_json()["data"]
        assert set(data) == SESSION_PAYLOAD
        assert data["customer_id"] == customer["id"] and data["company_id"] == merchant.id
        assert data["destination"] == destination
        assert data["expires_at"] == "2030-03-04T21:00:00.000Z"
        assert len(data["session_token"]) >= 43
        me = client.get(
            "/v1/api" + ME, headers={"Authorization": f"Bearer {data['session_token']}"}
        )
        assert me.status_code == 200 and me.get_json()["data"]["customer"]["email"] == EMAIL
        assert PortalSession.get().host is None


@pytest.mark.parametrize(
    ("token", "status"),
    [
        ("not-a-token", 401),
        ("a.b.c", 401),
        ("x" * 400, 401),
        ("x" * 401, 422),
        ("", 422),
        (None, 422),
        (12345, 422),
    ],
)
def test_consume_refuses_bad_tokens(client, merchant, customer, token, status):
    response = client.post("/v1/api" + CONSUME, json={"token": token})
    assert response.status_code == status
    assert response.get_json()["success"] is False
    assert PortalSession.select().count() == 0


def test_consume_refuses_expired_used_and_replaced_links(client, merchant, customer):
    with time_machine.travel(START, tick=False) as clock:
        used = token_of(fresh_link(merchant))
        assert merchant.post(CONSUME, {"token": used}).status_code == 200
        replaced = token_of(fresh_link(merchant))
        token_of(fresh_link(merchant))
        expired = token_of(fresh_link(merchant))
        clock.shift(timedelta(minutes=15, seconds=1))
        for token in (used, replaced, expired):
            response = client.post("/v1/api" + CONSUME, json={"token": token})
            assert response.status_code == 401
            assert response.get_json()["error"]["code"] == "INVALID_TOKEN"
        assert login_row(expired).used_at is None
    assert PortalSession.select().count() == 1


def test_a_link_issued_through_the_api_also_works_in_the_browser(client, merchant, customer):
    assert press_continue(client, fresh_link(merchant)).status_code == 303
