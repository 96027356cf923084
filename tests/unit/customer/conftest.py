"""The hosted portal tests read every e-mail from the outbox. Their customers (``account``,
``signed_in``) are in tests/unit/conftest.py, their helpers in ``builders`` and ``browsing``."""

import pytest


@pytest.fixture(autouse=True)
def _mail_stays_queued(queued_mail):
    """Every test here reads mail from the outbox."""
