"""Fixtures for the merchant settings tests: mail stays queued, signed-in owners of two
companies in two separate browsers."""

import pytest

from .kit import MerchantUser


@pytest.fixture(autouse=True)
def _mail_stays_queued(queued_mail):
    """Every test here reads its invitation and sign-in links from the outbox."""


@pytest.fixture
def owner(client, merchant) -> MerchantUser:
    return MerchantUser(client, merchant)


@pytest.fixture
def other_owner(app, other_merchant) -> MerchantUser:
    return MerchantUser(app.test_client(), other_merchant)
