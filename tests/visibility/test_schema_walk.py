"""Every role walks the whole schema (generated from introspection) over a world with
something of every kind, and sees the same objects whatever path it takes: each object
with an id it meets is one node(id) gives it too, with the same values, and no private
value of an object the rule table hides from it appears anywhere in its answers."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from resolvers import auth
from resolvers.auth import Viewer
from resolvers.ids import parse_global_id
from tests.api.world import World, pk
from tests.visibility.seed import seed
from tests.visibility.walk import INTROSPECTION, SchemaMap, Walk, starting_points, strings_in

ROLES = ("ADMIN", "FINANCE", "COMMUNITY_STAFF", "PARTNER", "anonymous")

# Private text of each kind of object, by the type whose rule (auth.VISIBILITY) hides it:
# (type, SQL giving the object's communities, partner and private strings).
PRIVATE_TEXT = {
    "Donation": """SELECT ARRAY[f.community_id], d.partner_id, ARRAY[d.donor_name, d.external_ref]
        FROM donations d JOIN funds f ON f.id = d.fund_id""",
    "Disbursement": """SELECT ARRAY[f.community_id], NULL::int, ARRAY[d.payee, d.purpose]
        FROM disbursements d JOIN funds f ON f.id = d.fund_id""",
    "CashCount": """SELECT ARRAY[f.community_id], NULL::int, string_to_array(c.counted_by, E'\\n')
        FROM cash_counts c JOIN funds f ON f.id = c.fund_id""",
    "JournalEntry": """SELECT ARRAY[f.community_id], NULL::int, ARRAY[e.memo, e.hash, e.reference]
        FROM journal_entries e JOIN funds f ON f.id = e.fund_id""",
    "StatementImport": """SELECT ARRAY[f.community_id], NULL::int, ARRAY[i.payout_ref]
        FROM statement_imports i JOIN funds f ON f.id = i.fund_id""",
    "StatementLine": """SELECT ARRAY[f.community_id], NULL::int, ARRAY[l.reference, l.note]
        FROM statement_lines l JOIN funds f ON f.id = l.fund_id""",
    "Contribution": """SELECT ARRAY(SELECT p.community_id FROM partnerships p
          WHERE p.partner_id = c.partner_id), c.partner_id, ARRAY[c.description]
        FROM contributions c""",
}


def viewer_of(world: World, role: str) -> tuple[str | None, Viewer | None]:
    if role == "anonymous":
        return None, None
    token, scope = {
        "ADMIN": (world.admin, {}),
        "FINANCE": (world.fin, {}),
        "COMMUNITY_STAFF": (world.staff, {"community_id": pk(world.community)}),
        "PARTNER": (world.partner, {"partner_id": pk(world.partner_id)}),
    }[role]
    return token, Viewer(user_id=0, username=role, roles=frozenset({role}), **scope)


async def private_strings(world: World, viewer: Viewer | None) -> set[str]:
    """Private text of every object the rule table hides from the viewer, less any
    string an object it may see holds as well."""
    hidden, shown = set(), set()
    async with world.api.state.engine.connect() as conn:
        for type_name, sql in PRIVATE_TEXT.items():
            for communities, partner_id, values in (await conn.execute(text(sql))).all():
                sees = auth.sees(
                    viewer,
                    auth.VISIBILITY[type_name],
                    community_ids={c for c in communities if c is not None},
                    partner_id=partner_id,
                )
                (shown if sees else hidden).update(v for v in values if v)
    return hidden - shown


def problems(walk: Walk) -> list[str]:
    found = []
    for met in walk.met:
        if met.id is None:
            continue
        answer = walk.by_node.get(met.id)
        if answer is None:
            found.append(f"{met.type_name} reached through {met.via}, but node() answers null")
            continue
        if answer["__typename"] != met.type_name:
            found.append(f"{met.type_name} through {met.via} is a {answer['__typename']} in node()")
        for name, value in met.leaves.items():
            if name in answer and answer[name] != value:
                found.append(
                    f"{met.type_name}.{name} through {met.via}: {value!r}, node(): {answer[name]!r}"
                )
    return sorted(set(found))


@pytest.mark.parametrize("role", ROLES)
async def test_every_path_shows_a_role_what_node_shows_it(world, role):
    seeded = await seed(world)
    api = world.api
    schema = SchemaMap(await api.data(INTROSPECTION))
    token, viewer = viewer_of(world, role)
    campaigns = [world.campaign, seeded.other_campaign]
    starts = starting_points(
        schema,
        {"code": ["ETGY", "BH"], "fundId": [world.fund, world.other_fund]},
        [(c, parse_global_id(c)[0]) for c in campaigns],
    )
    walk = await Walk(api, schema, token).run(starts)

    internal = [
        e
        for e in walk.errors
        if e.get("extensions", {}).get("code")
        not in ("NOT_FOUND", "FORBIDDEN", "UNAUTHENTICATED", "INVALID_INPUT")
    ]
    assert internal == []
    answered = set().union(*(strings_in(a) for a in walk.answers))
    leaked = sorted(answered & await private_strings(world, viewer))
    assert (problems(walk), leaked) == ([], [])
    met_types = {m.type_name for m in walk.met}
    # Every role reaches the public kinds: a refused list never nulls them away.
    assert {kind for kind, action in auth.VISIBILITY.items() if action is None} <= met_types
    if role == "ADMIN":  # the walk and the world reach every kind of object
        kinds = set(schema.possible["Node"]) & schema.reachable()
        assert kinds - met_types == set()
    if role == "PARTNER":  # its own gift, and through it the fund's public face
        own = walk.by_node.get(seeded.donations["partnerOwn"])
        assert own is not None and own["externalRef"] == "BANKSECRETP"
