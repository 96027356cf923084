"""The recovery e-mails of dunning, received by a real SMTP server (aiosmtpd) through the
delivery thread: "payment failed" after the renewal and each failed retry, "card expiring"
once per card; text and HTML in the merchant's brand; the hosted button signs the customer in
(single use, its own lifetime) and lands on the invoice or the payment methods, and an
expired or used one on the "email me a new link" page; custom_link mode carries the
merchant's URL."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from browsing import csrf_of, form
from builders import add_payment_method, make_customer, make_price, patch_config, subscribe

from portal.billing.gateway import get_gateway
from portal.billing.runner import run_billing
from portal.db import db
from portal.mail import wakeup
from portal.models import Company, DunningConfig, LoginToken, OutboxMessage

FEB1 = datetime(2026, 2, 1, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
EMAIL = "jo@example.com"
MERCHANT_PAGE = "https://acme.example/billing/fix?from=email"
_LINK = re.compile(r"http://portal\.test/portal/access/[^\s\"'<>]+")


@pytest.fixture
def mail_app(app, smtp):
    app.config.update(PORTAL_SMTP_URL=smtp.url, PORTAL_MAIL_IMMEDIATE=True)
    return app


def configure(merchant, **changes) -> None:
    with db.connection_context():
        row = DunningConfig.get_or_none(DunningConfig.company == merchant.id)
        if row is None:
            DunningConfig.create(company=merchant.id, settings=changes)
        else:
            row.settings = {**row.settings, **changes}
            row.save()


def bill(app, clock, moment: datetime):
    """One billing pass at ``moment``, then the delivery thread is woken (as the command
    does)."""
    clock.move_to(moment)
    with app.app_context(), db.connection_context():
        result = run_billing()
    assert result.errors == []
    wakeup.wake(app)
    return result


def received(smtp, count: int) -> list:
    assert smtp.wait_for(count, timeout=15), f"{len(smtp.envelopes)} of {count} arrived"
    return smtp.messages()


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(("html",)).get_content()


def link_in(message) -> str:
    [link] = set(_LINK.findall(text_of(message)))
    assert link in html_of(message)
    return urlsplit(link).path


def press_continue(client, path: str):
    """Open the link (the confirm page never uses it up), then press the button."""
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_of(page)})


@pytest.fixture
def jo(mail_app, merchant, clock):
    """Jo's monthly plan, paid on Jan 1 with her Visa; then her default is a card that
    declines, so the Feb 1 renewal fails. Acme's brand is teal, its portal has a header."""
    with db.connection_context():
        Company.update(brand_color="#0f766e").where(Company.id == merchant.id).execute()
    # No receipts: the inbox gets only what these tests are about.
    patch_config(merchant, portal_header="Billing for Acme customers", receipt_emails_enabled=False)
    customer = make_customer(merchant, "Jo", "Doe", email=EMAIL)
    add_payment_method(merchant, customer["id"], "tok_visa")
    sub = subscribe(merchant, customer["id"], make_price(merchant)["id"])
    bad = add_payment_method(merchant, customer["id"], "tok_chargeDeclined")
    merchant.ok("PATCH", f"/payment/{bad['id']}", {"is_default": True})
    return {"customer": customer, "sub": sub}


def failed_invoice(merchant, jo) -> dict:
    sub = merchant.ok("GET", f"/subscriptions/{jo['sub']['id']}")
    return merchant.ok("GET", f"/invoices/{sub['latest_invoice_id']}")


def test_payment_failed_after_the_renewal_and_each_retry(mail_app, merchant, smtp, jo, clock):
    configure(merchant, retry_mode="custom", custom_retry_schedule=[1, 3])
    bill(mail_app, clock, FEB1)
    first = received(smtp, 1)[0]
    invoice = failed_invoice(merchant, jo)
    assert first["To"] == EMAIL
    assert first["Subject"] == f"Your payment to Acme Cloud failed: invoice {invoice['number']}"
    text, html = text_of(first), html_of(first)
    for body in (text, html):
        assert "Acme Cloud" in body and "Billing for Acme customers" in body
        assert "$15.00" in body and invoice["number"] in body
        assert "Visa ending in 0341" in body and "Your card was declined." in body
        assert "We'll try again on Feb 2, 2026." in body
        assert "expires in 72 hours" in body
    assert "#0f766e" in html  # the merchant's brand colour
    bill(mail_app, clock, FEB1 + DAY)
    second = received(smtp, 2)[1]
    assert "We'll try again on Feb 4, 2026." in text_of(second)
    bill(mail_app, clock, FEB1 + 3 * DAY)
    last = received(smtp, 3)[2]
    assert "That was our last try, so your subscription has been canceled." in text_of(last)
    assert "try again on" not in text_of(last)
    assert len({link_in(m) for m in (first, second, last)}) == 3  # a fresh link in each
    with db.connection_context():
        rows = OutboxMessage.select().where(OutboxMessage.kind == "payment_failed")
        keys = [row.dedupe_key for row in rows]
    assert sorted(keys) == [f"payment_failed:{invoice['id']}:{n}" for n in (0, 1, 2)]
    events = merchant.ok("GET", "/customer-portal/events?action=dunning.payment_failed_email")
    assert sorted(e["details"]["attempt"] for e in events) == [0, 1, 2]


def test_the_hosted_link_signs_in_once_and_lands_on_the_invoice(
    mail_app, merchant, client, smtp, jo, clock
):
    bill(mail_app, clock, FEB1)
    path = link_in(received(smtp, 1)[0])
    invoice = failed_invoice(merchant, jo)
    clock.shift(71 * HOUR)  # next day's reading is fine: far past the sign-in link's 15 minutes
    response = press_continue(client, path)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/portal/invoices/{invoice['id']}")
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and invoice["number"] in page.get_data(as_text=True)
    used = client.get(path)  # single use: a second click offers a fresh link
    assert used.status_code == 410 and "Email me a new link" in used.get_data(as_text=True)


def test_asking_for_a_sign_in_link_leaves_the_emails_link_working(
    mail_app, merchant, client, smtp, jo, clock
):
    """Anyone who knows the address can ask for a sign-in link: that must not kill the
    button of the payment-failed e-mail (only older sign-in links stop working)."""
    bill(mail_app, clock, FEB1)
    path = link_in(received(smtp, 1)[0])
    body = {"company_id": merchant.id, "email": EMAIL}
    asked = merchant.post("/customer-portal/access/request-link", body, key=merchant.publishable)
    assert asked.status_code == 200
    received(smtp, 2)
    response = press_continue(client, path)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/portal/invoices/{failed_invoice(merchant, jo)['id']}"
    )


def test_an_expired_link_offers_a_fresh_one_to_the_same_invoice(
    mail_app, merchant, client, smtp, jo, clock
):
    bill(mail_app, clock, FEB1)
    path = link_in(received(smtp, 1)[0])
    invoice = failed_invoice(merchant, jo)
    clock.shift(72 * HOUR + timedelta(seconds=1))
    spent = client.get(path)
    html = spent.get_data(as_text=True)
    assert spent.status_code == 410 and "Email me a new link" in html
    renewed = client.post(f"{path}/renew", data=form(html, f"{path}/renew"))
    assert renewed.status_code == 200
    fresh = received(smtp, 2)[1]
    assert fresh["Subject"] == "Your sign-in link for Acme Cloud billing"
    response = press_continue(client, link_in(fresh))
    assert response.headers["Location"].endswith(f"/portal/invoices/{invoice['id']}")


def test_custom_link_mode_carries_the_merchants_url(mail_app, merchant, smtp, jo, clock):
    configure(
        merchant,
        payment_failed_recovery_page_mode="custom_link",
        payment_failed_custom_link_url=MERCHANT_PAGE,
    )
    bill(mail_app, clock, FEB1)
    message = received(smtp, 1)[0]
    assert MERCHANT_PAGE in text_of(message)
    assert f'href="{MERCHANT_PAGE}"' in html_of(message)
    assert "/portal/access/" not in text_of(message) and "expires in" not in text_of(message)
    with db.connection_context():
        assert LoginToken.select().count() == 0


def test_turned_off_there_is_no_payment_failed_email(mail_app, merchant, smtp, jo, clock):
    configure(merchant, payment_failed_email_enabled=False)
    result = bill(mail_app, clock, FEB1)
    assert result.past_due == 1
    [started] = merchant.ok("GET", "/customer-portal/events?action=dunning.started")
    assert len(started["details"]["retry_at"]) == 4  # retried all the same, only not told
    assert not smtp.wait_for(1, timeout=1)
    with db.connection_context():
        assert OutboxMessage.select().where(OutboxMessage.kind == "payment_failed").count() == 0


def expiring_customer(merchant) -> dict:
    """Bo pays with a Mastercard that expires at the end of January 2026."""
    token = get_gateway().tokenize_card("5555555555554444", 1, 2026, "123")
    customer = make_customer(merchant, "Bo", "Lee", email="bo@example.com")
    card = add_payment_method(merchant, customer["id"], token)
    subscribe(merchant, customer["id"], make_price(merchant, "Team")["id"])
    return card


def test_an_expiring_card_is_announced_once(mail_app, merchant, client, smtp, jo, clock):
    card = expiring_customer(merchant)
    configure(merchant, card_expiry_warn_days=30)
    assert bill(mail_app, clock, datetime(2026, 1, 1, 12, tzinfo=UTC)).expiring_card_emails == 0
    assert bill(mail_app, clock, datetime(2026, 1, 2, tzinfo=UTC)).expiring_card_emails == 1
    [message] = received(smtp, 1)
    assert message["To"] == "bo@example.com"
    assert message["Subject"] == "Your card for Acme Cloud expires soon"
    for body in (text_of(message), html_of(message)):
        assert "Mastercard ending in 4444" in body
        assert "expires at the end of January 2026 (01/26)" in body
        assert "add a new card by Jan 31, 2026" in body
    assert "#0f766e" in html_of(message)
    response = press_continue(client, link_in(message))
    assert response.headers["Location"].endswith("/portal/payment-methods")
    for day in (2, 3, 20, 31):  # once per card and expiry
        moment = datetime(2026, 1, day, 18, tzinfo=UTC)
        assert bill(mail_app, clock, moment).expiring_card_emails == 0
    assert not smtp.wait_for(2, timeout=1)
    events = merchant.ok("GET", "/customer-portal/events?action=dunning.card_expiring_email")
    assert [e["details"] for e in events] == [
        {"payment_method_id": card["id"], "expires": "2026-01", "recovery": "hosted"}
    ]


def test_expiring_card_emails_follow_the_config(mail_app, merchant, smtp, jo, clock):
    expiring_customer(merchant)
    configure(merchant, expiring_card_email_enabled=False)
    assert bill(mail_app, clock, datetime(2026, 1, 20, tzinfo=UTC)).expiring_card_emails == 0
    configure(
        merchant,
        expiring_card_email_enabled=True,
        card_expiry_warn_days=5,
        expiring_card_recovery_page_mode="custom_link",
        expiring_card_custom_link_url=MERCHANT_PAGE,
    )
    assert bill(mail_app, clock, datetime(2026, 1, 26, tzinfo=UTC)).expiring_card_emails == 0
    assert bill(mail_app, clock, datetime(2026, 1, 27, tzinfo=UTC)).expiring_card_emails == 1
    [message] = received(smtp, 1)
    assert MERCHANT_PAGE in text_of(message) and "/portal/access/" not in text_of(message)
