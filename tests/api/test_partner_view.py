"""What a partner app shows: the partner's totals by campaign (money, goods, hours), its
contributions described in plain Chinese, and through its own gift the fund's public
face (tests/visibility/test_known_holes.py)."""

from __future__ import annotations

from tests.api.client import new_key

SERVICE = """mutation($i: RecordServiceInput!) { recordService(input: $i) {
  contribution { kind hours description } errors { code field } } }"""
REFUND = """mutation($i: RefundDonationInput!) { refundDonation(input: $i) { errors { code } } }"""
VIEW = """query($id: ID!) { node(id: $id) { ... on Partner {
  contributionTotals { money { amount } inKind { amount } volunteerHours }
  campaignTotals { campaign { id name } money { amount } inKind { amount } volunteerHours }
  contributions(first: 20) { edges { node { kind description } } } } } }"""


async def _serve(world, hours: str, **extra) -> dict:
    i = {
        "partnerId": world.partner_id,
        "hours": hours,
        "description": "邻居节志愿服务",
        "idempotencyKey": new_key("s"),
        **extra,
    }
    return (await world.api.data(SERVICE, {"i": i}, token=world.admin))["recordService"]


async def _give(world) -> None:
    """Gifts to the festival and outside it, one refunded, and hours at and off it."""
    p, c = world.partner_id, world.campaign
    await world.donate("BANK_TRANSFER", "500.00", partnerId=p, campaignId=c)
    await world.donate("IN_KIND", "240.00", partnerId=p, campaignId=c, description="矿泉水 20 箱")
    await world.donate("BANK_TRANSFER", "80.00", partnerId=p)
    back = await world.donate("CASH", "60.00", partnerId=p, campaignId=c)
    refund = {"donationId": back["donation"]["id"], "reason": "捐错了", "idempotencyKey": new_key()}
    assert (await world.api.data(REFUND, {"i": refund}, token=world.fin))["refundDonation"] == {
        "errors": []
    }
    assert (await _serve(world, "3.5", campaignId=c))["errors"] == []
    assert (await _serve(world, "2"))["errors"] == []


async def test_a_partner_sees_its_totals_by_campaign(world):
    await _give(world)
    view = (await world.api.data(VIEW, {"id": world.partner_id}, token=world.partner))["node"]
    assert view["campaignTotals"] == [
        {
            "campaign": {"id": world.campaign, "name": "2023邻居节"},
            "money": {"amount": "500.00"},
            "inKind": {"amount": "240.00"},
            "volunteerHours": "3.50",
        },
        {
            "campaign": None,
            "money": {"amount": "80.00"},
            "inKind": {"amount": "0.00"},
            "volunteerHours": "2.00",
        },
    ]
    # The lines add up to the partner's totals.
    assert view["contributionTotals"] == {
        "money": {"amount": "580.00"},
        "inKind": {"amount": "240.00"},
        "volunteerHours": "5.50",
    }
    # Staff of the partner's community see the same; another community's staff see nothing.
    staff = await world.api.data(VIEW, {"id": world.partner_id}, token=world.staff)
    assert staff["node"]["campaignTotals"] == view["campaignTotals"]
    other = await world.api.data(VIEW, {"id": world.partner_id}, token=world.other_staff)
    assert other == {"node": None}


async def test_contributions_read_in_plain_chinese(world):
    await _give(world)
    view = (await world.api.data(VIEW, {"id": world.partner_id}, token=world.partner))["node"]
    described = [e["node"]["description"] for e in view["contributions"]["edges"]]
    assert described == [
        "银行转账捐赠 · 2023邻居节",
        "物资捐赠：矿泉水 20 箱 · 2023邻居节",
        "银行转账捐赠 · 社区慈善基金",
        "现金捐赠 · 2023邻居节（已退款）",
        "邻居节志愿服务",
        "邻居节志愿服务",
    ]
    assert not any("donation" in d or "BANK_TRANSFER" in d for d in described)


async def test_service_hours_name_a_campaign_that_exists(world):
    done = await _serve(world, "1", campaignId="bm90LWEtY2FtcGFpZ24")
    assert done == {
        "contribution": None,
        "errors": [{"code": "NOT_FOUND", "field": ["input", "campaignId"]}],
    }
    again = await _serve(world, "1.25", campaignId=world.campaign)
    assert again == {
        "contribution": {
            "kind": "VOLUNTEER_SERVICE",
            "hours": "1.25",
            "description": "邻居节志愿服务",
        },
        "errors": [],
    }
