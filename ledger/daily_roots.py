"""Publishing each fund's daily Merkle roots, and reading them back.

A day's tree holds a contiguous run of the fund's journal: the entries after the
previous published day's run, up to the last entry recorded (recorded_at) before the
day ended in the fund's time zone. Sequences are assigned under the book lock and
committed with it, so the entries a reader sees are always a prefix of the journal:
an entry recorded just before midnight but committed after the day was published
simply opens the next day's run. The leaves are the entries' stored hashes.

A published root is never rewritten (a trigger refuses it): publishing a day that is
already published returns the stored root. Publishing day D first publishes every
unpublished day before it, back to the fund's first day, so the chain has no holes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import FundRow
from ledger.errors import InvalidEntry, NotFound
from ledger.merkle import chain_root, merkle_root
from ledger.receipt_tables import DailyRootRow
from ledger.tables import EntryRow

ROOTS = DailyRootRow.__table__
ENTRIES = EntryRow.__table__
# Publishers of one fund take turns (pg_advisory_xact_lock(PUBLISH_LOCK, fund)); writers
# are not held up.
PUBLISH_LOCK = 18018


@dataclass(frozen=True, slots=True)
class DailyRoot:
    fund_id: int
    day: date
    first_sequence: int
    last_sequence: int
    tree_size: int
    merkle_root: str
    previous_root: str | None
    root: str
    published_at: datetime


def _root_of(row) -> DailyRoot:
    return DailyRoot(**{name: getattr(row, name) for name in DailyRoot.__slots__})


def day_end(day: date, tz: ZoneInfo) -> datetime:
    """The first instant after `day` in the fund's time zone."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)


def local_day(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()


async def publish_through(
    session: AsyncSession, fund_id: int, day: date, tz: ZoneInfo, now: datetime
) -> DailyRoot:
    """The fund's published root of `day`, publishing it (and any unpublished day
    before it) first when needed. Only whole days that have ended can be published."""
    if day >= local_day(now, tz):
        raise InvalidEntry("only a day that has ended can be published", field="day")
    conn = await session.connection()
    await conn.execute(
        text("SELECT pg_advisory_xact_lock(:lock, :fund)"), {"lock": PUBLISH_LOCK, "fund": fund_id}
    )
    fund_created = await conn.scalar(select(FundRow.created_at).where(FundRow.id == fund_id))
    if fund_created is None:
        raise NotFound(f"fund {fund_id} does not exist", field="fundId")
    first_day = local_day(fund_created, tz)
    if day < first_day:
        raise InvalidEntry("the fund did not exist on that day", field="day")
    last = (
        await conn.execute(
            select(ROOTS).where(ROOTS.c.fund_id == fund_id).order_by(ROOTS.c.day.desc()).limit(1)
        )
    ).first()
    if last is not None and last.day >= day:
        stored = (
            await conn.execute(select(ROOTS).where(ROOTS.c.fund_id == fund_id, ROOTS.c.day == day))
        ).first()
        return _root_of(stored)
    previous = _root_of(last) if last is not None else None
    pending = await _unpublished_entries(session, fund_id, previous)
    published_at = now
    current = first_day if previous is None else previous.day + timedelta(days=1)
    while current <= day:
        previous = _next_root(fund_id, current, previous, pending, tz, published_at)
        await conn.execute(ROOTS.insert().values(**_columns(previous)))
        current += timedelta(days=1)
    return previous


async def _unpublished_entries(
    session: AsyncSession, fund_id: int, previous: DailyRoot | None
) -> list[tuple[int, datetime, str]]:
    after = previous.last_sequence if previous is not None else 0
    conn = await session.connection()
    rows = await conn.execute(
        select(ENTRIES.c.sequence, ENTRIES.c.recorded_at, ENTRIES.c.hash)
        .where(ENTRIES.c.fund_id == fund_id, ENTRIES.c.sequence > after)
        .order_by(ENTRIES.c.sequence)
    )
    return [tuple(row) for row in rows]


def _next_root(
    fund_id: int,
    day: date,
    previous: DailyRoot | None,
    pending: list[tuple[int, datetime, str]],
    tz: ZoneInfo,
    published_at: datetime,
) -> DailyRoot:
    """The root of `day`, taking its entries off the front of `pending`."""
    first = previous.last_sequence + 1 if previous is not None else 1
    end = day_end(day, tz)
    # The run ends at the last entry recorded before the day's end: recorded_at is
    # taken before the book lock, so neighbours may be microseconds out of order.
    count = 0
    for i, (_sequence, recorded_at, _hash) in enumerate(pending):
        if recorded_at < end:
            count = i + 1
    leaves = [h for _s, _r, h in pending[:count]]
    del pending[:count]
    tree = merkle_root(leaves)
    previous_root = previous.root if previous is not None else None
    return DailyRoot(
        fund_id=fund_id,
        day=day,
        first_sequence=first,
        last_sequence=first + len(leaves) - 1,
        tree_size=len(leaves),
        merkle_root=tree,
        previous_root=previous_root,
        root=chain_root(previous_root, day, len(leaves), tree),
        published_at=published_at,
    )


def _columns(root: DailyRoot) -> dict:
    return {name: getattr(root, name) for name in DailyRoot.__slots__}


async def published_roots(
    session: AsyncSession, fund_id: int, *, limit: int, non_empty: bool = False
) -> list[DailyRoot]:
    """The fund's latest published roots, newest first."""
    stmt = select(ROOTS).where(ROOTS.c.fund_id == fund_id)
    if non_empty:
        stmt = stmt.where(ROOTS.c.tree_size > 0)
    conn = await session.connection()
    rows = await conn.execute(stmt.order_by(ROOTS.c.day.desc()).limit(limit))
    return [_root_of(row) for row in rows]


async def root_covering(session: AsyncSession, fund_id: int, sequence: int) -> DailyRoot | None:
    """The published root whose run holds the entry of this sequence, if published."""
    conn = await session.connection()
    row = (
        await conn.execute(
            select(ROOTS).where(
                ROOTS.c.fund_id == fund_id,
                ROOTS.c.first_sequence <= sequence,
                ROOTS.c.last_sequence >= sequence,
            )
        )
    ).first()
    return _root_of(row) if row is not None else None


async def stored_leaves(session: AsyncSession, fund_id: int, root: DailyRoot) -> list[str]:
    """The stored hashes of the root's run, in sequence order."""
    conn = await session.connection()
    rows = await conn.execute(
        select(ENTRIES.c.hash)
        .where(
            ENTRIES.c.fund_id == fund_id,
            ENTRIES.c.sequence.between(root.first_sequence, root.last_sequence),
        )
        .order_by(ENTRIES.c.sequence)
    )
    return [row.hash for row in rows]


async def recomputed_root(session: AsyncSession, root: DailyRoot) -> str:
    """The chained root the journal gives today for the root's run and day."""
    leaves = await stored_leaves(session, root.fund_id, root)
    return chain_root(root.previous_root, root.day, len(leaves), merkle_root(leaves))


async def count_published(session: AsyncSession, fund_id: int) -> int:
    conn = await session.connection()
    return await conn.scalar(
        select(func.count()).select_from(ROOTS).where(ROOTS.c.fund_id == fund_id)
    )
