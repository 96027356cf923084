"""Billing information: the whole form (PRG), one field at a time with htmx, validation that
saves nothing, the optimistic lock, the confirmed email change and the Bearer JSON PATCH."""

import re

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
from builders import bearer, make_customer

from portal.models import Customer, EmailChange, OutboxMessage

PAGE = "/portal/billing-information"
EMAIL = "/portal/billing-information/email"
DETAILS = {
    "bi-first_name": "Ada",
    "bi-last_name": "Lovelace",
    "bi-phone": "+44 20 7946 0958",
    "bi-address_line1": "12 St James's Square",
    "bi-address_line2": "Flat 2",
    "bi-city": "London",
    "bi-region": "Greater London",
    "bi-postal_code": "SW1Y 4JH",
    "bi-country": "GB",
    "bi-tax_id": "GB123456782",
}
_CONFIRM_LINK = re.compile(r"https?://[^\s\"'<>]+(/portal/confirm-email/[^\s\"'<>]+)")


def customer_row(customer_id: str) -> Customer:
    return Customer.get_by_id(customer_id)


def stored(customer_id: str) -> tuple:
    return Customer.select().where(Customer.id == customer_id).tuples().get()


@pytest.fixture
def jo(client, merchant):
    customer = make_customer(merchant, email="jo@example.com")
    sign_in_with_handoff(client, merchant, customer["id"])
    return customer


def field_save(client, name: str, value: str, extra: dict | None = None):
    html = page(client, PAGE)
    data = {**form(html, PAGE), f"bi-{name}": value, **(extra or {})}
    headers = {**HTMX, "X-CSRFToken": csrf_token(html)}
    return client.post(f"{PAGE}/field/{name}", data=data, headers=headers)


def test_saving_the_whole_form_redirects_and_stores_everything(client, jo):
    response = submit(client, PAGE, PAGE, DETAILS)
    assert response.status_code == 303 and response.location.endswith(PAGE)
    row = customer_row(jo["id"])
    assert (row.first_name, row.city, row.country, row.tax_id) == (
        "Ada",
        "London",
        "GB",
        "GB123456782",
    )
    assert row.version == 2
    html = page(client, PAGE)
    assert "Billing information saved." in text_of(html)
    assert 'value="SW1Y 4JH"' in html and '<option selected value="GB">' in html
    assert "Tax ID: GB123456782" in text_of(page(client, "/portal"))


def test_one_field_saves_with_htmx_and_answers_with_that_field(client, jo):
    response = field_save(client, "city", "Berlin")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<div class="field" id="field-city">')
    assert 'value="Berlin"' in html and ">Saved</p>" in html
    assert customer_row(jo["id"]).city == "Berlin"
    assert customer_row(jo["id"]).first_name == "Jo"  # the other posted fields are left alone


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("phone", "call me maybe", "Enter a phone number"),
        ("country", "XX", "Not a valid choice"),
        ("first_name", "a" * 101, "Field cannot be longer than 100 characters."),
        ("first_name", "", "Enter your first name."),
        ("postal_code", "1" * 21, "Field cannot be longer than 20 characters."),
    ],
)
def test_an_invalid_value_shows_a_field_error_and_saves_nothing(client, jo, name, value, message):
    before = stored(jo["id"])
    one = field_save(client, name, value)
    assert one.status_code == 200 and message in one.get_data(as_text=True)
    assert "Saved" not in one.get_data(as_text=True)
    whole = submit(client, PAGE, PAGE, {**DETAILS, f"bi-{name}": value})
    html = whole.get_data(as_text=True)
    assert whole.status_code == 422
    assert f'id="bi-{name}-error"' in html and message in html
    assert stored(jo["id"]) == before


def test_an_unknown_field_is_not_found(client, jo):
    html = page(client, PAGE)
    for name in ("email", "version", "company", "nope"):
        response = client.post(
            f"{PAGE}/field/{name}",
            data={f"bi-{name}": "x"},
            headers={"X-CSRFToken": csrf_token(html)},
        )
        assert response.status_code == 404, name


def test_the_second_of_two_concurrent_saves_gets_409_and_the_first_stays(client, merchant, jo):
    other = client.application.test_client()
    sign_in_with_handoff(other, merchant, jo["id"])
    first_page, second_page = page(client, PAGE), page(other, PAGE)
    first = client.post(PAGE, data={**form(first_page, PAGE), **DETAILS})
    assert first.status_code == 303
    stale = {**form(second_page, PAGE), "bi-city": "Paris", "bi-first_name": "Grace"}
    second = other.post(PAGE, data=stale)
    html = second.get_data(as_text=True)
    assert second.status_code == 409
    assert "changed elsewhere" in html and 'value="London"' in html and 'value="Ada"' in html
    row = customer_row(jo["id"])
    assert (row.first_name, row.city) == ("Ada", "London")
    retry = other.post(PAGE, data={**form(html, PAGE), "bi-city": "Paris"})
    assert retry.status_code == 303 and customer_row(jo["id"]).city == "Paris"


def test_saving_the_form_after_inline_saves_is_not_a_conflict(client, jo):
    """htmx saves fields as they change; pressing Save afterwards must not report the
    customer's own edits as a concurrent change. The field answer carries the new version
    out of band (hx-swap-oob) for the page's hidden version input."""
    html = page(client, PAGE)
    fields = form(html, PAGE)
    saved = client.post(
        f"{PAGE}/field/city",
        data={**fields, "bi-city": "Berlin"},
        headers={**HTMX, "X-CSRFToken": csrf_token(html)},
    ).get_data(as_text=True)
    oob = re.search(r'<input[^>]*id="bi-version"[^>]*>', saved)
    assert oob and 'hx-swap-oob="true"' in oob.group(0)
    fields["bi-version"] = re.search(r'value="(\d+)"', oob.group(0)).group(1)
    response = client.post(PAGE, data={**fields, "bi-city": "Berlin", "bi-tax_id": "DE123456788"})
    assert response.status_code == 303
    assert customer_row(jo["id"]).tax_id == "DE123456788"


def test_an_inline_save_after_someone_elses_change_keeps_the_page_stale(client, merchant, jo):
    """The out-of-band version only advances when nobody else wrote in between, so the
    later full save still reports the other change instead of overwriting it."""
    html = page(client, PAGE)
    merchant.ok("PATCH", f"/customer/{jo['id']}", {"first_name": "Grace"})
    saved = client.post(
        f"{PAGE}/field/city",
        data={**form(html, PAGE), "bi-city": "Berlin"},
        headers={**HTMX, "X-CSRFToken": csrf_token(html)},
    ).get_data(as_text=True)
    assert "Saved" in saved and 'id="bi-version"' not in saved
    response = client.post(PAGE, data={**form(html, PAGE), "bi-city": "Berlin"})
    assert response.status_code == 409
    assert customer_row(jo["id"]).first_name == "Grace"


@pytest.mark.parametrize("version", ["²", "-1", "1e3", "", "9" * 40])
def test_a_tampered_version_is_not_an_error(client, jo, version):
    response = submit(client, PAGE, PAGE, {**DETAILS, "bi-version": version})
    assert response.status_code in (303, 409)


def test_an_email_change_waits_for_the_new_address_to_confirm(client, jo):
    response = submit(client, PAGE, EMAIL, {"em-email": "ada@newmail.example"})
    assert response.status_code == 303
    assert customer_row(jo["id"]).email == "jo@example.com"
    [message] = OutboxMessage.select().where(OutboxMessage.kind == "email_change")
    assert message.to_address == "ada@newmail.example"
    link = _CONFIRM_LINK.search(message.text_body).group(1)
    assert link in message.html_body

    shown = client.get(link)
    assert shown.status_code == 200 and "Confirm ada@newmail.example" in shown.get_data(
        as_text=True
    )
    assert customer_row(jo["id"]).email == "jo@example.com"

    confirmed = client.post(link, data={"csrf_token": csrf_token(shown.get_data(as_text=True))})
    assert confirmed.status_code == 200 and "Billing email updated" in confirmed.get_data(
        as_text=True
    )
    assert customer_row(jo["id"]).email == "ada@newmail.example"

    token = csrf_token(shown.get_data(as_text=True))
    assert client.post(link, data={"csrf_token": token}).status_code == 404
    assert client.get(link).status_code == 404


def test_confirming_a_new_email_signs_the_customer_out_everywhere(client, merchant, jo):
    api_session = bearer(merchant, jo["id"])
    assert portal_json(client, "GET", "/me", api_session).status_code == 200
    submit(client, PAGE, EMAIL, {"em-email": "ada@newmail.example"})
    [message] = OutboxMessage.select().where(OutboxMessage.kind == "email_change")
    link = _CONFIRM_LINK.search(message.text_body).group(1)
    shown = client.get(link).get_data(as_text=True)
    confirmed = client.post(link, data={"csrf_token": csrf_token(shown)})
    assert "signed out everywhere" in text_of(confirmed.get_data(as_text=True))
    assert client.get(PAGE).status_code in (302, 303)  # this browser's session ended
    assert portal_json(client, "GET", "/me", api_session).status_code == 401


def test_the_email_form_with_htmx_answers_with_its_region(client, jo):
    html = page(client, PAGE)
    data = {**form(html, EMAIL), "em-email": "ada@newmail.example"}
    response = client.post(EMAIL, data=data, headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert (
        'id="email-section"' in body
        and "We sent a confirmation link to ada@newmail.example" in body
    )


@pytest.mark.parametrize("email", ["not-an-email", "jo@example.com", "a@b", "x" * 250 + "@e.co"])
def test_an_unusable_new_email_is_refused_without_mail(client, jo, email):
    response = submit(client, PAGE, EMAIL, {"em-email": email})
    assert response.status_code == 422
    assert 'id="em-email-error"' in response.get_data(as_text=True)
    assert OutboxMessage.select().count() == 0 and EmailChange.select().count() == 0


def test_a_newer_email_change_voids_the_older_link(client, jo):
    submit(client, PAGE, EMAIL, {"em-email": "first@newmail.example"})
    submit(client, PAGE, EMAIL, {"em-email": "second@newmail.example"})
    links = {
        m.to_address: _CONFIRM_LINK.search(m.text_body).group(1) for m in OutboxMessage.select()
    }
    assert client.get(links["first@newmail.example"]).status_code == 404
    assert client.get(links["second@newmail.example"]).status_code == 200


# --- PATCH /customer-portal/billing-information (Bearer) ----------------------------------------


def patch(client, merchant, customer_id, body):
    return portal_json(client, "PATCH", "/billing-information", bearer(merchant, customer_id), body)


def test_the_json_patch_changes_only_the_given_fields(client, merchant):
    customer = make_customer(merchant, email="jo@example.com")
    response = patch(client, merchant, customer["id"], {"city": "Paris", "country": "fr"})
    assert response.status_code == 200, response.get_json()
    data = response.get_json()["data"]
    assert data["entity"]["personal_address"]["city"] == "Paris"
    assert data["entity"]["personal_address"]["country"] == "FR"
    assert data["entity"]["first_name"] == "Jo"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"nickname": "JJ"}, "nickname"),
        ({"email": "new@example.com"}, "email"),
        ({"country": "XX"}, "country"),
        ({"phone": "call me"}, "phone"),
        ({"first_name": "a" * 101}, "first_name"),
        ({"first_name": None}, "first_name"),
    ],
)
def test_the_json_patch_refuses_bad_fields(client, merchant, body, field):
    customer = make_customer(merchant, email="jo@example.com")
    before = stored(customer["id"])
    response = patch(client, merchant, customer["id"], body)
    assert response.status_code == 422, response.get_json()
    assert field in str(response.get_json()["error"]["details"])
    assert stored(customer["id"]) == before


def test_the_json_patch_refuses_a_stale_version(client, merchant):
    customer = make_customer(merchant, email="jo@example.com")
    assert (
        patch(client, merchant, customer["id"], {"city": "Rome", "expected_version": 1}).status_code
        == 200
    )
    stale = patch(client, merchant, customer["id"], {"city": "Oslo", "expected_version": 1})
    assert stale.status_code == 409
    assert stale.get_json()["error"]["code"] == "CONFLICT"
    assert customer_row(customer["id"]).city == "Rome"


def test_the_json_patch_needs_a_session(client, merchant):
    response = portal_json(client, "PATCH", "/billing-information", {}, {"city": "Paris"})
    assert response.status_code == 401


def test_email_change_confirmations_are_limited_per_customer(app, client, jo):
    app.config["PORTAL_EMAIL_CHANGE_RATE_LIMIT"] = "3 per hour"
    for n in range(3):
        assert submit(client, PAGE, EMAIL, {"em-email": f"n{n}@newmail.example"}).status_code == 303
    refused = submit(client, PAGE, EMAIL, {"em-email": "n9@newmail.example"})
    assert refused.status_code == 429
    assert "Try again later" in text_of(refused.get_data(as_text=True))
    kinds = [
        m.to_address for m in OutboxMessage.select().where(OutboxMessage.kind == "email_change")
    ]
    assert "n9@newmail.example" not in kinds and len(kinds) == 3
    assert EmailChange.select().where(EmailChange.new_email == "n9@newmail.example").count() == 0
