"""StatementLine is a Node: node(id) answers a line to whoever may see its fund's
reconciliation (the rule table's RECONCILE), with the values the import's list shows,
and null to everyone else, exactly like an id that names nothing."""

from __future__ import annotations

from resolvers.ids import to_global_id
from tests.api.client import new_key
from tests.visibility.seed import seed

LINES = """query($id: ID!) { fund: node(id: $id) { ... on Fund { id } }
  reconciliation(fundId: $id) { unmatchedLines { id lineNo reference status } } }"""
IMPORT_LINES = """query($id: ID!) { node(id: $id) { ... on StatementImport {
  lines { id lineNo reference status statementImport { id } } } } }"""
LINE = """query($id: ID!) { node(id: $id) { __typename ... on StatementLine {
  id lineNo reference status statementImport { id } } } }"""
RESOLVE = """mutation($i: ResolveStatementLineInput!) { resolveStatementLine(input: $i) {
  line { id status note } errors { code } } }"""


async def _import_id(world) -> str:
    body = await world.api.data(LINES, {"id": world.fund}, token=world.fin)
    line_id = body["reconciliation"]["unmatchedLines"][0]["id"]
    line = await world.api.data(LINE, {"id": line_id}, token=world.fin)
    return line["node"]["statementImport"]["id"]


async def test_node_answers_a_line_with_the_values_its_import_lists(world):
    await seed(world)
    listed = await world.api.data(IMPORT_LINES, {"id": await _import_id(world)}, token=world.fin)
    lines = listed["node"]["lines"]
    assert [line["reference"] for line in lines] == ["WXSECRETA", "WXNOBODY"]
    assert len({line["id"] for line in lines}) == 2
    for line in lines:
        for token in (world.fin, world.admin):
            found = await world.api.data(LINE, {"id": line["id"]}, token=token)
            assert found["node"] == {"__typename": "StatementLine", **line}


async def test_a_line_is_null_to_whoever_may_not_reconcile_its_fund(world):
    await seed(world)
    unmatched = await world.api.data(LINES, {"id": world.fund}, token=world.fin)
    line_id = unmatched["reconciliation"]["unmatchedLines"][0]["id"]
    for token in (world.staff, world.other_staff, world.partner, None):
        body = await world.api.execute(LINE, {"id": line_id}, token=token)
        assert body == {"data": {"node": None}}, token
    # An id of a line that does not exist looks the same to FINANCE.
    missing = await world.api.data(
        LINE, {"id": to_global_id("StatementLine", 999999)}, token=world.fin
    )
    assert missing == {"node": None}


async def test_resolving_a_line_answers_the_same_node_the_lists_hold(world):
    await seed(world)
    unmatched = await world.api.data(LINES, {"id": world.fund}, token=world.fin)
    line = unmatched["reconciliation"]["unmatchedLines"][0]
    assert line["reference"] == "WXNOBODY"
    i = {
        "statementImportId": await _import_id(world),
        "lineNo": line["lineNo"],
        "resolution": "IGNORE",
        "note": "另一基金的款项",
        "idempotencyKey": new_key("r"),
    }
    done = await world.api.data(RESOLVE, {"i": i}, token=world.fin)
    assert done["resolveStatementLine"] == {
        "line": {"id": line["id"], "status": "RESOLVED", "note": "另一基金的款项"},
        "errors": [],
    }
    again = await world.api.data(LINE, {"id": line["id"]}, token=world.fin)
    assert again["node"]["status"] == "RESOLVED"
