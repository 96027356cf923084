"""Shared fixtures of the billing-core tests: an app and database context, and a shop (a
company's customer with a card and four recurring prices). ``gateway`` is in tests/conftest.py."""

from types import SimpleNamespace

import pytest

from portal.billing.instruments import add_instrument
from portal.db import db
from portal.models import Customer, Price, Product


@pytest.fixture
def ctx(app):
    with app.app_context(), db.connection_context():
        yield


def make_price(company, name, amount, interval="month", **extra):
    product = Product.create(company=company, name=name)
    values = {"type": "recurring", "currency": "USD", "interval_count": 1, "active": True}
    return Price.create(
        company=company,
        product=product,
        unit_amount=amount,
        interval=interval,
        **{**values, **extra},
    )


@pytest.fixture
def shop(ctx, merchant, gateway):
    company = merchant.company
    customer = Customer.create(company=company, first_name="Ada", last_name="Lovelace")
    return SimpleNamespace(
        company=company,
        customer=customer,
        card=add_instrument(customer, "tok_visa"),
        basic=make_price(company, "Basic", 1000),
        pro=make_price(company, "Pro", 3000),
        basic_y=make_price(company, "Basic", 10000, "year"),
        pro_y=make_price(company, "Pro", 30000, "year"),
        gateway=gateway,
    )
