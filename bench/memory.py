"""Peak RSS of one server worker while it records N donations (target: under 200 MB
after 100,000). Run by hand or by `make bench`.

    .venv/bin/python bench/memory.py -n 100000 -c 16

One worker (`--workers 1`: the server process is the worker) on a scratch PostgreSQL
database; RSS is sampled with psutil every 0.2 s and reported at checkpoints, so a
leak shows as growth between them rather than only as a final figure.
"""

from __future__ import annotations

import argparse
import asyncio

import httpx
from common import (
    DEFAULT_URL,
    DONATE,
    ScratchDatabase,
    Server,
    analyze,
    console,
    create_users,
    donation_input,
    http_load,
    login,
    machine,
    markdown,
    open_funds,
    table,
)

MB = 1024 * 1024


async def main(argv: list[str] | None = None) -> tuple[str, list[str], list[list[str]]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("-n", type=int, default=100_000, help="donations")
    parser.add_argument("-c", type=int, default=16, help="concurrent clients")
    args = parser.parse_args(argv)
    console.print(f"[bold]machine[/]: {machine()}")
    async with ScratchDatabase(args.url, prefix="jinlin_bench") as db:
        await create_users(db.url, {"admin": ["ADMIN"], "fin": ["FINANCE"]})
        with Server(db.url, workers=1) as server:
            await server.start_ready(60)
            worker = server.worker_processes()[0]
            async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
                admin = await login(http, "admin")
                fin = await login(http, "fin")
                funds = await open_funds(http, admin, 20, "M")
            start_rss = worker.memory_info().rss
            peak = start_rss
            rows: list[list[str]] = [["0 (started, funds open)", f"{start_rss / MB:.0f}", ""]]

            async def sample() -> None:
                nonlocal peak
                while True:
                    peak = max(peak, worker.memory_info().rss)
                    await asyncio.sleep(0.2)

            def body(i: int) -> dict:
                inp = donation_input(funds[i % 20], f"m{i}", f"{1 + i % 500}.00")
                return {"query": DONATE, "variables": {"i": inp}}

            def ok(b: dict) -> bool:
                return not b.get("errors") and b["data"]["recordDonation"]["errors"] == []

            sampler = asyncio.create_task(sample())
            step = args.n // 10
            errors = 0
            for k in range(10):  # in tenths, to report the trend
                load = await http_load(
                    "mem", server.base_url, fin, step, args.c, lambda i, k=k: body(k * step + i), ok
                )
                errors += load.errors
                if k == 0:
                    await analyze(db.url)  # see common.analyze
                rss = worker.memory_info().rss
                rows.append([f"{(k + 1) * step:,}", f"{rss / MB:.0f}", f"{peak / MB:.0f}"])
            sampler.cancel()
            assert server.alive()
    columns = ["donations recorded", "RSS MB", "peak RSS MB"]
    title = f"Memory of one worker over {args.n:,} donations (errors: {errors})"
    console.print(table(title, columns, rows))
    return title, columns, rows


if __name__ == "__main__":
    title, columns, rows = asyncio.run(main())
    print(f"\n### {title}\n\n{markdown(columns, rows)}")
