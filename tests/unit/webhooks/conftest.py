"""Fixtures for the delivery tests: real HTTP receivers on 127.0.0.1."""

import pytest
from webhook_receiver import Receiver


@pytest.fixture
def receivers():
    """``receivers()`` starts one more receiver; all of them stop with the test."""
    started: list[Receiver] = []

    def start() -> Receiver:
        started.append(Receiver())
        return started[-1]

    yield start
    for receiver in started:
        receiver.close()


@pytest.fixture
def receiver(receivers):
    return receivers()
