"""recordDonation over HTTP driven by wrk (C, outside Python), as the issue measured.

The httpx load generator in donations.py competes with the server for this machine's two
cores; wrk costs little, so this is the fairer server figure. Needs Debian's `wrk`
(`apt-get install wrk`). Run by hand or by `make bench`; not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import tempfile

import httpx
from common import (  # first: the project on the path
    ScratchDatabase,
    Server,
    create_users,
    login,
    machine,
    open_funds,
)

# Each wrk thread numbers its own requests; thread id + counter keeps keys and refs unique.
LUA = r"""
local counter = 0
local funds = %(funds)s
local thread = 0
setup = function(t) t:set("id", thread); thread = thread + 1 end
init = function() prefix = tostring(id) .. "-" .. tostring(os.time()) end
request = function()
  counter = counter + 1
  local key = prefix .. "-" .. counter
  local fund = funds[(counter %% #funds) + 1]
  local body = '{"query":"mutation($i:RecordDonationInput!){recordDonation(input:$i){donation{id status} errors{code}}}",'
    .. '"variables":{"i":{"fundId":"' .. fund .. '","channel":"ONLINE","amount":{"amount":"1.00","currency":"CNY"},'
    .. '"donorName":"wrk","externalRef":"wrk-' .. key .. '","idempotencyKey":"wrk-' .. key .. '"}}}'
  return wrk.format("POST", "/graphql", {["Content-Type"]="application/json", ["Authorization"]="Bearer %(token)s"}, body)
end
"""


async def run(url: str, workers: int, funds_count: int, seconds: int, connections: int) -> dict:
    async with ScratchDatabase(url, prefix="jinlin_wrk") as db:
        await create_users(db.url, {"admin": ["ADMIN"], "fin": ["FINANCE"]})
        with Server(db.url, workers=workers) as server:
            await server.start_ready()
            async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
                admin, fin = await login(http, "admin"), await login(http, "fin")
                funds = await open_funds(http, admin, funds_count)
            with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
                script.write(
                    LUA
                    % {"funds": "{" + ",".join(json.dumps(f) for f in funds) + "}", "token": fin}
                )
                script.flush()
                wrk = await asyncio.to_thread(
                    subprocess.run,
                    [
                        "wrk",
                        "-t2",
                        f"-c{connections}",
                        f"-d{seconds}s",
                        "--latency",
                        "-s",
                        script.name,
                        server.base_url,
                    ],
                    capture_output=True,
                    text=True,
                    timeout=seconds + 60,
                    check=True,
                )
                out = wrk.stdout
            async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
                r = await http.post(
                    "/graphql",
                    json={
                        "query": "{funds(first:100){edges{node{journalEntries(last:1){edges{node{sequence}}}}}}}"
                    },
                    headers={"authorization": f"Bearer {fin}"},
                )
                stored = sum(
                    e["node"]["journalEntries"]["edges"][0]["node"]["sequence"]
                    for e in r.json()["data"]["funds"]["edges"]
                    if e["node"]["journalEntries"]["edges"]
                )
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {
        "req/s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1),
        "p99": re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1),
        "requests": requests,
        "donations stored": stored,
    }


async def main(argv: list[str] | None = None) -> list[tuple[str, list[str], list[list]]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("-c", type=int, default=32)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk): skipping the wrk benchmark")
        return []
    columns = ["funds", "req/s", "p50", "p99", "requests", "donations stored"]
    rows = []
    for funds_count in (20, 1):
        result = await run(args.url, args.workers, funds_count, args.seconds, args.c)
        rows.append([funds_count, *result.values()])
        print(f"{funds_count} fund(s): {result}")
    print(machine())
    return [(f"recordDonation driven by wrk, {args.workers} workers, C={args.c}", columns, rows)]


if __name__ == "__main__":
    asyncio.run(main())
