"""Funds and campaigns: opening them, finding them, and what they hold."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db import directory
from db.models import CampaignRow, CommunityRow, FundRow, SubdistrictRow
from db.uow import read_connection, read_session
from ledger import accounts as A
from ledger import store
from ledger.accounts import positions as store_positions
from ledger.errors import CurrencyMismatch
from ledger.money import SUPPORTED_CURRENCIES, to_fen
from resolvers.auth import Action, Viewer, authorize
from resolvers.commands import ChangeFundStatus, CreateCampaign, OpenFund
from resolvers.errors import AccessDenied, UseCaseError, invalid, not_found
from resolvers.funds_access import Scope, can_see_fund, fund_condition
from resolvers.pagination import OrderKey, Page, PageArgs, paginate_rows
from resolvers.unit_of_work import UnitOfWork
from resolvers.validation import instant, text

FUND_LEVELS = ("COMMUNITY", "SUBDISTRICT")
FUND_CODE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


async def fund_for(
    session: AsyncSession,
    viewer: Viewer | None,
    fund_id: int,
    action: Action,
    *,
    field: str = "fundId",
    lock: bool = False,
) -> FundRow:
    """The fund with key `fund_id`, after checking the viewer may take `action` on it.

    A fund the viewer may not see is NOT_FOUND, as if it did not exist; with
    lock=True the fund's book is locked for the rest of the transaction, and the fund
    returned is as of after the lock.
    """
    authorize(viewer, action)  # role check first: UNAUTHENTICATED / FORBIDDEN
    fund = checked_fund(viewer, await session.get(FundRow, fund_id), action, field)
    if lock:
        await _lock_and_reread(session, fund)
    return fund


async def _lock_and_reread(session: AsyncSession, fund: FundRow) -> None:
    """Lock the fund's book, then read the fund again: its status was read before the
    lock, and a freeze or close commits under that same lock."""
    await store.lock_book(session, fund.id)
    await session.refresh(fund)


def checked_fund(
    viewer: Viewer | None, fund, action: Action, field: str = "fundId", *, what: str = "fund"
):
    """The fund (a FundRow or anything with its id, community_id), if the viewer may take
    `action` on it; a fund the viewer may not see is NOT_FOUND (of `what` was looked
    for), as if it did not exist."""
    authorize(viewer, action)  # role check first: UNAUTHENTICATED / FORBIDDEN
    if not can_see_fund(viewer, fund):
        raise not_found(what, field)
    authorize(viewer, action, community_ids={fund.community_id} if fund.community_id else set())
    return fund


async def owning_fund(
    session: AsyncSession,
    viewer: Viewer | None,
    row: Any,
    action: Action,
    *,
    what: str,
    field: str,
) -> FundRow:
    """The fund of a row that belongs to one (a donation, an entry, a disbursement, a
    statement import), with fund_for's checks: a missing row and a row of a fund the
    viewer may not see are the same NOT_FOUND. The fund's book is locked."""
    if row is None:
        raise not_found(what, field)
    fund = checked_fund(viewer, await session.get(FundRow, row.fund_id), action, field, what=what)
    await _lock_and_reread(session, fund)
    return fund


def require_open(fund: FundRow) -> None:
    if fund.status != "OPEN":
        raise UseCaseError("FUND_NOT_OPEN", f"fund {fund.code} is {fund.status}", field="fundId")


def amount_in(fund: FundRow, amount, currency: str, field: str, *, allow_zero=False) -> int:
    """Fen of a MoneyInput in the fund's currency."""
    fen = to_fen(amount, field=f"{field}.amount", allow_zero=allow_zero)
    if currency not in SUPPORTED_CURRENCIES or currency != fund.currency:
        raise CurrencyMismatch(
            f"this fund keeps {fund.currency}, not {currency!r}", field=f"{field}.currency"
        )
    return fen


def _fund_place(cmd: OpenFund) -> tuple[int | None, int | None]:
    """The community or subdistrict a fund of the command's level belongs to."""
    if cmd.level not in FUND_LEVELS:
        raise invalid("unknown fund level", "level")
    if cmd.level == "COMMUNITY":
        if cmd.community_id is None:
            raise invalid("a COMMUNITY fund needs communityId", "communityId")
        if cmd.subdistrict_id is not None:
            raise invalid("a COMMUNITY fund takes communityId only", "subdistrictId")
        return cmd.community_id, None
    if cmd.subdistrict_id is None:
        raise invalid("a SUBDISTRICT fund needs subdistrictId", "subdistrictId")
    if cmd.community_id is not None:
        raise invalid("a SUBDISTRICT fund takes subdistrictId only", "communityId")
    return None, cmd.subdistrict_id


async def open_fund(cmd: OpenFund, uow: UnitOfWork) -> FundRow:
    authorize(uow.viewer, Action.OPEN_FUND)
    code = text(cmd.code, "code", max_length=32).upper()
    if not set(code) <= FUND_CODE_CHARS:
        raise invalid("code may hold letters, digits, - and _ only", "code")
    name = text(cmd.name, "name")
    host = text(cmd.host, "host")
    purpose = text(cmd.restricted_purpose, "restrictedPurpose", max_length=200, required=False)
    community_pk, subdistrict_pk = _fund_place(cmd)
    async with uow.transaction() as session:
        if community_pk is not None and await session.get(CommunityRow, community_pk) is None:
            raise not_found("community", "communityId")
        if subdistrict_pk is not None and await session.get(SubdistrictRow, subdistrict_pk) is None:
            raise not_found("subdistrict", "subdistrictId")
        if await directory.fund_code_taken(session, code):
            raise invalid(f"fund code {code} is taken", "code")
        fund = FundRow(
            code=code,
            name=name,
            level=cmd.level,
            host=host,
            community_id=community_pk,
            subdistrict_id=subdistrict_pk,
            restricted_purpose=purpose,
        )
        session.add(fund)
        await session.flush()
        await store.open_book(session, fund.id, currency=fund.currency, restricted=bool(purpose))
        return fund


async def create_campaign(cmd: CreateCampaign, uow: UnitOfWork) -> CampaignRow:
    name = text(cmd.name, "name")
    starts_at = instant(cmd.starts_at, "startsAt")
    ends_at = instant(cmd.ends_at, "endsAt")
    if ends_at is not None and ends_at <= starts_at:
        raise invalid("endsAt must be after startsAt", "endsAt")
    async with uow.transaction() as session:
        fund = await fund_for(session, uow.viewer, cmd.fund_id, Action.MANAGE_CAMPAIGNS)
        goal = cmd.goal
        goal_fen = amount_in(fund, goal.amount, goal.currency, "goal") if goal else None
        row = CampaignRow(
            fund_id=fund.id, name=name, starts_at=starts_at, ends_at=ends_at, goal_fen=goal_fen
        )
        session.add(row)
        await session.flush()
        return row


async def fund_page(
    engine: AsyncEngine, viewer: Viewer | None, scope: Scope, args: PageArgs
) -> Page:
    condition = fund_condition(viewer)
    stmt = select(*FundRow.__table__.c).where(condition)
    if scope.community_id is not None:
        stmt = stmt.where(FundRow.community_id == scope.community_id)
    if scope.subdistrict_id is not None:
        stmt = stmt.where(FundRow.subdistrict_id == scope.subdistrict_id)
    # Read-only rows: the funds are only shown (and primed into the fund loader).
    async with read_connection(engine) as conn:
        return await paginate_rows(conn, stmt, [OrderKey(FundRow.id)], args)


async def fund_by_code(engine: AsyncEngine, viewer: Viewer | None, code: str) -> FundRow | None:
    authorize(viewer, Action.READ_FUNDS)
    async with read_session(engine) as session:
        fund = await session.scalar(select(FundRow).where(FundRow.code == code.strip().upper()))
    return fund if can_see_fund(viewer, fund) else None


async def public_fund(engine: AsyncEngine, code: str) -> FundRow | None:
    async with read_session(engine) as session:
        return await session.scalar(select(FundRow).where(FundRow.code == code.strip().upper()))


def check_period(start: date, end: date) -> None:
    if end < start:
        raise invalid("to must not be before from", "to")
    if (end - start).days > 366 * 5:
        raise invalid("a statement covers at most five years", "to")


def check_access(viewer: Viewer | None, fund: FundRow, action: Action) -> None:
    """For reads of a fund object already loaded: NOT_FOUND when invisible."""
    if not can_see_fund(viewer, fund):
        if viewer is None:
            raise AccessDenied("UNAUTHENTICATED")
        raise not_found("fund")
    authorize(viewer, action, community_ids={fund.community_id} if fund.community_id else set())


# OPEN <-> FROZEN; either may be CLOSED, for good, once nothing is left in the fund.
STATUS_MOVES = {("OPEN", "FROZEN"), ("FROZEN", "OPEN"), ("OPEN", "CLOSED"), ("FROZEN", "CLOSED")}


async def change_fund_status(cmd: ChangeFundStatus, uow: UnitOfWork) -> FundRow:
    """Freeze, reopen or close a fund (ADMIN). A frozen or closed fund takes no new
    donations or spending; a fund is closed only when it holds nothing and owes nothing."""
    authorize(uow.viewer, Action.OPEN_FUND)
    text(cmd.reason, "reason", max_length=500)  # required and checked; not stored
    status = cmd.status
    async with uow.transaction() as session:
        fund = await fund_for(session, uow.viewer, cmd.fund_id, Action.OPEN_FUND, lock=True)
        if (fund.status, status) not in STATUS_MOVES:
            raise UseCaseError(
                "INVALID_STATE", f"a {fund.status} fund cannot become {status}", field="status"
            )
        if status == "CLOSED" and not _empty(await store.account_balances(session, fund.id)):
            raise UseCaseError(
                "INVALID_STATE",
                "a fund is closed only when it holds nothing and owes nothing",
                field="status",
            )
        fund.status = status
        session.add(fund)
        await session.flush()
        return fund


def _empty(balances: dict[str, int]) -> bool:
    held = store_positions(balances)
    return not (held.total or balances.get(A.PAYABLE, 0) or balances.get(A.SUSPENSE, 0))
