"""Business billing details: a company name, and tax IDs checked by type (EU VAT, GB VAT,
US EIN, AU ABN with python-stdnum; a loose shape check elsewhere) on every surface that
saves them: the portal page (whole form and inline), the portal JSON PATCH and the merchant
API. A malformed one gets a clear message on the field and nothing is saved; a valid one is
stored compact. The company name and tax ID print on invoices issued afterwards."""

import pytest
from browsing import (
    HTMX,
    csrf_token,
    form,
    page,
    portal_json,
    sign_in_with_handoff,
    submit,
    text_of,
)
from builders import add_payment_method, bearer, make_customer, make_price, subscribe
from pdftext import page_text

from portal.billing import billing_info
from portal.errors import ValidationFailed
from portal.models import Customer, Invoice

PAGE = "/portal/billing-information"
EU = "This is not a valid EU VAT number (for example DE123456789)."
UK = "This is not a valid UK VAT number (for example GB123456789)."
EIN = "This is not a valid US EIN (for example 12-3456789)."
ABN = "This is not a valid Australian Business Number (for example 51 824 753 556)."
OTHER = "Enter 3 to 40 letters, digits, spaces, dots, dashes or slashes."

# (customer's country, as typed, as stored). The numbers pass their checksums.
VALID = [
    ("DE", "DE 123 456 788", "DE123456788"),
    ("DE", "123456788", "DE123456788"),  # the country supplies the prefix
    ("FR", "fr 40-303-265-045", "FR40303265045"),
    ("GR", "094259216", "EL094259216"),  # Greece's VAT prefix is EL
    ("AT", "ATU13585627", "ATU13585627"),
    ("GB", "DE123456788", "DE123456788"),  # the prefix decides over the country
    ("GB", "GB 123 4567 82", "GB123456782"),
    ("GB", "123456782", "GB123456782"),
    ("US", "12-3456789", "123456789"),
    ("US", "12 3456789", "123456789"),
    ("AU", "53 004 085 616", "53004085616"),
    ("CH", "CHE-123.456.789 MWST", "CHE-123.456.789 MWST"),  # not checked: only its shape
    ("MX", "DEL-561231-GR8", "DEL-561231-GR8"),  # a local ID that starts like a VAT number
    (None, "DE123456788", "DE123456788"),  # no country: the prefix decides
    (None, "AB-1234/5", "AB-1234/5"),
]
INVALID = [
    ("DE", "DE123456789", EU),  # checksum
    ("DE", "12345", EU),
    (None, "DE1", EU),
    ("US", "DE123", EU),
    ("FR", "FR123", EU),
    ("GB", "GB123456789", UK),
    ("GB", "12345", UK),
    ("US", "12-345678", EIN),
    ("US", "00-3456789", EIN),  # 00 is no IRS campus
    ("AU", "53 004 085 617", ABN),
    ("AU", "123", ABN),
    ("CH", "ab", OTHER),
    ("CH", "#123456", OTHER),
    (None, "12_345", OTHER),
]
# One valid and one malformed number of each type, for the (slower) surface tests.
SURFACE_VALID = [VALID[0], VALID[6], VALID[8], VALID[10], VALID[11]]
SURFACE_INVALID = [INVALID[0], INVALID[5], INVALID[7], INVALID[9], INVALID[11]]


def ids(cases):
    return [f"{country}-{typed}" for country, typed, _ in cases]


# --- the rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(("country", "typed", "kept"), VALID, ids=ids(VALID))
def test_a_valid_tax_id_is_stored_compact(country, typed, kept):
    assert billing_info.normalize_tax_id(typed, country) == kept


@pytest.mark.parametrize(("country", "typed", "message"), INVALID, ids=ids(INVALID))
def test_a_malformed_tax_id_says_what_is_expected(country, typed, message):
    with pytest.raises(ValidationFailed) as caught:
        billing_info.normalize_tax_id(typed, country)
    assert caught.value.fields == {"tax_id": message}


@pytest.mark.parametrize("empty", ["", "   ", None])
def test_an_empty_tax_id_is_accepted(empty):
    assert not billing_info.normalize_tax_id(empty, "DE")


def test_the_country_in_the_same_change_decides_the_type():
    assert billing_info.clean({"country": "us", "tax_id": "12-3456789"}, "DE") == {
        "country": "US",
        "tax_id": "123456789",
    }
    with pytest.raises(ValidationFailed) as caught:
        billing_info.clean({"tax_id": "12-3456789"}, "DE")
    assert caught.value.fields == {"tax_id": EU}


# --- the portal page -------------------------------------------------------------------------


@pytest.fixture
def jo(client, merchant):
    customer = make_customer(merchant, email="jo@example.com")
    sign_in_with_handoff(client, merchant, customer["id"])
    return customer


def row(customer_id: str) -> tuple:
    return Customer.select().where(Customer.id == customer_id).tuples().get()


def whole_form(client, country, tax_id, **more):
    changes = {"bi-country": country or "", "bi-tax_id": tax_id}
    changes.update({f"bi-{name}": value for name, value in more.items()})
    return submit(client, PAGE, PAGE, changes)


def inline(client, name: str, value: str):
    html = page(client, PAGE)
    data = {**form(html, PAGE), f"bi-{name}": value}
    headers = {**HTMX, "X-CSRFToken": csrf_token(html)}
    return client.post(f"{PAGE}/field/{name}", data=data, headers=headers)


@pytest.mark.parametrize(("country", "typed", "kept"), SURFACE_VALID, ids=ids(SURFACE_VALID))
def test_the_page_stores_a_valid_tax_id_compact(client, jo, country, typed, kept):
    response = whole_form(client, country, typed)
    assert response.status_code == 303, text_of(response.get_data(as_text=True))
    assert Customer.get_by_id(jo["id"]).tax_id == kept
    assert f'value="{kept}"' in page(client, PAGE)


@pytest.mark.parametrize(("country", "typed", "message"), SURFACE_INVALID, ids=ids(SURFACE_INVALID))
def test_the_page_shows_a_malformed_tax_id_on_the_field_and_saves_nothing(
    client, jo, country, typed, message
):
    before = row(jo["id"])
    response = whole_form(client, country, typed, city="Berlin", company_name="Acme GmbH")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'<p class="error" id="bi-tax_id-error">{message}</p>' in html
    assert 'aria-describedby="bi-tax_id-error"' in html
    assert row(jo["id"]) == before  # not even the valid fields beside it


def test_an_inline_tax_id_save_checks_against_the_stored_country(client, merchant):
    customer = make_customer(merchant, personal_address={"country": "US"})
    sign_in_with_handoff(client, merchant, customer["id"])
    before = row(customer["id"])
    refused = inline(client, "tax_id", "DE123").get_data(as_text=True)
    assert EU in refused and "Saved" not in refused
    refused = inline(client, "tax_id", "12-345678").get_data(as_text=True)
    assert EIN in refused and row(customer["id"]) == before
    saved = inline(client, "tax_id", "12-3456789").get_data(as_text=True)
    assert ">Saved</p>" in saved and 'value="123456789"' in saved  # shown as stored
    assert Customer.get_by_id(customer["id"]).tax_id == "123456789"


def test_an_empty_tax_id_clears_it(client, merchant):
    customer = make_customer(merchant, tax_id="DE123456788")
    sign_in_with_handoff(client, merchant, customer["id"])
    assert whole_form(client, "DE", "").status_code == 303
    assert Customer.get_by_id(customer["id"]).tax_id is None


def test_the_page_saves_a_company_name(client, jo):
    html = page(client, PAGE)
    assert '<label for="bi-company_name">Company name</label>' in html
    assert 'autocomplete="organization"' in html
    assert whole_form(client, "DE", "", company_name="  Acme GmbH ").status_code == 303
    assert Customer.get_by_id(jo["id"]).company_name == "Acme GmbH"
    saved = inline(client, "company_name", "Acme AG").get_data(as_text=True)
    assert ">Saved</p>" in saved and Customer.get_by_id(jo["id"]).company_name == "Acme AG"
    assert whole_form(client, "DE", "", company_name="").status_code == 303
    assert Customer.get_by_id(jo["id"]).company_name is None  # optional


def test_a_too_long_company_name_is_refused(client, jo):
    response = whole_form(client, "DE", "", company_name="a" * 201)
    assert response.status_code == 422
    assert "Field cannot be longer than 200 characters." in response.get_data(as_text=True)
    assert Customer.get_by_id(jo["id"]).company_name is None


# --- the portal JSON PATCH -------------------------------------------------------------------


def patch(client, merchant, customer_id, body):
    return portal_json(client, "PATCH", "/billing-information", bearer(merchant, customer_id), body)


@pytest.mark.parametrize(("country", "typed", "kept"), SURFACE_VALID, ids=ids(SURFACE_VALID))
def test_the_json_patch_stores_a_valid_tax_id_compact(client, merchant, country, typed, kept):
    customer = make_customer(merchant)
    body = {"country": country, "tax_id": typed}
    response = patch(client, merchant, customer["id"], body)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["data"]["tax_id"] == kept
    assert Customer.get_by_id(customer["id"]).tax_id == kept


@pytest.mark.parametrize(("country", "typed", "message"), SURFACE_INVALID, ids=ids(SURFACE_INVALID))
def test_the_json_patch_refuses_a_malformed_tax_id(client, merchant, country, typed, message):
    customer = make_customer(merchant)
    before = row(customer["id"])
    body = {"country": country, "tax_id": typed, "company_name": "Acme"}
    response = patch(client, merchant, customer["id"], body)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["fields"] == {"tax_id": message}
    assert row(customer["id"]) == before


def test_the_json_patch_checks_against_the_stored_country(client, merchant):
    customer = make_customer(merchant, personal_address={"country": "AU"})
    refused = patch(client, merchant, customer["id"], {"tax_id": "12-3456789"})
    assert refused.get_json()["error"]["details"]["fields"] == {"tax_id": ABN}
    saved = patch(client, merchant, customer["id"], {"tax_id": "53 004 085 616"})
    assert saved.get_json()["data"]["tax_id"] == "53004085616"


def test_the_json_patch_sets_the_company_name(client, merchant):
    customer = make_customer(merchant)
    response = patch(client, merchant, customer["id"], {"company_name": "Acme Ltd"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["data"]["entity"]["company_name"] == "Acme Ltd"
    refused = patch(client, merchant, customer["id"], {"company_name": "a" * 201})
    assert refused.status_code == 422
    assert Customer.get_by_id(customer["id"]).company_name == "Acme Ltd"


# --- the merchant API ------------------------------------------------------------------------


@pytest.mark.parametrize(("country", "typed", "kept"), SURFACE_VALID, ids=ids(SURFACE_VALID))
def test_the_merchant_api_stores_a_valid_tax_id_compact(merchant, country, typed, kept):
    address = {"country": country} if country else {}
    created = make_customer(merchant, tax_id=typed, personal_address=address)
    assert created["tax_id"] == kept
    plain = make_customer(merchant, personal_address=address)
    updated = merchant.ok("PATCH", f"/customer/{plain['id']}", {"tax_id": typed})
    assert updated["tax_id"] == kept == Customer.get_by_id(plain["id"]).tax_id


@pytest.mark.parametrize(("country", "typed", "message"), SURFACE_INVALID, ids=ids(SURFACE_INVALID))
def test_the_merchant_api_refuses_a_malformed_tax_id(merchant, country, typed, message):
    address = {"country": country} if country else {}
    body = {"first_name": "Jo", "last_name": "Doe", "tax_id": typed, "personal_address": address}
    count = Customer.select().count()
    created = merchant.post("/customer", body)
    assert created.status_code == 422, created.get_json()
    assert created.get_json()["error"]["details"]["fields"] == {"tax_id": message}
    assert Customer.select().count() == count

    existing = make_customer(merchant)
    before = row(existing["id"])
    changed = merchant.patch(
        f"/customer/{existing['id']}",
        {"first_name": "Ada", "tax_id": typed, "personal_address": address},
    )
    assert changed.status_code == 422, changed.get_json()
    assert changed.get_json()["error"]["details"]["fields"] == {"tax_id": message}
    assert row(existing["id"]) == before


def test_the_merchant_api_checks_a_patch_against_the_stored_country(merchant):
    customer = make_customer(merchant, personal_address={"country": "GB"})
    refused = merchant.patch(f"/customer/{customer['id']}", {"tax_id": "12-3456789"})
    assert refused.get_json()["error"]["details"]["fields"] == {"tax_id": UK}
    moved = {"tax_id": "12-3456789", "personal_address": {"country": "US"}}
    assert merchant.ok("PATCH", f"/customer/{customer['id']}", moved)["tax_id"] == "123456789"


def test_the_merchant_api_sets_and_returns_the_company_name(merchant):
    created = make_customer(merchant, company_name=" Acme GmbH ")
    assert created["entity"]["company_name"] == "Acme GmbH"
    path = f"/customer/{created['id']}"
    assert merchant.ok("GET", path)["entity"]["company_name"] == "Acme GmbH"
    assert merchant.ok("PATCH", path, {"company_name": "Acme AG"})["entity"]["company_name"] == (
        "Acme AG"
    )
    assert make_customer(merchant)["entity"]["company_name"] is None
    too_long = merchant.patch(path, {"company_name": "a" * 201})
    assert too_long.status_code == 422
    assert "company_name" in too_long.get_json()["error"]["details"]["fields"]


# --- on invoices -----------------------------------------------------------------------------


def invoice_for(merchant, customer_id: str) -> str:
    add_payment_method(merchant, customer_id, "tok_visa")
    price = make_price(merchant, name="Team plan", unit_amount=4900, currency="EUR")
    return subscribe(merchant, customer_id, price["id"])["latest_invoice_id"]


def test_a_new_invoice_prints_the_company_name_and_tax_id(client, merchant):
    customer = make_customer(merchant, "Ada", "Lovelace", email="ada@example.com")
    sign_in_with_handoff(client, merchant, customer["id"])
    saved = whole_form(
        client, "DE", "de 123 456 788", company_name="Analytical Engines GmbH", city="Berlin"
    )
    assert saved.status_code == 303
    invoice_id = invoice_for(merchant, customer["id"])

    pdf = client.get(f"/portal/invoices/{invoice_id}/pdf")
    assert pdf.status_code == 200
    text = page_text(pdf.data)
    for expected in ("Analytical Engines GmbH", "Ada Lovelace", "Tax ID: DE123456788"):
        assert expected in text, expected
    assert text.index("Analytical Engines GmbH") < text.index("Ada Lovelace")

    html = page(client, f"/portal/invoices/{invoice_id}")
    assert "<strong>Analytical Engines GmbH</strong><br>Ada Lovelace" in html
    assert "Tax ID: DE123456788" in text_of(html)

    wire = merchant.ok("GET", f"/invoices/{invoice_id}")
    assert wire["buyer"]["company_name"] == "Analytical Engines GmbH"
    data = merchant.ok("GET", f"/invoices/{invoice_id}/pdf")
    assert (data["customer"]["company_name"], data["customer"]["tax_id"]) == (
        "Analytical Engines GmbH",
        "DE123456788",
    )


def test_an_invoice_keeps_the_company_name_it_was_issued_with(client, merchant):
    customer = make_customer(merchant, "Ada", "Lovelace", company_name="Old Name Ltd")
    invoice_id = invoice_for(merchant, customer["id"])
    merchant.ok("PATCH", f"/customer/{customer['id']}", {"company_name": "New Name Ltd"})
    sign_in_with_handoff(client, merchant, customer["id"])
    text = page_text(client.get(f"/portal/invoices/{invoice_id}/pdf").data)
    assert "Old Name Ltd" in text and "New Name Ltd" not in text


def test_an_invoice_snapshot_from_before_company_names_still_shows(client, merchant):
    customer = make_customer(merchant, "Ada", "Lovelace", tax_id="DE123456788")
    invoice_id = invoice_for(merchant, customer["id"])
    invoice = Invoice.get_by_id(invoice_id)
    old = {key: value for key, value in invoice.buyer.items() if key != "company_name"}
    Invoice.update(buyer=old).where(Invoice.id == invoice_id).execute()
    sign_in_with_handoff(client, merchant, customer["id"])
    text = page_text(client.get(f"/portal/invoices/{invoice_id}/pdf").data)
    assert "Ada Lovelace" in text and "Tax ID: DE123456788" in text
    html = page(client, f"/portal/invoices/{invoice_id}")
    assert "<strong>Ada Lovelace</strong>" in html
    wire = merchant.ok("GET", f"/invoices/{invoice_id}")
    assert "company_name" not in wire["buyer"] and wire["buyer"]["name"] == "Ada Lovelace"
