"""The Flask test client used the way a browser uses the app, for the unit tests.

- request options: ``on(host)`` (another Host, whose cookies the client keeps apart),
  ``from_ip(ip)`` (another client address), ``HTMX`` (the headers htmx sends);
- pages: ``page`` (GET, status checked, the HTML), ``text_of`` (what a reader sees);
- forms: ``forms_of``, ``form``, ``has_form``, ``submit`` (what a browser would post without
  user input, then changed), and the CSRF token of a page (``csrf_of``, ``csrf_token``);
- the customer portal: ``sign_in_with_handoff`` (the session cookie lands in the client) and
  ``portal_json`` (the portal JSON API with ``builders.bearer`` headers).
"""

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from builders import handoff

PORTAL_API = "/customer-portal"
HTMX = {"HX-Request": "true"}

_CSRF_INPUT = re.compile(
    r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"'
)


def on(host: str) -> dict:
    """Request kwargs that make the test client talk to ``host`` (cookies follow the host)."""
    return {"base_url": f"http://{host}"}


def from_ip(ip: str) -> dict:
    """Request kwargs that make the request come from ``ip``."""
    return {"environ_base": {"REMOTE_ADDR": ip}}


def csrf_of(response) -> str:
    """The value of the page's csrf_token input (whichever order its attributes come in)."""
    match = _CSRF_INPUT.search(response.get_data(as_text=True))
    assert match, "page has no csrf_token input"
    return match.group(1) or match.group(2)


def csrf_token(html: str) -> str:
    """The first csrf_token input's value, also of prefixed ones (``card-csrf_token``)."""
    match = re.search(r'name="(?:[\w-]+-)?csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "page has no csrf_token input"
    return match.group(1)


# --- pages and forms ---------------------------------------------------------------------------


class _Forms(HTMLParser):
    """Every form's action and the values a browser would submit without user input."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attr = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attr.get("action") or "", "fields": {}})
            return
        if not self.forms:
            return
        fields = self.forms[-1]["fields"]
        if tag in ("input", "textarea") and attr.get("name"):
            fields[attr["name"]] = attr.get("value") or ""
        elif tag == "select":
            self._select = attr.get("name")
        elif (
            tag == "option" and self._select and ("selected" in attr or self._select not in fields)
        ):
            fields[self._select] = attr.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def forms_of(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form(html: str, action: str) -> dict:
    """The fields of the first form posting to ``action`` (fails when there is none)."""
    for found in forms_of(html):
        if found["action"] == action:
            return dict(found["fields"])
    raise AssertionError(
        f"no form posts to {action}; forms: {[f['action'] for f in forms_of(html)]}"
    )


def has_form(html: str, action: str) -> bool:
    return any(found["action"] == action for found in forms_of(html))


def page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def submit(client, page_path: str, action: str, changes: dict | None = None, **kwargs):
    """Load ``page_path``, fill the form posting to ``action`` with ``changes``, post it."""
    data = {**form(page(client, page_path), action), **(changes or {})}
    return client.post(action, data=data, **kwargs)


_BLOCKS = {
    "p", "div", "td", "th", "tr", "li", "h1", "h2", "h3", "br", "dt", "dd", "section",
    "article", "header", "nav", "main", "label", "option", "button", "form", "table", "title",
}  # fmt: skip


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in _BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        self.handle_starttag(tag, [])

    def handle_data(self, data):
        self.parts.append(data)


def text_of(html: str) -> str:
    """The page's visible text with entities decoded, blocks apart (what a reader sees)."""
    parser = _Text()
    parser.feed(html)
    return " ".join("".join(parser.parts).split())


# --- the customer portal -----------------------------------------------------------------------


def sign_in_with_handoff(client, merchant, customer_id: str, **extra):
    """Open a handoff URL in ``client`` (which keeps the cookie); returns the redirect."""
    response = client.get(urlsplit(handoff(merchant, customer_id, **extra)["url"]).path)
    assert response.status_code == 303, response.get_data(as_text=True)
    return response


def portal_json(client, method: str, path: str, headers: dict, json=None):
    """Call the portal JSON API at ``path`` (below /v1/api/customer-portal)."""
    return client.open(f"/v1/api{PORTAL_API}{path}", method=method, json=json, headers=headers)
