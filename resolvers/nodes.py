"""Relay node(id): any object by its global ID, if the viewer may see it."""

from __future__ import annotations

from typing import Any

from resolvers.ids import parse_global_id
from resolvers.loaders_visible import VisibleLoaders

# The viewer-scoped loader of each kind of object (public kinds read plainly).
LOADER = {
    "Subdistrict": lambda v: v.raw.subdistrict,
    "Community": lambda v: v.raw.community,
    "Grid": lambda v: v.raw.grid,
    "Campaign": lambda v: v.campaign,
    "Fund": lambda v: v.fund,
    "Donation": lambda v: v.donation,
    "Disbursement": lambda v: v.disbursement,
    "CashCount": lambda v: v.cash_count,
    "LedgerAccount": lambda v: v.account,
    "JournalEntry": lambda v: v.entry,
    "StatementImport": lambda v: v.statement_import,
    "StatementLine": lambda v: v.statement_line,
    "Partner": lambda v: v.partner,
    "Contribution": lambda v: v.contribution,
    "User": lambda v: v.user,
}


async def find_node(visible: VisibleLoaders, global_id: str) -> tuple[str, Any] | None:
    """(type name, row) for a visible object, None for anything else: unknown,
    malformed and invisible IDs all look the same."""
    parsed = parse_global_id(global_id)
    if parsed is None or parsed[0] not in LOADER:
        return None
    type_name, pk = parsed
    row = await LOADER[type_name](visible).load(pk)
    return (type_name, row) if row is not None else None
