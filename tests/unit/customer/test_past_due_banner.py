"""Past due is explained: one banner on every signed-in page with the amount, the reason and
the action, and the overview does not promise a renewal beside a failed payment."""

import re

from browsing import page, submit, text_of
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


def test_without_invoice_history_the_past_due_invoice_can_still_be_paid(
    client, merchant, signed_in
):
    """Fixing a payment never depends on the merchant's sections: the banner leads to the
    late invoice, which opens and pays; every other invoice stays out of reach."""
    patch_config(merchant, invoice_history_enabled=False)
    invoice = f"/portal/invoices/{signed_in.open_invoice}"
    [banner] = banners(page(client, "/portal"))
    assert f'href="{invoice}"' in banner and "Fix payment" in text_of(banner)
    page(client, "/portal/invoices", status=404)
    page(client, f"/portal/invoices/{signed_in.paid_invoice}", status=404)
    detail = page(client, invoice)
    assert 'href="/portal/invoices"' not in detail and f"{invoice}/pdf" not in detail
    response = submit(client, invoice, f"{invoice}/pay", {"method_id": signed_in.good_card["id"]})
    assert (response.status_code, response.headers["Location"]) == (303, "/portal")
    assert merchant.ok("GET", f"/invoices/{signed_in.open_invoice}")["status"] == "PAID"
    assert banners(page(client, "/portal")) == []
    page(client, invoice, status=404)  # paid: no longer past due, so no longer shown


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
