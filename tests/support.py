"""Test helpers importable from any test file (conftest modules are not importable by name)."""

import uuid

from portal.access.merchants import create_merchant
from portal.db import db


class Merchant:
    """A company with its keys, and shortcuts to call the API as that company."""

    def __init__(self, client, name):
        with db.connection_context():
            self.company, self.secret, self.publishable = create_merchant(
                name, f"owner@{name.lower().replace(' ', '')}.example", "correct horse battery"
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


def unique_email(prefix: str = "customer") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def customer_credit(customer_id: str, currency: str = "USD") -> int:
    """The customer's credit balance in ``currency`` (what their next invoices can use)."""
    from portal.billing import credit

    with db.connection_context():
        return credit.balance(customer_id, currency)
