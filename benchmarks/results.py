"""A benchmark run's numbers and their Markdown: the table, first-load bytes, targets."""

from dataclasses import asdict, dataclass, field

from . import targets
from .harness import LIMIT_OVERRIDES, default_workers
from .report import kv_table, machine, ms, table
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
    mail: dict = field(default_factory=dict)  # request-link's mails at 16 connections
    setup: dict = field(default_factory=dict)  # rate-limit storage, mail delivery
    duration: float = 0.0  # seconds, dataset build included

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
            "mail": self.mail,
            "setup": self.setup,
            "duration": self.duration,
            "dataset_build_seconds": None if self.info.get("reused") else self.info.get("seconds"),
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


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {seconds % 60:.0f} s" if seconds >= 60 else f"{seconds:.0f} s"


def _setup_rows(run: Run) -> list[tuple[str, str]]:
    build = run.info.get("seconds")
    built = "reused" if run.info.get("reused") else f"built in {_minutes(build or 0)}"
    mail = run.setup.get("mail", "worker")
    woken = f" ({run.setup['woken']})" if run.setup.get("woken") else ""
    return [
        (
            "gunicorn workers",
            f"{run.workers}"
            + (" (2 × cores)" if run.workers == default_workers() else " (`--workers`)"),
        ),
        ("Rate-limit storage", run.setup.get("storage", "built-in in-memory storage")),
        (
            "Mail delivery",
            f"`PORTAL_MAIL_DELIVERY={mail}`; `{run.setup.get('mailer', 'deliver-mail')}` "
            f"beside gunicorn{woken}, its CPU measured apart",
        ),
        ("Run duration", f"{_minutes(run.duration)} (dataset {built})"),
    ]


def _mail_note(run: Run) -> str:
    mail = run.mail
    if not mail:
        return ""
    mails, sent = mail.get("mails", 0), mail.get("worker_sent", 0)
    per_mail = mail["worker_cpu_ms"] / sent if sent else 0
    who = (
        f"the delivery worker sent {sent:,} of them"
        if sent
        else "the delivery worker sent none of them (the web workers did, on a thread)"
    )
    unsent = (
        f"; {mail['unsent']:,} were still unsent when the window closed" if mail["unsent"] else ""
    )
    return (
        f"**Mail of request-link.** During its 16-connection run and until its mails were sent, "
        f"{mail['requests']:,} requests answered (and up to 16 in flight when wrk stopped) "
        f"queued {mails:,} mails that reached the SMTP sink; {who}"
        f"{unsent}. The delivery worker used {mail['worker_cpu_ms']:,.0f} ms of CPU in that "
        f"window, {per_mail:.1f} ms per mail it sent (its idle polling included); that is not "
        "in the request-link row's server CPU, which counts the gunicorn processes only."
    )


def _first_load(run: Run) -> str:
    first = run.first_load
    return table(
        ["Resource", "gzip bytes", "br bytes"],
        [
            [path, f"{first['gzip']['parts'][path]:,}", f"{first['br']['parts'].get(path, 0):,}"]
            for path in first["gzip"]["parts"]
        ]
        + [["**total**", f"**{first['gzip']['total']:,}**", f"**{first['br']['total']:,}**"]],
    )


def _intro(run: Run) -> str:
    sizes = ", ".join(f"{v:,} {k}" for k, v in run.info.get("rows", {}).items())
    limits = ", ".join(f"`{k}={v}`" for k, v in LIMIT_OVERRIDES.items())
    ceiling = " / ".join(f"{r.rps:.0f}" for r in run.ceiling)
    reused = run.info.get("reused")
    built = " (reused from an earlier build)" if reused else " (built for this run)"
    return (
        f"Dataset: {sizes}{built}; the heavy customer has {run.info['heavy_invoices']:,} "
        f"invoices and 20 payment methods. Server: `gunicorn -w {run.workers} -b "
        "127.0.0.1:PORT wsgi:app`, `PORTAL_ENV=production`; load from `wrk -t1` in a separate "
        f"process, {run.seconds:g} s per page at 16 connections and "
        f"{max(run.seconds / 2, 2):g} s at 1 connection, every request with "
        "`Accept-Encoding: gzip`. The ceiling (bare Flask rendering a Jinja page as large as "
        f"the portal home, same gunicorn settings) did {ceiling} req/s before and after the "
        f"pages. Rate limits were raised for the run so that they do not answer 429: {limits}."
    )


FOOTNOTE = (
    "*bytes/response* is what wrk read per response (headers and compressed body). "
    "*in-process ms* is the median of 30 interleaved requests through the Flask test client (no "
    "HTTP, no queueing); *SQL queries* were counted there too, with a counter on peewee's "
    "`execute_sql`, after one warm-up request. *server CPU ms/req* is the user + system CPU of "
    "the gunicorn processes during the 16-connection run divided by its requests (for "
    "request-link the window lasts until its e-mails are sent, so it includes any that a web "
    "worker sends itself; the delivery worker is counted apart, below); *× ceiling by CPU* is "
    "the ceiling's CPU per request divided by the page's. *errors* are non-2xx/3xx answers, "
    "socket errors and timeouts. *Payment methods* is the heavy customer's page (20 cards). "
    "*POST billing field* saves the city of the billing-information form with the value it "
    "already has, as htmx does on change (the whole form urlencoded, the CSRF token also as a "
    "header; each request updates the customer row and records an activity event; 200 with the "
    "saved field). *Merchant settings* is the portal-settings page (with its live preview) of "
    "the company's owner, signed in through the merchant sign-in form."
)


def render(run: Run, chart) -> str:
    database = "PostgreSQL" if run.url.startswith("postgres") else "SQLite"
    scope = "; on PostgreSQL they are shown for comparison." if database == "PostgreSQL" else "."
    parts = [
        f"## Latest benchmark run on {database} (`scripts/bench`)",
        kv_table(machine(run.url, run.load_before) + _setup_rows(run)),
        "A load average above the core count means other processes competed for the CPU "
        "during the run: latencies and req/s are then pessimistic and noisy, while the "
        "server CPU per request hardly changes and is the fairer comparison.",
        _intro(run),
        table(HEADER, [_row(run, e.name) for e in run.endpoints]),
        f"{FOOTNOTE} Server tracebacks in the gunicorn log: {run.tracebacks}. Every endpoint "
        "was checked before the load and again after it: "
        + ("; ".join(run.setup["after"]) if run.setup.get("after") else "all answered as expected")
        + ".",
        _mail_note(run),
        "### First load of the portal home",
        _first_load(run),
        "### Latency versus concurrency",
        f"![Portal home vs ceiling latency on {database}]({chart})",
        table(
            SWEEP_HEADER,
            [_sweep_row(run, level) for level in sorted({n for _, n in run.sweep})],
        ),
        "### Targets",
        "From the speed issue (and earlier ones), judged on this run's numbers and reported, not "
        f"asserted. The server-CPU and p99 targets are set for SQLite{scope}",
        table(["Target", "Measured", "Result"], targets.rows(run)),
    ]
    return "\n\n".join(part for part in parts if part)


__all__ = ["Result", "Run", "render", "sweep_series"]
