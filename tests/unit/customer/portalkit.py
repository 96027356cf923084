"""Helpers for the hosted portal tests: billing data built through the merchant API, a
customer signed in by handoff (cookie or Bearer), forms scraped from pages, SQL counting."""

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

from portal.db import db
from portal.models import MODELS, ApiKey, PortalSession

PORTAL_API = "/customer-portal"
CSRF_ERROR = "The CSRF token is missing."
# Stamps that authentication refreshes on any request, even one that is refused.
TOUCHED = {(ApiKey, "last_used_at"), (PortalSession, "last_seen_at")}


# --- billing data through the merchant API ---------------------------------------------------


def make_customer(merchant, first_name="Jo", last_name="Doe", email=None, **extra) -> dict:
    body = {"first_name": first_name, "last_name": last_name, **extra}
    if email is not None:
        body["email"] = email
    return merchant.ok("POST", "/customer", body, status=201)


def add_method(merchant, customer_id: str, source="tok_visa", name="Jo Doe") -> dict:
    """Attach a sandbox test token (tok_visa, tok_chargeDeclined, tok_bank_account, …)."""
    kind = "BANK_ACCOUNT" if source.startswith("tok_bank") else "PAYMENT_CARD"
    body = {"type": kind, "identityId": customer_id, "tokenId": source, "name": name}
    return merchant.ok("POST", "/payment", body)


def make_price(merchant, name="Pro plan", unit_amount=1500, currency="USD") -> dict:
    product = merchant.ok("POST", "/products", {"name": name})
    body = {
        "product_id": product["id"],
        "currency": currency,
        "unit_amount": unit_amount,
        "recurring": True,
        "interval": "month",
        "interval_count": 1,
    }
    return merchant.ok("POST", "/product-prices", body)


def subscribe(merchant, customer_id: str, price_id: str, quantity=1, **extra) -> dict:
    body = {"identity_id": customer_id, "items": [{"price_id": price_id, "quantity": quantity}]}
    return merchant.ok("POST", "/subscriptions", {**body, **extra})


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


def build_account(merchant, first_name="Jo", price=None, **customer) -> Account:
    price = price or make_price(merchant)
    person = make_customer(merchant, first_name, **customer)
    bad = add_method(merchant, person["id"], "tok_chargeDeclined")
    failing = subscribe(merchant, person["id"], price["id"])
    good = add_method(merchant, person["id"], "tok_visa")
    paid = subscribe(merchant, person["id"], price["id"], instrument_id=good["id"])
    return Account(merchant, person, bad, good, failing, paid)


def patch_config(merchant, **changes) -> dict:
    return merchant.ok("PATCH", "/customer-portal-config", changes)


# --- signing in --------------------------------------------------------------------------------


def handoff(merchant, customer_id: str, **extra) -> dict:
    body = {"customer_id": customer_id, **extra}
    return merchant.ok("POST", f"{PORTAL_API}/access/handoff", body, status=201)


def sign_in(client, merchant, customer_id: str, **extra):
    """Open a handoff URL in ``client`` (which keeps the cookie); returns the redirect."""
    response = client.get(urlsplit(handoff(merchant, customer_id, **extra)["url"]).path)
    assert response.status_code == 303, response.get_data(as_text=True)
    return response


def bearer(merchant, customer_id: str) -> dict:
    code = handoff(merchant, customer_id)["code"]
    data = merchant.ok("POST", f"{PORTAL_API}/access/handoff/exchange", {"code": code})
    return {"Authorization": f"Bearer {data['session_token']}"}


def portal_json(client, method: str, path: str, headers: dict, json=None):
    return client.open(f"/v1/api{PORTAL_API}{path}", method=method, json=json, headers=headers)


# --- pages and forms ---------------------------------------------------------------------------


class _Forms(HTMLParser):
    """Every form's action and the values a browser would submit without user input."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attr = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attr.get("action") or "", "fields": {}})
            return
        if not self.forms:
            return
        fields = self.forms[-1]["fields"]
        if tag in ("input", "textarea") and attr.get("name"):
            fields[attr["name"]] = attr.get("value") or ""
        elif tag == "select":
            self._select = attr.get("name")
        elif (
            tag == "option" and self._select and ("selected" in attr or self._select not in fields)
        ):
            fields[self._select] = attr.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def forms_of(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form(html: str, action: str) -> dict:
    """The fields of the first form posting to ``action`` (fails when there is none)."""
    for found in forms_of(html):
        if found["action"] == action:
            return dict(found["fields"])
    raise AssertionError(
        f"no form posts to {action}; forms: {[f['action'] for f in forms_of(html)]}"
    )


def has_form(html: str, action: str) -> bool:
    return any(found["action"] == action for found in forms_of(html))


def csrf_token(html: str) -> str:
    match = re.search(r'name="(?:[\w-]+-)?csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "page has no csrf_token input"
    return match.group(1)


def page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def submit(client, page_path: str, action: str, changes: dict | None = None, **kwargs):
    """Load ``page_path``, fill the form posting to ``action`` with ``changes``, post it."""
    data = {**form(page(client, page_path), action), **(changes or {})}
    return client.post(action, data=data, **kwargs)


HTMX = {"HX-Request": "true"}


_BLOCKS = {
    "p", "div", "td", "th", "tr", "li", "h1", "h2", "h3", "br", "dt", "dd", "section",
    "article", "header", "nav", "main", "label", "option", "button", "form", "table", "title",
}  # fmt: skip


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in _BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        self.handle_starttag(tag, [])

    def handle_data(self, data):
        self.parts.append(data)


def text_of(html: str) -> str:
    """The page's visible text with entities decoded, blocks apart (what a reader sees)."""
    parser = _Text()
    parser.feed(html)
    return " ".join("".join(parser.parts).split())


# --- database ----------------------------------------------------------------------------------


def snapshot() -> dict:
    """Every row of every model, bar the TOUCHED stamps."""
    rows = {}
    for model in MODELS:
        fields = [f for f in model._meta.sorted_fields if (model, f.name) not in TOUCHED]
        rows[model.__name__] = list(model.select(*fields).order_by(model.id).tuples())
    return rows


def changed_tables(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after[name]]


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
