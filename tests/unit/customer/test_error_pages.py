"""Branded error pages: a /portal page's 403, 404, 409, 410 and 500 render inside the
merchant's shell for a signed-in customer (with the way back to the overview), in the public
branded layout for a signed-out visitor whose company is known (custom domain or the
``portal_company`` cookie, with that company's sign-in link), and as the neutral page
otherwise. The JSON API, the merchant pages and the other statuses answer as before; the
500 page never fails itself and never shows the exception.

No real page route answers 409 or 410 through the error handlers (the stale plan change and
the spent sign-in link render their own pages with those statuses), and none can be made to
fail on purpose, so the tests register tiny routes under /portal/_test/ on the app before
its first request. Their endpoints are named ``customer.…``: Flask derives the blueprint from
the endpoint, so Flask-Login loads the portal session for them as for every customer route.
"""

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from browsing import csrf_token, page, portal_json, text_of
from builders import bearer, handoff
from peewee import OperationalError
from portalkit import snapshot
from support import add_domain
from werkzeug.exceptions import NotFound

from portal.web import PLAIN_500

SECRET = "db-password=hunter2 at /srv/portal/billing.py line 42"
BACK = "Back to your billing overview"
COPY = {
    403: ("This request was refused", "You don't have permission to do that"),
    404: ("We can't find that page", "The link may be incomplete"),
    409: ("This changed in the meantime", "your change wasn't made"),
    410: ("This link has expired", "work only for a limited time"),
    500: ("Something went wrong on our side", "Nothing was charged twice. Please try again"),
}
DOMAIN = "billing.acme.test"


def _abort(code):
    from flask import abort

    abort(code)


def _boom():
    raise RuntimeError(SECRET)


@pytest.fixture(autouse=True)
def test_routes(app):
    """Added before the app's first request (Flask refuses new routes after it)."""
    app.add_url_rule("/portal/_test/abort/<int:code>", "customer._test_abort", _abort)
    app.add_url_rule("/portal/_test/boom", "customer._test_boom", _boom)
    app.add_url_rule("/_test/boom", "_test_boom_elsewhere", _boom)
    app.add_url_rule("/v1/api/_test/boom", "_test_boom_api", _boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer the 500 page instead of raising


def status_path(code: int) -> str:
    """A 404 from a real route (an unknown invoice id), the others from the test routes."""
    special = {404: "/portal/invoices/inv_doesnotexist", 500: "/portal/_test/boom"}
    return special.get(code, f"/portal/_test/abort/{code}")


def refused_cross_site_post(client):
    """A real 403: a form post the browser marks as coming from another site."""
    token = csrf_token(page(client, "/portal/billing-information"))
    return client.post(
        "/portal/billing-information",
        data={"csrf_token": token, "bi-city": "Elsewhere"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )


def error_response(client, code: int):
    return refused_cross_site_post(client) if code == 403 else client.get(status_path(code))


def sign_out(client):
    token = csrf_token(page(client, "/portal"))
    assert client.post("/portal/sign-out", data={"csrf_token": token}).status_code == 303


class _Structure(HTMLParser):
    """What the a11y checks rely on: headings, landmarks, links, inline code the CSP blocks."""

    def __init__(self):
        super().__init__()
        self.tags: dict[str, int] = {}
        self.html_lang = None
        self.main_ids: list = []
        self.nav_labels: list = []
        self.links: list[list[str]] = []  # [href, text]
        self.inline: list = []
        self._href = None
        self._title = False
        self.title = ""

    def handle_starttag(self, tag, attrs):
        attr = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag == "html":
            self.html_lang = attr.get("lang")
        if tag == "main":
            self.main_ids.append(attr.get("id"))
        if tag == "nav":
            self.nav_labels.append(attr.get("aria-label"))
        if tag == "a":
            self._href = attr.get("href")
            self.links.append([self._href, ""])
        if tag == "title":
            self._title = True
        if (tag == "script" and not attr.get("src")) or tag == "style":
            self.inline.append(tag)
        self.inline += [(tag, n) for n in attr if n == "style" or n.startswith("on")]

    def handle_endtag(self, tag):
        if tag == "a":
            self._href = None
        if tag == "title":
            self._title = False

    def link_texts(self, href: str) -> list[str]:
        return [" ".join(text.split()) for target, text in self.links if target == href]

    def handle_data(self, data):
        if self._href is not None:
            self.links[-1][1] += data
        if self._title:
            self.title += data


def structure(html: str) -> _Structure:
    parsed = _Structure()
    parsed.feed(html)
    return parsed


def assert_accessible_page(html: str, heading: str) -> _Structure:
    """One h1 (the status's heading), the landmarks, a title, no inline code."""
    parsed = structure(html)
    assert parsed.tags.get("h1") == 1, parsed.tags
    assert f"<h1>{heading}</h1>" in html.replace("&#39;", "'")
    assert parsed.html_lang == "en"
    assert parsed.main_ids == ["main"] and parsed.tags.get("header") == 1
    assert parsed.link_texts("#main") == ["Skip to content"]
    assert heading in parsed.title.replace("&#39;", "'")
    assert parsed.inline == []
    return parsed


def assert_security_headers(response) -> None:
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "no-store" in response.headers["Cache-Control"]


# --- signed in: inside the merchant's shell ----------------------------------------------------


def test_an_unknown_invoice_is_a_404_inside_the_shell(client, signed_in):
    response = client.get("/portal/invoices/inv_doesnotexist")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    text = text_of(html)
    assert "Acme Cloud" in text and "We can't find that page" in text
    parsed = assert_accessible_page(html, "We can't find that page")
    assert parsed.nav_labels == ["Billing sections"]
    assert parsed.link_texts("/portal") == ["Overview", BACK]
    assert parsed.link_texts("/portal/invoices") == ["Invoices"]
    assert "Sign out" in text
    assert_security_headers(response)


@pytest.mark.parametrize("code", sorted(COPY))
def test_each_status_has_its_heading_and_sentence_in_the_shell(client, signed_in, code):
    response = error_response(client, code)
    assert response.status_code == code
    html = response.get_data(as_text=True)
    heading, sentence = COPY[code]
    assert_accessible_page(html, heading)
    text = text_of(html)
    assert sentence in text and BACK in text and "Acme Cloud" in text
    assert structure(html).nav_labels == ["Billing sections"]
    assert_security_headers(response)


def test_the_shell_keeps_the_merchants_return_link_and_test_mode_mark(client, merchant, signed_in):
    merchant.ok("PATCH", "/customer-portal-config", {"return_url": "https://acme.example/app"})
    html = page(client, "/portal/invoices/inv_doesnotexist", 404)
    assert 'href="https://acme.example/app"' in html and "Return to Acme Cloud" in html
    assert "Test mode" in text_of(html)  # the merchant has test keys only


def test_an_unknown_portal_address_is_a_404_inside_the_shell_too(client, signed_in):
    """No route matched, so no blueprint: the session is still the customer's."""
    html = page(client, "/portal/no-such-page", 404)
    assert_accessible_page(html, "We can't find that page")
    assert BACK in text_of(html) and "Acme Cloud" in text_of(html)


def test_a_disabled_sections_404_is_in_the_shell_without_that_section(client, merchant, signed_in):
    merchant.ok("PATCH", "/customer-portal-config", {"invoice_history_enabled": False})
    html = page(client, "/portal/invoices", 404)
    assert_accessible_page(html, "We can't find that page")
    # No way to the list; the past-due banner still leads to the one late invoice.
    assert 'href="/portal/invoices"' not in html
    assert re.findall(r'href="(/portal/invoices[^"]*)"', html) == [
        f"/portal/invoices/{signed_in.open_invoice}"
    ]


def test_the_refused_cross_site_post_changes_nothing(client, signed_in):
    before = snapshot()
    assert refused_cross_site_post(client).status_code == 403
    assert snapshot() == before


def test_the_500_page_is_branded_and_shows_nothing_of_the_exception(client, signed_in):
    response = client.get("/portal/_test/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert_accessible_page(html, "Something went wrong on our side")
    assert "Nothing was charged twice" in html and BACK in html and "Acme Cloud" in html
    for leak in (SECRET, "hunter2", "RuntimeError", "Traceback", "billing.py"):
        assert leak not in html
    assert_security_headers(response)


@pytest.mark.parametrize("broken", ["company", "settings"])
def test_the_500_page_falls_back_to_the_plain_one_when_the_shell_fails(
    client, signed_in, monkeypatch, broken
):
    """The database is down: building the shell raises, the plain 500 still answers."""

    def down(*_args, **_kwargs):
        raise OperationalError(f"could not connect: {SECRET}")

    monkeypatch.setattr(f"portal.customer.shell.{broken}", down)
    response = client.get("/portal/_test/boom")
    assert response.status_code == 500
    assert response.get_data(as_text=True) == PLAIN_500
    assert_security_headers(response)


def test_a_404_whose_branded_page_fails_stays_a_404(client, signed_in, monkeypatch):
    def down(*_args, **_kwargs):
        raise OperationalError(SECRET)

    monkeypatch.setattr("portal.customer.shell.company", down)
    response = client.get("/portal/no-such-page")
    assert response.status_code == 404
    assert SECRET not in response.get_data(as_text=True)


def test_the_500_page_falls_back_when_even_the_session_cannot_load(client, signed_in, monkeypatch):
    def down(*_args, **_kwargs):
        raise OperationalError(SECRET)

    monkeypatch.setattr("portal.access.sessions.load_session", down)
    response = client.get("/portal/_test/boom")
    assert response.status_code == 500 and response.get_data(as_text=True) == PLAIN_500


# --- signed out: the public branded layout, with the company's sign-in link --------------------


@pytest.mark.parametrize("code", [404, 409, 410, 500])
def test_a_signed_out_visitor_with_the_company_cookie_gets_the_public_branded_page(
    client, merchant, signed_in, code
):
    sign_out(client)  # the session ends; the portal_company cookie stays
    path = "/portal/no-such-page" if code == 404 else status_path(code)
    response = client.get(path)
    assert response.status_code == code
    html = response.get_data(as_text=True)
    heading, sentence = COPY[code]
    parsed = assert_accessible_page(html, heading)
    text = text_of(html)
    assert "Acme Cloud" in text and sentence in text
    assert parsed.link_texts(f"/p/{merchant.id}") == ["Sign in to your Acme Cloud billing"]
    assert BACK not in text and "Sign out" not in text and parsed.nav_labels == []
    assert_security_headers(response)


def test_the_company_cookie_alone_is_enough(client, merchant):
    client.set_cookie("portal_company", merchant.id, domain="portal.test")
    html = page(client, "/portal/no-such-page", 404)
    assert_accessible_page(html, "We can't find that page")
    assert f'href="/p/{merchant.id}"' in html and "Acme Cloud" in text_of(html)


def test_on_a_custom_domain_the_domains_company_brands_the_page(client, merchant, other_merchant):
    add_domain(merchant.company, DOMAIN)
    # A cookie naming another company does not matter on the domain.
    client.set_cookie("portal_company", other_merchant.id, domain=DOMAIN)
    on_domain = {"base_url": f"http://{DOMAIN}"}
    for path in ("/portal/no-such-page", f"/p/{other_merchant.id}", "/no-such-page"):
        response = client.get(path, **on_domain)
        assert response.status_code == 404, path
        html = response.get_data(as_text=True)
        parsed = assert_accessible_page(html, "We can't find that page")
        assert "Acme Cloud" in text_of(html) and "Globex" not in html, path
        assert parsed.link_texts("/") == ["Sign in to your Acme Cloud billing"], path


def test_signed_in_on_a_custom_domain_any_unknown_address_is_in_the_shell(
    client, merchant, account
):
    domain = add_domain(merchant.company, DOMAIN)
    merchant.ok("PATCH", "/customer-portal-config", {"custom_domain_id": domain.id})
    on_domain = {"base_url": f"http://{DOMAIN}"}
    url = handoff(merchant, account.id)["url"]
    assert url.startswith(f"http://{DOMAIN}/")
    assert client.get(urlsplit(url).path, **on_domain).status_code == 303
    for path in ("/portal/no-such-page", "/no-such-page"):
        response = client.get(path, **on_domain)
        assert response.status_code == 404, path
        html = response.get_data(as_text=True)
        assert_accessible_page(html, "We can't find that page")
        assert BACK in text_of(html) and "Sign out" in text_of(html), path
        assert "no-store" in response.headers["Cache-Control"], path


# --- everything else answers as before ---------------------------------------------------------


@pytest.mark.parametrize("cookie", [None, "cmp_unknown", "x" * 65, "../etc"])
def test_with_no_known_company_the_page_stays_neutral(client, merchant, cookie):
    if cookie is not None:
        client.set_cookie("portal_company", cookie, domain="portal.test")
    response = client.get("/portal/no-such-page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "<h1>Not Found</h1>" in html and "Acme Cloud" not in html
    assert_security_headers(response)
    plain = client.get("/portal/_test/boom")
    assert plain.status_code == 500 and plain.get_data(as_text=True) == PLAIN_500


def test_the_public_pages_on_the_portals_own_host_stay_neutral(client, merchant, signed_in):
    response = client.get("/p/cmp_doesnotexist")
    assert response.status_code == 404
    assert "<h1>Not Found</h1>" in response.get_data(as_text=True)


def test_a_500_outside_the_portal_stays_plain(client, signed_in):
    response = client.get("/_test/boom")
    assert response.status_code == 500 and response.get_data(as_text=True) == PLAIN_500


def test_the_api_keeps_its_json_envelopes(client, merchant, signed_in):
    """Even with the portal's cookies in the browser, the API answers its own envelopes."""
    client.set_cookie("portal_company", merchant.id, domain="portal.test")
    unknown = client.get("/v1/api/no-such-route", headers={"x-easy-api-key": merchant.secret})
    assert unknown.status_code == 404 and unknown.mimetype == "application/json"
    body = unknown.get_json()
    assert set(body) == {"success", "timestamp", "error"} and body["success"] is False
    assert body["error"] == {
        "code": "NOT_FOUND",
        "message": NotFound.description,
        "details": None,
    }
    invoice = portal_json(client, "GET", "/invoices/inv_nope", bearer(merchant, signed_in.id))
    assert invoice.status_code == 404 and invoice.get_json()["error"]["code"] == "NOT_FOUND"
    failed = client.get("/v1/api/_test/boom")
    assert failed.status_code == 500 and failed.mimetype == "application/json"
    assert failed.get_json()["error"] == {
        "code": "INTERNAL_ERROR",
        "message": "Something went wrong on our side.",
        "details": None,
    }


def test_merchant_pages_keep_their_error_pages(client, merchant, signed_in):
    response = client.get("/merchant/no-such-page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "<h1>Not Found</h1>" in html and "Acme Cloud" not in html and BACK not in html


def test_405_and_421_answer_as_before(client, signed_in):
    not_allowed = client.post("/portal")
    assert not_allowed.status_code == 405 and "GET" in not_allowed.headers["Allow"]
    assert "<h1>Method Not Allowed</h1>" in not_allowed.get_data(as_text=True)
    misdirected = client.get("/portal/no-such-page", base_url="http://unknown.example")
    assert misdirected.status_code == 421
    assert "<h1>Misdirected Request</h1>" in misdirected.get_data(as_text=True)


def test_a_cross_site_post_on_an_unknown_host_is_a_neutral_403(client, signed_in):
    """Refused before the host check ran: the page still learns no company from the host."""
    token = csrf_token(page(client, "/portal/billing-information"))
    client.set_cookie("portal_company", signed_in.merchant.id, domain="unknown.example")
    response = client.post(
        "/portal/billing-information",
        data={"csrf_token": token},
        headers={"Sec-Fetch-Site": "cross-site"},
        base_url="http://unknown.example",
    )
    assert response.status_code in (400, 403)
    assert "Acme Cloud" not in response.get_data(as_text=True)
