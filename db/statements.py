"""The statements repository: what a settlement-file or bank-statement import reads
and writes besides the ledger, in chunks under every driver's bind-parameter limit."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased

from db.models import DonationRow
from db.reconciliation_models import StatementImportRow, StatementLineRow
from ledger.tables import AccountRow, EntryRow, PostingRow

# Rows per statement when reading candidates or writing lines: under asyncpg's
# bind-parameter limit (32767) with room to spare.
CHUNK = 2000
OPEN_STATUSES = ("UNMATCHED", "DISCREPANCY")


def chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


async def earlier_payout(conn: AsyncConnection, fund_id: int, payout_ref: str) -> int | None:
    """The id of a standing import of the same payout into the fund, if any."""
    return await conn.scalar(
        select(StatementImportRow.id)
        .where(
            StatementImportRow.fund_id == fund_id,
            StatementImportRow.source == "PAYMENT_CHANNEL",
            StatementImportRow.payout_ref == payout_ref,
            StatementImportRow.undone_at.is_(None),  # an undone import may come again
        )
        .limit(1)
    )


async def online_donations(
    conn: AsyncConnection, fund_id: int, refs: Sequence[str]
) -> dict[str, tuple]:
    """online ref -> (id, amount_fen, status, settled_entry_id, received_at), for one
    chunk of refs."""
    rows = await conn.execute(
        select(
            DonationRow.online_ref,
            DonationRow.id,
            DonationRow.amount_fen,
            DonationRow.status,
            DonationRow.settled_entry_id,
            DonationRow.received_at,
        ).where(DonationRow.fund_id == fund_id, DonationRow.online_ref.in_(refs))
    )
    return {ref: tuple(rest) for ref, *rest in rows}


async def mark_settled(conn: AsyncConnection, donation_ids: Sequence[int], entry_id: int) -> None:
    table = DonationRow.__table__
    for chunk in chunks(donation_ids):
        await conn.execute(
            update(table)
            .where(table.c.id.in_(chunk))
            .values(status="SETTLED", settled_entry_id=entry_id)
        )


async def bank_account_id(conn: AsyncConnection, fund_id: int, code: str) -> int | None:
    return await conn.scalar(
        select(AccountRow.id).where(AccountRow.fund_id == fund_id, AccountRow.code == code)
    )


async def bank_postings(
    conn: AsyncConnection, fund_id: int, bank_id: int, refs: Sequence[str]
) -> dict[str, list[tuple[int, int, str, int]]]:
    """reference -> [(posting id, entry id, side, amount)] on the bank account, for one
    chunk of refs; reversed entries and reversals left out (a reversed deposit is not
    money the bank holds)."""
    reversal = aliased(EntryRow)
    rows = await conn.execute(
        select(
            EntryRow.reference, PostingRow.id, EntryRow.id, PostingRow.side, PostingRow.amount_fen
        )
        .select_from(PostingRow)
        .join(EntryRow, EntryRow.id == PostingRow.entry_id)
        .outerjoin(reversal, reversal.reverses_id == EntryRow.id)
        .where(
            PostingRow.account_id == bank_id,
            EntryRow.fund_id == fund_id,
            EntryRow.reference.in_(refs),
            EntryRow.reverses_id.is_(None),
            reversal.id.is_(None),
        )
        .order_by(PostingRow.id)
    )
    by_ref: dict[str, list[tuple[int, int, str, int]]] = defaultdict(list)
    for ref, posting_id, entry_id, side, amount in rows:
        by_ref[ref].append((posting_id, entry_id, side, amount))
    return by_ref


async def matched_postings(
    conn: AsyncConnection, fund_id: int, posting_ids: Sequence[int]
) -> set[int]:
    """Those of the postings an earlier import's line matched."""
    taken: set[int] = set()
    for chunk in chunks(posting_ids):
        rows = await conn.execute(
            select(StatementLineRow.matched_posting_id).where(
                StatementLineRow.fund_id == fund_id,
                StatementLineRow.matched_posting_id.in_(chunk),
            )
        )
        taken.update(r[0] for r in rows)
    return taken


async def donations_of_entries(conn: AsyncConnection, entry_ids: Sequence[int]) -> dict[int, int]:
    """entry id -> the id of the donation it recorded."""
    found: dict[int, int] = {}
    for chunk in chunks(entry_ids):
        rows = await conn.execute(
            select(DonationRow.entry_id, DonationRow.id).where(DonationRow.entry_id.in_(chunk))
        )
        found.update({entry_id: donation_id for entry_id, donation_id in rows})
    return found


async def insert_lines(conn: AsyncConnection, rows: list[dict]) -> None:
    await conn.execute(insert(StatementLineRow.__table__), rows)


async def line_for_update(
    session: AsyncSession, import_id: int, line_no: int
) -> StatementLineRow | None:
    """The line as the database has it now (not an earlier copy in the session)."""
    return await session.scalar(
        select(StatementLineRow)
        .where(StatementLineRow.import_id == import_id, StatementLineRow.line_no == line_no)
        .execution_options(populate_existing=True)
    )


async def posting_on(conn: AsyncConnection, entry_id: int, code: str) -> int | None:
    """The id of the entry's posting on the account with `code`."""
    return await conn.scalar(
        select(PostingRow.id)
        .join(AccountRow, AccountRow.id == PostingRow.account_id)
        .where(PostingRow.entry_id == entry_id, AccountRow.code == code)
    )


async def line_counts(session: AsyncSession, import_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(StatementLineRow.status, func.count())
        .where(StatementLineRow.import_id == import_id)
        .group_by(StatementLineRow.status)
    )
    return {status: int(n) for status, n in rows}


# ---------------------------------------------------------------- the reconciliation view
# Each as of now (at=None) or as things stood at the end of `at`; undone imports left out.


async def statement_bank_at(session: AsyncSession, fund_id: int, at: datetime | None) -> int | None:
    """The closing balance of the fund's latest bank statement."""
    imports = StatementImportRow
    latest = select(imports.closing_balance_fen).where(
        imports.fund_id == fund_id, imports.source == "BANK", imports.undone_at.is_(None)
    )
    if at is not None:
        latest = latest.where(imports.imported_at <= at)
    return await session.scalar(latest.order_by(imports.id.desc()).limit(1))


async def open_lines_at(
    session: AsyncSession, fund_id: int, at: datetime | None
) -> list[StatementLineRow]:
    imports = StatementImportRow
    lines = (
        select(StatementLineRow)
        .join(imports, imports.id == StatementLineRow.import_id)
        .where(imports.undone_at.is_(None), StatementLineRow.fund_id == fund_id)
    )
    if at is None:
        lines = lines.where(StatementLineRow.status.in_(OPEN_STATUSES))
    else:
        # Open then: open now, or resolved after `at`.
        lines = lines.where(
            imports.imported_at <= at,
            or_(
                StatementLineRow.status.in_(OPEN_STATUSES),
                and_(StatementLineRow.status == "RESOLVED", StatementLineRow.resolved_at > at),
            ),
        )
    ordered = lines.order_by(StatementLineRow.import_id, StatementLineRow.line_no)
    return list((await session.scalars(ordered)).all())


async def unsettled_online_at(
    session: AsyncSession, fund_id: int, at: datetime | None
) -> list[DonationRow]:
    """Online donations no settlement file had settled (nor refund or void undone)."""
    donations = select(DonationRow).where(
        DonationRow.fund_id == fund_id, DonationRow.channel == "ONLINE"
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
    ordered = donations.order_by(DonationRow.received_at, DonationRow.id)
    return list((await session.scalars(ordered)).all())
