"""Card numbers go to the sandbox tokenizer, never to the portal's routes: the add-card form
posts a token; in production a posted card number is refused before anything reads it, and
no portal route (pages or JSON) turns a raw card number into a payment method."""

import re

import pytest
from browsing import csrf_token, form, page, sign_in_with_handoff, submit, text_of
from builders import bearer, build_account

from portal.billing.gateway import SandboxGateway, get_gateway, set_gateway
from portal.models import PaymentMethod

PAGE = "/portal/payment-methods"
CARD = "/portal/payment-methods/card"
TOKENIZER = "/sandbox-gateway/tokens"
PAN = "4242424242424242"
CARD_BODY = {"type": "card", "number": "4242 4242 4242 4242", "expiry": "12/39", "cvc": "737"}


def tokenize(client, **changes):
    return client.post(TOKENIZER, json={**CARD_BODY, **changes})


def methods(customer_id) -> list[PaymentMethod]:
    return list(PaymentMethod.select().where(PaymentMethod.customer == customer_id))


class CountingGateway(SandboxGateway):
    """The sandbox gateway, counting the card numbers it is asked to read."""

    def __init__(self, secret):
        super().__init__(secret)
        self.cards_read = 0

    def tokenize_card(self, *args):
        self.cards_read += 1
        return super().tokenize_card(*args)


@pytest.fixture
def gateway(app):
    previous = get_gateway()
    counting = CountingGateway(app.config["SECRET_KEY"])
    set_gateway(counting)
    yield counting
    set_gateway(previous)


@pytest.fixture
def production(app):
    app.config["PORTAL_ENV"] = "production"
    yield app
    app.config["PORTAL_ENV"] = "testing"


def test_the_tokenizer_answers_a_token_that_names_no_card_number(client):
    response = tokenize(client)
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    token = response.get_json()["token"]
    assert token.startswith("tok_") and PAN not in token and "737" not in token


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"number": "4242 4242 4242 4241"}, "number", "Your card number is not valid."),
        ({"number": "4242 4242 4242 424²"}, "number", "Your card number is not valid."),
        ({"expiry": "13/30"}, "expiry", "Use the format MM/YY."),
        ({"expiry": "01/20"}, "expiry", "Your card has expired."),
        ({"cvc": "1²3"}, "cvc", "Your security code is not valid."),
        ({"number": "4000000000000002"}, "number", "Your card was declined."),
        ({"type": "bank_account"}, "type", "Only cards are tokenized here."),
    ],
)
def test_the_tokenizer_names_the_field_at_fault(client, changes, field, message):
    response = tokenize(client, **changes)
    assert response.status_code == 422
    assert response.get_json()["error"] == {"message": message, "fields": {field: message}}


def test_the_tokenizer_names_every_missing_field_at_once(client):
    response = tokenize(client, number="", expiry=" ", cvc="")
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {
        "number": "Enter your card number.",
        "expiry": "Enter the expiry date.",
        "cvc": "Enter the security code.",
    }


@pytest.mark.parametrize(
    "body", [[1], {"number": 4242}, {**CARD_BODY, "extra": "x"}, {**CARD_BODY, "number": "4" * 99}]
)
def test_the_tokenizer_refuses_a_malformed_body(client, body):
    assert client.post(TOKENIZER, json=body).status_code == 400


def test_the_form_posts_only_a_token_and_the_card_is_added(client, merchant, gateway):
    account = build_account(merchant)
    sign_in_with_handoff(client, merchant, account.id)
    token = tokenize(client).get_json()["token"]
    reads_before = gateway.cards_read
    fields = form(page(client, PAGE), CARD)
    posted = {k: v for k, v in fields.items() if k not in ("card-number", "card-cvc")}
    response = client.post(CARD, data={**posted, "card-token": token, "card-name": "Jo Tokenized"})
    assert response.status_code == 303
    assert gateway.cards_read == reads_before  # the portal route read no card number
    added = [m for m in methods(account.id) if m.name == "Jo Tokenized"]
    assert len(added) == 1 and (added[0].last_four, added[0].expiration_year) == ("4242", 2039)


def test_a_token_attaches_once_even_in_another_worker(client, merchant, app, gateway):
    account = build_account(merchant)
    sign_in_with_handoff(client, merchant, account.id)
    token = tokenize(client).get_json()["token"]
    before = len(methods(account.id))
    assert submit(client, PAGE, CARD, {"card-token": token, "card-name": "Jo"}).status_code == 303
    # A second worker has its own memory of spent tokens; the stored ref still refuses it.
    set_gateway(SandboxGateway(app.config["SECRET_KEY"]))
    response = submit(client, PAGE, CARD, {"card-token": token, "card-name": "Jo"})
    assert response.status_code == 422
    assert "already used" in text_of(response.get_data(as_text=True))
    assert len(methods(account.id)) == before + 1


def test_in_production_the_page_gives_the_secret_fields_no_name(client, merchant, production):
    account = build_account(merchant)
    sign_in_with_handoff(client, merchant, account.id)
    html = page(client, PAGE)
    card_form = form(html, CARD)
    assert "card-token" in card_form
    assert not {"card-number", "card-cvc", "card-expiry"} & set(card_form)
    assert re.search(r'<input[^>]*id="card-number"', html)  # the field is there, for the script
    assert "Adding a card needs JavaScript" in html


def test_in_production_a_posted_card_number_is_refused(client, merchant, production, gateway):
    account = build_account(merchant)
    sign_in_with_handoff(client, merchant, account.id)
    before = len(methods(account.id))
    raw = {"card-number": PAN, "card-expiry": "12/39", "card-cvc": "737", "card-name": "Jo"}
    response = submit(client, PAGE, CARD, raw)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "turn on JavaScript to add a card" in html and PAN not in html
    assert gateway.cards_read == 0 and len(methods(account.id)) == before


def test_in_production_a_browser_token_still_adds_the_card(client, merchant, production):
    account = build_account(merchant)
    sign_in_with_handoff(client, merchant, account.id)
    token = tokenize(client).get_json()["token"]
    response = submit(client, PAGE, CARD, {"card-token": token, "card-name": "Jo"})
    assert response.status_code == 303


def _paths(app, account, merchant):
    values = {**account.url_values(), "company_id": merchant.id, "name": "city"}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/sandbox-gateway/") or rule.rule == "/portal/sign-out":
            continue
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH"}):
            path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values.get(m.group(1), "x"), rule.rule)
            yield method, path


def test_no_portal_route_accepts_a_raw_card_number_in_production(
    app, client, merchant, production, gateway, caplog
):
    account = build_account(merchant)
    sign_in_with_handoff(client, merchant, account.id)
    auth = {**bearer(merchant, account.id), "X-CSRFToken": csrf_token(page(client, "/portal"))}
    before = {m.id for m in methods(account.id)}
    card = {"number": PAN, "cvc": "737", "expiry": "12/39", "exp_month": 12, "exp_year": 2039}
    as_form = {**card, **{f"card-{k}": v for k, v in card.items()}, "card-name": "Jo"}
    statuses = []
    for method, path in _paths(app, account, merchant):
        statuses.append(client.open(path, method=method, data=as_form, headers=auth).status_code)
        body = {**card, "type": "PAYMENT_CARD", "token": PAN}
        statuses.append(client.open(path, method=method, json=body, headers=auth).status_code)
    assert 500 not in statuses and len(statuses) > 40
    assert gateway.cards_read == 0 and PAN not in caplog.text
    assert {m.id for m in methods(account.id)} <= before  # none added (some routes remove)


def test_the_add_card_page_runs_only_our_two_scripts_and_talks_only_to_itself(client, merchant):
    # The card fields are only as safe as the scripts beside them: a new one must be a decision.
    account = build_account(merchant)
    sign_in_with_handoff(client, merchant, account.id)
    response = client.get(PAGE)
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', response.get_data(as_text=True))
    names = sorted(re.sub(r"\.[0-9a-f]{12}\.js$", ".js", src) for src in scripts)
    assert names == ["/assets/tokenize.js", "/assets/vendor/htmx-2.0.11.min.js"]
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "connect-src 'self';" in policy
