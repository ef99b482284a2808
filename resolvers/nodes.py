"""Relay node(id): any object by its global ID, if the viewer may see it."""

from __future__ import annotations

from typing import Any

from db.models import FundRow
from db.uow import read_session
from resolvers.auth import ADMIN, Viewer
from resolvers.funds_access import can_see_donation, can_see_fund
from resolvers.ids import parse_global_id
from resolvers.loaders import Loaders
from resolvers.partners import can_see_partner

PUBLIC = {"Subdistrict", "Community", "Grid"}
FUND_OWNED = {
    "Campaign": "campaign",
    "Disbursement": "disbursement",
    "CashCount": "cash_count",
    "LedgerAccount": "account",
    "JournalEntry": "entry",
}


async def find_node(
    loaders: Loaders, viewer: Viewer | None, global_id: str
) -> tuple[str, Any] | None:
    """(type name, row) for a visible object, None for anything else: unknown,
    malformed and invisible IDs all look the same."""
    parsed = parse_global_id(global_id)
    if parsed is None:
        return None
    type_name, pk = parsed
    if type_name in PUBLIC:
        row = await getattr(loaders, type_name.lower()).load(pk)
        return (type_name, row) if row else None
    if type_name == "Fund":
        row = await loaders.fund.load(pk)
        return (type_name, row) if can_see_fund(viewer, row) else None
    if type_name in FUND_OWNED:
        row = await getattr(loaders, FUND_OWNED[type_name]).load(pk)
        if row is None:
            return None
        fund: FundRow | None = await loaders.fund.load(row.fund_id)
        return (type_name, row) if can_see_fund(viewer, fund) else None
    if type_name == "Donation":
        row = await loaders.donation.load(pk)
        if row is None:
            return None
        fund = await loaders.fund.load(row.fund_id)
        return (type_name, row) if can_see_donation(viewer, row, fund) else None
    if type_name in ("Partner", "Contribution"):
        row = await (loaders.partner if type_name == "Partner" else loaders.contribution).load(pk)
        if row is None or viewer is None:
            return None
        partner_id = row.id if type_name == "Partner" else row.partner_id
        async with read_session(loaders.engine) as session:
            visible = await can_see_partner(session, viewer, partner_id)
        return (type_name, row) if visible else None
    if type_name == "StatementImport":
        if viewer is None or not viewer.sees_everything:  # FINANCE and ADMIN only
            return None
        row = await loaders.statement_import.load(pk)
        return (type_name, row) if row else None
    if type_name == "User":
        if viewer is None or not (viewer.user_id == pk or viewer.has(ADMIN)):
            return None
        row = await loaders.user.load(pk)
        return (type_name, row) if row else None
    return None
