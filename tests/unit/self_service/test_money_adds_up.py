"""Money that adds up: over random plans, quantities, coupons and credit, the rows of the
plan-change preview sum to its "Due now", the invoice it makes shows the same amounts (lines,
discount, credit) on its page, in its PDF and in the receipt e-mail, and the invoice list and
the invoice page agree on what was due."""

import random
import re

import pytest
from pdftext import page_text

from portal.db import db
from portal.models import CreditEntry, Invoice, OutboxMessage

MONEY = r"(-?)\$([\d,]+\.\d\d)"


def cents(sign: str, digits: str) -> int:
    value = int(digits.replace(",", "").replace(".", ""))
    return -value if sign else value


def preview_rows(html: str) -> tuple[list[int], int | None]:
    """(the amounts of the preview table's body rows, the amount in its footer)."""
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S).group(1)
    rows = [cents(*m) for m in re.findall(r'class="num">' + MONEY, body)]
    foot = re.search(r"<tfoot>.*?" + MONEY, html, re.S)
    return rows, cents(*foot.groups()) if foot else None


def fact(html: str, term: str) -> int:
    match = re.search(rf"<dt>{term}[^<]*</dt><dd>(?:<strong>)?{MONEY}", html)
    return cents(*match.groups()) if match else 0


def pdf_money(text: str, invoice: Invoice) -> None:
    """The PDF's line amounts sum to its subtotal, and its totals are the invoice's."""
    table = text[text.index("Unit price\nAmount\n") : text.index("Subtotal:")]
    # Each line prints its unit price, then its amount.
    amounts = [cents(*m) for m in re.findall(MONEY, table)][1::2]
    total = {
        label: cents(sign, digits)
        for label, sign, digits in re.findall(r"^([A-Z][a-z ]+):  " + MONEY + "$", text, re.M)
    }
    assert sum(amounts) == total["Subtotal"] == invoice.subtotal
    assert total["Subtotal"] + total.get("Discount", 0) == total["Total"] == invoice.total
    assert total.get("Credit applied", 0) == -invoice.credit_applied
    assert total["Amount paid"] == invoice.amount_paid


def give_credit(shop, amount: int) -> None:
    with db.connection_context():
        CreditEntry.create(
            company=shop.merchant.id,
            customer=shop.customer,
            currency="USD",
            amount=amount,
            kind="subscription_ended",
            description="Test credit",
        )


@pytest.mark.parametrize("seed", range(24))
def test_every_money_screen_adds_up(portal, shop, clock, seed):
    rng = random.Random(seed)
    shop.configure(
        allow_plan_switch=True,
        allow_quantity_updates=True,
        subscription_charge_timing=rng.choice(["immediately", "period_end"]),
        subscription_proration_behavior=rng.choice(["prorate", "full_difference"]),
    )
    body = {
        "identity_id": shop.customer,
        "items": [{"price_id": shop.basic, "quantity": rng.randint(1, 3)}],
    }
    if rng.random() < 0.6:
        body["coupon_id"] = shop.coupon(percent_off=rng.choice([10, 25, 50]), duration="forever")
    sub = shop.merchant.ok("POST", "/subscriptions", body, status=201)["id"]
    if rng.random() < 0.6:
        give_credit(shop, rng.choice([150, 999, 4000, 25000]))

    target = rng.choice([shop.pro, shop.team, shop.basic])
    quantity = rng.randint(1, 4)
    page = portal.preview_page(sub, price_id=target, quantity=quantity)
    if page.status_code != 200:  # the same plan and quantity: nothing to preview
        return
    html = page.get_data(as_text=True)
    rows, footer = preview_rows(html)
    assert sum(rows) == footer, (rows, footer)
    due_now = fact(html, "Due now")
    timing_now = "Added to your next invoice" not in html
    if timing_now:
        assert footer == due_now

    before = {i.id for i in Invoice.select().where(Invoice.subscription == sub)}
    assert portal.submit(page, f"/{sub}/change").status_code == 303
    made = [i for i in Invoice.select().where(Invoice.subscription == sub) if i.id not in before]
    if not timing_now or not made:
        return
    [invoice] = made
    assert invoice.amount_due == due_now
    detail = portal.get(f"/portal/invoices/{invoice.id}").get_data(as_text=True)
    lines = re.search(r'aria-labelledby="lines-title".*?<tbody>(.*?)</tbody>', detail, re.S)
    line_amounts = [
        cents(*m) for m in re.findall(r'data-label="Amount" class="num">' + MONEY, lines.group(1))
    ]
    subtotal = fact(detail, "Subtotal")
    assert sum(line_amounts) == subtotal == invoice.subtotal
    discount, credit = -abs(fact(detail, "Discount")), -abs(fact(detail, "Credit applied"))
    assert subtotal + discount == fact(detail, "Total") == invoice.total
    assert invoice.total + credit == invoice.amount_due or invoice.total < 0
    pdf_money(page_text(portal.get(f"/portal/invoices/{invoice.id}/pdf").data), invoice)
    receipt = OutboxMessage.get_or_none(OutboxMessage.dedupe_key == f"receipt:{invoice.id}")
    if invoice.status == "PAID" and invoice.amount_paid > 0:
        sign, digits = re.search(
            f"Invoice {re.escape(invoice.number)}: {MONEY} paid", receipt.text_body
        ).groups()
        assert cents(sign, digits) == invoice.amount_paid
    listed = portal.get("/portal/invoices").get_data(as_text=True)
    row = re.search(
        rf"{re.escape(invoice.number)}</a></td>.*?class=\"num\">{MONEY}( credit)?", listed, re.S
    )
    sign, digits, is_credit = row.groups()
    if invoice.total < 0:  # a credit note: the credit, never a negative amount marked Paid
        assert (is_credit, cents(sign, digits)) == (" credit", -invoice.total)
        assert "Credit note" in listed
    else:
        assert cents(sign, digits) == invoice.amount_due
