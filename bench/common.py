"""Shared by the benchmarks: the project on the import path, the server and scratch
database helpers of the fault tests, HTTP load with latency percentiles, tables."""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

# bench/ledger.py shadows the ledger package when bench/ comes first on the path: move
# bench/ to the end (its scripts and bench/peers stay importable), the project first.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))
sys.path.append(str(_HERE))

import asyncio
import contextlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import httpx
import psutil
from rich.console import Console
from rich.table import Table

from tests.faults.harness import (  # noqa: F401  (re-exported for the bench scripts)
    DONATE,
    ScratchDatabase,
    Server,
    create_users,
    donation_input,
    gql_data,
    login,
    open_funds,
)

DEFAULT_URL = os.environ.get(
    "JINLIN_BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
console = Console()


def machine() -> str:
    mem = psutil.virtual_memory().total / 2**30
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{date.today()} · {platform.machine()}, {os.cpu_count()} cores, {mem:.0f} GiB, "
        f"Python {platform.python_version()} · load average before the run {load}"
    )


def pct(samples: list[float], p: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass
class Load:
    """What a run of requests measured: latencies in ms, errors, wall time."""

    label: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0
    client_cpu: float = 0.0  # CPU seconds the load generator itself used
    first_error: str = ""

    @property
    def count(self) -> int:
        return len(self.latencies) + self.errors

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def row(self) -> list[str]:
        return [
            self.label,
            f"{self.count:,}",
            f"{self.rate:,.0f}",
            f"{pct(self.latencies, 50):.1f}",
            f"{pct(self.latencies, 95):.1f}",
            f"{pct(self.latencies, 99):.1f}",
            f"{self.errors}",
        ]


LOAD_COLUMNS = ["path", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors"]


async def http_load(
    label: str,
    base_url: str,
    token: str,
    n: int,
    concurrency: int,
    body_for: Callable[[int], dict],
    ok: Callable[[dict], bool],
) -> Load:
    """`concurrency` clients, each its own keep-alive HTTP/1.1 connection, share n
    requests; body_for(i) is the JSON body of request i, ok(json) says it worked.
    An empty token sends no Authorization header (a peer server without sign-in)."""
    load = Load(label)
    todo = iter(range(n))
    headers = {"authorization": f"Bearer {token}"} if token else {}

    async def client() -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as http:
            for i in todo:
                started = time.perf_counter()
                try:
                    r = await http.post("/graphql", json=body_for(i), headers=headers)
                    good = r.status_code == 200 and ok(r.json())
                    detail = r.text[:300]
                except httpx.HTTPError as exc:
                    good, detail = False, repr(exc)
                if good:
                    load.latencies.append((time.perf_counter() - started) * 1000)
                else:
                    load.errors += 1
                    load.first_error = load.first_error or detail

    me = psutil.Process()
    cpu = me.cpu_times()
    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    load.elapsed = time.perf_counter() - started
    after = me.cpu_times()
    load.client_cpu = (after.user + after.system) - (cpu.user + cpu.system)
    return load


async def timed_tasks(label: str, n: int, concurrency: int, one: Callable[[int], object]) -> Load:
    """n calls of the coroutine function one(i), `concurrency` at a time, timed each."""
    load = Load(label)
    todo = iter(range(n))

    async def worker() -> None:
        for i in todo:
            started = time.perf_counter()
            try:
                await one(i)
            except Exception as exc:
                load.errors += 1
                load.first_error = load.first_error or repr(exc)
                continue
            load.latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    load.elapsed = time.perf_counter() - started
    return load


# Both scripts below end with this: bad responses counted per thread (a script defines
# good(body)), and one summary line that _run_wrk parses.
_WRK_REPORT = r"""
response = function(status, headers, body)
  if status ~= 200 or not good(body) then
    errors = errors + 1
    wrk.thread:set("errors", errors)
  end
end
done = function(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + t:get("errors") end
  local e = summary.errors
  io.write(string.format("JINLIN %d %d %d %d %d %d\n", summary.requests, bad + e.connect + e.read + e.write + e.timeout,
    summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""

# Each wrk thread numbers its own requests: thread id + start time + counter keeps keys
# and refs unique. A response counts as good only when its payload's errors are empty.
WRK_LUA = (
    r"""
local threads = {}
local counter, errors = 0, 0
local funds = %(funds)s
setup = function(t) t:set("id", #threads); t:set("errors", 0); table.insert(threads, t) end
init = function() prefix = tostring(id) .. "-" .. tostring(os.time()) .. "-" .. tostring(math.random(1e9)) end
request = function()
  counter = counter + 1
  local key = prefix .. "-" .. counter
  local fund = funds[(counter %% #funds) + 1]
  local body = '{"query":"mutation($i:RecordDonationInput!){recordDonation(input:$i){donation{id status} errors{code}}}",'
    .. '"variables":{"i":{"fundId":"' .. fund .. '","channel":"ONLINE","amount":{"amount":"1.00","currency":"CNY"},'
    .. '"donorName":"wrk","externalRef":"wrk-' .. key .. '","idempotencyKey":"wrk-' .. key .. '"}}}'
  return wrk.format("POST", "/graphql", {["Content-Type"]="application/json", ["Authorization"]="Bearer %(token)s"}, body)
end
good = function(body) return string.find(body, '"errors":[]', 1, true) ~= nil end
"""
    + "%(report)s"
)


@dataclass
class WrkRun:
    """One wrk run: rate and latency percentiles (ms) as wrk measured them."""

    label: str
    requests: int
    errors: int
    seconds: float
    p50: float
    p95: float
    p99: float

    @property
    def rate(self) -> float:
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0

    def row(self) -> list[str]:
        return [
            self.label,
            f"{self.requests:,}",
            f"{self.rate:,.0f}",
            f"{self.p50:.1f}",
            f"{self.p95:.1f}",
            f"{self.p99:.1f}",
            f"{self.errors}",
        ]


async def analyze(db_url: str) -> None:
    """ANALYZE the scratch database, as autovacuum would within a minute of the first
    rows. This machine's PostgreSQL runs with autovacuum off (conf.d/90-ci.conf): without
    statistics, plans cached while the tables were empty stay, and one of them (the
    ONLINE externalRef lookup) then scans a fund's donations on every request, so the
    rate falls as the run goes on. ANALYZE also invalidates those cached plans."""
    import asyncpg

    conn = await asyncpg.connect(ScratchDatabase.dsn_of(db_url))
    try:
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


# wrk's own timeout is 2 s: a slower answer would count as an error, not as a latency.
WRK_ARGS = ("wrk", "-t2", "--timeout", "30s")


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


# One fixed request, repeated; good when the answer carries no "errors" at all.
WRK_FIXED_LUA = (
    r"""
local threads = {}
local errors = 0
setup = function(t) t:set("errors", 0); table.insert(threads, t) end
request = function()
  return wrk.format("POST", "/graphql", %(headers)s, %(body)s)
end
good = function(body) return string.find(body, '"errors"', 1, true) == nil end
"""
    + "%(report)s"
)


async def wrk_fixed(
    label: str, base_url: str, token: str, body: dict, seconds: float, connections: int
) -> WrkRun:
    """The same GraphQL request from `connections` keep-alive connections for `seconds`,
    driven by wrk. An empty token sends no Authorization header."""
    auth = f', ["Authorization"]="Bearer {token}"' if token else ""
    script = WRK_FIXED_LUA % {
        "headers": '{["Content-Type"]="application/json"' + auth + "}",
        "body": json.dumps(json.dumps(body)),
        "report": _WRK_REPORT,
    }
    return await _run_wrk(label, base_url, script, seconds, connections)


async def wrk_load(
    label: str, base_url: str, token: str, funds: list[str], seconds: float, connections: int
) -> WrkRun:
    """recordDonation (ONLINE, 1.00 CNY) round-robin over `funds` from `connections`
    keep-alive connections for `seconds`, driven by wrk (C: it barely competes with the
    server for the cores, unlike a Python load generator)."""
    funds_lua = "{" + ",".join(json.dumps(f) for f in funds) + "}"
    script = WRK_LUA % {"funds": funds_lua, "token": token, "report": _WRK_REPORT}
    return await _run_wrk(label, base_url, script, seconds, connections)


async def _run_wrk(label: str, base_url: str, lua: str, seconds: float, connections: int) -> WrkRun:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(lua)
        script.flush()
        out = await asyncio.to_thread(
            subprocess.run,
            [*WRK_ARGS, f"-c{connections}", f"-d{seconds:g}s", "-s", script.name, base_url],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        )
    match = re.search(r"^JINLIN (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$", out.stdout, re.M)
    if match is None:
        raise RuntimeError(f"wrk printed no summary:\n{out.stdout}\n{out.stderr}")
    requests, errors, duration_us, p50, p95, p99 = map(int, match.groups())
    return WrkRun(label, requests, errors, duration_us / 1e6, p50 / 1000, p95 / 1000, p99 / 1000)


def table(title: str, columns: list[str], rows: list[list[str]]) -> Table:
    t = Table(title=title, title_justify="left")
    for i, name in enumerate(columns):
        t.add_column(name, justify="left" if i == 0 else "right")
    for row in rows:
        t.add_row(*row)
    return t


def markdown(columns: list[str], rows: list[list[str]]) -> str:
    """The same table for docs/performance.md."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.0%}" if baseline else "-"


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --- profiles (bench/profile_*.py) --------------------------------------------------

PROJECT_DIR = str(Path(__file__).resolve().parent.parent) + "/"


def own_time_by_area(stats, areas: tuple) -> dict[str, float]:
    """cProfile's own time summed by area: the first of `areas` ((name, marks)) whose
    mark the file's path holds, else the project's own files, else builtins or stdlib."""
    out: dict[str, float] = {}
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        name = _area(filename, areas)
        out[name] = out.get(name, 0.0) + tottime
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def _area(filename: str, areas: tuple) -> str:
    for name, marks in areas:
        if any(m in filename for m in ((marks,) if isinstance(marks, str) else marks)):
            return name
    if filename.startswith(PROJECT_DIR) and "/.venv/" not in filename:
        return "project"
    return "builtins/other" if filename.startswith(("~", "<")) else "stdlib/other"


def production_app(db_url: str):
    """The whole ASGI app in this process, on `db_url`, with production settings."""
    from config import load_settings
    from server import create_app
    from tests.faults.harness import SECRET

    return create_app(
        load_settings(
            {"JINLIN_DATABASE_URL": db_url, "JINLIN_SECRET_KEY": SECRET, "JINLIN_ENV": "production"}
        )
    )


@contextlib.asynccontextmanager
async def signed_in(db_url: str, *, fill: bool):
    """(client, admin token, FINANCE token) on a production app in this process; the
    users are made first when `fill`, and the database analysed after."""
    if fill:
        await create_users(db_url, {"admin": ["ADMIN"], "fin": ["FINANCE"]})
    app = production_app(db_url)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
        yield http, await login(http, "admin"), await login(http, "fin")
    await app.app.state.jinlin.engine.dispose()
    if fill:
        await analyze(db_url)


def cpu_times(processes: list[psutil.Process]) -> dict[int, float]:
    """CPU seconds so far, by process id."""
    times = {}
    for p in processes:
        try:
            t = p.cpu_times()
            times[p.pid] = t.user + t.system
        except psutil.Error:
            pass  # a PostgreSQL backend that ended meanwhile
    return times


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two snapshots by the processes alive at the second:
    a backend that ended in between takes its time with it (pool connections closed
    on return), so the figure is a lower bound then, never a negative one."""
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


def postgres_processes() -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["name"]) if (p.info["name"] or "") == "postgres"]
