"""A fund frozen or closed while a donation is on its way takes nothing.

recordDonation checks the fund's status before it takes the book lock (the hot path
takes no early lock), and a freeze or close changes the status under that lock. So the
status is checked again in the statement that stores the donation, under the lock.
These tests put the database in the state such a race leaves: an entry written under
the lock, and a status changed since the first check.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from db.models import DonationRow, FundRow, UserRow
from db.types import utcnow
from db.uow import read_session, unit_of_work
from ledger import accounts as A
from ledger import store
from ledger.entries import PostingSpec
from resolvers import donation_rows
from resolvers.auth import Action
from resolvers.errors import UseCaseError
from resolvers.funds import fund_for, require_open
from resolvers.users import viewer_of
from tests.api.client import new_key
from tests.api.world import pk


@pytest.mark.parametrize("status", ["FROZEN", "CLOSED"])
async def test_a_donation_meets_the_status_under_the_lock(world, status):
    engine = world.api.state.engine
    fund = pk(world.fund)
    before = await world.balances()
    with pytest.raises(UseCaseError) as refused:
        async with unit_of_work(engine) as session:
            entry = await store.post_entry(
                session,
                fund,
                [
                    PostingSpec(A.ONLINE_CLEARING, "DEBIT", 500, "CNY"),
                    PostingSpec(A.INCOME_ONLINE, "CREDIT", 500, "CNY"),
                ],
                memo="ONLINE donation WX-race",
                recorded_by="fin",
                kind="donation",
            )
            # What a freeze or close that committed after the first check leaves.
            await session.execute(update(FundRow).where(FundRow.id == fund).values(status=status))
            now = utcnow()
            await donation_rows.insert_donation(
                session,
                dict(
                    fund_id=fund,
                    campaign_id=None,
                    channel="ONLINE",
                    status="RECEIVED",
                    amount_fen=500,
                    donor_name="王五",
                    anonymous=False,
                    partner_id=None,
                    external_ref="WX-race",
                    online_ref="WX-race",
                    description=None,
                    received_at=now,
                    entry_id=entry.id,
                    recorded_by="fin",
                    created_at=now,
                ),
                key=new_key("race"),
                operation="recordDonation",
                fingerprint="f" * 64,
            )
    assert refused.value.code == "FUND_NOT_OPEN"
    assert refused.value.field == "fundId"
    # Nothing of it stayed: no donation, no entry, the fund still open.
    assert await world.balances() == before
    async with read_session(engine) as session:
        assert await session.scalar(select(FundRow.status).where(FundRow.id == fund)) == "OPEN"
        count = select(func.count()).select_from(DonationRow)
        assert await session.scalar(count.where(DonationRow.external_ref == "WX-race")) == 0


async def test_a_locked_fund_is_read_again_after_the_lock(world):
    """fund_for(lock=True) returns the fund as of after the lock, not the copy it read
    before it (which a freeze may have changed meanwhile)."""
    engine = world.api.state.engine
    fund = pk(world.fund)
    async with read_session(engine) as session:
        fin = viewer_of(await session.scalar(select(UserRow).where(UserRow.username == "fin")))
    with pytest.raises(UseCaseError) as refused:
        async with unit_of_work(engine) as session:
            stale = await session.get(FundRow, fund)  # the copy read before the lock
            assert stale.status == "OPEN"
            await session.execute(update(FundRow).where(FundRow.id == fund).values(status="FROZEN"))
            locked = await fund_for(session, fin, world.fund, Action.HANDLE_CASH, lock=True)
            assert locked is stale and locked.status == "FROZEN"
            require_open(locked)
    assert refused.value.code == "FUND_NOT_OPEN"
