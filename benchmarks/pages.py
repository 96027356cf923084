"""What `scripts/bench` measures: the pages and posts (wrk endpoints), signed in like a browser
— the heavy customer through the handoff API, the company's owner through the merchant
sign-in form — and each checked once before any load (else the numbers mean nothing)."""

import gzip
import json
from pathlib import Path
from urllib.parse import urlencode

from . import dataset
from .accounts import form_values, merchant_sign_in, reset_owner_password, sign_in
from .harness import Browser
from .wrk import Endpoint

HOME = "Portal home"
REQUEST_LINK = "POST request-link"
FORM_POST = "POST billing field (htmx save)"
BILLING = "/portal/billing-information"
SAVED_FIELD = "city"  # saved with the value it already has: each request writes, nothing changes


def _cookie(browser: Browser) -> str:
    return "; ".join(f"{k}={v}" for k, v in browser.cookies.items())


def _form_post(browser: Browser, headers: dict) -> Endpoint:
    """The billing-information page's inline save of one field, as htmx sends it on change:
    the whole form urlencoded (its CSRF token, version and nonce included), the token also in
    ``X-CSRFToken``, ``HX-Request``. The answer is the saved field (200)."""
    page = browser.get(BILLING)
    if page.status != 200:
        raise SystemExit(f"{BILLING}: {page.status} {page.text[:300]}")
    values = form_values(page.text, BILLING)
    token = next(v for k, v in values.items() if k.endswith("csrf_token"))
    if not any(k.rsplit("-", 1)[-1] == SAVED_FIELD for k in values):
        raise SystemExit(f"{BILLING} has no {SAVED_FIELD} field")
    return Endpoint(
        FORM_POST,
        "POST",
        f"{BILLING}/field/{SAVED_FIELD}",
        {
            **headers,
            "Cookie": _cookie(browser),
            "Content-Type": "application/x-www-form-urlencoded",
            "HX-Request": "true",
            "X-CSRFToken": token,
        },
        body=urlencode(values),
        expect='role="status">Saved<',
    )


def endpoints(url: str, port: int, info: dict, keys: tuple[str, str], emails: Path) -> list:
    """Every endpoint of the run, its cookies from fresh sign-ins on the server at ``port``."""
    secret, publishable = keys
    gzip_only = {"Accept-Encoding": "gzip"}
    customer = sign_in(port, secret, info["heavy_customer_id"])
    customer.get("/portal")  # a browser then holds the CSRF session cookie too
    form_post = _form_post(customer, gzip_only)
    session = {**gzip_only, "Cookie": _cookie(customer)}
    password = reset_owner_password(url, dataset.OWNER_EMAIL)
    merchant = merchant_sign_in(port, dataset.OWNER_EMAIL, password)
    merchant.get("/merchant/settings")
    merchant_session = {**gzip_only, "Cookie": _cookie(merchant)}
    customer.close()
    merchant.close()
    return [
        Endpoint("Sign-in page", "GET", f"/p/{info['company_id']}", gzip_only),
        Endpoint(HOME, "GET", "/portal", session),
        Endpoint("Invoices, page 1", "GET", "/portal/invoices?page=1", session),
        Endpoint("Invoices, page 50", "GET", "/portal/invoices?page=50", session),
        Endpoint(
            "htmx fragment (invoices page 2)",
            "GET",
            "/portal/invoices?page=2",
            {**session, "HX-Request": "true"},
        ),
        Endpoint("Invoice PDF", "GET", f"/portal/invoices/{info['heavy_invoice_id']}/pdf", session),
        Endpoint("Payment methods", "GET", "/portal/payment-methods", session),
        form_post,
        Endpoint("Merchant settings", "GET", "/merchant/settings", merchant_session),
        Endpoint(
            REQUEST_LINK,
            "POST",
            "/v1/api/customer-portal/access/request-link",
            {**gzip_only, "x-easy-api-key": publishable, "Content-Type": "application/json"},
            str(emails),
            info["company_id"],
        ),
        Endpoint(
            "GET customer-portal-config",
            "GET",
            "/v1/api/customer-portal-config",
            {**gzip_only, "x-easy-api-key": secret},
        ),
    ]


def check(port: int, endpoints: list[Endpoint], email: str) -> list[str]:
    """Each endpoint answers once with success — a 200 for a page (not a redirect to a sign-in
    page), a 2xx or the 303 of a plain form for a post — and, where set, the text that shows
    it did what it should. Returns what went wrong (nothing, normally)."""
    problems = []
    browser = Browser(port)
    for endpoint in endpoints:
        browser.cookies.clear()  # only the endpoint's own Cookie header, as under wrk
        body = endpoint.body
        if endpoint.sends_mail:
            body = json.dumps({"company_id": endpoint.company_id, "email": email})
        reply = browser.request(endpoint.method, endpoint.path, body=body, headers=endpoint.headers)
        text = reply.body
        if reply.headers.get("Content-Encoding") == "gzip":
            text = gzip.decompress(text)
        text = text.decode(errors="replace")
        ok = reply.status == 200 if endpoint.method == "GET" else 200 <= reply.status < 300
        if not (ok or (endpoint.method == "POST" and reply.status == 303)):
            problems.append(f"{endpoint.name}: {reply.status} {text[:300]}")
        elif endpoint.expect and endpoint.expect not in text:
            problems.append(f"{endpoint.name}: {endpoint.expect!r} not in {text[:300]}")
    browser.close()
    return problems
