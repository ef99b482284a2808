"""Reads of the lists staff page through (the dashboard's funds, balances, donations
and campaigns): one hand-written statement each on a bare pooled connection.

A DataLoader batch reads with one statement, which sees one snapshot on its own: an
ORM session around it would add a BEGIN and a COMMIT and build ORM rows, which cost
more CPU than the statement. Rows come back as asyncpg records whose columns read as
attributes too, like the ORM and Core rows they stand in for. What a viewer may see
is still decided on these rows by the viewer-scoped loaders (resolvers/loaders_visible.py).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

import asyncpg

from db.models import CampaignRow, DonationRow
from ledger.tables import AccountRow


def _record_class(name: str, table: Any) -> type[asyncpg.Record]:
    """A record class with one property per column of `table` (a C-level getter, as
    fast as an attribute of a Core row)."""
    columns = {c.name: property(itemgetter(c.name)) for c in table.c}
    return type(name, (asyncpg.Record,), columns)


DonationRecord = _record_class("DonationRecord", DonationRow.__table__)
CampaignRecord = _record_class("CampaignRecord", CampaignRow.__table__)
_DONATION_COLUMNS = ", ".join(c.name for c in DonationRow.__table__.c)
_CAMPAIGN_NAMES = tuple(c.name for c in CampaignRow.__table__.c)
_CAMPAIGN_COLUMNS = ", ".join(_CAMPAIGN_NAMES)
# A page's donations come with their campaigns' columns, named campaign__<column>.
_JOINED = tuple(f"campaign__{name}" for name in _CAMPAIGN_NAMES)
_JOINED_COLUMNS = ", ".join(
    f"c.{name} AS {alias}" for name, alias in zip(_CAMPAIGN_NAMES, _JOINED, strict=True)
)
JoinedCampaign = namedtuple("JoinedCampaign", _CAMPAIGN_NAMES)  # reads like a CampaignRow


async def campaigns_by_id(conn: asyncpg.Connection, ids: Sequence[int]) -> list[Any]:
    return await conn.fetch(
        f"SELECT {_CAMPAIGN_COLUMNS} FROM campaigns WHERE id = ANY($1::int[])",
        list(ids),
        record_class=CampaignRecord,
    )


async def balances_for_funds(
    conn: asyncpg.Connection, fund_ids: Sequence[int]
) -> dict[int, dict[str, int]]:
    """Stored balances by fund and account code; a fund without a book maps to {}."""
    result: dict[int, dict[str, int]] = {fund_id: {} for fund_id in fund_ids}
    rows = await conn.fetch(
        f"SELECT fund_id, code, balance_fen FROM {AccountRow.__tablename__} "
        "WHERE fund_id = ANY($1::int[])",
        list(fund_ids),
    )
    for fund_id, code, balance in rows:
        result[fund_id][code] = balance
    return result


@dataclass(frozen=True)
class DonationFilter:
    """Which donations a list shows: those matching every field that is set (an empty
    string is not set). Hashable: DataLoader keys hold it."""

    channel: str | None = None
    status: str | None = None
    campaign_id: int | None = None
    partner_id: int | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None


@dataclass(frozen=True)
class DonationSlice:
    """Which donations of each fund a page reads: at most `limit` per fund, in the
    list's order (newest first: received_at, then id) or, `oldest_first`, the other
    way; strictly after `after` and before `before` in the list's order (each a
    (received_at, id) key, or None); matching `where`."""

    limit: int
    oldest_first: bool = False
    after: tuple[datetime, int] | None = None
    before: tuple[datetime, int] | None = None
    where: DonationFilter = DonationFilter()
    with_campaigns: bool = False  # each row also carries its campaign's columns


_FILTERS = (
    ("channel", "channel = {}"),
    ("status", "status = {}"),
    ("campaign_id", "campaign_id = {}"),
    ("partner_id", "partner_id = {}"),
    ("received_from", "received_at >= {}"),
    ("received_to", "received_at <= {}"),
)


async def donation_pages(
    conn: asyncpg.Connection, fund_ids: Sequence[int], part: DonationSlice
) -> list[Any]:
    """Every fund's slice in one statement, each fund's rows in page order: per fund,
    a LATERAL subquery that walks the fund's index (fund_id, received_at, id) from the
    page's end and stops after `limit` rows, so a page costs the same whether the fund
    holds a hundred donations or a hundred thousand. With each donation's campaign
    columns when the slice asks (see joined_campaigns), so that a page that shows its
    campaigns needs no second statement."""
    params: list[Any] = [list(dict.fromkeys(fund_ids)), part.limit]  # each fund once
    where = ["fund_id = f.id"]

    def param(value: Any) -> str:
        params.append(value)
        return f"${len(params)}"

    for name, condition in _FILTERS:
        value = getattr(part.where, name)
        if value is not None and value != "":
            where.append(condition.format(param(value)))
    # Cursors are keys in the list's own order, newest first, whichever way it pages.
    if part.after is not None:
        where.append(f"(received_at, id) < ({param(part.after[0])}, {param(part.after[1])})")
    if part.before is not None:
        where.append(f"(received_at, id) > ({param(part.before[0])}, {param(part.before[1])})")
    way = "" if part.oldest_first else " DESC"
    joined = (
        (f", {_JOINED_COLUMNS}", "LEFT JOIN campaigns AS c ON c.id = page.campaign_id ")
        if part.with_campaigns
        else ("", "")
    )
    query = (
        f"SELECT page.*{joined[0]} FROM unnest($1::int[]) WITH ORDINALITY AS f(id, n) "
        f"CROSS JOIN LATERAL (SELECT {_DONATION_COLUMNS} FROM donations "
        f"WHERE {' AND '.join(where)} ORDER BY received_at{way}, id{way} LIMIT $2) AS page "
        f"{joined[1]}ORDER BY f.n, page.received_at{way}, page.id{way}"
    )
    return await conn.fetch(query, *params, record_class=DonationRecord)


def joined_campaigns(rows: Sequence[Any]) -> dict[int, JoinedCampaign]:
    """The campaigns of donation_pages' rows (read with_campaigns), each once, by id."""
    found: dict[int, JoinedCampaign] = {}
    for row in rows:
        campaign_id = row["campaign_id"]
        if campaign_id is not None and campaign_id not in found:
            found[campaign_id] = JoinedCampaign(*(row[name] for name in _JOINED))
    return found
