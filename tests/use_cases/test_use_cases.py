"""Use cases called directly with commands and a unit of work: no HTTP, no GraphQL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from db.uow import read_session
from ledger import accounts as A
from ledger import store
from ledger.errors import LedgerError
from resolvers import commands as C
from resolvers import disbursements, donations
from resolvers.auth import Viewer
from resolvers.errors import AccessDenied, UseCaseError
from resolvers.ids import NO_ROW
from tests.use_cases.world import FESTIVAL, a_fund


def _gift(place, key: str, **changes) -> C.RecordDonation:
    values = dict(
        fund_id=place.fund,
        channel="ONLINE",
        amount="123.45",
        currency="CNY",
        idempotency_key=key,
        campaign_id=place.campaign,
        donor_name="张三丰",
        external_ref=f"WX-{key}",
        received_at=FESTIVAL + timedelta(hours=1),
    )
    return C.RecordDonation(**(values | changes))


async def _balances(engine, fund: int) -> dict[str, int]:
    async with read_session(engine) as session:
        return await store.account_balances(session, fund)


async def test_a_donation_is_recorded_and_replayed_by_its_key(engine):
    place = await a_fund(engine)
    first = await donations.record_donation(_gift(place, "k1"), place.uow)
    assert (first.fund_id, first.campaign_id, first.amount_fen) == (
        place.fund,
        place.campaign,
        12345,
    )
    assert first.status == "RECEIVED" and first.recorded_by == "admin"
    again = await donations.record_donation(_gift(place, "k1"), place.uow)
    assert again.id == first.id
    assert (await _balances(engine, place.fund))[A.ONLINE_CLEARING] == 12345
    with pytest.raises(LedgerError) as conflict:
        await donations.record_donation(_gift(place, "k1", amount="1.00"), place.uow)
    assert conflict.value.code == "IDEMPOTENCY_CONFLICT"


# What the use case stored for _gift(place, "k1") in a fresh database when it still
# took global IDs (commit d0afcaa): keys stored then must replay after the change.
FINGERPRINT_BEFORE_COMMANDS = "8ba797009d0974361d7999fbd747b7452e742e3c2d9a104bcf3785fefc744255"


async def test_fingerprints_name_the_fund_as_they_did_before_commands(engine):
    place = await a_fund(engine)
    assert (place.fund, place.campaign) == (1, 1)  # as when the fingerprint was taken
    await donations.record_donation(_gift(place, "k1"), place.uow)
    async with read_session(engine) as session:
        stored = await session.scalar(
            text("SELECT fingerprint FROM idempotency_keys WHERE key = 'k1'")
        )
    assert stored == FINGERPRINT_BEFORE_COMMANDS


async def test_a_partner_gift_by_key_makes_a_contribution(engine):
    place = await a_fund(engine)
    gift = _gift(place, "k2", channel="IN_KIND", partner_id=place.partner, external_ref=None)
    refused = pytest.raises(UseCaseError, match="description")
    with refused:
        await donations.record_donation(gift, place.uow)
    done = await donations.record_donation(
        _gift(
            place,
            "k3",
            channel="IN_KIND",
            partner_id=place.partner,
            external_ref=None,
            description="毛线 20 斤",
            amount=Decimal("300"),
        ),
        place.uow,
    )
    assert (done.partner_id, done.status, done.amount_fen) == (place.partner, "SETTLED", 30000)
    assert (await _balances(engine, place.fund))[A.IN_KIND] == 30000


async def test_a_key_that_names_no_row_is_not_found_after_the_viewer_checks(engine):
    place = await a_fund(engine)
    nowhere = _gift(place, "k4", fund_id=NO_ROW)
    with pytest.raises(AccessDenied) as anonymous:
        await donations.record_donation(nowhere, place.uow.acting_as(None))
    assert anonymous.value.code == "UNAUTHENTICATED"
    with pytest.raises(UseCaseError) as missing:
        await donations.record_donation(nowhere, place.uow)
    assert (missing.value.code, missing.value.field) == ("NOT_FOUND", "fundId")
    with pytest.raises(UseCaseError) as no_campaign:
        await donations.record_donation(_gift(place, "k5", campaign_id=NO_ROW), place.uow)
    assert (no_campaign.value.code, no_campaign.value.field) == ("NOT_FOUND", "campaignId")
    assert (await _balances(engine, place.fund)).get(A.ONLINE_CLEARING, 0) == 0


async def test_a_stopped_clock_dates_the_writes(engine):
    place = await a_fund(engine)
    await donations.record_donation(_gift(place, "k6", channel="BANK_TRANSFER"), place.uow)
    staff = place.uow.acting_as(Viewer(7, "staff", frozenset({"FINANCE"})))
    asked = FESTIVAL + timedelta(days=2)
    request = await disbursements.request_disbursement(
        C.RequestDisbursement(place.fund, C.Money("100.00", "CNY"), "居委会", "慰问金", "d1"),
        staff.at(asked),
    )
    assert request.requested_at == asked
    with pytest.raises(UseCaseError) as own:
        await disbursements.decide_disbursement(
            C.DecideDisbursement("approve", request.id, "d1-approve"), staff
        )
    assert own.value.code == "SELF_APPROVAL"
    approved_at = asked + timedelta(hours=3)
    approved = await disbursements.decide_disbursement(
        C.DecideDisbursement("approve", request.id, "d1-approve"), place.uow.at(approved_at)
    )
    assert (approved.status, approved.decided_at, approved.approved_by) == (
        "APPROVED",
        approved_at,
        "admin",
    )
