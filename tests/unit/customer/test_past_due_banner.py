"""Past due is explained: one banner on every signed-in page with the amount, the reason and
the action, and the overview does not promise a renewal beside a failed payment."""

import re

from browsing import page, text_of
from builders import patch_config

PAGES = [
    "/portal",
    "/portal/subscriptions",
    "/portal/payment-methods",
    "/portal/invoices",
    "/portal/billing-information",
]


def banners(html: str) -> list[str]:
    return re.findall(r'<section class="past-due".*?</section>', html, re.S)


def test_every_page_shows_one_banner_with_amount_reason_and_action(client, signed_in):
    invoice = signed_in.open_invoice
    for path in PAGES:
        [banner] = banners(page(client, path))
        text = text_of(banner)
        assert "$15.00 is past due." in text and "Your card was declined." in text, path
        assert f'href="/portal/invoices/{invoice}"' in banner and "Fix payment" in text


def test_without_invoice_history_the_action_is_the_payment_methods(client, merchant, signed_in):
    patch_config(merchant, invoice_history_enabled=False)
    [banner] = banners(page(client, "/portal"))
    assert 'href="/portal/payment-methods"' in banner and "/portal/invoices" not in banner


def test_no_banner_once_the_invoice_is_paid(client, merchant, signed_in):
    merchant.ok(
        "POST",
        f"/invoices/{signed_in.open_invoice}/pay",
        {"instrument_id": signed_in.good_card["id"]},
    )
    for path in PAGES:
        assert banners(page(client, path)) == [], path


def test_the_overview_does_not_promise_a_renewal_beside_a_failed_payment(client, signed_in):
    home = page(client, "/portal")
    # Its first charge was declined: the subscription awaits payment.
    articles = re.findall(r'<article class="sub">.*?</article>', home, re.S)
    [failing] = [a for a in articles if "status-incomplete" in a]
    assert "Renews on" not in failing
    assert "pay the open invoice" in text_of(failing)
