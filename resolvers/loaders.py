"""Per-request DataLoaders: every relationship is read in batches, one statement per
batch, each batch in its own short read session (never one shared between fields
that resolve concurrently)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import cached_property
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.dataloader import DataLoader

from db import reads
from db.engine import driver_connection
from db.models import (
    CampaignRow,
    CashCountRow,
    CommunityRow,
    ContributionRow,
    DisbursementRow,
    DonationRow,
    FundRow,
    GridRow,
    PartnerRow,
    PartnershipRow,
    SubdistrictRow,
    UserRow,
)
from db.types import utcnow
from db.uow import read_session
from ledger import reports
from ledger.tables import AccountRow, EntryRow, PostingRow
from resolvers.donations import DonationQuery
from resolvers.pagination import (
    OrderKey,
    Page,
    PageArgs,
    decode_cursor,
    pages_by_parent,
    paginate_many,
)
from resolvers.partners import visible_partnerships


class Loader(DataLoader):
    """Strawberry's DataLoader, with two changes.

    The future of a load is shared by every field that asks for its key (the cache),
    so a field whose task is cancelled (graphql-core cancels the siblings of a field
    that failed) must not cancel it for the others: a pending load is handed out
    shielded, and the others still get their answer rather than CancelledError.

    load_many awaits its keys one after the other rather than gathering them: the
    keys of a batch complete together, so after the first await the others are done,
    and gather's callback and future per key (a list page asks for dozens) are saved.
    A failure raises as gather raises it."""

    def load(self, key: Any) -> Awaitable[Any]:
        future = DataLoader.load(self, key)
        return future if future.done() else asyncio.shield(future)

    def load_many(self, keys: Iterable[Any]) -> Awaitable[list[Any]]:
        return _each([DataLoader.load(self, key) for key in keys])


async def _each(futures: list[asyncio.Future]) -> list[Any]:
    try:
        return [f.result() if f.done() else await asyncio.shield(f) for f in futures]
    except BaseException:
        # The batch's other failures count as seen, as gather counts them: no
        # "exception was never retrieved" in the log.
        for future in futures:
            if future.done() and not future.cancelled():
                future.exception()
        raise


NOT_HELD = object()


def held(loader: DataLoader, key: Any) -> Any:
    """What `loader` holds for `key` from a load that completed, or NOT_HELD: a field
    whose data a list preloaded answers it without an await (and a failed load is
    awaited again by the field, which reports it at its own path)."""
    future = loader.cache_map.get(key) if loader.cache else None
    if future is None or not future.done() or future.cancelled() or future.exception():
        return NOT_HELD
    return future.result()


def BY_ID(model):
    return [OrderKey(model.id)]


def _counting(partner_ids: Sequence[int]) -> tuple:
    """The partners' contributions that count, with DonationRow outer-joined: a refunded
    or voided donation is no longer a contribution."""
    return (
        ContributionRow.partner_id.in_(partner_ids),
        or_(DonationRow.id.is_(None), DonationRow.status.notin_(("REFUNDED", "VOIDED"))),
    )


DONATION_ORDER = [
    OrderKey(DonationRow.received_at, descending=True),
    OrderKey(DonationRow.id, descending=True),
]


def _parents_by_rest(keys: Sequence[tuple]) -> dict[tuple, list[Any]]:
    """Page loader keys (parent, PageArgs[, filter]) grouped by all but the parent: one
    statement per group reads the pages of all its parents."""
    groups: dict[tuple, list[Any]] = defaultdict(list)
    for key in keys:
        groups[key[1:]].append(key[0])
    return groups


def _donation_slice(
    args: PageArgs, query: DonationQuery | None = None, with_campaigns: bool = False
) -> reads.DonationSlice:
    """What db/reads.py reads for one page of donations of each fund."""
    after = decode_cursor(args.after, DONATION_ORDER, "after") if args.after else None
    before = decode_cursor(args.before, DONATION_ORDER, "before") if args.before else None
    q = query or DonationQuery()
    return reads.DonationSlice(
        limit=args.size + 1,
        oldest_first=args.backwards,
        after=tuple(after) if after else None,
        before=tuple(before) if before else None,
        where=q,
        with_campaigns=with_campaigns,
    )


class Loaders:
    """Created once per request; attributes are built on first use."""

    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    # --- building blocks -------------------------------------------------

    def by_id(self, model: Any) -> DataLoader[int, Any]:
        async def load(ids: Sequence[int]) -> list[Any]:
            async with read_session(self.engine) as session:
                rows = (await session.scalars(select(model).where(model.id.in_(ids)))).all()
            found = {r.id: r for r in rows}
            return [found.get(i) for i in ids]

        return Loader(load_fn=load)

    def all_by(self, model: Any, column: Any, order: Any) -> DataLoader[Any, list[Any]]:
        async def load(keys: Sequence[Any]) -> list[list[Any]]:
            async with read_session(self.engine) as session:
                stmt = select(model).where(column.in_(keys)).order_by(order)
                rows = (await session.scalars(stmt)).all()
            grouped: dict[Any, list[Any]] = defaultdict(list)
            for r in rows:
                grouped[getattr(r, column.key)].append(r)
            return [grouped.get(k, []) for k in keys]

        return Loader(load_fn=load)

    def pages_by(
        self,
        model: Any,
        column: Any,
        order: list[OrderKey],
        where: Callable[[Any], Sequence[Any]] | None = None,
    ) -> DataLoader[tuple, Page]:
        """Keys are (parent id, PageArgs[, extra filter]); one statement per distinct
        (PageArgs, filter) in a batch, whatever the number of parents."""

        async def load(keys: Sequence[tuple]) -> list[Page]:
            groups = _parents_by_rest(keys)
            results: dict[tuple, Page] = {}
            async with read_session(self.engine) as session:
                for rest, parents in groups.items():
                    args: PageArgs = rest[0]
                    extra = where(rest[1]) if (where and len(rest) > 1) else ()
                    pages = await paginate_many(
                        session, model, column, parents, order, args, where=extra
                    )
                    for parent, page in pages.items():
                        results[(parent, *rest)] = page
            return [results[k] for k in keys]

        return Loader(load_fn=load)

    # --- places ----------------------------------------------------------

    @cached_property
    def subdistrict(self) -> DataLoader[int, SubdistrictRow | None]:
        return self.by_id(SubdistrictRow)

    @cached_property
    def community(self) -> DataLoader[int, CommunityRow | None]:
        return self.by_id(CommunityRow)

    @cached_property
    def grid(self) -> DataLoader[int, GridRow | None]:
        return self.by_id(GridRow)

    @cached_property
    def grids_by_community(self) -> DataLoader[int, list[GridRow]]:
        return self.all_by(GridRow, GridRow.community_id, GridRow.id)

    @cached_property
    def community_pages(self) -> DataLoader[tuple, Page]:
        return self.pages_by(CommunityRow, CommunityRow.subdistrict_id, BY_ID(CommunityRow))

    # --- partners --------------------------------------------------------

    @cached_property
    def partner(self) -> DataLoader[int, PartnerRow | None]:
        return self.by_id(PartnerRow)

    @cached_property
    def partnerships_by_partner(self) -> DataLoader[int, list[PartnershipRow]]:
        return self.all_by(PartnershipRow, PartnershipRow.partner_id, PartnershipRow.id)

    @cached_property
    def partnership_pages_by_community(self) -> DataLoader[tuple, Page]:
        """Keys are (community id, PageArgs, viewer): only partners the viewer may see,
        filtered in SQL so that pages keep their size."""
        return self.pages_by(
            PartnershipRow,
            PartnershipRow.community_id,
            BY_ID(PartnershipRow),
            where=visible_partnerships,
        )

    @cached_property
    def contribution(self) -> DataLoader[int, ContributionRow | None]:
        return self.by_id(ContributionRow)

    @cached_property
    def contribution_pages(self) -> DataLoader[tuple, Page]:
        return self.pages_by(ContributionRow, ContributionRow.partner_id, BY_ID(ContributionRow))

    @cached_property
    def contribution_totals(self) -> DataLoader[int, dict[str, int]]:
        async def load(partner_ids: Sequence[int]) -> list[dict[str, int]]:
            stmt = (
                select(
                    ContributionRow.partner_id,
                    ContributionRow.kind,
                    func.coalesce(func.sum(ContributionRow.value_fen), 0),
                    func.coalesce(func.sum(ContributionRow.centihours), 0),
                )
                .outerjoin(DonationRow, DonationRow.id == ContributionRow.donation_id)
                .where(*_counting(partner_ids))
                .group_by(ContributionRow.partner_id, ContributionRow.kind)
            )
            async with read_session(self.engine) as session:
                rows = (await session.execute(stmt)).all()
            totals: dict[int, dict[str, int]] = defaultdict(dict)
            for partner_id, kind, value, hours in rows:
                totals[partner_id][kind] = int(hours if kind == "VOLUNTEER_SERVICE" else value)
            return [totals.get(p, {}) for p in partner_ids]

        return Loader(load_fn=load)

    @cached_property
    def contribution_totals_by_campaign(self) -> DataLoader[int, list[tuple]]:
        """Each partner's totals by campaign, as [(campaign_id or None, {kind: value})],
        campaigns in order of creation and None (no campaign) last. A gift counts in its
        donation's campaign, service hours in the one they were given at."""

        async def load(partner_ids: Sequence[int]) -> list[list[tuple]]:
            campaign = func.coalesce(ContributionRow.campaign_id, DonationRow.campaign_id)
            stmt = (
                select(
                    ContributionRow.partner_id,
                    campaign,
                    ContributionRow.kind,
                    func.coalesce(func.sum(ContributionRow.value_fen), 0),
                    func.coalesce(func.sum(ContributionRow.centihours), 0),
                )
                .outerjoin(DonationRow, DonationRow.id == ContributionRow.donation_id)
                .where(*_counting(partner_ids))
                .group_by(ContributionRow.partner_id, campaign, ContributionRow.kind)
                .order_by(campaign.asc().nulls_last())
            )
            async with read_session(self.engine) as session:
                rows = (await session.execute(stmt)).all()
            totals: dict[int, dict[int | None, dict[str, int]]] = defaultdict(dict)
            for partner_id, campaign_id, kind, value, hours in rows:
                by_kind = totals[partner_id].setdefault(campaign_id, {})
                by_kind[kind] = int(hours if kind == "VOLUNTEER_SERVICE" else value)
            return [list(totals.get(p, {}).items()) for p in partner_ids]

        return Loader(load_fn=load)

    # --- people ----------------------------------------------------------

    @cached_property
    def user(self) -> DataLoader[int, UserRow | None]:
        return self.by_id(UserRow)

    # --- funds and money -------------------------------------------------

    @cached_property
    def fund(self) -> DataLoader[int, FundRow | None]:
        return self.by_id(FundRow)

    @cached_property
    def campaign(self) -> DataLoader[int, CampaignRow | None]:
        async def load(ids: Sequence[int]) -> list[Any]:
            async with driver_connection(self.engine) as conn:
                found = {r.id: r for r in await reads.campaigns_by_id(conn, ids)}
            return [found.get(i) for i in ids]

        return Loader(load_fn=load)

    @cached_property
    def donation(self) -> DataLoader[int, DonationRow | None]:
        return self.by_id(DonationRow)

    @cached_property
    def disbursement(self) -> DataLoader[int, DisbursementRow | None]:
        return self.by_id(DisbursementRow)

    @cached_property
    def cash_count(self) -> DataLoader[int, CashCountRow | None]:
        return self.by_id(CashCountRow)

    @cached_property
    def fund_balances(self) -> DataLoader[int, dict[str, int]]:
        """Stored balances by account code: O(1) reads, never sums of postings."""

        async def load(fund_ids: Sequence[int]) -> list[dict[str, int]]:
            async with driver_connection(self.engine) as conn:
                found = await reads.balances_for_funds(conn, fund_ids)
            return [found.get(f, {}) for f in fund_ids]

        return Loader(load_fn=load)

    @cached_property
    def fund_balances_at(self) -> DataLoader[tuple, dict[str, int]]:
        async def load(keys: Sequence[tuple]) -> list[dict[str, int]]:
            by_instant: dict[Any, list[int]] = defaultdict(list)
            for fund_id, at in keys:
                by_instant[at].append(fund_id)
            results = {}
            async with read_session(self.engine) as session:
                for at, fund_ids in by_instant.items():
                    found = await reports.balances_at(session, fund_ids, at)
                    for f in fund_ids:
                        results[(f, at)] = found.get(f, {})
            return [results[k] for k in keys]

        return Loader(load_fn=load)

    @cached_property
    def campaign_pages(self) -> DataLoader[tuple, Page]:
        return self.pages_by(CampaignRow, CampaignRow.fund_id, BY_ID(CampaignRow))

    @cached_property
    def donation_pages(self) -> DataLoader[tuple, Page]:
        """Keys are (fund id, PageArgs[, DonationQuery or None[, with campaigns]]),
        newest first; one statement per distinct rest of the key in a batch, on a bare
        connection (db/reads.py): the rows are only shown. With campaigns (a page that
        shows them), their columns come in the same statement and prime the campaign
        loader."""

        async def load(keys: Sequence[tuple]) -> list[Page]:
            groups = _parents_by_rest(keys)
            results: dict[tuple, Page] = {}
            async with driver_connection(self.engine) as conn:
                for rest, fund_ids in groups.items():
                    args: PageArgs = rest[0]
                    if args.size == 0:
                        pages = {f: Page([], [], False, False) for f in fund_ids}
                    else:
                        part = _donation_slice(args, *rest[1:])
                        rows = await reads.donation_pages(conn, fund_ids, part)
                        if part.with_campaigns:  # Donation.preload_campaigns finds them
                            self.campaign.prime_many(reads.joined_campaigns(rows))
                        pages = pages_by_parent(rows, fund_ids, "fund_id", DONATION_ORDER, args)
                    for fund_id, page in pages.items():
                        results[(fund_id, *rest)] = page
            return [results[k] for k in keys]

        return Loader(load_fn=load)

    @cached_property
    def disbursement_pages(self) -> DataLoader[tuple, Page]:
        return self.pages_by(DisbursementRow, DisbursementRow.fund_id, BY_ID(DisbursementRow))

    @cached_property
    def accounts_by_fund(self) -> DataLoader[int, list[AccountRow]]:
        return self.all_by(AccountRow, AccountRow.fund_id, AccountRow.code)

    @cached_property
    def account(self) -> DataLoader[int, AccountRow | None]:
        return self.by_id(AccountRow)

    @cached_property
    def entry(self) -> DataLoader[int, EntryRow | None]:
        return self.by_id(EntryRow)

    @cached_property
    def postings_by_entry(self) -> DataLoader[int, list[PostingRow]]:
        return self.all_by(PostingRow, PostingRow.entry_id, PostingRow.id)

    @cached_property
    def entry_pages(self) -> DataLoader[tuple, Page]:
        return self.pages_by(EntryRow, EntryRow.fund_id, [OrderKey(EntryRow.sequence)])

    @cached_property
    def posting_pages(self) -> DataLoader[tuple, Page]:
        return self.pages_by(
            PostingRow,
            PostingRow.account_id,
            [OrderKey(PostingRow.effective_at), OrderKey(PostingRow.id)],
        )

    @cached_property
    def reversal_of(self) -> DataLoader[int, EntryRow | None]:
        """The entry that reverses a given entry, if any."""

        async def load(entry_ids: Sequence[int]) -> list[EntryRow | None]:
            async with read_session(self.engine) as session:
                rows = (
                    await session.scalars(
                        select(EntryRow).where(EntryRow.reverses_id.in_(entry_ids))
                    )
                ).all()
            found = {r.reverses_id: r for r in rows}
            return [found.get(i) for i in entry_ids]

        return Loader(load_fn=load)

    @cached_property
    def account_balance_at(self) -> DataLoader[tuple, int]:
        async def load(keys: Sequence[tuple]) -> list[int]:
            async with read_session(self.engine) as session:
                return [
                    await reports.balance_at(session, account_id, at) for account_id, at in keys
                ]

        return Loader(load_fn=load)

    @cached_property
    def campaign_progress(self) -> DataLoader[int, dict[str, int]]:
        """Per campaign: fen by channel group and the count, refunded donations left out."""

        async def load(campaign_ids: Sequence[int]) -> list[dict[str, int]]:
            stmt = (
                select(
                    DonationRow.campaign_id,
                    DonationRow.channel,
                    func.coalesce(func.sum(DonationRow.amount_fen), 0),
                    func.count(),
                )
                .where(
                    DonationRow.campaign_id.in_(campaign_ids),
                    DonationRow.status.notin_(("REFUNDED", "VOIDED")),
                )
                .group_by(DonationRow.campaign_id, DonationRow.channel)
            )
            async with read_session(self.engine) as session:
                rows = (await session.execute(stmt)).all()
            out: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            for campaign_id, channel, total, count in rows:
                group = (
                    "online"
                    if channel == "ONLINE"
                    else "in_kind"
                    if channel == "IN_KIND"
                    else "offline"
                )
                out[campaign_id][group] += int(total)
                out[campaign_id]["count"] += int(count)
            return [dict(out.get(c, {})) for c in campaign_ids]

        return Loader(load_fn=load)

    @cached_property
    def fund_statement(self) -> DataLoader[tuple, Any]:
        """Keys are (fund id, first day, last day, time zone)."""

        async def load(keys: Sequence[tuple]) -> list[Any]:
            async with read_session(self.engine) as session:
                return [
                    await reports.statement(session, fund_id, start, end, tz)
                    for fund_id, start, end, tz in keys
                ]

        return Loader(load_fn=load)

    @cached_property
    def trial_balance(self) -> DataLoader[tuple, Any]:
        """Keys are (fund id, instant or None for now): from stored balances."""

        async def load(keys: Sequence[tuple]) -> list[Any]:
            return [await self._trial_balance(fund_id, at) for fund_id, at in keys]

        return Loader(load_fn=load)

    async def _trial_balance(self, fund_id: int, at: Any) -> Any:
        accounts = await self.accounts_by_fund.load(fund_id)
        if at is None:
            balances = await self.fund_balances.load(fund_id)
        else:
            balances = await self.fund_balances_at.load((fund_id, at))
        return reports.build_trial_balance(
            at or utcnow(),
            [
                (a.id, a.code, a.name, a.type, a.normal_side, balances.get(a.code, 0))
                for a in accounts
            ],
        )

    # --- reconciliation ----------------------------------------------------

    @cached_property
    def statement_import(self) -> DataLoader[int, Any]:
        from db.reconciliation_models import StatementImportRow

        return self.by_id(StatementImportRow)

    @cached_property
    def statement_line(self) -> DataLoader[int, Any]:
        from db.reconciliation_models import StatementLineRow

        return self.by_id(StatementLineRow)

    @cached_property
    def statement_lines_by_import(self) -> DataLoader[int, list[Any]]:
        from db.reconciliation_models import StatementLineRow

        return self.all_by(StatementLineRow, StatementLineRow.import_id, StatementLineRow.line_no)
