"""Production delivers webhooks from the ``deliver-mail --loop`` worker: a request that
queued one wakes it (NOTIFY on PostgreSQL, the datagram socket on SQLite), and the event
arrives at once although the worker polls only every 30 s. The web process sends nothing."""

import easylabs
import pytest
from builders import make_customer
from webhook_receiver import Receiver
from worker_process import Worker

from portal.webhooks import delivery


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.close()


@pytest.fixture
def worker(app, database_url):
    running = Worker(
        database_url,
        PORTAL_SECRET_KEY=app.config["SECRET_KEY"],  # the secrets are sealed under it
        PORTAL_SMTP_URL="",  # webhooks go out even where mail cannot
    )
    try:
        running.wait_for_line("Delivering webhooks")
        assert any("Mail is not delivered: PORTAL_SMTP_URL is not set" in x for x in running.lines)
        yield running
    finally:
        running.stop()


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
