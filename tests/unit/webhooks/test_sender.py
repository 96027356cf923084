"""The 10 s limit is for the whole attempt: a receiver that drips its answer cannot hold
a delivery (and the endpoints waiting behind it) for longer."""

import socket
import threading
import time

import pytest

from portal.webhooks import sender


@pytest.fixture
def dripping_receiver():
    """Answers one header line every 0.3 s, for 6 s."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve():
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            for n in range(20):
                time.sleep(0.3)
                try:
                    conn.sendall(f"X-Drip-{n}: 1\r\n".encode())
                except OSError:
                    return

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/hooks"
    server.close()


def test_an_answer_dripped_slower_than_the_deadline_ends_at_the_deadline(dripping_receiver):
    started = time.monotonic()
    with pytest.raises(sender.DeliveryError, match="No answer within 1 s"):
        sender.post(dripping_receiver, b"{}", {}, allow_loopback=True, timeout=1.0)
    assert time.monotonic() - started < 2.5  # the drip alone would take 6 s


def test_an_unexpected_error_is_recorded_and_retried_and_never_blocks_the_endpoint(
    app, ctx, monkeypatch
):
    from portal.db import write_transaction
    from portal.models import Company, WebhookDelivery
    from portal.webhooks import delivery, endpoints, events

    with write_transaction():
        company = Company.create(name="Acme", invoice_prefix="AC")
        endpoint, _ = endpoints.create_endpoint(company, url="http://127.0.0.1:9/hooks")
        events.emit(company.id, "identity.created", {"id": "cus_1"})

    def broken(*args, **kwargs):
        raise RuntimeError("unexpected")

    monkeypatch.setattr(sender, "post", broken)
    assert delivery.deliver_due("w") == 1
    row = WebhookDelivery.get()
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "RuntimeError")
    wait = row.next_attempt_at - row.last_attempt_at
    assert abs(wait - delivery.BACKOFF[0]).total_seconds() < 1  # the first backoff, not the last


def test_patching_events_to_null_changes_nothing(app, ctx):
    from portal.db import write_transaction
    from portal.models import Company
    from portal.webhooks import endpoints

    with write_transaction():
        company = Company.create(name="Acme", invoice_prefix="AC")
        endpoint, _ = endpoints.create_endpoint(
            company, url="https://hooks.example/in", events=["invoice.paid"]
        )
        endpoints.update_endpoint(endpoint, {"events": None})
    assert endpoint.events == ["invoice.paid"]


@pytest.mark.parametrize(
    "host",
    ["64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::1", "::7f00:1", "::ffff:10.0.0.1", "64:ff9b::a00:1"],
)
def test_ipv6_forms_of_internal_ipv4_addresses_are_refused(host):
    from portal.webhooks.addresses import unsafe_reason

    assert unsafe_reason(host, allow_loopback=False, resolve=False) is not None


def test_a_public_ipv6_address_is_allowed():
    from portal.webhooks.addresses import unsafe_reason

    assert unsafe_reason("2606:4700:4700::1111", allow_loopback=False, resolve=False) is None
