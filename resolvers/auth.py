"""Who may do what, decided in one place.

Every use case names an Action; RULES says which roles may take it and whether
COMMUNITY_STAFF and PARTNER are held to their own community or partner. VISIBILITY
names, for every kind of object, the action that lets a viewer see one; `sees` applies
it to one object. The viewer-scoped loaders (resolvers/loaders.py) and node(id) decide
with it, so an object a viewer may not see is exactly like one that does not exist,
whatever field led there.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from resolvers.errors import AccessDenied

ADMIN, FINANCE, COMMUNITY_STAFF, PARTNER = "ADMIN", "FINANCE", "COMMUNITY_STAFF", "PARTNER"
ROLES = (ADMIN, FINANCE, COMMUNITY_STAFF, PARTNER)


@dataclass(frozen=True)
class Viewer:
    user_id: int
    username: str
    roles: frozenset[str]
    community_id: int | None = None
    partner_id: int | None = None

    def has(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def sees_everything(self) -> bool:
        return self.has(ADMIN, FINANCE)


class Action(enum.Enum):
    MANAGE_PLACES = "manage places"
    READ_PARTNERS = "read partners"
    MANAGE_PARTNERS = "manage partners"
    OPEN_FUND = "open a fund"
    READ_FUNDS = "read funds"
    MANAGE_CAMPAIGNS = "manage campaigns"
    RECORD_DONATION = "record donations"
    RECORD_OFFLINE_DONATION = "record offline donations"
    REFUND_DONATION = "refund donations"
    HANDLE_CASH = "count and deposit cash"
    REQUEST_DISBURSEMENT = "request disbursements"
    DECIDE_DISBURSEMENT = "approve, reject and pay disbursements"
    POST_MANUAL_ENTRY = "post and reverse manual entries"
    CLOSE_PERIOD = "close periods"
    RECONCILE = "import statements and reconcile"
    READ_LEDGER = "read the ledger"
    READ_DONATIONS = "read donations"
    READ_USERS = "read users"


@dataclass(frozen=True)
class Rule:
    # Roles that may act anywhere.
    anywhere: frozenset[str]
    # Roles that may act only inside their own community (COMMUNITY_STAFF) or on
    # their own partner record (PARTNER).
    scoped: frozenset[str] = frozenset()


def _rule(anywhere: tuple[str, ...], scoped: tuple[str, ...] = ()) -> Rule:
    return Rule(frozenset(anywhere), frozenset(scoped))


RULES: dict[Action, Rule] = {
    Action.MANAGE_PLACES: _rule((ADMIN,)),
    Action.READ_PARTNERS: _rule((ADMIN, FINANCE), (COMMUNITY_STAFF, PARTNER)),
    Action.MANAGE_PARTNERS: _rule((ADMIN,), (COMMUNITY_STAFF,)),
    Action.OPEN_FUND: _rule((ADMIN,)),
    Action.READ_FUNDS: _rule((ADMIN, FINANCE), (COMMUNITY_STAFF,)),
    Action.MANAGE_CAMPAIGNS: _rule((ADMIN, FINANCE), (COMMUNITY_STAFF,)),
    Action.RECORD_DONATION: _rule((ADMIN, FINANCE)),
    Action.RECORD_OFFLINE_DONATION: _rule((ADMIN, FINANCE), (COMMUNITY_STAFF,)),
    Action.REFUND_DONATION: _rule((ADMIN, FINANCE)),
    Action.HANDLE_CASH: _rule((ADMIN, FINANCE), (COMMUNITY_STAFF,)),
    Action.REQUEST_DISBURSEMENT: _rule((ADMIN, FINANCE), (COMMUNITY_STAFF,)),
    Action.DECIDE_DISBURSEMENT: _rule((FINANCE,)),
    Action.POST_MANUAL_ENTRY: _rule((ADMIN, FINANCE)),
    Action.CLOSE_PERIOD: _rule((ADMIN, FINANCE)),
    Action.RECONCILE: _rule((ADMIN, FINANCE)),
    Action.READ_LEDGER: _rule((ADMIN, FINANCE), (COMMUNITY_STAFF,)),
    # Staff see the donations to their community's funds; a partner sees its own gifts.
    Action.READ_DONATIONS: _rule((ADMIN, FINANCE), (COMMUNITY_STAFF, PARTNER)),
    # Everyone also sees their own user (see sees_user).
    Action.READ_USERS: _rule((ADMIN,)),
}

# The action that lets a viewer see an object of each kind; None: anyone may. An object
# is scoped by the communities it belongs to (a fund's, or every community a partner
# signed with) and the partner it is of, if any.
VISIBILITY: dict[str, Action | None] = {
    "Subdistrict": None,
    "Community": None,
    "Grid": None,
    # Campaigns are public: the live board and the progress subscription need no sign-in.
    "Campaign": None,
    "Fund": Action.READ_FUNDS,
    "Disbursement": Action.READ_FUNDS,
    "CashCount": Action.READ_FUNDS,
    "LedgerAccount": Action.READ_LEDGER,
    "JournalEntry": Action.READ_LEDGER,
    "Donation": Action.READ_DONATIONS,
    "Partner": Action.READ_PARTNERS,
    "Contribution": Action.READ_PARTNERS,
    "StatementImport": Action.RECONCILE,
    # A line is seen by whoever may see its fund's reconciliation, whichever way it is asked for.
    "StatementLine": Action.RECONCILE,
    "User": Action.READ_USERS,
}


def authorize(
    viewer: Viewer | None,
    action: Action,
    *,
    community_ids: frozenset[int] | set[int] | None = None,
    partner_id: int | None = None,
) -> Viewer:
    """Return the viewer when it may take `action` on an object in `community_ids`
    (the communities the object belongs to) or of `partner_id`; raise otherwise."""
    if viewer is None:
        raise AccessDenied("UNAUTHENTICATED")
    rule = RULES[action]
    if viewer.roles & rule.anywhere:
        return viewer
    if COMMUNITY_STAFF in rule.scoped and viewer.has(COMMUNITY_STAFF):
        if community_ids is None or (
            viewer.community_id is not None and viewer.community_id in community_ids
        ):
            return viewer
    if PARTNER in rule.scoped and viewer.has(PARTNER):
        if partner_id is None or (
            viewer.partner_id is not None and viewer.partner_id == partner_id
        ):
            return viewer
    raise AccessDenied("FORBIDDEN")


def allowed(viewer: Viewer | None, action: Action, **scope) -> bool:
    try:
        authorize(viewer, action, **scope)
    except AccessDenied:
        return False
    return True


def sees(
    viewer: Viewer | None,
    action: Action | None,
    *,
    community_ids: frozenset[int] | set[int] = frozenset(),
    partner_id: int | None = None,
) -> bool:
    """Whether the viewer may see one object that `action` guards (None: a public one),
    belonging to `community_ids` and of `partner_id`. Unlike authorize, a missing scope
    never lets a scoped role through: an object of no community is no staff's."""
    if action is None:
        return True
    if viewer is None:
        return False
    rule = RULES[action]
    if viewer.roles & rule.anywhere:
        return True
    if COMMUNITY_STAFF in rule.scoped and viewer.has(COMMUNITY_STAFF):
        if viewer.community_id is not None and viewer.community_id in community_ids:
            return True
    if PARTNER in rule.scoped and viewer.has(PARTNER):
        if viewer.partner_id is not None and viewer.partner_id == partner_id:
            return True
    return False


def sees_user(viewer: Viewer | None, user_id: int) -> bool:
    return viewer is not None and (viewer.user_id == user_id or sees(viewer, Action.READ_USERS))
