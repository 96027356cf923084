"""Run wrk (Debian's, with Lua) against one URL and read back the numbers bench.lua prints."""

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).with_name("bench.lua")


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    headers: dict
    emails_file: str | None = None  # POST bodies rotate over these customers' addresses
    company_id: str | None = None
    body: str | None = None  # the same body on every request (a form post)
    expect: str | None = None  # text the answer must contain when checked before the load

    @property
    def sends_mail(self) -> bool:
        return self.emails_file is not None


@dataclass(frozen=True)
class Result:
    requests: int
    seconds: float
    bytes: int
    status_errors: int  # responses that were not 2xx/3xx
    socket_errors: int
    timeouts: int
    p50: float  # milliseconds
    p95: float
    p99: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def bytes_per_response(self) -> float:
        return self.bytes / self.requests if self.requests else 0.0

    @property
    def errors(self) -> int:
        return self.status_errors + self.socket_errors + self.timeouts


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (scripts/bench does this)")
    return path


def run(port: int, endpoint: Endpoint, *, seconds: float, connections: int) -> Result:
    """Drive ``endpoint`` for ``seconds`` over ``connections`` keep-alive connections."""
    env = {
        **os.environ,
        "BENCH_METHOD": endpoint.method,
        "BENCH_HEADERS": "\n".join(f"{k}: {v}" for k, v in endpoint.headers.items()),
    }
    if endpoint.emails_file:
        env["BENCH_EMAILS"] = endpoint.emails_file
        env["BENCH_COMPANY_ID"] = endpoint.company_id or ""
    if endpoint.body is not None:
        env["BENCH_BODY"] = endpoint.body
    # One wrk thread: on a 2-core machine the load generator must leave the cores to gunicorn.
    duration = f"-d{max(round(seconds), 1)}s"  # wrk takes whole seconds
    cmd = [require_wrk(), "-t1", f"-c{connections}", duration, "--timeout", "10s"]
    cmd += ["-s", str(SCRIPT), f"http://127.0.0.1:{port}{endpoint.path}"]
    out = subprocess.run(  # noqa: S603
        cmd, env=env, capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    line = next((ln for ln in out.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    return Result(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        bytes=raw["bytes"],
        status_errors=raw["status_errors"],
        socket_errors=raw["socket_errors"],
        timeouts=raw["timeouts"],
        p50=raw["p50"] / 1000,
        p95=raw["p95"] / 1000,
        p99=raw["p99"] / 1000,
    )
