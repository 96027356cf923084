"""The load test's result: a JSON-able summary, and its Markdown for BENCHMARKS.md."""

from collections import Counter

from .report import kv_table, machine, ms, table


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * share), len(ordered) - 1)]


def _recovery(tally, events: dict, workers: int) -> dict | None:
    """After the SIGKILL: gunicorn back to full strength and requests succeeding again."""
    if "killed_at" not in events:
        return None
    after = [s for at, _, s, _ in tally.latencies if at > events["killed_at"] + 2 and s < 500]
    ok = bool(events.get("workers_after")) and len(after) > 0
    detail = (
        f"worker {events['killed_pid']} killed; {workers} workers running again: "
        f"{'yes' if events.get('workers_after') else 'no'}; {len(after):,} good answers after"
    )
    return {"name": "server recovered after SIGKILL of a worker", "ok": ok, "detail": detail}


def summary(args, url: str, info: dict, tally, events: dict, checks) -> dict:
    started = events.get("signed_in_at", 0)
    seconds = [s for at, s, _, _ in tally.latencies if at >= started]  # the timed part
    per_kind: dict[str, list] = {}
    for _, took, _, kind in tally.latencies:
        per_kind.setdefault(kind, []).append(took)
    by_status = Counter()
    for (_, status), count in tally.statuses.items():
        by_status[status] += count
    server_errors = sum(n for status, n in by_status.items() if status >= 500)
    rows = [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks]
    rows.insert(
        0,
        {
            "name": "zero 5xx",
            "ok": server_errors == 0 and events["tracebacks"] == 0,
            "detail": f"{server_errors} 5xx answers, {events['tracebacks']} server tracebacks",
        },
    )
    recovery = _recovery(tally, events, args.workers)
    if recovery:
        rows.append(recovery)
    return {
        "database": "PostgreSQL" if url.startswith("postgres") else "SQLite",
        "machine": machine(url, events["load_start"]),
        "seconds": args.seconds,
        "customers": events["customers"],
        "workers": args.workers,
        "kill_worker": bool(args.kill_worker),
        "dataset": info["rows"],
        "requests": len(seconds),
        "rps": len(seconds) / args.seconds if args.seconds else 0,
        "p50": _percentile(seconds, 0.5) * 1000,
        "p95": _percentile(seconds, 0.95) * 1000,
        "p99": _percentile(seconds, 0.99) * 1000,
        "statuses": {str(k): v for k, v in sorted(by_status.items())},
        "by_kind": {f"{kind} {status}": n for (kind, status), n in sorted(tally.statuses.items())},
        "kind_latency": {
            kind: [_percentile(v, 0.5) * 1000, _percentile(v, 0.95) * 1000]
            for kind, v in per_kind.items()
        },
        "connection_errors": tally.connection_errors,
        "replays": sum(tally.replays.values()),
        "activity": {k: events[k] for k in ("invoices_after", "emails", "events") if k in events},
        "invoices_before": info["rows"].get("Invoice", 0),
        "checks": rows,
        "passed": all(row["ok"] for row in rows),
        "mail": events.get("mail", {}),
        "setup": events.get("setup", {}),
    }


def _setup_rows(result: dict) -> list[tuple[str, str]]:
    setup, mail = result.get("setup", {}), result.get("mail", {})
    woken = f" ({mail['woken']})" if mail.get("woken") else ""
    return [
        ("Rate-limit storage", setup.get("storage", "built-in in-memory storage")),
        (
            "Mail delivery",
            f"`PORTAL_MAIL_DELIVERY={setup.get('mail_delivery', 'worker')}`; "
            f"`{mail.get('command', 'deliver-mail --loop')}`{woken}",
        ),
    ]


def _mail_sentence(result: dict) -> str:
    mail = result.get("mail", {})
    if "cpu_ms" not in mail:
        return ""
    delivered, sent = mail.get("delivered", 0), mail.get("worker_sent", 0)
    per_mail = f", {mail['cpu_ms'] / sent:.1f} ms per e-mail it sent" if sent else ""
    return (
        f" The delivery worker sent {sent:,} of the {delivered:,} e-mails the sink received and "
        f"used {mail['cpu_ms']:,.0f} ms of CPU from the start of the run until the outbox was "
        f"drained{per_mail} (idle polling included)."
    )


def render(result: dict) -> str:
    title = f"## Latest load test on {result['database']}"
    if result["kill_worker"]:
        title += " with a worker killed mid-run (`--kill-worker`)"
    kinds: dict[str, Counter] = {}
    for key, count in result["by_kind"].items():
        kind, _, status = key.rpartition(" ")
        kinds.setdefault(kind, Counter())[status] = count
    activity = result["activity"]
    events = ", ".join(f"{k} {v}" for k, v in sorted(activity.get("events", {}).items()))
    renewals = activity.get("invoices_after", 0) - result["invoices_before"]
    return "\n\n".join(
        [
            title,
            kv_table(result["machine"] + _setup_rows(result)),
            f"{result['customers']} simulated customers for {result['seconds']:g} s against "
            f"`gunicorn -w {result['workers']}` (production settings) while "
            "`flask run-billing --loop --interval 2` and `flask deliver-mail --loop --interval 1` "
            "ran beside them, mail going to a local SMTP sink. Dataset: "
            + ", ".join(f"{v:,} {k}" for k, v in result["dataset"].items())
            + f". {result['requests']:,} requests ({result['rps']:.0f}/s), latency p50 "
            f"{ms(result['p50'])} ms, p95 {ms(result['p95'])} ms, p99 {ms(result['p99'])} ms; "
            f"{result['connection_errors']} connection errors; {result['replays']} forms "
            f"submitted twice on purpose (double clicks). During the run: {renewals:,} new "
            f"invoices (renewals and plan changes), {activity.get('emails', 0)} e-mails queued; "
            f"events: {events or 'none'}." + _mail_sentence(result),
            "Answers by status: "
            + ", ".join(f"`{k}` × {v:,}" for k, v in result["statuses"].items()),
            table(
                ["Request", "Answers by status", "p50 ms", "p95 ms"],
                [
                    [
                        kind,
                        ", ".join(f"{s} × {n}" for s, n in sorted(counter.items())),
                        *(ms(v) for v in result["kind_latency"].get(kind, [0, 0])),
                    ]
                    for kind, counter in sorted(kinds.items())
                ],
            ),
            table(
                ["Invariant", "Result", "Detail"],
                [
                    [row["name"], "pass" if row["ok"] else "**FAIL**", row["detail"]]
                    for row in result["checks"]
                ],
            ),
        ]
    )
