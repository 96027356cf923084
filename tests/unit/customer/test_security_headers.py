"""Security headers on the portal pages, and markup that works under the strict CSP (no
inline script, style or event handler; htmx configured without eval)."""

import json
import re
from html.parser import HTMLParser

import pytest
from browsing import HTMX, page, sign_in_with_handoff

PAGES = [
    "/portal",
    "/portal/payment-methods",
    "/portal/billing-information",
    "/portal/invoices",
    "/portal/invoices/{invoice}",
]


def csp_of(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    directives = [part.split() for part in policy.split(";") if part.strip()]
    return {d[0]: d[1:] for d in directives}


class _Inline(HTMLParser):
    """What a strict CSP would block: inline scripts, styles and handlers, hx-on."""

    def __init__(self):
        super().__init__()
        self.blocked: list = []
        self._in_script = False
        self.htmx_config = None

    def handle_starttag(self, tag, attrs):
        attr = dict(attrs)
        if tag == "script" and not attr.get("src"):
            self.blocked.append(("inline script", attr))
        if tag == "style":
            self.blocked.append(("style element", attr))
        for name in attr:
            if name == "style" or name.startswith("on") or name.startswith(("hx-on", "data-hx-on")):
                self.blocked.append((tag, name))
        if tag == "meta" and attr.get("name") == "htmx-config":
            self.htmx_config = json.loads(attr["content"])


def inline_of(html: str) -> _Inline:
    parser = _Inline()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("path", PAGES)
def test_portal_pages_send_the_security_headers(client, signed_in, path):
    response = client.get(path.format(invoice=signed_in.open_invoice))
    assert response.status_code == 200
    csp = csp_of(response)
    flat = " ".join(" ".join(values) for values in csp.values())
    assert "'unsafe-inline'" not in flat and "'unsafe-eval'" not in flat and "*" not in flat
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["script-src"] == ["'self'"] and csp["object-src"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "no-store" in response.headers["Cache-Control"]


@pytest.mark.parametrize("path", PAGES)
def test_portal_pages_need_nothing_the_csp_blocks(client, signed_in, path):
    parsed = inline_of(page(client, path.format(invoice=signed_in.open_invoice)))
    assert parsed.blocked == []
    assert parsed.htmx_config["allowEval"] is False
    assert parsed.htmx_config["allowScriptTags"] is False
    assert parsed.htmx_config["includeIndicatorStyles"] is False  # htmx would inject a <style>


def test_htmx_regions_and_the_pdf_send_them_too(client, signed_in):
    region = client.get("/portal/invoices", headers=HTMX)
    pdf = client.get(f"/portal/invoices/{signed_in.paid_invoice}/pdf")
    for response in (region, pdf):
        assert csp_of(response)["frame-ancestors"] == ["'none'"]
        assert "no-store" in response.headers["Cache-Control"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert inline_of(region.get_data(as_text=True)).blocked == []


def test_the_public_sign_in_page_is_framed_by_no_one(client, merchant):
    response = client.get(f"/p/{merchant.id}")
    assert csp_of(response)["frame-ancestors"] == ["'none'"]
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert inline_of(response.get_data(as_text=True)).blocked == []


def test_the_session_cookie_is_host_only_http_only_and_lax(client, merchant, account):
    cookie = sign_in_with_handoff(client, merchant, account.id).headers.getlist("Set-Cookie")
    session = next(c for c in cookie if c.startswith("__Host-portal_sid="))
    assert re.search(r"; Secure", session) and "HttpOnly" in session and "SameSite=Lax" in session
    assert "Domain=" not in session and "Path=/" in session
