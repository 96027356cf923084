"""A customer's mail is in their saved language when the merchant offers it; a sign-in
e-mail of a customer who saved none is in the language of the page that asked for it (the
visitor's pick, else their browser's), else in the merchant's default."""

import re

import pytest
from browsing import csrf_of, form, page, submit

from portal.db import db
from portal.models import Customer, OutboxMessage

pytestmark = pytest.mark.usefixtures("queued_mail")


def sign_in_mail(to: str) -> OutboxMessage:
    with db.connection_context():
        return (
            OutboxMessage.select()
            .where((OutboxMessage.to_address == to) & (OutboxMessage.kind == "sign_in"))
            .order_by(OutboxMessage.created_at.desc())
            .first()
        )


def ask_for_link(client, merchant, email: str, accept: str = "en"):
    path = f"/p/{merchant.id}"
    fields = {**form(page(client, path), ""), "email": email}
    return client.post(path, data=fields, headers={"Accept-Language": accept})


def test_the_sign_in_mail_is_in_the_customers_saved_language(client, merchant, signed_in):
    submit(client, "/portal", "/portal/language", {"language": "de"})
    submit(client, "/portal", "/portal/sign-out")
    ask_for_link(client, merchant, "jo@example.com", accept="es")
    mail = sign_in_mail("jo@example.com")
    assert mail.subject == "Ihr Anmeldelink für die Abrechnung von Acme Cloud"
    assert "Hallo Jo," in mail.text_body
    assert "Dieser Link läuft in 15 Minuten ab und kann einmal verwendet werden." in mail.text_body
    assert '<html lang="de">' in mail.html_body


def test_without_a_saved_language_the_language_of_the_page_that_asked(client, merchant, account):
    merchant.ok("PATCH", "/customer-portal-config", {"default_locale": "es"})
    ask_for_link(client, merchant, "jo@example.com", accept="de")
    mail = sign_in_mail("jo@example.com")
    assert mail.subject == "Ihr Anmeldelink für die Abrechnung von Acme Cloud"


def test_without_a_saved_or_offered_browser_language_the_merchant_default(
    client, merchant, account
):
    merchant.ok("PATCH", "/customer-portal-config", {"default_locale": "es"})
    ask_for_link(client, merchant, "jo@example.com", accept="fr")
    mail = sign_in_mail("jo@example.com")
    assert mail.subject.startswith("Su enlace de inicio de sesión")
    assert "Hola, Jo:" in mail.text_body


def test_english_mail_is_unchanged(client, merchant, account):
    ask_for_link(client, merchant, "jo@example.com", accept="en")
    mail = sign_in_mail("jo@example.com")
    assert mail.subject == "Your sign-in link for Acme Cloud billing"
    assert "Hi Jo," in mail.text_body
    assert "This link expires in 15 minutes and can be used once." in mail.text_body


def test_a_language_picked_before_signing_in_is_kept_for_the_customer(client, merchant, account):
    sign_in = f"/p/{merchant.id}"
    submit(client, sign_in, "/portal/language", {"language": "es"})
    ask_for_link(client, merchant, "jo@example.com", accept="de")
    mail = sign_in_mail("jo@example.com")
    assert mail.subject.startswith("Su enlace de inicio de sesión")  # the pick beats the browser
    path = re.search(r"https?://[^/\s]+(/portal/access/\S+)", mail.text_body).group(1)
    opened = client.get(path)
    client.post(path, data={"csrf_token": csrf_of(opened)})
    with db.connection_context():
        assert Customer.get_by_id(account.id).locale == "es"
    # Saved on the customer: later mail (no request, no cookie) is in Spanish too.
    client.delete_cookie("portal_language", domain="portal.test")
    assert '<html lang="es">' in page(client, "/portal")


def test_a_language_this_merchant_does_not_offer_is_not_kept(client, merchant, account):
    merchant.ok("PATCH", "/customer-portal-config", {"supported_locales": ["en", "de"]})
    # The cookie is the host's: another merchant on it may have offered Spanish.
    client.set_cookie("portal_language", "es", domain="portal.test")
    ask_for_link(client, merchant, "jo@example.com", accept="en")
    mail = sign_in_mail("jo@example.com")
    assert mail.subject == "Your sign-in link for Acme Cloud billing"
    path = re.search(r"https?://[^/\s]+(/portal/access/\S+)", mail.text_body).group(1)
    client.post(path, data={"csrf_token": csrf_of(client.get(path))})
    with db.connection_context():
        assert Customer.get_by_id(account.id).locale is None
