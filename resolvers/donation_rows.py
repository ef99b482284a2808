"""The statements recordDonation sends, as few as its checks allow (the hot path).

One read before the ledger write answers every check that needs the database (the
fund, the idempotency key, an ONLINE payment already recorded under the same
channel reference); one write after it stores the donation and its key. On
PostgreSQL both go straight to the driver; on SQLite they run through SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.driver import HotStatement, pg_driver
from db.models import DonationRow, FundRow
from ledger import idempotency
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
_N = len(_DONATION_COLUMNS)
# The donation and the key that names it, in one round trip (the key's created_at is
# the donation's, the last column), and the fund's status as of now: this statement
# runs under the book lock, which a freeze or close holds while it changes the status.
_PG_INSERT = f"""
WITH donation AS (
    INSERT INTO donations ({", ".join(_DONATION_COLUMNS)})
    VALUES ({", ".join(f"${i + 1}" for i in range(_N))})
    RETURNING id
), remembered AS (
    INSERT INTO idempotency_keys (key, operation, fingerprint, result_id, created_at)
    SELECT ${_N + 1}, ${_N + 2}, ${_N + 3}, donation.id, ${_N} FROM donation
)
SELECT donation.id, funds.status FROM donation JOIN funds ON funds.id = $1
"""
_INSERT_DONATION = insert(DonationRow.__table__).returning(DonationRow.__table__.c.id)
_FUND_STATUS = select(FundRow.__table__.c.status).where(FundRow.__table__.c.id == bindparam("id"))


async def insert_donation(
    session: AsyncSession, values: dict, *, key: str, operation: str, fingerprint: str
) -> int:
    """Store the donation and remember the key with its id; the new donation's id.

    Called after the ledger entry, under the fund's book lock. The fund's status was
    checked before the lock, so it is checked again here: a fund frozen or closed in
    between refuses the donation (FUND_NOT_OPEN), and the unit of work rolls back the
    entry with it. (A closed fund must hold nothing.)
    """
    driver = await pg_driver(session)
    if driver is not None:
        donation_id, status = await driver.fetchrow(
            _PG_INSERT, *(values[c] for c in _DONATION_COLUMNS), key, operation, fingerprint
        )
    else:
        donation_id = await session.scalar(_INSERT_DONATION, values)
        await idempotency.remember(session, key, operation, fingerprint, donation_id)
        status = await session.scalar(_FUND_STATUS, {"id": values["fund_id"]})
    if status != "OPEN":
        raise UseCaseError("FUND_NOT_OPEN", f"the fund became {status} meanwhile", field="fundId")
    return donation_id
