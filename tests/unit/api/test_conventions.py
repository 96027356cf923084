"""Wire conventions every route shares: envelopes, keys, slashes, content types, errors,
rate limits, CORS, cookies and Idempotency-Key."""

import re
import threading
from datetime import UTC, datetime

import pytest
from support import Merchant, count_rows

from portal import create_app
from portal.api.registry import ROUTES
from portal.db import db
from portal.extensions import limiter
from portal.models import MODELS, ApiKey, Customer, IdempotencyRecord, utcnow
from portal.security import sha256_hex

from .apiworld import CUSTOMER, UNSAFE, World, assert_error_envelope, path_for, route_id

ISO_MS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
API = "/v1/api"


def assert_recent(timestamp: str) -> None:
    assert ISO_MS.fullmatch(timestamp), timestamp
    moment = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - moment).total_seconds()) < 60


# --- envelopes -------------------------------------------------------------------------


def test_success_envelope(merchant):
    body = merchant.get("/validate-key").get_json()
    assert set(body) == {"success", "timestamp", "data", "message"}
    assert body["success"] is True and isinstance(body["message"], str)
    assert_recent(body["timestamp"])


def test_list_envelope_adds_pagination(merchant):
    for _ in range(3):
        merchant.ok("POST", "/customer", CUSTOMER)
    body = merchant.get("/customer?limit=2").get_json()
    assert len(body["data"]) == 2
    assert body["pagination"] == {"total": 3, "limit": 2, "offset": 0, "has_more": True}


def test_error_envelope(client):
    response = client.get(f"{API}/customer")
    assert set(response.get_json()) == {"success", "timestamp", "error"}
    assert_error_envelope(response, 401, "AUTHENTICATION_REQUIRED")
    assert_recent(response.get_json()["timestamp"])


# --- API keys --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "AUTHENTICATION_REQUIRED"),
        ({"x-easy-api-key": ""}, "AUTHENTICATION_REQUIRED"),
        ({"x-easy-api-key": "sk_test_not-a-real-key"}, "INVALID_API_KEY"),
        ({"Authorization": "Bearer sk_test_not-a-real-key"}, "AUTHENTICATION_REQUIRED"),
    ],
)
def test_missing_or_wrong_key_is_401(client, merchant, headers, code):
    assert_error_envelope(client.get(f"{API}/customer", headers=headers), 401, code)


def test_revoked_key_is_401(merchant):
    assert merchant.get("/customer").status_code == 200
    with db.connection_context():
        ApiKey.update(revoked_at=utcnow()).where(
            ApiKey.key_hash == sha256_hex(merchant.secret)
        ).execute()
    assert_error_envelope(merchant.get("/customer"), 401, "INVALID_API_KEY")


@pytest.mark.parametrize("name", ["api_key", "x-easy-api-key", "key"])
def test_key_in_query_string_is_ignored(client, merchant, name):
    response = client.get(f"{API}/customer", query_string={name: merchant.secret})
    assert_error_envelope(response, 401, "AUTHENTICATION_REQUIRED")


def test_publishable_key_cannot_use_secret_routes(merchant):
    response = merchant.post("/customer", CUSTOMER, key=merchant.publishable)
    assert_error_envelope(response, 403, "PERMISSION_DENIED")
    assert_error_envelope(merchant.get("/customer", key=merchant.publishable), 403)
    assert count_rows(Customer) == 0


@pytest.mark.parametrize("kind", ["secret", "publishable"])
def test_validate_key(merchant, kind):
    data = merchant.ok("GET", "/validate-key", key=getattr(merchant, kind))
    assert data == {
        "company_id": merchant.id,
        "key_type": kind,
        "livemode": False,
        "basisTheoryPublicApiKey": "",
    }


def test_database_stores_no_plaintext_key(merchant, other_merchant):
    merchant.ok("POST", "/customer", CUSTOMER, headers={"Idempotency-Key": "k-1"})
    secrets = [m.secret for m in (merchant, other_merchant)]
    secrets += [m.publishable for m in (merchant, other_merchant)]
    with db.connection_context():
        hashes = {key.key_hash for key in ApiKey.select()}
        dump = "\n".join(str(row) for model in MODELS for row in model.select().tuples())
    assert hashes == {sha256_hex(s) for s in secrets}
    for secret in secrets:
        assert secret not in dump and secret.split("_", 2)[2] not in dump


# --- paths, content types, methods -----------------------------------------------------


def test_trailing_slash_works_without_redirect(merchant):
    created = merchant.post("/customer/", CUSTOMER)
    assert created.status_code == 201
    customer_id = created.get_json()["data"]["id"]
    assert merchant.get("/customer/").get_json()["data"][0]["id"] == customer_id
    assert merchant.get(f"/customer/{customer_id}/").status_code == 200
    patched = merchant.patch(f"/customer/{customer_id}/", {"first_name": "Augusta"})
    assert patched.get_json()["data"]["entity"]["first_name"] == "Augusta"


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("first_name=Ada&last_name=Lovelace", "application/x-www-form-urlencoded"),
        ('{"first_name": "Ada", "last_name": "Lovelace"}', "text/plain"),
        ("--b\r\n", "multipart/form-data; boundary=b"),
    ],
)
def test_non_json_body_is_415(merchant, data, content_type):
    response = merchant.post("/customer", data=data, content_type=content_type)
    assert_error_envelope(response, 415)
    assert count_rows(Customer) == 0


def test_bodyless_delete_with_json_content_type(merchant):
    coupon = merchant.ok("POST", "/coupons", {"percent_off": 10, "duration": "once"})
    response = merchant.delete(
        f"/coupons/{coupon['id']}", data=b"", content_type="application/json"
    )
    assert response.status_code == 200
    assert_error_envelope(merchant.get(f"/coupons/{coupon['id']}"), 404)


BODYLESS = [
    s
    for s in ROUTES
    if s.method in UNSAFE and (s.body is None or not s.body.model_json_schema().get("properties"))
]


@pytest.mark.parametrize("spec", BODYLESS, ids=route_id)
def test_empty_json_body_is_not_malformed(merchant, spec):
    # The official client sends Content-Type: application/json with no body on actions.
    world = World(merchant)
    path = path_for(spec, world.ids)
    response = world.open(spec, path, data=b"", content_type="application/json")
    if response.status_code >= 400:
        error = assert_error_envelope(response)
        assert response.status_code not in (400, 415), (route_id(spec), error)
        assert error["code"] != "VALIDATION_ERROR", (route_id(spec), error)


@pytest.mark.parametrize("path", ["/nope", "/customer/x/nope", "/v2/customer"])
def test_unknown_route_is_404_envelope(merchant, path):
    assert_error_envelope(merchant.get(path), 404, "NOT_FOUND")


def test_wrong_method_is_405_envelope(merchant):
    response = merchant.delete("/customer")
    assert_error_envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert "POST" in response.headers["Allow"]


# --- rate limits -----------------------------------------------------------------------


def test_rate_limit_headers(merchant):
    first = merchant.get("/validate-key")
    second = merchant.get("/validate-key")
    limit = int(first.headers["RateLimit-Limit"])
    assert limit == 600
    assert (
        int(second.headers["RateLimit-Remaining"]) == int(first.headers["RateLimit-Remaining"]) - 1
    )
    assert 0 <= int(first.headers["RateLimit-Reset"]) <= 61  # a 60 s window, rounded up


@pytest.fixture
def limited(app):
    """The same app and database with a limit of 3 API calls a minute per key."""
    names = ("PORTAL_DATABASE_URL", "PORTAL_BASE_URL", "SECRET_KEY", "RATELIMIT_STORAGE_URI")
    config = {name: app.config[name] for name in names}
    tiny = create_app({**config, "PORTAL_ENV": "testing", "PORTAL_API_RATE_LIMIT": "3 per minute"})
    with tiny.app_context():
        limiter.reset()
    client = tiny.test_client()
    return Merchant(client, "Tiny Co"), Merchant(client, "Other Co")


def test_exceeding_the_rate_limit_is_429(limited):
    merchant, other = limited
    for remaining in (2, 1, 0):
        response = merchant.get("/customer")
        assert response.status_code == 200
        assert response.headers["RateLimit-Remaining"] == str(remaining)
    refused = merchant.post("/customer", CUSTOMER)
    assert_error_envelope(refused, 429, "RATE_LIMITED")
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["RateLimit-Limit"] == "3"
    assert count_rows(Customer) == 0
    assert other.get("/customer").status_code == 200  # each key has its own budget


# --- browsers: CORS and cookies --------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "OPTIONS", "POST"])
def test_no_cors_headers_even_with_an_origin(merchant, method):
    headers = {
        "Origin": "https://evil.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-easy-api-key",
    }
    response = merchant.call(method, "/customer", CUSTOMER, headers=headers)
    assert not [n for n, _ in response.headers if n.lower().startswith("access-control-")]


def test_cookies_never_authenticate(client, merchant):
    for name in ("x-easy-api-key", "api_key", "session", "__Host-portal_sid"):
        client.set_cookie(name, merchant.secret)
    assert_error_envelope(client.get(f"{API}/customer"), 401, "AUTHENTICATION_REQUIRED")
    response = client.post(f"{API}/customer", json=CUSTOMER)
    assert_error_envelope(response, 401, "AUTHENTICATION_REQUIRED")
    assert count_rows(Customer) == 0


def test_api_sets_no_cookies(merchant):
    responses = [merchant.post("/customer", CUSTOMER), merchant.get("/customer")]
    responses.append(merchant.get("/nope"))
    assert all("Set-Cookie" not in r.headers for r in responses)


# --- Idempotency-Key -------------------------------------------------------------------


def test_replay_returns_the_first_response(merchant):
    headers = {"Idempotency-Key": "create-ada-1"}
    first = merchant.post("/customer", CUSTOMER, headers=headers)
    again = merchant.post("/customer", CUSTOMER, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert count_rows(Customer) == 1


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/customer", {**CUSTOMER, "first_name": "Grace"}),
        ("POST", "/customer/", {**CUSTOMER, "first_name": "Grace"}),
        ("POST", "/products", {"name": "Pro plan"}),
    ],
)
def test_same_key_with_another_request_is_409(merchant, method, path, body):
    headers = {"Idempotency-Key": "create-ada-2"}
    assert merchant.post("/customer", CUSTOMER, headers=headers).status_code == 201
    response = merchant.call(method, path, body, headers=headers)
    assert_error_envelope(response, 409, "IDEMPOTENCY_KEY_REUSED")
    assert count_rows(Customer) == 1


@pytest.mark.parametrize(("length", "status"), [(255, 201), (256, 400), (5000, 400)])
def test_idempotency_key_length(merchant, length, status):
    response = merchant.post("/customer", CUSTOMER, headers={"Idempotency-Key": "k" * length})
    assert response.status_code == status
    if status == 400:
        assert_error_envelope(response)
    assert count_rows(Customer) == (1 if status == 201 else 0)


def test_idempotency_keys_are_scoped_per_company(merchant, other_merchant):
    headers = {"Idempotency-Key": "shared-key"}
    mine = merchant.ok("POST", "/customer", CUSTOMER, headers=headers)
    theirs = other_merchant.ok("POST", "/customer", CUSTOMER, headers=headers)
    assert mine["id"] != theirs["id"]
    assert (mine["company_id"], theirs["company_id"]) == (merchant.id, other_merchant.id)
    assert count_rows(Customer) == 2


def test_racing_requests_with_one_key_create_once(app, merchant):
    threads_count = 6
    barrier = threading.Barrier(threads_count)
    results = [None] * threads_count

    def send(index):
        client = app.test_client()
        barrier.wait()
        results[index] = client.post(
            f"{API}/customer",
            json=CUSTOMER,
            headers={"x-easy-api-key": merchant.secret, "Idempotency-Key": "race-1"},
        )

    threads = [threading.Thread(target=send, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    statuses = sorted(r.status_code for r in results)
    assert set(statuses) <= {201, 409}, statuses
    created = {r.get_data() for r in results if r.status_code == 201}
    assert len(created) == 1, "every 201 must be the same response, replayed"
    assert count_rows(Customer) == 1
    assert count_rows(IdempotencyRecord) == 1
