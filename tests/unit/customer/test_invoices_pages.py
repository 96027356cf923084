"""Invoices in the portal: the paginated list (newest first, htmx region), the detail page
(lines, proration, discount, totals) and Pay now, once per submitted form."""

import re
from datetime import timedelta

import pytest
from browsing import HTMX, form, page, sign_in_with_handoff, submit, text_of
from builders import add_payment_method, handoff, make_customer, subscribe

from portal.billing.gateway import get_gateway
from portal.models import Charge, Invoice, Subscription, new_id, utcnow

LIST = "/portal/invoices"
_NUMBER_LINK = re.compile(r'<a href="/portal/invoices/[^"]+">([^<]+)</a>')


def numbers_on(html: str) -> list[str]:
    return _NUMBER_LINK.findall(html)


def bulk_invoices(
    merchant, customer_id: str, count: int, *, same_time=False, ids=None
) -> list[str]:
    """``count`` invoices, number i created i minutes after the first (or all at once)."""
    start = utcnow() - timedelta(days=1)
    rows = [
        {
            "id": ids[i] if ids else new_id(),
            "company": merchant.id,
            "customer": customer_id,
            "number": f"LIST-{i:05d}",
            "status": "PAID",
            "currency": "USD",
            "subtotal": 100 * (i + 1),
            "total": 100 * (i + 1),
            "amount_due": 100 * (i + 1),
            "amount_paid": 100 * (i + 1),
            "created_at": start + timedelta(minutes=0 if same_time else i),
        }
        for i in range(count)
    ]
    Invoice.insert_many(rows).execute()
    return [row["number"] for row in rows]


@pytest.fixture
def jo(client, merchant):
    customer = make_customer(merchant, email="jo@example.com")
    sign_in_with_handoff(client, merchant, customer["id"])
    return customer


def test_the_list_is_newest_first_twenty_a_page(client, merchant, jo):
    numbers = bulk_invoices(merchant, jo["id"], 25)
    first = page(client, LIST)
    assert numbers_on(first) == numbers[::-1][:20]
    assert "Page 1 of 2" in text_of(first) and f"{LIST}?page=2" in first
    second = page(client, f"{LIST}?page=2")
    assert numbers_on(second) == numbers[::-1][20:]
    assert "Page 2 of 2" in text_of(second) and f"{LIST}?page=1" in second


def test_a_page_past_the_end_shows_the_last_page(client, merchant, jo):
    numbers = bulk_invoices(merchant, jo["id"], 25)
    html = page(client, f"{LIST}?page=7")
    assert numbers_on(html) == numbers[::-1][20:]
    assert "Page 2 of 2" in text_of(html)


def test_invoices_issued_at_the_same_moment_are_ordered_by_number(client, merchant, jo):
    ids = [f"{letter * 8}-0000-4000-8000-000000000000" for letter in "abc"]
    numbers = bulk_invoices(merchant, jo["id"], 3, same_time=True, ids=ids)
    assert numbers_on(page(client, LIST)) == numbers[::-1]


def test_the_list_shows_date_amount_and_status(client, merchant, jo):
    bulk_invoices(merchant, jo["id"], 1)
    text = text_of(page(client, LIST))
    assert re.search(r"LIST-00000 \w{3} \d{1,2}, \d{4} \$1\.00 Paid", text), text


def test_htmx_paging_answers_with_the_list_region_only(client, merchant, jo):
    numbers = bulk_invoices(merchant, jo["id"], 25)
    response = client.get(f"{LIST}?page=2", headers=HTMX)
    html = response.get_data(as_text=True)
    assert (
        response.status_code == 200 and "<html" not in html and '<nav class="wrap tabs"' not in html
    )
    assert html.lstrip().startswith('<section class="card" id="invoice-list"')
    assert numbers_on(html) == numbers[::-1][20:]
    for headers in (HTMX, {}):
        vary = client.get(LIST, headers=headers).headers["Vary"]
        assert "HX-Request" in vary


@pytest.mark.parametrize("value", ["0", "-1", "abc", "²", "١", "99999999999", "2.5", ""])
def test_an_odd_page_number_is_not_an_error(client, merchant, jo, value):
    bulk_invoices(merchant, jo["id"], 3)
    response = client.get(f"{LIST}?page={value}")
    assert response.status_code == 200


def test_the_detail_shows_lines_proration_discount_and_totals(client, merchant, jo, price):
    add_payment_method(merchant, jo["id"], "tok_visa")
    coupon = merchant.ok(
        "POST", "/coupons", {"name": "Quarter off", "duration": "forever", "percent_off": 25}
    )
    sub = subscribe(merchant, jo["id"], price["id"], coupon_id=coupon["id"])
    changed = merchant.ok(
        "PATCH",
        f"/subscriptions/{sub['id']}",
        {"items": [{"price_id": price["id"], "quantity": 3}], "proration_behavior": "prorate"},
    )
    invoice = Invoice.get_by_id(changed["latest_invoice_id"])
    text = text_of(page(client, f"{LIST}/{invoice.id}"))
    assert f"Invoice {invoice.number}" in text
    assert "Unused time on Pro plan × 1 Prorated" in text and "-$15.00" in text
    assert "Remaining time on Pro plan × 3 Prorated" in text and "$45.00" in text
    assert "Subtotal $30.00" in text
    assert "Discount (Quarter off) -$7.50" in text
    assert "Total $22.50" in text and "Paid $22.50" in text
    assert "Status Paid" in text and "Amount due $0.00" in text
    assert re.search(r"Paid \w{3} \d{1,2}, \d{4} with Visa ending in 4242", text)


def test_pay_now_pays_a_past_due_invoice_with_a_new_card(client, merchant, signed_in):
    """The dunning path: the card declined, the customer adds a working one and pays."""
    invoice = f"{LIST}/{signed_in.open_invoice}"
    html = page(client, invoice)
    assert "Past due" in text_of(html) and "Pay $15.00" in text_of(html)
    response = submit(client, invoice, f"{invoice}/pay", {"method_id": signed_in.good_card["id"]})
    assert response.status_code == 303 and response.location.endswith(invoice)
    row = Invoice.get_by_id(signed_in.open_invoice)
    assert row.status == "PAID" and row.amount_paid == 1500
    assert Subscription.get_by_id(signed_in.failing_sub["id"]).status == "active"
    after = text_of(page(client, invoice))
    assert "Payment received. Thank you!" in after and "Status Paid" in after
    assert f"{invoice}/pay" not in page(client, invoice)


def test_a_declined_payment_says_so_and_leaves_the_invoice_open(client, signed_in):
    invoice = f"{LIST}/{signed_in.open_invoice}"
    response = submit(client, invoice, f"{invoice}/pay", {"method_id": signed_in.bad_card["id"]})
    assert response.status_code == 402
    assert "Your card was declined. Try another payment method." in text_of(
        response.get_data(as_text=True)
    )
    assert Invoice.get_by_id(signed_in.open_invoice).status == "OPEN"
    assert Charge.select().where(Charge.status == "failed").count() == 2  # at signup, and now


def test_paying_with_htmx_answers_with_the_summary_region(client, signed_in):
    invoice = f"{LIST}/{signed_in.open_invoice}"
    response = submit(
        client, invoice, f"{invoice}/pay", {"method_id": signed_in.good_card["id"]}, headers=HTMX
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<div id="invoice-summary">')
    assert "Payment received. Thank you!" in html and "Paid" in text_of(html)


def test_the_same_pay_form_submitted_twice_charges_once(client, signed_in):
    invoice = f"{LIST}/{signed_in.open_invoice}"
    fields = {
        **form(page(client, invoice), f"{invoice}/pay"),
        "method_id": signed_in.good_card["id"],
    }
    calls = len(get_gateway().charge_calls)
    first = client.post(f"{invoice}/pay", data=fields)
    second = client.post(f"{invoice}/pay", data=fields)
    assert first.status_code == 303 and second.status_code == 303
    assert len(get_gateway().charge_calls) == calls + 1
    charges = Charge.select().where(Charge.invoice == signed_in.open_invoice)
    assert [c.status for c in charges.order_by(Charge.created_at)] == ["failed", "succeeded"]


def test_a_paid_invoice_cannot_be_paid_again(client, signed_in):
    invoice = f"{LIST}/{signed_in.paid_invoice}"
    html = page(client, f"{LIST}/{signed_in.open_invoice}")
    fields = {
        **form(html, f"{LIST}/{signed_in.open_invoice}/pay"),
        "method_id": signed_in.good_card["id"],
    }
    response = client.post(f"{invoice}/pay", data=fields)
    assert response.status_code == 402
    assert "is paid, not open" in response.get_data(as_text=True)
    assert Charge.select().where(Charge.invoice == signed_in.paid_invoice).count() == 1


def test_the_overview_links_each_unpaid_invoice_to_pay_now(client, signed_in):
    home = page(client, "/portal")
    assert f'href="{LIST}/{signed_in.open_invoice}">Pay now' in home
    assert f"{LIST}/{signed_in.paid_invoice}" not in home


def test_a_link_with_destination_context_opens_the_invoice(client, merchant, account):
    url = handoff(merchant, account.id, destination_context=account.open_invoice)["url"]
    response = client.get(url.split("portal.test", 1)[1])
    assert response.status_code == 303 and response.location == f"{LIST}/{account.open_invoice}"
    opened = client.get(response.location)
    assert opened.status_code == 200 and "Pay now" in opened.get_data(as_text=True)
