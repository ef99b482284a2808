"""`jinlin import-statement` and `jinlin export`: the command-line side of reconciliation.

Both run as the system user "cli" (FINANCE rights) against JINLIN_DATABASE_URL.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
from datetime import date
from pathlib import Path

from config import load_settings
from reconciliation.statement_files import StatementFileError, decode_statement
from resolvers.auth import FINANCE, Viewer

CLI_VIEWER = Viewer(user_id=0, username="cli", roles=frozenset({FINANCE}))
# Files with more lines than this get a progress bar.
PROGRESS_FROM_LINES = 5000


def _fail(message: str, code: int = 1) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def import_statement_command(args) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn
    from rich.table import Table
    from sqlalchemy import select

    from db.engine import make_engine
    from db.models import FundRow
    from db.uow import read_session
    from ledger.errors import LedgerError
    from resolvers import reconciliation
    from resolvers.ids import to_global_id

    source = {"payment-channel": "PAYMENT_CHANNEL", "bank": "BANK"}[args.source]
    if source == "PAYMENT_CHANNEL" and not (args.payout_ref or "").strip():
        return _fail("--payout-ref is required for payment-channel files", 2)
    if source == "BANK" and args.payout_ref:
        return _fail("--payout-ref is for payment-channel files only", 2)
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        return _fail(f"cannot read {args.file}: {exc.strerror}", 2)
    try:
        text = decode_statement(data)
    except StatementFileError as exc:
        return _fail(f"{args.file}: {exc.message}")
    console = Console(stderr=True)
    # The same file imported again returns the first import: the key is the content.
    digest = hashlib.sha256(data).hexdigest()
    key = f"cli:{args.fund_code.upper()}:{source}:{args.payout_ref or ''}:{digest}"[:200]

    async def run() -> int:
        engine = make_engine(load_settings().database_url)
        try:
            async with read_session(engine) as session:
                fund = await session.scalar(
                    select(FundRow).where(FundRow.code == args.fund_code.upper())
                )
            if fund is None:
                return _fail(f"no fund with code {args.fund_code}", 2)
            big = text.count("\n") > PROGRESS_FROM_LINES
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                console=console,
                disable=not big,
                transient=True,
            ) as bar:
                tasks: dict[str, int] = {}

                def progress(phase: str, done: int, total: int) -> None:
                    if phase not in tasks:
                        tasks[phase] = bar.add_task(phase, total=total or 1)
                    bar.update(tasks[phase], completed=done)

                row = await reconciliation.import_statement(
                    engine,
                    CLI_VIEWER,
                    fund_id=to_global_id("Fund", fund.id),
                    source=source,
                    payout_ref=args.payout_ref,
                    csv=text,
                    idempotency_key=key,
                    progress=progress,
                )
            counts = await reconciliation.line_counts(engine, row.id)
        except LedgerError as exc:
            code = getattr(exc, "code", "ERROR")
            return _fail(f"{code}: {exc.message}")
        finally:
            await engine.dispose()
        table = Table(title=f"{args.fund_code.upper()} {args.source} import #{row.id}")
        table.add_column("status")
        table.add_column("lines", justify="right")
        for status in ("MATCHED", "DISCREPANCY", "UNMATCHED", "DUPLICATE", "RESOLVED"):
            table.add_row(status, str(counts.get(status, 0)))
        table.add_row("total", str(row.line_count))
        out = Console()
        out.print(table)
        if row.closing_balance_fen is not None:
            out.print(f"closing balance: {_yuan(row.closing_balance_fen)}")
        open_lines = counts.get("UNMATCHED", 0) + counts.get("DISCREPANCY", 0)
        if open_lines:
            out.print(f"{open_lines} lines need attention (resolveStatementLine)")
        return 0

    return asyncio.run(run())


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def export_command(args) -> int:
    import anyio

    from db.engine import make_engine
    from ledger.errors import LedgerError
    from resolvers import exports

    try:
        start = date.fromisoformat(args.from_)
        end = date.fromisoformat(args.to)
    except ValueError:
        return _fail("--from and --to must be dates, YYYY-MM-DD", 2)
    settings = load_settings()

    async def run() -> int:
        engine = make_engine(settings.database_url)
        try:
            exports.check_request(args.what, args.format, start, end, args.lang)
            fund = await exports.fund_by_code(engine, CLI_VIEWER, args.fund_code)
            if fund is None:
                return _fail(f"no fund with code {args.fund_code}", 2)
            req = exports.ExportRequest(fund, args.what, start, end, args.lang, settings.timezone)
            if args.format == "csv":
                if args.output:
                    async with await anyio.open_file(args.output, "wb") as f:
                        async for chunk in exports.csv_stream(engine, req):
                            await f.write(chunk)
                else:
                    async for chunk in exports.csv_stream(engine, req):
                        sys.stdout.buffer.write(chunk)
                    sys.stdout.flush()
            else:
                await exports.write_xlsx(engine, req, args.output or f"{req.filename}.xlsx")
        except LedgerError as exc:
            return _fail(exc.message, 2)
        finally:
            await engine.dispose()
        if args.output or args.format == "xlsx":
            print(f"wrote {args.output or req.filename + '.xlsx'}", file=sys.stderr)
        return 0

    return asyncio.run(run())


def add_commands(sub) -> None:
    """The two subcommands, for cli.build_parser."""
    imp = sub.add_parser("import-statement", help="import a settlement file or bank statement")
    imp.add_argument("fund_code")
    imp.add_argument("--source", required=True, choices=["payment-channel", "bank"])
    imp.add_argument("--payout-ref", help="the payout's reference (payment-channel files)")
    imp.add_argument("file")
    imp.set_defaults(run=import_statement_command)
    exp = sub.add_parser("export", help="export the journal, statement or trial balance")
    exp.add_argument("fund_code")
    exp.add_argument("--what", required=True, choices=["journal", "statement", "trial-balance"])
    exp.add_argument("--from", dest="from_", required=True, metavar="YYYY-MM-DD")
    exp.add_argument("--to", required=True, metavar="YYYY-MM-DD")
    exp.add_argument("--format", default="csv", choices=["csv", "xlsx"])
    exp.add_argument("--lang", default="en", choices=["en", "zh"])
    exp.add_argument("--output", help="file to write (CSV goes to standard output without it)")
    exp.set_defaults(run=export_command)
