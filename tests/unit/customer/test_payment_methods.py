"""Payment methods in the portal: add a card or bank account (with field-level errors and
no card data echoed back, and never the same one twice), make one the default, remove one
after confirming; plain forms and htmx."""

import re
from datetime import timedelta

import pytest
from browsing import (
    HTMX,
    form,
    forms_of,
    has_form,
    page,
    portal_json,
    sign_in_with_handoff,
    submit,
    text_of,
)
from builders import add_payment_method, bearer, make_customer, patch_config, subscribe
from portalkit import snapshot

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


def remove_path(method_id: str) -> str:
    """The confirmation page (GET) and the removal itself (POST) share this address."""
    return f"{PAGE}/{method_id}/remove"


def confirm_and_remove(client, method_id: str, **kwargs):
    """What a person does: open the confirmation, then press its Remove button."""
    return submit(client, remove_path(method_id), remove_path(method_id), **kwargs)


@pytest.fixture
def jo(client, merchant):
    """A signed-in customer with no payment method and no subscription."""
    customer = make_customer(merchant, email="jo@example.com")
    sign_in_with_handoff(client, merchant, customer["id"])
    return customer


def row_of(html: str, method_id: str) -> str:
    """The text of one saved method's row on the page."""
    match = re.search(
        rf'<div class="method" id="method-{method_id}">(.*?)</div>\s*</div>', html, re.S
    )
    return text_of(match.group(1))


def test_adding_a_card_redirects_to_its_row_with_the_message_there(client, jo):
    response = submit(client, PAGE, CARD, GOOD_CARD)
    [card] = methods_of(jo["id"])
    assert response.status_code == 303
    assert response.location.endswith(f"{PAGE}?done=method-{card.id}#method-{card.id}")
    html = client.get(response.location).get_data(as_text=True)
    assert "Card ending in 4242 added." in row_of(html, card.id)
    assert "Card ending in 4242 added." in text_of(
        re.search(r'<div id="flash".*?</div>', html, re.S).group(0)
    )
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
    first = add_payment_method(merchant, jo["id"], "tok_visa")
    second = add_payment_method(merchant, jo["id"], "tok_mastercard")
    action = f"{PAGE}/{second['id']}/default"
    response = submit(client, PAGE, action)
    assert response.status_code == 303
    assert PaymentMethod.get_by_id(second["id"]).is_default
    assert not PaymentMethod.get_by_id(first["id"]).is_default
    html = page(client, PAGE)
    assert DEFAULT_MASTERCARD.search(text_of(html))
    assert "is now your default" in html


def test_make_default_with_htmx_answers_with_the_region(client, merchant, jo):
    add_payment_method(merchant, jo["id"], "tok_visa")
    second = add_payment_method(merchant, jo["id"], "tok_mastercard")
    response = submit(client, PAGE, f"{PAGE}/{second['id']}/default", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert DEFAULT_MASTERCARD.search(text_of(html))
    # The message is in the live region (out of band) and beside the button that was used.
    assert "is now your default" in row_of(html, second["id"])
    assert 'id="flash"' in html and 'hx-swap-oob="innerHTML"' in html


def test_the_message_beside_a_row_is_only_for_the_row_acted_on(client, merchant, jo):
    first = add_payment_method(merchant, jo["id"], "tok_visa")
    second = add_payment_method(merchant, jo["id"], "tok_mastercard")
    response = submit(client, PAGE, f"{PAGE}/{second['id']}/default")
    html = client.get(response.location).get_data(as_text=True)
    assert "is now your default" in row_of(html, second["id"])
    assert "is now your default" not in row_of(html, first["id"])
    # A forged ?done= shows no message anywhere but where one was flashed: nowhere.
    again = page(client, f"{PAGE}?done=method-{first['id']}")
    assert "is now your default" not in again


def test_remove_deletes_the_method(client, merchant, jo):
    keep = add_payment_method(merchant, jo["id"], "tok_visa")
    drop = add_payment_method(merchant, jo["id"], "tok_mastercard")
    response = confirm_and_remove(client, drop["id"])
    assert response.status_code == 303 and response.location.endswith(PAGE)
    assert [m.id for m in methods_of(jo["id"])] == [keep["id"]]
    assert "Mastercard" not in text_of(page(client, PAGE)).replace("was removed", "")


def test_the_only_method_of_an_active_subscription_cannot_be_removed(client, merchant, jo, price):
    card = add_payment_method(merchant, jo["id"], "tok_visa")
    assert subscribe(merchant, jo["id"], price["id"])["status"] == "active"
    response = confirm_and_remove(client, card["id"])
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
    add_payment_method(merchant, jo["id"], "tok_visa")
    drop = add_payment_method(merchant, jo["id"], "tok_mastercard")
    action = remove_path(drop["id"])
    fields = form(page(client, action), action)
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
    assert confirm_and_remove(client, signed_in.good_card["id"]).status_code == 303
    text = text_of(page(client, f"/portal/invoices/{paid.id}"))
    assert "Status Paid" in text and "with Visa ending in 4242" not in text


# --- the same card or bank account is saved once ------------------------------------------------

ALREADY_SAVED_CARD = '<p class="error" id="card-number-error">This card is already saved.</p>'


def test_the_same_card_added_again_is_refused_on_its_number(client, jo):
    assert submit(client, PAGE, CARD, GOOD_CARD).status_code == 303
    response = submit(client, PAGE, CARD, GOOD_CARD)  # a fresh form: another nonce
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" in html
    assert ALREADY_SAVED_CARD in html
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="card-number"', html)
    assert "4242 4242 4242 4242" not in html and 'value="737"' not in html
    assert len(methods_of(jo["id"])) == 1


def test_with_htmx_the_same_card_again_answers_the_region_with_the_refusal(client, jo):
    submit(client, PAGE, CARD, GOOD_CARD, headers=HTMX)
    response = submit(client, PAGE, CARD, GOOD_CARD, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<div id="methods"')
    assert ALREADY_SAVED_CARD in html and "4242 4242 4242 4242" not in html
    assert len(methods_of(jo["id"])) == 1


def test_the_same_card_tokenized_twice_by_the_browser_is_saved_once(client, jo):
    card = {"type": "card", "number": "4242 4242 4242 4242", "expiry": "12/39", "cvc": "737"}

    def token():
        response = client.post("/sandbox-gateway/tokens", json=card)
        assert response.status_code == 201
        return response.get_json()["token"]

    posted = {"card-number": "", "card-cvc": "", "card-expiry": "", "card-name": "Jo"}
    first = submit(client, PAGE, CARD, {**posted, "card-token": token()})
    second = submit(client, PAGE, CARD, {**posted, "card-token": token()})
    assert first.status_code == 303 and second.status_code == 422
    assert ALREADY_SAVED_CARD in second.get_data(as_text=True)
    assert len(methods_of(jo["id"])) == 1


def test_another_card_is_still_added_beside_a_saved_one(client, jo):
    submit(client, PAGE, CARD, GOOD_CARD)
    other = {**GOOD_CARD, "card-number": "5555 5555 5555 4444"}
    assert submit(client, PAGE, CARD, other).status_code == 303
    assert sorted(m.last_four for m in methods_of(jo["id"])) == ["4242", "4444"]


def test_the_same_bank_account_added_again_is_refused_on_its_number(client, merchant, jo):
    patch_config(merchant, accepted_payment_methods=["card", "bank_account"])
    assert submit(client, PAGE, BANK, BANK_ACCOUNT).status_code == 303
    response = submit(client, PAGE, BANK, BANK_ACCOUNT)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    message = "This bank account is already saved."
    assert f'<p class="error" id="bank-account_number-error">{message}</p>' in html
    assert "000123456789" not in html
    assert len(methods_of(jo["id"])) == 1


def test_a_removed_card_can_be_added_again(client, jo):
    submit(client, PAGE, CARD, GOOD_CARD)
    [old] = methods_of(jo["id"])
    assert confirm_and_remove(client, old.id).status_code == 303
    assert submit(client, PAGE, CARD, GOOD_CARD).status_code == 303
    [again] = methods_of(jo["id"])
    assert again.id != old.id and again.is_default


def test_the_portal_json_route_refuses_a_saved_card(client, merchant, jo):
    auth = bearer(merchant, jo["id"])
    body = {"type": "PAYMENT_CARD", "token": "tok_visa"}
    assert portal_json(client, "POST", "/payment-methods", auth, body).status_code == 201
    response = portal_json(client, "POST", "/payment-methods", auth, body)
    assert response.status_code == 422
    fields = response.get_json()["error"]["details"]["fields"]
    assert fields == {"tokenId": "This card is already saved."}
    assert len(methods_of(jo["id"])) == 1


# --- removing asks first -----------------------------------------------------------------------


@pytest.fixture
def two_cards(merchant, jo):
    """Jo's Visa (the default) and Mastercard."""
    return add_payment_method(merchant, jo["id"], "tok_visa"), add_payment_method(
        merchant, jo["id"], "tok_mastercard"
    )


def test_remove_on_the_page_is_a_link_to_the_confirmation(client, two_cards):
    html = page(client, PAGE)
    for method in two_cards:
        path = remove_path(method["id"])
        assert not has_form(html, path)  # nothing on this page removes anything
        assert re.search(rf'<a [^>]*href="{path}"[^>]*hx-get="{path}"', html)
    assert "Remove method ending in 4444" in text_of(html)


def test_the_confirmation_names_the_method_and_changes_nothing(client, two_cards):
    visa, mastercard = two_cards
    before = snapshot()
    html = page(client, remove_path(mastercard["id"]))
    with_htmx = client.get(remove_path(mastercard["id"]), headers=HTMX)
    assert with_htmx.status_code == 200 and snapshot() == before
    text = text_of(html)
    assert "<html" in html and re.search(
        r"Remove Mastercard ending in 4444 · expires \d\d/\d{4}\?", text
    )
    assert "Visa" not in text and "default payment method" not in text
    fields = form(html, remove_path(mastercard["id"]))
    assert fields["csrf_token"] and fields["form_nonce"]
    assert re.search(r'<button type="submit" class="button small danger">Remove', html)
    assert re.search(rf'<a [^>]*href="{PAGE}"[^>]*>Keep it</a>', html)
    assert "hx-post" not in html.split("<main", 1)[1]  # the page is a plain form
    assert "It is your default payment method." in text_of(page(client, remove_path(visa["id"])))


def test_confirming_removes_and_keeping_it_does_not(client, jo, two_cards):
    visa, mastercard = two_cards
    kept = client.get(PAGE)  # "Keep it" without JavaScript: just the page again
    assert kept.status_code == 200 and len(methods_of(jo["id"])) == 2
    response = confirm_and_remove(client, mastercard["id"])
    assert response.status_code == 303 and response.location.endswith(PAGE)
    assert [m.id for m in methods_of(jo["id"])] == [visa["id"]]
    assert "The method ending in 4444 was removed." in text_of(page(client, PAGE))


def test_with_htmx_the_confirmation_replaces_the_row_and_takes_the_focus(client, jo, two_cards):
    _, mastercard = two_cards
    path = remove_path(mastercard["id"])
    response = client.get(path, headers=HTMX)
    html = response.get_data(as_text=True)
    assert "HX-Request" in response.headers["Vary"] and "<html" not in html
    assert html.lstrip().startswith(f'<div class="method confirm" id="method-{mastercard["id"]}"')
    assert 'role="group"' in html and re.search(
        r'<p id="[^"]+-question" tabindex="-1" autofocus>', html
    )
    assert re.search(rf'<form [^>]*hx-post="{path}" hx-target="#methods" hx-swap="outerHTML"', html)
    # The row it replaces carries the same id, so the swap lands in place.
    assert f'<div class="method" id="method-{mastercard["id"]}">' in page(client, PAGE)
    removed = client.post(path, data=form(html, path), headers=HTMX)
    region = removed.get_data(as_text=True)
    assert removed.status_code == 200 and region.lstrip().startswith('<div id="methods"')
    assert "The method ending in 4444 was removed." in region and "Mastercard" not in region
    assert len(methods_of(jo["id"])) == 1


def test_with_htmx_keep_it_brings_the_row_back_with_the_focus_on_its_link(client, jo, two_cards):
    _, mastercard = two_cards
    html = client.get(remove_path(mastercard["id"]), headers=HTMX).get_data(as_text=True)
    keep = re.search(r'<a [^>]*hx-get="([^"]+)"[^>]*>Keep it</a>', html).group(1)
    assert keep == f"{PAGE}?kept={mastercard['id']}"
    response = client.get(keep, headers=HTMX)
    region = response.get_data(as_text=True)
    assert "HX-Request" in response.headers["Vary"]
    assert region.lstrip().startswith('<div id="methods"') and "<html" not in region
    links = re.findall(r'<a [^>]*href="([^"]+/remove)"[^>]*>', region)
    focused = re.findall(r'<a [^>]*href="([^"]+/remove)"[^>]*autofocus', region)
    assert len(links) == 2 and focused == [remove_path(mastercard["id"])]
    assert len(methods_of(jo["id"])) == 2


def test_another_customers_method_has_no_confirmation(client, merchant, jo):
    other = make_customer(merchant, first_name="Sam", email="sam@example.com")
    theirs = add_payment_method(merchant, other["id"], "tok_visa")
    before = snapshot()
    for path in (remove_path(theirs["id"]), remove_path("no-such-method")):
        assert client.get(path).status_code == 404
        assert client.get(path, headers=HTMX).status_code == 404
    assert snapshot() == before


def test_the_confirmation_is_gone_with_the_section(client, merchant, two_cards):
    patch_config(merchant, payment_methods_enabled=False)
    assert client.get(remove_path(two_cards[1]["id"])).status_code == 404
