"""Billing data built through the merchant HTTP API, for every test that needs some.

Each builder takes ``api``: anything with ``ok(method, path, json=None, status=None)`` that
calls the merchant API with the company's secret key, asserts success (and ``status`` when
given) and returns the envelope's ``data``. The unit tests pass ``support.Merchant`` (the
Flask test client); the browser journeys pass their ``Deployment`` (HTTP to a live server).
Nothing here touches the database, so the journeys can use all of it against a deployment.

- customers, payment methods, products, prices, coupons and subscriptions (``make_*``,
  ``add_payment_method``, ``customer_with_card``, ``subscribe``), and ``build_account``: a
  customer with a past-due and a paid invoice;
- the portal's config (``patch_config``);
- sign-in: a handoff for a customer (``handoff``, its ``url`` for a browser), or a portal
  JSON API session (``portal_session_token``, ``bearer``).
"""

import uuid
from dataclasses import dataclass, field

CONFIG = "/customer-portal-config"
HANDOFF = "/customer-portal/access/handoff"
EXCHANGE = "/customer-portal/access/handoff/exchange"


def unique_email(prefix: str = "customer") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


# --- catalog and customers ---------------------------------------------------------------------


def make_customer(api, first_name="Jo", last_name="Doe", email=None, **extra) -> dict:
    """POST /customer; ``extra`` goes into the body (tax_id, personal_address, …)."""
    body = {"first_name": first_name, "last_name": last_name, **extra}
    if email is not None:
        body["email"] = email
    return api.ok("POST", "/customer", body, status=201)


def add_payment_method(api, customer_id: str, source="tok_visa", name=None, **extra) -> dict:
    """Attach a sandbox test token (tok_visa, tok_chargeDeclined, tok_bank_account, …): a
    bank account for ``tok_bank…`` tokens, a card for the others."""
    kind = "BANK_ACCOUNT" if source.startswith("tok_bank") else "PAYMENT_CARD"
    body = {"type": kind, "identityId": customer_id, "tokenId": source, **extra}
    if name is not None:
        body["name"] = name
    return api.ok("POST", "/payment", body, status=201)


def customer_with_card(api, source="tok_visa", first_name="Ada", last_name="Lovelace") -> dict:
    """A customer with a unique e-mail address and one payment method from ``source``."""
    email = unique_email(first_name.lower())
    customer = make_customer(api, first_name, last_name, email=email)
    add_payment_method(api, customer["id"], source)
    return customer


def make_product(api, name="Pro plan", **extra) -> dict:
    return api.ok("POST", "/products", {"name": name, **extra}, status=201)


def make_price(api, name="Pro plan", unit_amount=1500, currency="USD", **extra) -> dict:
    """A product called ``name`` with one monthly recurring price; returns the price."""
    product = make_product(api, name)
    body = {
        "product_id": product["id"],
        "currency": currency,
        "unit_amount": unit_amount,
        "recurring": True,
        "interval": "month",
        "interval_count": 1,
        **extra,
    }
    return api.ok("POST", "/product-prices", body, status=201)


def make_coupon(api, name="Launch offer", **terms) -> dict:
    return api.ok("POST", "/coupons", {"name": name, **terms}, status=201)


def subscribe(api, customer_id: str, price_id: str, quantity=1, **extra) -> dict:
    """POST /subscriptions for one item; ``extra`` goes into the body (instrument_id, …)."""
    body = {"identity_id": customer_id, "items": [{"price_id": price_id, "quantity": quantity}]}
    return api.ok("POST", "/subscriptions", {**body, **extra}, status=201)


@dataclass
class Account:
    """A customer with a declining card (default), a working card, a subscription whose
    first invoice failed (OPEN, past due) and one whose first invoice is PAID."""

    merchant: object
    customer: dict
    bad_card: dict
    good_card: dict
    failing_sub: dict
    paid_sub: dict
    ids: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.customer["id"]

    @property
    def open_invoice(self) -> str:
        return self.failing_sub["latest_invoice_id"]

    @property
    def paid_invoice(self) -> str:
        return self.paid_sub["latest_invoice_id"]

    def url_values(self) -> dict:
        """The account's ids under the names the portal's routes give their URL parameters."""
        return {
            "invoice_id": self.open_invoice,
            "method_id": self.good_card["id"],
            "subscription_id": self.paid_sub["id"],
        }


def build_account(api, first_name="Jo", price=None, **customer) -> Account:
    price = price or make_price(api)
    person = make_customer(api, first_name, **customer)
    bad = add_payment_method(api, person["id"], "tok_chargeDeclined", name="Jo Doe")
    failing = subscribe(api, person["id"], price["id"])
    good = add_payment_method(api, person["id"], "tok_visa", name="Jo Doe")
    paid = subscribe(api, person["id"], price["id"], instrument_id=good["id"])
    return Account(api, person, bad, good, failing, paid)


# --- the portal --------------------------------------------------------------------------------


def patch_config(api, **changes) -> dict:
    """PATCH the company's portal config with ``changes``; returns the whole config."""
    return api.ok("PATCH", CONFIG, changes)


def handoff(api, customer_id: str, **extra) -> dict:
    """A one-time handoff for the customer: ``url`` for a browser, ``code`` to exchange."""
    return api.ok("POST", HANDOFF, {"customer_id": customer_id, **extra}, status=201)


def portal_session_token(api, customer_id: str, **extra) -> str:
    """A portal JSON API session for the customer, through the handoff-code exchange."""
    code = handoff(api, customer_id, **extra)["code"]
    return api.ok("POST", EXCHANGE, {"code": code})["session_token"]


def bearer(api, customer_id: str) -> dict:
    """Headers that call the portal JSON API as the customer."""
    return {"Authorization": f"Bearer {portal_session_token(api, customer_id)}"}
