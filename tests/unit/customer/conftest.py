"""Fixtures for the hosted portal tests: mail stays queued, and a signed-in customer with
cards, a past-due invoice and a paid one."""

import pytest
from portalkit import build_account, make_price, sign_in


@pytest.fixture(autouse=True)
def _queue_mail_only(app):
    """Mail stays in the outbox: tests read it there, nothing tries SMTP."""
    app.config["PORTAL_MAIL_IMMEDIATE"] = False


@pytest.fixture
def price(merchant) -> dict:
    return make_price(merchant)


@pytest.fixture
def account(merchant, price):
    return build_account(merchant, price=price, email="jo@example.com")


@pytest.fixture
def signed_in(client, merchant, account):
    """``client`` carries the session cookie of ``account``'s customer."""
    sign_in(client, merchant, account.id)
    return account
