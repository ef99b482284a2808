"""The statements recordDonation sends, as few as its checks allow (the hot path):
the donations repository.

One read before the ledger write answers every check that needs the database (the
fund, the idempotency key, an ONLINE payment already recorded under the same
channel reference). One more statement writes everything: the ledger entry
(ledger_post, which takes the fund's book lock and applies the rule book), the
donation, its key and the partner's contribution; it commits on its own, so the book
lock is held for the length of one statement. Then the fund's new head and the
campaign are announced to every worker (db/announce.py, by db/uow.one_statement). A
donation into a fund (and campaign, partner) seen before skips the read (see
resolvers/donation_rows.py): one round trip.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ContributionRow, DonationRow
from db.uow import OneStatement
from ledger import store
from ledger.entries import PostedEntry, PostingSpec


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
    # Whether the write's own announcement (db/uow.one_statement) told the live feed.
    announced: bool = False


@dataclass(frozen=True, slots=True)
class Before:
    fund: FundFacts | None
    key: tuple[str, str, int] | None  # operation, fingerprint, result id
    online: tuple[int, int] | None  # id and fen of the donation with this ONLINE ref


# The fund id is cast to BIGINT: a hostile 18-digit id is then simply not found
# instead of overflowing the INTEGER parameter.
_BEFORE = text(
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
    params = {"fund": fund_id, "key": key, "ref": online_ref}
    row = (await session.execute(_BEFORE, params)).one()
    return Before(
        fund=FundFacts(*row[0:5]) if row[0] is not None else None,
        key=tuple(row[5:8]) if row[5] is not None else None,
        online=tuple(row[8:10]) if row[8] is not None else None,
    )


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
OPERATION = "recordDonation"


@dataclass(frozen=True, slots=True)
class Draft:
    """A donation ready to write: its entry's postings and memo, the donation's columns
    but entry_id, and the partner's contribution, if a partner gave it."""

    postings: list[PostingSpec]
    memo: str
    values: dict
    contribution: dict | None

    def entry_args(self) -> dict:
        return dict(
            memo=self.memo,
            recorded_by=self.values["recorded_by"],
            kind="donation",
            effective_at=self.values["received_at"],
            reference=self.values["external_ref"],
        )


# ---------------------------------------------------------------- the one statement


def _casts(table, columns) -> dict[str, str]:
    """Each column's type for a parameter cast (INSERT ... SELECT gives parameters no
    type of their own); without a length, so that an over-long value fails rather than
    being cut short by the cast."""
    dialect = asyncpg_dialect()
    return {c: re.sub(r"\(\d+\)", "", table.c[c].type.compile(dialect=dialect)) for c in columns}


_P = store.POST_ARGS  # ledger_post's arguments come first
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
_RECORD = f"""
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
    FROM posted
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
SELECT posted.*, donation.id AS donation_id
FROM posted LEFT JOIN donation ON true
"""


async def record(
    conn: OneStatement, fund: FundFacts, draft: Draft, *, key: str, fingerprint: str
) -> tuple[int, PostedEntry, bool] | None:
    """Post the donation's entry and store the donation, its key and the partner's
    contribution, in one statement that commits on its own; the new donation's id, the
    entry, and whether the live feed is told (it is, after the commit, when a campaign
    is named: one_statement announces it with the fund's new head). None when the key
    or the ONLINE ref is already taken: nothing is written (read again to find by whom).
    A refusal of the rule book (a fund frozen or closed meanwhile, say) is raised as its
    LedgerError, and nothing is written."""
    entry = store.prepare_entry(fund.id, draft.postings, **draft.entry_args())
    contribution = draft.contribution or {}
    try:
        row = await conn.fetchrow(
            _RECORD,
            *entry.args(),
            *(draft.values[c] for c in _GIVEN),
            key,
            OPERATION,
            fingerprint,
            *(contribution.get(c) for c in _CONTRIBUTION_COLUMNS),
        )
    except asyncpg.PostgresError as exc:
        refusal = store.refusal_of(exc)
        if refusal is None:
            raise
        raise refusal from None
    if row is None:
        return None  # the key or the ONLINE ref is taken
    posted = entry.posted(row)
    campaign = draft.values["campaign_id"]
    conn.wrote(fund.id, posted.sequence, campaign)  # the live board hears of the campaign
    return row["donation_id"], posted, campaign is not None
