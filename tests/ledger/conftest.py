"""Ledger test helpers: a fund with an open book, and a snapshot of everything the
ledger writes, to prove that a refusal wrote nothing."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from db.engine import make_engine
from db.models import FundRow
from db.uow import read_session, unit_of_work
from ledger.entries import PostingSpec
from ledger.store import account_balances, open_book
from ledger.tables import AccountRow, BookRow, EntryRow, PostingRow

_codes = itertools.count(1)
T0 = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 in Zhengzhou


def dr(code: str, amount: int, currency: str = "CNY") -> PostingSpec:
    return PostingSpec(code, "DEBIT", amount, currency)


def cr(code: str, amount: int, currency: str = "CNY") -> PostingSpec:
    return PostingSpec(code, "CREDIT", amount, currency)


async def new_fund(engine, *, restricted: bool = False) -> int:
    async with unit_of_work(engine) as session:
        fund = FundRow(
            code=f"F{next(_codes)}", name="测试基金", level="COMMUNITY", host="郑州市慈善总会"
        )
        session.add(fund)
        await session.flush()
        await open_book(session, fund.id, restricted=restricted)
        return fund.id


@dataclass(frozen=True)
class Snapshot:
    entries: int
    postings: int
    balances: dict[str, int]
    last_sequence: int
    last_hash: str | None
    closed_through: object


async def snapshot(engine, fund_id: int) -> Snapshot:
    async with read_session(engine) as session:
        book = await session.get(BookRow, fund_id)
        return Snapshot(
            entries=await session.scalar(select(func.count()).select_from(EntryRow)),
            postings=await session.scalar(select(func.count()).select_from(PostingRow)),
            balances=await account_balances(session, fund_id),
            last_sequence=book.last_sequence,
            last_hash=book.last_hash,
            closed_through=book.closed_through,
        )


async def sums_of_postings(engine, fund_id: int) -> dict[str, int]:
    async with read_session(engine) as session:
        rows = await session.execute(
            select(AccountRow.code, func.coalesce(func.sum(PostingRow.normal_delta_fen), 0))
            .select_from(AccountRow)
            .outerjoin(PostingRow, PostingRow.account_id == AccountRow.id)
            .where(AccountRow.fund_id == fund_id)
            .group_by(AccountRow.code)
        )
        return {code: int(total) for code, total in rows}


@pytest.fixture
async def fund_id(engine) -> int:
    return await new_fund(engine)


@pytest.fixture
async def pg_engine(_postgres_templates):
    """A fresh migrated database with room for many concurrent writers."""
    url, name = await _postgres_templates.fresh()
    # Sixty writers racing in one process: admit them all, so the race is real.
    engine = make_engine(url, pool_size=40, writers=100)
    yield engine
    await engine.dispose()
    await _postgres_templates.drop(name)
