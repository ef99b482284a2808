"""A small world built through the use cases themselves, without HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from resolvers import commands as C
from resolvers import funds, partners, places
from resolvers.auth import Viewer
from resolvers.unit_of_work import UnitOfWork

ADMIN = Viewer(user_id=0, username="admin", roles=frozenset({"ADMIN", "FINANCE"}))
FESTIVAL = datetime(2023, 6, 10, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Place:
    uow: UnitOfWork
    community: int
    fund: int
    campaign: int
    partner: int


async def a_fund(engine) -> Place:
    uow = UnitOfWork(engine, ADMIN)
    sub = await places.create_subdistrict(C.CreateSubdistrict("建设路街道", "中原区"), uow)
    community = await places.create_community(C.CreateCommunity(sub.id, "儿童公园社区"), uow)
    fund = await funds.open_fund(
        C.OpenFund("ETGY", "儿童公园社区慈善基金", "COMMUNITY", "郑州市慈善总会", community.id),
        uow,
    )
    campaign = await funds.create_campaign(
        C.CreateCampaign(fund.id, "2023邻居节", FESTIVAL, FESTIVAL.replace(hour=12)), uow
    )
    partner = await partners.register_partner(
        C.RegisterPartner("百花编织队", "VOLUNTEER_TEAM", community.id, date(2023, 5, 20)), uow
    )
    return Place(uow, community.id, fund.id, campaign.id, partner.id)
