"""A customer who chose German gets a German receipt (through a real SMTP server): German
words, the German number format for money and German dates, in the text, the HTML and the
attached invoice PDF. E-mails have no request: the customer's saved language decides."""

import pytest
from browsing import sign_in_with_handoff, submit
from builders import build_account, make_price, patch_config
from pdftext import page_text

from portal.db import db
from portal.mail import delivery
from portal.models import OutboxMessage

pytestmark = pytest.mark.usefixtures("queued_mail")


def german_customer(client, merchant):
    price = make_price(merchant, unit_amount=123456, currency="EUR")
    account = build_account(merchant, price=price, email="hans@example.com")
    sign_in_with_handoff(client, merchant, account.id)
    submit(client, "/portal", "/portal/language", {"language": "de"})
    return account


def plain(message) -> str:
    """The text body, with CLDR's no-break spaces (1.234,56\u00a0€) as plain ones."""
    return message.get_body(("plain",)).get_content().replace("\xa0", " ")


def pay_and_deliver(app, client, account, smtp):
    invoice = f"/portal/invoices/{account.open_invoice}"
    response = submit(client, invoice, f"{invoice}/pay", {"method_id": account.good_card["id"]})
    assert response.status_code == 303
    key = f"receipt:{account.open_invoice}"
    app.config["PORTAL_SMTP_URL"] = smtp.url
    with app.app_context(), db.connection_context():
        assert OutboxMessage.select().where(OutboxMessage.dedupe_key == key).count() == 1
        delivery.deliver_due("test", batch=50)
    assert smtp.wait_for(1, timeout=10)
    [receipt] = [
        m for m in smtp.messages() if account.open_invoice in m.get_body(("plain",)).get_content()
    ]
    return receipt


def test_a_german_receipt_with_a_german_pdf(app, client, merchant, smtp, clock):
    account = german_customer(client, merchant)
    receipt = pay_and_deliver(app, client, account, smtp)
    assert receipt["Subject"].startswith("Ihr Zahlungsbeleg von Acme Cloud: Rechnung ")
    text = plain(receipt)
    assert "Vielen Dank für Ihre Zahlung." in text
    assert "1.234,56 € am 01.01.2026 bezahlt." in text
    assert "Die Rechnung ist als PDF angehängt." in text
    html = receipt.get_body(("html",)).get_content().replace("\xa0", " ")
    assert '<html lang="de">' in html and "1.234,56 €" in html
    [attached] = list(receipt.iter_attachments())
    pdf = page_text(attached.get_content()).replace("\xa0", " ")
    assert "Rechnung " in pdf and "Rechnungsempfänger" in pdf and "Zwischensumme" in pdf
    assert "Ausgestellt: 01.01.2026" in pdf and "Bezahlt: 01.01.2026" in pdf
    assert "1.234,56 €" in pdf and "Fälliger Betrag:" in pdf


def test_without_a_choice_the_receipt_is_in_the_merchant_default(
    app, client, merchant, smtp, clock
):
    patch_config(merchant, default_locale="es")
    price = make_price(merchant, unit_amount=123456, currency="EUR")
    account = build_account(merchant, price=price, email="ana@example.com")
    sign_in_with_handoff(client, merchant, account.id)
    receipt = pay_and_deliver(app, client, account, smtp)
    assert receipt["Subject"].startswith("Su recibo de Acme Cloud: factura ")
    text = plain(receipt)
    assert "Gracias por su pago." in text and "pagados el 1 ene 2026." in text
    [attached] = list(receipt.iter_attachments())
    assert "Subtotal" in page_text(attached.get_content())
    assert "Facturar a" in page_text(attached.get_content())


def test_an_english_receipt_is_unchanged(app, client, merchant, smtp, clock):
    account = build_account(merchant, email="jo@example.com")
    sign_in_with_handoff(client, merchant, account.id)
    receipt = pay_and_deliver(app, client, account, smtp)
    assert receipt["Subject"].startswith("Your receipt from Acme Cloud: invoice ")
    text = plain(receipt)
    assert "Thank you for your payment." in text and "$15.00 paid on Jan 1, 2026." in text
    [attached] = list(receipt.iter_attachments())
    assert "Amount due:" in page_text(attached.get_content())
