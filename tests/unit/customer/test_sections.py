"""The white-label shell and the config's section switches: a section the merchant turns off
leaves the navigation, its pages answer 404, its JSON actions 403 FEATURE_DISABLED, and no
other page links to it."""

import re

import pytest
from browsing import PORTAL_API, csrf_token, has_form, page, portal_json, text_of
from builders import bearer, patch_config
from portalkit import changed_tables, snapshot

CARD_FORM = "/portal/payment-methods/card"
BANK_FORM = "/portal/payment-methods/bank-account"


def nav_links(html: str) -> list[str]:
    nav = re.search(r'<nav class="wrap tabs".*?</nav>', html, re.S).group(0)
    return re.findall(r'href="([^"]+)"', nav)


def html_routes(flag: str, account) -> list[tuple[str, str]]:
    method, invoice = account.good_card["id"], account.open_invoice
    return {
        "payment_methods_enabled": [
            ("GET", "/portal/payment-methods"),
            ("POST", CARD_FORM),
            ("POST", BANK_FORM),
            ("POST", f"/portal/payment-methods/{method}/default"),
            ("POST", f"/portal/payment-methods/{method}/remove"),
        ],
        # A past-due invoice stays payable (the banner leads there); a paid one is gone.
        "invoice_history_enabled": [
            ("GET", "/portal/invoices"),
            ("GET", f"/portal/invoices/{account.paid_invoice}"),
            ("GET", f"/portal/invoices/{invoice}/pdf"),
            ("POST", f"/portal/invoices/{account.paid_invoice}/pay"),
        ],
    }[flag]


def json_routes(flag: str, account) -> list[tuple[str, str, dict | None]]:
    method, invoice = account.good_card["id"], account.open_invoice
    return {
        "payment_methods_enabled": [
            ("GET", "/payment-methods", None),
            ("POST", "/payment-methods", {"type": "PAYMENT_CARD", "token": "tok_visa"}),
            ("POST", f"/payment-methods/{method}/default", None),
            ("DELETE", f"/payment-methods/{method}", None),
        ],
        "invoice_history_enabled": [
            ("GET", "/invoices", None),
            ("GET", f"/invoices/{invoice}", None),
            ("POST", f"/invoices/{invoice}/pay", {"payment_method_id": method}),
        ],
    }[flag]


SECTIONS = [
    ("payment_methods_enabled", "/portal/payment-methods", "Payment methods"),
    ("invoice_history_enabled", "/portal/invoices", "Invoices"),
]


@pytest.mark.parametrize(("flag", "path", "label"), SECTIONS)
def test_a_section_is_in_the_navigation_only_while_enabled(
    client, merchant, signed_in, flag, path, label
):
    home = page(client, "/portal")
    assert path in nav_links(home) and f">{label}</a>" in home
    assert client.get(path).status_code == 200

    patch_config(merchant, **{flag: False})
    for shown in ("/portal", "/portal/billing-information"):
        assert path not in nav_links(page(client, shown))
    assert "/portal/billing-information" in nav_links(page(client, "/portal"))


@pytest.mark.parametrize("flag", [flag for flag, _, _ in SECTIONS])
def test_a_disabled_sections_pages_and_actions_answer_404(client, merchant, signed_in, flag):
    token = csrf_token(page(client, "/portal"))
    patch_config(merchant, **{flag: False})
    before = snapshot()
    for method, path in html_routes(flag, signed_in):
        data = {"csrf_token": token, "form_nonce": "n-" + path[-20:]}
        response = client.open(path, method=method, data=data if method == "POST" else None)
        assert response.status_code == 404, (method, path, response.status_code)
    assert changed_tables(before, snapshot()) == []


@pytest.mark.parametrize("flag", [flag for flag, _, _ in SECTIONS])
def test_a_disabled_sections_json_actions_are_refused(client, merchant, account, flag):
    headers = bearer(merchant, account.id)
    patch_config(merchant, **{flag: False})
    before = snapshot()
    for method, path, body in json_routes(flag, account):
        response = portal_json(client, method, path, headers, body)
        assert response.status_code == 403, (method, path, response.get_json())
        assert response.get_json()["error"]["code"] == "FEATURE_DISABLED"
    assert changed_tables(before, snapshot()) == []


@pytest.mark.parametrize("flag", [flag for flag, _, _ in SECTIONS])
def test_the_json_routes_answer_while_the_section_is_on(client, merchant, account, flag):
    headers = bearer(merchant, account.id)
    method, path, _ = json_routes(flag, account)[0]
    response = portal_json(client, method, path, headers)
    assert response.status_code == 200 and response.get_json()["success"] is True


def test_with_subscriptions_off_no_page_shows_or_links_them(client, merchant, signed_in):
    sub = signed_in.paid_sub["id"]
    assert "Your subscriptions" in page(client, "/portal")
    patch_config(merchant, subscriptions_enabled=False)
    for path in ("/portal", "/portal/payment-methods", "/portal/billing-information"):
        html = page(client, path)
        assert "/portal/subscriptions" not in html and "Your subscriptions" not in html, path
    for path in ("/portal/subscriptions", f"/portal/subscriptions/{sub}/cancel"):
        assert client.get(path).status_code == 404, path


def test_overview_leaves_out_what_payment_methods_off_hides(client, merchant, signed_in):
    assert "Manage payment methods" in page(client, "/portal")
    patch_config(merchant, payment_methods_enabled=False)
    home = page(client, "/portal")
    assert "Manage payment methods" not in home and "/portal/payment-methods" not in home
    detail = page(client, f"/portal/invoices/{signed_in.open_invoice}")
    assert "/portal/payment-methods" not in detail


def test_with_invoice_history_off_pages_link_only_to_the_past_due_invoice(
    client, merchant, signed_in
):
    """No link to the list or to a paid invoice; the past-due one stays payable from the
    overview, the banner and the 'pay with this method' buttons."""
    invoice = f"/portal/invoices/{signed_in.open_invoice}"
    patch_config(merchant, invoice_history_enabled=False)
    for path in ("/portal", "/portal/payment-methods", "/portal/billing-information"):
        links = set(re.findall(r'(?:href|action)="(/portal/invoices[^"]*)"', page(client, path)))
        assert links <= {invoice, f"{invoice}/pay"} and invoice in links, (path, links)
    assert has_form(page(client, "/portal/payment-methods"), f"{invoice}/pay")
    assert "Invoices to pay" in page(client, "/portal")


ACCEPTED = [["card"], ["bank_account"], ["card", "bank_account"]]


@pytest.mark.parametrize("accepted", ACCEPTED)
def test_only_accepted_kinds_get_an_add_form(client, merchant, signed_in, accepted):
    patch_config(merchant, accepted_payment_methods=accepted)
    html = page(client, "/portal/payment-methods")
    assert has_form(html, CARD_FORM) is ("card" in accepted)
    assert has_form(html, BANK_FORM) is ("bank_account" in accepted)
    assert ("Add a card" in html) is ("card" in accepted)
    assert ("Add a bank account" in html) is ("bank_account" in accepted)


@pytest.mark.parametrize("accepted", ACCEPTED)
def test_only_accepted_kinds_can_be_added(client, merchant, signed_in, accepted):
    patch_config(merchant, accepted_payment_methods=accepted)
    token = csrf_token(page(client, "/portal/payment-methods"))
    card = {"card-number": "4242424242424242", "card-expiry": "12/40", "card-cvc": "123"}
    bank = {"bank-routing_number": "110000000", "bank-account_number": "000123456789"}
    posts = [
        ("card", CARD_FORM, {**card, "card-name": "Jo Doe", "card-csrf_token": token}),
        ("bank_account", BANK_FORM, {**bank, "bank-holder": "Jo Doe", "bank-csrf_token": token}),
    ]
    for kind, action, data in posts:
        before = snapshot()["PaymentMethod"]
        response = client.post(action, data={**data, "bank-account_type": "CHECKING"})
        if kind in accepted:
            assert response.status_code == 303, (kind, response.status_code)
            assert len(snapshot()["PaymentMethod"]) == len(before) + 1
        else:
            assert response.status_code == 404, (kind, response.status_code)
            assert snapshot()["PaymentMethod"] == before


@pytest.mark.parametrize(
    ("accepted", "kind", "token"),
    [
        (["card"], "BANK_ACCOUNT", "tok_bank_account"),
        (["bank_account"], "PAYMENT_CARD", "tok_visa"),
    ],
)
def test_the_json_api_refuses_kinds_the_portal_does_not_accept(
    client, merchant, account, accepted, kind, token
):
    patch_config(merchant, accepted_payment_methods=accepted)
    headers = bearer(merchant, account.id)
    response = portal_json(
        client, "POST", "/payment-methods", headers, {"type": kind, "token": token}
    )
    assert response.status_code == 422
    assert "type" in response.get_json()["error"]["details"]["fields"]
    accepted_kind = "PAYMENT_CARD" if kind == "BANK_ACCOUNT" else "BANK_ACCOUNT"
    # The account already holds tok_visa: another card, since a card is saved once.
    other = "tok_mastercard" if accepted_kind == "PAYMENT_CARD" else "tok_bank_account"
    ok = portal_json(
        client, "POST", "/payment-methods", headers, {"type": accepted_kind, "token": other}
    )
    assert ok.status_code == 201


def test_the_shell_carries_the_merchants_brand_header_and_return_link(client, merchant, signed_in):
    home = page(client, "/portal")
    assert "Return to" not in home
    assert f"/brand/{merchant.id}.css" in home
    patch_config(
        merchant,
        return_url="https://acme.example/account",
        portal_header="Questions? Call 555-0100",
    )
    home = page(client, "/portal")
    assert '<a class="return" href="https://acme.example/account">Return to Acme Cloud</a>' in home
    assert "Questions? Call 555-0100" in text_of(home)
    assert 'class="brand-name">Acme Cloud<' in home
    css = client.get(f"/brand/{merchant.id}.css")
    assert css.status_code == 200 and "--brand:#" in css.get_data(as_text=True)


def test_signing_out_ends_the_session(client, merchant, signed_in):
    token = csrf_token(page(client, "/portal"))
    response = client.post("/portal/sign-out", data={"csrf_token": token})
    assert response.status_code == 303
    after = client.get("/portal")
    assert after.status_code == 303 and after.location.startswith(f"/p/{merchant.id}")


def test_pages_need_a_session(client, merchant, account):
    for path in (
        "/portal",
        "/portal/payment-methods",
        "/portal/invoices",
        "/portal/billing-information",
    ):
        response = client.get(path)
        assert response.status_code == 303, path
    htmx = client.get("/portal/invoices", headers={"HX-Request": "true"})
    assert htmx.headers.get("HX-Redirect")


def test_json_routes_need_a_bearer_session(client, merchant, account):
    for path in ("/payment-methods", "/invoices"):
        response = client.get(f"/v1/api{PORTAL_API}{path}")
        assert response.status_code == 401
        bad = portal_json(client, "GET", path, {"Authorization": "Bearer nope"})
        assert bad.status_code == 401
