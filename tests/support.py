"""Unit-test helpers that work on the database directly (browser journeys never import this;
their data goes through ``builders``, over HTTP). conftest modules are not importable by name,
so what test files share lives here and in ``builders`` and ``browsing``.

- ``Merchant``: a company with its keys, calling the merchant API through the test client;
- rows no API creates, or that a test wants without the API's rules: ``stored_price``,
  ``stored_subscription``, ``add_domain``;
- reading state: ``count_rows``, ``customer_credit``, ``count_queries``;
- the days the ``clock`` fixture (tests/unit/conftest.py) starts on and moves to.
"""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from portal.access.merchants import create_merchant
from portal.db import db
from portal.models import CustomDomain, Price, Product, Subscription, utcnow

OWNER_PASSWORD = "correct horse battery"
JAN1 = datetime(2026, 1, 1, tzinfo=UTC)  # where the frozen ``clock`` starts
JAN11 = datetime(2026, 1, 11, tzinfo=UTC)  # 21 of the 31 days of January left


def owner_email_for(name: str) -> str:
    return f"owner@{name.lower().replace(' ', '')}.example"


class Merchant:
    """A company with its keys, and shortcuts to call the API as that company."""

    def __init__(self, client, name):
        self.owner_email = owner_email_for(name)
        with db.connection_context():
            self.company, self.secret, self.publishable = create_merchant(
                name, self.owner_email, OWNER_PASSWORD
            )
        self.client = client
        self.id = self.company.id

    def call(self, method, path, json=None, *, key=None, headers=None, **kwargs):
        headers = {"x-easy-api-key": key or self.secret, **(headers or {})}
        return self.client.open(
            f"/v1/api{path}", method=method, json=json, headers=headers, **kwargs
        )

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.call("POST", path, json, **kwargs)

    def patch(self, path, json=None, **kwargs):
        return self.call("PATCH", path, json, **kwargs)

    def delete(self, path, **kwargs):
        return self.call("DELETE", path, **kwargs)

    def ok(self, method, path, json=None, status=None, **kwargs):
        """Call and assert success; return the envelope's data."""
        response = self.call(method, path, json, **kwargs)
        assert response.status_code < 300, response.get_json()
        if status is not None:
            assert response.status_code == status
        return response.get_json()["data"]


def stored_price(company, product, amount, interval="month", currency="USD", **extra) -> Price:
    """An active price of ``product`` (a Product, or a name for a new one), recurring every
    ``interval`` unless ``extra`` says otherwise."""
    with db.connection_context():
        if isinstance(product, str):
            product = Product.create(company=company, name=product)
        values = {"type": "recurring", "interval_count": 1, "active": True, **extra}
        return Price.create(
            company=company,
            product=product,
            unit_amount=amount,
            currency=currency,
            interval=interval,
            **values,
        )


def stored_subscription(company, customer, payment_method=None, now=None) -> Subscription:
    """An active USD subscription without items, its 30-day period starting ``now``."""
    now = now or utcnow()
    with db.connection_context():
        return Subscription.create(
            company=company,
            customer=customer,
            payment_method=payment_method,
            status="active",
            currency="USD",
            current_period_start=now,
            current_period_end=now + timedelta(days=30),
            billing_cycle_anchor=now,
        )


def add_domain(company, hostname: str, verified=True, verification_token="t" * 32, **extra):
    """A custom domain row (the DNS check is what the merchant pages do; tests skip it)."""
    with db.connection_context():
        return CustomDomain.create(
            company=company,
            hostname=hostname,
            verification_token=verification_token,
            verified=verified,
            **extra,
        )


def count_rows(model) -> int:
    """How many rows ``model``'s table holds (every company's)."""
    with db.connection_context():
        return model.select().count()


def customer_credit(customer_id: str, currency: str = "USD") -> int:
    """The customer's credit balance in ``currency`` (what their next invoices can use)."""
    from portal.billing import credit

    with db.connection_context():
        return credit.balance(customer_id, currency)


@contextmanager
def count_queries():
    """Collect every SQL statement the shared database runs inside the block."""
    statements: list[str] = []
    target = db.obj
    original = target.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        statements.append(sql)
        return original(sql, params, *args, **kwargs)

    target.execute_sql = counting
    try:
        yield statements
    finally:
        del target.execute_sql
