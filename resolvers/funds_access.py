"""Which funds and donations a viewer may see, by the rule table (resolvers/auth.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import true

from db.models import DonationRow, FundRow
from resolvers.auth import VISIBILITY, Action, Viewer, authorize, sees


@dataclass(frozen=True)
class Scope:
    """Narrows a fund list to one community's or one subdistrict's funds."""

    community_id: int | None = None
    subdistrict_id: int | None = None


def fund_condition(viewer: Viewer | None):
    """SQL condition on FundRow for the funds the viewer may read (raises for
    anonymous callers and roles that read no funds)."""
    authorize(viewer, Action.READ_FUNDS)
    if viewer.sees_everything:
        return true()
    return FundRow.community_id == viewer.community_id


def can_see_fund(viewer: Viewer | None, fund: FundRow | None) -> bool:
    if fund is None:
        return False
    return sees(viewer, VISIBILITY["Fund"], community_ids=_communities(fund))


def can_see_donation(viewer: Viewer | None, donation: DonationRow, fund: FundRow | None) -> bool:
    if fund is None:
        return False
    return sees(
        viewer,
        VISIBILITY["Donation"],
        community_ids=_communities(fund),
        partner_id=donation.partner_id,
    )


def _communities(fund: FundRow) -> set[int]:
    return {fund.community_id} if fund.community_id is not None else set()
