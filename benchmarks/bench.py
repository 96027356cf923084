"""`scripts/bench`: build (or reuse) the big dataset, serve the portal and the bare Flask
ceiling with the same gunicorn settings, drive both with wrk from a separate process on
127.0.0.1, and write the results into BENCHMARKS.md and a latency chart into docs/.

    python -m benchmarks.bench [--database-url postgresql://…] [--seconds 10] [--fresh]
"""

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from portal.models import utcnow

from . import dataset, wrk
from .chart import latency_svg
from .harness import (
    ROOT,
    Gunicorn,
    MailSink,
    default_workers,
    free_port,
    mint_keys,
    portal_env,
    sign_in,
)
from .measure import first_load, in_process
from .results import Run, render, sweep_series

WORKDIR = Path(tempfile.gettempdir()) / "portal-bench"
SWEEP = (1, 4, 16, 32)


def prepare_dataset(url: str, size: dataset.Size, fresh: bool) -> dict:
    """Reuse a bench dataset of at least this size, else build one from scratch."""
    from portal.db import db
    from portal.models import Company

    if url.startswith("sqlite") and fresh:
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    if dataset.exists(url):
        with db.connection_context():
            counts = dataset.counts()
        if not fresh and counts["Customer"] >= size.customers:
            print(f"Reusing the dataset in the database: {counts}")
            with db.connection_context():
                return {**dataset.describe(), "rows": counts, "reused": True}
        dataset.wipe(url)
    else:
        with db.connection_context():
            if Company.select().exists():
                raise SystemExit("the database holds other data; give an empty scratch database")
    print("Building the dataset (a few minutes at full size) ...")
    info = dataset.build(url, size)
    print(f"Built in {info['seconds']} s: {info['rows']}")
    return {**info, "reused": False}


def endpoints(info: dict, cookie: str, secret: str, publishable: str, emails: Path) -> list:
    gzip = {"Accept-Encoding": "gzip"}
    session = {**gzip, "Cookie": cookie}
    Endpoint = wrk.Endpoint
    return [
        Endpoint("Sign-in page", "GET", f"/p/{info['company_id']}", gzip),
        Endpoint("Portal home", "GET", "/portal", session),
        Endpoint("Invoices, page 1", "GET", "/portal/invoices?page=1", session),
        Endpoint("Invoices, page 50", "GET", "/portal/invoices?page=50", session),
        Endpoint(
            "htmx fragment (invoices page 2)",
            "GET",
            "/portal/invoices?page=2",
            {**session, "HX-Request": "true"},
        ),
        Endpoint("Invoice PDF", "GET", f"/portal/invoices/{info['heavy_invoice_id']}/pdf", session),
        Endpoint(
            "POST request-link",
            "POST",
            "/v1/api/customer-portal/access/request-link",
            {**gzip, "x-easy-api-key": publishable, "Content-Type": "application/json"},
            str(emails),
            info["company_id"],
        ),
        Endpoint(
            "GET customer-portal-config",
            "GET",
            "/v1/api/customer-portal-config",
            {**gzip, "x-easy-api-key": secret},
        ),
    ]


def settle_mail(since, limit: float = 120) -> None:
    """Wait until the workers' background threads have sent the sign-in mails request-link
    queued since ``since``, so that their CPU is not billed to the next page measured."""
    from portal.db import db
    from portal.models import OutboxMessage

    waiting = OutboxMessage.status.in_(("pending", "sending")) & (OutboxMessage.created_at >= since)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with db.connection_context():
            if not OutboxMessage.select().where(waiting).exists():
                return
        time.sleep(0.5)


def _cpu_run(server: Gunicorn, endpoint, **kwargs) -> tuple:
    """A wrk run plus the server's CPU milliseconds per request: unlike latency, CPU time
    barely changes when other processes compete for the cores."""
    before = server.cpu_seconds()
    result = wrk.run(server.port, endpoint, **kwargs)
    used = server.cpu_seconds() - before
    return result, used * 1000 / max(result.requests, 1)


def drive(run: Run, portal: Gunicorn, ceiling_server: Gunicorn, seconds: float) -> None:
    """Warm up, then: ceiling, every page at 16 connections, ceiling again; every page at 1
    connection; the portal home and the ceiling at each concurrency of the sweep."""
    ceiling = wrk.Endpoint("Ceiling (bare Flask + Jinja)", "GET", "/", {"Accept-Encoding": "gzip"})
    port, ceiling_port = portal.port, ceiling_server.port
    short = max(seconds / 2, 2)
    for endpoint in run.endpoints:
        wrk.run(port, endpoint, seconds=1, connections=4)
    wrk.run(ceiling_port, ceiling, seconds=1, connections=4)
    first, cpu_first = _cpu_run(ceiling_server, ceiling, seconds=seconds, connections=16)
    for endpoint in run.endpoints:
        print(f"  {endpoint.name} ...", flush=True)
        result, cpu = _cpu_run(portal, endpoint, seconds=seconds, connections=16)
        run.loaded[endpoint.name], run.cpu_ms[endpoint.name] = result, cpu
        if endpoint.emails_file:
            settle_mail(run.started_at)
    last, cpu_last = _cpu_run(ceiling_server, ceiling, seconds=seconds, connections=16)
    run.ceiling, run.ceiling_cpu_ms = (first, last), (cpu_first + cpu_last) / 2
    for endpoint in run.endpoints:
        run.single[endpoint.name] = wrk.run(port, endpoint, seconds=short, connections=1)
        if endpoint.emails_file:
            settle_mail(run.started_at)
    home = run.endpoints[1]
    for level in SWEEP:
        run.sweep["Portal home", level] = wrk.run(port, home, seconds=short, connections=level)
        run.sweep["Ceiling", level] = wrk.run(
            ceiling_port, ceiling, seconds=short, connections=level
        )


def check_endpoints(port: int, browser, run: Run) -> None:
    """Each endpoint answers 200 once before the load starts (else the numbers mean nothing)."""
    for endpoint in run.endpoints:
        body = None
        if endpoint.emails_file:
            body = json.dumps({"company_id": endpoint.company_id, "email": run.emails[0]})
        reply = browser.request(endpoint.method, endpoint.path, body=body, headers=endpoint.headers)
        if reply.status != 200:
            raise SystemExit(f"{endpoint.name}: {reply.status} {reply.text[:300]}")


def bench(args) -> Run:
    args.workdir.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{args.workdir / 'bench.db'}"
    size = dataset.Size(customers=args.customers, heavy_invoices=args.heavy_invoices)
    info = prepare_dataset(url, size, args.fresh)
    secret, publishable = mint_keys(url, info["company_id"])
    emails = args.workdir / "emails.txt"
    emails.write_text("\n".join(info["emails"]) + "\n")
    run = Run(url=url, info=info, workers=args.workers, seconds=args.seconds)
    run.load_before = os.getloadavg()
    run.started_at = utcnow()
    run.emails = info["emails"]
    with MailSink() as sink:
        port, ceiling_port = free_port(), free_port()
        env = portal_env(url, port, sink.port)
        portal = Gunicorn("wsgi:app", port, args.workers, env, args.workdir / "portal.log")
        portal.start()
        try:
            browser = sign_in(port, secret, info["heavy_customer_id"])
            browser.get("/portal")  # a browser then holds the CSRF session cookie too
            cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
            run.endpoints = endpoints(info, cookie, secret, publishable, emails)
            check_endpoints(port, browser, run)
            run.first_load = {enc: first_load(port, browser.cookies, enc) for enc in ("gzip", "br")}
            size_env = {**os.environ, "CEILING_BYTES": str(run.first_load["gzip"]["html_bytes"])}
            ceiling = Gunicorn(
                "benchmarks.ceiling:app",
                ceiling_port,
                args.workers,
                size_env,
                args.workdir / "ceiling.log",
            )
            ceiling.start()
            try:
                drive(run, portal, ceiling, args.seconds)
            finally:
                ceiling.stop()
            run.tracebacks = portal.tracebacks()
        finally:
            portal.stop()
    bodies = {
        e.name: json.dumps({"company_id": e.company_id, "email": run.emails[1]})
        for e in run.endpoints
        if e.emails_file
    }
    measured = in_process(url, port, run.endpoints, bodies)
    run.queries, run.service_ms = measured["queries"], measured["ms"]
    return run


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: SQLite file in --workdir")
    parser.add_argument("--workdir", type=Path, default=WORKDIR)
    parser.add_argument("--seconds", type=float, default=10, help="per page at 16 connections")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--customers", type=int, default=dataset.Size.customers)
    parser.add_argument("--heavy-invoices", type=int, default=dataset.Size.heavy_invoices)
    parser.add_argument("--fresh", action="store_true", help="rebuild the dataset")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--chart", type=Path, help="default: docs/bench-latency[-postgresql].svg")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    wrk.require_wrk()
    started = time.monotonic()
    run = bench(args)
    postgres = run.url.startswith("postgres")
    chart = args.chart or ROOT / "docs" / f"bench-latency{'-postgresql' if postgres else ''}.svg"
    markdown = render(run, chart.relative_to(ROOT) if chart.is_relative_to(ROOT) else chart)
    print(markdown)
    if not args.no_write:
        from .report import write_block

        write_block(args.output, "bench-postgresql" if postgres else "bench-sqlite", markdown)
        chart.parent.mkdir(parents=True, exist_ok=True)
        database = "PostgreSQL" if postgres else "SQLite"
        title = f"Portal home vs ceiling latency, {database}, {run.workers} gunicorn workers"
        chart.write_text(latency_svg(sweep_series(run), title))
        print(f"Wrote {args.output} and {chart}")
    print(f"Done in {time.monotonic() - started:.0f} s")
    raw = args.workdir / "bench-results.json"
    raw.write_text(json.dumps(run.raw(), indent=2, default=str))


if __name__ == "__main__":
    main()
