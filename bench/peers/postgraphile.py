"""PostGraphile v4, the read peer: the same database and data as bench/dashboard.py,
served by `postgraphile --cluster-workers 2`, and the check that both servers answer
with the same figures before either is timed.

PostGraphile is installed by install.sh (npm, from the committed lockfile) into the
git-ignored node_modules beside this file. What it needs in the database (smart
comments, one computed column for the balances) goes into the bench's scratch database
only, never into a migration.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import tempfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx

HERE = Path(__file__).resolve().parent
BINARY = HERE / "node_modules" / ".bin" / "postgraphile"

# The dashboard's figures, in PostGraphile's schema: funds by creation, balances from a
# computed column (SCRATCH_SQL), each fund's last 10 donations (newest first, as
# Jinlin's loader orders them) with their campaigns' names.
QUERY = """query($n:Int!){allFunds(first:$n,orderBy:[CREATED_AT_ASC,ID_ASC]){nodes{id code name
  position{total bank cashOnHand onlineClearing available}
  donationsByFundId(first:10,orderBy:[RECEIVED_AT_DESC,ID_DESC]){nodes{id amountFen channel
    donorName receivedAt campaignByCampaignId{id name}}}}}}"""

# Bench database only. PostGraphile v4 cannot build its schema over journal_entries: the
# reverses_id self-reference gives its forward and backward relations the same name
# (journalEntryByReversesId), so the table is left out, as the issue found. The computed column is the fund's positions as
# ledger.accounts.positions computes them, from the stored balances.
SCRATCH_SQL = """
COMMENT ON TABLE journal_entries IS E'@omit';
CREATE TYPE fund_position AS (
    total bigint, bank bigint, cash_on_hand bigint, online_clearing bigint, available bigint);
CREATE FUNCTION funds_position(f funds) RETURNS fund_position
LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(balance_fen)
               FILTER (WHERE code IN ('1001', '1009.09', '1002', '1009.01', '1201')), 0),
           coalesce(sum(balance_fen) FILTER (WHERE code = '1002'), 0),
           coalesce(sum(balance_fen) FILTER (WHERE code IN ('1001', '1009.09')), 0),
           coalesce(sum(balance_fen) FILTER (WHERE code = '1009.01'), 0),
           coalesce(sum(CASE WHEN code IN ('1001', '1009.09', '1002') THEN balance_fen
                             WHEN code = '2209.01' THEN -balance_fen END), 0)
    FROM ledger_accounts WHERE fund_id = f.id
$$;
"""


def install() -> str | None:
    """Install PostGraphile if needed; None when it is installed, else why not."""
    try:
        subprocess.run(
            ["bash", str(HERE / "install.sh")],
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = getattr(exc, "stderr", "") or repr(exc)
        return f"PostGraphile not installed: {detail.strip()[-500:]}"
    return None


async def prepare(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(SCRATCH_SQL)
    finally:
        await conn.close()


class PostGraphile:
    """`postgraphile --cluster-workers W` over a database, in its own process group."""

    def __init__(self, dsn: str, port: int, workers: int = 2):
        self.dsn, self.port, self.workers = dsn, port, workers
        self.base_url = f"http://127.0.0.1:{port}"
        self.log = tempfile.NamedTemporaryFile(prefix="postgraphile-", suffix=".log")
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> PostGraphile:
        # Production-like: no GraphiQL, no query log, no watch; its own query cache on.
        self.proc = subprocess.Popen(
            [
                str(BINARY),
                "--connection",
                self.dsn,
                "--schema",
                "public",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--cluster-workers",
                str(self.workers),
                "--disable-query-log",
                "--no-setof-functions-contain-nulls",
            ],
            cwd=HERE,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "NODE_ENV": "production"},
        )
        return self

    async def wait_ready(self, within: float = 60) -> None:
        deadline = asyncio.get_running_loop().time() + within
        async with httpx.AsyncClient(timeout=5) as http:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"postgraphile exited:\n{self.output()}")
                try:
                    r = await http.post(f"{self.base_url}/graphql", json={"query": "{__typename}"})
                    if r.status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise TimeoutError(f"postgraphile not ready:\n{self.output()}")
                await asyncio.sleep(0.2)

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")[-3000:]

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log.close()


# ---------------------------------------------------------------- same figures

Figures = list[tuple]


def _fen(amount: str) -> int:
    return int(Decimal(amount) * 100)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def jinlin_figures(data: dict) -> Figures:
    """Per fund (by code): its balances in fen, then each donation's amount, channel,
    donor, instant and campaign name, in the order served."""
    out = []
    for edge in data["funds"]["edges"]:
        f = edge["node"]
        b = f["balances"]
        out.append(
            (
                f["code"],
                f["name"],
                tuple(
                    _fen(b[k]["amount"])
                    for k in ("total", "bank", "cashOnHand", "onlineClearing", "available")
                ),
                tuple(
                    (
                        _fen(d["amount"]["amount"]),
                        d["channel"],
                        d["donorName"],
                        _instant(d["receivedAt"]),
                        (d["campaign"] or {}).get("name"),
                    )
                    for d in (e["node"] for e in f["donations"]["edges"])
                ),
            )
        )
    return out


def postgraphile_figures(data: dict) -> Figures:
    out = []
    for f in data["allFunds"]["nodes"]:
        p = f["position"]
        out.append(
            (
                f["code"],
                f["name"],
                tuple(
                    int(p[k])
                    for k in ("total", "bank", "cashOnHand", "onlineClearing", "available")
                ),
                tuple(
                    (
                        int(d["amountFen"]),
                        d["channel"],
                        d["donorName"],
                        _instant(d["receivedAt"]),
                        (d["campaignByCampaignId"] or {}).get("name"),
                    )
                    for d in f["donationsByFundId"]["nodes"]
                ),
            )
        )
    return out


def same_figures(jinlin: dict, peer: dict) -> str | None:
    """None when both answers carry the same figures, else the first difference."""
    mine, theirs = jinlin_figures(jinlin), postgraphile_figures(peer)
    if len(mine) != len(theirs):
        return f"{len(mine)} funds against {len(theirs)}"
    for a, b in zip(mine, theirs, strict=True):
        if a != b:
            return f"fund {a[0]}: {a} against {b}"
    return None
