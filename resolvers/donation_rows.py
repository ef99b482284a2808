"""The statements recordDonation sends, as few as its checks allow (the hot path).

One read before the ledger write answers every check that needs the database (the
fund, the idempotency key, an ONLINE payment already recorded under the same
channel reference). On PostgreSQL one more statement writes everything: the ledger
entry (ledger_post, which takes the fund's book lock), the donation, its key and the
partner's contribution; each of the two commits on its own, so a donation costs two
round trips and the book lock is held for the length of one statement. On SQLite the
same rows are written through SQLAlchemy in the unit of work's transaction.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession

from db.driver import HotStatement, pg_driver
from db.models import ContributionRow, DonationRow, FundRow
from ledger import idempotency, store
from ledger.entries import PostedEntry, PostingSpec
from ledger.errors import FundStatusChanged
from resolvers.errors import UseCaseError


@dataclass(frozen=True, slots=True)
class FundFacts:
    """What the donation checks need of a fund (a FundRow has the same attributes)."""

    id: int
    code: str
    status: str
    currency: str
    community_id: int | None


@dataclass(frozen=True, slots=True)
class RecordedDonation:
    """A donation as just written: the columns of its row (a DonationRow read back has
    the same attributes). A plain value, cheaper to build than an ORM row."""

    id: int
    fund_id: int
    campaign_id: int | None
    channel: str
    status: str
    amount_fen: int
    donor_name: str | None
    anonymous: bool
    partner_id: int | None
    external_ref: str | None
    online_ref: str | None
    description: str | None
    received_at: datetime
    entry_id: int
    recorded_by: str
    created_at: datetime
    refund_entry_id: int | None = None
    settled_entry_id: int | None = None


@dataclass(frozen=True, slots=True)
class Before:
    fund: FundFacts | None
    key: tuple[str, str, int] | None  # operation, fingerprint, result id
    online: tuple[int, int] | None  # id and fen of the donation with this ONLINE ref


# The fund id is cast to BIGINT: a hostile 18-digit id is then simply not found
# instead of overflowing the INTEGER parameter.
_BEFORE = HotStatement(
    """
    SELECT f.id, f.code, f.status, f.currency, f.community_id,
           k.operation, k.fingerprint, k.result_id,
           d.id, d.amount_fen
    FROM (SELECT 1 AS one) AS o
    LEFT JOIN funds AS f ON f.id = CAST(:fund AS BIGINT)
    LEFT JOIN idempotency_keys AS k ON k.key = :key
    LEFT JOIN donations AS d ON d.fund_id = f.id AND d.online_ref = :ref
    """
)


async def read_before(session: AsyncSession, fund_id: int, key: str, online_ref: str | None):
    """The fund, the key and the ONLINE payment, read in one statement, before any lock:
    a racing request that passes these checks too fails on a unique key at its write."""
    row = await _BEFORE.first(session, {"fund": fund_id, "key": key, "ref": online_ref})
    fund = FundFacts(*row[0:5]) if row[0] is not None else None
    if fund is not None:
        _remember_fund(session, fund)
    return Before(
        fund=fund,
        key=tuple(row[5:8]) if row[5] is not None else None,
        online=tuple(row[8:10]) if row[8] is not None else None,
    )


# Funds seen by read_before, per engine (database). A fund's id, code, currency and
# community never change once it is opened, and those are all the donation's checks
# need before the write but its status, which the write itself checks under the book
# lock. So a fund seen once needs no read before the write (PostgreSQL only: SQLite
# checks the status after writing, in its transaction).
_KNOWN_FUNDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_KNOWN_MAX = 10_000


def _remember_fund(session: AsyncSession, fund: FundFacts) -> None:
    engine = session.bind.sync_engine if session.bind is not None else None
    if engine is None or engine.dialect.name != "postgresql":
        return
    known = _KNOWN_FUNDS.setdefault(engine, {})
    if len(known) >= _KNOWN_MAX:
        known.clear()
    known[fund.id] = fund


def known_fund(session: AsyncSession, fund_id: int) -> FundFacts | None:
    """The fund as read_before last saw it (its status may have changed since); None
    for a fund not seen yet on this engine, and always on SQLite."""
    engine = session.bind.sync_engine if session.bind is not None else None
    known = _KNOWN_FUNDS.get(engine) if engine is not None else None
    return known.get(fund_id) if known is not None else None


_DONATION_COLUMNS = (
    "fund_id",
    "campaign_id",
    "channel",
    "status",
    "amount_fen",
    "donor_name",
    "anonymous",
    "partner_id",
    "external_ref",
    "online_ref",
    "description",
    "received_at",
    "entry_id",
    "recorded_by",
    "created_at",
)
_INSERT_DONATION = insert(DonationRow.__table__).returning(DonationRow.__table__.c.id)
_INSERT_CONTRIBUTION = insert(ContributionRow.__table__)
_FUND_STATUS = select(FundRow.__table__.c.status).where(FundRow.__table__.c.id == bindparam("id"))
OPERATION = "recordDonation"


async def record(
    session: AsyncSession,
    fund: FundFacts,
    postings: list[PostingSpec],
    *,
    memo: str,
    values: dict,
    key: str,
    fingerprint: str,
    contribution: dict | None,
) -> tuple[int, PostedEntry] | None:
    """Post the donation's entry and store the donation, its key and the partner's
    contribution (values: the donation's columns but entry_id); the new donation's id
    and the entry. On PostgreSQL, None when the key or the ONLINE ref is already taken
    (nothing is written; read again to find by whom).

    The fund's status was checked before the book lock, so it is checked again under
    it: a fund frozen or closed in between refuses the donation (FUND_NOT_OPEN) and
    nothing is written. (A closed fund must hold nothing.)
    """
    entry_args = dict(
        memo=memo,
        recorded_by=values["recorded_by"],
        kind="donation",
        effective_at=values["received_at"],
        reference=values["external_ref"],
    )
    driver = await pg_driver(session)
    if driver is not None:
        prepared = store.prepare_entry(values["fund_id"], postings, **entry_args)
        return await _record_pg(driver, fund, prepared, values, key, fingerprint, contribution)
    entry = await store.post_entry(session, values["fund_id"], postings, **entry_args)
    donation_id = await session.scalar(_INSERT_DONATION, values | {"entry_id": entry.id})
    await idempotency.remember(session, key, OPERATION, fingerprint, donation_id)
    status = await session.scalar(_FUND_STATUS, {"id": values["fund_id"]})
    if status != "OPEN":
        raise _not_open(fund, status)
    if contribution is not None:
        await session.execute(
            _INSERT_CONTRIBUTION,
            contribution
            | dict(
                occurred_at=values["received_at"],
                donation_id=donation_id,
                centihours=None,
                created_at=values["created_at"],
            ),
        )
    return donation_id, entry


def _not_open(fund: FundFacts, status: str | None) -> UseCaseError:
    return UseCaseError("FUND_NOT_OPEN", f"fund {fund.code} is {status}", field="fundId")


# ---------------------------------------------------------------- one statement (PostgreSQL)


def _casts(table, columns) -> dict[str, str]:
    """Each column's type for a parameter cast (INSERT ... SELECT gives parameters no
    type of their own); without a length, so that an over-long value fails rather than
    being cut short by the cast."""
    dialect = asyncpg_dialect()
    return {c: re.sub(r"\(\d+\)", "", table.c[c].type.compile(dialect=dialect)) for c in columns}


_P = store.POST_ARGS  # ledger_post's arguments come first: $1 to $14
_DONATION_CASTS = _casts(DonationRow.__table__, _DONATION_COLUMNS)
_CONTRIBUTION_COLUMNS = ("partner_id", "kind", "value_fen", "currency", "description")
_CONTRIBUTION_CASTS = _casts(ContributionRow.__table__, _CONTRIBUTION_COLUMNS)


def _param(n: int, cast: str) -> str:
    return f"${n}::{cast}"


# The donation's columns but entry_id, which comes from ledger_post.
_GIVEN = tuple(c for c in _DONATION_COLUMNS if c != "entry_id")
_D = {c: _param(_P + 1 + i, _DONATION_CASTS[c]) for i, c in enumerate(_GIVEN)}
_K = _P + len(_GIVEN)  # the key's three parameters follow the donation's
_C = {c: _param(_K + 4 + i, _CONTRIBUTION_CASTS[c]) for i, c in enumerate(_CONTRIBUTION_COLUMNS)}
_PG_RECORD = f"""
WITH posted AS MATERIALIZED (
    SELECT * FROM {store.POST_CALL}
    -- Checked before the call (a one-time filter): a key or ONLINE ref already
    -- taken costs no lock and no entry. Racing requests meet the unique keys.
    WHERE NOT EXISTS (SELECT 1 FROM idempotency_keys WHERE key = ${_K + 1}::varchar)
      AND NOT EXISTS (SELECT 1 FROM donations
                      WHERE fund_id = $1 AND online_ref = {_D["online_ref"]})
), donation AS (
    INSERT INTO donations ({", ".join(_DONATION_COLUMNS)})
    SELECT {", ".join("posted.entry_id" if c == "entry_id" else _D[c] for c in _DONATION_COLUMNS)}
    FROM posted WHERE posted.refusal IS NULL
    RETURNING id
), remembered AS (
    INSERT INTO idempotency_keys (key, operation, fingerprint, result_id, created_at)
    SELECT ${_K + 1}::varchar, ${_K + 2}::varchar, ${_K + 3}::varchar, donation.id,
           {_D["created_at"]}
    FROM donation
), contributed AS (
    INSERT INTO contributions ({", ".join(_CONTRIBUTION_COLUMNS)},
                               occurred_at, donation_id, created_at)
    SELECT {", ".join(_C[c] for c in _CONTRIBUTION_COLUMNS)},
           {_D["received_at"]}, donation.id, {_D["created_at"]}
    FROM donation WHERE {_C["partner_id"]} IS NOT NULL
)
SELECT posted.*, donation.id AS donation_id FROM posted LEFT JOIN donation ON true
"""


async def _record_pg(
    driver,
    fund: FundFacts,
    entry: store.PreparedEntry,
    values: dict,
    key: str,
    fingerprint: str,
    contribution: dict | None,
) -> tuple[int, PostedEntry] | None:
    """record() on PostgreSQL: one statement. ledger_post refuses the entry unless the
    fund is OPEN under the book lock (a freeze or close takes the same lock), and a
    refusal writes nothing."""
    contribution = contribution or {}
    row = await driver.fetchrow(
        _PG_RECORD,
        *entry.args(fund_status="OPEN"),
        *(values[c] for c in _GIVEN),
        key,
        OPERATION,
        fingerprint,
        *(contribution.get(c) for c in _CONTRIBUTION_COLUMNS),
    )
    if row is None:
        return None  # the key or the ONLINE ref is taken
    try:
        posted = store.posted_entry(entry, row)
    except FundStatusChanged as exc:
        raise _not_open(fund, exc.status) from exc
    return row["donation_id"], posted
