"""The audit as a use case: for FINANCE over GraphQL (Fund.audit), and for every fund
or one from the command line (`jinlin audit`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.audit import Audit, audit_fund
from db.models import FundRow
from db.uow import read_session
from resolvers.auth import Action, Viewer, authorize


async def audit_of(engine: AsyncEngine, viewer: Viewer | None, fund_id: int) -> Audit:
    """The fund's audit, for finance staff (the fund itself was found visible already)."""
    authorize(viewer, Action.RECONCILE)
    async with read_session(engine) as session:
        return await audit_fund(session, fund_id)


async def audit_funds(engine: AsyncEngine, code: str | None = None) -> list[tuple[str, Audit]]:
    """(fund code, audit) for every fund, or the one with `code`; [] if there is none."""
    async with read_session(engine) as session:
        stmt = select(FundRow.id, FundRow.code).order_by(FundRow.id)
        if code:
            stmt = stmt.where(FundRow.code == code.upper())
        funds = (await session.execute(stmt)).all()
        return [(fund_code, await audit_fund(session, pk)) for pk, fund_code in funds]
