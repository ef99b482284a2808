"""recordDonation over HTTP, this working tree against a git ref, interleaved in one run.

The host's speed drifts by a factor of two within minutes (docs/performance.md), so two
runs made one after the other compare the host as much as the code. Here both servers
run side by side on one scratch database, and wrk drives them in turns (A B B A ...),
several short runs each: the ratio of their median rates is the figure.

    .venv/bin/python bench/ab_donations.py --ref HEAD~1 --rounds 4 --seconds 6

The ref's code is exported to a temporary folder and served with it first on
PYTHONPATH, with this tree's virtualenv: refs that need other packages or another
migration are out of its reach. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import tarfile
import tempfile
from pathlib import Path

import asyncpg
import httpx
import psutil
from common import (  # first: the project on the path
    ScratchDatabase,
    Server,
    console,
    cpu_spent,
    cpu_times,
    create_users,
    login,
    machine,
    open_funds,
    postgres_processes,
    wrk_load,
)
from sqlalchemy.engine import make_url

from tests.faults.harness import ROOT, jinlin_command, server_env


class TreeServer(Server):
    """`jinlin serve` from the code in `tree` (None: this working tree)."""

    def __init__(self, database_url: str, tree: Path | None, *, workers: int):
        super().__init__(database_url, workers=workers)
        self.tree = tree

    def start(self) -> None:
        env = server_env(self.database_url)
        if self.tree is not None:
            env["PYTHONPATH"] = f"{self.tree}{os.pathsep}{env.get('PYTHONPATH', '')}"
        self.proc = subprocess.Popen(
            [*jinlin_command(), "serve", "--port", str(self.port), "--workers", str(self.workers)],
            env=env,
            cwd=self.tree or ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def export(ref: str) -> Path:
    """The tree of `ref`, in a fresh temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="jinlin-ab-"))
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tempfile.TemporaryFile() as f:
        f.write(archive)
        f.seek(0)
        with tarfile.open(fileobj=f) as tar:
            tar.extractall(folder, filter="data")
    return folder


async def commits(url: str) -> int:
    """Transactions committed in the database so far (statistics lag a little)."""
    conn = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string())
    try:
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        return await conn.fetchval(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        )
    finally:
        await conn.close()


async def measured(server: Server, token: str, funds: list[str], seconds: float, c: int):
    """req/s; the CPU ms per donation of the server's workers and of PostgreSQL (every
    backend: the other server idles meanwhile); transactions committed per donation."""
    workers = psutil.Process(server.proc.pid).children(recursive=True)
    before = cpu_times(workers), cpu_times(postgres_processes()), await commits(server.database_url)
    run = await wrk_load("ab", server.base_url, token, funds, seconds, c)
    after = cpu_times(workers), cpu_times(postgres_processes())
    await asyncio.sleep(1)  # the statistics collector's delay
    done = max(run.requests, 1)
    committed = await commits(server.database_url) - before[2]
    if run.errors:
        raise RuntimeError(f"{run.errors} errors from {server.base_url}")
    ms = [cpu_spent(b, a) / done * 1000 for b, a in zip(before[:2], after, strict=True)]
    return run.rate, ms[0], ms[1], committed / done


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--ref", default="HEAD", help="A: this git ref; B: the working tree")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--funds", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument("--rounds", type=int, default=4, help="each round runs A B, or B A")
    parser.add_argument("-c", type=int, default=32)
    args = parser.parse_args(argv)
    tree = export(args.ref)
    try:
        async with ScratchDatabase(args.url, prefix="jinlin_ab") as db:
            await create_users(db.url, {"admin": ["ADMIN"], "fin": ["FINANCE"]})
            a = TreeServer(db.url, tree, workers=args.workers)
            b = TreeServer(db.url, None, workers=args.workers)
            with a, b:
                await asyncio.gather(a.start_ready(), b.start_ready())
                async with httpx.AsyncClient(base_url=b.base_url, timeout=30) as http:
                    admin, fin = await login(http, "admin"), await login(http, "fin")
                    funds = await open_funds(http, admin, args.funds)
                for server in (a, b):  # warm pools and caches outside the figures
                    await wrk_load("warm", server.base_url, fin, funds, 2, 8)
                figures: dict[str, list[tuple[float, float, float, float]]] = {"A": [], "B": []}
                for r in range(args.rounds):
                    order = [("A", a), ("B", b)] if r % 2 == 0 else [("B", b), ("A", a)]
                    for name, server in order:
                        figures[name].append(
                            await measured(server, fin, funds, args.seconds, args.c)
                        )
                        rate, w, p, tx = figures[name][-1]
                        console.print(
                            f"round {r + 1} {name}: {rate:,.0f}/s, CPU ms {w:.2f} workers"
                            f" {p:.2f} PG, {tx:.2f} transactions"
                        )
    finally:
        shutil.rmtree(tree, ignore_errors=True)
    med = {k: [statistics.median(x[i] for x in v) for i in range(4)] for k, v in figures.items()}
    for name, label in (("A", args.ref), ("B", "working tree")):
        rate, w, p, tx = med[name]
        console.print(
            f"{name} ({label}): median {rate:,.0f}/s; per donation CPU ms {w:.2f} workers, "
            f"{p:.2f} PostgreSQL; {tx:.2f} transactions"
        )
    pairs = [b[0] / a[0] for a, b in zip(figures["A"], figures["B"], strict=True)]
    console.print(
        f"B/A: {med['B'][0] / med['A'][0]:.3f} of the median rate; "
        f"per round {', '.join(f'{x:.2f}' for x in pairs)}"
    )
    print(machine())


if __name__ == "__main__":
    asyncio.run(main())
