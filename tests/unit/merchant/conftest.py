"""Fixtures for the merchant settings tests: mail stays queued, signed-in owners of two
companies in two separate browsers."""

import pytest

from .kit import MerchantUser


@pytest.fixture(autouse=True)
def _queue_mail_only(app):
    """Mail stays in the outbox: tests read links from it, nothing tries SMTP."""
    app.config["PORTAL_MAIL_IMMEDIATE"] = False


@pytest.fixture
def owner(client, merchant) -> MerchantUser:
    return MerchantUser(client, merchant)


@pytest.fixture
def other_owner(app, other_merchant) -> MerchantUser:
    return MerchantUser(app.test_client(), other_merchant)
