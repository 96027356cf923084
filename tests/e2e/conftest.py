"""Browser journeys: Debian's Chromium driven by Playwright against a live server.

By default a server is started in-process on 127.0.0.1 with a real SMTP sink (aiosmtpd).
QA can aim the same journeys at a deployment with ``--base-url`` plus the merchant's keys in
E2E_COMPANY_ID / E2E_SECRET_KEY / E2E_PUBLISHABLE_KEY (the owner's sign-in in E2E_OWNER_EMAIL /
E2E_OWNER_PASSWORD), and the deployment's SMTP pointed at the sink on E2E_SMTP_PORT. The whole
run signs in dozens of times from one address, so raise the deployment's per-address limits
(PORTAL_CONSUME_RATE_LIMIT_IP, PORTAL_LINK_RATE_LIMIT_IP, PORTAL_MERCHANT_SIGNIN_RATE_LIMIT_IP)
for a QA run. Journeys touch the app only through the merchant API and the browser.
"""

import email
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from email import policy

import httpx
import pytest
from aiosmtpd.controller import Controller
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def base_url(pytestconfig):
    """Replaces pytest-playwright's fallback, a session fixture on a plugin instance that
    pytest 9 warns about (PytestRemovedIn10Warning), which our warnings-as-errors rejects."""
    return pytestconfig.getoption("--base-url") or pytestconfig.getini("base_url") or None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


class Inbox:
    """Messages received by the SMTP sink, parsed."""

    def __init__(self):
        self.messages = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook name)
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(parsed)
        return "250 OK"

    def wait_for(self, to: str, *, after: int = 0, timeout: float = 15.0, subject: str = ""):
        """The first message to ``to`` (whose subject has ``subject``) beyond the first
        ``after`` such ones: receipts and other mail to the same customer come too."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                mine = [
                    m
                    for m in self.messages
                    if to.lower() in str(m["To"]).lower() and subject in str(m["Subject"])
                ]
            if len(mine) > after:
                return mine[after]
            time.sleep(0.1)
        raise AssertionError(f"no email to {to} ({subject!r}) within {timeout}s")

    def count(self, to: str) -> int:
        with self._lock:
            return sum(1 for m in self.messages if to.lower() in str(m["To"]).lower())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def inbox():
    box = Inbox()
    port = int(os.environ.get("E2E_SMTP_PORT") or _free_port())
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    box.port = port
    yield box
    controller.stop()


@dataclass
class Deployment:
    url: str
    company_id: str
    secret: str
    publishable: str
    # The merchant owner's sign-in for the merchant settings pages.
    owner_email: str = ""
    owner_password: str = ""
    api: httpx.Client = field(init=False)

    def __post_init__(self):
        self.api = httpx.Client(
            base_url=f"{self.url}/v1/api", headers={"x-easy-api-key": self.secret}, timeout=15
        )

    def ok(self, method: str, path: str, json=None, status=None, *, key=None) -> dict:
        """Call the merchant API with the secret key, or with ``key`` (e.g. the publishable
        one); assert success (and ``status`` when given) and return the envelope's data. The
        shape ``builders`` expects, as ``support.Merchant.ok`` has it for the unit tests."""
        headers = {"x-easy-api-key": key} if key else None
        response = self.api.request(method, path, json=json, headers=headers)
        assert response.status_code < 300, response.text
        if status is not None:
            assert response.status_code == status, response.text
        return response.json()["data"]

    def call(self, method: str, path: str, json=None, *, key: str | None = None) -> dict:
        """``ok`` without a status to expect."""
        return self.ok(method, path, json, key=key)


def _serve_locally(inbox, database_url):
    from portal import create_app
    from portal.cli.commands import init_schema

    port = _free_port()
    app = create_app(
        {
            "PORTAL_ENV": "testing",
            "PORTAL_DATABASE_URL": database_url,
            "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
            "PORTAL_SMTP_URL": f"smtp://127.0.0.1:{inbox.port}",
            # Mail goes out from this process's delivery thread: no deliver-mail worker to run.
            "PORTAL_MAIL_DELIVERY": "thread",
            "SECRET_KEY": uuid.uuid4().hex * 2,
            # Every journey signs in from 127.0.0.1 against one server: the per-address limits
            # are raised explicitly for the run (per-email limits stay as in production).
            "PORTAL_CONSUME_RATE_LIMIT_IP": "10000 per minute",
            "PORTAL_LINK_RATE_LIMIT_IP": "10000 per minute",
            "PORTAL_MERCHANT_SIGNIN_RATE_LIMIT_IP": "10000 per minute",
        }
    )
    init_schema()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return app, server, f"http://127.0.0.1:{port}"


_LOCAL: dict = {}  # the app of the in-process server, when the journeys run against one


@pytest.fixture(scope="session")
def deployment_url(pytestconfig, inbox, database_url):
    base = pytestconfig.getoption("--base-url")
    if base:
        yield base.rstrip("/")
        return
    app, server, url = _serve_locally(inbox, database_url)
    _LOCAL["app"] = app
    yield url
    server.shutdown()


@pytest.fixture
def billing_clock(pytestconfig, deployment_url):
    """``run_at(instant)``: a `flask run-billing` pass as of ``instant`` against the local
    server's database (what a deployment's scheduler does when that time comes), then the
    mail delivery woken as the command wakes it. A deployment's clock cannot be moved, so the
    few journeys that need a renewal to happen are not run against one."""
    if pytestconfig.getoption("--base-url"):
        pytest.skip("renewals need the billing clock of the local test server")
    app = _LOCAL["app"]

    def run_at(instant):
        from portal.billing.runner import run_billing
        from portal.db import db
        from portal.mail import wakeup

        with app.app_context(), db.connection_context():
            result = run_billing(now=instant)
        wakeup.wake(app)
        return result

    return run_at


@pytest.fixture
def merchant_site(pytestconfig, deployment_url):
    """A merchant account to drive through the API: a fresh one per journey when local."""
    if pytestconfig.getoption("--base-url"):
        return Deployment(
            deployment_url,
            os.environ["E2E_COMPANY_ID"],
            os.environ["E2E_SECRET_KEY"],
            os.environ["E2E_PUBLISHABLE_KEY"],
            os.environ.get("E2E_OWNER_EMAIL", ""),
            os.environ.get("E2E_OWNER_PASSWORD", ""),
        )
    from portal.access.merchants import create_merchant
    from portal.db import db

    owner_email, owner_password = f"{uuid.uuid4().hex[:10]}@merchant.example", "pw-123456789"
    with db.connection_context():
        company, secret, publishable = create_merchant(
            f"Journey {uuid.uuid4().hex[:6]}", owner_email, owner_password
        )
    return Deployment(deployment_url, company.id, secret, publishable, owner_email, owner_password)


@pytest.fixture
def browser_context_args(browser_context_args, deployment_url):
    return {**browser_context_args, "base_url": deployment_url}


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def js(request) -> bool:
    """Journeys that must work with JavaScript on and off take this parameter."""
    return request.param


@pytest.fixture
def portal_page(browser, deployment_url, js):
    """A page in a fresh context, with JavaScript on or off as ``js`` says."""
    context = browser.new_context(java_script_enabled=js, base_url=deployment_url)
    yield context.new_page()
    context.close()
