"""Payment methods in the portal: add a card or bank account (with field-level errors and
no card data echoed back), make one the default, remove one; plain forms and htmx."""

import re
from datetime import timedelta

import pytest
from portalkit import (
    HTMX,
    add_method,
    form,
    forms_of,
    make_customer,
    page,
    patch_config,
    sign_in,
    submit,
    subscribe,
    text_of,
)

from portal.models import Invoice, PaymentMethod, utcnow

PAGE = "/portal/payment-methods"
CARD = "/portal/payment-methods/card"
BANK = "/portal/payment-methods/bank-account"
GOOD_CARD = {
    "card-number": "4242 4242 4242 4242",
    "card-expiry": "12/39",
    "card-cvc": "737",
    "card-name": "Jo Doe",
    "card-postal_code": "10115",
}
BANK_ACCOUNT = {
    "bank-holder": "Jo Doe",
    "bank-routing_number": "110000000",
    "bank-account_number": "000123456789",
    "bank-account_type": "SAVINGS",
}
DEFAULT_MASTERCARD = re.compile(r"Mastercard ending in 4444 · expires \d\d/\d{4} Default")


def methods_of(customer_id: str) -> list[PaymentMethod]:
    return list(PaymentMethod.select().where(PaymentMethod.customer == customer_id))


@pytest.fixture
def jo(client, merchant):
    """A signed-in customer with no payment method and no subscription."""
    customer = make_customer(merchant, email="jo@example.com")
    sign_in(client, merchant, customer["id"])
    return customer


def test_adding_a_card_redirects_and_lists_it(client, jo):
    response = submit(client, PAGE, CARD, GOOD_CARD)
    assert response.status_code == 303 and response.location.endswith(PAGE)
    html = page(client, PAGE)
    assert "Card ending in 4242 added." in text_of(html)
    assert "Visa ending in 4242 · expires 12/2039" in text_of(html)
    [method] = methods_of(jo["id"])
    assert method.is_default and method.name == "Jo Doe" and method.expiration_year == 2039


CARD_ERRORS = [
    ({"card-number": "4242 4242 4242 4241"}, "card-number", "Your card number is not valid."),
    ({"card-number": "4242"}, "card-number", "Your card number is not valid."),
    ({"card-expiry": "01/20"}, "card-expiry", "Your card has expired."),
    ({"card-expiry": "13/30"}, "card-expiry", "Use the format MM/YY."),
    ({"card-number": "4000000000000002"}, "card-number", "Your card was declined."),
    ({"card-cvc": "12"}, "card-cvc", "Use 3 or 4 digits."),
    ({"card-number": ""}, "card-number", "Enter your card number."),
    ({"card-name": ""}, "card-name", "Enter the name on the card."),
]


@pytest.mark.parametrize(("changes", "field", "message"), CARD_ERRORS)
def test_a_bad_card_gets_a_field_error_and_no_echo(client, jo, changes, field, message):
    data = {**GOOD_CARD, **changes}
    response = submit(client, PAGE, CARD, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" in html
    assert f'<p class="error" id="{field}-error">{message}</p>' in html
    assert f'id="{field}"' in html and 'aria-invalid="true"' in html
    for secret in {data["card-number"], data["card-number"].replace(" ", ""), data["card-cvc"]}:
        if len(secret) >= 3:
            assert f'value="{secret}"' not in html and secret not in text_of(html)
    assert methods_of(jo["id"]) == []


@pytest.mark.parametrize(("changes", "field", "message"), CARD_ERRORS[:5])
def test_with_htmx_a_bad_card_answers_with_the_region_only(client, jo, changes, field, message):
    data = {**GOOD_CARD, **changes}
    response = submit(client, PAGE, CARD, data, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and html.lstrip().startswith('<div id="methods"')
    assert message in html and data["card-cvc"] not in html
    assert data["card-number"].replace(" ", "") not in html.replace(" ", "")


def test_with_htmx_an_added_card_answers_with_the_updated_region(client, jo):
    response = submit(client, PAGE, CARD, GOOD_CARD, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert "Card ending in 4242 added." in html and "Visa ending in 4242" in html
    assert "4242 4242 4242 4242" not in html and "737" not in html


def test_adding_a_bank_account_masks_the_number_and_keeps_the_account_type(client, merchant, jo):
    patch_config(merchant, accepted_payment_methods=["card", "bank_account"])
    response = submit(client, PAGE, BANK, BANK_ACCOUNT)
    assert response.status_code == 303
    html = page(client, PAGE)
    assert "Test Bank ••••6789" in text_of(html)
    assert "000123456789" not in html and "123456789" not in html.replace("110000000", "")
    [method] = methods_of(jo["id"])
    assert method.type == "BANK_ACCOUNT" and method.account_type == "SAVINGS"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"bank-routing_number": "12345"}, "bank-routing_number", "A routing number has 9 digits."),
        (
            {"bank-account_number": "12"},
            "bank-account_number",
            "An account number has 4 to 17 digits.",
        ),
        ({"bank-holder": ""}, "bank-holder", "Enter the account holder&#39;s name."),
    ],
)
def test_a_bad_bank_account_gets_a_field_error(client, merchant, jo, changes, field, message):
    patch_config(merchant, accepted_payment_methods=["bank_account"])
    response = submit(client, PAGE, BANK, {**BANK_ACCOUNT, **changes})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'<p class="error" id="{field}-error">{message}</p>' in html
    assert "000123456789" not in html
    assert methods_of(jo["id"]) == []


def test_make_default_moves_the_badge(client, merchant, jo):
    first = add_method(merchant, jo["id"], "tok_visa")
    second = add_method(merchant, jo["id"], "tok_mastercard")
    action = f"{PAGE}/{second['id']}/default"
    response = submit(client, PAGE, action)
    assert response.status_code == 303
    assert PaymentMethod.get_by_id(second["id"]).is_default
    assert not PaymentMethod.get_by_id(first["id"]).is_default
    html = page(client, PAGE)
    assert DEFAULT_MASTERCARD.search(text_of(html))
    assert "is now your default" in html


def test_make_default_with_htmx_answers_with_the_region(client, merchant, jo):
    add_method(merchant, jo["id"], "tok_visa")
    second = add_method(merchant, jo["id"], "tok_mastercard")
    response = submit(client, PAGE, f"{PAGE}/{second['id']}/default", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert DEFAULT_MASTERCARD.search(text_of(html))


def test_remove_deletes_the_method(client, merchant, jo):
    keep = add_method(merchant, jo["id"], "tok_visa")
    drop = add_method(merchant, jo["id"], "tok_mastercard")
    response = submit(client, PAGE, f"{PAGE}/{drop['id']}/remove")
    assert response.status_code == 303
    assert [m.id for m in methods_of(jo["id"])] == [keep["id"]]
    assert "Mastercard" not in text_of(page(client, PAGE)).replace("was removed", "")


def test_the_only_method_of_an_active_subscription_cannot_be_removed(client, merchant, jo, price):
    card = add_method(merchant, jo["id"], "tok_visa")
    assert subscribe(merchant, jo["id"], price["id"])["status"] == "active"
    response = submit(client, PAGE, f"{PAGE}/{card['id']}/remove")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "only payment method for an active subscription" in html and 'role="alert"' in html
    assert [m.id for m in methods_of(jo["id"])] == [card["id"]]


def test_the_same_form_submitted_twice_adds_one_card(client, jo):
    fields = {**form(page(client, PAGE), CARD), **GOOD_CARD}
    first = client.post(CARD, data=fields)
    second = client.post(CARD, data=fields)
    assert first.status_code == 303 and second.status_code == 303
    assert len(methods_of(jo["id"])) == 1


def test_the_same_remove_form_submitted_twice_is_harmless(client, merchant, jo):
    add_method(merchant, jo["id"], "tok_visa")
    drop = add_method(merchant, jo["id"], "tok_mastercard")
    action = f"{PAGE}/{drop['id']}/remove"
    fields = form(page(client, PAGE), action)
    assert client.post(action, data=fields).status_code == 303
    assert client.post(action, data=fields).status_code == 404
    assert len(methods_of(jo["id"])) == 1


def test_a_past_due_invoice_can_be_paid_with_a_listed_method(client, signed_in):
    html = page(client, PAGE)
    action = f"/portal/invoices/{signed_in.open_invoice}/pay"
    forms = [f for f in forms_of(html) if f["action"] == action]
    good = next(f["fields"] for f in forms if f["fields"]["method_id"] == signed_in.good_card["id"])
    response = client.post(action, data=good)
    assert response.status_code == 303
    assert Invoice.get_by_id(signed_in.open_invoice).status == "PAID"


def test_an_overdue_invoice_also_offers_pay_with_this_method(client, merchant, signed_in):
    """Past due is a failed payment or a passed due date (as on the invoice pages)."""
    Invoice.update(payment_failed=False, due_date=utcnow() - timedelta(days=1)).where(
        Invoice.id == signed_in.open_invoice
    ).execute()
    assert "Past due" in text_of(page(client, f"/portal/invoices/{signed_in.open_invoice}"))
    action = f"/portal/invoices/{signed_in.open_invoice}/pay"
    assert [f for f in forms_of(page(client, PAGE)) if f["action"] == action]
    Invoice.update(due_date=utcnow() + timedelta(days=1)).where(
        Invoice.id == signed_in.open_invoice
    ).execute()
    assert not [f for f in forms_of(page(client, PAGE)) if f["action"] == action]


def test_a_method_that_paid_an_invoice_can_be_removed(client, merchant, signed_in):
    paid = Invoice.get_by_id(signed_in.paid_invoice)
    assert paid.payment_method_id == signed_in.good_card["id"]
    action = f"{PAGE}/{signed_in.good_card['id']}/remove"
    assert submit(client, PAGE, action).status_code == 303
    text = text_of(page(client, f"/portal/invoices/{paid.id}"))
    assert "Status Paid" in text and "with Visa ending in 4242" not in text
