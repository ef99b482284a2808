"""The command-line side of reconciliation: import-statement, reconcile, resolve-line,
reopen-line, statement-formats and export.

Both run as the system user "cli" (FINANCE rights) against JINLIN_DATABASE_URL.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from config import load_settings
from reconciliation.statement_files import StatementFileError
from resolvers.auth import FINANCE, Viewer

CLI_VIEWER = Viewer(user_id=0, username="cli", roles=frozenset({FINANCE}))
# Files with more lines than this get a progress bar.
PROGRESS_FROM_LINES = 5000


def _fail(message: str, code: int = 1) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def import_statement_command(args) -> int:
    from reconciliation.detect import detect_format

    if args.payout_ref is not None and not args.payout_ref.strip():
        return _fail("--payout-ref must not be blank", 2)
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        return _fail(f"cannot read {args.file}: {exc.strerror}", 2)
    try:
        payout_date = date.fromisoformat(args.payout_date) if args.payout_date else None
    except ValueError:
        return _fail("--payout-date must be a date, YYYY-MM-DD", 2)
    try:
        fmt, detected = detect_format(data)
    except StatementFileError as exc:
        return _report_error(args, "INVALID_STATEMENT", f"{args.file}: {exc.message}")
    source = SOURCE_OPTION.get(args.source, detected)
    if source == "PAYMENT_CHANNEL" and not args.payout_ref:
        return _fail("--payout-ref is required for payment-channel files", 2)
    if source == "BANK" and (args.payout_ref or payout_date):
        return _fail("--payout-ref and --payout-date are for payment-channel files only", 2)
    # The same file imported again returns the first import: the key is the content.
    digest = hashlib.sha256(data).hexdigest()
    key = f"cli:{args.fund_code.upper()}:{source}:{args.payout_ref or ''}:{digest}"
    if payout_date is not None:
        key += f":{payout_date}"
    big = data.count(b"\n") > PROGRESS_FROM_LINES or len(data) > PROGRESS_FROM_BYTES
    request = _ImportRequest(args, data, fmt, source, payout_date, key[:200], big)
    return asyncio.run(_import(request))


SOURCE_OPTION = {"payment-channel": "PAYMENT_CHANNEL", "bank": "BANK"}
# XLSX files are zipped: past this size they get a progress bar too.
PROGRESS_FROM_BYTES = 512 * 1024


@dataclass(frozen=True)
class _ImportRequest:
    args: object
    data: bytes
    fmt: str
    source: str
    payout_date: date | None
    key: str
    big: bool


async def _import(req: _ImportRequest) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

    from db.engine import make_engine
    from ledger.errors import LedgerError
    from resolvers import reconciliation
    from resolvers.commands import ImportStatement
    from resolvers.unit_of_work import UnitOfWork

    args = req.args
    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        fund = await _fund(engine, args.fund_code)
        if fund is None:
            return _fail(f"no fund with code {args.fund_code}", 2)
        # Progress goes to standard error, so --json output stays clean.
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            console=Console(stderr=True),
            disable=not req.big,
            transient=True,
        ) as bar:
            tasks: dict[str, int] = {}

            def progress(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = bar.add_task(phase, total=total or 1)
                bar.update(tasks[phase], completed=done)

            cmd = ImportStatement(
                fund_id=fund.id,
                source=req.source,
                csv=req.data,
                idempotency_key=req.key,
                payout_ref=args.payout_ref,
                payout_date=req.payout_date,
            )
            uow = UnitOfWork(engine, CLI_VIEWER, timezone=settings.timezone)
            row = await reconciliation.import_statement(cmd, uow, progress)
        counts = await reconciliation.line_counts(engine, row.id)
        payout_at = await _entry_day(engine, row.entry_id, settings.timezone)
    except LedgerError as exc:
        return _report_error(args, getattr(exc, "code", "ERROR"), exc.message, exc.field)
    finally:
        await engine.dispose()
    summary = {
        "importId": row.id,
        "fund": fund.code,
        "format": req.fmt,
        "source": row.source,
        "payoutRef": row.payout_ref,
        "payoutEntryId": row.entry_id,
        "payoutDate": payout_at,
        "lines": row.line_count,
        "byStatus": {s: counts.get(s, 0) for s in STATUSES},
        "closingBalance": None
        if row.closing_balance_fen is None
        else _yuan(row.closing_balance_fen),
    }
    if args.json:
        _print_json(summary)
    else:
        _print_import(summary)
    return 0


STATUSES = ("MATCHED", "DISCREPANCY", "UNMATCHED", "DUPLICATE", "RESOLVED")


def _print_import(summary: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"{summary['fund']} {summary['source']} import #{summary['importId']} "
        f"({summary['format']})"
    )
    table.add_column("status")
    table.add_column("lines", justify="right")
    for status, n in summary["byStatus"].items():
        table.add_row(status, str(n))
    table.add_row("total", str(summary["lines"]))
    out = Console()
    out.print(table)
    if summary["closingBalance"] is not None:
        out.print(f"closing balance: {summary['closingBalance']}")
    if summary["payoutEntryId"] is not None:
        out.print(f"payout entry #{summary['payoutEntryId']} dated {summary['payoutDate']}")
    open_lines = summary["byStatus"]["UNMATCHED"] + summary["byStatus"]["DISCREPANCY"]
    if open_lines:
        out.print(f"{open_lines} lines need attention: jinlin reconcile {summary['fund']}")


async def _fund(engine, code: str):
    from sqlalchemy import select

    from db.models import FundRow
    from db.uow import read_session

    async with read_session(engine) as session:
        return await session.scalar(select(FundRow).where(FundRow.code == code.strip().upper()))


async def _entry_day(engine, entry_id: int | None, tz) -> str | None:
    from db.uow import read_session
    from ledger.tables import EntryRow

    if entry_id is None:
        return None
    async with read_session(engine) as session:
        entry = await session.get(EntryRow, entry_id)
    return entry.effective_at.astimezone(tz).date().isoformat()


def _report_error(args, code: str, message: str, field: str | None = None) -> int:
    """A refusal: exit 1, as JSON on standard output under --json."""
    if getattr(args, "json", False):
        _print_json({"error": {"code": code, "message": message, "field": field}})
        return 1
    return _fail(f"{code}: {message}")


def _print_json(value) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


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
            elif args.format == "pdf":
                pdf = await exports.pdf_bytes(engine, req)
                async with await anyio.open_file(args.output or f"{req.filename}.pdf", "wb") as f:
                    await f.write(pdf)
            else:
                await exports.write_xlsx(engine, req, args.output or f"{req.filename}.xlsx")
        except LedgerError as exc:
            return _fail(exc.message, 2)
        finally:
            await engine.dispose()
        if args.output or args.format != "csv":
            print(f"wrote {args.output or req.filename + '.' + args.format}", file=sys.stderr)
        return 0

    return asyncio.run(run())


def add_commands(sub) -> None:
    """The reconciliation subcommands, for cli.build_parser."""
    imp = sub.add_parser("import-statement", help="import a settlement file or bank statement")
    imp.add_argument("fund_code")
    imp.add_argument(
        "--source",
        choices=["payment-channel", "bank"],
        help="what the file is (default: found from its format)",
    )
    imp.add_argument("--payout-ref", help="the payout's reference (payment-channel files)")
    imp.add_argument(
        "--payout-date",
        metavar="YYYY-MM-DD",
        help="the day the payout reached the bank (default: from the file)",
    )
    imp.add_argument("--json", action="store_true", help="print the result as JSON")
    imp.add_argument("file", help="CSV (UTF-8 or GBK) or XLSX; see docs/statement-formats.md")
    imp.set_defaults(run=import_statement_command)
    exp = sub.add_parser(
        "export",
        help="export the journal, trial balance, statutory statements or statement",
    )
    exp.add_argument("fund_code")
    exp.add_argument(
        "--what",
        required=True,
        choices=[
            "journal",
            "trial-balance",
            "balance-sheet",
            "activities",
            "cash-flow",
            "statement",
        ],
    )
    exp.add_argument("--from", dest="from_", required=True, metavar="YYYY-MM-DD")
    exp.add_argument("--to", required=True, metavar="YYYY-MM-DD")
    exp.add_argument("--format", default="csv", choices=["csv", "xlsx", "pdf"])
    exp.add_argument("--lang", default="en", choices=["en", "zh"])
    exp.add_argument(
        "--output",
        help="file to write (CSV goes to standard output without it; XLSX and PDF"
        " to FUND-WHAT-FROM-TO.xlsx|pdf)",
    )
    exp.set_defaults(run=export_command)
    _add_month_commands(sub)


# ---------------------------------------------------------------- the month


def reconcile_command(args) -> int:
    from datetime import datetime

    at = None
    if args.at:
        try:
            at = datetime.fromisoformat(args.at)
        except ValueError:
            return _fail("--at must be an ISO date-time with an offset", 2)
        if at.tzinfo is None:
            return _fail("--at needs a time zone offset, e.g. 2023-06-30T23:59:59+08:00", 2)
    return asyncio.run(_reconcile(args, at))


async def _reconcile(args, at) -> int:
    from db.engine import make_engine
    from ledger.errors import LedgerError
    from resolvers import reconciliation
    from resolvers.ids import to_global_id

    engine = make_engine(load_settings().database_url)
    try:
        fund = await _fund(engine, args.fund_code)
        if fund is None:
            return _fail(f"no fund with code {args.fund_code}", 2)
        view = await reconciliation.reconciliation(
            engine, CLI_VIEWER, to_global_id("Fund", fund.id), at
        )
    except LedgerError as exc:
        return _report_error(args, getattr(exc, "code", "ERROR"), exc.message, exc.field)
    finally:
        await engine.dispose()
    report = reconciliation_report(view)
    if args.json:
        _print_json(report)
    else:
        _print_reconciliation(report)
    return 0


def reconciliation_report(view) -> dict:
    """The view as plain data (money as yuan strings): --json prints it, tables show it."""
    unsettled = sum(d.amount_fen for d in view.unsettled_donations)
    statement = view.statement_bank
    return {
        "fund": view.fund.code,
        "at": view.at.isoformat(),
        "onlineClearing": _yuan(view.online_unsettled),
        "unsettledDonations": {"count": len(view.unsettled_donations), "total": _yuan(unsettled)},
        "onlineAgrees": unsettled == view.online_unsettled,
        "ledgerBank": _yuan(view.ledger_bank),
        "statementBank": None if statement is None else _yuan(statement),
        "bankAgrees": None if statement is None else statement == view.ledger_bank,
        "cashUndeposited": _yuan(view.cash_undeposited),
        "balanced": view.balanced,
        "linesNeedingAttention": [
            {
                "line": f"{line.import_id}:{line.line_no}",
                "date": line.date.isoformat(),
                "reference": line.reference,
                "amount": _yuan(line.amount_fen),
                "status": line.status,
                "note": line.note,
            }
            for line in view.unmatched_lines
        ],
    }


def _print_reconciliation(r: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    def agrees(flag: bool | None) -> str:
        return {
            True: "[green]agrees[/]",
            False: "[red]differs[/]",
            None: "[yellow]no statement[/]",
        }[flag]

    out = Console()
    table = Table(title=f"{r['fund']} reconciliation at {r['at']}")
    for name, justify in (("", "left"), ("ledger", "right"), ("outside", "right"), ("", "left")):
        table.add_column(name, justify=justify)
    u = r["unsettledDonations"]
    table.add_row(
        "online clearing 1009.01 / unsettled online donations",
        r["onlineClearing"],
        f"{u['total']} ({u['count']})",
        agrees(r["onlineAgrees"]),
    )
    table.add_row(
        "bank 1002 / latest bank statement",
        r["ledgerBank"],
        r["statementBank"] or "-",
        agrees(r["bankAgrees"]),
    )
    table.add_row("cash not deposited (1001 + 1009.09)", r["cashUndeposited"], "", "")
    out.print(table)
    state = "[green]balanced[/]" if r["balanced"] else "[red]not balanced[/]"
    out.print(f"{r['fund']}: {state}")
    lines = r["linesNeedingAttention"]
    if not lines:
        out.print("no statement lines need attention")
        return
    attention = Table(title=f"{len(lines)} lines need attention (jinlin resolve-line LINE ...)")
    for name in ("line", "date", "reference", "amount", "status", "note"):
        # References are what a person searches for: folded, never cut with an ellipsis.
        attention.add_column(
            name,
            justify="right" if name == "amount" else "left",
            overflow="fold",
            no_wrap=name in ("line", "date", "amount"),
        )
    for line in lines:
        attention.add_row(
            *(line[k] or "" for k in ("line", "date", "reference", "amount")),
            line["status"],
            line["note"] or "",
        )
    out.print(attention)


def resolve_line_command(args) -> int:
    import_id, sep, line_no = args.line.partition(":")
    if not (sep and import_id.isdigit() and line_no.isdigit()):
        return _fail("LINE is IMPORT:LINE_NO as jinlin reconcile prints it, e.g. 12:3", 2)
    if args.ignore and not (args.note or "").strip():
        return _fail("--ignore needs --note saying why nothing is booked", 2)
    return asyncio.run(_resolve(args, int(import_id), int(line_no)))


async def _resolve(args, import_id: int, line_no: int) -> int:
    from db.engine import make_engine
    from ledger.errors import LedgerError
    from resolvers import reconciliation
    from resolvers.commands import ResolveStatementLine
    from resolvers.unit_of_work import UnitOfWork

    resolution = "IGNORE" if args.ignore else "SUSPENSE"
    note = args.note or ""
    # Running the same command again returns the first result instead of failing.
    digest = hashlib.sha256(note.encode()).hexdigest()[:16]
    key = f"cli:resolve:{import_id}:{line_no}:{resolution}:{digest}"
    engine = make_engine(load_settings().database_url)
    try:
        cmd = ResolveStatementLine(
            statement_import_id=import_id,
            line_no=line_no,
            resolution=resolution,
            idempotency_key=key,
            note=note,
        )
        line = await reconciliation.resolve_statement_line(cmd, UnitOfWork(engine, CLI_VIEWER))
    except LedgerError as exc:
        return _report_error(args, getattr(exc, "code", "ERROR"), exc.message, exc.field)
    finally:
        await engine.dispose()
    result = {
        "line": f"{import_id}:{line_no}",
        "status": line.status,
        "resolution": line.resolution,
        "note": line.note,
        "entryId": line.matched_entry_id if resolution == "SUSPENSE" else None,
    }
    if args.json:
        _print_json(result)
    else:
        booked = f", booked as entry #{result['entryId']}" if result["entryId"] else ""
        print(f"line {result['line']}: {line.status} ({line.resolution}){booked}")
    return 0


def reopen_line_command(args) -> int:
    import_id, sep, line_no = args.line.partition(":")
    if not (sep and import_id.isdigit() and line_no.isdigit()):
        return _fail("LINE is IMPORT:LINE_NO as jinlin reconcile prints it, e.g. 12:3", 2)
    if not args.reason.strip():
        return _fail("--reason must say why the resolution is taken back", 2)
    return asyncio.run(_reopen(args, int(import_id), int(line_no)))


async def _reopen(args, import_id: int, line_no: int) -> int:
    from db.engine import make_engine
    from ledger.errors import LedgerError
    from resolvers import reconciliation
    from resolvers.commands import ReopenStatementLine
    from resolvers.unit_of_work import UnitOfWork

    # Running the same command again returns the first result instead of failing.
    digest = hashlib.sha256(args.reason.encode()).hexdigest()[:16]
    key = f"cli:reopen:{import_id}:{line_no}:{digest}"
    engine = make_engine(load_settings().database_url)
    try:
        cmd = ReopenStatementLine(
            statement_import_id=import_id, line_no=line_no, reason=args.reason, idempotency_key=key
        )
        line = await reconciliation.reopen_statement_line(cmd, UnitOfWork(engine, CLI_VIEWER))
    except LedgerError as exc:
        return _report_error(args, getattr(exc, "code", "ERROR"), exc.message, exc.field)
    finally:
        await engine.dispose()
    result = {"line": f"{import_id}:{line_no}", "status": line.status, "note": line.note}
    if args.json:
        _print_json(result)
    else:
        print(f"line {result['line']}: {line.status} again")
    return 0


def statement_formats_command(args) -> int:
    from reconciliation.detect import LEGACY_FORMATS
    from reconciliation.profiles import PROFILES_ENV, load_profiles

    profiles, problems = load_profiles()
    rows = [
        {"name": p.name, "source": p.statement_source, "title": p.title, "from": p.source}
        for p in profiles
    ]
    rows += [
        {"name": name, "source": source, "title": title, "from": "built in"}
        for name, source, title in LEGACY_FORMATS
    ]
    if args.json:
        _print_json({"formats": rows, "problems": problems})
        return 1 if problems else 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"statement formats (user profiles from {PROFILES_ENV} come first)")
    for name in ("name", "source", "title", "from"):
        table.add_column(name)
    for row in rows:
        table.add_row(*(row[k] for k in ("name", "source", "title", "from")))
    out = Console()
    out.print(table)
    for problem in problems:
        out.print(f"[red]unusable profile[/] {problem}")
    return 1 if problems else 0


def _add_month_commands(sub) -> None:
    rec = sub.add_parser("reconcile", help="what agrees, what differs, and the open lines")
    rec.add_argument("fund_code")
    rec.add_argument("--at", help="as it stood at this ISO date-time (with offset)")
    rec.add_argument("--json", action="store_true", help="print the result as JSON")
    rec.set_defaults(run=reconcile_command)
    res = sub.add_parser("resolve-line", help="settle an UNMATCHED or DISCREPANCY line")
    res.add_argument("line", help="IMPORT:LINE_NO, as jinlin reconcile prints it")
    how = res.add_mutually_exclusive_group(required=True)
    how.add_argument("--ignore", action="store_true", help="book nothing (needs --note)")
    how.add_argument("--suspense", action="store_true", help="book money in as unidentified")
    res.add_argument("--note", help="why")
    res.add_argument("--json", action="store_true", help="print the result as JSON")
    res.set_defaults(run=resolve_line_command)
    reo = sub.add_parser(
        "reopen-line", help="take a resolution back (a SUSPENSE booking is reversed)"
    )
    reo.add_argument("line", help="IMPORT:LINE_NO, as jinlin reconcile prints it")
    reo.add_argument("--reason", required=True, help="why")
    reo.add_argument("--json", action="store_true", help="print the result as JSON")
    reo.set_defaults(run=reopen_line_command)
    fmt = sub.add_parser("statement-formats", help="list the statement formats and profiles")
    fmt.add_argument("--json", action="store_true", help="print the list as JSON")
    fmt.set_defaults(run=statement_formats_command)
