"""The speed targets, judged on the numbers of the same run: what was measured, and whether the
target was met or missed, and by how much. They are reported, never asserted."""

from .report import kb, ms

HOME, METHODS, LINK = "Portal home", "Payment methods", "POST request-link"
PAGE_1, PAGE_50 = "Invoices, page 1", "Invoices, page 50"
CPU_LIMIT, CPU_SHARE = 2.0, 0.25  # ms of server CPU per request; share of the ceiling by CPU


def verdict(value: float, limit: float, unit: str = "ms", strict: bool = False) -> str:
    """``value`` against an upper ``limit``: "met (… under)" or "**missed** by … (n ×)"."""
    met = value < limit if strict else value <= limit
    gap = abs(value - limit)
    if unit == "%":
        amount = f"{gap:.1f} points"
    elif unit == "ms":
        amount = f"{ms(gap)} ms"
    elif unit == " queries":
        amount = f"{gap:g} {'query' if gap == 1 else 'queries'}"
    else:
        amount = f"{gap:.1f}{unit}"
    if met:
        return "met (at the limit)" if gap == 0 else f"met ({amount} under)"
    times = f", {value / limit:.1f} × the target" if limit > 0 and unit != "%" else ""
    return f"**missed** by {amount}{times}"


def _change(new: float, old: float) -> float:
    return (new / old - 1) * 100 if old else 0.0


def _cpu_target(run, name: str) -> list:
    cpu = run.cpu_ms.get(name, 0)
    share = run.ceiling_cpu_ms / cpu if cpu else 0
    result = verdict(cpu, CPU_LIMIT)
    if (share >= CPU_SHARE) != result.startswith("met"):  # the two forms can disagree a little
        result += f"; by CPU share {'met' if share >= CPU_SHARE else '**missed**'}"
    return [
        f"{name} ≤ {CPU_LIMIT:g} ms server CPU/request on SQLite (≥ {CPU_SHARE:g} × the ceiling "
        "by CPU)",
        f"{cpu:.1f} ms; {share:.2f} × the ceiling ({run.ceiling_cpu_ms:.2f} ms)",
        result,
    ]


def _pages(run) -> list:
    cpu = _change(run.cpu_ms[PAGE_50], run.cpu_ms[PAGE_1])
    local = _change(run.service_ms[PAGE_50], run.service_ms[PAGE_1])
    worst = max(cpu, local)
    return [
        "Invoices page 50 within 10 % of page 1 (no dearer by server CPU or in-process)",
        f"CPU {run.cpu_ms[PAGE_50]:.1f} vs {run.cpu_ms[PAGE_1]:.1f} ms ({cpu:+.1f} %); "
        f"in-process {ms(run.service_ms[PAGE_50])} vs {ms(run.service_ms[PAGE_1])} ms "
        f"({local:+.1f} %)",
        verdict(worst, 10, "%"),
    ]


def _p99(run) -> list:
    home = run.loaded[HOME]
    swept = run.sweep.get((HOME, 16))
    also = f" (sweep at 16: {ms(swept.p99)} ms)" if swept else ""
    return [
        f"Portal home p99 < 50 ms at 16 connections on SQLite, {run.workers} workers (2 × cores)",
        f"{ms(home.p99)} ms{also}",
        verdict(home.p99, 50, strict=True),
    ]


def _link(run) -> list[list]:
    cpu = run.cpu_ms.get(LINK, 0)
    mail = run.mail or {}
    sent = mail.get("worker_sent", 0)
    per_mail = mail.get("worker_cpu_ms", 0) / sent if sent else 0
    if not sent:
        worker = "; the web workers sent the mail themselves, so it is included"
    elif sent < mail.get("mails", 0):
        worker = (
            f"; the delivery worker sent {sent} of {mail['mails']} mails ({per_mail:.1f} ms CPU "
            "per mail, apart), the web workers the rest (included)"
        )
    else:
        worker = f"; delivery worker {per_mail:.1f} ms CPU per mail apart from it"
    single = run.single[LINK]
    return [
        [
            "POST request-link ≤ 3 ms server CPU in the web worker",
            f"{cpu:.1f} ms{worker}",
            verdict(cpu, 3),
        ],
        [
            "POST request-link ≤ 15 ms median at 1 connection",
            f"{ms(single.p50)} ms",
            verdict(single.p50, 15),
        ],
    ]


def _queries(run) -> list[list]:
    home = run.queries.get(HOME, 0)
    pages = max(run.queries.get(PAGE_1, 0), run.queries.get(PAGE_50, 0))
    return [
        ["SQL queries of the portal home ≤ 3", f"{home}", verdict(home, 3, " queries")],
        [
            "SQL queries of an invoice page ≤ 4",
            f"page 1: {run.queries.get(PAGE_1)}, page 50: {run.queries.get(PAGE_50)}",
            verdict(pages, 4, " queries"),
        ],
    ]


def _earlier(run) -> list[list]:
    """Targets from before the speed issue, still kept."""
    fragment = run.loaded["htmx fragment (invoices page 2)"].bytes_per_response
    first, pdf = run.first_load["gzip"]["total"], run.single["Invoice PDF"].p50
    return [
        [
            "First load of the portal home < 40 KB compressed (HTML + CSS + htmx)",
            f"{kb(first)} gzip, {kb(run.first_load['br']['total'])} br",
            verdict(first / 1024, 40, " KB", strict=True),
        ],
        [
            "htmx fragment < 4 KB on the wire",
            f"{fragment:,.0f} B",
            verdict(fragment / 1024, 4, " KB", strict=True),
        ],
        ["Invoice PDF < 30 ms median (c=1)", f"{ms(pdf)} ms", verdict(pdf, 30, strict=True)],
    ]


def rows(run) -> list[list]:
    checks = [_cpu_target(run, HOME), _cpu_target(run, METHODS), _pages(run), _p99(run)]
    return checks + _link(run) + _queries(run) + _earlier(run)
