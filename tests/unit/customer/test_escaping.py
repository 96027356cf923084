"""Merchant- and customer-supplied strings come back as text: in the portal pages, in the
sign-in email and in the invoice PDF, never as markup, htmx attributes or template code."""

from html.parser import HTMLParser

import pytest
from browsing import page, sign_in_with_handoff, text_of
from builders import add_payment_method, make_customer, make_price, patch_config, subscribe
from pdftext import page_text

from portal.models import Company, OutboxMessage

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<div hx-get=/x hx-trigger=load>",
    "{{7*7}}",
]
PAGES = ["/portal", "/portal/billing-information", "/portal/payment-methods", "/portal/invoices"]


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def injected(html: str) -> list:
    """Elements or attributes no portal template writes: what a payload would add."""
    parser = _Elements()
    parser.feed(html)
    found = []
    for tag, attrs in parser.elements:
        if tag == "img" or (tag == "script" and not (attrs.get("src") or "").startswith("/")):
            found.append((tag, attrs))
        found += [(tag, name) for name in attrs if name.startswith("on")]
        if attrs.get("hx-trigger") == "load" or attrs.get("hx-get") == "/x":
            found.append((tag, attrs))
    return found


def assert_shown_as_text(html: str, payload: str) -> None:
    assert injected(html) == []
    assert payload in text_of(html) or payload in _attribute_values(html)


def _attribute_values(html: str) -> str:
    parser = _Elements()
    parser.feed(html)
    return " ".join(str(v) for _, attrs in parser.elements for v in attrs.values())


@pytest.fixture
def customer_with_invoice(merchant):
    def build(product_name="Pro plan", **names) -> dict:
        customer = make_customer(merchant, email="jo@example.com", **names)
        add_payment_method(merchant, customer["id"], "tok_visa")
        price = make_price(merchant, name=product_name)
        sub = subscribe(merchant, customer["id"], price["id"])
        return {"customer": customer, "invoice": sub["latest_invoice_id"]}

    return build


@pytest.mark.parametrize("payload", PAYLOADS)
def test_portal_header_is_text_on_every_page(client, merchant, customer_with_invoice, payload):
    built = customer_with_invoice()
    patch_config(merchant, portal_header=f"Hi {payload}")
    sign_in_with_handoff(client, merchant, built["customer"]["id"])
    for path in [*PAGES, f"/portal/invoices/{built['invoice']}"]:
        html = page(client, path)
        assert_shown_as_text(html, f"Hi {payload}")
        assert "49" not in text_of(html).split("Hi ")[1][:10]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_customer_names_are_text(client, merchant, customer_with_invoice, payload):
    built = customer_with_invoice(first_name=payload, last_name=f"Doe {payload}")
    sign_in_with_handoff(client, merchant, built["customer"]["id"])
    for path in ["/portal", "/portal/billing-information"]:
        html = page(client, path)
        assert_shown_as_text(html, payload)
    home = page(client, "/portal")
    assert f"Hello, {payload}" in text_of(home)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_product_names_on_invoice_lines_are_text(client, merchant, customer_with_invoice, payload):
    built = customer_with_invoice(product_name=f"Plan {payload}")
    sign_in_with_handoff(client, merchant, built["customer"]["id"])
    for path in ["/portal", f"/portal/invoices/{built['invoice']}"]:
        html = page(client, path)
        assert_shown_as_text(html, f"Plan {payload}")
    pdf = client.get(f"/portal/invoices/{built['invoice']}/pdf")
    assert pdf.status_code == 200
    assert f"Plan {payload}" in page_text(pdf.data)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_merchant_names_are_text_in_pages_email_and_pdf(
    client, merchant, customer_with_invoice, payload
):
    # Renamed before the invoice is issued: an issued invoice keeps the name it was issued with.
    Company.update(name=f"Acme {payload}").where(Company.id == merchant.id).execute()
    built = customer_with_invoice()
    patch_config(merchant, portal_header=f"Note {payload}")
    sign_in_with_handoff(client, merchant, built["customer"]["id"])
    for path in PAGES:
        assert_shown_as_text(page(client, path), f"Acme {payload}")
    pdf = client.get(f"/portal/invoices/{built['invoice']}/pdf")
    assert f"Acme {payload}" in page_text(pdf.data)

    body = {"company_id": merchant.id, "email": "jo@example.com"}
    merchant.ok("POST", "/customer-portal/access/request-link", body, key=merchant.publishable)
    mail = OutboxMessage.get(OutboxMessage.kind == "sign_in")
    assert_shown_as_text(mail.html_body, f"Acme {payload}")
    assert f"Note {payload}" in text_of(mail.html_body)
    assert f"Acme {payload}" in mail.text_body  # plain text is not HTML: no escaping there


def test_the_sign_in_page_escapes_the_merchant_name(client, merchant):
    Company.update(name=PAYLOADS[1]).where(Company.id == merchant.id).execute()
    html = page(client, f"/p/{merchant.id}")
    assert_shown_as_text(html, PAYLOADS[1])


def test_the_return_url_stays_inside_its_attribute(client, merchant, customer_with_invoice):
    built = customer_with_invoice()
    url = 'https://acme.example/back?a="><img/src=x/onerror=alert(1)>'
    patch_config(merchant, return_url=url)
    sign_in_with_handoff(client, merchant, built["customer"]["id"])
    html = page(client, "/portal")
    assert injected(html) == []
    assert url in _attribute_values(html)
