"""Writing the journal: the Python door to the ledger's rule book (ledger/sql/ledger.sql).

Every rule an entry obeys (a draft's shape, the fund's status, closed periods, account
currencies, net assets moved only by close, guards at every instant, available money,
reversals and who may make them, the sequence and the hash chain) is checked inside
PostgreSQL by the rule book's functions, under the fund's book lock, in one statement.
This module only converts: Python values to the functions' arguments, their rows to
PostedEntry, and their refusals (SQLSTATE JL000) to the typed errors of ledger.errors.

Nothing here commits: every function writes inside the caller's transaction, and a
refusal writes nothing (the caller's unit of work rolls back on the raised error).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from db.announce import WRITTEN_HEADS, wrote
from db.models import FundRow
from ledger.accounts import CHART
from ledger.entries import PostedEntry, PostingSpec
from ledger.errors import (
    CurrencyMismatch,
    FundNotOpen,
    InsufficientFunds,
    InvalidAmount,
    InvalidEntry,
    InvalidState,
    LedgerError,
    NotFound,
    PeriodClosed,
    UnbalancedEntry,
)
from ledger.money import SUPPORTED_CURRENCIES
from ledger.tables import AccountRow, BookRow

BOOKS = BookRow.__table__
ACCOUNTS = AccountRow.__table__

REFUSAL_STATE = "JL000"
_REFUSALS: dict[str, type[LedgerError]] = {
    "InvalidEntry": InvalidEntry,
    "InvalidAmount": InvalidAmount,
    "UnbalancedEntry": UnbalancedEntry,
    "CurrencyMismatch": CurrencyMismatch,
    "InsufficientFunds": InsufficientFunds,
    "PeriodClosed": PeriodClosed,
    "InvalidState": InvalidState,
    "NotFound": NotFound,
    "FundNotOpen": FundNotOpen,
}


# ---------------------------------------------------------------- books


async def open_book(
    session: AsyncSession, fund_id: int, *, currency: str = "CNY", restricted: bool = False
) -> None:
    """Create the fund's book and every account of the chart, all at zero."""
    conn = await session.connection()
    if currency not in SUPPORTED_CURRENCIES:
        raise CurrencyMismatch(f"currency {currency!r} is not supported", field="currency")
    if await conn.scalar(select(FundRow.id).where(FundRow.id == fund_id)) is None:
        raise NotFound(f"fund {fund_id} does not exist", field="fundId")
    if await conn.scalar(select(BOOKS.c.fund_id).where(BOOKS.c.fund_id == fund_id)) is not None:
        raise InvalidState(f"fund {fund_id} already has a book", field="fundId")
    await conn.execute(
        insert(BOOKS).values(
            fund_id=fund_id, currency=currency, restricted=restricted, last_sequence=0
        )
    )
    await conn.execute(
        insert(ACCOUNTS),
        [
            {
                "fund_id": fund_id,
                "code": spec.code,
                "name": spec.name,
                "type": spec.type,
                "normal_side": spec.normal_side,
                "currency": currency,
                "guarded": spec.guarded,
                "balance_fen": 0,
            }
            for spec in CHART
        ],
    )


async def lock_book(session: AsyncSession, fund_id: int) -> BookRow:
    """Take the fund's write lock (idempotent within a transaction) and return its head:
    for a use case that must decide on the fund's records before it writes."""
    book = await session.scalar(
        select(BookRow)
        .where(BookRow.fund_id == fund_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if book is None:
        raise NotFound(f"fund {fund_id} has no book", field="fundId")
    return book


async def account_balances(session: AsyncSession, fund_id: int) -> dict[str, int]:
    """Stored balances (signed by normal side) by account code; O(1) in the journal's length."""
    conn = await session.connection()
    rows = await conn.execute(
        select(ACCOUNTS.c.code, ACCOUNTS.c.balance_fen).where(ACCOUNTS.c.fund_id == fund_id)
    )
    return {code: balance for code, balance in rows}


# ---------------------------------------------------------------- entries

_RETURNS = "entry_id, entry_sequence, entry_hash, entry_previous_hash, entry_recorded_at, entry_effective_at"
_POST = text(
    f"SELECT {_RETURNS} FROM ledger_post(:fund, :kind, :effective_at, :memo, :recorded_by,"
    " :reference, :codes, :sides, :amounts, :currencies)"
)
_REVERSE = text(
    f"SELECT {_RETURNS} FROM ledger_reverse(:entry, :memo, :recorded_by, :effective_at, :owner)"
)
_CLOSE = text(f"SELECT {_RETURNS} FROM ledger_close(:fund, :through, :open_from, :recorded_by)")
_ENTRY_OF = text("SELECT fund_id, kind FROM journal_entries WHERE id = :entry")


async def post_entry(
    session: AsyncSession,
    fund_id: int,
    postings: Sequence[PostingSpec],
    *,
    memo: str,
    recorded_by: str,
    kind: str = "manual",
    effective_at: datetime | None = None,
    reference: str | None = None,
) -> PostedEntry:
    """Write one balanced entry (any kind but reversal and close), its postings, the new
    balances and the book head; or raise the rule book's refusal, having written nothing."""
    entry = prepare_entry(
        fund_id,
        postings,
        memo=memo,
        recorded_by=recorded_by,
        kind=kind,
        effective_at=effective_at,
        reference=reference,
    )
    row = await _call(session, _POST, entry.params())
    return _noted(session, entry.posted(row))


async def reverse_entry(
    session: AsyncSession,
    entry_id: int,
    *,
    memo: str,
    recorded_by: str,
    effective_at: datetime | None = None,
    owner: str | None = None,
) -> PostedEntry:
    """Post the mirror image of an entry (sides swapped), linked to it.

    owner: the kind of entry the calling record operation owns (e.g. "donation" for a
    void); None for a manual reversal, which the rule book allows of manual entries only.
    """
    instant = _instant(effective_at)
    params = dict(
        entry=entry_id, memo=memo, recorded_by=recorded_by, effective_at=instant, owner=owner
    )
    row = await _call(session, _REVERSE, params)
    original = (await session.execute(_ENTRY_OF, {"entry": entry_id})).one()
    posted = _posted(
        row,
        fund_id=original.fund_id,
        kind="reversal",
        memo=memo,
        recorded_by=recorded_by,
        reverses_id=entry_id,
    )
    return _noted(session, posted)


async def close_period(
    session: AsyncSession,
    fund_id: int,
    through: date,
    *,
    tz: ZoneInfo,
    recorded_by: str,
) -> PostedEntry | None:
    """Close the fund's books through the end of `through` (a day in tz): income and
    expense as of then move into net assets; None when there was nothing to move."""
    open_from = datetime.combine(through + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    params = dict(fund=fund_id, through=through, open_from=open_from, recorded_by=recorded_by)
    row = await _call(session, _CLOSE, params, optional=True)
    if row is None:
        return None
    memo = f"Period close through {through.isoformat()}"
    posted = _posted(row, fund_id=fund_id, kind="close", memo=memo, recorded_by=recorded_by)
    return _noted(session, posted)


def _noted(session: AsyncSession, entry: PostedEntry) -> PostedEntry:
    """Note the fund's new head on the session: its unit of work announces it to every
    worker after the commit (db/uow.py, db/announce.py)."""
    wrote(session.info.setdefault(WRITTEN_HEADS, {}), entry.fund_id, entry.sequence)
    return entry


def _posted(
    row,
    *,
    fund_id: int,
    kind: str,
    memo: str,
    recorded_by: str,
    reference: str | None = None,
    reverses_id: int | None = None,
) -> PostedEntry:
    """The entry as written: what the caller sent, and what the rule book's row says
    (a Row's mapping or an asyncpg Record alike)."""
    return PostedEntry(
        id=row["entry_id"],
        fund_id=fund_id,
        sequence=row["entry_sequence"],
        kind=kind,
        effective_at=row["entry_effective_at"],
        recorded_at=row["entry_recorded_at"],
        memo=memo,
        recorded_by=recorded_by,
        reference=reference,
        reverses_id=reverses_id,
        hash=row["entry_hash"],
        previous_hash=row["entry_previous_hash"],
    )


# ---------------------------------------------------------------- a caller's own statement


@dataclass(frozen=True, slots=True)
class PreparedEntry:
    """An ordinary entry's arguments for ledger_post, for a caller that sends the call
    inside a statement of its own (POST_CALL, positional: the hot path)."""

    fund_id: int
    kind: str
    effective_at: datetime | None
    memo: str
    recorded_by: str
    reference: str | None
    postings: tuple[PostingSpec, ...]

    def args(self) -> tuple:
        """ledger_post's arguments, $1 to $POST_ARGS."""
        return (
            self.fund_id,
            self.kind,
            self.effective_at,
            self.memo,
            self.recorded_by,
            self.reference,
            [p.account_code for p in self.postings],
            [p.side for p in self.postings],
            [p.amount_fen for p in self.postings],
            [p.currency for p in self.postings],
        )

    def params(self) -> dict:
        names = ("fund", "kind", "effective_at", "memo", "recorded_by", "reference")
        names += ("codes", "sides", "amounts", "currencies")
        return dict(zip(names, self.args(), strict=True))

    def posted(self, row) -> PostedEntry:
        """The entry as written, from the function's row (a Row or an asyncpg Record)."""
        return _posted(
            row,
            fund_id=self.fund_id,
            kind=self.kind,
            memo=self.memo,
            recorded_by=self.recorded_by,
            reference=self.reference,
        )


POST_ARGS = 10
# For `WITH posted AS (SELECT * FROM {POST_CALL}) ...`: the entry and, in the same
# statement, what the caller stores beside it. Columns as _RETURNS.
POST_CALL = f"ledger_post({', '.join(f'${i}' for i in range(1, POST_ARGS + 1))})"


def prepare_entry(
    fund_id: int,
    postings: Sequence[PostingSpec],
    *,
    memo: str,
    recorded_by: str,
    kind: str = "manual",
    effective_at: datetime | None = None,
    reference: str | None = None,
) -> PreparedEntry:
    """The arguments of an ordinary entry; only what SQL cannot see is checked here (a
    posting's Python type, an instant without an offset)."""
    postings = tuple(postings)
    for posting in postings:
        # bool is an int subclass; a float or Decimal here means a caller skipped to_fen.
        if type(posting.amount_fen) is not int:
            raise InvalidAmount("amounts are whole fen (int)", field="amount")
    return PreparedEntry(
        fund_id, kind, _instant(effective_at), memo, recorded_by, reference, postings
    )


def refusal_of(exc: BaseException) -> LedgerError | None:
    """The rule book's refusal carried by a database error (through SQLAlchemy or
    straight from asyncpg), as its typed error; None for any other error."""
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return None
        # The driver's own error (asyncpg's) carries the detail and hint, not
        # SQLAlchemy's wrapper of it.
        if getattr(seen, "sqlstate", None) == REFUSAL_STATE and hasattr(seen, "hint"):
            error = _REFUSALS.get(getattr(seen, "detail", None) or "", InvalidEntry)
            message = getattr(seen, "message", None) or str(seen)
            return error(message, field=getattr(seen, "hint", None) or None)
        seen = getattr(seen, "orig", None) or seen.__cause__
    return None


async def _call(session: AsyncSession, statement, params: dict, *, optional: bool = False):
    try:
        rows = (await session.execute(statement, params)).all()
    except DBAPIError as exc:
        refusal = refusal_of(exc)
        if refusal is None:
            raise
        raise refusal from None
    if not rows and not optional:  # pragma: no cover - the functions always return a row
        raise RuntimeError("the ledger wrote no entry and refused nothing")
    return rows[0]._mapping if rows else None


def _instant(effective_at: datetime | None) -> datetime | None:
    if effective_at is None:
        return None
    if not isinstance(effective_at, datetime) or effective_at.tzinfo is None:
        raise InvalidEntry("effectiveAt needs a time zone offset", field="effectiveAt")
    return effective_at.astimezone(UTC)
