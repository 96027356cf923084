"""Webhook delivery against real HTTP receivers on 127.0.0.1: signed bodies, retries with
backoff over about a day, order per endpoint, a hanging endpoint delaying only itself,
expired claims, rollbacks, SSRF refusals, disabled endpoints, sealed secrets and the
background thread. Passes are run with ``deliver_due(worker, now=...)``; every test runs on
the suite's database, SQLite or PostgreSQL."""

import functools
import socket
import threading
import time
from datetime import timedelta

import easylabs
import pytest
from easylabs import InvalidRequestError

from portal.db import db, write_transaction
from portal.errors import Conflict, ValidationFailed
from portal.models import Company, WebhookDelivery, WebhookEndpoint, WebhookEvent, utcnow
from portal.webhooks import delivery, endpoints, events, sender

WORKER = "test-worker"
SECOND = timedelta(seconds=1)


@pytest.fixture
def company(app, ctx):
    app.config["PORTAL_WEBHOOKS_IMMEDIATE"] = False
    with write_transaction():
        return Company.create(name="Acme Cloud", invoice_prefix="ACME")


def endpoint_for(company, url, **options):
    with write_transaction():
        return endpoints.create_endpoint(company, url=url, **options)


def emit(company, event_type="identity.created", data=None):
    with write_transaction():
        return events.emit(company.id, event_type, data or {"id": "idt_1", "name": "Jo"})


def the_delivery(endpoint=None) -> WebhookDelivery:
    query = WebhookDelivery.select()
    if endpoint is not None:
        query = query.where(WebhookDelivery.endpoint == endpoint)
    (row,) = list(query)
    return row


def test_a_delivery_is_signed_and_verifies_with_the_endpoint_secret(company, receiver):
    endpoint, secret = endpoint_for(company, receiver.url)
    event = emit(company, data={"id": "idt_1", "first_name": "Jo"})
    assert delivery.deliver_due(WORKER, now=utcnow() + SECOND) == 1
    assert receiver.wait_for(1, timeout=1)
    ((headers, raw),) = receiver.requests
    signature = headers["x-easy-webhook-signature"]
    verified = easylabs.Webhooks.construct_event(payload=raw, signature=signature, secret=secret)
    assert verified.type == "identity.created" and verified.data["id"] == "idt_1"
    tampered = raw.replace(b'"Jo"', b'"Jp"')
    assert tampered != raw and len(tampered) == len(raw)
    with pytest.raises(InvalidRequestError) as raised:
        easylabs.Webhooks.construct_event(payload=tampered, signature=signature, secret=secret)
    assert raised.value.code == "WEBHOOK_SIGNATURE_MISMATCH"
    assert headers["x-easy-event"] == "identity.created"
    assert headers["x-easy-delivery-id"] == the_delivery().id
    assert headers["x-easy-webhook-attempt"] == "1"
    assert headers["x-easy-event-id"] == event.id
    body = receiver.bodies()[0]
    assert set(body) == {"id", "type", "created_at", "api_version", "data"}
    assert body["id"] == event.id and body["id"].startswith("evt_")
    assert body["type"] == "identity.created" and body["api_version"] == events.API_VERSION
    assert body["data"] == {"id": "idt_1", "first_name": "Jo"}
    row = the_delivery()
    assert (row.status, row.attempts, row.status_code) == ("succeeded", 1, 200)


def test_two_500s_then_a_200_delivers_on_the_third_attempt(company, receiver):
    endpoint_for(company, receiver.url)
    emit(company)
    receiver.script = [500, 500, 200]
    now = utcnow() + SECOND
    for attempt in range(3):
        assert delivery.deliver_due(WORKER, now=now) == 1
        if attempt < 2:
            row = the_delivery()
            assert (row.status, row.attempts, row.status_code) == ("pending", attempt + 1, 500)
            assert row.last_error == "The endpoint answered 500."
            # not due before the backoff has passed
            assert delivery.deliver_due(WORKER, now=now + delivery.BACKOFF[attempt] - SECOND) == 0
            now += delivery.BACKOFF[attempt] + SECOND
    assert len(receiver.requests) == 3
    assert receiver.header("x-easy-webhook-attempt") == ["1", "2", "3"]
    row = the_delivery()
    assert receiver.header("x-easy-delivery-id") == [row.id] * 3
    assert len({body for _, body in receiver.requests}) == 1  # the same bytes every time
    assert (row.status, row.attempts, row.status_code) == ("succeeded", 3, 200)
    assert row.delivered_at is not None and row.claimed_by is None


def test_after_max_attempts_the_delivery_fails_for_good_about_a_day_later(company, receiver):
    endpoint_for(company, receiver.url)
    emit(company)
    receiver.script = [500] * (delivery.MAX_ATTEMPTS + 5)
    start = now = utcnow() + SECOND
    for attempt in range(1, delivery.MAX_ATTEMPTS + 1):
        assert delivery.deliver_due(WORKER, now=now) == 1, attempt
        if attempt < delivery.MAX_ATTEMPTS:
            assert the_delivery().status == "pending"
            now += delivery.BACKOFF[attempt - 1]
    row = the_delivery()
    assert (row.status, row.attempts, row.status_code) == ("failed", delivery.MAX_ATTEMPTS, 500)
    assert delivery.deliver_due(WORKER, now=now + timedelta(days=30)) == 0
    assert len(receiver.requests) == delivery.MAX_ATTEMPTS
    span = now - start
    assert span == sum(delivery.BACKOFF, timedelta())
    assert timedelta(hours=20) <= span <= timedelta(hours=30)


def test_an_endpoint_gets_its_events_in_order_a_failed_one_holds_back_the_next(company, receiver):
    endpoint_for(company, receiver.url)
    first = emit(company, "identity.created", {"id": "idt_1"})
    second = emit(company, "identity.updated", {"id": "idt_1"})
    receiver.script = [500]
    now = utcnow() + SECOND
    assert delivery.deliver_due(WORKER, now=now) == 1
    assert delivery.deliver_due(WORKER, now=now + 10 * SECOND) == 0  # first not due yet
    assert [b["id"] for b in receiver.bodies()] == [first.id]
    assert delivery.deliver_due(WORKER, now=now + delivery.BACKOFF[0] + SECOND) == 2
    assert [b["id"] for b in receiver.bodies()] == [first.id, first.id, second.id]
    statuses = {d.event_id: d.status for d in WebhookDelivery.select()}
    assert statuses == {first.id: "succeeded", second.id: "succeeded"}


def test_a_hanging_endpoint_delays_only_itself(app, company, receivers, monkeypatch):
    timeout = 4.0
    monkeypatch.setattr(sender, "post", functools.partial(sender.post, timeout=timeout))
    hanging, healthy = receivers(), receivers()
    hanging.script = [("hang", 30)]
    slow, _ = endpoint_for(company, hanging.url)
    fast, _ = endpoint_for(company, healthy.url)
    emit(company)
    now, done = utcnow() + SECOND, []

    def run_pass():
        with app.app_context(), db.connection_context():
            done.append(delivery.deliver_due(WORKER, now=now))

    started = time.monotonic()
    worker = threading.Thread(target=run_pass)
    worker.start()
    try:
        assert healthy.wait_for(1, timeout=2.0), "the healthy endpoint waited for the hang"
        assert hanging.wait_for(1, timeout=2.0)
        assert worker.is_alive() and time.monotonic() - started < timeout
    finally:
        worker.join(timeout + 10)
    assert not worker.is_alive() and done == [2]
    assert time.monotonic() - started < timeout + 5  # not the 30 s hang
    slow_row, fast_row = the_delivery(slow), the_delivery(fast)
    assert (fast_row.status, fast_row.status_code) == ("succeeded", 200)
    assert (slow_row.status, slow_row.attempts, slow_row.status_code) == ("pending", 1, None)
    assert slow_row.last_error == f"No answer within {timeout:g} s"


def test_the_default_timeout_is_ten_seconds():
    assert sender.TIMEOUT == 10.0
    assert sender.post.__kwdefaults__["timeout"] == 10.0


def test_a_worker_killed_mid_delivery_leaves_a_claim_that_expires(company, receiver):
    endpoint_for(company, receiver.url)
    emit(company)
    row = the_delivery()
    now = utcnow() + SECOND
    assert delivery._claim(row.id, "dead-worker", now)  # ... and died before recording
    assert not delivery._claim(row.id, WORKER, now)  # nobody else takes the same attempt
    assert delivery.deliver_due(WORKER, now=now + delivery.CLAIM_TTL - SECOND) == 0
    assert receiver.requests == []
    later = now + delivery.CLAIM_TTL + SECOND
    assert delivery.deliver_due(WORKER, now=later) == 1
    assert receiver.header("x-easy-delivery-id") == [row.id]  # receivers deduplicate on it
    assert receiver.header("x-easy-webhook-attempt") == ["2"]
    fresh = the_delivery()
    assert (fresh.status, fresh.attempts) == ("succeeded", 2)
    # the dead worker coming back to record its attempt changes nothing
    stale = WebhookDelivery.get_by_id(row.id)
    delivery._record(stale, "dead-worker", later, error="late")
    assert the_delivery().status == "succeeded"


def test_a_rolled_back_change_sends_nothing(company, receiver):
    endpoint_for(company, receiver.url)
    with pytest.raises(RuntimeError), write_transaction():
        assert events.emit(company.id, "identity.created", {"id": "idt_1"}) is not None
        raise RuntimeError("the change failed")
    assert WebhookEvent.select().count() == 0 and WebhookDelivery.select().count() == 0
    assert delivery.deliver_due(WORKER, now=utcnow() + timedelta(days=1)) == 0
    assert receiver.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example/in",
        "https://127.0.0.1/in",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.1/in",
        "https://[::1]/in",
        "https://metadata.google.internal/computeMetadata/v1",
        "https://localhost/in",
        "https://[::ffff:127.0.0.1]/in",
    ],
)
def test_production_refuses_unsafe_urls(app, company, url):
    app.config["PORTAL_WEBHOOKS_ALLOW_LOOPBACK"] = False
    with pytest.raises(ValidationFailed) as raised, write_transaction():
        endpoints.create_endpoint(company, url=url)
    assert set(raised.value.fields) == {"url"}
    assert WebhookEndpoint.select().count() == 0


def test_a_loopback_endpoint_is_refused_at_delivery_once_loopback_is_off(app, company, receiver):
    endpoint_for(company, receiver.url)
    emit(company)
    app.config["PORTAL_WEBHOOKS_ALLOW_LOOPBACK"] = False
    assert delivery.deliver_due(WORKER, now=utcnow() + SECOND) == 1
    row = the_delivery()
    assert row.status == "failed" and row.last_error.startswith("Refused")
    assert delivery.deliver_due(WORKER, now=utcnow() + timedelta(days=2)) == 0
    assert receiver.requests == []


def test_a_name_for_this_server_is_refused_at_delivery(app, company, receiver, monkeypatch):
    """``localhost`` by name, and a public-looking name that resolves to 127.0.0.1."""
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        return real("127.0.0.1" if host == "hooks.example" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    by_name, _ = endpoint_for(company, f"http://localhost:{receiver.port}/hooks")
    resolved, _ = endpoint_for(company, f"http://hooks.example:{receiver.port}/hooks")
    emit(company)
    app.config["PORTAL_WEBHOOKS_ALLOW_LOOPBACK"] = False
    assert delivery.deliver_due(WORKER, now=utcnow() + SECOND) == 2
    for endpoint in (by_name, resolved):
        row = the_delivery(endpoint)
        assert row.status == "failed" and row.last_error.startswith("Refused"), row.last_error
    assert "itself" in the_delivery(resolved).last_error
    assert receiver.requests == []


def test_a_redirect_is_not_followed_and_counts_as_a_failure(company, receivers):
    first, elsewhere = receivers(), receivers()
    first.script = [("redirect", elsewhere.url)]
    endpoint_for(company, first.url)
    emit(company)
    assert delivery.deliver_due(WORKER, now=utcnow() + SECOND) == 1
    row = the_delivery()
    assert (row.status, row.attempts, row.status_code) == ("pending", 1, 302)
    assert row.last_error == "The endpoint answered 302."
    assert len(first.requests) == 1 and elsewhere.requests == []


def test_a_disabled_endpoint_gets_no_new_deliveries(company, receivers):
    on, off = receivers(), receivers()
    kept, _ = endpoint_for(company, on.url)
    disabled, _ = endpoint_for(company, off.url)
    with write_transaction():
        endpoints.update_endpoint(disabled, {"status": "disabled"})
    emit(company)
    assert [d.endpoint_id for d in WebhookDelivery.select()] == [kept.id]
    assert delivery.deliver_due(WORKER, now=utcnow() + SECOND) == 1
    assert len(on.requests) == 1 and off.requests == []


def test_disabling_an_endpoint_pauses_its_queue_and_enabling_sends_it_in_order(company, receiver):
    endpoint, _ = endpoint_for(company, receiver.url)
    first = emit(company, data={"id": "idt_1"})
    second = emit(company, data={"id": "idt_2"})
    with write_transaction():
        endpoints.update_endpoint(endpoint, {"status": "disabled"})
    later = utcnow() + timedelta(days=3)  # well past every retry
    assert delivery.deliver_due(WORKER, now=later) == 0
    assert receiver.requests == []
    rows = list(WebhookDelivery.select())
    assert [(r.status, r.attempts) for r in rows] == [("pending", 0)] * 2
    with write_transaction():  # a test event still goes out: the merchant asked for it
        endpoints.send_test(WebhookEndpoint.get_by_id(endpoint.id))
    assert delivery.deliver_due(WORKER, now=later) == 1
    assert receiver.header("x-easy-event") == ["test.webhook"]
    with write_transaction():
        endpoints.update_endpoint(WebhookEndpoint.get_by_id(endpoint.id), {"status": "enabled"})
    assert delivery.deliver_due(WORKER, now=later) == 2
    assert receiver.header("x-easy-event-id")[1:] == [first.id, second.id]


def test_a_delivery_claimed_before_the_endpoint_was_disabled_waits_uncounted(company, receiver):
    endpoint, _ = endpoint_for(company, receiver.url)
    emit(company)
    now = utcnow() + SECOND
    row = the_delivery()
    assert delivery._claim(row.id, WORKER, now)
    with write_transaction():
        endpoints.update_endpoint(endpoint, {"status": "disabled"})
    assert delivery._attempt(row.id, WORKER, now) is False
    row = the_delivery()
    assert (row.status, row.attempts, row.claimed_by) == ("pending", 0, None)
    assert receiver.requests == []


def test_resend_is_refused_while_the_event_is_still_on_its_way(company, receiver):
    endpoint_for(company, receiver.url)
    emit(company)
    pending = the_delivery()
    with pytest.raises(Conflict, match="still being delivered"), write_transaction():
        endpoints.resend(pending)
    assert WebhookDelivery.select().count() == 1
    assert delivery.deliver_due(WORKER, now=utcnow() + SECOND) == 1
    with write_transaction():  # delivered: now it may be sent again, once
        again = endpoints.resend(the_delivery())
    with pytest.raises(Conflict), write_transaction():
        endpoints.resend(again)
    assert WebhookDelivery.select().count() == 2


def test_test_events_waiting_for_an_endpoint_are_capped(company, receiver):
    endpoint, _ = endpoint_for(company, receiver.url)
    for _ in range(endpoints.MAX_WAITING_TESTS):
        with write_transaction():
            endpoints.send_test(endpoint)
    with pytest.raises(Conflict, match="test events waiting"), write_transaction():
        endpoints.send_test(endpoint)
    assert WebhookDelivery.select().count() == endpoints.MAX_WAITING_TESTS
    delivery.deliver_due(WORKER, now=utcnow() + SECOND)
    with write_transaction():  # delivered: the cap is on waiting ones only
        endpoints.send_test(endpoint)


def test_an_event_whose_delivery_started_is_never_rewritten(company, receiver):
    endpoint_for(company, receiver.url)
    event = emit(company, data={"id": "idt_1", "name": "Jo"})
    with write_transaction():  # unsent: it may still take the object's latest state
        assert events.rewrite(event.id, {"id": "idt_1", "name": "Joe"})
    assert delivery.deliver_due(WORKER, now=utcnow() + SECOND) == 1
    with write_transaction():
        assert not events.rewrite(event.id, {"id": "idt_1", "name": "Jon"})
    assert receiver.bodies()[0]["data"]["name"] == "Joe"
    assert b'"Joe"' in WebhookEvent.get_by_id(event.id).body.encode()


def test_an_event_nobody_listens_to_writes_nothing(company, receiver):
    endpoint_for(company, receiver.url, events=["invoice.paid"])
    assert emit(company, "identity.created") is None
    assert WebhookEvent.select().count() == 0 and WebhookDelivery.select().count() == 0
    assert emit(company, "invoice.paid", {"id": "inv_1"}) is not None  # it listens to this
    assert WebhookDelivery.select().count() == 1


def test_the_secret_is_not_in_the_database_and_another_key_asks_to_roll_it(app, company, receiver):
    endpoint, secret = endpoint_for(company, receiver.url)
    stored = WebhookEndpoint.get_by_id(endpoint.id).secret_sealed
    assert secret not in stored and secret.removeprefix("whsec_") not in stored
    emit(company)
    app.config["SECRET_KEY"] = "a-different-secret-key-that-is-long-enough-9876543210"
    assert delivery.deliver_due(WORKER, now=utcnow() + SECOND) == 1
    row = the_delivery()
    assert row.status == "failed" and "Roll the secret" in row.last_error
    assert receiver.requests == []


def test_wake_starts_the_thread_that_delivers_at_once(app, company, receiver):
    app.config["PORTAL_WEBHOOKS_IMMEDIATE"] = True
    app.config["PORTAL_MAIL_POLL_INTERVAL"] = 60  # only the wake-up can be this quick
    endpoint, secret = endpoint_for(company, receiver.url)
    emit(company)
    assert delivery.wake(app) == "thread"
    assert receiver.wait_for(1, timeout=2.0), "the thread delivered nothing within 2 s"
    thread = delivery.background.running(delivery.THREAD_NAME)
    assert thread is not None and thread.daemon
    headers, raw = receiver.requests[0]
    easylabs.Webhooks.construct_event(
        payload=raw, signature=headers["x-easy-webhook-signature"], secret=secret
    )
    deadline = time.monotonic() + 5
    while the_delivery().status != "succeeded" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert the_delivery().status == "succeeded"
    delivery.stop_thread()
    assert delivery.background.running(delivery.THREAD_NAME) is None
