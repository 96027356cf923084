"""Production delivers webhooks from the ``deliver-mail --loop`` worker: a request that
queued one wakes it (NOTIFY on PostgreSQL, the datagram socket on SQLite), and the event
arrives at once although the worker polls only every 30 s. The web process sends nothing."""

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import easylabs
import pytest
from builders import make_customer
from webhook_receiver import Receiver

from portal.webhooks import delivery

ROOT = Path(__file__).resolve().parents[3]
WORKER_STARTUP = 60  # seconds for a cold interpreter on a loaded machine to import the app


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.close()


@pytest.fixture
def worker(app, database_url):
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update(
        PORTAL_ENV="testing",
        PORTAL_DATABASE_URL=database_url,
        PORTAL_SECRET_KEY=app.config["SECRET_KEY"],  # the secrets are sealed under it
        PORTAL_SMTP_URL="",  # webhooks go out even where mail cannot
        PYTHONUNBUFFERED="1",
    )
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "deliver-mail", "--loop"]
    process = subprocess.Popen(
        [*command, "--interval", "30"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    ready = threading.Event()
    lines: list[str] = []

    def read():
        for line in process.stdout:
            lines.append(line)
            if "Delivering webhooks" in line:
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert ready.wait(WORKER_STARTUP), f"worker said {lines!r}"
        assert any("Mail is not delivered: PORTAL_SMTP_URL is not set" in x for x in lines)
        yield lines
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(10)
        process.stdout.close()


def test_the_woken_worker_delivers_a_request_s_event_within_a_second(
    app, merchant, receiver, worker
):
    app.config.update(PORTAL_MAIL_DELIVERY="worker", PORTAL_WEBHOOKS_IMMEDIATE=True)
    created = merchant.ok("POST", "/webhooks", {"url": receiver.url}, status=201)
    customer = make_customer(merchant, email="ada@example.com")
    # Both pollers sleep 30 s: only the wake-up can bring the event this soon.
    assert receiver.wait_for(1, timeout=2.0), f"nothing arrived; worker said {worker!r}"
    headers, body = receiver.requests[0]
    event = easylabs.Webhooks.construct_event(
        payload=body, signature=headers["x-easy-webhook-signature"], secret=created["secret"]
    )
    assert (event.type, event.data["id"]) == ("identity.created", customer["id"])
    assert delivery.background.running(delivery.THREAD_NAME) is None  # the web sent nothing
