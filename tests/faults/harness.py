"""A real `jinlin serve` subprocess, scratch PostgreSQL databases and a GraphQL set-up
over HTTP, shared by the fault tests and the benchmarks in bench/."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from sqlalchemy.engine import make_url

from db.engine import make_engine
from db.migrate import upgrade_async
from resolvers.users import create_user_in

ROOT = Path(__file__).resolve().parents[2]
SECRET = "fault-and-bench-secret-key-0123456789abcdef"
PASSWORD = "correct horse battery staple"

DONATE = (
    "mutation($i:RecordDonationInput!){recordDonation(input:$i){"
    "donation{id amount{amount}} errors{code message field}}}"
)
BALANCES = (
    "query($f:ID!){node(id:$f){... on Fund{code balances{total{amount} bank{amount}"
    " cashOnHand{amount} onlineClearing{amount} inKind{amount} available{amount}}"
    " trialBalance{balanced}}}}"
)
VERIFY = "query($f:ID!){verifyJournal(fundId:$f){ok}}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jinlin_command() -> list[str]:
    script = Path(sys.executable).with_name("jinlin")
    return [str(script)] if script.exists() else [sys.executable, str(ROOT / "cli.py")]


def server_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        JINLIN_DATABASE_URL=database_url,
        JINLIN_SECRET_KEY=SECRET,
        JINLIN_ENV="production",
        PYTHONUNBUFFERED="1",
    )
    return env


def jinlin_cli(database_url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*jinlin_command(), *args],
        env=server_env(database_url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def verify_journal_cli(database_url: str) -> subprocess.CompletedProcess:
    return jinlin_cli(database_url, "verify-journal")


def audit_cli(database_url: str) -> subprocess.CompletedProcess:
    return jinlin_cli(database_url, "audit")


# ---------------------------------------------------------------- PostgreSQL


def asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


class ScratchDatabase:
    """A freshly created and migrated PostgreSQL database, dropped on exit."""

    def __init__(self, base_url: str, prefix: str = "jinlin_fault"):
        self.base_url = base_url
        self.name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        self.url = make_url(base_url).set(database=self.name).render_as_string(False)
        self.dsn = asyncpg_dsn(base_url, self.name)

    @staticmethod
    def dsn_of(url: str) -> str:
        return asyncpg_dsn(url)

    async def __aenter__(self) -> ScratchDatabase:
        conn = await asyncpg.connect(asyncpg_dsn(self.base_url), timeout=10)
        try:
            await conn.execute(f'CREATE DATABASE "{self.name}"')
        finally:
            await conn.close()
        await upgrade_async(self.url)
        return self

    async def __aexit__(self, *exc) -> None:
        await wait_for_postgres(self.base_url, 60)
        conn = await asyncpg.connect(asyncpg_dsn(self.base_url), timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            await conn.close()


async def wait_for_postgres(url: str, within: float) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            conn = await asyncpg.connect(asyncpg_dsn(url), timeout=2)
            await conn.close()
            return
        except (OSError, asyncpg.PostgresError, TimeoutError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


def postgres_cluster(url: str) -> tuple[str, str]:
    """(version, name) of the local pg_ctlcluster cluster listening on the URL's port."""
    port = str(make_url(url).port or 5432)
    out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True)
    for line in out.stdout.splitlines():
        version, name, cluster_port, *_ = line.split()
        if cluster_port == port:
            return version, name
    raise RuntimeError(f"no local PostgreSQL cluster on port {port} (pg_lsclusters)")


def pg_ctlcluster(url: str, action: str) -> None:
    """Stop or start the server behind `url`: the embedded one (a socket in data/pg)
    or the machine's own cluster (CI)."""
    if "host=" in url and make_url(url).query.get("host", "").startswith("/"):
        from config import DATA_DIR
        from db import embedded

        if action == "stop":
            embedded.stop(DATA_DIR)
        else:
            embedded.ensure_running(DATA_DIR)
        return
    version, name = postgres_cluster(url)
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, action],
        check=True,
        capture_output=True,
        timeout=60,
    )


# ---------------------------------------------------------------- the server


class Server:
    """`jinlin serve` in its own process group, so kill -9 takes its workers too."""

    def __init__(self, database_url: str, *, workers: int = 1, port: int | None = None):
        self.database_url = database_url
        self.workers = workers
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="jinlin-serve-", suffix=".log", delete=False)
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [*jinlin_command(), "serve", "--port", str(self.port), "--workers", str(self.workers)],
            env=server_env(self.database_url),
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    async def wait_ready(self, within: float = 90) -> None:
        """Until /ready answers 200 from every worker (probed a few times)."""
        deadline = time.monotonic() + within
        ok = 0
        async with httpx.AsyncClient(timeout=2) as http:
            while ok < 2 * self.workers:
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"server exited with {self.proc.returncode}:\n{self.output()}"
                    )
                try:
                    # A new connection each time, so each worker gets a turn.
                    r = await http.get(f"{self.base_url}/ready", headers={"connection": "close"})
                    ok = ok + 1 if r.status_code == 200 else 0
                except httpx.TransportError:
                    ok = 0
                if ok < 2 * self.workers:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"server not ready in {within} s:\n{self.output()}")
                    await asyncio.sleep(0.05)

    async def start_ready(self, within: float = 90) -> None:
        self.start()
        await self.wait_ready(within)

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def worker_processes(self) -> list[psutil.Process]:
        """The processes that serve requests: the server itself with one worker,
        its children with several."""
        main = psutil.Process(self.proc.pid)
        if self.workers == 1:
            return [main]
        return [
            p
            for p in main.children()
            if "resource_tracker" not in " ".join(p.cmdline())  # multiprocessing's helper
        ]

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")[-5000:]

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)


# ---------------------------------------------------------------- GraphQL set-up


async def gql(
    http: httpx.AsyncClient, query: str, variables: dict | None = None, token: str | None = None
) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    r = await http.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert r.status_code == 200, r.text
    return r.json()


async def gql_data(http, query, variables=None, token=None) -> dict[str, Any]:
    body = await gql(http, query, variables, token)
    assert not body.get("errors"), body["errors"]
    return body["data"]


async def create_users(database_url: str, users: dict[str, list[str]]) -> None:
    engine = make_engine(database_url)
    try:
        for name, roles in users.items():
            await create_user_in(engine, name, PASSWORD, roles)
    finally:
        await engine.dispose()


async def login(http: httpx.AsyncClient, username: str) -> str:
    d = await gql_data(
        http,
        "mutation($u:String!,$p:String!){login(input:{username:$u,password:$p}){token errors{code}}}",
        {"u": username, "p": PASSWORD},
    )
    assert d["login"]["token"], d
    return d["login"]["token"]


async def open_funds(http: httpx.AsyncClient, admin: str, count: int, tag: str = "F") -> list[str]:
    """A subdistrict, one community per fund, and `count` open funds: their IDs."""
    d = await gql_data(
        http,
        'mutation{createSubdistrict(input:{name:"建设路街道",district:"中原区"}){subdistrict{id}'
        " errors{code message}}}",
        token=admin,
    )
    sub = d["createSubdistrict"]["subdistrict"]["id"]
    funds = []
    for i in range(count):
        d = await gql_data(
            http,
            "mutation($s:ID!,$n:String!){createCommunity(input:{subdistrictId:$s,name:$n,"
            'grids:["一网格"]}){community{id} errors{code message}}}',
            {"s": sub, "n": f"社区{tag}{i}"},
            token=admin,
        )
        com = d["createCommunity"]["community"]["id"]
        d = await gql_data(
            http,
            "mutation($c:ID!,$code:String!){openFund(input:{code:$code,name:$code,level:COMMUNITY,"
            'host:"郑州市慈善总会",communityId:$c}){fund{id} errors{code message}}}',
            {"c": com, "code": f"{tag}{i:03d}"},
            token=admin,
        )
        assert d["openFund"]["errors"] == [], d
        funds.append(d["openFund"]["fund"]["id"])
    return funds


def donation_input(fund: str, key: str, amount: str, channel: str = "ONLINE", **extra) -> dict:
    inp = {
        "fundId": fund,
        "channel": channel,
        "amount": {"amount": amount, "currency": "CNY"},
        "donorName": "张三",
        "idempotencyKey": key,
    }
    if channel == "ONLINE":
        inp["externalRef"] = f"ref-{key}"
    inp.update(extra)
    return inp


def fen(amount: str) -> int:
    yuan, _, cents = amount.partition(".")
    return int(yuan) * 100 + int((cents + "00")[:2])
