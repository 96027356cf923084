"""A real SMTP server for the mail tests (aiosmtpd on 127.0.0.1), and a record of which
thread of this process handed each message to SMTP."""

import socket
import threading
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from portal.mail import transport


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """aiosmtpd handler: keeps accepted messages; can defer (451) or refuse recipients (550)."""

    def __init__(self):
        self.envelopes = []
        self.defer_next = 0
        self.refuse_recipients = False
        self.arrived = threading.Condition()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_recipients:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.defer_next:
            self.defer_next -= 1
            return "451 4.3.0 Try again later"
        with self.arrived:
            self.envelopes.append(envelope)
            self.arrived.notify_all()
        return "250 Message accepted"

    def messages(self):
        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]

    def wait_for(self, count: int, timeout: float) -> bool:
        """Whether ``count`` messages have arrived within ``timeout`` seconds."""
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.envelopes) >= count, timeout)


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.url = f"smtp://127.0.0.1:{controller.port}"
    yield inbox
    controller.stop()


@pytest.fixture
def dead_smtp_url() -> str:
    """An SMTP URL nobody listens on."""
    return f"smtp://127.0.0.1:{free_port()}"


@pytest.fixture
def sender_threads(monkeypatch) -> list[str]:
    """The name of the thread of this process that made each SMTP send, in order."""
    names = []
    real = transport.smtp_send

    def recording(settings, email):
        names.append(threading.current_thread().name)
        real(settings, email)

    monkeypatch.setattr(transport, "smtp_send", recording)
    return names
