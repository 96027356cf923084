"""A customer who chose German reads German pages: the words from the catalogue, money in
the German number format and dates in the German date style (babel's CLDR data)."""

from browsing import page, submit, text_of
from builders import build_account, make_price

from portal.db import db
from portal.models import Invoice


def german_customer(client, merchant):
    """A customer paying 1,234.56 € a month, signed in, who chose German."""
    from browsing import sign_in_with_handoff

    price = make_price(merchant, unit_amount=123456, currency="EUR")
    account = build_account(merchant, price=price, email="hans@example.com")
    sign_in_with_handoff(client, merchant, account.id)
    submit(client, "/portal", "/portal/language", {"language": "de"})
    return account


def test_the_overview_in_german(client, merchant, clock):
    german_customer(client, merchant)
    text = text_of(page(client, "/portal"))
    assert "Hallo Jo" in text and "Ihre Abonnements" in text
    assert "1.234,56 €" in text  # German grouping and decimal comma, the sign after
    assert "Verlängert sich am 01.02.2026 für 1.234,56 €." in text
    assert "Überfällig" in text and "Jetzt bezahlen" in text


def test_an_invoice_in_german(client, merchant, clock):
    account = german_customer(client, merchant)
    text = text_of(page(client, f"/portal/invoices/{account.paid_invoice}"))
    assert "Rechnung" in text and "Zwischensumme" in text and "Einzelpreis" in text
    assert "Ausgestellt 01.01.2026" in text
    assert "Bezahlt 01.01.2026 mit Visa mit Endziffern 4242" in text
    assert "1.234,56 €" in text


def test_a_flash_message_in_german(client, merchant):
    account = german_customer(client, merchant)
    invoice = f"/portal/invoices/{account.open_invoice}"
    response = submit(client, invoice, f"{invoice}/pay", {"method_id": account.good_card["id"]})
    assert response.status_code == 303
    assert "Zahlung erhalten. Vielen Dank!" in text_of(page(client, invoice))


def test_a_refusal_from_the_domain_is_shown_in_german(client, merchant):
    account = german_customer(client, merchant)
    invoice = f"/portal/invoices/{account.open_invoice}"
    response = submit(client, invoice, f"{invoice}/pay", {"method_id": account.bad_card["id"]})
    text = text_of(response.get_data(as_text=True))
    assert "Ihre Karte wurde abgelehnt. Bitte versuchen Sie es mit einer anderen" in text
    with db.connection_context():
        assert Invoice.get_by_id(account.open_invoice).status == "OPEN"


def test_spanish_money_and_dates(client, merchant, clock):
    german_customer(client, merchant)
    submit(client, "/portal", "/portal/language", {"language": "es"})
    text = text_of(page(client, "/portal/subscriptions"))
    assert "Suscripciones" in text and "Próxima factura" in text
    assert "1.234,56 € el 1 feb 2026" in text


def test_the_country_list_in_german(client, merchant):
    german_customer(client, merchant)
    html = page(client, "/portal/billing-information")
    assert '<option value="DE">Deutschland</option>' in html
    assert "Land auswählen" in html and "Vorname" in html
    assert html.index(">Deutschland<") < html.index(">Frankreich<")


def test_a_retention_offer_in_german(client, merchant):
    from builders import make_coupon, patch_config

    coupon = make_coupon(merchant, percent_off=20, duration="repeating", duration_in_months=3)
    patch_config(merchant, retention_coupon_id=coupon["id"])
    account = german_customer(client, merchant)
    text = text_of(page(client, f"/portal/subscriptions/{account.paid_sub['id']}/cancel/offer"))
    assert "Bleiben und 20 % Rabatt für 3 Monate erhalten" in text


def test_proration_lines_in_german(app):
    from portal.documents.line_text import line_text
    from portal.i18n import language

    with app.app_context(), language("de"):
        assert line_text("Unused time on Pro plan × 2") == "Nicht genutzte Zeit für Pro plan × 2"
        assert line_text("Remaining time on Pro plan × 1 (after discount)") == (
            "Verbleibende Zeit für Pro plan × 1 (nach Rabatt)"
        )
        assert line_text("Upgrade: full-period price difference").startswith("Upgrade: Preis")
        assert line_text("Pro plan × 3") == "Pro plan × 3"
    with app.app_context():
        assert line_text("Unused time on Pro plan × 2") == "Unused time on Pro plan × 2"


def test_a_refusal_with_numbers_in_it_is_translated_with_its_numbers(app):
    from portal.i18n import language, translate

    with app.test_request_context(), language("de"):
        assert translate("Choose a quantity from 2 to 8.") == "Wählen Sie eine Menge von 2 bis 8."
        assert translate("Choose 1 to 3 billing periods.") == (
            "Wählen Sie 1 bis 3 Abrechnungszeiträume."
        )
        # Anything else is left as it is, numbers or not.
        assert translate("Choose a quantity from two to 8.") == "Choose a quantity from two to 8."
        assert translate("Order 66 was given.") == "Order 66 was given."
