"""Writing the journal: books, entries, reversals, period close.

Every write to a fund goes through one lock, the fund's book row (ledger_books),
taken before anything of the fund is read for a decision. It serializes the
fund's gapless sequence, its hash chain, its balances and its guards, and since
it is always the first and only lock a ledger write takes, writers cannot
deadlock. On PostgreSQL it is SELECT ... FOR UPDATE, and every later statement reads
with a fresh snapshot (READ COMMITTED), so it sees what the previous holder committed.

On PostgreSQL an ordinary entry is written by one call of ledger_post (migration
0005): the lock, the account checks and guards, the sequence and hash chain, and the
writes all happen inside the database, so the lock is held for the length of one
statement instead of across round trips to this process. Python still checks the
draft first and encodes what the hash covers (ledger/entries.py); the function only
splices in the predecessor's hash and the sequence. A reversal, a period close and a
write that must keep available money need more than the function checks: they lock
with ledger_lock_book (migration 0004), decide here, and write in one statement. On
SQLite the unit of work already serializes writers (in-process lock + BEGIN
IMMEDIATE), and the ledger refuses to write outside such a unit of work rather than
rely on luck.

Nothing here commits: every function writes inside the caller's transaction, and
every refusal is raised (or, from ledger_post, returned) before the first write, so a
caller that catches one is left with an untouched transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from db.driver import pg_driver
from db.engine import WRITE_OPTION
from db.models import FundRow
from db.types import utcnow
from ledger.accounts import (
    CHART,
    EXPENSE_CODES,
    INCOME_CODES,
    NET_ASSET_CODES,
    NET_RESTRICTED,
    NET_UNRESTRICTED,
    normal_delta,
    positions,
)
from ledger.entries import (
    HashFrame,
    PostedEntry,
    PostingSpec,
    chain_hash,
    hash_frame,
    validate_draft,
)
from ledger.errors import (
    CurrencyMismatch,
    FundStatusChanged,
    InsufficientFunds,
    InvalidEntry,
    InvalidState,
    NotFound,
    PeriodClosed,
)
from ledger.money import SUPPORTED_CURRENCIES
from ledger.tables import AccountRow, BookRow, EntryRow, PostingRow

BOOKS = BookRow.__table__
ACCOUNTS = AccountRow.__table__
ENTRIES = EntryRow.__table__
POSTINGS = PostingRow.__table__

# Entries record what happened; an instant later than now (beyond clock skew) has not.
# This also keeps a stored balance equal to the balance as of now.
MAX_CLOCK_SKEW = timedelta(minutes=5)
ONE_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class _Head:
    currency: str
    restricted: bool
    last_sequence: int
    last_hash: str | None
    closed_through: date | None
    open_from: datetime | None


@dataclass(frozen=True)
class _Account:
    id: int
    code: str
    type: str
    normal_side: str
    currency: str
    guarded: bool
    balance_fen: int


# ---------------------------------------------------------------- books


async def open_book(
    session: AsyncSession, fund_id: int, *, currency: str = "CNY", restricted: bool = False
) -> None:
    """Create the fund's book and every account of the chart, all at zero."""
    conn = await _write_connection(session)
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
    """Take the fund's write lock (idempotent within a transaction) and return its head."""
    await _write_connection(session)
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
    reverses_id: int | None = None,
    keep_available: bool = False,
) -> PostedEntry:
    """Write one balanced entry, its postings, the new balances and the book head.

    Refused (nothing written): malformed draft, unknown account code, currency other
    than the account's, a posting to net assets (only period close moves them, so
    the statement identity holds), effective_at naive, in the future or in a closed
    period, a guarded account going below zero, or with keep_available a drop of
    available money below zero.
    """
    if kind == "close":
        raise InvalidEntry("closing entries are written by close_period", field="kind")
    if kind == "reversal" and reverses_id is None:
        raise InvalidEntry("a reversal names the entry it reverses", field="reversesId")
    return await _post(
        session,
        fund_id,
        postings,
        memo=memo,
        recorded_by=recorded_by,
        kind=kind,
        effective_at=effective_at,
        reference=reference,
        reverses_id=reverses_id,
        keep_available=keep_available,
    )


async def reverse_entry(
    session: AsyncSession,
    entry_id: int,
    *,
    memo: str,
    recorded_by: str,
    effective_at: datetime | None = None,
) -> PostedEntry:
    """Post the mirror image of an entry (sides swapped), linked to it.

    Refused: unknown entry (NotFound); a closing entry, an entry that is itself a
    reversal, or one already reversed (InvalidState; to undo a reversal, post the
    correct entry again); the original or the reversal in a closed period
    (PeriodClosed); a reversal dated before its original (InvalidEntry). Guards
    apply, and it may not drive available money below zero.
    """
    conn = await _write_connection(session)
    # Entries never change, so reading the original before the lock is safe; whether
    # it was already reversed is decided under the lock, in _post.
    fund_id = await conn.scalar(select(ENTRIES.c.fund_id).where(ENTRIES.c.id == entry_id))
    if fund_id is None:
        raise NotFound(f"entry {entry_id} does not exist", field="entryId")
    rows = await conn.execute(
        select(ACCOUNTS.c.code, POSTINGS.c.side, POSTINGS.c.amount_fen, POSTINGS.c.currency)
        .join(ACCOUNTS, ACCOUNTS.c.id == POSTINGS.c.account_id)
        .where(POSTINGS.c.entry_id == entry_id)
        .order_by(POSTINGS.c.id)
    )
    mirrored = [
        PostingSpec(code, "CREDIT" if side == "DEBIT" else "DEBIT", amount, currency)
        for code, side, amount, currency in rows
    ]
    return await _post(
        session,
        fund_id,
        mirrored,
        memo=memo,
        recorded_by=recorded_by,
        kind="reversal",
        effective_at=effective_at,
        reference=None,
        reverses_id=entry_id,
        keep_available=True,
    )


async def close_period(
    session: AsyncSession,
    fund_id: int,
    through: date,
    *,
    tz: ZoneInfo,
    recorded_by: str,
) -> PostedEntry | None:
    """Close the fund's books through the end of `through` (a day in tz).

    Posts a kind="close" entry at the last instant of that day moving every income
    and expense balance as of then into net assets (3102 if the book is restricted,
    else 3101); None when there was nothing to move. From then on entries and
    reversals effective on or before that day are refused (PeriodClosed). Refused
    with InvalidState: `through` not after the current closed_through, or a day
    that has not ended yet.
    """
    conn = await _write_connection(session)
    head, _ = await _lock(conn, await pg_driver(session), fund_id)
    if head.closed_through is not None and through <= head.closed_through:
        raise InvalidState(
            f"the books are already closed through {head.closed_through}", field="through"
        )
    open_from = datetime.combine(through + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    if open_from > utcnow():
        raise InvalidState(f"{through} has not ended yet", field="through")
    at = open_from - ONE_MICROSECOND

    from ledger.reports import balances_at  # reports reads what store writes

    balances = (await balances_at(session, [fund_id], at)).get(fund_id, {})
    postings: list[PostingSpec] = []
    net = 0  # credit to net assets
    for code in INCOME_CODES:  # credit-normal: a positive balance is closed by a debit
        balance = balances.get(code, 0)
        if balance:
            postings.append(_posting(code, "DEBIT", balance, head.currency))
            net += balance
    for code in EXPENSE_CODES:  # debit-normal: a positive balance is closed by a credit
        balance = balances.get(code, 0)
        if balance:
            postings.append(_posting(code, "CREDIT", balance, head.currency))
            net -= balance
    if net:
        target = NET_RESTRICTED if head.restricted else NET_UNRESTRICTED
        postings.append(_posting(target, "CREDIT", net, head.currency))

    entry = None
    if postings:
        entry = await _post(
            session,
            fund_id,
            postings,
            memo=f"Period close through {through.isoformat()}",
            recorded_by=recorded_by,
            kind="close",
            effective_at=at,
            reference=None,
            reverses_id=None,
            keep_available=False,
        )
    await conn.execute(
        update(BOOKS)
        .where(BOOKS.c.fund_id == fund_id)
        .values(closed_through=through, open_from=open_from)
    )
    return entry


def _posting(code: str, side: str, signed_amount: int, currency: str) -> PostingSpec:
    """A posting of |amount|, on the other side when the amount is negative."""
    if signed_amount < 0:
        side = "CREDIT" if side == "DEBIT" else "DEBIT"
    return PostingSpec(code, side, abs(signed_amount), currency)  # type: ignore[arg-type]


# ---------------------------------------------------------------- the write path


async def _post(
    session: AsyncSession,
    fund_id: int,
    postings: Sequence[PostingSpec],
    *,
    memo: str,
    recorded_by: str,
    kind: str,
    effective_at: datetime | None,
    reference: str | None,
    reverses_id: int | None,
    keep_available: bool,
) -> PostedEntry:
    postings = tuple(postings)
    validate_draft(postings, memo=memo, recorded_by=recorded_by, kind=kind, reference=reference)
    recorded_at = utcnow()
    effective_at = _effective_instant(effective_at, recorded_at)
    conn = await _write_connection(session)
    # PostgreSQL: the write path goes straight to the driver, inside the same
    # transaction. An ordinary entry is one call of ledger_post (lock, checks and
    # writes in the database); a reversal, a close or a write that must keep available
    # money needs more than that function checks: a lock, one read and one write.
    driver = await pg_driver(session)
    if driver is not None and reverses_id is None and not keep_available and kind != "close":
        prepared = _prepared(
            fund_id, postings, memo, recorded_by, kind, effective_at, recorded_at, reference
        )
        return posted_entry(prepared, await driver.fetchrow(POST_STATEMENT, *prepared.args()))

    # The lock, then the fund's accounts (16 rows) with their balances: everything
    # read after the lock is current for this fund. One round trip on PostgreSQL.
    head, accounts = await _lock(conn, driver, fund_id)
    if head.open_from is not None and effective_at < head.open_from:
        raise PeriodClosed(
            f"the books are closed through {head.closed_through}", field="effectiveAt"
        )
    if reverses_id is not None:
        await _check_reversible(conn, fund_id, reverses_id, head, effective_at)

    deltas: dict[str, int] = defaultdict(int)
    posting_rows: list[dict] = []
    for posting in postings:
        account = accounts.get(posting.account_code)
        if account is None:
            raise InvalidEntry(
                f"fund {fund_id} has no account {posting.account_code!r}", field="accountCode"
            )
        if posting.currency != account.currency:
            raise CurrencyMismatch(
                f"account {account.code} is kept in {account.currency}, not {posting.currency}",
                field="currency",
            )
        if account.code in NET_ASSET_CODES and kind != "close":
            raise InvalidEntry(
                f"net assets ({account.code}) move only by period close", field="accountCode"
            )
        delta = normal_delta(account.normal_side, posting.side, posting.amount_fen)
        deltas[account.code] += delta
        posting_rows.append(
            {
                "account_id": account.id,
                "side": posting.side,
                "amount_fen": posting.amount_fen,
                "currency": posting.currency,
                "effective_at": effective_at,
                "normal_delta_fen": delta,
            }
        )

    after = {code: accounts[code].balance_fen + delta for code, delta in deltas.items()}
    for code, balance in after.items():
        if balance < 0 and accounts[code].guarded:
            raise InsufficientFunds(
                f"account {code} holds {accounts[code].balance_fen} fen; "
                f"this entry would take it to {balance}",
                field="amount",
            )
    if keep_available:
        current = {code: account.balance_fen for code, account in accounts.items()}
        before_available = positions(current).available
        after_available = positions(current | after).available
        # Only an entry that lowers available money can be blamed for it being short.
        if after_available < 0 and after_available < before_available:
            raise InsufficientFunds(
                f"available money is {before_available} fen; this entry needs "
                f"{before_available - after_available}",
                field="amount",
            )

    sequence = head.last_sequence + 1
    frame = _frame(
        fund_id,
        postings,
        memo,
        recorded_by,
        kind,
        effective_at,
        recorded_at,
        reference,
        reverses_id,
    )
    digest = chain_hash(frame, head.last_hash, sequence)
    values = {
        "fund_id": fund_id,
        "sequence": sequence,
        "kind": kind,
        "effective_at": effective_at,
        "recorded_at": recorded_at,
        "memo": memo,
        "recorded_by": recorded_by,
        "reference": reference,
        "reverses_id": reverses_id,
        "hash": digest,
        "previous_hash": head.last_hash,
    }
    moves = [(accounts[code].id, delta) for code, delta in deltas.items() if delta != 0]
    if driver is not None:
        entry_id = await _write_pg(driver, values, posting_rows, moves, head.last_sequence)
    else:
        entry_id = await _write_portable(conn, values, posting_rows, moves, head.last_sequence)
    return PostedEntry(id=entry_id, **values)


# ---------------------------------------------------------------- one statement (PostgreSQL)


@dataclass(frozen=True, slots=True)
class PreparedEntry:
    """An ordinary entry (not a reversal or a close, no available-money check), checked
    on its face and encoded for its hash, ready for ledger_post (migration 0005), which
    does the rest under the book lock in one statement."""

    fund_id: int
    kind: str
    effective_at: datetime
    recorded_at: datetime
    memo: str
    recorded_by: str
    reference: str | None
    postings: tuple[PostingSpec, ...]
    frame: HashFrame

    def args(self, fund_status: str | None = None) -> tuple:
        """ledger_post's arguments, $1 to $POST_ARGS; with fund_status, the write is
        refused (FundStatusChanged) unless the fund has that status under the lock."""
        return (
            self.fund_id,
            self.kind,
            self.effective_at,
            self.recorded_at,
            self.memo,
            self.recorded_by,
            self.reference,
            [p.account_code for p in self.postings],
            [p.side for p in self.postings],
            [p.amount_fen for p in self.postings],
            [p.currency for p in self.postings],
            self.frame.head.decode(),
            self.frame.tail.decode(),
            fund_status,
        )


POST_ARGS = 14
# The call, for a caller's own statement: `WITH posted AS (SELECT * FROM {POST_CALL})
# ...` writes the entry and, in the same statement, what the caller stores beside it.
# Its columns: entry_id, entry_sequence, entry_hash, entry_previous_hash, refusal,
# refusal_field, refusal_message.
POST_CALL = f"ledger_post({', '.join(f'${i}' for i in range(1, POST_ARGS + 1))})"
POST_STATEMENT = f"SELECT * FROM {POST_CALL}"
_REFUSALS = {
    "NotFound": NotFound,
    "InvalidEntry": InvalidEntry,
    "CurrencyMismatch": CurrencyMismatch,
    "InsufficientFunds": InsufficientFunds,
    "PeriodClosed": PeriodClosed,
}


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
    """post_entry's checks that need no database, for a caller that sends ledger_post
    inside a statement of its own (PostgreSQL only)."""
    if kind in ("close", "reversal"):
        raise InvalidEntry(f"a {kind} entry is not posted by ledger_post", field="kind")
    postings = tuple(postings)
    validate_draft(postings, memo=memo, recorded_by=recorded_by, kind=kind, reference=reference)
    recorded_at = utcnow()
    effective_at = _effective_instant(effective_at, recorded_at)
    return _prepared(
        fund_id, postings, memo, recorded_by, kind, effective_at, recorded_at, reference
    )


def _prepared(
    fund_id: int,
    postings: tuple[PostingSpec, ...],
    memo: str,
    recorded_by: str,
    kind: str,
    effective_at: datetime,
    recorded_at: datetime,
    reference: str | None,
) -> PreparedEntry:
    frame = _frame(
        fund_id, postings, memo, recorded_by, kind, effective_at, recorded_at, reference, None
    )
    return PreparedEntry(
        fund_id, kind, effective_at, recorded_at, memo, recorded_by, reference, postings, frame
    )


def _frame(
    fund_id: int,
    postings: Sequence[PostingSpec],
    memo: str,
    recorded_by: str,
    kind: str,
    effective_at: datetime,
    recorded_at: datetime,
    reference: str | None,
    reverses_id: int | None,
) -> HashFrame:
    return hash_frame(
        fund_id=fund_id,
        effective_at=effective_at,
        recorded_at=recorded_at,
        recorded_by=recorded_by,
        memo=memo,
        kind=kind,
        reference=reference,
        reverses_id=reverses_id,
        postings=[(p.account_code, p.side, p.amount_fen, p.currency) for p in postings],
    )


def posted_entry(prepared: PreparedEntry, row) -> PostedEntry:
    """The entry ledger_post wrote, from its row; or its refusal, raised."""
    if row["refusal"] is not None:
        if row["refusal"] == "FundStatus":
            raise FundStatusChanged(row["refusal_message"])
        raise _REFUSALS[row["refusal"]](row["refusal_message"], field=row["refusal_field"])
    return PostedEntry(
        id=row["entry_id"],
        fund_id=prepared.fund_id,
        sequence=row["entry_sequence"],
        kind=prepared.kind,
        effective_at=prepared.effective_at,
        recorded_at=prepared.recorded_at,
        memo=prepared.memo,
        recorded_by=prepared.recorded_by,
        reference=prepared.reference,
        reverses_id=None,
        hash=row["entry_hash"],
        previous_hash=row["entry_previous_hash"],
    )


# ---------------------------------------------------------------- several statements


async def _write_portable(
    conn: AsyncConnection,
    values: dict,
    posting_rows: list[dict],
    moves: list[tuple[int, int]],
    last_sequence: int,
) -> int:
    """Entry, postings, balances and head as four Core statements (SQLite)."""
    entry_id = await conn.scalar(insert(ENTRIES).values(values).returning(ENTRIES.c.id))
    await conn.execute(insert(POSTINGS), [row | {"entry_id": entry_id} for row in posting_rows])
    if moves:
        await conn.execute(
            _UPDATE_BALANCE, [{"_id": account_id, "_delta": delta} for account_id, delta in moves]
        )
    moved = await conn.execute(
        update(BOOKS)
        .where(BOOKS.c.fund_id == values["fund_id"], BOOKS.c.last_sequence == last_sequence)
        .values(last_sequence=values["sequence"], last_hash=values["hash"])
    )
    if moved.rowcount != 1:  # pragma: no cover - only if someone wrote without the lock
        raise RuntimeError(f"book of fund {values['fund_id']} moved while locked")
    return entry_id


async def _write_pg(
    driver,
    values: dict,
    posting_rows: list[dict],
    moves: list[tuple[int, int]],
    last_sequence: int,
) -> int:
    """Entry, postings, balances and head in one statement (one round trip)."""
    row = await driver.fetchrow(
        _PG_WRITE,
        values["fund_id"],
        values["sequence"],
        values["kind"],
        values["effective_at"],
        values["recorded_at"],
        values["memo"],
        values["recorded_by"],
        values["reference"],
        values["reverses_id"],
        values["hash"],
        values["previous_hash"],
        [p["account_id"] for p in posting_rows],
        [p["side"] for p in posting_rows],
        [p["amount_fen"] for p in posting_rows],
        [p["currency"] for p in posting_rows],
        [p["normal_delta_fen"] for p in posting_rows],
        [account_id for account_id, _ in moves],
        [delta for _, delta in moves],
        last_sequence,
    )
    if row["head_moved"] != 1:  # pragma: no cover - only if someone wrote without the lock
        raise RuntimeError(f"book of fund {values['fund_id']} moved while locked")
    return row["id"]


# ledger_lock_book (migration 0004): the lock, then the accounts as of after it.
_PG_LOCK = "SELECT * FROM ledger_lock_book($1)"


# Postings keep their order (ids follow WITH ORDINALITY): the hash covers posting order.
_PG_WRITE = """
WITH entry AS (
    INSERT INTO journal_entries (fund_id, sequence, kind, effective_at, recorded_at, memo,
                                 recorded_by, reference, reverses_id, hash, previous_hash)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
    RETURNING id
), posted AS (
    INSERT INTO postings (entry_id, account_id, side, amount_fen, currency, effective_at,
                          normal_delta_fen)
    SELECT entry.id, p.account_id, p.side, p.amount_fen, p.currency, $4, p.delta
    FROM entry,
         unnest($12::int[], $13::text[], $14::bigint[], $15::text[], $16::bigint[])
             WITH ORDINALITY AS p(account_id, side, amount_fen, currency, delta, n)
    ORDER BY p.n
), balances AS (
    UPDATE ledger_accounts AS a SET balance_fen = a.balance_fen + m.delta
    FROM unnest($17::int[], $18::bigint[]) AS m(id, delta)
    WHERE a.id = m.id
), head AS (
    UPDATE ledger_books SET last_sequence = $2, last_hash = $10
    WHERE fund_id = $1 AND last_sequence = $19
    RETURNING fund_id
)
SELECT entry.id, (SELECT count(*) FROM head) AS head_moved FROM entry
"""


# Relative update: correct even if a balance were read stale; the book lock makes the
# guard check (on the value read) exact, and the CHECK constraint backs the guard.
_UPDATE_BALANCE = (
    update(ACCOUNTS)
    .where(ACCOUNTS.c.id == bindparam("_id"))
    .values(balance_fen=ACCOUNTS.c.balance_fen + bindparam("_delta"))
)


async def _write_connection(session: AsyncSession) -> AsyncConnection:
    conn = await session.connection()
    # SQLite has one writer at a time; the write unit of work queues writers explicitly.
    if conn.dialect.name == "sqlite" and not conn.sync_connection.get_execution_options().get(
        WRITE_OPTION
    ):
        raise RuntimeError("ledger writes on SQLite must run in unit_of_work(engine, write=True)")
    return conn


async def _lock(conn: AsyncConnection, driver, fund_id: int) -> tuple[_Head, dict[str, _Account]]:
    """Take the fund's book lock; its head and its accounts as of after the lock."""
    if driver is not None:
        if not driver.is_in_transaction():
            # A lock outside a transaction would end with its own statement.
            raise RuntimeError("the book lock needs a transaction: not unit_of_work(one_write)")
        rows = await driver.fetch(_PG_LOCK, fund_id)
        if not rows:
            raise NotFound(f"fund {fund_id} has no book", field="fundId")
        return _Head(*rows[0][:6]), {row[7]: _Account(*row[6:]) for row in rows}
    row = (
        await conn.execute(
            select(
                BOOKS.c.currency,
                BOOKS.c.restricted,
                BOOKS.c.last_sequence,
                BOOKS.c.last_hash,
                BOOKS.c.closed_through,
                BOOKS.c.open_from,
            )
            .where(BOOKS.c.fund_id == fund_id)
            .with_for_update()
        )
    ).first()
    if row is None:
        raise NotFound(f"fund {fund_id} has no book", field="fundId")
    accounts = await conn.execute(
        select(
            ACCOUNTS.c.id,
            ACCOUNTS.c.code,
            ACCOUNTS.c.type,
            ACCOUNTS.c.normal_side,
            ACCOUNTS.c.currency,
            ACCOUNTS.c.guarded,
            ACCOUNTS.c.balance_fen,
        ).where(ACCOUNTS.c.fund_id == fund_id)
    )
    return _Head(*row), {account[1]: _Account(*account) for account in accounts}


async def _check_reversible(
    conn: AsyncConnection, fund_id: int, entry_id: int, head: _Head, effective_at: datetime
) -> None:
    original = (
        await conn.execute(
            select(
                ENTRIES.c.fund_id, ENTRIES.c.kind, ENTRIES.c.reverses_id, ENTRIES.c.effective_at
            ).where(ENTRIES.c.id == entry_id)
        )
    ).first()
    if original is None:
        raise NotFound(f"entry {entry_id} does not exist", field="reversesId")
    if original.fund_id != fund_id:
        raise InvalidEntry(f"entry {entry_id} belongs to another fund", field="reversesId")
    if original.kind == "close":
        raise InvalidState("a closing entry cannot be reversed", field="entryId")
    if original.reverses_id is not None:
        raise InvalidState(
            "a reversal cannot be reversed; post the correct entry again", field="entryId"
        )
    if head.open_from is not None and original.effective_at < head.open_from:
        raise PeriodClosed(
            f"entry {entry_id} is in a period closed through {head.closed_through}",
            field="entryId",
        )
    if effective_at < original.effective_at:
        raise InvalidEntry(
            "a reversal cannot be effective before the entry it reverses", field="effectiveAt"
        )
    reversed_by = await conn.scalar(select(ENTRIES.c.id).where(ENTRIES.c.reverses_id == entry_id))
    if reversed_by is not None:
        raise InvalidState(
            f"entry {entry_id} was already reversed by entry {reversed_by}", field="entryId"
        )


def _effective_instant(effective_at: datetime | None, now: datetime) -> datetime:
    if effective_at is None:
        return now
    if not isinstance(effective_at, datetime) or effective_at.tzinfo is None:
        raise InvalidEntry("effectiveAt needs a time zone offset", field="effectiveAt")
    if effective_at > now + MAX_CLOCK_SKEW:
        raise InvalidEntry("effectiveAt is in the future", field="effectiveAt")
    return effective_at.astimezone(UTC)
