"""The invoice PDF in the customer's language: German labels, the German number format and
German dates; the same invoice in English is drawn as before (the cache keeps them apart)."""

import pytest
from browsing import sign_in_with_handoff, submit
from builders import build_account, make_price
from pdftext import check_structure, page_text

pytestmark = pytest.mark.usefixtures("queued_mail")


def pdf_text(client, invoice_id: str) -> str:
    response = client.get(f"/portal/invoices/{invoice_id}/pdf")
    assert response.status_code == 200
    check_structure(response.data)
    return page_text(response.data).replace("\xa0", " ")


def test_a_german_customer_downloads_a_german_invoice(client, merchant, clock):
    price = make_price(merchant, unit_amount=123456, currency="EUR")
    account = build_account(merchant, price=price, email="hans@example.com")
    sign_in_with_handoff(client, merchant, account.id)
    english = pdf_text(client, account.paid_invoice)
    assert "Bill to" in english and "Issued: Jan 1, 2026" in english and "€1,234.56" in english

    submit(client, "/portal", "/portal/language", {"language": "de"})
    german = pdf_text(client, account.paid_invoice)
    assert "Rechnungsempfänger" in german and "Beschreibung" in german
    assert "Status: Bezahlt" in german and "Ausgestellt: 01.01.2026" in german
    assert "Zwischensumme:  1.234,56 €" in german and "Fälliger Betrag:  0,00 €" in german

    submit(client, "/portal", "/portal/language", {"language": "es"})
    spanish = pdf_text(client, account.paid_invoice)
    assert "Facturar a" in spanish and "Emitida: 1 ene 2026" in spanish
    assert "1.234,56 €" in spanish
