"""A shop with plans, one subscribed customer, and that customer signed into the portal twice:
a browser-like test client (handoff URL) and a Bearer token (handoff code exchange).

The clock is frozen: the subscription starts on JAN1 and the ``portal`` fixture signs in on
JAN11 (21 of January's 31 days left), so prorations are exact and a preview and its confirm
happen at the same instant. Moving the clock far ends portal sessions (idle timeout). The
``clock`` fixture is in tests/unit/conftest.py, the API calls in ``builders``."""

import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from builders import (
    add_payment_method,
    handoff,
    make_coupon,
    make_customer,
    patch_config,
    portal_session_token,
    subscribe,
)
from support import JAN11, stored_price

from portal.db import db
from portal.models import Invoice, InvoiceLine, Product


class Shop(SimpleNamespace):
    """The merchant's catalog and customer, with shortcuts through the merchant API."""

    def configure(self, **settings) -> dict:
        return patch_config(self.merchant, **settings)

    def add_card(self, customer_id: str | None = None, source: str = "tok_visa") -> str:
        customer_id = customer_id or self.customer
        return add_payment_method(self.merchant, customer_id, source, name="Card")["id"]

    def new_customer(self, email: str) -> str:
        customer = make_customer(self.merchant, "Bo", "Brown", email=email)["id"]
        self.add_card(customer)
        return customer

    def subscribe(self, price_id: str, quantity: int = 1, customer_id: str | None = None):
        return subscribe(self.merchant, customer_id or self.customer, price_id, quantity)

    def subscription(self, sub_id: str | None = None) -> dict:
        return self.merchant.ok("GET", f"/subscriptions/{sub_id or self.sub}")

    def invoices(self, sub_id: str | None = None) -> list[Invoice]:
        query = Invoice.select().where(Invoice.subscription == (sub_id or self.sub))
        return list(query.order_by(Invoice.created_at, Invoice.number))

    @staticmethod
    def amounts(invoice: Invoice) -> list[int]:
        """The invoice's line amounts, in order."""
        lines = InvoiceLine.select().where(InvoiceLine.invoice == invoice)
        return [line.amount for line in lines.order_by(InvoiceLine.created_at)]

    def coupon(self, **fields) -> str:
        return make_coupon(self.merchant, "Stay with us", **fields)["id"]

    def unusable_retention_coupon(self, spoil: str) -> str:
        """The retention offer's coupon, spoiled: ``deleted``, ``used_up`` by a neighbour's
        subscription, or for ``other_currency`` (EUR) than the subscription's."""
        terms = {"max_redemptions": 1, "percent_off": 20}
        if spoil == "other_currency":
            terms = {"amount_off": 500, "currency": "EUR"}
        coupon = self.coupon(**terms)
        self.configure(retention_coupon_id=coupon)
        if spoil == "deleted":
            self.merchant.ok("DELETE", f"/coupons/{coupon}")
        elif spoil == "used_up":
            neighbour = self.new_customer("bo@example.com")
            subscribe(self.merchant, neighbour, self.basic, coupon_id=coupon)
        return coupon


def _price(company, product, amount, **terms) -> str:
    return stored_price(company, product, amount, **terms).id


def _catalog(company) -> dict:
    """Three monthly USD plans, plus prices a plan switch must never offer."""
    with db.connection_context():
        basic = Product.create(company=company, name="Basic")
        pro = Product.create(company=company, name="Pro")
        team = Product.create(company=company, name="Team")
        retired = Product.create(company=company, name="Retired", active=False)
        return {
            "basic_product": basic.id,
            "pro_product": pro.id,
            "team_product": team.id,
            "basic": _price(company, basic, 1000),
            "pro": _price(company, pro, 3000),
            "team": _price(company, team, 2000),
            # offered too: the same plan billed yearly (a switch starts a new period)
            "basic_yearly": _price(company, basic, 10000, interval="year"),
            # never offered: another currency, archived, one-time, retired product
            "pro_eur": _price(company, pro, 2800, currency="EUR"),
            "pro_archived": _price(company, pro, 2500, active=False),
            "pro_setup": _price(company, pro, 5000, interval=None, type="one_time"),
            "retired": _price(company, retired, 1500),
        }


def build_shop(merchant) -> Shop:
    shop = Shop(merchant=merchant, **_catalog(merchant.company))
    shop.customer = make_customer(merchant, "Ada", "Lovelace", email="ada@example.com")["id"]
    shop.card = shop.add_card()
    shop.sub = shop.subscribe(shop.basic)["id"]
    return shop


@pytest.fixture
def shop(merchant, clock) -> Shop:
    """The catalog, a customer with a card, and their Basic subscription started at JAN1."""
    return build_shop(merchant)


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[str] = field(default_factory=list)


class _Forms(HTMLParser):
    """Every <form> of a page: action, method, hidden inputs and button labels."""

    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []
        self._button: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(Form(attrs.get("action", ""), attrs.get("method", "get").upper()))
        elif tag == "input" and self.forms and attrs.get("type") == "hidden":
            self.forms[-1].fields[attrs["name"]] = attrs.get("value", "")
        elif tag == "button" and self.forms:
            self._button = []

    def handle_data(self, data):
        if self._button is not None:
            self._button.append(data)

    def handle_endtag(self, tag):
        if tag == "button" and self._button is not None:
            self.forms[-1].buttons.append(" ".join("".join(self._button).split()))
            self._button = None


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)


class Portal:
    """A customer in the hosted portal (``client``, signed in through a handoff URL) and in
    the portal JSON API (``token``, from a handoff code exchange)."""

    COOKIES = ("__Host-portal_sid", "portal_company")

    def __init__(self, app, merchant, customer_id: str | None, *, client=None, token=None):
        self.client = client or app.test_client()
        self.token = token
        if customer_id is not None:
            url = handoff(merchant, customer_id)["url"]
            assert self.client.get(urlsplit(url).path).status_code == 303
            self.token = portal_session_token(merchant, customer_id)

    def clone(self) -> "Portal":
        """Another tab of the same browser session (its own test client, for threads)."""
        client = self.client.application.test_client()
        for name in self.COOKIES:
            cookie = self.client.get_cookie(name, domain="portal.test")
            if cookie is not None:
                client.set_cookie(name, cookie.value, domain="portal.test")
        return Portal(None, None, None, client=client, token=self.token)

    # ---- pages ----
    @staticmethod
    def forms(response) -> list[Form]:
        parser = _Forms()
        parser.feed(response.get_data(as_text=True))
        return parser.forms

    @staticmethod
    def text(response) -> str:
        """The page's visible text, whitespace collapsed."""
        parser = _Text()
        parser.feed(response.get_data(as_text=True))
        return " ".join(" ".join(parser.parts).split())

    def get(self, path: str, follow: bool = False, **params):
        return self.client.get(path, query_string=params or None, follow_redirects=follow)

    def form(self, page, action_part: str) -> Form:
        found = [f for f in self.forms(page) if action_part in f.action]
        assert len(found) == 1, [f.action for f in self.forms(page)]
        return found[0]

    def submit(self, page, action_part: str, follow: bool = False, **overrides):
        """Post the page's form whose action contains ``action_part`` (CSRF, nonce included)."""
        form = self.form(page, action_part)
        data = {**form.fields, **{k: str(v) for k, v in overrides.items()}}
        return self.client.open(
            urlsplit(form.action).path, method=form.method, data=data, follow_redirects=follow
        )

    def post(self, path: str, follow: bool = False, **data):
        """A form post with a valid CSRF token and a fresh nonce (as if the form existed)."""
        page = self.get("/portal/subscriptions")
        token = next(f.fields["csrf_token"] for f in self.forms(page) if "csrf_token" in f.fields)
        data = {"csrf_token": token, "form_nonce": uuid.uuid4().hex, **data}
        return self.client.post(path, data=data, follow_redirects=follow)

    def cancel_page(self, sub_id: str, step: str = "confirm", **params):
        return self.get(f"/portal/subscriptions/{sub_id}/cancel/{step}", **params)

    def confirm_cancel(self, sub_id: str, follow: bool = False, **reason):
        page = self.cancel_page(sub_id, **reason)
        assert page.status_code == 200, page.get_data(as_text=True)
        return self.submit(page, f"/{sub_id}/cancel", follow)

    def preview_page(self, sub_id: str, **target):
        return self.get(f"/portal/subscriptions/{sub_id}/change/preview", **target)

    # ---- JSON ----
    def api(self, method: str, path: str, json=None, **kwargs):
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.client.open(
            f"/v1/api/customer-portal{path}", method=method, json=json, headers=headers, **kwargs
        )

    def ok(self, method: str, path: str, json=None, **kwargs) -> dict:
        response = self.api(method, path, json, **kwargs)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["data"]

    @staticmethod
    def error(response) -> tuple[int, str]:
        """(status, error code) of an error envelope."""
        body = response.get_json()
        assert body and body["success"] is False, response.get_data(as_text=True)[:300]
        return response.status_code, body["error"]["code"]


@pytest.fixture
def open_portal(app):
    """Sign a customer of ``merchant`` into the portal."""
    return lambda merchant, customer_id: Portal(app, merchant, customer_id)


@pytest.fixture
def portal(open_portal, shop, clock) -> Portal:
    """The shop's customer, signed in on JAN11 (the clock stays there)."""
    clock.move_to(JAN11)
    return open_portal(shop.merchant, shop.customer)
