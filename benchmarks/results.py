"""A benchmark run's numbers and their Markdown: the table, first-load bytes, targets."""

from dataclasses import asdict, dataclass, field

from .harness import LIMIT_OVERRIDES
from .report import kb, kv_table, machine, ms, table
from .wrk import Result


@dataclass
class Run:
    url: str
    info: dict
    workers: int
    seconds: float
    endpoints: list = field(default_factory=list)
    emails: list = field(default_factory=list)
    loaded: dict = field(default_factory=dict)  # name -> Result at 16 connections
    single: dict = field(default_factory=dict)  # name -> Result at 1 connection
    sweep: dict = field(default_factory=dict)  # (series, connections) -> Result
    ceiling: tuple = ()
    first_load: dict = field(default_factory=dict)
    queries: dict = field(default_factory=dict)
    service_ms: dict = field(default_factory=dict)  # in-process median per request
    cpu_ms: dict = field(default_factory=dict)  # server CPU per request at 16 connections
    ceiling_cpu_ms: float = 0.0
    load_before: tuple = ()
    started_at: object = None
    tracebacks: int = 0

    @property
    def ceiling_rps(self) -> float:
        return sum(r.rps for r in self.ceiling) / len(self.ceiling)

    def raw(self) -> dict:
        return {
            "loaded": {k: asdict(v) for k, v in self.loaded.items()},
            "single": {k: asdict(v) for k, v in self.single.items()},
            "sweep": {f"{k[0]}@{k[1]}": asdict(v) for k, v in self.sweep.items()},
            "ceiling": [asdict(r) for r in self.ceiling],
            "first_load": self.first_load,
            "queries": self.queries,
            "service_ms": self.service_ms,
            "cpu_ms": self.cpu_ms,
            "ceiling_cpu_ms": self.ceiling_cpu_ms,
        }


def sweep_series(run: Run) -> dict[str, list[tuple[int, float]]]:
    series = {}
    for (name, level), result in run.sweep.items():
        series.setdefault(f"{name} p50", []).append((level, result.p50))
        series.setdefault(f"{name} p99", []).append((level, result.p99))
    return series


def _row(run: Run, name: str) -> list:
    loaded, single = run.loaded[name], run.single[name]
    errors = loaded.errors + single.errors
    return [
        name,
        f"{loaded.rps:.0f}",
        f"{loaded.rps / run.ceiling_rps:.2f}",
        ms(loaded.p50),
        ms(loaded.p95),
        ms(loaded.p99),
        ms(single.p50),
        f"{single.rps:.0f}",
        f"{loaded.bytes_per_response:,.0f}",
        ms(run.service_ms.get(name, 0)),
        f"{run.cpu_ms.get(name, 0):.1f}",
        f"{run.ceiling_cpu_ms / run.cpu_ms[name]:.2f}" if run.cpu_ms.get(name) else "–",
        run.queries.get(name, "–"),
        errors,
    ]


HEADER = [
    "Page",
    "req/s (c=16)",
    "× ceiling",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "p50 ms (c=1)",
    "req/s (c=1)",
    "bytes/response",
    "in-process ms",
    "server CPU ms/req",
    "× ceiling by CPU",
    "SQL queries",
    "errors",
]


SWEEP_HEADER = ["Connections", "Home req/s", "Home p50 ms", "Home p99 ms"]
SWEEP_HEADER += ["Ceiling req/s", "Ceiling p50 ms", "Ceiling p99 ms"]


def _sweep_row(run: Run, level: int) -> list:
    home, ceiling = run.sweep["Portal home", level], run.sweep["Ceiling", level]
    return [level, f"{home.rps:.0f}", ms(home.p50), ms(home.p99)] + [
        f"{ceiling.rps:.0f}",
        ms(ceiling.p50),
        ms(ceiling.p99),
    ]


def _targets(run: Run) -> list[list]:
    home, one, fifty = (
        run.loaded[n] for n in ("Portal home", "Invoices, page 1", "Invoices, page 50")
    )
    fragment = run.loaded["htmx fragment (invoices page 2)"]
    first = run.first_load["gzip"]["total"]
    q1, q50 = run.queries.get("Invoices, page 1"), run.queries.get("Invoices, page 50")
    t1, t50 = run.service_ms["Invoices, page 1"], run.service_ms["Invoices, page 50"]
    cpu_ratio = run.ceiling_cpu_ms / max(run.cpu_ms.get("Portal home", 0), 1e-9)
    pdf, link = run.single["Invoice PDF"], run.single["POST request-link"]
    checks = [
        ("Portal home ≥ 0.5 × ceiling throughput",
         f"{home.rps / run.ceiling_rps:.2f} × by req/s, {cpu_ratio:.2f} × by server CPU/request",
         home.rps >= 0.5 * run.ceiling_rps),
        ("Portal home p99 < 50 ms at 16 connections", f"{ms(home.p99)} ms", home.p99 < 50),
        ("Invoices page 50 as cheap as page 1 (in-process median within 20 %, same queries)",
         f"{ms(t50)} vs {ms(t1)} ms in-process, {ms(fifty.p50)} vs {ms(one.p50)} ms p50 at "
         f"c=16; {q50} vs {q1} queries", t50 <= t1 * 1.2 and q1 == q50),
        ("First load of the portal home < 40 KB compressed (HTML + CSS + htmx)",
         f"{kb(first)} gzip, {kb(run.first_load['br']['total'])} br", first < 40 * 1024),
        ("htmx fragment < 4 KB on the wire", f"{fragment.bytes_per_response:,.0f} B",
         fragment.bytes_per_response < 4096),
        ("Invoice PDF < 30 ms median (c=1)", f"{ms(pdf.p50)} ms", pdf.p50 < 30),
        ("request-link < 15 ms median (c=1)", f"{ms(link.p50)} ms", link.p50 < 15),
    ]  # fmt: skip
    return [[name, value, "met" if ok else "**missed**"] for name, value, ok in checks]


def render(run: Run, chart) -> str:
    rows = run.info.get("rows", {})
    sizes = ", ".join(f"{v:,} {k}" for k, v in rows.items())
    first = run.first_load
    parts = table(
        ["Resource", "gzip bytes", "br bytes"],
        [
            [path, f"{first['gzip']['parts'][path]:,}", f"{first['br']['parts'].get(path, 0):,}"]
            for path in first["gzip"]["parts"]
        ]
        + [["**total**", f"**{first['gzip']['total']:,}**", f"**{first['br']['total']:,}**"]],
    )
    limits = ", ".join(f"`{k}={v}`" for k, v in LIMIT_OVERRIDES.items())
    ceiling = " / ".join(f"{r.rps:.0f}" for r in run.ceiling)
    database = "PostgreSQL" if run.url.startswith("postgres") else "SQLite"
    return "\n\n".join(
        [
            f"## Latest benchmark run on {database} (`scripts/bench`)",
            kv_table(machine(run.url, run.load_before)),
            "A load average above the core count means other processes competed for the CPU "
            "during the run: latencies and req/s are then pessimistic and noisy, while the "
            "server CPU per request hardly changes and is the fairer comparison.",
            f"Dataset: {sizes}"
            + (" (reused from an earlier build)" if run.info.get("reused") else "")
            + f"; the heavy customer has {run.info['heavy_invoices']:,} invoices "
            "and 20 payment methods. "
            f"Server: `gunicorn -w {run.workers} -b 127.0.0.1:PORT wsgi:app`, "
            "`PORTAL_ENV=production`; "
            f"load from `wrk -t1` in a separate process, {run.seconds:g} s per page at 16 "
            f"connections and {max(run.seconds / 2, 2):g} s at 1 connection, every request with "
            "`Accept-Encoding: gzip`. The ceiling (bare Flask rendering a Jinja page as large as "
            f"the portal home, same gunicorn settings) did {ceiling} req/s before and after the "
            f"pages. Rate limits were raised for the run so that they do not answer 429: {limits}.",
            table(HEADER, [_row(run, e.name) for e in run.endpoints]),
            "*bytes/response* is what wrk read per response (headers and compressed body). "
            "*in-process ms* is the median of 30 interleaved requests through the Flask test "
            "client (no HTTP, no queueing); *SQL queries* were counted there too, with a counter "
            "on peewee's `execute_sql`, after one warm-up request. *server CPU ms/req* is the "
            "user + system CPU of the gunicorn processes during the 16-connection run divided by "
            "its requests (for request-link it includes the e-mail sent after the response); "
            "*× ceiling by CPU* is the ceiling's CPU per request divided by the page's. *errors* "
            "are non-2xx/3xx answers, socket errors and timeouts. Server tracebacks in the "
            f"gunicorn log: {run.tracebacks}.",
            "### First load of the portal home",
            parts,
            "### Latency versus concurrency",
            f"![Portal home vs ceiling latency on {database}]({chart})",
            table(
                SWEEP_HEADER,
                [_sweep_row(run, level) for level in sorted({n for _, n in run.sweep})],
            ),
            "### Targets",
            table(["Target", "Measured", "Result"], _targets(run)),
        ]
    )


__all__ = ["Result", "Run", "render", "sweep_series"]
