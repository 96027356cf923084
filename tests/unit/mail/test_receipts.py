"""Receipts: paying an invoice queues one e-mail receipt with the invoice PDF attached,
through the outbox; a declined payment or receipts turned off send none."""

import pytest
from browsing import form, page, submit
from builders import patch_config
from pdftext import page_text

from portal.mail.transport import build_message
from portal.models import Company, OutboxMessage

# The receipts of the payments these tests make stay in the outbox, where tests read them.
pytestmark = pytest.mark.usefixtures("queued_mail")


def receipts(account) -> list[OutboxMessage]:
    """Receipts for the account's open invoice (its paid one already had its receipt)."""
    key = f"receipt:{account.open_invoice}"
    return list(OutboxMessage.select().where(OutboxMessage.dedupe_key == key))


def test_the_first_payment_of_a_subscription_has_its_receipt(signed_in):
    key = f"receipt:{signed_in.paid_invoice}"
    assert OutboxMessage.select().where(OutboxMessage.dedupe_key == key).count() == 1


def pay(client, account, card):
    invoice = f"/portal/invoices/{account.open_invoice}"
    return submit(client, invoice, f"{invoice}/pay", {"method_id": card["id"]})


def test_paying_an_invoice_queues_a_receipt_with_its_pdf(client, merchant, signed_in):
    assert receipts(signed_in) == []
    assert pay(client, signed_in, signed_in.good_card).status_code in (200, 303)
    [receipt] = receipts(signed_in)
    assert receipt.to_address == "jo@example.com"
    assert receipt.subject.startswith("Your receipt from Acme Cloud: invoice ")
    assert "$15.00 paid" in receipt.text_body and "$15.00" in receipt.html_body
    with client.application.app_context():  # as in the delivery worker
        email = build_message(receipt, Company.get_by_id(merchant.id), "billing@localhost")
    [attached] = list(email.iter_attachments())
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_filename().startswith("invoice-")
    assert receipt.subject.split("invoice ")[1] in page_text(attached.get_content())


def test_the_same_pay_form_twice_sends_one_receipt(client, signed_in):
    invoice = f"/portal/invoices/{signed_in.open_invoice}"
    fields = {
        **form(page(client, invoice), f"{invoice}/pay"),
        "method_id": signed_in.good_card["id"],
    }
    client.post(f"{invoice}/pay", data=fields)
    client.post(f"{invoice}/pay", data=fields)
    assert len(receipts(signed_in)) == 1


def test_a_declined_payment_sends_no_receipt(client, signed_in):
    pay(client, signed_in, signed_in.bad_card)
    assert receipts(signed_in) == []


def test_the_merchant_can_turn_receipts_off(client, merchant, signed_in):
    patch_config(merchant, receipt_emails_enabled=False)
    pay(client, signed_in, signed_in.good_card)
    assert receipts(signed_in) == []
