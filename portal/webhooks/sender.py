"""One HTTP POST of a delivery: to an address checked just before connecting, within a
total deadline, redirects not followed (a 3xx is an answer like any other non-2xx)."""

import contextlib
import http.client
import socket
import ssl
import threading
import time
from functools import lru_cache
from urllib.parse import urlsplit

from .addresses import safe_addresses

TIMEOUT = 10.0
MAX_RESPONSE = 1000  # characters of the receiver's answer kept on the delivery


class DeliveryError(Exception):
    pass


def post(url: str, body: bytes, headers: dict, *, allow_loopback: bool, timeout=TIMEOUT):
    """(status code, start of the response body); DeliveryError when there is no answer."""
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    deadline = time.monotonic() + timeout
    address = safe_addresses(parts.hostname, port, allow_loopback=allow_loopback)[0]
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn = _Pinned(address, parts.hostname, port, secure, timeout)
    # The socket timeout is per read: a receiver dripping its headers would never hit it.
    watchdog = threading.Timer(timeout, conn.abort)
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request("POST", path, body=body, headers={**headers, "Host": parts.netloc})
        response = conn.getresponse()
        text = _read(response, deadline)
        return response.status, text
    except (OSError, http.client.HTTPException) as exc:
        if time.monotonic() >= deadline or isinstance(exc, TimeoutError | socket.timeout):
            raise DeliveryError(f"No answer within {timeout:g} s") from None
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from None
    finally:
        watchdog.cancel()
        conn.close()


def _read(response, deadline: float) -> str:
    chunks, size = [], 0
    while size < MAX_RESPONSE * 4:
        if time.monotonic() >= deadline:
            raise TimeoutError
        chunk = response.read1(4096)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks).decode("utf-8", "replace")[:MAX_RESPONSE]


class _Pinned(http.client.HTTPConnection):
    """Connects to ``address`` (already checked) while speaking to ``hostname`` (Host
    header, TLS server name and certificate check), so DNS cannot change in between."""

    def __init__(self, address, hostname, port, secure, timeout):
        super().__init__(address, port, timeout=timeout)
        self.hostname, self.secure = hostname, secure

    def connect(self):
        super().connect()
        if self.secure:
            self.sock = _tls_context().wrap_socket(self.sock, server_hostname=self.hostname)

    def abort(self):
        """At the deadline: end a blocked read (it then fails as "No answer within …")."""
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()
