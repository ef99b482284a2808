"""The `jinlin` command: serve, migrate, seed-demo, create-user, export-schema, verify-journal."""

from __future__ import annotations

import argparse
import asyncio
import sys

from config import ConfigError, load_settings
from db.embedded import EmbeddedError


def _serve(args) -> int:
    import socket

    import uvicorn

    from ops.logs import uvicorn_log_config
    from ops.serving import metrics_folder

    settings = load_settings()  # refuse to start on a bad environment before forking workers
    settings.database_url  # noqa: B018 - starts the embedded server once, not per worker
    with socket.socket() as probe:
        # As uvicorn binds: a port in TIME_WAIT is free, one with a listener is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((args.host, args.port))
        except OSError as exc:
            print(
                f"error: cannot listen on {args.host}:{args.port} ({exc.strerror}); is another "
                "jinlin serve running? Stop it, or choose another --port",
                file=sys.stderr,
            )
            return 2
    with metrics_folder():  # the workers' metrics, summed by /metrics
        uvicorn.run(
            "server:app_factory",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            loop="uvloop",
            http="web.slow_clients:HeaderDeadlineProtocol",  # httptools with a header deadline
            log_level="info",
            log_config=uvicorn_log_config(settings.log_format),
            access_log=False,  # ops/requests.py logs each request, with more
            # Frames are a few hundred bytes: per-socket compression costs a zlib context
            # per socket and CPU per frame, for thousands of boards, and saves little.
            ws_per_message_deflate=False,
            # A worker must finish starting (imports, schema) within this: uvicorn's own
            # 5 s kills and restarts workers for ever on a busy machine.
            timeout_worker_healthcheck=60,
        )
    return 0


def _migrate(_args) -> int:
    from db.migrate import upgrade

    upgrade(load_settings().database_url)
    print("database is at the latest migration")
    return 0


def _seed(_args) -> int:
    from db.engine import make_engine
    from db.migrate import exclusively
    from demo import seed_demo

    async def run() -> int:
        engine = make_engine(load_settings().database_url)
        try:
            # Two `make run` at once: the second waits, then finds the demo loaded.
            async with exclusively(engine, "seed-demo"):
                report = await seed_demo(engine)
        finally:
            await engine.dispose()
        print(report)
        return 0

    return asyncio.run(run())


async def _named_place(session, args) -> tuple[int | None, int | None]:
    """The community and partner the options name, or CliError saying which is unknown
    or ambiguous. A community's name is unique within its subdistrict only: write
    SUBDISTRICT/COMMUNITY when two subdistricts have one of that name."""
    from db.directory import communities_named, partners_named

    community = partner = None
    if args.community:
        sub, _, name = args.community.rpartition("/")
        found = await communities_named(session, name.strip(), sub.strip() or None)
        if not found:
            raise CliError(f"no community named {args.community}")
        if len(found) > 1:
            where = ", ".join(f"{s}/{name}" for _, s in found)
            raise CliError(f"several communities are named {name}: write one of {where}")
        community = found[0][0]
    if args.partner:
        found = await partners_named(session, args.partner.strip())
        if not found:
            raise CliError(f"no partner named {args.partner}")
        if len(found) > 1:
            raise CliError(f"several partners are named {args.partner}")
        partner = found[0][0]
    return community, partner


class CliError(Exception):
    """A refusal the command prints and exits 2 on."""


def _create_user(args) -> int:
    from db.engine import make_engine
    from resolvers.commands import CreateUser
    from resolvers.errors import UseCaseError
    from resolvers.unit_of_work import UnitOfWork
    from resolvers.users import create_user

    if not args.password_stdin:
        print("error: pass the password on standard input with --password-stdin", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\r\n")

    async def run() -> int:
        engine = make_engine(load_settings().database_url)
        uow = UnitOfWork(engine, None)
        try:
            async with uow.reading() as session:
                community, partner = await _named_place(session, args)
            cmd = CreateUser(args.username, password, tuple(args.role), community, partner)
            user = await create_user(cmd, uow)
        except CliError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except UseCaseError as exc:
            where = f" ({exc.field})" if exc.field else ""
            print(f"error: {exc.message}{where}", file=sys.stderr)
            return 2
        finally:
            await engine.dispose()
        print(f"created user {user.username} with roles {user.roles}")
        return 0

    return asyncio.run(run())


def _db(args) -> int:
    """The embedded PostgreSQL server of data/pg (when JINLIN_DATABASE_URL is unset)."""
    from config import DATA_DIR
    from db import embedded

    if args.action == "stop":
        stopped = embedded.stop(DATA_DIR)
        print("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
    elif args.action == "start":
        running = embedded.ensure_running(DATA_DIR)
        print(f"embedded PostgreSQL running (pid {running.pid}): {running.url()}")
    else:
        running = embedded.status(DATA_DIR)
        print(
            f"embedded PostgreSQL running (pid {running.pid}): {running.url()}"
            if running
            else f"embedded PostgreSQL is not running (data in {DATA_DIR / 'pg'})"
        )
    return 0


def _export_schema(_args) -> int:
    from schema import export_sdl

    sys.stdout.write(export_sdl())
    return 0


def _verify(args) -> int:
    from sqlalchemy import select

    from db.engine import make_engine
    from db.models import FundRow
    from db.uow import read_session
    from ledger.reports import verify_journal

    async def run() -> int:
        engine = make_engine(load_settings().database_url)
        faults = 0
        try:
            async with read_session(engine) as session:
                stmt = select(FundRow).order_by(FundRow.id)
                if args.fund_code:
                    stmt = stmt.where(FundRow.code == args.fund_code.upper())
                funds = (await session.scalars(stmt)).all()
                if args.fund_code and not funds:
                    print(f"error: no fund with code {args.fund_code}", file=sys.stderr)
                    return 2
                for fund in funds:
                    v = await verify_journal(session, fund.id)
                    state = "ok" if v.ok else "FAULT"
                    print(f"{fund.code}: {state}, {v.entries_checked} entries checked")
                    if not v.ok:
                        faults += 1
                        if v.first_broken_entry_id is not None:
                            print(f"  first broken entry: id {v.first_broken_entry_id}")
                        for code, stored, computed in v.balance_mismatches:
                            print(
                                f"  account {code}: stored {stored} fen, postings say {computed} fen"
                            )
                        if v.sequence_gaps:
                            print(f"  sequence gaps: {v.sequence_gaps}")
        finally:
            await engine.dispose()
        return 1 if faults else 0

    return asyncio.run(run())


def _audit(args) -> int:
    """Re-derive every position from the records and compare with the ledger."""
    from db.engine import make_engine
    from resolvers.audit import audit_funds

    async def run() -> int:
        engine = make_engine(load_settings().database_url)
        try:
            audits = await audit_funds(engine, args.fund_code)
        finally:
            await engine.dispose()
        if args.fund_code and not audits:
            print(f"error: no fund with code {args.fund_code}", file=sys.stderr)
            return 2
        for code, audit in audits:
            print(f"{code}: {'ok' if audit.ok else 'DISAGREES'}")
            for finding in audit.findings:
                print(f"  {finding.check}: {finding.message}")
        return 0 if all(audit.ok for _, audit in audits) else 1

    return asyncio.run(run())


def _backup(args) -> int:
    from pathlib import Path

    from ops.backup import BackupError, backup

    try:
        record = asyncio.run(backup(load_settings().database_url, Path(args.file)))
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for fund in record["funds"]:
        print(f"{fund['code']}: sequence {fund['last_sequence']}, head {fund['last_hash']}")
    print(f"backed up to {args.file} (heads in {args.file}.heads.json)")
    return 0


def _restore(args) -> int:
    from pathlib import Path

    from ops.backup import BackupError, restore

    try:
        report = asyncio.run(restore(load_settings().database_url, Path(args.file)))
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for fault in report.faults:
        print(f"FAULT {fault}", file=sys.stderr)
    print(
        f"restored {report.funds} funds, {report.entries_checked} entries verified: "
        + ("heads match the backup" if report.ok else "NOT as backed up")
    )
    return 0 if report.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jinlin", description="Jinlin community charity-fund service"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve GraphQL over HTTP and WebSocket")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(run=_serve)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(run=_migrate)
    sub.add_parser("seed-demo", help="load the demo data into an empty database").set_defaults(
        run=_seed
    )
    user = sub.add_parser("create-user", help="create a user (password on stdin)")
    user.add_argument("username")
    user.add_argument(
        "--role",
        action="append",
        required=True,
        choices=["ADMIN", "FINANCE", "COMMUNITY_STAFF", "PARTNER"],
    )
    user.add_argument(
        "--community",
        help="the community's name, e.g. 儿童公园社区, or 建设路街道/儿童公园社区 (COMMUNITY_STAFF)",
    )
    user.add_argument("--partner", help="the partner's name, e.g. 百花编织队 (PARTNER)")
    user.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    user.set_defaults(run=_create_user)
    db = sub.add_parser("db", help="the embedded PostgreSQL server (data/pg)")
    db.add_argument("action", choices=["start", "stop", "status"])
    db.set_defaults(run=_db)
    sub.add_parser("export-schema", help="print the GraphQL SDL").set_defaults(run=_export_schema)
    verify = sub.add_parser("verify-journal", help="re-check hash chains and stored balances")
    verify.add_argument("fund_code", nargs="?")
    verify.set_defaults(run=_verify)
    audit = sub.add_parser(
        "audit", help="compare the records with the ledger; exit 1 if they differ"
    )
    audit.add_argument("fund_code", nargs="?")
    audit.set_defaults(run=_audit)
    dump = sub.add_parser("backup", help="pg_dump the database, with its journal heads")
    dump.add_argument("file")
    dump.set_defaults(run=_backup)
    load = sub.add_parser(
        "restore", help="restore a backup into an empty database, then verify every journal"
    )
    load.add_argument("file")
    load.set_defaults(run=_restore)
    from resolvers.cli_reconciliation import add_commands

    add_commands(sub)  # import-statement, export
    from resolvers.cli_receipts import add_commands as add_receipt_commands

    add_receipt_commands(sub)  # publish-roots, verify-receipt
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ConfigError, EmbeddedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
