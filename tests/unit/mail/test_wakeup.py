"""Mail leaves off the request path: a request only writes the outbox row and wakes the
delivery, which is this process's delivery thread (``PORTAL_MAIL_DELIVERY="thread"``) or a
``flask deliver-mail --loop`` process (``"worker"``), woken by NOTIFY on PostgreSQL and a
datagram socket on SQLite. Every test runs on the suite's database, SQLite or PostgreSQL."""

import os
import socket
import threading
import time
from datetime import timedelta

import pytest
from browsing import csrf_of
from builders import build_account, make_customer
from peewee import OperationalError
from worker_process import Worker

from portal.db import db, is_sqlite
from portal.mail import delivery, wakeup
from portal.mail.outbox import enqueue
from portal.models import Company, OutboxMessage

EMAIL = "jo@example.com"


def request_link(client, merchant, how: str) -> None:
    """Ask for a sign-in link for EMAIL, over the API or on the hosted sign-in page."""
    if how == "api":
        body = {"company_id": merchant.id, "email": EMAIL}
        response = merchant.post(
            "/customer-portal/access/request-link", body, key=merchant.publishable
        )
    else:
        token = csrf_of(client.get(f"/p/{merchant.id}"))
        response = client.post(f"/p/{merchant.id}", data={"csrf_token": token, "email": EMAIL})
    assert response.status_code == 200, response.get_data(as_text=True)


def statuses() -> list[tuple[str, int]]:
    with db.connection_context():
        return [(m.status, m.attempts) for m in OutboxMessage.select()]


def settles_at(expected: list[tuple[str, int]], timeout: float = 10.0) -> bool:
    """Whether the outbox reaches ``expected`` (the sender records a send just after it)."""
    deadline = time.monotonic() + timeout
    while statuses() != expected:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def customer(merchant):
    return make_customer(merchant, email=EMAIL)


@pytest.fixture
def mail_to(app, smtp):
    """The app sends to the sink; ``mail_to("worker")`` switches it to worker mode."""
    app.config.update(PORTAL_SMTP_URL=smtp.url, PORTAL_MAIL_IMMEDIATE=True)

    def mode(delivery_mode: str):
        app.config["PORTAL_MAIL_DELIVERY"] = delivery_mode
        return app

    return mode


# --- thread mode: the single-process default -----------------------------------------------


@pytest.mark.parametrize("how", ["api", "page"])
def test_a_link_arrives_within_a_second_sent_by_the_delivery_thread(
    app, client, merchant, customer, smtp, mail_to, sender_threads, how
):
    assert app.config["PORTAL_MAIL_DELIVERY"] == "thread"  # the testing default
    mail_to("thread")
    request_link(client, merchant, how)
    assert smtp.wait_for(1, timeout=1.0), "no e-mail within a second"
    assert sender_threads == [delivery.THREAD_NAME]
    assert threading.current_thread().name != delivery.THREAD_NAME
    thread = delivery.delivery_thread()
    assert thread is not None and thread.daemon  # never keeps pytest or the server alive
    request_link(client, merchant, how)
    assert smtp.wait_for(2, timeout=1.0)
    assert delivery.delivery_thread() is thread  # one thread per process, started once
    assert sender_threads == [delivery.THREAD_NAME] * 2
    assert settles_at([("sent", 1), ("sent", 1)]), statuses()


def test_a_receipt_of_an_invoice_paid_through_the_api_is_woken_too(
    app, merchant, smtp, mail_to, sender_threads
):
    """Not only the views that ask for mail: whatever the request wrote to the outbox."""
    mail_to("thread")
    account = build_account(merchant, email=EMAIL)
    number = merchant.ok("GET", f"/invoices/{account.open_invoice}")["number"]
    merchant.ok(
        "POST", f"/invoices/{account.open_invoice}/pay", {"instrument_id": account.good_card["id"]}
    )

    def receipt_arrived() -> bool:
        return any(number in m["Subject"] for m in smtp.messages())

    with smtp.arrived:
        assert smtp.arrived.wait_for(receipt_arrived, 1.0), "no receipt within a second"
    assert set(sender_threads) == {delivery.THREAD_NAME}


def test_the_delivery_thread_retries_a_failed_send_without_another_wake(
    app, client, merchant, customer, smtp, mail_to, monkeypatch
):
    mail_to("thread")
    app.config["PORTAL_MAIL_POLL_INTERVAL"] = 0.1
    monkeypatch.setattr(delivery, "BASE_BACKOFF", timedelta(0))  # due again at once
    smtp.defer_next = 1  # 451 on the first try
    request_link(client, merchant, "api")
    assert smtp.wait_for(1, timeout=10.0)
    assert settles_at([("sent", 2)]), statuses()


def test_the_delivery_thread_survives_database_errors(
    app, client, merchant, customer, smtp, mail_to, monkeypatch, caplog
):
    mail_to("thread")
    app.config["PORTAL_MAIL_POLL_INTERVAL"] = 0.1
    real, calls = delivery.deliver_due, []

    def flaky(worker_id, **kwargs):
        calls.append(worker_id)
        if len(calls) == 1:
            raise OperationalError("the database went away")
        return real(worker_id, **kwargs)

    monkeypatch.setattr(delivery, "deliver_due", flaky)
    request_link(client, merchant, "api")
    assert smtp.wait_for(1, timeout=10.0)
    assert len(calls) >= 2 and delivery.delivery_thread() is not None
    assert "mail delivery failed" in caplog.text


def test_a_backlog_bigger_than_a_batch_goes_out_on_one_wake(app, merchant, smtp, mail_to):
    mail_to("thread").config["PORTAL_MAIL_POLL_INTERVAL"] = 120
    count = delivery.BATCH + 5
    context = {"link": "http://portal.test/portal/access/x", "lifetime": "15 minutes"}
    with app.app_context(), db.connection_context(), db.atomic():
        company = Company.get_by_id(merchant.id)
        for i in range(count):
            fields = {"kind": "sign_in", "template": "sign_in", "dedupe_key": f"backlog-{i}"}
            enqueue(company=company, to=EMAIL, context=context, **fields)
    assert wakeup.wake(app) == "thread"
    assert smtp.wait_for(count, timeout=20), len(smtp.envelopes)  # not 120 s


def test_without_smtp_no_thread_starts(app, client, merchant, customer, caplog):
    """Testing without PORTAL_SMTP_URL: the mail stays queued and says why."""
    request_link(client, merchant, "api")
    assert delivery.delivery_thread() is None
    assert statuses() == [("pending", 0)]
    assert "PORTAL_SMTP_URL is not set" in caplog.text


# --- worker mode: a separate deliver-mail process, woken at once -----------------------------


@pytest.fixture
def worker(app, database_url, smtp):
    """A running deliver-mail worker, listening (after ``app`` made the schema)."""
    running = Worker(database_url, PORTAL_SMTP_URL=smtp.url)
    try:
        running.wait_for_line("Delivering mail")
        yield running
    finally:
        running.stop()


@pytest.mark.parametrize("how", ["api", "page"])
def test_worker_mode_the_woken_worker_sends_within_a_second(
    client, merchant, customer, smtp, mail_to, sender_threads, worker, how
):
    mail_to("worker")
    channel = "woken through /" if is_sqlite() else "woken by NOTIFY portal_outbox"
    assert channel in worker.lines[0]
    request_link(client, merchant, how)
    # It polls every 30 s: only the wake-up can bring the e-mail this soon.
    assert smtp.wait_for(1, timeout=1.0), f"no e-mail within a second; worker: {worker.lines}"
    worker.wait_for_line("Sent 1 message(s).", timeout=10)
    assert sender_threads == [] and delivery.delivery_thread() is None  # the web sent nothing
    assert statuses() == [("sent", 1)]


def test_worker_mode_a_wake_nobody_hears_neither_raises_nor_waits(
    app, client, merchant, customer, smtp, mail_to, sender_threads
):
    mail_to("worker")
    request_link(client, merchant, "api")
    started = time.perf_counter()
    assert wakeup.wake(app) in ("notify", "socket")
    assert time.perf_counter() - started < 0.5
    assert statuses() == [("pending", 0)]  # waiting for a worker, nobody sent it
    assert smtp.envelopes == [] and sender_threads == [] and delivery.delivery_thread() is None


@pytest.mark.parametrize("mode", ["thread", "worker"])
def test_mail_immediate_off_wakes_nothing(app, client, merchant, customer, mail_to, mode):
    mail_to(mode).config["PORTAL_MAIL_IMMEDIATE"] = False
    with wakeup.listen(app.config) as listener:
        request_link(client, merchant, "api")
        assert wakeup.wake(app) is None
        assert not listener.wait(0.3)
        assert delivery.delivery_thread() is None
        app.config.update(PORTAL_MAIL_IMMEDIATE=True, PORTAL_MAIL_DELIVERY="worker")
        assert wakeup.wake(app) in ("notify", "socket")
        assert listener.wait(10)  # the listener itself does hear a wake
        assert not listener.wait(0)  # one pass answers all the wakes so far
    assert statuses() == [("pending", 0)]


# --- the SQLite wake-up socket -----------------------------------------------------------------


@pytest.fixture
def socket_file():
    path = f"/tmp/portal-test-{os.getpid()}-{time.monotonic_ns()}.sock"  # noqa: S108
    yield path
    if os.path.exists(path):
        os.unlink(path)


def test_sending_to_no_worker_or_a_full_queue_never_blocks(socket_file):
    assert wakeup.send_datagram(socket_file) is False  # nobody there
    with wakeup.SocketListener(socket_file) as listener:
        started = time.perf_counter()
        results = [wakeup.send_datagram(socket_file) for _ in range(5000)]
        assert time.perf_counter() - started < 5  # it never waited for the reader
        assert results[0] is True and False in results  # the queue filled up
        assert listener.wait(0) and not listener.wait(0)
    assert not os.path.exists(socket_file)  # a worker that stops removes its socket


def test_a_killed_workers_socket_is_taken_over_a_live_ones_is_not(socket_file):
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dead.bind(socket_file)
    dead.close()  # killed: the file stays, nobody reads it
    assert os.path.exists(socket_file) and wakeup.send_datagram(socket_file) is False
    with wakeup.SocketListener(socket_file) as listener:
        assert wakeup.send_datagram(socket_file) and listener.wait(1)
        with pytest.raises(OSError):
            wakeup.SocketListener(socket_file)
        assert type(wakeup.socket_listener(socket_file)) is wakeup.Listener  # a second polls
        assert wakeup.send_datagram(socket_file) and listener.wait(1)  # still the first's


def test_the_socket_path_comes_from_the_database_file(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    path = wakeup.socket_path({"PORTAL_DATABASE_URL": url})
    assert path.endswith(".sock") and len(os.fsencode(path)) < 108
    monkeypatch.chdir(tmp_path)  # the same file, named relative to the working folder
    assert wakeup.socket_path({"PORTAL_DATABASE_URL": "sqlite:///portal.db"}) == path
    other = wakeup.socket_path({"PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}"})
    assert other != path
    override = {"PORTAL_DATABASE_URL": url, wakeup.SOCKET_KEY: "/run/portal/mail.sock"}
    assert wakeup.socket_path(override) == "/run/portal/mail.sock"
    for unnamed in ("sqlite://", "sqlite:///:memory:", "postgresql://postgres@127.0.0.1/test"):
        assert wakeup.socket_path({"PORTAL_DATABASE_URL": unnamed}) is None
    monkeypatch.setattr(wakeup.tempfile, "gettempdir", lambda: "/var/tmp/" + "x" * 120)
    assert os.path.dirname(wakeup.socket_path({"PORTAL_DATABASE_URL": url})) == "/tmp"
