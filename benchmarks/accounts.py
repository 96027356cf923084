"""Signing the tools in: API keys for the bench company, customers through the handoff API, and
the owner through the merchant sign-in form, as a browser would (CSRF token included)."""

import html
import json
import re
import secrets

from .harness import Browser

INPUT = re.compile(r"<input\b([^>]*)>")
SELECT = re.compile(r"<select\b([^>]*)>(.*?)</select>", re.S)
OPTION = re.compile(r"<option\b([^>]*)>")
ATTR = re.compile(r'([\w-]+)(?:="([^"]*)")?')


def _attrs(text: str) -> dict:
    return {name: html.unescape(value or "") for name, value in ATTR.findall(text)}


def form_values(page: str, action: str) -> dict:
    """Every value the form posting to ``action`` would send: named inputs (checkboxes only
    when checked) and each select's selected option."""
    for attrs, body in re.findall(r"<form\b([^>]*)>(.*?)</form>", page, re.S):
        if _attrs(attrs).get("action") != action:
            continue
        values = {}
        for tag in INPUT.findall(body):
            a = _attrs(tag)
            kind = a.get("type", "text")
            sent = kind not in ("checkbox", "radio") or "checked" in a
            if "name" in a and kind not in ("submit", "button", "file") and sent:
                values[a["name"]] = a.get("value", "")
        for attrs_, options in SELECT.findall(body):
            chosen = [_attrs(o) for o in OPTION.findall(options)]
            picked = next((o for o in chosen if "selected" in o), chosen[0] if chosen else {})
            if "name" in _attrs(attrs_):
                values[_attrs(attrs_)["name"]] = picked.get("value", "")
        return values
    raise RuntimeError(f"no form posting to {action} on the page")


def handoff_url(port: int, secret_key: str, customer_id: str) -> str:
    """Mint a handoff link for ``customer_id`` through the merchant API; returns its path."""
    api = Browser(port)
    reply = api.request(
        "POST",
        "/v1/api/customer-portal/access/handoff",
        body=json.dumps({"customer_id": customer_id}),
        headers={"x-easy-api-key": secret_key, "Content-Type": "application/json"},
    )
    api.close()
    if reply.status != 201:
        raise RuntimeError(f"handoff failed: {reply.status} {reply.text[:300]}")
    url = reply.json()["data"]["url"]
    return url.split(f"127.0.0.1:{port}", 1)[1]


def sign_in(port: int, secret_key: str, customer_id: str) -> Browser:
    """A browser signed in as ``customer_id`` (session cookie from the handoff redirect)."""
    browser = Browser(port)
    reply = browser.get(handoff_url(port, secret_key, customer_id))
    if reply.status != 303 or not browser.cookies:
        raise RuntimeError(f"handoff sign-in failed: {reply.status} {reply.text[:300]}")
    return browser


def merchant_sign_in(port: int, email: str, password: str) -> Browser:
    """A browser signed in to the merchant settings through the public sign-in form."""
    browser = Browser(port)
    page = browser.get("/merchant/sign-in")
    if page.status != 200:
        raise RuntimeError(f"/merchant/sign-in answered {page.status}")
    form = {**form_values(page.text, "/merchant/sign-in"), "email": email, "password": password}
    reply = browser.request("POST", "/merchant/sign-in", form=form)
    if reply.status != 303 or "/merchant/settings" not in reply.headers.get("Location", ""):
        raise RuntimeError(f"merchant sign-in failed: {reply.status} {reply.text[:300]}")
    return browser


def mint_keys(database_url: str, company_id: str) -> tuple[str, str]:
    """Fresh secret and publishable keys for the bench company (stored keys are hashed)."""
    from portal.access.merchants import create_api_key
    from portal.db import bind, db
    from portal.models import Company

    bind(database_url)
    with db.connection_context(), db.atomic():
        company = Company.get_by_id(company_id)
        return create_api_key(company, "secret")[1], create_api_key(company, "publishable")[1]


def reset_owner_password(database_url: str, email: str) -> str:
    """A fresh password for the bench company's owner (the dataset's is random and not kept;
    stored passwords are hashed), so the run can sign in through the sign-in form."""
    from portal.access.merchants import hash_password
    from portal.db import bind, db
    from portal.models import MerchantUser

    password = secrets.token_urlsafe(24)
    bind(database_url)
    with db.connection_context(), db.atomic():
        query = MerchantUser.update(password_hash=hash_password(password))
        if query.where(MerchantUser.email == email).execute() != 1:
            raise RuntimeError(f"no merchant user {email} in the bench dataset")
    return password
