"""A world with something of every kind in it, for walks over the whole schema: two
communities with a fund each, partners of each, donations on every channel (a partner's
own, another community's partner's, anonymous ones), a cash count and deposit,
disbursements in every state, and a settlement file imported."""

from __future__ import annotations

from dataclasses import dataclass

from tests.api.client import new_key
from tests.api.world import World

RECORD = """mutation($i: RecordDonationInput!) { recordDonation(input: $i) {
  donation { id } errors { code message } } }"""
DISBURSE = """mutation($i: RequestDisbursementInput!) { requestDisbursement(input: $i) {
  disbursement { id } errors { code message } } }"""
DECIDE = """mutation($i: DecideDisbursementInput!) { %s(input: $i) { errors { code message } } }"""
COUNT = """mutation($i: RecordCashCountInput!) { recordCashCount(input: $i) {
  errors { code message } } }"""
DEPOSIT = (
    """mutation($i: DepositCashInput!) { depositCash(input: $i) { errors { code message } } }"""
)
IMPORT = """mutation($i: ImportStatementInput!) { importStatement(input: $i) {
  statementImport { id } errors { code message } } }"""
SERVICE = """mutation($i: RecordServiceInput!) { recordService(input: $i) {
  errors { code message } } }"""
CAMPAIGN = """mutation($f: ID!) { createCampaign(input: {fundId: $f, name: "百花义集",
  startsAt: "2023-06-01T08:00:00+08:00"}) { campaign { id } errors { code message } } }"""

RECEIVED = "2023-06-11T10:00:00+08:00"


@dataclass
class Seeded:
    world: World
    other_campaign: str
    donations: dict[str, str]  # a label -> the donation's global ID


def _money(amount: str) -> dict:
    return {"amount": amount, "currency": "CNY"}


async def _ok(world: World, query: str, variables: dict, name: str, token: str | None = None):
    payload = (await world.api.data(query, variables, token=token or world.fin))[name]
    assert payload["errors"] == [], payload
    return payload


async def _donate(world: World, fund: str, channel: str, amount: str, **extra) -> str:
    i = {
        "fundId": fund,
        "channel": channel,
        "amount": _money(amount),
        "idempotencyKey": new_key("seed"),
        "receivedAt": RECEIVED,
        **extra,
    }
    if channel == "IN_KIND":
        i.setdefault("description", "大米 10 袋")
    return (await _ok(world, RECORD, {"i": i}, "recordDonation"))["donation"]["id"]


async def _disbursements(world: World, fund: str, staff: str) -> None:
    """One disbursement in each state."""
    ids = []
    for payee in ("居委会慰问组", "百花老年食堂", "阳光助学会"):
        i = {
            "fundId": fund,
            "amount": _money("100.00"),
            "payee": payee,
            "purpose": f"{payee}的项目",
            "idempotencyKey": new_key("d"),
        }
        d = await _ok(world, DISBURSE, {"i": i}, "requestDisbursement", staff)
        ids.append(d["disbursement"]["id"])
    for verb, target in (("approveDisbursement", ids[0]), ("approveDisbursement", ids[1])):
        i = {"disbursementId": target, "idempotencyKey": new_key("a")}
        await _ok(world, DECIDE % verb, {"i": i}, verb)
    i = {"disbursementId": ids[0], "idempotencyKey": new_key("p")}
    await _ok(world, DECIDE % "payDisbursement", {"i": i}, "payDisbursement")
    i = {"disbursementId": ids[2], "idempotencyKey": new_key("r"), "note": "材料不全"}
    await _ok(world, DECIDE % "rejectDisbursement", {"i": i}, "rejectDisbursement")


async def _cash(world: World, fund: str, staff: str) -> None:
    i = {
        "fundId": fund,
        "counted": _money("350.00"),
        "countedBy": ["王秀兰", "刘建国"],
        "idempotencyKey": new_key("c"),
    }
    await _ok(world, COUNT, {"i": i}, "recordCashCount", staff)
    i = {"fundId": fund, "amount": _money("350.00"), "idempotencyKey": new_key("dep")}
    await _ok(world, DEPOSIT, {"i": i}, "depositCash", staff)


async def _every_channel(w: World, fund: str, tag: str, campaign: str) -> dict[str, str]:
    d = {}
    d[f"online{tag}"] = await _donate(
        w,
        fund,
        "ONLINE",
        "88.00",
        donorName=f"线上捐赠人{tag}",
        externalRef=f"WXSECRET{tag}",
        campaignId=campaign,
    )
    d[f"cash{tag}"] = await _donate(
        w, fund, "CASH", "300.00", donorName=f"现金捐赠人{tag}", campaignId=campaign
    )
    d[f"sale{tag}"] = await _donate(w, fund, "CHARITY_SALE", "50.00", donorName=f"义卖摊主{tag}")
    d[f"bank{tag}"] = await _donate(
        w,
        fund,
        "BANK_TRANSFER",
        "1000.00",
        donorName=f"转账捐赠人{tag}",
        externalRef=f"BANKSECRET{tag}",
    )
    d[f"goods{tag}"] = await _donate(w, fund, "IN_KIND", "240.00", donorName=f"实物捐赠人{tag}")
    d[f"anonymous{tag}"] = await _donate(w, fund, "CASH", "20.00", anonymous=True)
    return d


async def seed(world: World) -> Seeded:
    w = world
    other_campaign = (await _ok(w, CAMPAIGN, {"f": w.other_fund}, "createCampaign"))["campaign"]
    other_campaign_id = other_campaign["id"]
    d = await _every_channel(w, w.fund, "A", w.campaign)
    d.update(await _every_channel(w, w.other_fund, "B", other_campaign_id))
    # The partner signed with the first community gives to its fund; the partner of the
    # second community signs with the first too and gives to both funds.
    sign = """mutation($c: ID!) { registerPartner(input: {name: "爱酷体育", kind: BUSINESS,
      communityId: $c, signedOn: "2023-05-21"}) { partner { id } errors { code message } } }"""
    await _ok(w, sign, {"c": w.community}, "registerPartner", w.admin)
    d["partnerOwn"] = await _donate(
        w,
        w.fund,
        "BANK_TRANSFER",
        "500.00",
        partnerId=w.partner_id,
        externalRef="BANKSECRETP",
    )
    d["otherPartner"] = await _donate(
        w,
        w.fund,
        "BANK_TRANSFER",
        "600.00",
        partnerId=w.other_partner_id,
        donorName="爱酷体育",
        externalRef="BANKSECRETQ",
    )
    d["otherPartnerHome"] = await _donate(
        w,
        w.other_fund,
        "BANK_TRANSFER",
        "700.00",
        partnerId=w.other_partner_id,
        donorName="爱酷体育",
        externalRef="BANKSECRETR",
    )
    for partner, hours in ((w.partner_id, "3.5"), (w.other_partner_id, "2")):
        i = {
            "partnerId": partner,
            "hours": hours,
            "description": "邻居节志愿服务",
            "idempotencyKey": new_key("s"),
        }
        await _ok(w, SERVICE, {"i": i}, "recordService", w.admin)
    for fund, staff in ((w.fund, w.staff), (w.other_fund, w.other_staff)):
        await _cash(w, fund, staff)
        await _disbursements(w, fund, staff)
    csv = "date,reference,amount,fee\n2023-06-12,WXSECRETA,88.00,0.53\n2023-06-12,WXNOBODY,5.00,0.03\n"
    i = {
        "fundId": w.fund,
        "source": "PAYMENT_CHANNEL",
        "payoutRef": "PAYOUTSECRET",
        "csv": csv,
        "idempotencyKey": new_key("imp"),
    }
    await _ok(w, IMPORT, {"i": i}, "importStatement")
    return Seeded(world=w, other_campaign=other_campaign_id, donations=d)
