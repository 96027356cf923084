"""`scripts/loadtest`: simulated customers against gunicorn on 127.0.0.1 while `run-billing
--loop` and `deliver-mail --loop` run beside them, then the invariants are checked.

    python -m benchmarks.loadtest [--seconds 60] [--customers 50] [--kill-worker]
                                  [--database-url postgresql://…/scratch]

Each run builds a fresh dataset (the test changes it): the SQLite file in --workdir, or the
given PostgreSQL database, which must be empty or hold only an earlier bench dataset.
"""

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from . import dataset, invariants
from .accounts import mint_keys
from .customer import SimulatedCustomer, Tally
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
from .loadreport import render, summary

WORKDIR = Path(tempfile.gettempdir()) / "portal-loadtest"


def prepare(url: str, size: dataset.Size) -> dict:
    from portal.db import db
    from portal.models import Company

    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    elif dataset.exists(url):
        dataset.wipe(url)
    else:
        with db.connection_context():
            if Company.select().exists():
                raise SystemExit("the database holds other data; give an empty scratch database")
    return dataset.build(url, size)


def pick_customers(count: int) -> list[tuple[str, str]]:
    """The heavy customer plus customers that have a live subscription."""
    from portal.db import db
    from portal.models import Customer, Subscription

    with db.connection_context():
        live = Subscription.select(Subscription.customer).where(Subscription.status == "active")
        rows = (
            Customer.select(Customer.id, Customer.email)
            .where(Customer.id.in_(live))
            .order_by(Customer.email.desc())  # heavy@ sorts after customerNNNNN@
            .limit(count)
        )
        return [(row.id, row.email) for row in rows]


def drive(args, port: int, secret: str, info: dict, server: Gunicorn) -> tuple[Tally, dict]:
    tally, events = Tally(), {"load_start": os.getloadavg()}
    customers = [
        SimulatedCustomer(port, secret, cid, info["company_id"], email, tally, args.think)
        for cid, email in pick_customers(args.customers)
    ]

    def start_clock():
        tally.deadline = time.monotonic() + args.seconds

    ready = threading.Barrier(len(customers) + 1, action=start_clock, timeout=300)
    threads = [threading.Thread(target=c.run, args=(ready,), daemon=True) for c in customers]
    for thread in threads:
        thread.start()
    ready.wait()  # the clock starts once every customer has signed in
    events["signed_in_at"] = time.monotonic()
    if args.kill_worker:
        time.sleep(args.seconds / 2)
        events["killed_pid"] = server.kill_one_worker()
        events["killed_at"] = time.monotonic()
        print(f"  SIGKILL sent to gunicorn worker {events['killed_pid']}", flush=True)
    for thread in threads:
        thread.join(args.seconds + 120)
    events["ended_at"] = time.monotonic()
    events["customers"] = len(customers)
    return tally, events


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return condition()


def drain(seconds: float) -> None:
    """Let deliver-mail finish what is queued (a claim held by a killed worker expires in 2
    minutes, so the kill variant may wait that long)."""
    from portal.db import db

    def empty() -> bool:
        with db.connection_context():
            state = invariants.drain_state()
        return not state.get("pending") and not state.get("sending")

    wait_for(empty, seconds)


def run(args) -> dict:
    args.workdir.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{args.workdir / 'loadtest.db'}"
    size = dataset.Size(
        customers=args.dataset_customers,
        heavy_invoices=args.heavy_invoices,
        due_soon=args.due_soon,
        due_window=int(args.seconds),
    )
    storage = storage_description(args.ratelimit_storage)
    print(f"Building a fresh dataset in {url} ...", flush=True)
    info = prepare(url, size)
    secret, _ = mint_keys(url, info["company_id"])
    with MailSink() as sink:
        port = free_port()
        env = portal_env(url, port, sink.port, args.ratelimit_storage, args.mail_delivery)
        server = Gunicorn("wsgi:app", port, args.workers, env, args.workdir / "gunicorn.log")
        server.start()
        billing = FlaskCommand(
            ["run-billing", "--loop", "--interval", "2"], env, args.workdir / "b.log"
        )
        mailer = FlaskCommand(
            ["deliver-mail", "--loop", "--interval", "1"], env, args.workdir / "mail.log"
        )
        try:
            print(f"{args.customers} customers for {args.seconds:g} s ...", flush=True)
            wait_for(lambda: mailer.banner() is not None, 20)  # started: its imports are done
            mail_cpu = mailer.cpu_seconds()
            tally, events = drive(args, port, secret, info, server)
            events["workers_after"] = wait_for(
                lambda: len(server.worker_pids()) == args.workers, 15
            )
            # Receipts carry a PDF (~0.1 s of the worker's CPU each, more on a shared
            # machine): a minute of 50 customers can leave a few hundred to send.
            drain(150)
            events["mail"] = {
                "cpu_ms": (mailer.cpu_seconds() - mail_cpu) * 1000,
                "worker_sent": mailer.sent(),
                "woken": mailer.banner(),
                "command": mailer.command(),
            }
        finally:
            exits = [worker.stop() for worker in (billing, mailer)]
            server.stop()
        events["tracebacks"] = server.tracebacks()
        events["worker_exits"] = exits
        received = sink.received()
    events["mail"] = {**events.get("mail", {}), "delivered": sum(received.values())}
    events["setup"] = {"storage": storage, "mail_delivery": args.mail_delivery}
    sender = env.get("PORTAL_MAIL_FROM", "billing@localhost")
    checks, activity = check(url, tally, received, sender)
    return summary(args, url, info, tally, {**events, **activity}, checks)


def check(url: str, tally: Tally, received, sender: str) -> tuple[list, dict]:
    from portal.db import bind, db

    bind(url)
    with db.connection_context():
        checks = [
            invariants.totals(),
            invariants.changes(tally.confirms, tally.replays["change plan"]),
            invariants.mail(received, sender),
            *invariants.integrity(),
        ]
        activity = invariants.activity()
    return checks, activity


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file in --workdir")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--customers", type=int, default=50, help="simulated customers")
    parser.add_argument("--think", type=float, default=0.05, help="mean pause between actions")
    parser.add_argument("--kill-worker", action="store_true", help="SIGKILL a worker mid-run")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--dataset-customers", type=int, default=2000)
    parser.add_argument("--heavy-invoices", type=int, default=1000)
    parser.add_argument("--due-soon", type=float, default=0.05, help="share renewing mid-run")
    parser.add_argument("--ratelimit-storage", metavar="URL", help="e.g. redis://127.0.0.1:6379/5")
    parser.add_argument("--mail-delivery", choices=("worker", "thread"), default="worker")
    parser.add_argument("--workdir", type=Path, default=WORKDIR)
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--no-write", action="store_true", help="do not touch BENCHMARKS.md")
    parser.add_argument("--json", type=Path, help="also write the result as JSON here")
    args = parser.parse_args(argv)
    result = run(args)
    markdown = render(result)
    print(markdown)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    if not args.no_write:
        from .report import write_block

        name = "loadtest-" + result["database"].lower() + ("-kill" if args.kill_worker else "")
        write_block(args.output, name, markdown)
        print(f"Wrote {args.output}")
    sys.exit(0 if result["passed"] else 1)


if __name__ == "__main__":
    main()
