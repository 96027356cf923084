"""Helpers for the sign-in tests: a customer, the newest e-mailed link, a browser-like walk
through request → confirm → continue, timing and race checks. Customers and handoffs come
from ``builders``, CSRF tokens and hosts from ``browsing``."""

import logging
import re
import statistics
import threading
import time
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx
import pytest
from browsing import csrf_of, on
from builders import make_customer, patch_config
from werkzeug.serving import make_server

from portal.models import CustomDomain, LoginToken, OutboxMessage, PortalSession
from portal.security import sha256_hex

BASE_URL = "http://portal.test"
BASE_HOST = "portal.test"
SID = "__Host-portal_sid"
EMAIL = "jo@example.com"
REQUEST_LINK = "/customer-portal/access/request-link"
CONSUME = "/customer-portal/access/consume"
SIGN_OUT = "/customer-portal/access/sign-out"
ME = "/customer-portal/me"
# What consuming a link or exchanging a handoff code answers.
SESSION_PAYLOAD = {
    "session_token",
    "expires_at",
    "customer_id",
    "company_id",
    "destination",
    "return_url",
}

_LINK = re.compile(r"https?://[^\s\"'<>]+/portal/access/[^\s\"'<>]+")


@pytest.fixture(autouse=True)
def _mail_stays_queued(queued_mail):
    """Every test here reads its sign-in links from the outbox."""


@pytest.fixture
def customer(merchant) -> dict:
    """Jo Doe, jo@example.com."""
    return make_customer(merchant, email=EMAIL)


def outbox() -> list[OutboxMessage]:
    return list(OutboxMessage.select().order_by(OutboxMessage.created_at, OutboxMessage.id))


def outbox_ids() -> set[str]:
    return {m.id for m in OutboxMessage.select(OutboxMessage.id)}


def latest_link(to: str | None = None, *, since: set[str] | None = None) -> str:
    """The sign-in link of the one message queued after ``since`` (default: the newest one;
    with a frozen clock pass ``since``, as timestamps then tie)."""
    query = OutboxMessage.select().order_by(OutboxMessage.created_at.desc())
    if to is not None:
        query = query.where(OutboxMessage.to_address == to)
    messages = [m for m in query if since is None or m.id not in since]
    assert messages, "no new message in the outbox"
    if since is not None:
        assert len(messages) == 1, [m.to_address for m in messages]
    links = set(_LINK.findall(messages[0].text_body))
    assert len(links) == 1, messages[0].text_body
    return links.pop()


def links_in_outbox() -> list[str]:
    return [link for m in outbox() for link in _LINK.findall(m.text_body + m.html_body)]


def path_of(url: str) -> str:
    return urlsplit(url).path


def host_of(url: str) -> str:
    return urlsplit(url).netloc


def token_of(url: str) -> str:
    return path_of(url).rsplit("/", 1)[1]


def login_row(token_or_url: str) -> LoginToken:
    """The stored row of a link (found the way the server does: by the nonce's hash)."""
    from itsdangerous import URLSafeSerializer

    token = token_of(token_or_url) if "/" in token_or_url else token_or_url
    payload = URLSafeSerializer("unused").loads_unsafe(token.rsplit(".", 1)[0])[1]
    return LoginToken.get(LoginToken.nonce_hash == sha256_hex(payload["n"]))


CSRF_VALUE = re.compile(rb'(csrf_token"[^>]*value="|"X-CSRFToken": ")[^"]+')


def without_csrf(body: bytes, token: str | None = None) -> bytes:
    """The page with every CSRF token blanked: tokens carry a timestamp, so two pages
    rendered a second apart differ there and nowhere else."""
    return CSRF_VALUE.sub(rb"\1<csrf>", body)


def request_link(merchant, email=EMAIL, *, key=None, company_id=None, request=None, **extra):
    """POST request-link; ``extra`` goes into the body, ``request`` into the test client."""
    body = {"company_id": company_id or merchant.id, "email": email, **extra}
    return merchant.post(REQUEST_LINK, body, key=key or merchant.publishable, **(request or {}))


def fresh_link(merchant, email=EMAIL, **extra) -> str:
    before = outbox_ids()
    response = request_link(merchant, email, **extra)
    assert response.status_code == 200, response.get_json()
    return latest_link(email, since=before)


def press_continue(client, url: str, **kwargs):
    """What a person does: open the link, then press the button (GET, scrape CSRF, POST)."""
    host = host_of(url)
    page = client.get(path_of(url), **on(host), **kwargs)
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post(path_of(url), data={"csrf_token": csrf_of(page)}, **on(host), **kwargs)


def sign_in(client, merchant, email=EMAIL) -> str:
    """Sign in through an e-mailed link; returns the portal session cookie value."""
    url = fresh_link(merchant, email)
    response = press_continue(client, url)
    assert response.status_code == 303, response.get_data(as_text=True)
    return session_cookie(client, host_of(url))


def session_cookie(client, host=BASE_HOST) -> str | None:
    cookie = client.get_cookie(SID, domain=host)
    return cookie.value if cookie else None


def session_rows() -> int:
    return PortalSession.select().count()


def use_domain(merchant, domain: CustomDomain) -> None:
    patch_config(merchant, custom_domain_id=domain.id)


def relax_link_limits(app) -> None:
    """For tests about something else that need many link requests from one address."""
    app.config["PORTAL_LINK_RATE_LIMIT_EMAIL"] = "10000 per hour"
    app.config["PORTAL_LINK_RATE_LIMIT_IP"] = "10000 per minute"


def median_gap_ms(first, second, runs=30) -> float:
    """|median(first) - median(second)| in ms; calls interleaved (ABBA) after a warm-up."""
    for _ in range(3):
        first(), second()
    times = {first: [], second: []}
    for i in range(runs):
        for call in (first, second) if i % 2 == 0 else (second, first):
            started = time.perf_counter()
            call()
            times[call].append(time.perf_counter() - started)
    return abs(statistics.median(times[first]) - statistics.median(times[second])) * 1000


def assert_same_time(first, second, limit_ms=5.0, attempts=3) -> None:
    """Median latencies differ by less than ``limit_ms``. A real timing oracle is systematic
    and fails every attempt; a burst of load from other processes spoils one, not three."""
    gaps = []
    for _ in range(attempts):
        gaps.append(round(median_gap_ms(first, second), 2))
        if gaps[-1] < limit_ms:
            return
    pytest.fail(f"median latency differs by {gaps} ms (limit {limit_ms} ms)")


def race(count, attempt):
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        prepared = attempt(i)
        barrier.wait()
        results[i] = prepared()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


class LogRecorder(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@contextmanager
def access_logged_server(app):
    """``app`` served on a free local port while werkzeug's access log lines are recorded;
    yields (the server's origin, the LogRecorder)."""
    recorder = LogRecorder()
    werkzeug_log = logging.getLogger("werkzeug")
    werkzeug_log.addHandler(recorder)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", recorder
    finally:
        server.shutdown()
        thread.join(10)
        werkzeug_log.removeHandler(recorder)


class HttpBrowser:
    """A cookie-keeping HTTP client against a real server (so werkzeug logs every request)."""

    def __init__(self, origin):
        self.origin, self.cookies = origin, {}

    def __call__(self, method, path, **kwargs):
        headers = {"Host": "portal.test", **kwargs.pop("headers", {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = httpx.request(method, self.origin + path, headers=headers, **kwargs)
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response
