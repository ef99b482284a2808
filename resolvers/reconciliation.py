"""Reconciliation: importing settlement files and bank statements, resolving their
lines, and the reconciliation view (docs/reconciliation.md).

An import is one unit of work under the fund's book lock: the file is parsed before
the transaction (a bad file writes nothing), the lines are matched against the
ledger as of the lock, and the import, its lines, the payout's one entry and the
donations it settles are written together.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db import statements as statements_db
from db.models import DonationRow, FundRow
from db.reconciliation_models import StatementImportRow, StatementLineRow
from db.types import utcnow
from db.uow import read_session
from ledger import accounts as A
from ledger import idempotency, reports, store
from ledger.entries import PostingSpec
from ledger.errors import InsufficientFunds, PeriodClosed
from reconciliation.detect import ParsedStatement, read_statement
from reconciliation.statement_files import (
    BankLine,
    SettlementLine,
    StatementFileError,
    closing_balance,
)
from resolvers.auth import Action, Viewer, authorize
from resolvers.commands import ImportStatement, ReopenStatementLine, ResolveStatementLine
from resolvers.errors import UseCaseError, invalid, not_found
from resolvers.funds import fund_for, owning_fund
from resolvers.ids import decode_id, stored_ref
from resolvers.unit_of_work import UnitOfWork
from resolvers.validation import instant, text

SOURCES = ("PAYMENT_CHANNEL", "BANK")
RESOLUTIONS = ("IGNORE", "SUSPENSE")
OPEN_STATUSES = statements_db.OPEN_STATUSES

Progress = Callable[[str, int, int], None]


def _noop(_phase: str, _done: int, _total: int) -> None:
    return None


@dataclass
class _Match:
    status: str
    donation_id: int | None = None
    entry_id: int | None = None
    posting_id: int | None = None
    note: str | None = None


def parse(source: str, content: str | bytes) -> ParsedStatement:
    """The file read through its detected format (reconciliation/detect.py), or
    INVALID_STATEMENT naming the line and the problem."""
    try:
        return read_statement(content, source)
    except StatementFileError as exc:
        raise UseCaseError("INVALID_STATEMENT", exc.message, field="csv") from None


def payout_instant(
    statement: ParsedStatement, payout_date: date | None, tz: ZoneInfo
) -> tuple[date, datetime]:
    """The payout's day (given, else the file's payout row, else its last line) and the
    entry's effective instant: the end of that day in the funds' time zone, or now if
    that is still to come."""
    day = payout_date or statement.payout_date or statement.last_date
    now = utcnow()
    if day > now.astimezone(tz).date():
        raise invalid(f"the payout date {day} is in the future", "payoutDate")
    end = datetime.combine(day + timedelta(days=1), time(), tz) - timedelta(seconds=1)
    return day, min(end.astimezone(UTC), now)


# ---------------------------------------------------------------- import


def _payout_ref(cmd: ImportStatement) -> str | None:
    """The payout's reference: required for a settlement file, refused for a bank one."""
    payout_ref = cmd.payout_ref
    if cmd.source == "PAYMENT_CHANNEL":
        if payout_ref is None or not payout_ref.strip():
            raise invalid(
                "a PAYMENT_CHANNEL import needs the payout's reference (payoutRef)", "payoutRef"
            )
        return text(payout_ref, "payoutRef")
    if payout_ref is not None and payout_ref.strip():
        raise invalid("payoutRef is for PAYMENT_CHANNEL imports only", "payoutRef")
    return None


def _check_import(cmd: ImportStatement) -> tuple[str | None, str]:
    """The payout's reference and the request's fingerprint, once the input is checked."""
    if cmd.source not in SOURCES:
        raise invalid("unknown statement source", "source")
    payout_ref = _payout_ref(cmd)
    csv = cmd.csv
    if not isinstance(csv, str | bytes):  # bytes: the command line's CSV or XLSX file
        raise invalid("csv must be text", "csv")
    if cmd.payout_date is not None and cmd.source != "PAYMENT_CHANNEL":
        raise invalid("payoutDate is for PAYMENT_CHANNEL imports only", "payoutDate")
    raw = csv if isinstance(csv, bytes) else csv.encode("utf-8", "surrogatepass")
    request = {
        "fund": stored_ref("Fund", cmd.fund_id),
        "source": cmd.source,
        "payoutRef": payout_ref,
        "csv": hashlib.sha256(raw).hexdigest(),
    }
    if cmd.payout_date is not None:  # absent from older keys' fingerprints, which stay valid
        request["payoutDate"] = cmd.payout_date.isoformat()
    return payout_ref, idempotency.fingerprint("importStatement", request)


def _count(row: StatementImportRow, matches: list[_Match]) -> None:
    counts: dict[str, int] = defaultdict(int)
    for m in matches:
        counts[m.status] += 1
    row.matched_count = counts["MATCHED"]
    row.unmatched_count = counts["UNMATCHED"]
    row.discrepancy_count = counts["DISCREPANCY"]
    row.duplicate_count = counts["DUPLICATE"]


async def import_statement(
    cmd: ImportStatement, uow: UnitOfWork, progress: Progress | None = None
) -> StatementImportRow:
    viewer = uow.viewer
    authorize(viewer, Action.RECONCILE)
    progress = progress or _noop
    key = idempotency.check_key(cmd.idempotency_key)
    payout_ref, fingerprint = _check_import(cmd)
    # Parsing is pure and the slowest part of a small import: done before any lock.
    statement = parse(cmd.source, cmd.csv)
    lines = statement.lines
    progress("parsed", len(lines), len(lines))
    settling = cmd.source == "PAYMENT_CHANNEL"
    payout = payout_instant(statement, cmd.payout_date, uow.timezone) if settling else None
    async with uow.transaction() as session:
        fund = await fund_for(session, viewer, cmd.fund_id, Action.RECONCILE, lock=True)
        earlier = await idempotency.recall(session, key, "importStatement", fingerprint)
        if earlier is not None:
            return await session.get(StatementImportRow, earlier)
        row = StatementImportRow(
            fund_id=fund.id,
            source=cmd.source,
            payout_ref=payout_ref,
            imported_at=uow.now(),
            imported_by=viewer.username,
            line_count=len(lines),
        )
        if settling:
            payout_ = _Payout(payout_ref, payout[0], payout[1], viewer.username)
            matches, row.entry_id = await _settle(session, fund, lines, payout_, progress)
        else:
            matches = await _match_bank(session, fund, lines, progress)
            row.closing_balance_fen = closing_balance(lines)
        _count(row, matches)
        session.add(row)
        await session.flush()
        await _write_lines(session, row, lines, matches, progress)
        await idempotency.remember(session, key, "importStatement", fingerprint, row.id)
        return row


@dataclass(frozen=True)
class _Payout:
    ref: str
    day: date
    at: datetime  # the entry's effective instant
    username: str


@dataclass
class _Totals:
    """Sums over a settlement file's lines (duplicates left out)."""

    gross_matched: int = 0
    fees_matched: int = 0
    net_unexplained: int = 0
    net_all: int = 0
    settled_here: dict[int, int] = field(default_factory=dict)  # donation id -> line no

    def add(self, line: SettlementLine, m: _Match) -> None:
        if m.status == "DUPLICATE":
            return
        net = line.amount_fen - line.fee_fen
        self.net_all += net
        if m.status == "MATCHED":
            self.gross_matched += line.amount_fen
            self.fees_matched += line.fee_fen
        else:
            self.net_unexplained += net

    def postings(self, currency: str) -> list[PostingSpec]:
        # Dr bank (net of every line paid) + Dr fees (matched) =
        #   Cr clearing (gross matched) + Cr suspense (net of the unexplained lines),
        # since net_all = (gross_matched - fees_matched) + net_unexplained.
        return [
            PostingSpec(code, side, amount, currency)
            for code, side, amount in (
                (A.BANK, "DEBIT", self.net_all),
                (A.CHANNEL_FEES, "DEBIT", self.fees_matched),
                (A.ONLINE_CLEARING, "CREDIT", self.gross_matched),
                (A.SUSPENSE, "CREDIT", self.net_unexplained),
            )
            if amount > 0
        ]


def _match_settlement_line(line: SettlementLine, found: tuple | None, totals: _Totals) -> _Match:
    """One settlement line against the online donation with its reference, if any."""
    if found is None:
        return _Match("UNMATCHED", note="no online donation of this fund has this reference")
    donation_id, amount, status, settled_entry, _received = found
    if settled_entry is not None:
        return _Match(
            "DUPLICATE",
            donation_id=donation_id,
            entry_id=settled_entry,
            note="settled by an earlier import; nothing posted",
        )
    if donation_id in totals.settled_here:
        return _Match(
            "DISCREPANCY",
            donation_id=donation_id,
            note=f"the donation was already settled by line {totals.settled_here[donation_id]} "
            "of this file",
        )
    if status in ("REFUNDED", "VOIDED"):
        return _Match(
            "DISCREPANCY",
            donation_id=donation_id,
            note=f"the donation was {status.lower()} before it settled",
        )
    if amount != line.amount_fen:
        return _Match(
            "DISCREPANCY",
            donation_id=donation_id,
            note=f"the donation is {_yuan(amount)}, the line {_yuan(line.amount_fen)}",
        )
    totals.settled_here[donation_id] = line.line_no
    return _Match("MATCHED", donation_id=donation_id)


async def _settlement_candidates(
    conn, fund: FundRow, lines: list[SettlementLine], progress: Progress
) -> dict[str, tuple]:
    refs = sorted({line.reference for line in lines})
    donations: dict[str, tuple] = {}
    for i, chunk in enumerate(statements_db.chunks(refs)):
        donations.update(await statements_db.online_donations(conn, fund.id, chunk))
        progress("matched", min((i + 1) * statements_db.CHUNK, len(refs)), len(refs))
    return donations


async def _post_payout(
    session: AsyncSession, fund: FundRow, postings: list[PostingSpec], payout: _Payout, memo: str
):
    try:
        return await store.post_entry(
            session,
            fund.id,
            postings,
            memo=memo,
            recorded_by=payout.username,
            kind="settlement",
            reference=payout.ref,
            effective_at=payout.at,
        )
    except PeriodClosed as exc:
        raise UseCaseError(
            "PERIOD_CLOSED",
            f"the payout date {payout.day} is in a closed period: {exc.message}",
            field="payoutDate",
        ) from None


def _refuse_early_payout(payout: _Payout, donations: dict[str, tuple], totals: _Totals) -> None:
    """The ledger refused the payout (its clearing account would go below zero at the
    payout's instant): when that is because the payout is dated before donations it
    settles, say so, on the date the caller gave or the file implied."""
    received = {found[0]: found[4] for found in donations.values()}
    late = sorted(received[d] for d in totals.settled_here if received[d] > payout.at)
    if late:
        raise UseCaseError(
            "INVALID_INPUT",
            f"the payout date {payout.day} is before {len(late)} of the donations it "
            f"settles (the last received {late[-1].isoformat(timespec='seconds')}): a "
            "payout cannot settle money not yet received; give its date as payoutDate",
            field="payoutDate",
        )


async def _settle(
    session: AsyncSession,
    fund: FundRow,
    lines: list[SettlementLine],
    payout: _Payout,
    progress: Progress,
) -> tuple[list[_Match], int | None]:
    """Match a settlement file and book its payout as one entry (see the domain brief)."""
    conn = await session.connection()
    if await statements_db.earlier_payout(conn, fund.id, payout.ref) is not None:
        note = f"payout {payout.ref} was already imported; nothing posted"
        return [_Match("DUPLICATE", note=note) for _ in lines], None
    donations = await _settlement_candidates(conn, fund, lines, progress)
    totals = _Totals()
    matches = []
    for line in lines:
        m = _match_settlement_line(line, donations.get(line.reference), totals)
        totals.add(line, m)
        matches.append(m)
    postings = totals.postings(fund.currency)
    if not postings:
        return matches, None
    memo = (
        f"settlement payout {payout.ref}: {len(totals.settled_here)} donations settled, "
        f"{len(lines)} lines"
    )
    try:
        entry = await _post_payout(session, fund, postings, payout, memo)
    except InsufficientFunds:
        _refuse_early_payout(payout, donations, totals)
        raise
    for m in matches:
        if m.status == "MATCHED":
            m.entry_id = entry.id
    await statements_db.mark_settled(conn, sorted(totals.settled_here), entry.id)
    return matches, entry.id


def _match_bank_line(
    line: BankLine, same_ref: list[tuple[int, int, str, int]], taken: set[int], used: set[int]
) -> _Match:
    """One bank line against the bank postings with its reference."""
    side = "DEBIT" if line.amount_fen > 0 else "CREDIT"
    fitting = [p for p in same_ref if p[2] == side and p[3] == abs(line.amount_fen)]
    fresh = [p for p in fitting if p[0] not in taken and p[0] not in used]
    if len(fresh) == 1:
        posting_id, entry_id, _, _ = fresh[0]
        used.add(posting_id)
        return _Match("MATCHED", entry_id=entry_id, posting_id=posting_id)
    if len(fresh) > 1:
        sequences = ", ".join(str(p[1]) for p in fresh[:5])
        return _Match(
            "UNMATCHED",
            note=f"{len(fresh)} ledger entries fit this line (entry ids {sequences}); not guessed",
        )
    if any(p[0] in taken for p in fitting):
        entry_id = next(p[1] for p in fitting if p[0] in taken)
        return _Match(
            "DUPLICATE", entry_id=entry_id, note="matched by an earlier import; nothing posted"
        )
    if same_ref:
        other = same_ref[0]
        signed = other[3] if other[2] == "DEBIT" else -other[3]
        return _Match(
            "DISCREPANCY",
            entry_id=other[1],
            note=f"the ledger has {_yuan(signed)} on the bank account with this "
            f"reference, the line {_yuan(line.amount_fen)}",
        )
    return _Match("UNMATCHED", note="no bank posting has this reference")


async def _match_bank(
    session: AsyncSession, fund: FundRow, lines: list[BankLine], progress: Progress
) -> list[_Match]:
    """Match bank lines to postings on 1002 by reference, side and amount."""
    conn = await session.connection()
    bank_id = await statements_db.bank_account_id(conn, fund.id, A.BANK)
    refs = sorted({line.reference for line in lines})
    by_ref: dict[str, list[tuple[int, int, str, int]]] = {}
    for i, chunk in enumerate(statements_db.chunks(refs)):
        by_ref.update(await statements_db.bank_postings(conn, fund.id, bank_id, chunk))
        progress("matched", min((i + 1) * statements_db.CHUNK, len(refs)), len(refs))
    candidate_ids = [p[0] for postings in by_ref.values() for p in postings]
    taken = await statements_db.matched_postings(conn, fund.id, candidate_ids)
    used: set[int] = set()  # matched by an earlier line of this file
    matches = [
        _match_bank_line(line, by_ref.get(line.reference, []), taken, used) for line in lines
    ]
    entry_ids = sorted({m.entry_id for m in matches if m.entry_id is not None})
    donation_of = await statements_db.donations_of_entries(conn, entry_ids)
    for m in matches:
        if m.entry_id is not None:
            m.donation_id = donation_of.get(m.entry_id)
    return matches


async def _write_lines(
    session: AsyncSession,
    row: StatementImportRow,
    lines: Sequence[SettlementLine | BankLine],
    matches: list[_Match],
    progress: Progress,
) -> None:
    conn = await session.connection()
    total = len(lines)
    done = 0
    for chunk in statements_db.chunks(list(zip(lines, matches, strict=True))):
        await statements_db.insert_lines(
            conn,
            [
                {
                    "import_id": row.id,
                    "fund_id": row.fund_id,
                    "line_no": line.line_no,
                    "date": line.date,
                    "reference": line.reference,
                    "amount_fen": line.amount_fen,
                    "fee_fen": getattr(line, "fee_fen", None),
                    "balance_fen": getattr(line, "balance_fen", None),
                    "status": m.status,
                    "matched_donation_id": m.donation_id,
                    "matched_entry_id": m.entry_id,
                    "matched_posting_id": m.posting_id,
                    "note": m.note,
                    "resolution": None,
                    "resolved_by": None,
                    "resolved_at": None,
                }
                for line, m in chunk
            ],
        )
        done += len(chunk)
        progress("written", done, total)


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


# ---------------------------------------------------------------- resolve


def _check_resolution(cmd: ResolveStatementLine) -> str | None:
    if cmd.resolution not in RESOLUTIONS:
        raise invalid("unknown resolution", "resolution")
    if cmd.resolution == "IGNORE" and (cmd.note is None or not cmd.note.strip()):
        raise invalid("IGNORE needs a note saying why nothing is booked", "note")
    return text(cmd.note, "note", max_length=500, required=False)


async def _import_of(
    session: AsyncSession, viewer: Viewer | None, pk: int
) -> tuple[StatementImportRow, FundRow]:
    """The import whose lines are resolved or reopened, and its fund, which the viewer
    must reconcile (NOT_FOUND on statementImportId otherwise)."""
    imported = await session.get(StatementImportRow, pk)
    fund = await owning_fund(
        session, viewer, imported, Action.RECONCILE, what="statement import",
        field="statementImportId",
    )  # fmt: skip
    return imported, fund


async def _line_in(
    session: AsyncSession, import_id: int, line_no: int, statuses: tuple[str, ...], only: str
) -> StatementLineRow:
    """The line, as the database has it now, if its status is one of `statuses`
    (INVALID_STATE on lineNo, saying `only`, otherwise)."""
    line = await statements_db.line_for_update(session, import_id, line_no)
    if line is None:
        raise not_found("statement line", "lineNo")
    if line.status not in statuses:
        raise UseCaseError(
            "INVALID_STATE", f"line {line_no} is {line.status}; {only}", field="lineNo"
        )
    return line


async def _open_line(session: AsyncSession, import_id: int, line_no: int) -> StatementLineRow:
    only = "only UNMATCHED or DISCREPANCY lines are resolved"
    return await _line_in(session, import_id, line_no, OPEN_STATUSES, only)


async def _book_suspense(
    session: AsyncSession,
    fund: FundRow,
    imported: StatementImportRow,
    line: StatementLineRow,
    username: str,
) -> None:
    """Money in that nobody explains: Dr bank / Cr suspense, matched to the line."""
    if imported.source != "BANK":
        raise invalid(
            "SUSPENSE is for bank lines; a settlement line's net is already in "
            "unidentified receipts",
            "resolution",
        )
    if line.amount_fen <= 0:
        raise invalid("SUSPENSE is for money in (a positive bank line)", "resolution")
    entry = await store.post_entry(
        session,
        fund.id,
        [
            PostingSpec(A.BANK, "DEBIT", line.amount_fen, fund.currency),
            PostingSpec(A.SUSPENSE, "CREDIT", line.amount_fen, fund.currency),
        ],
        memo=f"unidentified bank receipt {line.reference} (statement line {line.line_no})",
        recorded_by=username,
        kind="suspense",
        reference=line.reference,
    )
    line.former_entry_id = line.matched_entry_id  # a DISCREPANCY's entry, put back on reopening
    line.matched_entry_id = entry.id
    line.matched_posting_id = await statements_db.posting_on(
        await session.connection(), entry.id, A.BANK
    )


async def resolve_statement_line(cmd: ResolveStatementLine, uow: UnitOfWork) -> StatementLineRow:
    viewer = uow.viewer
    authorize(viewer, Action.RECONCILE)
    key = idempotency.check_key(cmd.idempotency_key)
    pk = cmd.statement_import_id
    note = _check_resolution(cmd)
    request = {"import": pk, "lineNo": cmd.line_no, "resolution": cmd.resolution, "note": note}
    fingerprint = idempotency.fingerprint("resolveStatementLine", request)
    async with uow.transaction() as session:
        imported, fund = await _import_of(session, viewer, pk)
        earlier = await idempotency.recall(session, key, "resolveStatementLine", fingerprint)
        if earlier is not None:
            return await session.get(StatementLineRow, earlier)
        line = await _open_line(session, pk, cmd.line_no)
        await session.refresh(imported)
        if cmd.resolution == "SUSPENSE":
            await _book_suspense(session, fund, imported, line, viewer.username)
        if line.status == "UNMATCHED":
            imported.unmatched_count -= 1
        else:
            imported.discrepancy_count -= 1
        imported.resolved_count += 1
        line.resolved_from = line.status
        line.status = "RESOLVED"
        line.resolution = cmd.resolution
        line.note = note
        line.resolved_by = viewer.username
        line.resolved_at = uow.now()
        session.add_all([line, imported])
        await session.flush()
        await idempotency.remember(session, key, "resolveStatementLine", fingerprint, line.id)
        return line


# ---------------------------------------------------------------- reopen


async def _resolved_line(session: AsyncSession, import_id: int, line_no: int) -> StatementLineRow:
    only = "only a RESOLVED line is reopened"
    line = await _line_in(session, import_id, line_no, ("RESOLVED",), only)
    if line.resolved_from not in OPEN_STATUSES:
        raise UseCaseError(
            "INVALID_STATE",
            f"line {line_no} was resolved before its former status was kept; "
            "correct it with a manual entry",
            field="lineNo",
        )
    return line


async def _unbook_suspense(
    session: AsyncSession, fund: FundRow, line: StatementLineRow, reason: str, username: str
) -> None:
    """Reverse the line's SUSPENSE booking (Dr 2209.02 / Cr 1002), while its money is
    still in unidentified receipts: once a manual entry moved it on (identified as a
    gift, say), taking the booking back would leave suspense below zero. The rule book
    refuses it too if the bank no longer holds the money."""
    await store.lock_book(session, fund.id)  # suspense cannot move until the commit
    held = (await store.account_balances(session, fund.id)).get(A.SUSPENSE, 0)
    if held < line.amount_fen:
        raise UseCaseError(
            "INVALID_STATE",
            f"unidentified receipts hold {_yuan(held)}, less than this line's "
            f"{_yuan(line.amount_fen)}: the money was moved on; reverse that entry first",
            field="lineNo",
        )
    memo = f"suspense booking of statement line {line.line_no} taken back: {reason}"
    await store.reverse_entry(
        session, line.matched_entry_id, memo=memo[:500], recorded_by=username, owner="suspense"
    )
    line.matched_entry_id, line.former_entry_id = line.former_entry_id, None
    line.matched_posting_id = None  # an open line claims no bank posting


async def reopen_statement_line(cmd: ReopenStatementLine, uow: UnitOfWork) -> StatementLineRow:
    """A resolution taken back: the line is UNMATCHED or DISCREPANCY again, as it was,
    and a SUSPENSE booking is reversed by this operation (the only one that may)."""
    viewer = uow.viewer
    authorize(viewer, Action.RECONCILE)
    key = idempotency.check_key(cmd.idempotency_key)
    pk = cmd.statement_import_id
    reason = text(cmd.reason, "reason", max_length=400)
    request = {"import": pk, "lineNo": cmd.line_no, "reason": reason}
    fingerprint = idempotency.fingerprint("reopenStatementLine", request)
    async with uow.transaction() as session:
        imported, fund = await _import_of(session, viewer, pk)
        earlier = await idempotency.recall(session, key, "reopenStatementLine", fingerprint)
        if earlier is not None:
            return await session.get(StatementLineRow, earlier)
        line = await _resolved_line(session, pk, cmd.line_no)
        await session.refresh(imported)
        if line.resolution == "SUSPENSE":
            await _unbook_suspense(session, fund, line, reason, viewer.username)
        imported.resolved_count -= 1
        if line.resolved_from == "UNMATCHED":
            imported.unmatched_count += 1
        else:
            imported.discrepancy_count += 1
        line.status, line.resolved_from = line.resolved_from, None
        line.resolution = line.resolved_by = line.resolved_at = None
        line.note = f"reopened by {viewer.username}: {reason}"[:500]
        session.add_all([line, imported])
        await session.flush()
        await idempotency.remember(session, key, "reopenStatementLine", fingerprint, line.id)
        return line


# ---------------------------------------------------------------- the view


@dataclass(frozen=True)
class ReconciliationView:
    fund: FundRow
    at: datetime
    online_unsettled: int
    cash_undeposited: int
    ledger_bank: int
    statement_bank: int | None
    unmatched_lines: list[StatementLineRow]
    unsettled_donations: list[DonationRow]

    @property
    def balanced(self) -> bool:
        return (
            self.statement_bank is not None
            and self.statement_bank == self.ledger_bank
            and not self.unmatched_lines
        )


async def reconciliation(
    engine: AsyncEngine, viewer: Viewer | None, fund_id: str, at: datetime | None
) -> ReconciliationView:
    """The fund's reconciliation now, or as it stood at the end of `at`."""
    authorize(viewer, Action.RECONCILE)
    fund_pk = decode_id(fund_id, "Fund", field="fundId", what="fund")
    instant(at, "at")
    async with read_session(engine) as session:
        fund = await fund_for(session, viewer, fund_pk, Action.RECONCILE)
        if at is None:
            when = utcnow()
            balances = await store.account_balances(session, fund.id)
        else:
            when = at
            balances = (await reports.balances_at(session, [fund.id], at)).get(fund.id, {})

        statement_bank = await statements_db.statement_bank_at(session, fund.id, at)
        unmatched = await statements_db.open_lines_at(session, fund.id, at)
        unsettled = await statements_db.unsettled_online_at(session, fund.id, at)
    return ReconciliationView(
        fund=fund,
        at=when,
        online_unsettled=balances.get(A.ONLINE_CLEARING, 0),
        cash_undeposited=balances.get(A.CASH_ON_HAND, 0) + balances.get(A.CASH_UNCOUNTED, 0),
        ledger_bank=balances.get(A.BANK, 0),
        statement_bank=statement_bank,
        unmatched_lines=unmatched,
        unsettled_donations=unsettled,
    )


async def line_counts(engine: AsyncEngine, import_id: int) -> dict[str, int]:
    """Lines of an import by status (the CLI's summary)."""
    async with read_session(engine) as session:
        return await statements_db.line_counts(session, import_id)
