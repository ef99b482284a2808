"""The journal over a period as rows, one per posting, in sequence order, read in
keyset batches so that a long journal is never held whole by the CSV and XLSX writers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.uow import read_session
from ledger.tables import AccountRow, EntryRow, PostingRow
from reports.figures import period_bounds
from reports.labels import account_name, kind_label, memo_label, word
from reports.statutory import DATETIME, INT, MONEY, TEXT, Column, Row

BATCH = 1000


def columns(lang: str) -> tuple[Column, ...]:
    spec = (
        ("sequence", INT, 10),
        ("effective_at", DATETIME, 21),
        ("kind", TEXT, 11),
        ("reference", TEXT, 16),
        ("memo", TEXT, 44),
        ("account", TEXT, 11),
        ("account_name", TEXT, 18),
        ("debit", MONEY, 14),
        ("credit", MONEY, 14),
        ("recorded_by", TEXT, 10),
    )
    return tuple(Column(word(key, lang), kind, width) for key, kind, width in spec)


async def journal_rows(
    engine: AsyncEngine, fund_id: int, start: date, end: date, tz: ZoneInfo, lang: str
) -> AsyncIterator[list[Row]]:
    """Batches of rows; the date is the local time of day in tz, without an offset."""
    begin, after = period_bounds(start, end, tz)
    last: tuple[int, int] = (0, 0)
    while True:
        async with read_session(engine) as session:
            fetched = (
                await session.execute(
                    select(
                        EntryRow.sequence,
                        EntryRow.effective_at,
                        EntryRow.kind,
                        EntryRow.reference,
                        EntryRow.memo,
                        AccountRow.code,
                        AccountRow.name,
                        PostingRow.side,
                        PostingRow.amount_fen,
                        EntryRow.recorded_by,
                        PostingRow.id,
                    )
                    .select_from(PostingRow)
                    .join(EntryRow, EntryRow.id == PostingRow.entry_id)
                    .join(AccountRow, AccountRow.id == PostingRow.account_id)
                    .where(
                        EntryRow.fund_id == fund_id,
                        EntryRow.effective_at >= begin,
                        EntryRow.effective_at < after,
                        or_(
                            EntryRow.sequence > last[0],
                            and_(EntryRow.sequence == last[0], PostingRow.id > last[1]),
                        ),
                    )
                    .order_by(EntryRow.sequence, PostingRow.id)
                    .limit(BATCH)
                )
            ).all()
        if not fetched:
            return
        yield [
            Row(
                (
                    seq,
                    at.astimezone(tz).replace(tzinfo=None),
                    kind_label(kind, lang),
                    ref,
                    memo_label(memo, lang),
                    code,
                    account_name(name, lang),
                    amount if side == "DEBIT" else None,
                    amount if side == "CREDIT" else None,
                    by,
                )
            )
            for seq, at, kind, ref, memo, code, name, side, amount, by, _ in fetched
        ]
        last = (fetched[-1][0], fetched[-1][-1])
        if len(fetched) < BATCH:
            return
