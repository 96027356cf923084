"""Measurements that need no load: SQL queries and time per request in-process (Flask test
client, a counter on peewee's execute_sql), and the first-load bytes of the portal home."""

import gzip
import itertools
import json
import re
import statistics
import time
from contextlib import contextmanager

import brotli

from .harness import Browser
from .wrk import Endpoint

ROUNDS = 30
DECODERS = {"gzip": gzip.decompress, "br": brotli.decompress}


class QueryCounter:
    """Counts statements sent through the bound peewee database."""

    def __init__(self, database):
        self.database, self.count = database, 0
        self._original = database.execute_sql

    def _counting(self, sql, params=None, *args, **kwargs):
        self.count += 1
        return self._original(sql, params, *args, **kwargs)

    @contextmanager
    def installed(self):
        self.database.execute_sql = self._counting
        try:
            yield self
        finally:
            del self.database.execute_sql  # back to the class method


def in_process(
    database_url: str, port: int, endpoints: list[Endpoint], env: dict, emails: list[str]
) -> dict:
    """Per endpoint: SQL queries of one request (after a warm-up), and the median time of the
    request served in-process, with no HTTP or queueing, over interleaved rounds (so page 1 and
    page 50 see the same machine noise). ``env`` is the server's: its secret key makes the
    session and CSRF cookies the pages were signed in with valid here too."""
    from portal import create_app
    from portal.db import db

    settings = {
        "PORTAL_ENV": "production",
        "SECRET_KEY": env["PORTAL_SECRET_KEY"],
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        # Count the request, not the mail sent after it (by a thread or the worker).
        "PORTAL_MAIL_IMMEDIATE": False,
        "RATELIMIT_ENABLED": False,
    }
    if env.get("PORTAL_RATELIMIT_STORAGE_URL"):
        settings["RATELIMIT_STORAGE_URI"] = env["PORTAL_RATELIMIT_STORAGE_URL"]
    app = create_app(settings)
    addresses = itertools.cycle(emails)
    client = app.test_client(use_cookies=False)
    counter = QueryCounter(db.obj)

    def body(endpoint: Endpoint) -> str | None:
        if endpoint.sends_mail:  # a different customer each time, as in the wrk script
            return json.dumps({"company_id": endpoint.company_id, "email": next(addresses)})
        return endpoint.body

    def call(endpoint: Endpoint):
        response = client.open(
            endpoint.path,
            method=endpoint.method,
            headers=endpoint.headers,
            base_url=f"http://127.0.0.1:{port}",
            data=body(endpoint),
        )
        if response.status_code >= 400:  # a form post may answer 303 (see other)
            raise RuntimeError(f"{endpoint.name}: in-process status {response.status_code}")

    queries, times = {}, {e.name: [] for e in endpoints}
    for endpoint in endpoints:
        call(endpoint)
        with counter.installed():
            counter.count = 0
            call(endpoint)
        queries[endpoint.name] = counter.count
    for _ in range(ROUNDS):
        for endpoint in endpoints:
            started = time.perf_counter()
            call(endpoint)
            times[endpoint.name].append((time.perf_counter() - started) * 1000)
    return {"queries": queries, "ms": {k: statistics.median(v) for k, v in times.items()}}


_ASSETS = re.compile(r'<(?:link rel="stylesheet" href|script src)="([^"]+)"')


def first_load(port: int, cookies: dict, encoding: str) -> dict:
    """Wire bytes of the portal home plus every stylesheet and script it links."""
    browser = Browser(port, cookies=dict(cookies))
    headers = {"Accept-Encoding": encoding}
    page = browser.get("/portal", headers=headers)
    if page.status != 200:
        raise RuntimeError(f"/portal answered {page.status}")
    decode = DECODERS.get(page.headers.get("Content-Encoding", ""), bytes)
    html = decode(page.body)
    parts = {"/portal": page.wire_bytes}
    for path in _ASSETS.findall(html.decode()):
        reply = browser.get(path, headers=headers)
        parts[path] = reply.wire_bytes
    browser.close()
    return {"parts": parts, "total": sum(parts.values()), "html_bytes": len(html)}
