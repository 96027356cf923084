"""The machine a run happened on, and the Markdown that bench.py and loadtest.py write into
BENCHMARKS.md (each between its own markers, so hand-written analysis around them stays)."""

import os
import platform
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    return match.group(1).strip() if match else "unknown"


def _ram() -> str:
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    except (OSError, AttributeError):
        return "unknown"
    return f"{kb / 1024 / 1024:.1f} GiB"


def _os() -> str:
    try:
        text = Path("/etc/os-release").read_text()
        name = re.search(r'^PRETTY_NAME="?([^"\n]+)', text, re.M).group(1)
    except (OSError, AttributeError):
        name = platform.system()
    return f"{name}, Linux {platform.release()}"


def _postgres_version(database_url: str) -> str | None:
    if not database_url.startswith("postgres"):
        return None
    from portal.db import bind, db

    bind(database_url)
    with db.connection_context():
        return db.execute_sql("SHOW server_version").fetchone()[0]


def loadavg(values=None) -> str:
    return " / ".join(f"{v:.2f}" for v in (values or os.getloadavg()))


def machine(database_url: str, load_start: tuple) -> list[tuple[str, str]]:
    """The machine and software of a run; ``load_start`` is os.getloadavg() when it began."""
    import gunicorn

    rows = [
        ("Date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("CPU", f"{_cpu_model()}, {os.cpu_count()} cores"),
        ("RAM", _ram()),
        ("OS", _os()),
        ("Python", platform.python_version()),
        ("SQLite", sqlite3.sqlite_version),
        ("gunicorn", f"{gunicorn.__version__}, sync workers"),
        ("Load average at start (1/5/15 min)", loadavg(load_start)),
        ("Load average at end (1/5/15 min)", loadavg()),
    ]
    postgres = _postgres_version(database_url)
    rows.insert(6, ("PostgreSQL", postgres or "not used in this run"))
    database = "PostgreSQL" if postgres else "SQLite (WAL, synchronous=FULL)"
    rows.append(("Database of this run", database))
    return rows


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def kv_table(rows: list[tuple[str, str]]) -> str:
    return table(["", ""], [[f"**{k}**", v] for k, v in rows])


def write_block(path: Path, name: str, body: str) -> None:
    """Replace the text between ``<!-- name:start -->`` and ``<!-- name:end -->``."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body.rstrip()}\n{end}"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


def ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def kb(value: float) -> str:
    return f"{value / 1024:.1f} KB"
