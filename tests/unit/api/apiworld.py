"""A small billing world per company, built through the API, for the cross-route tests.

test_bad_input, test_tenancy and test_conventions walk ``ROUTES`` generically; this module
gives every path parameter of a registered route a real object id, a valid body to start
from, the right credentials, and a snapshot of the whole database to prove nothing changed.
"""

import re

import pytest
from builders import EXCHANGE, HANDOFF, portal_session_token

import portal.api  # noqa: F401  (importing registers every route)
from portal.api.registry import ROUTES, RouteSpec
from portal.db import db
from portal.models import MODELS, ApiKey, PortalSession

UNSAFE = ("POST", "PATCH", "PUT", "DELETE")
PARAM_KINDS = {
    "customer_id": "customer",
    "product_id": "product",
    "price_id": "price",
    "coupon_id": "coupon",
    "instrument_id": "instrument",
    "payment_instrument_id": "instrument",
    "method_id": "instrument",
    "payment_method_id": "instrument",
    "subscription_id": "subscription",
    "item_id": "item",
    "subscription_item_id": "item",
    "invoice_id": "invoice",
    "discount_id": "discount",
    "endpoint_id": "webhook_endpoint",
    "delivery_id": "webhook_delivery",
}
CUSTOMER = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}
PRODUCT = {"name": "Pro plan"}
COUPON = {"name": "Quarter off", "duration": "forever", "percent_off": 25}
PORTAL_FEATURES = {
    "allow_plan_switch": True,
    "allow_quantity_updates": True,
    "accepted_payment_methods": ["card", "bank_account"],
    "pause_enabled": True,
}


def route_id(spec: RouteSpec) -> str:
    return f"{spec.method} {spec.rule}"


def has_route(method: str, rule: str) -> bool:
    return any(spec.method == method and spec.rule == rule for spec in ROUTES)


def price_body(ids: dict) -> dict:
    return {
        "product_id": ids["product"],
        "currency": "USD",
        "unit_amount": 1500,
        "recurring": True,
        "interval": "month",
        "interval_count": 1,
    }


def instrument_body(ids: dict) -> dict:
    return {
        "type": "PAYMENT_CARD",
        "identityId": ids["customer"],
        "tokenId": "tok_visa",
        "name": "Ada's Visa",
    }


def subscription_body(ids: dict) -> dict:
    return {
        "identity_id": ids["customer"],
        "instrument_id": ids["instrument"],
        "coupon_id": ids["coupon"],
        "items": [{"price_id": ids["price"], "quantity": 1}],
    }


# A body each route accepts (given the world's ids); routes not listed take ``{}``.
VALID_BODIES = {
    ("POST", "/customer"): lambda ids: dict(CUSTOMER),
    ("POST", "/webhooks"): lambda ids: {"url": "https://hooks.example/in"},
    ("POST", "/products"): lambda ids: dict(PRODUCT),
    ("POST", "/product-prices"): price_body,
    ("POST", "/coupons"): lambda ids: dict(COUPON),
    ("POST", "/payment"): instrument_body,
    ("POST", "/subscriptions"): subscription_body,
    ("POST", "/customer-portal/access/handoff"): lambda ids: {"customer_id": ids["customer"]},
    ("POST", "/customer-portal/access/request-link"): lambda ids: {
        "company_id": ids["company"],
        "email": CUSTOMER["email"],
    },
    ("POST", "/customer-portal/payment-methods"): lambda ids: {
        "type": "PAYMENT_CARD",
        "token": "tok_mastercard",
        "name": "Spare card",
    },
    ("POST", "/customer-portal/subscriptions/<subscription_id>/change"): lambda ids: {
        "quantity": 2,
        "expected_version": ids["subscription_version"],
    },
    ("POST", "/subscriptions/<subscription_id>/pause"): lambda ids: {"behavior": "void"},
    ("POST", "/customer-portal/subscriptions/<subscription_id>/pause"): lambda ids: {"periods": 1},
    ("POST", "/customer-portal/subscriptions/<subscription_id>/resubscribe"): lambda ids: {
        "expected_version": ids["subscription_version"],
    },
    ("POST", "/customer-portal/access/consume"): lambda ids: {"token": "not-a-real-token"},
    ("POST", "/customer-portal/access/handoff/exchange"): lambda ids: {"code": "not-a-real-code"},
}


def valid_body(spec: RouteSpec, ids: dict) -> dict:
    make = VALID_BODIES.get((spec.method, spec.rule))
    return make(ids) if make else {}


def path_for(spec: RouteSpec, ids: dict, foreign: dict | None = None, only: str = "") -> str:
    """The route's path with real ids; ``foreign`` ids replace ``only`` (or every) param."""
    path = spec.rule
    for name in spec.path_params:
        kind = PARAM_KINDS.get(name)
        source = foreign if foreign is not None and only in ("", name) else ids
        if kind is None or kind not in source:
            pytest.fail(f"{route_id(spec)}: no world object for <{name}>; extend apiworld.py")
        path = re.sub(rf"<(?:\w+:)?{name}>", source[kind], path)
    return path


# Stamps that authentication refreshes (at most once a minute) on any request, even a refused one.
TOUCHED = {(ApiKey, "last_used_at"), (PortalSession, "last_seen_at")}


def snapshot() -> dict:
    """Every row of every model, bar the TOUCHED stamps."""
    with db.connection_context():
        return {model.__name__: _rows(model) for model in MODELS}


def _rows(model) -> list:
    fields = [f for f in model._meta.sorted_fields if (model, f.name) != (ApiKey, "last_used_at")]
    return list(model.select(*fields).order_by(model.id).tuples())


class World:
    """One company's customer, product, price, coupon, card, subscription and invoice."""

    def __init__(self, merchant):
        self.merchant = merchant
        self.ids: dict[str, str] = {"company": merchant.id}
        self._session: str | None = None
        self._build()

    def _create(self, kind: str, rule: str) -> dict:
        if not has_route("POST", rule):
            pytest.fail(f"POST {rule} is not registered: cannot build the {kind} fixture")
        body = VALID_BODIES[("POST", rule)](self.ids)
        data = self.merchant.ok("POST", rule, body)
        self.ids[kind] = data["id"]
        return data

    def _build(self) -> None:
        # Every portal feature on, so portal routes reach their real checks, not the gate.
        self.merchant.ok("PATCH", "/customer-portal-config", PORTAL_FEATURES)
        self._create("customer", "/customer")
        self._create("product", "/products")
        self._create("price", "/product-prices")
        self._create("coupon", "/coupons")
        self._create("instrument", "/payment")
        if has_route("POST", "/subscriptions"):
            sub = self._create("subscription", "/subscriptions")
        else:
            sub = self._subscription_without_api()
        self.ids["item"] = sub["items"][0]["id"]
        self.ids["subscription_version"] = sub["version"]  # an int: never a path id
        if sub.get("latest_invoice_id"):
            self.ids["invoice"] = sub["latest_invoice_id"]
        if sub.get("discount"):
            self.ids["discount"] = sub["discount"]["id"]
        if has_route("POST", "/webhooks"):
            self._create("webhook_endpoint", "/webhooks")
            test = f"/webhooks/{self.ids['webhook_endpoint']}/test"
            self.ids["webhook_delivery"] = self.merchant.ok("POST", test)["id"]

    def _subscription_without_api(self) -> dict:
        """Until POST /subscriptions exists: the same domain function its view calls."""
        from portal.billing.subscriptions import create_subscription
        from portal.db import write_transaction
        from portal.models import Customer, PaymentMethod, Price

        with db.connection_context(), write_transaction():
            sub = create_subscription(
                self.merchant.company,
                Customer.get_by_id(self.ids["customer"]),
                [(Price.get_by_id(self.ids["price"]), 1)],
                payment_method=PaymentMethod.get_by_id(self.ids["instrument"]),
            )
            self.ids["subscription"] = sub.id
            return {
                "items": [{"id": sub.items[0].id}],
                "latest_invoice_id": sub.latest_invoice_id,
                "version": sub.version,
            }

    def session_token(self) -> str:
        """A portal session for the world's customer, through the handoff flow."""
        if self._session is None:
            for rule in (HANDOFF, EXCHANGE):
                if not has_route("POST", rule):
                    pytest.fail(f"POST {rule} is missing: cannot open a portal session")
            self._session = portal_session_token(self.merchant, self.ids["customer"])
        return self._session

    def headers(self, spec: RouteSpec) -> dict:
        if spec.auth == "session":
            return {"Authorization": f"Bearer {self.session_token()}"}
        if spec.auth == "none":
            return {}
        return {"x-easy-api-key": self.merchant.secret}

    def open(self, spec: RouteSpec, path: str, **kwargs):
        """Call ``spec`` at ``path`` with this company's credentials."""
        headers = {**self.headers(spec), **kwargs.pop("headers", {})}
        return self.merchant.client.open(
            f"/v1/api{path}", method=spec.method, headers=headers, **kwargs
        )


def validation_fields(response) -> dict:
    """The per-field messages of a 422 VALIDATION_ERROR answer."""
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    return error["details"]["fields"]


def assert_error_envelope(response, status: int | None = None, code: str | None = None) -> dict:
    """The response is the error envelope (optionally with this status and code)."""
    body = response.get_json(silent=True)
    text = response.get_data(as_text=True)[:400]
    assert isinstance(body, dict), f"{response.status_code}: not JSON: {text}"
    assert body.get("success") is False, text
    error = body.get("error")
    assert isinstance(error, dict), text
    assert re.fullmatch(r"[A-Z][A-Z0-9_]*", error.get("code", "")), text
    assert isinstance(error.get("message"), str) and error["message"], text
    assert "details" in error, text
    if status is not None:
        assert response.status_code == status, text
    if code is not None:
        assert error["code"] == code, text
    return error
