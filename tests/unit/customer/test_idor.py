"""IDOR matrix: two companies x two customers, each with subscriptions, invoices and payment
methods. Every portal page and portal JSON route that takes an id, called by each customer
with each id of the other three, answers 404 and changes nothing.

Routes are read from the app, so a new route with an id is checked (or fails loudly when
its id kind is unknown here)."""

import re

import pytest
from browsing import csrf_token, page, sign_in_with_handoff
from builders import bearer, build_account, make_price
from portalkit import changed_tables, snapshot

import portal.api  # noqa: F401  (importing registers every JSON route)
from portal.api.registry import ROUTES

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# path parameter -> what kind of object it names
ID_PARAMS = {
    "invoice_id": "invoice",
    "method_id": "method",
    "payment_method_id": "method",
    "subscription_id": "subscription",
}
# parameters that do not name an object of the signed-in customer
NOT_OWNED = {"name", "token", "code", "company_id", "filename"}
# A valid body for JSON routes that need one, so the id is what gets judged.
BODIES = {
    "/pay": lambda own: {"payment_method_id": own.good_card["id"]},
    "/change": lambda own: {"quantity": 1, "expected_version": 1},
    "/pause": lambda own: {"periods": 1},
    "/resubscribe": lambda own: {"expected_version": 1},
}
STRANGE_IDS = ["x" * 300, "' OR '1'='1", "..%2F..%2Fportal", "%00", "null"]


def objects_of(account) -> dict[str, list[str]]:
    return {
        "invoice": [account.open_invoice, account.paid_invoice],
        "method": [account.bad_card["id"], account.good_card["id"]],
        "subscription": [account.failing_sub["id"], account.paid_sub["id"]],
    }


def id_params(rule: str) -> list[str]:
    names = re.findall(r"<(?:\w+:)?(\w+)>", rule)
    unknown = [n for n in names if n not in ID_PARAMS and n not in NOT_OWNED]
    assert not unknown, f"{rule}: unknown path parameter {unknown}; add it to ID_PARAMS"
    return [n for n in names if n in ID_PARAMS]


def fill(rule: str, value: str) -> str:
    return re.sub(r"<(?:\w+:)?\w+>", value, rule)


def html_rules(app) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/portal") and id_params(rule.rule):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append((method, rule.rule))
    return found


def json_body(spec, own) -> dict | None:
    if spec.method not in UNSAFE:
        return None
    make = next((make for end, make in BODIES.items() if spec.rule.endswith(end)), None)
    return make(own) if make else {}


def json_specs() -> list:
    return [s for s in ROUTES if s.auth == "session" and id_params(s.rule)]


@pytest.fixture
def world(merchant, other_merchant):
    accounts = []
    for company in (merchant, other_merchant):
        price = make_price(company, name=f"{company.company.name} plan")
        for first_name in ("Ann", "Ben"):
            accounts.append(build_account(company, first_name, price=price))
    return accounts


def foreign_ids(world, viewer, kind: str) -> list[str]:
    return [i for other in world if other is not viewer for i in objects_of(other)[kind]]


def numbers_of(world, viewer) -> list[str]:
    from portal.models import Invoice

    ids = foreign_ids(world, viewer, "invoice")
    return [row.number for row in Invoice.select().where(Invoice.id.in_(ids))]


def test_the_matrix_covers_the_portal_routes_that_take_ids(app):
    rules = {rule for _, rule in html_rules(app)}
    assert {
        "/portal/invoices/<invoice_id>",
        "/portal/invoices/<invoice_id>/pdf",
        "/portal/invoices/<invoice_id>/pay",
        "/portal/payment-methods/<method_id>/default",
        "/portal/payment-methods/<method_id>/remove",
    } <= rules
    assert {
        "/customer-portal/invoices/<invoice_id>",
        "/customer-portal/invoices/<invoice_id>/pay",
        "/customer-portal/payment-methods/<method_id>/default",
        "/customer-portal/payment-methods/<method_id>",
    } <= {spec.rule for spec in json_specs()}


@pytest.mark.parametrize("viewer_index", range(4))
def test_pages_answer_404_for_every_foreign_id(app, client, world, viewer_index):
    viewer = world[viewer_index]
    sign_in_with_handoff(client, viewer.merchant, viewer.id)
    token = csrf_token(page(client, "/portal"))
    own_method = viewer.good_card["id"]
    numbers = numbers_of(world, viewer)
    before = snapshot()
    for method, rule in html_rules(app):
        kind = ID_PARAMS[id_params(rule)[0]]
        for foreign in foreign_ids(world, viewer, kind):
            data = {"csrf_token": token, "form_nonce": f"n{foreign}", "method_id": own_method}
            response = client.open(
                fill(rule, foreign),
                method=method,
                data=data if method in UNSAFE else None,
                headers={"X-CSRFToken": token},
            )
            assert response.status_code == 404, (method, rule, kind, response.status_code)
            body = response.get_data(as_text=True)
            assert not any(number in body for number in numbers), (method, rule)
    assert changed_tables(before, snapshot()) == []


@pytest.mark.parametrize("viewer_index", range(4))
def test_json_routes_answer_404_for_every_foreign_id(client, world, viewer_index):
    viewer = world[viewer_index]
    headers = bearer(viewer.merchant, viewer.id)
    before = snapshot()
    for spec in json_specs():
        kind = ID_PARAMS[id_params(spec.rule)[0]]
        body = json_body(spec, viewer)
        for foreign in foreign_ids(world, viewer, kind):
            response = client.open(
                "/v1/api" + fill(spec.rule, foreign),
                method=spec.method,
                json=body,
                headers=headers,
            )
            assert response.status_code == 404, (spec.method, spec.rule, response.get_json())
            assert response.get_json()["error"]["code"] == "NOT_FOUND"
    assert changed_tables(before, snapshot()) == []


def test_a_foreign_method_cannot_pay_an_own_invoice(client, world):
    """The id in the form or body, not the path: refused, nothing charged."""
    viewer = world[0]
    sign_in_with_handoff(client, viewer.merchant, viewer.id)
    invoice = f"/portal/invoices/{viewer.open_invoice}"
    token = csrf_token(page(client, invoice))
    headers = bearer(viewer.merchant, viewer.id)
    before = snapshot()
    for foreign in foreign_ids(world, viewer, "method"):
        data = {"csrf_token": token, "form_nonce": f"n{foreign}", "method_id": foreign}
        response = client.post(f"{invoice}/pay", data=data)
        assert response.status_code == 402
        assert "Choose a payment method." in response.get_data(as_text=True)
        json = client.post(
            f"/v1/api/customer-portal/invoices/{viewer.open_invoice}/pay",
            json={"payment_method_id": foreign},
            headers=headers,
        )
        assert json.status_code == 422, json.get_json()
        assert "payment_method_id" in json.get_json()["error"]["details"]["fields"]
    assert changed_tables(before, snapshot()) == []


@pytest.mark.parametrize("strange", STRANGE_IDS)
def test_malformed_ids_are_not_found_not_errors(app, client, world, strange):
    viewer = world[0]
    sign_in_with_handoff(client, viewer.merchant, viewer.id)
    token = csrf_token(page(client, "/portal"))
    headers = bearer(viewer.merchant, viewer.id)
    for method, rule in html_rules(app):
        response = client.open(
            fill(rule, strange),
            method=method,
            data={"csrf_token": token} if method in UNSAFE else None,
        )
        assert response.status_code == 404, (method, rule, response.status_code)
    for spec in json_specs():
        response = client.open(
            "/v1/api" + fill(spec.rule, strange),
            method=spec.method,
            json=json_body(spec, viewer),
            headers=headers,
        )
        assert response.status_code == 404, (spec.method, spec.rule, response.status_code)


@pytest.mark.parametrize("path", ["/p/%00", "/p/" + "x" * 65, "/brand/%00.css"])
def test_malformed_company_ids_are_not_found(client, path):
    assert client.get(path).status_code == 404
