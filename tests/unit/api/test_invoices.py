"""Invoices API: list, retrieve, PDF data, pay, void."""

from datetime import timedelta

import httpx
import pytest
from builders import add_payment_method, make_customer
from support import add_domain, count_rows, stored_subscription

from portal.api import schemas
from portal.api.invoices import InvoicePdf
from portal.billing.invoices import LineSpec, create_invoice
from portal.db import db, write_transaction
from portal.models import (
    ApiKey,
    Charge,
    Company,
    Customer,
    IdempotencyRecord,
    Invoice,
    Subscription,
    utcnow,
)

from .apiworld import validation_fields

# Every test gets its own sandbox gateway (charges and refunds it saw start empty).
pytestmark = pytest.mark.usefixtures("gateway")


def new_customer(merchant, **fields) -> str:
    return make_customer(merchant, **{"first_name": "Ada", "last_name": "Lovelace", **fields})["id"]


def attach(merchant, customer_id, source="tok_visa") -> str:
    return add_payment_method(merchant, customer_id, source)["id"]


def make_invoice(customer_id, *amounts, subscription_id=None, now=None) -> str:
    """Invoices have no create route: build one with the domain function."""
    with db.connection_context(), write_transaction():
        customer = Customer.get_by_id(customer_id)
        invoice = create_invoice(
            company=customer.company,
            customer=customer,
            currency="USD",
            lines=[LineSpec(f"Seat {i + 1}", 1, a, a) for i, a in enumerate(amounts or (1500,))],
            subscription=Subscription.get_by_id(subscription_id) if subscription_id else None,
            now=now,
        )
        return invoice.id


def make_subscription(customer_id, method_id=None) -> str:
    with db.connection_context():
        customer = Customer.get_by_id(customer_id)
        return stored_subscription(customer.company_id, customer, method_id).id


def error_code(response, status) -> str:
    assert response.status_code == status, response.get_json()
    return response.get_json()["error"]["code"]


@pytest.fixture
def customer_id(merchant):
    return new_customer(merchant)


@pytest.fixture
def invoice_id(customer_id):
    return make_invoice(customer_id, 1000, 500)


# ---- list and retrieve --------------------------------------------------------------------


def test_retrieve_has_the_wire_shape(merchant, customer_id, invoice_id):
    data = schemas.Invoice.model_validate(merchant.ok("GET", f"/invoices/{invoice_id}"))
    assert (data.status, data.customer_id, data.currency) == ("OPEN", customer_id, "USD")
    assert (data.subtotal, data.total, data.amount_due, data.amount_remaining) == (
        1500,
        1500,
        1500,
        1500,
    )
    assert [(i.description, i.amount) for i in data.items] == [("Seat 1", 1000), ("Seat 2", 500)]
    assert data.number == "ACMECL-00001"
    assert data.invoice_pdf_url.endswith(f"/portal/invoices/{invoice_id}/pdf")


def test_list_is_newest_first_and_paginated(merchant, customer_id):
    start = utcnow() - timedelta(hours=3)
    ids = [make_invoice(customer_id, now=start + timedelta(hours=h)) for h in range(3)]
    response = merchant.get("/invoices?limit=2")
    body = response.get_json()
    assert [i["id"] for i in body["data"]] == [ids[2], ids[1]]
    assert body["pagination"] == {"total": 3, "limit": 2, "offset": 0, "has_more": True}
    rest = merchant.get("/invoices?limit=2&offset=2").get_json()
    assert [i["id"] for i in rest["data"]] == [ids[0]]
    assert rest["pagination"]["has_more"] is False
    picked = merchant.ok("GET", f"/invoices?ids={ids[0]},{ids[2]}")
    assert [i["id"] for i in picked] == [ids[2], ids[0]]
    for item in picked:
        schemas.Invoice.model_validate(item)


def test_list_filters(merchant, customer_id):
    other_customer = new_customer(merchant, first_name="Bob")
    sub = make_subscription(customer_id)
    by_sub = make_invoice(customer_id, subscription_id=sub)
    plain = make_invoice(customer_id)
    theirs = make_invoice(other_customer)
    paid = make_invoice(customer_id, 0)
    overdue = make_invoice(customer_id, now=utcnow() - timedelta(days=10))

    def ids(query):
        return {i["id"] for i in merchant.ok("GET", f"/invoices?{query}")}

    assert ids(f"customer_id={other_customer}") == {theirs}
    assert ids(f"subscription_id={sub}") == {by_sub}
    assert ids("status=OPEN") == {by_sub, plain, theirs}
    assert ids("status=open&customer_id=" + other_customer) == {theirs}
    assert ids("status=PAID") == {paid}
    assert ids("status=PAST_DUE") == {overdue}
    assert ids("status=VOID") == set()
    assert ids("customer_id=nobody") == set()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=LATE", "status"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("offset=-1", "offset"),
        ("customer_id=" + "x" * 65, "customer_id"),
    ],
)
def test_list_query_errors(merchant, query, field):
    assert field in validation_fields(merchant.get(f"/invoices?{query}"))


def _count_queries(monkeypatch, merchant, path) -> int:
    executed = []
    real = db.obj.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        executed.append(sql)
        return real(sql, params, *args, **kwargs)

    monkeypatch.setattr(db.obj, "execute_sql", counting)
    assert merchant.get(path).status_code == 200
    monkeypatch.undo()
    return len(executed)


def test_list_costs_a_constant_number_of_queries(monkeypatch, merchant, customer_id):
    make_invoice(customer_id, 100, 200, 300)
    one = _count_queries(monkeypatch, merchant, "/invoices")
    for _ in range(5):
        make_invoice(customer_id, 100, 200, 300)
    six = _count_queries(monkeypatch, merchant, "/invoices")
    assert one == six
    assert len(merchant.ok("GET", "/invoices")) == 6


# ---- PDF data -----------------------------------------------------------------------------


def _set_company_address(merchant, address: str) -> None:
    with db.connection_context():
        Company.update(address=address, support_email="help@acme.test").where(
            Company.id == merchant.id
        ).execute()


def test_pdf_data_has_everything_to_render(merchant, customer_id):
    _set_company_address(merchant, "1 Market St\nSan Francisco, CA")
    merchant.ok("PATCH", f"/customer/{customer_id}", {"tax_id": "DE123456788"})
    invoice_id = make_invoice(customer_id, 1000, 500)
    data = InvoicePdf.model_validate(merchant.ok("GET", f"/invoices/{invoice_id}/pdf"))
    assert (data.merchant.name, data.merchant.address_lines) == (
        "Acme Cloud",
        ["1 Market St", "San Francisco, CA"],
    )
    assert (data.customer.name, data.customer.tax_id) == ("Ada Lovelace", "DE123456788")
    assert (data.number, data.filename, data.status) == (
        "ACMECL-00001",
        "invoice-ACMECL-00001.pdf",
        "OPEN",
    )
    assert [(line.description, line.amount) for line in data.lines] == [
        ("Seat 1", 1000),
        ("Seat 2", 500),
    ]
    assert (data.totals.total, data.totals.amount_remaining, data.currency) == (1500, 1500, "USD")
    assert len(data.issue_date) == 10 and data.due_date > data.issue_date


def test_an_issued_invoice_keeps_the_details_it_was_issued_with(merchant, customer_id):
    _set_company_address(merchant, "1 Market St\nSan Francisco, CA")
    body = {"tax_id": "DE123456788", "personal_address": {"line1": "1 Old Road", "city": "Bonn"}}
    merchant.ok("PATCH", f"/customer/{customer_id}", body)
    invoice_id = make_invoice(customer_id, 1000)
    before = merchant.ok("GET", f"/invoices/{invoice_id}")
    # Both parties move after the invoice was issued.
    _set_company_address(merchant, "9 New Plaza\nOakland, CA")
    later = {
        "first_name": "Augusta",
        "tax_id": "DE999999995",
        "personal_address": {"line1": "2 New St"},
    }
    merchant.ok("PATCH", f"/customer/{customer_id}", later)
    wire = merchant.ok("GET", f"/invoices/{invoice_id}")
    assert wire["buyer"] == before["buyer"] and wire["seller"] == before["seller"]
    assert wire["buyer"]["tax_id"] == "DE123456788"
    assert wire["buyer"]["address"]["line1"] == "1 Old Road"
    assert wire["seller"]["address_lines"] == ["1 Market St", "San Francisco, CA"]
    pdf = InvoicePdf.model_validate(merchant.ok("GET", f"/invoices/{invoice_id}/pdf"))
    assert (pdf.customer.name, pdf.customer.tax_id) == ("Ada Lovelace", "DE123456788")
    assert pdf.merchant.address_lines == ["1 Market St", "San Francisco, CA"]
    # A new invoice carries the new details.
    newer = merchant.ok("GET", f"/invoices/{make_invoice(customer_id, 1000)}")
    assert newer["buyer"]["tax_id"] == "DE999999995"
    assert newer["buyer"]["name"].startswith("Augusta")
    assert newer["seller"]["address_lines"] == ["9 New Plaza", "Oakland, CA"]


def test_pdf_filename_is_sanitized(merchant, invoice_id):
    with db.connection_context():
        Invoice.update(number='A"\r\nSet-Cookie: x/../1').where(Invoice.id == invoice_id).execute()
    data = merchant.ok("GET", f"/invoices/{invoice_id}/pdf")
    assert data["filename"] == "invoice-A___Set-Cookie__x_.._1.pdf"


# ---- pay ----------------------------------------------------------------------------------


def test_pay_with_the_customer_default(merchant, customer_id, invoice_id, gateway):
    method = attach(merchant, customer_id)
    data = merchant.ok("POST", f"/invoices/{invoice_id}/pay")
    assert (data["status"], data["amount_paid"], data["amount_remaining"]) == ("PAID", 1500, 0)
    assert data["payment_instrument_id"] == method and data["paid_at"]
    assert [(c[1], c[2]) for c in gateway.charge_calls] == [(1500, "USD")]
    again = merchant.post(f"/invoices/{invoice_id}/pay")
    assert error_code(again, 409) == "CONFLICT"
    assert count_rows(Charge) == 1


def test_pay_prefers_the_subscription_method(merchant, customer_id):
    attach(merchant, customer_id)
    chosen = attach(merchant, customer_id, "tok_mastercard")
    invoice = make_invoice(customer_id, subscription_id=make_subscription(customer_id, chosen))
    assert merchant.ok("POST", f"/invoices/{invoice}/pay")["payment_instrument_id"] == chosen


def test_pay_with_a_chosen_instrument(merchant, customer_id, invoice_id):
    attach(merchant, customer_id)
    chosen = attach(merchant, customer_id, "tok_amex")
    data = merchant.ok("POST", f"/invoices/{invoice_id}/pay", {"instrument_id": chosen})
    assert data["payment_instrument_id"] == chosen


def test_declined_payment_is_kept_and_shows_past_due(merchant, customer_id, invoice_id, gateway):
    attach(merchant, customer_id, "tok_chargeDeclined")
    response = merchant.post(f"/invoices/{invoice_id}/pay")
    assert error_code(response, 402) == "PAYMENT_DECLINED"
    details = response.get_json()["error"]["details"]
    assert (details["invoice_id"], details["invoice_status"]) == (invoice_id, "PAST_DUE")
    with db.connection_context():
        charge = Charge.get()
    assert (charge.status, charge.amount, charge.invoice_id) == ("failed", 1500, invoice_id)
    assert merchant.ok("GET", f"/invoices/{invoice_id}")["status"] == "PAST_DUE"
    assert [i["id"] for i in merchant.ok("GET", "/invoices?status=PAST_DUE")] == [invoice_id]
    good = attach(merchant, customer_id)
    data = merchant.ok("POST", f"/invoices/{invoice_id}/pay", {"instrument_id": good})
    assert data["status"] == "PAID"
    assert count_rows(Charge) == 2 and len(gateway.charge_calls) == 2


@pytest.mark.parametrize("source", ["tok_visa", "tok_chargeDeclined"])
def test_pay_replays_with_the_same_idempotency_key(
    merchant, customer_id, invoice_id, gateway, source
):
    attach(merchant, customer_id, source)
    headers = {"Idempotency-Key": f"pay-{invoice_id}"}
    first = merchant.post(f"/invoices/{invoice_id}/pay", {}, headers=headers)
    again = merchant.post(f"/invoices/{invoice_id}/pay", {}, headers=headers)
    assert first.status_code == again.status_code == (200 if source == "tok_visa" else 402)
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count_rows(Charge) == 1 and len(gateway.charge_calls) == 1
    reused = merchant.post(
        f"/invoices/{invoice_id}/pay", {"instrument_id": "other"}, headers=headers
    )
    assert error_code(reused, 409) == "IDEMPOTENCY_KEY_REUSED"


def test_pay_field_errors_change_nothing(merchant, other_merchant, customer_id, invoice_id):
    stranger_card = attach(merchant, new_customer(merchant, first_name="Sam"))
    foreign_card = attach(other_merchant, new_customer(other_merchant))
    path = f"/invoices/{invoice_id}/pay"
    assert set(validation_fields(merchant.post(path))) == {"instrument_id"}  # no method at all
    for body, field in [
        ({"instrument_id": stranger_card}, "instrument_id"),
        ({"instrument_id": foreign_card}, "instrument_id"),
        ({"instrument_id": "missing"}, "instrument_id"),
        ({"instrument_id": 7}, "instrument_id"),
        ({"instrument_id": ""}, "instrument_id"),
        ({"amount": 1}, "amount"),
    ]:
        assert field in validation_fields(merchant.post(path, body))
    assert count_rows(Charge) == 0
    assert merchant.ok("GET", f"/invoices/{invoice_id}")["status"] == "OPEN"


def test_pay_a_void_invoice_conflicts(merchant, customer_id, invoice_id, gateway):
    attach(merchant, customer_id)
    merchant.ok("POST", f"/invoices/{invoice_id}/void")
    assert error_code(merchant.post(f"/invoices/{invoice_id}/pay"), 409) == "CONFLICT"
    assert gateway.charge_calls == []


# ---- void ---------------------------------------------------------------------------------


def test_void_open_only(merchant, customer_id, invoice_id):
    data = merchant.ok("POST", f"/invoices/{invoice_id}/void")
    assert (data["status"], data["amount_remaining"]) == ("VOID", 0)
    assert error_code(merchant.post(f"/invoices/{invoice_id}/void"), 409) == "CONFLICT"
    paid = make_invoice(customer_id, 0)
    assert error_code(merchant.post(f"/invoices/{paid}/void"), 409) == "CONFLICT"
    assert merchant.ok("GET", f"/invoices/{paid}")["status"] == "PAID"


def test_void_refuses_a_body(merchant, invoice_id):
    assert "reason" in validation_fields(
        merchant.post(f"/invoices/{invoice_id}/void", {"reason": "x"})
    )
    assert merchant.ok("GET", f"/invoices/{invoice_id}")["status"] == "OPEN"


def test_void_is_idempotent(merchant, invoice_id):
    headers = {"Idempotency-Key": "void-1"}
    first = merchant.post(f"/invoices/{invoice_id}/void", headers=headers)
    again = merchant.post(f"/invoices/{invoice_id}/void", headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.get_json() == first.get_json()


# ---- tenancy and auth ---------------------------------------------------------------------

ROUTES = [
    ("GET", "/invoices"),
    ("GET", "/invoices/{id}"),
    ("GET", "/invoices/{id}/pdf"),
    ("POST", "/invoices/{id}/pay"),
    ("POST", "/invoices/{id}/void"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES[1:])
def test_other_company_invoice_is_not_found(merchant, other_merchant, invoice_id, method, path):
    attach(merchant, customer_of(invoice_id))  # so a leaked pay would succeed
    response = other_merchant.call(method, path.format(id=invoice_id))
    assert error_code(response, 404) == "NOT_FOUND"
    assert other_merchant.call(method, path.format(id="missing")).status_code == 404
    assert merchant.ok("GET", f"/invoices/{invoice_id}")["status"] == "OPEN"
    assert other_merchant.ok("GET", "/invoices") == []


def customer_of(invoice_id):
    with db.connection_context():
        return Invoice.get_by_id(invoice_id).customer_id


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_auth_is_required(merchant, invoice_id, method, path):
    path = path.format(id=invoice_id)
    missing = merchant.client.open(f"/v1/api{path}", method=method)
    assert error_code(missing, 401) == "AUTHENTICATION_REQUIRED"
    public = merchant.call(method, path, key=merchant.publishable)
    assert error_code(public, 403) == "PERMISSION_DENIED"
    with db.connection_context():
        ApiKey.update(revoked_at=utcnow()).where(ApiKey.key_type == "secret").execute()
    assert error_code(merchant.call(method, path), 401) == "INVALID_API_KEY"
    assert count_rows(IdempotencyRecord) == 0
    with db.connection_context():
        assert Invoice.get_by_id(invoice_id).status == "OPEN"


def test_official_client(app, merchant, customer_id, invoice_id):
    from easylabs._http import _HTTP
    from easylabs.resources import Invoices

    attach(merchant, customer_id)
    void_me = make_invoice(customer_id)
    http = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://portal.test")
    invoices = Invoices(
        _HTTP(api_url="http://portal.test/v1/api", api_key=merchant.secret, client=http)
    )
    listed = invoices.list(limit=10, ids=[invoice_id, void_me], status="OPEN")
    assert {i.id for i in listed} == {invoice_id, void_me}
    assert invoices.retrieve(invoice_id).amount_due == 1500
    assert invoices.pdf_data(invoice_id)["number"] == "ACMECL-00001"
    assert invoices.pay(invoice_id, idempotency_key="k1").status == "PAID"
    assert invoices.void(void_me).status == "VOID"


def test_with_a_portal_domain_every_invoice_link_uses_it(merchant, customer_id):

    with db.connection_context():
        domain = add_domain(merchant.id, "billing.acme.test")
    merchant.ok("PATCH", "/customer-portal-config", {"custom_domain_id": domain.id})
    invoice_id = make_invoice(customer_id, 1000)
    one = merchant.ok("GET", f"/invoices/{invoice_id}")
    listed = merchant.ok("GET", "/invoices")[0]
    pdf = merchant.ok("GET", f"/invoices/{invoice_id}/pdf")
    for url in (
        one["hosted_invoice_url"],
        one["invoice_pdf_url"],
        listed["hosted_invoice_url"],
        pdf["hosted_invoice_url"],
    ):
        assert url.startswith("http://billing.acme.test/portal/invoices/"), url
