"""Which funds, donations and ledger objects a viewer may see."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import true

from db.models import DonationRow, FundRow
from resolvers.auth import COMMUNITY_STAFF, PARTNER, Action, Viewer, authorize


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
    if viewer is None or fund is None:
        return False
    if viewer.sees_everything:
        return True
    return (
        viewer.has(COMMUNITY_STAFF)
        and viewer.community_id is not None
        and fund.community_id == viewer.community_id
    )


def can_see_donation(viewer: Viewer | None, donation: DonationRow, fund: FundRow | None) -> bool:
    if can_see_fund(viewer, fund):
        return True
    return bool(
        viewer
        and viewer.has(PARTNER)
        and viewer.partner_id is not None
        and donation.partner_id == viewer.partner_id
    )
