"""The billing-core tests' shop: a company's customer with a card and four recurring prices.
``gateway`` is in tests/conftest.py, ``ctx`` (app and database context) in tests/unit."""

from types import SimpleNamespace

import pytest
from support import stored_price

from portal.billing.instruments import add_instrument
from portal.models import Customer


@pytest.fixture
def shop(ctx, merchant, gateway):
    company = merchant.company
    customer = Customer.create(company=company, first_name="Ada", last_name="Lovelace")
    return SimpleNamespace(
        company=company,
        customer=customer,
        card=add_instrument(customer, "tok_visa"),
        basic=stored_price(company, "Basic", 1000),
        pro=stored_price(company, "Pro", 3000),
        basic_y=stored_price(company, "Basic", 10000, "year"),
        pro_y=stored_price(company, "Pro", 30000, "year"),
        gateway=gateway,
    )
