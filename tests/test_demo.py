"""The demo loads through the use cases, balances to the fen, and loads only once."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select

from db import reads
from db.engine import driver_connection
from db.models import FundRow
from db.uow import read_session
from demo import seed_demo
from ledger import reports
from ledger.accounts import positions


async def test_demo_festival_day_agrees_to_the_fen(engine):
    report = await seed_demo(engine)
    assert "/board/" in report and "admin" in report
    async with read_session(engine) as session:
        fund = await session.scalar(select(FundRow).where(FundRow.code == "ETGY"))
        async with driver_connection(engine) as conn:
            balances = (await reads.balances_for_funds(conn, [fund.id]))[fund.id]
        held = positions(balances)
        assert (held.bank, held.online_clearing, held.in_kind, held.cash_on_hand) == (
            1_035_000,
            118_400,
            240_000,
            0,
        )
        june = await reports.statement(
            session, fund.id, date(2023, 6, 1), date(2023, 6, 30), ZoneInfo("Asia/Shanghai")
        )
        assert (june.donations_online, june.donations_offline, june.donations_in_kind) == (
            118_400,
            1_155_150,
            240_000,
        )
        assert (june.disbursements, june.other_costs, june.closing) == (120_000, 150, 1_393_400)
        assert june.closing == held.total
        check = await reports.verify_journal(session, fund.id)
        assert check.ok and check.entries_checked == 20
    assert "already holds data" in await seed_demo(engine)
