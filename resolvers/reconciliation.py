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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import aliased

from db.models import DonationRow, FundRow
from db.reconciliation_models import StatementImportRow, StatementLineRow
from db.types import utcnow
from db.uow import read_session, unit_of_work
from ledger import accounts as A
from ledger import idempotency, reports, store
from ledger.entries import PostingSpec
from ledger.errors import PeriodClosed
from ledger.tables import AccountRow, EntryRow, PostingRow
from reconciliation.detect import ParsedStatement, read_statement
from reconciliation.statement_files import (
    BankLine,
    SettlementLine,
    StatementFileError,
    closing_balance,
)
from resolvers.auth import Action, Viewer, authorize
from resolvers.errors import UseCaseError, invalid, not_found
from resolvers.funds import fund_for, owning_fund
from resolvers.ids import decode_id
from resolvers.validation import instant, text

SOURCES = ("PAYMENT_CHANNEL", "BANK")
RESOLUTIONS = ("IGNORE", "SUSPENSE")
OPEN_STATUSES = ("UNMATCHED", "DISCREPANCY")
# Rows per statement when reading candidates or writing lines: under every driver's
# bind-parameter limit (asyncpg: 32767) with room to spare.
CHUNK = 2000
# The funds' calendar when the caller does not pass one (config's default).
DEFAULT_TZ = ZoneInfo("Asia/Shanghai")

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


def _chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


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


async def import_statement(
    engine: AsyncEngine,
    viewer: Viewer | None,
    *,
    fund_id: str,
    source: str,
    payout_ref: str | None,
    csv: str | bytes,
    idempotency_key: str,
    progress: Progress | None = None,
    payout_date: date | None = None,
    tz: ZoneInfo = DEFAULT_TZ,
) -> StatementImportRow:
    authorize(viewer, Action.RECONCILE)
    progress = progress or _noop
    key = idempotency.check_key(idempotency_key)
    if source not in SOURCES:
        raise invalid("unknown statement source", "source")
    if source == "PAYMENT_CHANNEL":
        if payout_ref is None or not payout_ref.strip():
            raise invalid(
                "a PAYMENT_CHANNEL import needs the payout's reference (payoutRef)", "payoutRef"
            )
        payout_ref = text(payout_ref, "payoutRef")
    elif payout_ref is not None and payout_ref.strip():
        raise invalid("payoutRef is for PAYMENT_CHANNEL imports only", "payoutRef")
    else:
        payout_ref = None
    if not isinstance(csv, str | bytes):  # bytes: the command line's CSV or XLSX file
        raise invalid("csv must be text", "csv")
    if payout_date is not None and source != "PAYMENT_CHANNEL":
        raise invalid("payoutDate is for PAYMENT_CHANNEL imports only", "payoutDate")
    raw = csv if isinstance(csv, bytes) else csv.encode("utf-8", "surrogatepass")
    request = {
        "fund": fund_id,
        "source": source,
        "payoutRef": payout_ref,
        "csv": hashlib.sha256(raw).hexdigest(),
    }
    if payout_date is not None:  # absent from older keys' fingerprints, which stay valid
        request["payoutDate"] = payout_date.isoformat()
    fingerprint = idempotency.fingerprint("importStatement", request)
    # Parsing is pure and the slowest part of a small import: done before any lock.
    statement = parse(source, csv)
    lines = statement.lines
    progress("parsed", len(lines), len(lines))
    if source == "PAYMENT_CHANNEL":
        payout = payout_instant(statement, payout_date, tz)

    async with unit_of_work(engine) as session:
        fund = await fund_for(session, viewer, fund_id, Action.RECONCILE, lock=True)
        earlier = await idempotency.recall(session, key, "importStatement", fingerprint)
        if earlier is not None:
            return await session.get(StatementImportRow, earlier)
        now = utcnow()
        row = StatementImportRow(
            fund_id=fund.id,
            source=source,
            payout_ref=payout_ref,
            imported_at=now,
            imported_by=viewer.username,
            line_count=len(lines),
        )
        if source == "PAYMENT_CHANNEL":
            matches, entry_id = await _settle(
                session, fund, lines, payout_ref, viewer.username, progress, payout
            )
            row.entry_id = entry_id
        else:
            matches = await _match_bank(session, fund, lines, progress)
            row.closing_balance_fen = closing_balance(lines)
        counts: dict[str, int] = defaultdict(int)
        for m in matches:
            counts[m.status] += 1
        row.matched_count = counts["MATCHED"]
        row.unmatched_count = counts["UNMATCHED"]
        row.discrepancy_count = counts["DISCREPANCY"]
        row.duplicate_count = counts["DUPLICATE"]
        session.add(row)
        await session.flush()
        await _write_lines(session, row, lines, matches, progress)
        await idempotency.remember(session, key, "importStatement", fingerprint, row.id)
        return row


async def _settle(
    session: AsyncSession,
    fund: FundRow,
    lines: list[SettlementLine],
    payout_ref: str,
    username: str,
    progress: Progress,
    payout: tuple[date, datetime],
) -> tuple[list[_Match], int | None]:
    """Match a settlement file and book its payout as one entry (see the domain brief)."""
    conn = await session.connection()
    earlier = await conn.scalar(
        select(StatementImportRow.id)
        .where(
            StatementImportRow.fund_id == fund.id,
            StatementImportRow.source == "PAYMENT_CHANNEL",
            StatementImportRow.payout_ref == payout_ref,
            StatementImportRow.undone_at.is_(None),  # an undone import may come again
        )
        .limit(1)
    )
    if earlier is not None:
        note = f"payout {payout_ref} was already imported; nothing posted"
        return [_Match("DUPLICATE", note=note) for _ in lines], None

    refs = sorted({line.reference for line in lines})
    donations: dict[str, tuple] = {}
    for i, chunk in enumerate(_chunks(refs)):
        rows = await conn.execute(
            select(
                DonationRow.online_ref,
                DonationRow.id,
                DonationRow.amount_fen,
                DonationRow.status,
                DonationRow.settled_entry_id,
            ).where(DonationRow.fund_id == fund.id, DonationRow.online_ref.in_(chunk))
        )
        for ref, *rest in rows:
            donations[ref] = tuple(rest)
        progress("matched", min((i + 1) * CHUNK, len(refs)), len(refs))

    matches: list[_Match] = []
    settled_here: dict[int, int] = {}  # donation id -> line number that settled it
    gross_matched = fees_matched = net_unexplained = net_all = 0
    for line in lines:
        found = donations.get(line.reference)
        net = line.amount_fen - line.fee_fen
        if found is None:
            m = _Match("UNMATCHED", note="no online donation of this fund has this reference")
        else:
            donation_id, amount, status, settled_entry = found
            if settled_entry is not None:
                m = _Match(
                    "DUPLICATE",
                    donation_id=donation_id,
                    entry_id=settled_entry,
                    note="settled by an earlier import; nothing posted",
                )
            elif donation_id in settled_here:
                m = _Match(
                    "DISCREPANCY",
                    donation_id=donation_id,
                    note=f"the donation was already settled by line {settled_here[donation_id]} "
                    "of this file",
                )
            elif status in ("REFUNDED", "VOIDED"):
                m = _Match(
                    "DISCREPANCY",
                    donation_id=donation_id,
                    note=f"the donation was {status.lower()} before it settled",
                )
            elif amount != line.amount_fen:
                m = _Match(
                    "DISCREPANCY",
                    donation_id=donation_id,
                    note=f"the donation is {_yuan(amount)}, the line {_yuan(line.amount_fen)}",
                )
            else:
                m = _Match("MATCHED", donation_id=donation_id)
                settled_here[donation_id] = line.line_no
        if m.status != "DUPLICATE":
            net_all += net
            if m.status == "MATCHED":
                gross_matched += line.amount_fen
                fees_matched += line.fee_fen
            else:
                net_unexplained += net
        matches.append(m)

    # Dr bank (net of every line paid) + Dr fees (matched) =
    #   Cr clearing (gross matched) + Cr suspense (net of the unexplained lines),
    # since net_all = (gross_matched - fees_matched) + net_unexplained.
    cur = fund.currency
    postings = [
        PostingSpec(code, side, amount, cur)
        for code, side, amount in (
            (A.BANK, "DEBIT", net_all),
            (A.CHANNEL_FEES, "DEBIT", fees_matched),
            (A.ONLINE_CLEARING, "CREDIT", gross_matched),
            (A.SUSPENSE, "CREDIT", net_unexplained),
        )
        if amount > 0
    ]
    if not postings:
        return matches, None
    try:
        entry = await store.post_entry(
            session,
            fund.id,
            postings,
            memo=f"settlement payout {payout_ref}: {len(settled_here)} donations settled, "
            f"{len(lines)} lines",
            recorded_by=username,
            kind="settlement",
            reference=payout_ref,
            effective_at=payout[1],
        )
    except PeriodClosed as exc:
        raise UseCaseError(
            "PERIOD_CLOSED",
            f"the payout date {payout[0]} is in a closed period: {exc.message}",
            field="payoutDate",
        ) from None
    for m in matches:
        if m.status == "MATCHED":
            m.entry_id = entry.id
    settled = sorted(settled_here)
    for chunk in _chunks(settled):
        await conn.execute(
            update(DonationRow.__table__)
            .where(DonationRow.__table__.c.id.in_(chunk))
            .values(status="SETTLED", settled_entry_id=entry.id)
        )
    return matches, entry.id


async def _match_bank(
    session: AsyncSession, fund: FundRow, lines: list[BankLine], progress: Progress
) -> list[_Match]:
    """Match bank lines to postings on 1002 by reference, side and amount."""
    conn = await session.connection()
    bank_id = await conn.scalar(
        select(AccountRow.id).where(AccountRow.fund_id == fund.id, AccountRow.code == A.BANK)
    )
    refs = sorted({line.reference for line in lines})
    reversal = aliased(EntryRow)
    # reference -> [(posting id, entry id, side, amount)], reversed entries left out:
    # a reversed deposit is not money the bank holds.
    by_ref: dict[str, list[tuple[int, int, str, int]]] = defaultdict(list)
    for i, chunk in enumerate(_chunks(refs)):
        rows = await conn.execute(
            select(
                EntryRow.reference,
                PostingRow.id,
                EntryRow.id,
                PostingRow.side,
                PostingRow.amount_fen,
            )
            .select_from(PostingRow)
            .join(EntryRow, EntryRow.id == PostingRow.entry_id)
            .outerjoin(reversal, reversal.reverses_id == EntryRow.id)
            .where(
                PostingRow.account_id == bank_id,
                EntryRow.fund_id == fund.id,
                EntryRow.reference.in_(chunk),
                EntryRow.reverses_id.is_(None),
                reversal.id.is_(None),
            )
            .order_by(PostingRow.id)
        )
        for ref, posting_id, entry_id, side, amount in rows:
            by_ref[ref].append((posting_id, entry_id, side, amount))
        progress("matched", min((i + 1) * CHUNK, len(refs)), len(refs))

    candidate_ids = [p[0] for postings in by_ref.values() for p in postings]
    taken: set[int] = set()  # matched by an earlier import
    for chunk in _chunks(candidate_ids):
        rows = await conn.execute(
            select(StatementLineRow.matched_posting_id).where(
                StatementLineRow.fund_id == fund.id,
                StatementLineRow.matched_posting_id.in_(chunk),
            )
        )
        taken.update(r[0] for r in rows)

    matches: list[_Match] = []
    used: set[int] = set()  # matched by an earlier line of this file
    for line in lines:
        side = "DEBIT" if line.amount_fen > 0 else "CREDIT"
        same_ref = by_ref.get(line.reference, [])
        fitting = [p for p in same_ref if p[2] == side and p[3] == abs(line.amount_fen)]
        fresh = [p for p in fitting if p[0] not in taken and p[0] not in used]
        if len(fresh) == 1:
            posting_id, entry_id, _, _ = fresh[0]
            used.add(posting_id)
            matches.append(_Match("MATCHED", entry_id=entry_id, posting_id=posting_id))
        elif len(fresh) > 1:
            sequences = ", ".join(str(p[1]) for p in fresh[:5])
            matches.append(
                _Match(
                    "UNMATCHED",
                    note=f"{len(fresh)} ledger entries fit this line (entry ids {sequences}); "
                    "not guessed",
                )
            )
        elif any(p[0] in taken for p in fitting):
            entry_id = next(p[1] for p in fitting if p[0] in taken)
            matches.append(
                _Match(
                    "DUPLICATE",
                    entry_id=entry_id,
                    note="matched by an earlier import; nothing posted",
                )
            )
        elif same_ref:
            other = same_ref[0]
            signed = other[3] if other[2] == "DEBIT" else -other[3]
            matches.append(
                _Match(
                    "DISCREPANCY",
                    entry_id=other[1],
                    note=f"the ledger has {_yuan(signed)} on the bank account with this "
                    f"reference, the line {_yuan(line.amount_fen)}",
                )
            )
        else:
            matches.append(_Match("UNMATCHED", note="no bank posting has this reference"))

    entry_ids = sorted({m.entry_id for m in matches if m.entry_id is not None})
    donation_of: dict[int, int] = {}
    for chunk in _chunks(entry_ids):
        rows = await conn.execute(
            select(DonationRow.entry_id, DonationRow.id).where(DonationRow.entry_id.in_(chunk))
        )
        donation_of.update({entry_id: donation_id for entry_id, donation_id in rows})
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
    table = StatementLineRow.__table__
    total = len(lines)
    done = 0
    for chunk in _chunks(list(zip(lines, matches, strict=True))):
        await conn.execute(
            insert(table),
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


async def resolve_statement_line(
    engine: AsyncEngine,
    viewer: Viewer | None,
    *,
    statement_import_id: str,
    line_no: int,
    resolution: str,
    note: str,
    idempotency_key: str,
) -> StatementLineRow:
    authorize(viewer, Action.RECONCILE)
    key = idempotency.check_key(idempotency_key)
    pk = decode_id(
        statement_import_id, "StatementImport", field="statementImportId", what="statement import"
    )
    if resolution not in RESOLUTIONS:
        raise invalid("unknown resolution", "resolution")
    if resolution == "IGNORE" and (note is None or not note.strip()):
        raise invalid("IGNORE needs a note saying why nothing is booked", "note")
    note = text(note, "note", max_length=500, required=False)
    request = {"import": pk, "lineNo": line_no, "resolution": resolution, "note": note}
    fingerprint = idempotency.fingerprint("resolveStatementLine", request)
    async with unit_of_work(engine) as session:
        imported = await session.get(StatementImportRow, pk)
        fund = await owning_fund(
            session,
            viewer,
            imported,
            Action.RECONCILE,
            what="statement import",
            field="statementImportId",
        )
        earlier = await idempotency.recall(session, key, "resolveStatementLine", fingerprint)
        if earlier is not None:
            return await session.get(StatementLineRow, earlier)
        line = await session.scalar(
            select(StatementLineRow)
            .where(StatementLineRow.import_id == pk, StatementLineRow.line_no == line_no)
            .execution_options(populate_existing=True)
        )
        if line is None:
            raise not_found("statement line", "lineNo")
        if line.status not in OPEN_STATUSES:
            raise UseCaseError(
                "INVALID_STATE",
                f"line {line_no} is {line.status}; only UNMATCHED or DISCREPANCY lines are resolved",
                field="lineNo",
            )
        await session.refresh(imported)
        if resolution == "SUSPENSE":
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
                memo=f"unidentified bank receipt {line.reference} (statement line {line_no})",
                recorded_by=viewer.username,
                kind="suspense",
                reference=line.reference,
            )
            conn = await session.connection()
            bank_posting = await conn.scalar(
                select(PostingRow.id)
                .join(AccountRow, AccountRow.id == PostingRow.account_id)
                .where(PostingRow.entry_id == entry.id, AccountRow.code == A.BANK)
            )
            line.matched_entry_id = entry.id
            line.matched_posting_id = bank_posting
        if line.status == "UNMATCHED":
            imported.unmatched_count -= 1
        else:
            imported.discrepancy_count -= 1
        imported.resolved_count += 1
        line.status = "RESOLVED"
        line.resolution = resolution
        line.note = note
        line.resolved_by = viewer.username
        line.resolved_at = utcnow()
        session.add_all([line, imported])
        await session.flush()
        await idempotency.remember(session, key, "resolveStatementLine", fingerprint, line.id)
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
    instant(at, "at")
    async with read_session(engine) as session:
        fund = await fund_for(session, viewer, fund_id, Action.RECONCILE)
        if at is None:
            when = utcnow()
            balances = await store.account_balances(session, fund.id)
        else:
            when = at
            balances = (await reports.balances_at(session, [fund.id], at)).get(fund.id, {})

        imports = StatementImportRow
        latest = select(imports.closing_balance_fen).where(
            imports.fund_id == fund.id, imports.source == "BANK", imports.undone_at.is_(None)
        )
        if at is not None:
            latest = latest.where(imports.imported_at <= at)
        statement_bank = await session.scalar(latest.order_by(imports.id.desc()).limit(1))

        lines = (
            select(StatementLineRow)
            .join(imports, imports.id == StatementLineRow.import_id)
            .where(imports.undone_at.is_(None))
        )
        if at is None:
            lines = lines.where(
                StatementLineRow.fund_id == fund.id, StatementLineRow.status.in_(OPEN_STATUSES)
            )
        else:
            # Open then: open now, or resolved after `at`.
            lines = lines.where(
                StatementLineRow.fund_id == fund.id,
                imports.imported_at <= at,
                or_(
                    StatementLineRow.status.in_(OPEN_STATUSES),
                    and_(StatementLineRow.status == "RESOLVED", StatementLineRow.resolved_at > at),
                ),
            )
        unmatched = list(
            (
                await session.scalars(
                    lines.order_by(StatementLineRow.import_id, StatementLineRow.line_no)
                )
            ).all()
        )

        donations = select(DonationRow).where(
            DonationRow.fund_id == fund.id, DonationRow.channel == "ONLINE"
        )
        if at is None:
            donations = donations.where(DonationRow.status == "RECEIVED")
        else:
            settled = aliased(EntryRow)
            refunded = aliased(EntryRow)
            voided = aliased(EntryRow)
            donations = (
                donations.outerjoin(settled, settled.id == DonationRow.settled_entry_id)
                .outerjoin(refunded, refunded.id == DonationRow.refund_entry_id)
                .outerjoin(voided, voided.id == DonationRow.void_entry_id)
                .where(
                    DonationRow.received_at <= at,
                    or_(settled.id.is_(None), settled.effective_at > at),
                    or_(refunded.id.is_(None), refunded.effective_at > at),
                    or_(voided.id.is_(None), voided.effective_at > at),
                )
            )
        unsettled = list(
            (
                await session.scalars(donations.order_by(DonationRow.received_at, DonationRow.id))
            ).all()
        )
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
        rows = await session.execute(
            select(StatementLineRow.status, func.count())
            .where(StatementLineRow.import_id == import_id)
            .group_by(StatementLineRow.status)
        )
        return {status: int(n) for status, n in rows}
