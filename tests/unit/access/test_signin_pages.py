"""The hosted sign-in pages: no account enumeration, form errors, links built from
configuration only, custom domains, the host guard and CSRF on every sign-in POST."""

import pytest
from browsing import csrf_of, on
from builders import make_customer
from support import add_domain

from portal.models import LoginToken

from .conftest import (
    BASE_URL,
    EMAIL,
    assert_same_time,
    fresh_link,
    latest_link,
    links_in_outbox,
    outbox,
    outbox_ids,
    path_of,
    press_continue,
    relax_link_limits,
    session_rows,
    sign_in,
    use_domain,
    without_csrf,
)

SPOOFED_HEADERS = [
    {"X-Forwarded-Host": "evil.example"},
    {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"},
    {"X-Host": "evil.example"},
    {"Forwarded": "host=evil.example;proto=https"},
    {"X-Original-Host": "evil.example", "X-Forwarded-Server": "evil.example"},
]


def post_sign_in(client, company_id, email, host="portal.test", path=None, **form):
    path = path or f"/p/{company_id}"
    page = client.get(path, **on(host))
    assert page.status_code == 200
    data = {"csrf_token": csrf_of(page), "email": email, **form}
    return client.post(path, data=data, **on(host))


# --- the page and its answers ----------------------------------------------------------------


def test_the_sign_in_page_is_a_stable_url_per_company(client, merchant):
    page = client.get(f"/p/{merchant.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Manage your Acme Cloud billing" in html and 'name="email"' in html
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert client.get("/p/not-a-company").status_code == 404
    assert client.get("/p/" + "x" * 300).status_code == 404


def test_known_and_unknown_addresses_get_byte_identical_answers(client, merchant, customer):
    answers = []
    for email in (EMAIL, "nobody@example.com"):
        response = post_sign_in(client, merchant.id, email)
        body = without_csrf(response.get_data(), csrf_of(client.get(f"/p/{merchant.id}")))
        headers = sorted((k, v) for k, v in response.headers.items() if k != "Set-Cookie")
        answers.append((response.status_code, body, headers))
    assert answers[0] == answers[1]
    assert answers[0][0] == 200 and b"Check your inbox" in answers[0][1]
    assert [m.to_address for m in outbox()] == [EMAIL]


def test_known_and_unknown_addresses_take_the_same_time(app, client, merchant, customer):
    relax_link_limits(app)
    token = csrf_of(client.get(f"/p/{merchant.id}"))

    def send(email):
        return lambda: client.post(f"/p/{merchant.id}", data={"csrf_token": token, "email": email})

    assert_same_time(send(EMAIL), send("nobody@example.com"))


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Enter your email address."),
        ("not-an-email", "Enter a valid email address."),
        ("a@" + "b" * 260 + ".com", "Field cannot be longer than 254 characters."),
    ],
)
def test_an_invalid_address_gets_a_form_error(client, merchant, customer, email, message):
    response = post_sign_in(client, merchant.id, email)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'aria-invalid="true"' in html
    assert outbox() == []


@pytest.mark.parametrize(
    ("destination", "lands_on"),
    [
        ("home", "/portal"),
        ("payment_methods", "/portal/payment-methods"),
        ("billing_information", "/portal/billing-information"),
        ("https://evil.example", "/portal"),
    ],
)
def test_the_form_can_choose_where_the_link_lands(
    client, merchant, customer, destination, lands_on
):
    before = outbox_ids()
    post_sign_in(client, merchant.id, EMAIL, destination=destination)
    response = press_continue(client, latest_link(EMAIL, since=before))
    assert response.status_code == 303 and response.location == lands_on
    assert client.get(lands_on).status_code == 200


# --- links come from configuration -----------------------------------------------------------


@pytest.mark.parametrize("headers", SPOOFED_HEADERS)
def test_forwarding_headers_never_reach_the_emailed_link(client, merchant, customer, headers):
    page = client.get(f"/p/{merchant.id}", headers=headers)
    data = {"csrf_token": csrf_of(page), "email": EMAIL}
    assert client.post(f"/p/{merchant.id}", data=data, headers=headers).status_code == 200
    links = links_in_outbox()
    assert links and all(link.startswith(BASE_URL + "/portal/access/") for link in links)


@pytest.mark.parametrize("host", ["evil.example", "portal.test.evil.example", "127.0.0.1"])
def test_an_unknown_host_is_refused_before_any_page_runs(client, merchant, customer, host):
    for path in (f"/p/{merchant.id}", "/", "/portal", "/portal/access/x"):
        response = client.get(path, **on(host))
        assert response.status_code == 421, path
        assert host not in (response.location or "")
    # Even a POST carrying a genuine CSRF cookie and token (curl can copy them over).
    token = csrf_of(client.get(f"/p/{merchant.id}"))
    client.set_cookie(
        "__Host-csrf", client.get_cookie("__Host-csrf", domain="portal.test").value, domain=host
    )
    data = {"csrf_token": token, "email": EMAIL}
    assert client.post(f"/p/{merchant.id}", data=data, **on(host)).status_code == 421
    assert outbox() == []


def test_a_chosen_verified_domain_hosts_sign_in_and_links(
    client, merchant, other_merchant, customer
):
    acme = add_domain(merchant.company, "billing.acme.test")
    add_domain(other_merchant.company, "billing.globex.test")
    use_domain(merchant, acme)
    root = client.get("/", **on("billing.acme.test"))
    assert root.status_code == 200 and "Manage your Acme Cloud billing" in root.get_data(
        as_text=True
    )
    before = outbox_ids()
    answer = post_sign_in(client, merchant.id, EMAIL, host="billing.acme.test", path="/")
    assert answer.status_code == 200
    url = latest_link(EMAIL, since=before)
    assert url.startswith("http://billing.acme.test/portal/access/")
    # Company A's link is worthless on company B's domain and on the shared base host.
    for host in ("billing.globex.test", "portal.test"):
        assert client.get(path_of(url), **on(host)).status_code == 404
    assert LoginToken.get().used_at is None
    assert press_continue(client, url).status_code == 303
    assert client.get("/portal", **on("billing.acme.test")).status_code == 200


def test_a_spent_link_shows_nothing_of_its_company_on_another_host(
    client, merchant, other_merchant, customer
):
    use_domain(merchant, add_domain(merchant.company, "billing.acme.test"))
    add_domain(other_merchant.company, "billing.globex.test")
    url = fresh_link(merchant)
    fresh_link(merchant)  # replaces the first: it is now spent
    assert client.get(path_of(url), **on("billing.acme.test")).status_code == 410
    before = outbox_ids()
    for host in ("billing.globex.test", "portal.test"):
        page = client.get(path_of(url), **on(host))
        assert page.status_code == 404 and "Acme" not in page.get_data(as_text=True)
        form_page = f"/p/{merchant.id}" if host == "portal.test" else "/"
        token = csrf_of(client.get(form_page, **on(host)))
        renew = client.post(path_of(url) + "/renew", data={"csrf_token": token}, **on(host))
        assert renew.status_code == 404
    assert outbox_ids() == before


def test_a_company_page_is_not_served_on_another_companys_domain(client, merchant, other_merchant):
    add_domain(other_merchant.company, "billing.globex.test")
    assert client.get(f"/p/{merchant.id}", **on("billing.globex.test")).status_code == 404
    assert client.get(f"/p/{other_merchant.id}", **on("billing.globex.test")).status_code == 200


def test_an_unverified_domain_is_refused(client, merchant, customer):
    add_domain(merchant.company, "billing.acme.test", verified=False)
    assert client.get("/", **on("billing.acme.test")).status_code == 421
    assert client.get(f"/p/{merchant.id}", **on("billing.acme.test")).status_code == 421
    # And it cannot be chosen for links.
    domain_id = add_domain(merchant.company, "pay.acme.test", verified=False).id
    response = merchant.patch("/customer-portal-config", {"custom_domain_id": domain_id})
    assert response.status_code == 422
    assert fresh_link(merchant).startswith(BASE_URL + "/")


def test_the_base_host_root_is_a_neutral_landing_page(client, merchant):
    response = client.get("/")
    assert response.status_code == 200
    assert client.post("/").status_code in (400, 405)


# --- CSRF ------------------------------------------------------------------------------------


def _csrf_targets(client, merchant):
    url = fresh_link(merchant)
    return [
        (f"/p/{merchant.id}", {"email": EMAIL}),
        (path_of(url), {}),
        (path_of(url) + "/renew", {}),
        ("/portal/sign-out", {}),
    ]


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_sign_in_posts_without_a_valid_csrf_token_are_refused(client, merchant, customer, token):
    sign_in(client, merchant)
    before = outbox_ids()
    for path, data in _csrf_targets(client, merchant):
        if token:
            data = {**data, "csrf_token": token}
        response = client.post(path, data=data)
        assert response.status_code == 400, path
    assert len(outbox_ids() - before) == 1  # only _csrf_targets' own link request
    assert session_rows() == 1 and client.get("/portal").status_code == 200


def test_cross_site_posts_are_refused_even_with_a_token(client, merchant, customer):
    sign_in(client, merchant)
    token = csrf_of(client.get("/portal"))
    before = outbox_ids()
    for path, data in _csrf_targets(client, merchant):
        response = client.post(
            path, data={**data, "csrf_token": token}, headers={"Sec-Fetch-Site": "cross-site"}
        )
        assert response.status_code == 403, path
    assert len(outbox_ids() - before) == 1  # only _csrf_targets' own link request
    assert session_rows() == 1 and client.get("/portal").status_code == 200


def test_a_csrf_token_from_another_browser_is_refused(client, merchant, customer):
    other = client.application.test_client()
    foreign = csrf_of(other.get(f"/p/{merchant.id}"))
    client.get(f"/p/{merchant.id}")
    response = client.post(f"/p/{merchant.id}", data={"csrf_token": foreign, "email": EMAIL})
    assert response.status_code == 400
    assert outbox() == []


def test_the_same_address_at_another_company_is_another_customer(client, merchant, other_merchant):
    make_customer(other_merchant, email=EMAIL)
    post_sign_in(client, merchant.id, EMAIL)
    assert outbox() == []
