"""Per-request DataLoaders scoped to the viewer: each answers only what the viewer may
see, decided on the object itself with the rule table (auth.VISIBILITY, auth.sees),
whatever field asked. An object the viewer may not see loads as None, exactly like one
that does not exist; a list under a parent the viewer may not see is empty.

The children of an object (its page of donations, its balances, its postings) are
loaded only once the parent is found visible here too: no field relies on its parent
having been checked by whoever built it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import cached_property
from typing import Any

from strawberry.dataloader import DataLoader

from resolvers.auth import VISIBILITY, Action, Viewer, sees, sees_user
from resolvers.loaders import Loader, Loaders
from resolvers.pagination import Page

EMPTY_PAGE = Page([], [], False, False)
ViewerSource = Callable[[], Awaitable[Viewer | None]]


def _parent_key(key: Any) -> Any:
    return key[0] if isinstance(key, tuple) else key


class VisibleLoaders:
    """Created once per request, beside the plain Loaders it reads through."""

    def __init__(self, raw: Loaders, viewer: ViewerSource):
        self.raw = raw
        self._viewer = viewer

    # --- building blocks -------------------------------------------------

    def _scoped(
        self,
        rows: DataLoader,
        kind: str,
        scopes: Callable[[list[Any]], Awaitable[list[dict]]],
    ) -> DataLoader:
        """Rows of `rows` the viewer may see as objects of `kind`; `scopes` gives each
        row's scope (community_ids, partner_id) for auth.sees."""
        action = VISIBILITY[kind]

        async def load(ids: Sequence[int]) -> list[Any]:
            found = await rows.load_many(ids)
            present = [r for r in found if r is not None]
            viewer = await self._viewer()
            scope_of = dict(zip([id(r) for r in present], await scopes(present), strict=True))
            return [
                r if r is not None and sees(viewer, action, **scope_of[id(r)]) else None
                for r in found
            ]

        return Loader(load_fn=load)

    def _under(self, parent: DataLoader, child: DataLoader, empty: Any = None) -> DataLoader:
        """`child`'s answer for keys whose parent (the key, or its first part) the viewer
        may see through `parent`; `empty` for the others."""

        async def load(keys: Sequence[Any]) -> list[Any]:
            parents = await parent.load_many([_parent_key(k) for k in keys])
            shown = [k for k, p in zip(keys, parents, strict=True) if p is not None]
            answers = dict(zip(shown, await child.load_many(shown), strict=True))
            return [answers[k] if k in answers else empty for k in keys]

        return Loader(load_fn=load)

    async def _fund_scopes(self, rows: list[Any]) -> list[dict]:
        funds = await self.raw.fund.load_many([r.fund_id for r in rows])
        return [
            {"community_ids": {f.community_id} if f and f.community_id else set()} for f in funds
        ]

    async def _donation_scopes(self, rows: list[Any]) -> list[dict]:
        scopes = await self._fund_scopes(rows)
        return [{**s, "partner_id": r.partner_id} for s, r in zip(scopes, rows, strict=True)]

    async def _partner_scopes(self, partner_ids: list[int]) -> list[dict]:
        signed = await self.raw.partnerships_by_partner.load_many(partner_ids)
        return [
            {"community_ids": {p.community_id for p in rows}, "partner_id": pid}
            for pid, rows in zip(partner_ids, signed, strict=True)
        ]

    # --- objects ---------------------------------------------------------

    @cached_property
    def fund(self) -> DataLoader:
        async def scopes(rows):
            return [{"community_ids": {r.community_id} if r.community_id else set()} for r in rows]

        return self._scoped(self.raw.fund, "Fund", scopes)

    @cached_property
    def ledger_fund(self) -> DataLoader:
        """Funds whose ledger the viewer may read (the parent of accounts and entries)."""

        async def load(ids: Sequence[int]) -> list[Any]:
            funds = await self.raw.fund.load_many(ids)
            viewer = await self._viewer()
            return [
                f
                if f is not None
                and sees(
                    viewer,
                    Action.READ_LEDGER,
                    community_ids={f.community_id} if f.community_id else set(),
                )
                else None
                for f in funds
            ]

        return Loader(load_fn=load)

    @cached_property
    def campaign(self) -> DataLoader:
        return self.raw.campaign  # public (auth.VISIBILITY)

    @cached_property
    def donation(self) -> DataLoader:
        return self._scoped(self.raw.donation, "Donation", self._donation_scopes)

    @cached_property
    def disbursement(self) -> DataLoader:
        return self._scoped(self.raw.disbursement, "Disbursement", self._fund_scopes)

    @cached_property
    def cash_count(self) -> DataLoader:
        return self._scoped(self.raw.cash_count, "CashCount", self._fund_scopes)

    @cached_property
    def account(self) -> DataLoader:
        return self._scoped(self.raw.account, "LedgerAccount", self._fund_scopes)

    @cached_property
    def entry(self) -> DataLoader:
        return self._scoped(self.raw.entry, "JournalEntry", self._fund_scopes)

    @cached_property
    def statement_import(self) -> DataLoader:
        return self._scoped(self.raw.statement_import, "StatementImport", self._fund_scopes)

    @cached_property
    def statement_line(self) -> DataLoader:
        return self._scoped(self.raw.statement_line, "StatementLine", self._fund_scopes)

    @cached_property
    def partner(self) -> DataLoader:
        async def scopes(rows):
            return await self._partner_scopes([r.id for r in rows])

        return self._scoped(self.raw.partner, "Partner", scopes)

    @cached_property
    def contribution(self) -> DataLoader:
        async def scopes(rows):
            return await self._partner_scopes([r.partner_id for r in rows])

        return self._scoped(self.raw.contribution, "Contribution", scopes)

    @cached_property
    def user(self) -> DataLoader:
        async def load(ids: Sequence[int]) -> list[Any]:
            viewer = await self._viewer()
            rows = await self.raw.user.load_many(ids)
            return [r if r is not None and sees_user(viewer, r.id) else None for r in rows]

        return Loader(load_fn=load)

    # --- what objects hold: loaded only under a visible parent -------------

    @cached_property
    def fund_balances(self) -> DataLoader:
        return self._under(self.fund, self.raw.fund_balances)

    @cached_property
    def fund_balances_at(self) -> DataLoader:
        return self._under(self.fund, self.raw.fund_balances_at)

    @cached_property
    def fund_statement(self) -> DataLoader:
        return self._under(self.fund, self.raw.fund_statement)

    @cached_property
    def trial_balance(self) -> DataLoader:
        return self._under(self.ledger_fund, self.raw.trial_balance)

    @cached_property
    def campaign_pages(self) -> DataLoader:
        return self._under(self.fund, self.raw.campaign_pages, EMPTY_PAGE)

    @cached_property
    def donation_pages(self) -> DataLoader:
        # A fund's whole list needs the fund itself visible: a partner sees its own
        # gifts one by one, never through the fund.
        return self._under(self.fund, self.raw.donation_pages, EMPTY_PAGE)

    @cached_property
    def disbursement_pages(self) -> DataLoader:
        return self._under(self.fund, self.raw.disbursement_pages, EMPTY_PAGE)

    @cached_property
    def entry_pages(self) -> DataLoader:
        return self._under(self.ledger_fund, self.raw.entry_pages, EMPTY_PAGE)

    @cached_property
    def accounts_by_fund(self) -> DataLoader:
        return self._under(self.ledger_fund, self.raw.accounts_by_fund, [])

    @cached_property
    def posting_pages(self) -> DataLoader:
        return self._under(self.account, self.raw.posting_pages, EMPTY_PAGE)

    @cached_property
    def account_balance_at(self) -> DataLoader:
        return self._under(self.account, self.raw.account_balance_at)

    @cached_property
    def postings_by_entry(self) -> DataLoader:
        return self._under(self.entry, self.raw.postings_by_entry, [])

    @cached_property
    def reversal_of(self) -> DataLoader:
        return self._under(self.entry, self.raw.reversal_of)

    @cached_property
    def contribution_pages(self) -> DataLoader:
        return self._under(self.partner, self.raw.contribution_pages, EMPTY_PAGE)

    @cached_property
    def contribution_totals(self) -> DataLoader:
        return self._under(self.partner, self.raw.contribution_totals)

    @cached_property
    def contribution_totals_by_campaign(self) -> DataLoader:
        return self._under(self.partner, self.raw.contribution_totals_by_campaign, [])

    @cached_property
    def partnerships_by_partner(self) -> DataLoader:
        return self._under(self.partner, self.raw.partnerships_by_partner, [])

    @cached_property
    def statement_lines_by_import(self) -> DataLoader:
        return self._under(self.statement_import, self.raw.statement_lines_by_import, [])
