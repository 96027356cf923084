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
