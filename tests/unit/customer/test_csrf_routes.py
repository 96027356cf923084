"""CSRF on every unsafe route outside the JSON API, read from the app's URL map: a new
POST route is checked the moment it exists. The customer is signed in, so a refusal is the
CSRF check and not a redirect to the sign-in page."""

import re

from browsing import csrf_token, page, sign_in_with_handoff
from builders import build_account
from portalkit import CSRF_ERROR

from portal.models import Customer

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Known today; the test checks whatever the map holds, this only proves it is not empty.
KNOWN = {
    "/portal/payment-methods/card",
    "/portal/payment-methods/<method_id>/remove",
    "/portal/invoices/<invoice_id>/pay",
    "/portal/billing-information",
    "/portal/billing-information/field/<name>",
    "/portal/billing-information/email",
    "/portal/confirm-email/<token>",
    "/portal/sign-out",
    "/p/<company_id>",
}


def unsafe_rules(app) -> list[tuple[str, str]]:
    found = [
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        # The JSON API is key-authenticated; the sandbox tokenizer stores nothing.
        if not rule.rule.startswith(("/v1/api", "/sandbox-gateway/"))
        for method in sorted(rule.methods & UNSAFE)
    ]
    # Signing out ends the session the other checks rely on: last.
    return sorted(found, key=lambda pair: (pair[1] == "/portal/sign-out", pair))


def path_for(rule: str, account, merchant) -> str:
    values = {**account.url_values(), "company_id": merchant.id, "name": "city"}
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values.get(m.group(1), "x" * 20), rule)


def is_csrf_refusal(response) -> bool:
    return response.status_code == 400 and CSRF_ERROR in response.get_data(as_text=True)


def test_every_unsafe_page_route_needs_the_csrf_token(app, client, merchant, signed_in):
    rules = unsafe_rules(app)
    assert {rule for _, rule in rules} >= KNOWN
    token = csrf_token(page(client, "/portal"))
    not_refused, refused_with_token = [], []
    for method, rule in rules:
        path = path_for(rule, signed_in, merchant)
        form = {"form_nonce": f"n{len(not_refused)}{rule}", "bi-city": "Oslo", "em-email": "a@b.co"}
        if not is_csrf_refusal(client.open(path, method=method, data=form)):
            not_refused.append((method, rule))
        with_header = client.open(path, method=method, data=form, headers={"X-CSRFToken": token})
        if is_csrf_refusal(with_header) or with_header.status_code == 500:
            refused_with_token.append((method, rule, with_header.status_code))
    assert not_refused == [], "unsafe routes that work without a CSRF token"
    assert refused_with_token == [], "routes that refuse the token htmx sends as a header"


def test_a_wrong_or_foreign_token_is_refused(client, merchant, other_merchant, signed_in):
    other = client.application.test_client()
    stranger = build_account(other_merchant, "Zed")
    sign_in_with_handoff(other, other_merchant, stranger.id)
    foreign = csrf_token(page(other, "/portal"))
    for token in (foreign, "not-a-token", ""):
        response = client.post(
            "/portal/billing-information/field/city",
            data={"bi-city": "Oslo", "csrf_token": token},
        )
        assert response.status_code == 400, token
    assert Customer.get_by_id(signed_in.id).city is None
