"""`scripts/bench`: build (or reuse) the big dataset, serve the portal (with `deliver-mail
--loop` beside it) and the bare Flask ceiling with the same gunicorn settings, drive both with
wrk from a separate process on 127.0.0.1, and write the results into BENCHMARKS.md (or
--output) and a latency chart into docs/ (or beside --output).

    python -m benchmarks.bench [--database-url postgresql://…] [--seconds 10] [--fresh]
        [--ratelimit-storage redis://127.0.0.1:6379/5] [--output /tmp/trial.md]
"""

import argparse
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from portal.models import utcnow

from . import dataset, pages, wrk
from .accounts import mint_keys
from .chart import latency_svg
from .harness import (
    ROOT,
    FlaskCommand,
    Gunicorn,
    MailSink,
    default_workers,
    free_port,
    portal_env,
    storage_description,
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
            dataset.init_schema()  # what a deploy's init-db adds (new indexes, columns)
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


def settle_mail(since, limit: float = 300) -> int:
    """Wait until the mails request-link queued since ``since`` are sent (by the delivery
    worker, or a web worker's thread), so that their CPU lands in request-link's window and
    not the next page's. Returns how many are still waiting (0 unless ``limit`` ran out)."""
    from portal.db import db
    from portal.models import OutboxMessage

    waiting = OutboxMessage.status.in_(("pending", "sending")) & (OutboxMessage.created_at >= since)
    deadline = time.monotonic() + limit
    while True:
        with db.connection_context():
            left = OutboxMessage.select().where(waiting).count()
        if not left or time.monotonic() > deadline:
            if left:
                print(f"  warning: {left} mails still unsent after {limit:g} s", flush=True)
            return left
        time.sleep(0.5)


@dataclass
class Servers:
    portal: Gunicorn
    ceiling: Gunicorn
    mailer: FlaskCommand
    sink: MailSink


def _loaded(run: Run, servers: Servers, endpoint, seconds: float) -> None:
    """One page at 16 connections, with the server's CPU milliseconds per request: unlike
    latency, CPU time barely changes when other processes compete for the cores. For
    request-link the window runs until its mails are sent, and the delivery worker's CPU is
    measured apart from the web workers'."""
    portal, mailer, sink = servers.portal, servers.mailer, servers.sink
    before = portal.cpu_seconds(), mailer.cpu_seconds(), sink.count(), mailer.sent()
    result = wrk.run(portal.port, endpoint, seconds=seconds, connections=16)
    unsent = settle_mail(run.started_at) if endpoint.sends_mail else 0
    run.loaded[endpoint.name] = result
    run.cpu_ms[endpoint.name] = (portal.cpu_seconds() - before[0]) * 1000 / max(result.requests, 1)
    if endpoint.sends_mail:
        run.mail = {
            "requests": result.requests,
            "mails": sink.count() - before[2],
            "worker_sent": mailer.sent() - before[3],
            "worker_cpu_ms": (mailer.cpu_seconds() - before[1]) * 1000,
            "unsent": unsent,
        }


def drive(run: Run, servers: Servers, seconds: float) -> None:
    """Warm up, then: ceiling, every page at 16 connections, ceiling again; every page at 1
    connection; the portal home and the ceiling at each concurrency of the sweep."""
    ceiling = wrk.Endpoint("Ceiling (bare Flask + Jinja)", "GET", "/", {"Accept-Encoding": "gzip"})
    port, ceiling_port = servers.portal.port, servers.ceiling.port
    short = max(seconds / 2, 2)
    for endpoint in run.endpoints:
        wrk.run(port, endpoint, seconds=1, connections=4)
    wrk.run(ceiling_port, ceiling, seconds=1, connections=4)
    settle_mail(run.started_at)
    first, cpu_first = _ceiling_run(servers.ceiling, ceiling, seconds)
    for endpoint in run.endpoints:
        print(f"  {endpoint.name} ...", flush=True)
        _loaded(run, servers, endpoint, seconds)
    last, cpu_last = _ceiling_run(servers.ceiling, ceiling, seconds)
    run.ceiling, run.ceiling_cpu_ms = (first, last), (cpu_first + cpu_last) / 2
    for endpoint in run.endpoints:
        run.single[endpoint.name] = wrk.run(port, endpoint, seconds=short, connections=1)
        if endpoint.sends_mail:
            settle_mail(run.started_at)
    home = next(e for e in run.endpoints if e.name == pages.HOME)
    for level in SWEEP:
        run.sweep[pages.HOME, level] = wrk.run(port, home, seconds=short, connections=level)
        run.sweep["Ceiling", level] = wrk.run(
            ceiling_port, ceiling, seconds=short, connections=level
        )


def _ceiling_run(server: Gunicorn, endpoint, seconds: float) -> tuple:
    before = server.cpu_seconds()
    result = wrk.run(server.port, endpoint, seconds=seconds, connections=16)
    return result, (server.cpu_seconds() - before) * 1000 / max(result.requests, 1)


def bench(args) -> Run:
    args.workdir.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{args.workdir / 'bench.db'}"
    storage = storage_description(args.ratelimit_storage)
    size = dataset.Size(customers=args.customers, heavy_invoices=args.heavy_invoices)
    info = prepare_dataset(url, size, args.fresh)
    keys = mint_keys(url, info["company_id"])
    emails = args.workdir / "emails.txt"
    emails.write_text("\n".join(info["emails"]) + "\n")
    run = Run(url=url, info=info, workers=args.workers, seconds=args.seconds)
    run.load_before = os.getloadavg()
    run.started_at = utcnow()
    run.emails = info["emails"]
    with MailSink() as sink:
        port, ceiling_port = free_port(), free_port()
        env = portal_env(url, port, sink.port, args.ratelimit_storage, args.mail_delivery)
        portal = Gunicorn("wsgi:app", port, args.workers, env, args.workdir / "portal.log")
        portal.start()
        interval = ["--interval", f"{args.mail_interval:g}"]
        mailer = FlaskCommand(["deliver-mail", "--loop", *interval], env, args.workdir / "mail.log")
        run.setup = {"storage": storage, "mail": args.mail_delivery, "mailer": mailer.command()}
        try:
            run.endpoints = pages.endpoints(url, port, info, keys, emails)
            problems = pages.check(port, run.endpoints, run.emails[0])
            if problems:
                raise SystemExit("\n".join(problems))
            # Before the load, so that a broken page fails the run at once, and with the code
            # gunicorn has just loaded (its mails go out on the worker's next poll).
            measured = in_process(url, port, run.endpoints, env, run.emails[1:])
            run.queries, run.service_ms = measured["queries"], measured["ms"]
            cookies = _cookies(run.endpoints)
            run.first_load = {enc: first_load(port, cookies, enc) for enc in ("gzip", "br")}
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
                drive(run, Servers(portal, ceiling, mailer, sink), args.seconds)
            finally:
                ceiling.stop()
            run.tracebacks = portal.tracebacks()
            run.setup["after"] = pages.check(port, run.endpoints, run.emails[-1])
            run.setup["woken"] = mailer.banner()
        finally:
            run.setup["mail_worker_exit"] = mailer.stop()
            portal.stop()
    return run


def _cookies(endpoints: list) -> dict:
    """The signed-in customer's cookies, as a dict (for the first-load measurement)."""
    header = next(e for e in endpoints if e.name == pages.HOME).headers["Cookie"]
    return dict(pair.split("=", 1) for pair in header.split("; "))


def chart_path(output: Path, postgres: bool) -> Path:
    """docs/bench-latency[-postgresql].svg for BENCHMARKS.md, else beside the output file."""
    suffix = "-postgresql" if postgres else ""
    if output.resolve() == (ROOT / "BENCHMARKS.md").resolve():
        return ROOT / "docs" / f"bench-latency{suffix}.svg"
    return output.with_name(f"{output.stem}-latency{suffix}.svg")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--database-url", help="default: SQLite file in --workdir")
    add("--workdir", type=Path, default=WORKDIR)
    add("--seconds", type=float, default=10, help="per page at 16 connections (half at 1)")
    add("--workers", type=int, default=default_workers(), help="default: 2 × cores")
    add("--customers", type=int, default=dataset.Size.customers)
    add("--heavy-invoices", type=int, default=dataset.Size.heavy_invoices)
    add("--fresh", action="store_true", help="rebuild the dataset")
    add("--ratelimit-storage", metavar="URL", help="e.g. redis://127.0.0.1:6379/5")
    add("--mail-delivery", choices=("worker", "thread"), default="worker")
    add("--mail-interval", type=float, default=1.0, help="deliver-mail --interval (s)")
    add("--output", type=Path, default=ROOT / "BENCHMARKS.md", help="Markdown file to update")
    add(
        "--chart",
        type=Path,
        help="default: docs/bench-latency[-postgresql].svg for "
        "BENCHMARKS.md, else OUTPUT-latency[-postgresql].svg beside --output",
    )
    add("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    wrk.require_wrk()
    started = time.monotonic()
    run = bench(args)
    run.duration = time.monotonic() - started
    postgres = run.url.startswith("postgres")
    chart = args.chart or chart_path(args.output, postgres)
    markdown = render(run, Path(os.path.relpath(chart, args.output.resolve().parent)).as_posix())
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
