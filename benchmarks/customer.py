"""One simulated customer of the load test: signed in through a handoff link, then browsing,
paging invoices, adding and removing cards, switching plans and cancelling, with the CSRF
tokens and one-time nonces scraped from the pages like a browser would submit them."""

import html
import http.client
import json
import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from .accounts import handoff_url
from .harness import Browser, Reply

FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S)
INPUT = re.compile(r"<input\b([^>]*)>")
ATTR = re.compile(r'([\w-]+)="([^"]*)"')
CARDS = ("4242424242424242", "5555555555554444", "378282246310005")


def forms(page: str) -> list[tuple[str, dict]]:
    """(action, {hidden field: value}) for every form on the page, in order."""
    found = []
    for attrs, body in FORM.findall(page):
        action = dict(ATTR.findall(attrs)).get("action", "")
        fields = {}
        for inp in INPUT.findall(body):
            a = dict(ATTR.findall(inp))
            if a.get("type") == "hidden" and "name" in a:
                fields[a["name"]] = html.unescape(a.get("value", ""))
        found.append((html.unescape(action), fields))
    return found


def form_for(page: str, pattern: str) -> tuple[str, dict] | None:
    matches = [f for f in forms(page) if re.search(pattern, f[0])]
    return random.choice(matches) if matches else None


@dataclass
class Tally:
    """What every simulated customer saw, shared between their threads."""

    statuses: Counter = field(default_factory=Counter)  # (kind, status) -> count
    latencies: list = field(default_factory=list)  # (finished at, seconds, status, kind)
    confirms: Counter = field(default_factory=Counter)  # subscription id -> distinct nonces
    replays: Counter = field(default_factory=Counter)  # kind -> forms sent twice
    connection_errors: int = 0
    deadline: float = 0.0  # set when every customer has signed in
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.statuses[kind, status] += 1
            self.latencies.append((time.monotonic(), seconds, status, kind))


class SimulatedCustomer:
    def __init__(self, port, secret_key, customer_id, company_id, email, tally, think=0.0):
        self.port, self.secret_key, self.customer_id = port, secret_key, customer_id
        self.company_id, self.email, self.tally = company_id, email, tally
        self.think = think
        self.browser = Browser(port)
        self.rng = random.Random(customer_id)

    def call(self, kind: str, method: str, path: str, **kwargs) -> Reply | None:
        started = time.monotonic()
        try:
            reply = self.browser.request(method, path, **kwargs)
        except (OSError, http.client.HTTPException):
            with self.tally.lock:
                self.tally.connection_errors += 1
            return None
        self.tally.record(kind, reply.status, time.monotonic() - started)
        if reply.status == 303 and method == "POST":  # a browser follows the redirect
            location = reply.headers.get("Location", "/portal")
            return self.call(kind + " →", "GET", location.split(f":{self.port}", 1)[-1])
        return reply

    def page(self, path: str, kind: str = "page") -> str:
        reply = self.call(kind, "GET", path)
        return reply.text if reply is not None and reply.status == 200 else ""

    def post(self, kind: str, target: tuple[str, dict] | None, extra=None) -> None:
        if target is None:
            return
        action, fields = target
        data = {**fields, **(extra or {})}
        times = 2 if self.rng.random() < 0.15 else 1  # a double click: the same form twice
        for _ in range(times):
            self.call(kind, "POST", action, form=data)
        if times == 2:
            with self.tally.lock:
                self.tally.replays[kind] += 1

    # --- actions ---------------------------------------------------------------------------

    def sign_in(self) -> bool:
        try:
            path = handoff_url(self.port, self.secret_key, self.customer_id)
        except (OSError, RuntimeError, http.client.HTTPException):
            with self.tally.lock:
                self.tally.connection_errors += 1
            return False
        reply = self.call("handoff", "GET", path)
        return reply is not None and reply.status == 303

    def browse(self) -> None:
        for path in ("/portal", "/portal/subscriptions", "/portal/billing-information"):
            self.page(path)

    def invoices(self) -> None:
        first = self.page("/portal/invoices")
        pages = re.search(r"Page \d+ of (\d+)", first)
        last = int(pages.group(1)) if pages else 1
        number = self.rng.randint(1, last)
        self.call("htmx", "GET", f"/portal/invoices?page={number}", headers={"HX-Request": "true"})
        ids = re.findall(r'href="/portal/invoices/([0-9a-f-]{36})"', first)
        if ids:
            invoice = self.rng.choice(ids)
            self.page(f"/portal/invoices/{invoice}")
            if self.rng.random() < 0.3:
                self.call("pdf", "GET", f"/portal/invoices/{invoice}/pdf")

    def add_card(self) -> None:
        """As the card script does: the card goes to the tokenizer, the portal gets the token."""
        page = self.page("/portal/payment-methods")
        target = form_for(page, r"/payment-methods/card$")
        card = {
            "type": "card",
            "number": self.rng.choice(CARDS),
            "expiry": f"{self.rng.randint(1, 12):02d}/{self.rng.randint(30, 34)}",
            "cvc": "123",
        }
        json_body = {"body": json.dumps(card), "headers": {"Content-Type": "application/json"}}
        reply = self.call("tokenize card", "POST", "/sandbox-gateway/tokens", **json_body)
        if reply is None or reply.status != 201:
            return
        token = json.loads(reply.text)["token"]
        self.post("add card", target, {"card-token": token, "card-name": self.email.split("@")[0]})

    def remove_card(self) -> None:
        """As a customer does: Remove opens the confirmation, whose form removes."""
        page = self.page("/portal/payment-methods")
        links = re.findall(r'href="(/portal/payment-methods/[0-9a-f-]{36}/remove)"', page)
        if not links:
            return
        confirm = self.page(self.rng.choice(links), "remove confirmation")
        self.post("remove card", form_for(confirm, r"/remove$"))

    def change_plan(self) -> None:
        page = self.page("/portal/subscriptions")
        links = re.findall(r'href="(/portal/subscriptions/[0-9a-f-]{36}/change)"', page)
        if not links:
            return
        link = self.rng.choice(links)
        start = self.page(link)
        prices = re.findall(r'name="price_id" value="([^"]+)"', start)
        if self.rng.random() < 0.5 and len(prices) > 1:
            query = f"price_id={self.rng.choice(prices[1:])}"
        else:
            query = f"quantity={self.rng.randint(1, 9)}"
        preview = self.page(f"{link}/preview?{query}")
        target = form_for(preview, r"/change$")
        if target is not None:
            sub_id = target[0].split("/")[3]
            with self.tally.lock:
                self.tally.confirms[sub_id] += 1
        self.post("change plan", target)

    def cancel_or_keep(self) -> None:
        page = self.page("/portal/subscriptions")
        keep = form_for(page, r"/keep$")
        if keep is not None and self.rng.random() < 0.7:
            self.post("keep", keep)
            return
        links = re.findall(r'href="(/portal/subscriptions/[0-9a-f-]{36}/cancel)"', page)
        if links:
            confirm = self.page(f"{self.rng.choice(links)}/confirm")
            self.post("cancel", form_for(confirm, r"/cancel$"))

    def request_link(self) -> None:
        """A signed-out visitor asks for a sign-in link (the e-mails the worker must send)."""
        visitor = SimulatedCustomer(self.port, "", "", self.company_id, self.email, self.tally)
        page = visitor.page(f"/p/{self.company_id}", "sign-in page")
        target = form_for(page, r".*")
        if target is not None:
            target = (f"/p/{self.company_id}", target[1])
            visitor.call("request link", "POST", target[0], form={**target[1], "email": self.email})
        visitor.browser.close()

    ACTIONS = (
        (browse, 25),
        (invoices, 25),
        (add_card, 12),
        (remove_card, 10),
        (change_plan, 14),
        (cancel_or_keep, 9),
        (request_link, 5),
    )

    def run(self, ready: threading.Barrier) -> None:
        """Sign in, wait until everyone has, then act until the shared deadline."""
        signed_in = self.sign_in() and bool(self.page("/portal"))
        ready.wait()
        if not signed_in:
            return
        actions, weights = zip(*self.ACTIONS, strict=True)
        while time.monotonic() < self.tally.deadline:
            self.rng.choices(actions, weights)[0](self)
            if self.think:
                time.sleep(self.rng.uniform(0, 2 * self.think))
        self.browser.close()
