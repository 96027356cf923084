"""Fixtures that tests of several packages share:

- ``queued_mail``: mail stays in the outbox (folders whose every test reads mail there turn it
  on for all of them in their own conftest); a mail delivery thread a test started stops
  with that test;
- ``ctx``: an app context and a database connection, for tests of domain functions;
- ``clock``: time frozen at ``support.JAN1``;
- ``price``, ``account``, ``signed_in``: a customer of ``merchant`` with a past-due and a paid
  invoice, and that customer signed into the portal in ``client``.
"""

import pytest
import time_machine
from browsing import sign_in_with_handoff
from builders import build_account, make_price
from support import JAN1

from portal.db import db
from portal.mail import delivery
from portal.webhooks import delivery as webhook_delivery


@pytest.fixture
def queued_mail(app):
    """Mail stays in the outbox: tests read it there, nothing wakes a delivery."""
    app.config["PORTAL_MAIL_IMMEDIATE"] = False


@pytest.fixture(autouse=True)
def _mail_delivery_thread_stops_with_its_test():
    """The delivery thread polls on its own: one left running would send a later test's
    mail with this test's settings."""
    yield
    delivery.stop_thread()
    webhook_delivery.stop_thread()


@pytest.fixture
def ctx(app):
    """For tests that call the domain functions directly: an app context and a connection."""
    with app.app_context(), db.connection_context():
        yield


@pytest.fixture
def clock():
    """Time stands still at JAN1 (``support.JAN1``) until the test moves it."""
    with time_machine.travel(JAN1, tick=False) as traveller:
        yield traveller


@pytest.fixture
def price(merchant) -> dict:
    """A product with a monthly $15.00 price."""
    return make_price(merchant)


@pytest.fixture
def account(merchant, price):
    """Jo Doe (jo@example.com): a past-due invoice on a declining card, a paid one."""
    return build_account(merchant, price=price, email="jo@example.com")


@pytest.fixture
def signed_in(client, merchant, account):
    """``client`` carries the session cookie of ``account``'s customer."""
    sign_in_with_handoff(client, merchant, account.id)
    return account
