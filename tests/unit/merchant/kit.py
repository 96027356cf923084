"""Helpers for the merchant settings tests: a browser-like merchant user (CSRF scraped from
the pages, htmx requests with the header token), fake DNS answers and the form a settings page
would post. The owner's sign-in is on ``support.Merchant``, CSRF scraping in ``browsing``."""

from html.parser import HTMLParser

from browsing import csrf_of
from support import OWNER_PASSWORD
from werkzeug.datastructures import MultiDict

from portal.models import MerchantSession, PortalConfig

SID = "__Host-merchant_sid"
DEVICE = "__Host-merchant_device"


def post_sign_in(client, email, password, **kwargs):
    page = client.get("/merchant/sign-in", **kwargs)
    if page.status_code == 303:  # already signed in: the form is posted from an open page
        page = client.get("/merchant/settings", **kwargs)
    data = {"csrf_token": csrf_of(page), "email": email, "password": password}
    return client.post("/merchant/sign-in", data=data, **kwargs)


class MerchantUser:
    """A signed-in merchant user's browser: GETs pages, POSTs forms with the page's token."""

    def __init__(self, client, merchant, email=None, password=OWNER_PASSWORD):
        self.client, self.merchant = client, merchant
        response = post_sign_in(client, email or merchant.owner_email, password)
        assert response.status_code == 303, response.get_data(as_text=True)
        self.token = csrf_of(client.get("/merchant/settings"))

    def get(self, path, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path, data=None, **kwargs):
        return self.client.post(path, data={"csrf_token": self.token, **(data or {})}, **kwargs)

    def hx_post(self, path, data=None):
        """What htmx sends: the form's fields, the token as a header, HX-Request."""
        headers = {"HX-Request": "true", "X-CSRFToken": self.token}
        return self.client.post(path, data=data or {}, headers=headers)

    def hx_get(self, path):
        return self.client.get(path, headers={"HX-Request": "true"})


def sid(client) -> str | None:
    cookie = client.get_cookie(SID, domain="portal.test")
    return cookie.value if cookie else None


def session_rows() -> int:
    return MerchantSession.select().count()


class FakeResolver:
    """TXT answers from a dict; ``unavailable`` makes every lookup fail like a DNS outage."""

    def __init__(self, records=None, unavailable=False):
        self.records = records or {}
        self.unavailable = unavailable
        self.asked = []

    def txt(self, name):
        from portal.portal_settings.domains import DnsUnavailable

        self.asked.append(name)
        if self.unavailable:
            raise DnsUnavailable("no resolver")
        return list(self.records.get(name, []))


class _FormReader(HTMLParser):
    """Collects what a browser would submit for the first form whose action is ``action``:
    checked boxes, text values, selected options; nothing disabled or in a disabled fieldset."""

    def __init__(self, action):
        super().__init__()
        self.action, self.inside, self.disabled_depth = action, False, 0
        self.fieldsets, self.pairs, self.select, self.selected, self.first = [], [], None, [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("action") == self.action and not self.pairs:
            self.inside = True
        if not self.inside:
            return
        if tag == "fieldset":
            self.fieldsets.append("disabled" in a)
        off = "disabled" in a or any(self.fieldsets)
        if tag == "input" and not off and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.pairs.append((a["name"], a.get("value", "on")))
            else:
                self.pairs.append((a["name"], a.get("value", "")))
        elif tag == "select" and not off:
            self.select, self.selected, self.first = a["name"], [], None
        elif tag == "option" and self.select:
            value = a.get("value", "")
            self.first = value if self.first is None else self.first
            if "selected" in a:
                self.selected.append(value)

    def handle_endtag(self, tag):
        if not self.inside:
            return
        if tag == "fieldset" and self.fieldsets:
            self.fieldsets.pop()
        elif tag == "select" and self.select:
            chosen = self.selected or ([self.first] if self.first is not None else [])
            self.pairs += [(self.select, value) for value in chosen]
            self.select = None
        elif tag == "form":
            self.inside = False


def form_state(html: str, action: str = "/merchant/settings") -> MultiDict:
    reader = _FormReader(action)
    reader.feed(html)
    return MultiDict(reader.pairs)


def page_state(owner) -> MultiDict:
    """What the settings form would post right now (a browser without JavaScript)."""
    return form_state(owner.get("/merchant/settings").get_data(as_text=True))


def stored_config(merchant):
    """The stored config as (version, settings); None while only the defaults were read."""
    row = PortalConfig.get_or_none(PortalConfig.company == merchant.id)
    return (row.version, row.settings) if row else None
