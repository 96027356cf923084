"""The invoice PDF: a well-formed file with the invoice's facts in its text, downloaded as an
attachment with a safe filename, never cached, and only for the session's own invoices."""

import re

import pytest
from pdftext import check_structure, page_text
from portalkit import (
    add_method,
    build_account,
    form,
    make_customer,
    make_price,
    sign_in,
    subscribe,
)

from portal.models import Company, Customer, Invoice

SAFE_ATTACHMENT = re.compile(r'^attachment; filename="invoice-[A-Za-z0-9._-]+\.pdf"$')


def pdf_of(client, invoice_id: str):
    response = client.get(f"/portal/invoices/{invoice_id}/pdf")
    assert response.status_code == 200, response.status_code
    return response


@pytest.fixture
def billed(merchant):
    """A customer with full billing details and a paid EUR invoice."""
    Company.update(
        address="Hauptstraße 1\n10115 Berlin", support_email="billing@acme.example"
    ).where(Company.id == merchant.id).execute()
    customer = make_customer(
        merchant,
        "Ada",
        "Lovelace",
        email="ada@example.com",
        tax_id="DE123456789",
        personal_address={
            "line1": "12 St James's Sq",
            "city": "London",
            "postal_code": "SW1Y 4JH",
            "country": "GB",
        },
    )
    add_method(merchant, customer["id"], "tok_visa")
    price = make_price(merchant, name="Team plan", unit_amount=4900, currency="EUR")
    sub = subscribe(merchant, customer["id"], price["id"], quantity=2)
    return customer, Invoice.get_by_id(sub["latest_invoice_id"])


def test_the_pdf_is_a_pdf_with_the_invoice_in_it(client, merchant, billed):
    customer, invoice = billed
    sign_in(client, merchant, customer["id"])
    response = pdf_of(client, invoice.id)
    assert response.mimetype == "application/pdf"
    check_structure(response.data)
    text = page_text(response.data)
    for expected in (
        f"Invoice {invoice.number}",
        "Acme Cloud",
        "Hauptstraße 1",
        "billing@acme.example",
        "Ada Lovelace",
        "12 St James's Sq",
        "SW1Y 4JH London",
        "Tax ID: DE123456789",
        "Status: Paid",
        "Team plan",
        "€98.00",
        "Amount due:  €0.00",
    ):
        assert expected in text, expected


def test_the_pdf_downloads_as_an_uncached_attachment(client, merchant, billed):
    customer, invoice = billed
    sign_in(client, merchant, customer["id"])
    response = pdf_of(client, invoice.id)
    assert (
        response.headers["Content-Disposition"]
        == f'attachment; filename="invoice-{invoice.number}.pdf"'
    )
    assert "no-store" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "number", ['X"; filename=evil.exe', "A/../../B\\C", "Ж-€-00001", "a\r\nSet-Cookie: x=1"]
)
def test_the_filename_is_sanitized(client, merchant, billed, number):
    customer, invoice = billed
    Invoice.update(number=number[:32]).where(Invoice.id == invoice.id).execute()
    sign_in(client, merchant, customer["id"])
    response = pdf_of(client, invoice.id)
    assert SAFE_ATTACHMENT.match(response.headers["Content-Disposition"])
    assert "Set-Cookie" not in response.headers or "x=1" not in response.headers["Set-Cookie"]
    assert f"Invoice {number[:32]}".replace("\r\n", "") in page_text(response.data).replace(
        "\n", ""
    )


def test_euro_and_non_latin_names_print(client, merchant):
    Company.update(name="Café Ωmega € Ltd").where(Company.id == merchant.id).execute()
    customer = make_customer(merchant, "Жанна", "Łukasiewicz-Müller", email="zh@example.com")
    add_method(merchant, customer["id"], "tok_visa")
    price = make_price(merchant, name="Тариф «Про»", unit_amount=1999, currency="EUR")
    sub = subscribe(merchant, customer["id"], price["id"])
    sign_in(client, merchant, customer["id"])
    response = pdf_of(client, sub["latest_invoice_id"])
    check_structure(response.data)
    text = page_text(response.data)
    for expected in ("Café Ωmega € Ltd", "Жанна Łukasiewicz-Müller", "Тариф «Про»", "€19.99"):
        assert expected in text, expected
    assert "\ufffd" not in text and "\x00" not in text  # every glyph maps back to a character


def test_another_customers_pdf_is_not_found(client, merchant, other_merchant, billed):
    customer, invoice = billed
    neighbour = build_account(merchant, "Neighbour")
    stranger = build_account(other_merchant, "Stranger")
    sign_in(client, merchant, customer["id"])
    for foreign in (neighbour.paid_invoice, stranger.paid_invoice, "no-such-invoice"):
        response = client.get(f"/portal/invoices/{foreign}/pdf")
        assert response.status_code == 404
        assert not response.data.startswith(b"%PDF")


def test_the_merchant_pdf_data_matches_what_the_portal_draws(client, merchant, billed):
    customer, invoice = billed
    data = merchant.ok("GET", f"/invoices/{invoice.id}/pdf")
    assert data["number"] == invoice.number and data["customer"]["tax_id"] == "DE123456789"
    sign_in(client, merchant, customer["id"])
    text = page_text(pdf_of(client, invoice.id).data)
    assert data["lines"][0]["description"] in text


def test_editing_billing_details_later_leaves_an_issued_invoice_as_it_was(client, merchant, billed):
    customer, invoice = billed
    sign_in(client, merchant, customer["id"])
    before = page_text(pdf_of(client, invoice.id).data)
    assert "12 St James's Sq" in before and "DE123456789" in before
    # The customer moves and changes tax ID in the portal; the merchant moves too.
    page_html = client.get("/portal/billing-information").get_data(as_text=True)
    fields = {**form(page_html, "/portal/billing-information")}
    fields.update({"bi-address_line1": "1 New Road", "bi-tax_id": "DE999999999"})
    assert client.post("/portal/billing-information", data=fields).status_code in (200, 303)
    assert Customer.get_by_id(customer["id"]).tax_id == "DE999999999"  # the edit happened
    Company.update(address="Neue Allee 9\n20095 Hamburg").where(Company.id == merchant.id).execute()
    assert page_text(pdf_of(client, invoice.id).data) == before
    html = client.get(f"/portal/invoices/{invoice.id}").get_data(as_text=True)
    assert "12 St James&#39;s Sq" in html and "Hauptstraße 1" in html and "1 New Road" not in html
