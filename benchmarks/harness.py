"""The processes a benchmark or load test runs: gunicorn servers, the billing and mail workers,
an SMTP sink, and a small cookie-keeping HTTP client. Everything listens on 127.0.0.1 only."""

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlencode

from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
HIGH_LIMIT = "1000000 per minute"
# Raised so the tools measure the app, not the abuse limits; BENCHMARKS.md says so.
LIMIT_OVERRIDES = {
    "PORTAL_API_RATE_LIMIT": HIGH_LIMIT,
    "PORTAL_LINK_RATE_LIMIT_EMAIL": HIGH_LIMIT,
    "PORTAL_LINK_RATE_LIMIT_IP": HIGH_LIMIT,
    "PORTAL_CONSUME_RATE_LIMIT_IP": HIGH_LIMIT,
    "PORTAL_TOKENIZER_RATE_LIMIT": HIGH_LIMIT,
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def default_workers() -> int:
    return 2 * (os.cpu_count() or 1)


def portal_env(database_url: str, port: int, smtp_port: int | None) -> dict:
    """Production settings as the README recommends, on 127.0.0.1:port."""
    env = {
        **os.environ,
        "PORTAL_ENV": "production",
        "PORTAL_SECRET_KEY": secrets.token_urlsafe(48),
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        "PORTAL_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}" if smtp_port else "",
        **LIMIT_OVERRIDES,
    }
    env.pop("PORTAL_RATELIMIT_STORAGE_URL", None)
    return env


def _children(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        kids += [int(p) for p in task.read_text().split()]
    return kids


class Gunicorn:
    """``gunicorn -w N -b 127.0.0.1:PORT module:app`` with its log in ``log_path``."""

    def __init__(self, app: str, port: int, workers: int, env: dict, log_path: Path):
        self.app, self.port, self.workers, self.env = app, port, workers, env
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "Gunicorn":
        args = [sys.executable, "-m", "gunicorn", "-w", str(self.workers)]
        args += ["-b", f"127.0.0.1:{self.port}", "--error-logfile", str(self.log_path), self.app]
        self.proc = subprocess.Popen(args, cwd=ROOT, env=self.env)  # noqa: S603
        deadline = time.monotonic() + timeout
        while len(self.worker_pids()) < self.workers or not _accepts(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn {self.app} did not start; see {self.log_path}")
            time.sleep(0.2)
        return self

    def worker_pids(self) -> list[int]:
        return _children(self.proc.pid) if self.proc and self.proc.poll() is None else []

    def cpu_seconds(self) -> float:
        """User + system CPU of the master and its live workers."""
        total = 0
        for pid in [self.proc.pid, *self.worker_pids()]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
        return total / os.sysconf("SC_CLK_TCK")

    def kill_one_worker(self) -> int:
        pid = self.worker_pids()[0]
        os.kill(pid, signal.SIGKILL)
        return pid

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def tracebacks(self) -> int:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text.count("Traceback (most recent call last)")


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class FlaskCommand:
    """``flask --app wsgi <args>`` in the background (run-billing, deliver-mail)."""

    def __init__(self, args: list[str], env: dict, log_path: Path):
        self.log = open(log_path, "w")  # noqa: SIM115 (closed in stop)
        cmd = [sys.executable, "-m", "flask", "--app", "wsgi", *args]
        self.proc = subprocess.Popen(  # noqa: S603
            cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


class MailSink:
    """A real SMTP server; counts every Message-ID it receives."""

    def __init__(self):
        self.port = free_port()
        self.ids: Counter = Counter()
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.ids[str(parsed["Message-ID"])] += 1
        return "250 OK"

    def __enter__(self) -> "MailSink":
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()

    def received(self) -> Counter:
        with self._lock:
            return Counter(self.ids)


@dataclass
class Reply:
    status: int
    headers: dict
    body: bytes
    wire_bytes: int = 0

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    def json(self):
        return json.loads(self.body)


@dataclass
class Browser:
    """One keep-alive connection plus a cookie jar that, like a browser behind TLS, sends the
    production ``__Host-``/Secure cookies back (gunicorn here speaks plain HTTP)."""

    port: int
    cookies: dict = field(default_factory=dict)
    timeout: float = 30

    def __post_init__(self):
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)

    def request(self, method, path, *, form=None, body=None, headers=None) -> Reply:
        send = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        if form is not None:
            body = urlencode(form)
            send["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            send["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.conn.request(method, path, body=body, headers=send)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()  # the next request reconnects
            raise
        self._remember(response.msg.get_all("Set-Cookie") or [])
        head = sum(len(k) + len(v) + 4 for k, v in response.getheaders()) + 17
        return Reply(response.status, dict(response.getheaders()), data, head + len(data))

    def _remember(self, lines: list[str]) -> None:
        for line in lines:
            pair, _, attrs = line.partition(";")
            name, _, value = pair.strip().partition("=")
            attrs = attrs.lower()
            if "max-age=0" in attrs or "expires=thu, 01 jan 1970" in attrs:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    def get(self, path, **kwargs) -> Reply:
        return self.request("GET", path, **kwargs)

    def close(self) -> None:
        self.conn.close()


def handoff_url(port: int, secret_key: str, customer_id: str) -> str:
    """Mint a handoff link for ``customer_id`` through the merchant API; returns its path."""
    api = Browser(port)
    reply = api.request(
        "POST",
        "/v1/api/customer-portal/access/handoff",
        body=json.dumps({"customer_id": customer_id}),
        headers={"x-easy-api-key": secret_key, "Content-Type": "application/json"},
    )
    api.close()
    if reply.status != 201:
        raise RuntimeError(f"handoff failed: {reply.status} {reply.text[:300]}")
    url = reply.json()["data"]["url"]
    return url.split(f"127.0.0.1:{port}", 1)[1]


def sign_in(port: int, secret_key: str, customer_id: str) -> Browser:
    """A browser signed in as ``customer_id`` (session cookie from the handoff redirect)."""
    browser = Browser(port)
    reply = browser.get(handoff_url(port, secret_key, customer_id))
    if reply.status != 303 or not browser.cookies:
        raise RuntimeError(f"handoff sign-in failed: {reply.status} {reply.text[:300]}")
    return browser


def mint_keys(database_url: str, company_id: str) -> tuple[str, str]:
    """Fresh secret and publishable keys for the bench company (stored keys are hashed)."""
    from portal.access.merchants import create_api_key
    from portal.db import bind, db
    from portal.models import Company

    bind(database_url)
    with db.connection_context(), db.atomic():
        company = Company.get_by_id(company_id)
        return create_api_key(company, "secret")[1], create_api_key(company, "publishable")[1]
