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

from db import donations as donation_rows
from db.models import DonationRow, FundRow, UserRow
from db.types import utcnow
from db.uow import one_statement, read_session, unit_of_work
from ledger import accounts as A
from ledger.entries import PostingSpec
from ledger.errors import LedgerError
from ledger.tables import EntryRow
from resolvers.auth import Action
from resolvers.errors import UseCaseError
from resolvers.funds import fund_for, require_open
from resolvers.users import viewer_of
from tests.api.client import new_key
from tests.api.world import RECORD, pk


@pytest.mark.parametrize("status", ["FROZEN", "CLOSED"])
async def test_a_donation_meets_the_status_under_the_lock(world, status):
    engine = world.api.state.engine
    fund = pk(world.fund)
    before = await world.balances()
    # What a freeze or close that committed after the donation's first check leaves.
    async with unit_of_work(engine) as session:
        await session.execute(update(FundRow).where(FundRow.id == fund).values(status=status))
    now = utcnow()
    with pytest.raises(LedgerError) as refused:
        async with one_statement(engine) as conn:
            await donation_rows.record(
                conn,
                # As the first check saw it: OPEN.
                donation_rows.FundFacts(fund, "RACE", "OPEN", "CNY", None),
                donation_rows.Draft(
                    [
                        PostingSpec(A.ONLINE_CLEARING, "DEBIT", 500, "CNY"),
                        PostingSpec(A.INCOME_ONLINE, "CREDIT", 500, "CNY"),
                    ],
                    "ONLINE donation WX-race",
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
                        recorded_by="fin",
                        created_at=now,
                    ),
                    None,
                ),
                key=new_key("race"),
                fingerprint="f" * 64,
            )
    assert refused.value.code == "FUND_NOT_OPEN"
    assert refused.value.field == "fundId"
    assert status in refused.value.message
    # Nothing of it stayed: no donation, no entry, no key.
    assert await world.balances() == before
    async with read_session(engine) as session:
        count = select(func.count()).select_from(DonationRow)
        assert await session.scalar(count.where(DonationRow.external_ref == "WX-race")) == 0
        entries = select(func.count()).select_from(EntryRow)
        assert await session.scalar(entries.where(EntryRow.reference == "WX-race")) == 0


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
            locked = await fund_for(session, fin, fund, Action.HANDLE_CASH, lock=True)
            assert locked is stale and locked.status == "FROZEN"
            require_open(locked)
    assert refused.value.code == "FUND_NOT_OPEN"


async def test_a_replay_into_a_fund_frozen_since_returns_its_donation(world):
    """Replays are decided before refusals: a client retrying a donation the fund took
    before it was frozen gets that donation back, on the one-round-trip path too (the
    fund is known to the process by then), and a new donation is refused."""
    inp = {
        "fundId": world.fund,
        "channel": "ONLINE",
        "amount": {"amount": "12.00", "currency": "CNY"},
        "donorName": "赵六",
        "externalRef": new_key("WX"),
        "idempotencyKey": new_key("frozen"),
    }
    first = await world.api.data(RECORD, {"i": inp}, token=world.fin)
    assert first["recordDonation"]["errors"] == []
    frozen = await world.api.data(
        "mutation($i:ChangeFundStatusInput!){changeFundStatus(input:$i){errors{code}}}",
        {"i": {"fundId": world.fund, "status": "FROZEN", "reason": "审计"}},
        token=world.admin,
    )
    assert frozen["changeFundStatus"]["errors"] == []
    before = await world.balances()
    assert await world.api.data(RECORD, {"i": inp}, token=world.fin) == first
    # The same payment under a fresh key (a callback retried) is the same donation.
    retried = inp | {"idempotencyKey": new_key("frozen")}
    assert await world.api.data(RECORD, {"i": retried}, token=world.fin) == first
    fresh = inp | {"idempotencyKey": new_key("frozen"), "externalRef": new_key("WX")}
    refused = (await world.api.data(RECORD, {"i": fresh}, token=world.fin))["recordDonation"]
    assert refused["donation"] is None
    assert refused["errors"] == [
        {
            "code": "FUND_NOT_OPEN",
            "message": refused["errors"][0]["message"],
            "field": ["input", "fundId"],
        }
    ]
    assert await world.balances() == before
