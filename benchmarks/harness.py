"""The processes a benchmark or load test runs: gunicorn servers, the billing and mail workers,
an SMTP sink, and a small cookie-keeping HTTP client. Everything listens on 127.0.0.1 only."""

import http.client
import json
import os
import re
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


def portal_env(
    database_url: str,
    port: int,
    smtp_port: int | None,
    ratelimit_storage: str | None = None,
    mail_delivery: str = "worker",
) -> dict:
    """Production settings as the README recommends, on 127.0.0.1:port. Rate limits are kept
    in the app's built-in in-memory storage unless ``ratelimit_storage`` (e.g.
    ``redis://127.0.0.1:6379/5``) is given; e-mail goes out from a ``deliver-mail`` process
    (``PORTAL_MAIL_DELIVERY=worker``, production's default) unless told otherwise."""
    env = {
        **os.environ,
        "PORTAL_ENV": "production",
        "PORTAL_SECRET_KEY": secrets.token_urlsafe(48),
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        "PORTAL_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}" if smtp_port else "",
        "PORTAL_MAIL_DELIVERY": mail_delivery,
        **LIMIT_OVERRIDES,
    }
    env.pop("PORTAL_RATELIMIT_STORAGE_URL", None)
    if ratelimit_storage:
        env["PORTAL_RATELIMIT_STORAGE_URL"] = ratelimit_storage
    return env


def storage_description(url: str | None) -> str:
    """For the report's header; a Redis URL must answer PING (the run fails early if not)."""
    if not url:
        return "built-in in-memory storage, per worker (`PORTAL_RATELIMIT_STORAGE_URL` unset)"
    if not url.startswith("redis"):
        return f"`{url}`"
    import redis

    try:
        version = redis.Redis.from_url(url).info("server")["redis_version"]
    except redis.RedisError as exc:
        raise SystemExit(f"--ratelimit-storage {url}: {exc}") from exc
    return f"Redis {version} at `{url}`"


def _children(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        kids += [int(p) for p in task.read_text().split()]
    return kids


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (those that have exited count 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


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
        return cpu_seconds([self.proc.pid, *self.worker_pids()])

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
        self.args, self.log_path = args, log_path
        self.log = open(log_path, "w")  # noqa: SIM115 (closed in stop)
        cmd = [sys.executable, "-m", "flask", "--app", "wsgi", *args]
        self.proc = subprocess.Popen(  # noqa: S603
            cmd,
            cwd=ROOT,
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def command(self) -> str:
        return "flask --app wsgi " + " ".join(self.args)

    def cpu_seconds(self) -> float:
        """User + system CPU of the command (and any children) so far."""
        if self.proc.poll() is not None:
            return 0.0
        return cpu_seconds([self.proc.pid, *_children(self.proc.pid)])

    def banner(self) -> str | None:
        """What ``deliver-mail --loop`` says first: how it is woken ("Delivering mail, woken
        through … and every 1s.")."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        found = re.search(r"^Delivering mail, (.+?) and every", text, re.M)
        return found.group(1) if found else None

    def sent(self) -> int:
        """Messages ``deliver-mail`` says it sent: its "Sent N message(s)." lines (one per
        pass that sent some)."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return sum(int(n) for n in re.findall(r"^Sent (\d+) message", text, re.M))

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

    def count(self) -> int:
        with self._lock:
            return sum(self.ids.values())


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
