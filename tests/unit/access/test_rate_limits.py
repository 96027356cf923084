"""Rate limits on sign-in: per address and per IP for link requests (API and pages share the
buckets), per IP for consuming links and codes, the API key budget; counted in the default
storage (``lazymemory://``), the ones marked ``on_both`` also in Redis, and Redis shared by
two app instances."""

import json
import os
import subprocess
import sys
import textwrap
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis
import time_machine
from browsing import csrf_of, from_ip
from builders import CONFIG, EXCHANGE
from limits.storage import RedisStorage

from portal import create_app
from portal.extensions import limiter
from portal.ratelimit_storage import LazyMemoryStorage

from .conftest import CONSUME, EMAIL, fresh_link, outbox, path_of, request_link, token_of

START = datetime(2030, 3, 4, 9, 0, 0, tzinfo=UTC)
REDIS_URL = "redis://127.0.0.1:6379/15"
# Only this run's keys, so runs sharing the Redis server (CI, parallel checkouts) never meet.
REDIS_PREFIX = f"portal-test-{uuid.uuid4().hex[:12]}"
STORAGES = {"default": ("lazymemory://", LazyMemoryStorage), "redis": (REDIS_URL, RedisStorage)}
on_both = pytest.mark.parametrize("storage", ["default", "redis"], indirect=True)
on_redis = pytest.mark.parametrize("storage", ["redis"], indirect=True)


def forget_this_run(store: redis.Redis) -> None:
    for key in store.scan_iter(f"{REDIS_PREFIX}:*"):
        store.delete(key)


@pytest.fixture
def shared_redis():
    """The real Redis at 127.0.0.1, holding none of this run's keys before or after."""
    store = redis.Redis.from_url(REDIS_URL)
    forget_this_run(store)
    yield store
    forget_this_run(store)
    store.close()


@pytest.fixture
def storage(request):
    """Where the test's app counts: the default storage, unless ``on_both``/``on_redis``."""
    return getattr(request, "param", "default")


@pytest.fixture
def app(app, storage, request):
    """The suite's app (which counts in ``memory://``) again, counting in ``storage``."""
    uri, _kind = STORAGES[storage]
    overrides = {**app.config, "RATELIMIT_STORAGE_URI": uri}
    if storage == "redis":
        request.getfixturevalue("shared_redis")
        overrides["RATELIMIT_STORAGE_OPTIONS"] = {"key_prefix": REDIS_PREFIX}
    return create_app(overrides)


def assert_api_429(response):
    assert response.status_code == 429
    body = response.get_json()
    assert body["success"] is False and body["error"]["code"] == "RATE_LIMITED"
    assert int(response.headers["Retry-After"]) > 0


def html_request(client, company_id, email, ip="127.0.0.1"):
    page = client.get(f"/p/{company_id}", **from_ip(ip))
    data = {"csrf_token": csrf_of(page), "email": email}
    return client.post(f"/p/{company_id}", data=data, **from_ip(ip))


# --- per address -----------------------------------------------------------------------------


@pytest.mark.parametrize("email", [EMAIL, "nobody@example.com"])
def test_the_sixth_api_request_for_an_address_within_an_hour_is_refused(
    client, merchant, customer, email
):
    with time_machine.travel(START, tick=False) as clock:
        for i in range(5):  # a different IP each time: only the address is counted
            assert request_link(merchant, email, request=from_ip(f"10.0.0.{i}")).status_code == 200
        sixth = request_link(merchant, email, request=from_ip("10.0.0.9"))
        assert_api_429(sixth)
        assert 3000 < int(sixth.headers["Retry-After"]) <= 3601
        assert len(outbox()) == (5 if email == EMAIL else 0)
        assert request_link(merchant, "other@example.com").status_code == 200
        clock.shift(timedelta(hours=1, seconds=1))
        assert request_link(merchant, email).status_code == 200


@on_both
def test_the_sixth_page_request_for_an_address_gets_a_readable_page(client, merchant, customer):
    spellings = [EMAIL, EMAIL.upper(), f" {EMAIL} ", "Jo@Example.com", EMAIL]
    for i, spelling in enumerate(spellings):
        assert html_request(client, merchant.id, spelling, ip=f"10.0.1.{i}").status_code == 200
    sixth = html_request(client, merchant.id, EMAIL, ip="10.0.1.9")
    assert sixth.status_code == 429
    html = sixth.get_data(as_text=True)
    assert "Too many attempts" in html and "<html" in html
    assert sixth.mimetype == "text/html"
    assert len(outbox()) == 5


@on_both
def test_pages_and_api_share_the_address_bucket(client, merchant, customer):
    for i in range(3):
        assert request_link(merchant, request=from_ip(f"10.0.2.{i}")).status_code == 200
    for i in range(2):
        assert html_request(client, merchant.id, EMAIL, ip=f"10.0.3.{i}").status_code == 200
    assert_api_429(request_link(merchant, request=from_ip("10.0.4.1")))
    assert html_request(client, merchant.id, EMAIL, ip="10.0.4.2").status_code == 429
    assert len(outbox()) == 5


@on_both
def test_renewing_a_link_counts_against_the_address(client, merchant, customer):
    url = fresh_link(merchant)
    for i in range(4):
        assert request_link(merchant, request=from_ip(f"10.0.5.{i}")).status_code == 200
    page = client.get(path_of(url))
    renewed = client.post(path_of(url) + "/renew", data={"csrf_token": csrf_of(page)})
    assert renewed.status_code == 429
    assert len(outbox()) == 5


# --- per IP ------------------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["api", "html"])
def test_link_requests_are_limited_per_ip(client, merchant, channel):
    def ask(i, ip):
        email = f"person{i}@example.com"
        if channel == "api":
            return request_link(merchant, email, request=from_ip(ip))
        return html_request(client, merchant.id, email, ip=ip)

    with time_machine.travel(START, tick=False) as clock:
        for i in range(20):
            assert ask(i, "10.1.0.1").status_code == 200, i
        refused = ask(20, "10.1.0.1")
        assert refused.status_code == 429
        if channel == "api":
            assert_api_429(refused)
        assert ask(21, "10.1.0.2").status_code == 200
        clock.shift(timedelta(minutes=1, seconds=1))
        assert ask(22, "10.1.0.1").status_code == 200


@on_both
def test_forwarded_for_headers_do_not_open_new_ip_buckets(client, merchant):
    """Without PORTAL_PROXY_HOPS the peer address counts, whatever X-Forwarded-For claims."""
    for i in range(20):
        spoofed = {"headers": {"X-Forwarded-For": f"203.0.113.{i}", "X-Real-IP": f"198.51.100.{i}"}}
        assert request_link(merchant, f"p{i}@example.com", request=spoofed).status_code == 200
    spoofed = {"headers": {"X-Forwarded-For": "203.0.113.99"}}
    assert_api_429(request_link(merchant, "p99@example.com", request=spoofed))


def test_consume_attempts_are_limited_per_ip(client, merchant, customer):
    with time_machine.travel(START, tick=False) as clock:
        url = fresh_link(merchant)
        for path, body in [(CONSUME, {"token": "guess"}), (EXCHANGE, {"code": "g" * 43})] * 15:
            assert client.post("/v1/api" + path, json=body).status_code == 401
        # The 31st attempt is refused even with the genuine token, in the API and the page.
        assert_api_429(client.post("/v1/api" + CONSUME, json={"token": token_of(url)}))
        page = client.get(path_of(url))
        assert page.status_code == 200  # viewing the confirm page is not an attempt
        consumed = client.post(path_of(url), data={"csrf_token": csrf_of(page)})
        assert consumed.status_code == 429
        other_ip = client.post(
            "/v1/api" + CONSUME, json={"token": token_of(url)}, **from_ip("10.2.0.1")
        )
        assert other_ip.status_code == 200
        clock.shift(timedelta(minutes=1, seconds=1))
        assert client.post("/v1/api" + CONSUME, json={"token": "guess"}).status_code == 401


# --- the API key budget, and where it is counted ------------------------------------------------


@on_both
def test_the_tests_count_in_the_storage_they_name(app, merchant, storage, shared_redis):
    assert isinstance(limiter.storage, STORAGES[storage][1])
    assert merchant.get(CONFIG).status_code == 200
    assert bool(list(shared_redis.scan_iter(f"{REDIS_PREFIX}:*"))) == (storage == "redis")


@on_both
def test_an_api_key_past_its_budget_gets_429(app, merchant, other_merchant):
    app.config["PORTAL_API_RATE_LIMIT"] = "3 per minute"
    for remaining in (2, 1, 0):
        response = merchant.get(CONFIG)
        assert response.status_code == 200
        assert response.headers["RateLimit-Remaining"] == str(remaining)
    refused = merchant.get(CONFIG)
    assert_api_429(refused)
    assert refused.headers["RateLimit-Limit"] == "3"
    assert 0 < int(refused.headers["Retry-After"]) <= 61  # the reset is rounded up
    assert other_merchant.get(CONFIG).status_code == 200  # each key has its own budget


def test_the_default_storage_opens_a_new_window_when_the_last_is_over(app, merchant):
    app.config["PORTAL_API_RATE_LIMIT"] = "2 per minute"
    with time_machine.travel(START, tick=False) as clock:
        assert [merchant.get(CONFIG).status_code for _ in range(3)] == [200, 200, 429]
        clock.shift(timedelta(seconds=59))
        assert_api_429(merchant.get(CONFIG))
        clock.shift(timedelta(seconds=1))
        assert merchant.get(CONFIG).headers["RateLimit-Remaining"] == "1"


# --- Redis shared by two app instances --------------------------------------------------------


SECOND_INSTANCE = textwrap.dedent(
    """
    import json, sys
    from portal import create_app
    app = create_app({
        "PORTAL_ENV": "testing", "PORTAL_DATABASE_URL": sys.argv[1],
        "PORTAL_BASE_URL": "http://portal.test", "SERVER_NAME": "portal.test",
        "SECRET_KEY": sys.argv[2], "PORTAL_MAIL_IMMEDIATE": False,
        "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": sys.argv[6]},
    })
    client = app.test_client()
    statuses = []
    for _ in range(int(sys.argv[5])):
        response = client.post(
            "/v1/api/customer-portal/access/request-link",
            json={"company_id": sys.argv[3], "email": "jo@example.com"},
            headers={"x-easy-api-key": sys.argv[4]},
            environ_base={"REMOTE_ADDR": "10.9.9.9"},
        )
        statuses.append(response.status_code)
    print(json.dumps(statuses))
    """
)


def _second_instance(app, merchant, count) -> list[int]:
    """Another process (think: another gunicorn worker) that finds Redis in the environment."""
    env = {**os.environ, "PORTAL_RATELIMIT_STORAGE_URL": REDIS_URL, "PORTAL_ENV": "testing"}
    args = [app.config["PORTAL_DATABASE_URL"], app.config["SECRET_KEY"], merchant.id]
    result = subprocess.run(
        [sys.executable, "-c", SECOND_INSTANCE, *args, merchant.publishable, str(count)]
        + [REDIS_PREFIX],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@on_redis
def test_the_address_limit_holds_across_instances_sharing_redis(
    app, client, merchant, customer, shared_redis
):
    def ask(ip):
        return client.post(
            "/v1/api/customer-portal/access/request-link",
            json={"company_id": merchant.id, "email": EMAIL},
            headers={"x-easy-api-key": merchant.publishable},
            environ_base={"REMOTE_ADDR": ip},
        )

    for i in range(3):
        assert ask(f"10.8.0.{i}").status_code == 200
    assert any(b"link-email" in key for key in shared_redis.scan_iter(f"{REDIS_PREFIX}:*"))
    assert _second_instance(app, merchant, 3) == [200, 200, 429]
    assert_api_429(ask("10.8.0.9"))
    assert len(outbox()) == 5
