"""The Query root."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import funds as fund_cases
from resolvers import journal, places
from resolvers.auth import Action, allowed
from resolvers.funds_access import Scope
from resolvers.loaders_visible import EMPTY_PAGE
from resolvers.nodes import find_node
from resolvers.pagination import PageArgs
from resolvers.partners import partner_page
from schema.arguments import AtOrNow, FundCode, FundId
from schema.context import Info
from schema.relay import After, Before, Connection, First, Last, Node, to_connection
from schema.types.disbursements import Disbursement
from schema.types.donations import CashCount, Donation
from schema.types.funds import Campaign, Fund, PublicFundReport, fund_connection
from schema.types.ledger import JournalEntry, JournalVerification, LedgerAccount
from schema.types.partners import Contribution, Partner
from schema.types.places import Community, Grid, Subdistrict
from schema.types.reconciliation import Reconciliation, StatementImport, StatementLine
from schema.types.users import User

CONVERT = {
    "Subdistrict": Subdistrict.of,
    "Community": Community.of,
    "Grid": Grid.of,
    "Partner": Partner.of,
    "Contribution": Contribution.of,
    "User": User.of,
    "Fund": Fund.of,
    "Campaign": Campaign.of,
    "Donation": Donation.of,
    "Disbursement": Disbursement.of,
    "CashCount": CashCount.of,
    "LedgerAccount": LedgerAccount.of,
    "JournalEntry": JournalEntry.of,
    "StatementImport": StatementImport.of,
    "StatementLine": StatementLine.of,
}


@strawberry.type(description="Everything that can be read.")
class Query:
    @strawberry.field(
        description="Any object by its global ID; null when it does not exist or the viewer may not see it."
    )
    async def node(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(description="A global ID, as any `id` field gives it."),
        ],
    ) -> Node | None:
        found = await find_node(info.context.visible, id)
        if found is None:
            return None
        type_name, row = found
        return CONVERT[type_name](row)

    @strawberry.field(description="The signed-in user; null for anonymous callers.")
    async def viewer(self, info: Info) -> User | None:
        viewer = await info.context.viewer()
        if viewer is None:
            return None
        row = await info.context.visible.user.load(viewer.user_id)
        return User.of(row) if row else None

    @strawberry.field(description="All subdistricts (public).")
    async def subdistricts(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Subdistrict]:
        page = await places.subdistrict_page(
            info.context.engine, PageArgs.of(first, after, last, before)
        )
        return to_connection(page, Subdistrict.of)

    @strawberry.field(description="All communities (public).")
    async def communities(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Community]:
        page = await places.community_page(
            info.context.engine, PageArgs.of(first, after, last, before)
        )
        return to_connection(page, Community.of)

    @strawberry.field(description="Partners the viewer may see; empty for anonymous callers.")
    async def partners(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Partner]:
        args = PageArgs.of(first, after, last, before)
        viewer = await info.context.viewer()
        if not allowed(viewer, Action.READ_PARTNERS):
            return to_connection(EMPTY_PAGE, Partner.of)
        return to_connection(await partner_page(info.context.engine, viewer, args), Partner.of)

    @strawberry.field(
        description="Funds the viewer may see; empty for anonymous callers and partners."
    )
    async def funds(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Fund]:
        return await fund_connection(info, Scope(), PageArgs.of(first, after, last, before))

    @strawberry.field(description="A fund by its code; null when unknown or not visible.")
    async def fund_by_code(self, info: Info, code: FundCode) -> Fund | None:
        row = await fund_cases.fund_by_code(info.context.engine, await info.context.viewer(), code)
        return Fund.of(row) if row else None

    @strawberry.field(description="Re-check a fund's hash chain and stored balances.")
    async def verify_journal(self, info: Info, fund_id: FundId) -> JournalVerification:
        v = await journal.verify_journal(info.context.engine, await info.context.viewer(), fund_id)
        return JournalVerification(
            ok=v.ok, entries_checked=v.entries_checked, first_broken_id=v.first_broken_entry_id
        )

    @strawberry.field(description="What anyone may see of a fund, with donors' names masked.")
    async def public_fund_report(self, info: Info, code: FundCode) -> PublicFundReport | None:
        row = await fund_cases.public_fund(info.context.read_engine, code)
        if row is None:
            return None
        return PublicFundReport.of(row)

    @strawberry.field(
        description="Whether the fund's ledger agrees with the settlement files, the cash and the bank statement, now or as at `at` (FINANCE, ADMIN)."
    )
    async def reconciliation(
        self, info: Info, fund_id: FundId, at: AtOrNow = None
    ) -> Reconciliation | None:
        from resolvers.reconciliation import reconciliation

        view = await reconciliation(info.context.engine, await info.context.viewer(), fund_id, at)
        return Reconciliation.of(view)
