"""Demo data from the programme Jinlin serves: Zhongyuan District, Zhengzhou, a 2023
Neighbours' Festival day, and a festival running now (so the live board takes donations
right after `make run`), posted through the same use cases as the API."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import CampaignRow, SubdistrictRow
from db.uow import read_session
from resolvers import cash, disbursements, donations, funds, partners, places
from resolvers import commands as C
from resolvers.auth import Viewer
from resolvers.ids import to_global_id
from resolvers.unit_of_work import UnitOfWork
from resolvers.users import create_user_in, viewer_of

SHANGHAI = ZoneInfo("Asia/Shanghai")
DISTRICT = "中原区"
SUBDISTRICTS = [
    "航海西路街道",
    "建设路街道",
    "林山寨街道",
    "秦岭路街道",
    "绿东村街道",
    "西流湖街道",
    "桐柏路街道",
    "须水街道",
]
COMMUNITIES = {
    "建设路街道": [("民安社区", 3), ("儿童公园社区", 4), ("百花社区", 3)],
    "林山寨街道": [("锦艺西社区", 3), ("陇南社区", 2), ("花语里社区", 2)],
    "秦岭路街道": [("晶华城社区", 3)],
    "航海西路街道": [("平安街社区", 2)],
    "绿东村街道": [("河东路社区", 2)],
}
PARTNERS = [
    ("郑州四六〇医院", "PUBLIC_INSTITUTION", "儿童公园社区"),
    ("浦发银行百花路支行", "BUSINESS", "儿童公园社区"),
    ("建设银行百花路支行", "BUSINESS", "百花社区"),
    ("标榜美容美发学校", "SOCIAL_ORGANIZATION", "儿童公园社区"),
    ("国网郑州供电公司", "PUBLIC_INSTITUTION", "民安社区"),
    ("正商金城世家物业", "BUSINESS", "儿童公园社区"),
    ("爱酷体育", "BUSINESS", "锦艺西社区"),
    # A donation's partner must have a partnership in its fund's area (migration 0010):
    # these two also sign where they give, in 建设路街道 (ETGY's community, JSL's area).
    ("建设银行百花路支行", "BUSINESS", "儿童公园社区"),
    ("爱酷体育", "BUSINESS", "百花社区"),
]
# The festival running now, in the subdistrict fund: (partner, what, amount or hours, note).
# With the 2023 day's, every partner has several contributions.
LIVE_PARTNER_GIFTS = [
    ("郑州四六〇医院", "BANK_TRANSFER", "2000.00", None),
    ("郑州四六〇医院", "SERVICE", "4", "邻居节义诊咨询"),
    ("浦发银行百花路支行", "BANK_TRANSFER", "3000.00", None),
    ("浦发银行百花路支行", "SERVICE", "3", "金融知识进社区"),
    ("建设银行百花路支行", "BANK_TRANSFER", "5000.00", None),
    ("建设银行百花路支行", "IN_KIND", "800.00", "爱心书包 40 个"),
    ("标榜美容美发学校", "SERVICE", "6", "邻居节义剪"),
    ("标榜美容美发学校", "CHARITY_SALE", "650.00", "学员作品义卖"),
    ("国网郑州供电公司", "SERVICE", "5", "楼道用电安全检查"),
    ("国网郑州供电公司", "BANK_TRANSFER", "2000.00", None),
    ("国网郑州供电公司", "IN_KIND", "1200.00", "节能台灯 30 盏"),
    ("正商金城世家物业", "IN_KIND", "1500.00", "矿泉水 100 箱"),
    ("正商金城世家物业", "SERVICE", "8", "邻居节志愿服务"),
    ("爱酷体育", "IN_KIND", "900.00", "儿童体育器材"),
    ("爱酷体育", "SERVICE", "4", "亲子运动会"),
    ("爱酷体育", "BANK_TRANSFER", "1000.00", None),
]
# Residents' gifts to it: (donor or None for anonymous, channel, amount).
LIVE_GIFTS = [
    ("张三丰", "ONLINE", "200.00"),
    ("李小龙", "ONLINE", "88.88"),
    (None, "CASH", "1268.50"),
    ("王芳", "ONLINE", "520.00"),
    ("赵敏", "CHARITY_SALE", "366.00"),
    (None, "ONLINE", "50.00"),
    ("孙小梅", "ONLINE", "100.00"),
    ("周杰", "CASH", "300.00"),
]
LIVE_GOAL = "30000.00"
SYSTEM = Viewer(user_id=0, username="seed-demo", roles=frozenset({"ADMIN", "FINANCE"}))


def _at(day: date, hh: int, mm: int) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=SHANGHAI).astimezone(UTC)


def _money(amount: str) -> C.Money:
    return C.Money(Decimal(amount), "CNY")


async def seed_demo(engine: AsyncEngine) -> str:
    """Load the demo into an empty database; leave a non-empty one alone."""
    async with read_session(engine) as session:
        if await session.scalar(select(func.count()).select_from(SubdistrictRow)):
            return "the database already holds data: demo not loaded"

    system = UnitOfWork(engine, SYSTEM)
    communities, partner_ids = await _places(system)
    etgy, jsl, campaign = await _festival(system, communities, partner_ids)
    passwords = {
        name: secrets.token_urlsafe(12)
        for name in ("admin", "finance", "auditor", "staff", "partner")
    }
    users = await _users(engine, passwords, communities, partner_ids)
    await _spending(system, etgy.id, users)
    live = await seed_live_festival(engine, jsl.id, partner_ids, datetime.now(UTC))

    lines = [
        "demo loaded: 中原区, 8 subdistricts, 9 communities, 7 partners, 3 funds,"
        " the 2023 邻居节 campaign and a festival running now",
        f"live board of the festival running now: /board/{to_global_id('Campaign', live.id)}",
        f"the 2023 邻居节's board: /board/{to_global_id('Campaign', campaign.id)}",
        "public pages: /funds/ETGY, /funds/JSL",
        "",
        "demo users (passwords are generated now and shown only once):",
    ]
    lines += [f"  {name:<8} {pw}" for name, pw in passwords.items()]
    return "\n".join(lines)


async def seed_live_festival(
    engine: AsyncEngine, fund_pk: int, partner_ids: dict[str, int], now: datetime
) -> CampaignRow:
    """A festival whose window holds `now`, with a goal, partly raised: gifts spread over
    the hours before `now`, so none is in the future whenever the demo is loaded."""
    today = now.astimezone(SHANGHAI).date()
    system = UnitOfWork(engine, SYSTEM)
    campaign = await funds.create_campaign(
        C.CreateCampaign(
            fund_id=fund_pk,
            name=f"{today.year}建设路街道邻居节",
            starts_at=_at(today - timedelta(days=2), 8, 0),
            ends_at=_at(today + timedelta(days=14), 20, 0),
            goal=_money(LIVE_GOAL),
        ),
        system,
    )
    gifts = [(None, donor, how, amount, None) for donor, how, amount in LIVE_GIFTS] + [
        (partner, None, what, amount, note) for partner, what, amount, note in LIVE_PARTNER_GIFTS
    ]
    for n, (partner, donor, channel, amount, note) in enumerate(gifts):
        at = now - timedelta(hours=len(gifts) - n, minutes=7 * n % 60)
        key = f"demo-live-{n}"
        partner_pk = partner_ids[partner] if partner else None
        if channel == "SERVICE":
            await partners.record_service(
                C.RecordService(
                    partner_pk, Decimal(amount), note, key, occurred_at=at, campaign_id=campaign.id
                ),
                system,
            )
            continue
        await donations.record_donation(
            C.RecordDonation(
                fund_id=fund_pk,
                campaign_id=campaign.id,
                channel=channel,
                amount=Decimal(amount),
                currency="CNY",
                idempotency_key=key,
                received_at=at,
                donor_name=donor,
                anonymous=donor is None and partner is None,
                partner_id=partner_pk,
                description=note or ("现场捐款箱" if channel == "CASH" else None),
                external_ref=f"LIVE{today:%Y%m%d}-{n:04d}"
                if channel in ("ONLINE", "BANK_TRANSFER")
                else None,
            ),
            system,
        )
    return campaign


async def running_campaigns(engine: AsyncEngine, now: datetime) -> list[CampaignRow]:
    """Campaigns whose window holds `now`, goal first: the boards worth opening."""
    async with read_session(engine) as session:
        rows = await session.scalars(
            select(CampaignRow)
            .where(CampaignRow.starts_at <= now)
            .where((CampaignRow.ends_at.is_(None)) | (CampaignRow.ends_at > now))
            .order_by(CampaignRow.goal_fen.is_(None), CampaignRow.id)
        )
        return list(rows)


async def _subdistrict_id(engine: AsyncEngine, name: str) -> int:
    async with read_session(engine) as session:
        return await session.scalar(select(SubdistrictRow.id).where(SubdistrictRow.name == name))


async def _open_funds(system: UnitOfWork, communities: dict[str, int], jsl_sub: int):
    """The demo's three funds: (ETGY, which the 2023 festival gave to, and JSL, whose
    festival runs now)."""
    etgy = await funds.open_fund(
        C.OpenFund(
            code="ETGY",
            name="儿童公园社区慈善基金",
            level="COMMUNITY",
            host="郑州市慈善总会",
            community_id=communities["儿童公园社区"],
        ),
        system,
    )
    jsl = await funds.open_fund(
        C.OpenFund(
            code="JSL",
            name="建设路街道慈善基金",
            level="SUBDISTRICT",
            host="郑州市慈善总会",
            subdistrict_id=jsl_sub,
        ),
        system,
    )
    await funds.open_fund(
        C.OpenFund(
            code="PGY",
            name="蒲公英居民互助基金",
            level="COMMUNITY",
            host="郑州市慈善总会",
            community_id=communities["民安社区"],
            restricted_purpose="蒲公英居民互助项目：困难居民临时救助",
        ),
        system,
    )
    return etgy, jsl


ONLINE_GIFTS = [
    ("张三丰", "200.00"),
    ("李四", "50.00"),
    ("王芳", "100.00"),
    (None, "20.00"),
    ("赵敏", "66.00"),
    ("孙小梅", "88.00"),
    ("周杰", "500.00"),
    (None, "10.00"),
    ("吴刚", "30.00"),
    ("郑爽", "120.00"),
]


async def _festival_donations(
    system: UnitOfWork, fund_id: int, campaign_id: int, partner_ids: dict[str, int]
) -> None:
    festival = date(2023, 6, 10)

    async def give(n: int, channel: str, amount: str, hh: int, mm: int, **extra):
        await donations.record_donation(
            C.RecordDonation(
                fund_id=fund_id,
                campaign_id=campaign_id,
                channel=channel,
                amount=Decimal(amount),
                currency="CNY",
                idempotency_key=f"demo-donation-{n}",
                received_at=_at(festival, hh, mm),
                **extra,
            ),
            system,
        )

    for i, (donor, amount) in enumerate(ONLINE_GIFTS):
        await give(
            i,
            "ONLINE",
            amount,
            9 + i // 3,
            5 * i,
            donor_name=donor,
            anonymous=donor is None,
            external_ref=f"WX20230610{i:06d}",
        )
    await give(20, "CASH", "1235.50", 11, 30, anonymous=True, description="捐款箱一号")
    await give(21, "CASH", "860.00", 14, 10, anonymous=True, description="捐款箱二号")
    await give(
        22,
        "CHARITY_SALE",
        "1456.00",
        15,
        0,
        donor_name="儿童公园社区义卖摊",
        description="手工艺品义卖",
    )
    await give(
        23,
        "BANK_TRANSFER",
        "5000.00",
        10,
        0,
        partner_id=partner_ids["建设银行百花路支行"],
        donor_name="建设银行百花路支行",
        external_ref="CCB20230610-0001",
    )
    await give(
        24,
        "BANK_TRANSFER",
        "3000.00",
        10,
        30,
        partner_id=partner_ids["浦发银行百花路支行"],
        external_ref="SPDB20230610-0007",
    )
    await give(
        25,
        "IN_KIND",
        "2400.00",
        9,
        0,
        partner_id=partner_ids["正商金城世家物业"],
        description="米面油慰问品 60 份",
    )


async def _places(system: UnitOfWork) -> tuple[dict[str, int], dict[str, int]]:
    """The district's subdistricts, communities and partners: (community ids, partner
    ids) by name."""
    communities: dict[str, int] = {}
    for name in SUBDISTRICTS:
        sub = await places.create_subdistrict(C.CreateSubdistrict(name, DISTRICT), system)
        for community, grid_count in COMMUNITIES.get(name, []):
            grids = tuple(f"第{n}网格" for n in "一二三四五六"[:grid_count])
            row = await places.create_community(C.CreateCommunity(sub.id, community, grids), system)
            communities[community] = row.id
    partner_ids: dict[str, int] = {}
    for name, kind, community in PARTNERS:
        row = await partners.register_partner(
            C.RegisterPartner(
                name=name,
                kind=kind,
                community_id=communities[community],
                signed_on=date(2023, 5, 20),
                certificate_no=f"ZY-2023-{len(partner_ids) + 1:03d}",
            ),
            system,
        )
        partner_ids[name] = row.id
    for name, hours, what in [
        ("标榜美容美发学校", "6", "邻居节义剪"),
        ("郑州四六〇医院", "8", "邻居节义诊"),
    ]:
        await partners.record_service(
            C.RecordService(
                partner_id=partner_ids[name],
                hours=Decimal(hours),
                description=what,
                occurred_at=_at(date(2023, 6, 10), 12, 0),
                idempotency_key=f"demo-service-{name}",
            ),
            system,
        )
    return communities, partner_ids


async def _festival(system: UnitOfWork, communities: dict[str, int], partner_ids: dict[str, int]):
    """The funds, the 2023 festival's campaign and its day of giving: (ETGY, JSL, the
    campaign)."""
    jsl_sub = await _subdistrict_id(system.engine, "建设路街道")
    etgy, jsl = await _open_funds(system, communities, jsl_sub)
    festival = date(2023, 6, 10)
    campaign = await funds.create_campaign(
        C.CreateCampaign(
            fund_id=etgy.id,
            name="2023邻居节",
            starts_at=_at(festival, 8, 0),
            ends_at=_at(festival, 20, 0),
            goal=C.Money(Decimal("20000.00"), "CNY"),
        ),
        system,
    )
    await _festival_donations(system, etgy.id, campaign.id, partner_ids)
    await cash.record_cash_count(
        C.RecordCashCount(
            fund_id=etgy.id,
            campaign_id=campaign.id,
            counted=_money("3550.00"),
            counted_by=("刘晓红", "陈建国"),
            idempotency_key="demo-count-1",
        ),
        system.at(_at(festival, 20, 30)),
    )
    await cash.deposit_cash(
        C.DepositCash(
            fund_id=etgy.id,
            amount=_money("3550.00"),
            bank_ref="DEP20230612-01",
            idempotency_key="demo-deposit-1",
        ),
        system.at(_at(date(2023, 6, 12), 10, 0)),
    )

    return etgy, jsl, campaign


async def _users(
    engine: AsyncEngine,
    passwords: dict[str, str],
    communities: dict[str, int],
    partner_ids: dict[str, int],
) -> dict:
    """The demo's users, by name."""
    admin = await create_user_in(engine, "admin", passwords["admin"], ["ADMIN"])
    finance = await create_user_in(engine, "finance", passwords["finance"], ["FINANCE"])
    auditor = await create_user_in(engine, "auditor", passwords["auditor"], ["FINANCE"])
    staff = await create_user_in(
        engine,
        "staff",
        passwords["staff"],
        ["COMMUNITY_STAFF"],
        community_id=communities["儿童公园社区"],
    )
    partner = await create_user_in(
        engine,
        "partner",
        passwords["partner"],
        ["PARTNER"],
        partner_id=partner_ids["浦发银行百花路支行"],
    )

    return dict(admin=admin, finance=finance, auditor=auditor, staff=staff, partner=partner)


async def _spending(system: UnitOfWork, fund_id: int, users: dict) -> None:
    """A disbursement requested by staff, approved by finance and paid by the auditor."""
    request = await disbursements.request_disbursement(
        C.RequestDisbursement(
            fund_id=fund_id,
            amount=_money("1200.00"),
            payee="儿童公园社区居委会",
            purpose="邻居节困难家庭慰问金",
            idempotency_key="demo-disb-1",
        ),
        system.acting_as(viewer_of(users["staff"])).at(_at(date(2023, 6, 13), 9, 0)),
    )
    await disbursements.decide_disbursement(
        C.DecideDisbursement("approve", request.id, "demo-disb-1-approve"),
        system.acting_as(viewer_of(users["finance"])).at(_at(date(2023, 6, 14), 15, 0)),
    )
    await disbursements.decide_disbursement(
        C.DecideDisbursement("pay", request.id, "demo-disb-1-pay", note="PAY20230615-01"),
        system.acting_as(viewer_of(users["auditor"])).at(_at(date(2023, 6, 15), 10, 0)),
    )
