"""Bad input on the pages and the access routes is a clear 4xx that changes nothing: NUL
characters (which PostgreSQL cannot store), a null country, free text as a destination, and
the first read of a new company's config from several requests at once."""

import threading

import pytest
from browsing import form, page, portal_json
from builders import bearer
from portalkit import snapshot

from portal.models import PortalConfig

NUL = "a\x00b"


@pytest.mark.parametrize(
    ("page_path", "action", "field"),
    [
        ("/portal/billing-information", "/portal/billing-information", "bi-city"),
        ("/portal/billing-information", "/portal/billing-information/email", "em-email"),
        ("/portal/payment-methods", "/portal/payment-methods/card", "name"),
    ],
)
def test_a_nul_in_a_portal_form_is_a_400_that_changes_nothing(
    client, signed_in, page_path, action, field
):
    data = {**form(page(client, page_path), action), field: NUL}
    before = snapshot()
    response = client.post(action, data=data)
    assert response.status_code == 400
    assert "NUL character" in response.get_data(as_text=True)
    assert snapshot() == before


@pytest.mark.parametrize(
    "path", ["/portal/invoices?page=1%00", "/portal/invoices/ab%00cd", "/p/x%00y"]
)
def test_a_nul_in_a_page_address_is_refused(client, signed_in, path):
    assert client.get(path).status_code in (400, 404)


def test_a_nul_in_the_sign_in_form_is_a_400(client, merchant):
    html = page(client, f"/p/{merchant.id}")
    data = {**form(html, ""), "email": "jo\x00@example.com"}
    assert client.post(f"/p/{merchant.id}", data=data).status_code == 400


def test_a_null_country_clears_it_instead_of_failing(client, merchant, signed_in):
    auth = bearer(merchant, signed_in.id)
    set_fr = portal_json(client, "PATCH", "/billing-information", auth, {"country": "fr"})
    assert set_fr.status_code == 200
    cleared = portal_json(client, "PATCH", "/billing-information", auth, {"country": None})
    assert cleared.status_code == 200, cleared.get_json()
    assert cleared.get_json()["data"]["entity"]["personal_address"]["country"] in (None, "")


@pytest.mark.parametrize("context", ["/evil", "inv\r\nSet-Cookie: x=1", "../../merchant", "x" * 65])
def test_destination_context_must_be_an_invoice_of_that_customer(merchant, signed_in, context):
    for path, body in (
        ("/customer-portal/access/handoff", {"customer_id": signed_in.id}),
        (
            "/customer-portal/access/request-link",
            {"company_id": merchant.id, "email": "jo@example.com"},
        ),
    ):
        response = merchant.call("POST", path, {**body, "destination_context": context})
        assert response.status_code == 422, (path, response.get_json())
        assert "destination_context" in response.get_json()["error"]["details"]["fields"]


def test_a_handoff_to_another_customers_invoice_is_a_422(merchant, signed_in):
    other = merchant.ok(
        "POST", "/customer", {"first_name": "Sam", "last_name": "Roe", "email": "s@example.com"}
    )
    response = merchant.call(
        "POST",
        "/customer-portal/access/handoff",
        {"customer_id": other["id"], "destination_context": signed_in.open_invoice},
    )
    assert response.status_code == 422
    mine = merchant.call(
        "POST",
        "/customer-portal/access/handoff",
        {"customer_id": signed_in.id, "destination_context": signed_in.open_invoice},
    )
    assert mine.status_code == 201


def test_concurrent_first_reads_of_a_new_companys_config_all_work(app, merchant):
    PortalConfig.delete().where(PortalConfig.company == merchant.id).execute()
    count = 6
    barrier = threading.Barrier(count)
    answers = [None] * count

    def read(index):
        client = app.test_client()
        barrier.wait()
        response = client.get(
            "/v1/api/customer-portal-config", headers={"x-easy-api-key": merchant.secret}
        )
        answers[index] = (response.status_code, response.get_json()["data"])

    threads = [threading.Thread(target=read, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [status for status, _ in answers] == [200] * count
    assert all(data == answers[0][1] for _, data in answers)
    # Reading wrote nothing; the first change stores the row.
    assert PortalConfig.select().where(PortalConfig.company == merchant.id).count() == 0
    merchant.ok("PATCH", "/customer-portal-config", {"allow_plan_switch": True})
    assert PortalConfig.get(PortalConfig.company == merchant.id).settings["allow_plan_switch"]


# Unicode digits: '²' passes str.isdigit() but int() refuses it; '٣' (Arabic-Indic) int() reads.
UNICODE_DIGITS = ("4242 4242 4242 424²", "٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢")


@pytest.mark.parametrize("number", UNICODE_DIGITS)
def test_unicode_digits_in_a_card_number_are_refused_with_a_message(client, signed_in, number):
    fields = {
        **form(page(client, "/portal/payment-methods"), "/portal/payment-methods/card"),
        "card-number": number,
        "card-expiry": "12/39",
        "card-cvc": "123",
        "card-name": "Jo",
    }
    before = snapshot()
    response = client.post("/portal/payment-methods/card", data=fields)
    assert response.status_code == 422
    assert "Your card number is not valid." in response.get_data(as_text=True)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("card-cvc", "12³", "Use 3 or 4 digits."),
        ("card-cvc", "١٢٣", "Use 3 or 4 digits."),
        ("card-expiry", "12/٣٩", "Use the format MM/YY."),
    ],
)
def test_unicode_digits_in_card_fields_are_refused(client, signed_in, field, value, message):
    fields = {
        **form(page(client, "/portal/payment-methods"), "/portal/payment-methods/card"),
        "card-number": "4242424242424242",
        "card-expiry": "12/39",
        "card-cvc": "123",
        "card-name": "Jo",
        field: value,
    }
    response = client.post("/portal/payment-methods/card", data=fields)
    assert response.status_code == 422 and message in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("field", "value"), [("bank-routing_number", "11000000²"), ("bank-account_number", "١٢٣٤٥")]
)
def test_unicode_digits_in_bank_fields_are_refused(client, merchant, signed_in, field, value):
    merchant.ok(
        "PATCH", "/customer-portal-config", {"accepted_payment_methods": ["card", "bank_account"]}
    )
    action = "/portal/payment-methods/bank-account"
    fields = {
        **form(page(client, "/portal/payment-methods"), action),
        "bank-holder": "Jo",
        "bank-routing_number": "110000000",
        "bank-account_number": "000123456789",
        field: value,
    }
    before = snapshot()
    response = client.post(action, data=fields)
    assert response.status_code == 422 and snapshot() == before


@pytest.mark.parametrize("value", ["²", "٣", "1²"])
def test_unicode_digits_in_page_numbers_and_quantities_are_bad_input(
    client, merchant, signed_in, value
):
    merchant.ok("PATCH", "/customer-portal-config", {"allow_quantity_updates": True})
    assert client.get(f"/portal/invoices?page={value}").status_code == 200
    sub = signed_in.paid_sub["id"]
    path = f"/portal/subscriptions/{sub}/change/preview?quantity={value}"
    response = client.get(path, follow_redirects=True)
    assert response.status_code == 200 and response.request.path.endswith("/change")
    assert "Enter the quantity as a whole number." in response.get_data(as_text=True)
