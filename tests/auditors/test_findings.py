"""What the outside auditors found, pinned in-process: each was an internal error (or
an HTTP 500) before it was fixed, and is a plain refusal, or an answer, now."""

from __future__ import annotations

import base64

import orjson
import pytest

from tests.api.world import World

FUND_PAGE = "query($id: ID!) { node(id: $id) { id } }"


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def codes(body: dict) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors") or []]


@pytest.mark.parametrize(
    "raw",
    ["Fund:99999999999", "Fund:999999999999999999", "Campaign:2147483648", "Fund:²", "Fund:١"],
    ids=["past int4", "past int8 digits", "int4 + 1", "superscript digit", "Arabic-Indic digit"],
)
async def test_ids_whose_key_no_column_holds_name_nothing(world: World, raw):
    """Such keys reached asyncpg (int4 overflow) or int() ("²"); "١" was read as 1."""
    body = await world.api.execute(FUND_PAGE, {"id": b64(raw)}, token=world.admin)
    assert body == {"data": {"node": None}}
    body = await world.api.execute(
        "query($f: ID!) { verifyJournal(fundId: $f) { ok } }", {"f": b64(raw)}, token=world.fin
    )
    assert codes(body) == ["NOT_FOUND"]


async def test_a_journal_entry_key_may_be_a_bigint(world: World):
    body = await world.api.execute(
        FUND_PAGE, {"id": b64("JournalEntry:999999999999999999")}, token=world.admin
    )
    assert body == {"data": {"node": None}}


@pytest.mark.parametrize("key", [2**31, 2**40, -(2**31)])
async def test_a_cursor_key_past_the_column_is_not_a_cursor(world: World, key):
    cursor = b64(orjson.dumps([key]).decode())
    body = await world.api.execute(
        "query($a: String!) { subdistricts(after: $a) { edges { cursor } } }",
        {"a": cursor},
        token=world.admin,
    )
    assert codes(body) == ["INVALID_INPUT"]


@pytest.mark.parametrize(
    "moment",
    ["0001-01-01T00:00:00+23:59", "0001-12-31T23:00:00Z", "9999-12-31T23:59:59-23:59"],
)
async def test_instants_near_the_calendar_ends_are_refused(world: World, moment):
    body = await world.api.execute(
        "query($f: ID!, $at: DateTime!) { reconciliation(fundId: $f, at: $at) { __typename } }",
        {"f": world.fund, "at": moment},
        token=world.fin,
    )
    assert codes(body) == ["BAD_USER_INPUT"] and "years 0002 to 9998" in str(body)


DISCLOSURE = (
    'query($f: Date!, $t: Date!) { fundDisclosure(code: "ETGY", from: $f, to: $t) { __typename } }'
)


@pytest.mark.parametrize(
    "period", [("0001-01-01", "0001-02-01"), ("9999-12-01", "9999-12-31")], ids=["first", "last"]
)
async def test_days_at_the_calendar_ends_are_refused(world: World, period):
    body = await world.api.execute(DISCLOSURE, {"f": period[0], "t": period[1]})
    assert set(codes(body)) == {"BAD_USER_INPUT"}


@pytest.mark.parametrize(
    "period", [("0002-01-01", "0002-01-31"), ("9998-12-01", "9998-12-31")], ids=["first", "last"]
)
async def test_the_calendar_s_first_and_last_allowed_days_work(world: World, period):
    """Reports and their downloads too: their period bounds are a day's edges."""
    data = await world.api.data(DISCLOSURE, {"f": period[0], "t": period[1]})
    assert data == {"fundDisclosure": {"__typename": "FundDisclosure"}}
    for kind in ("JOURNAL", "TRIAL_BALANCE", "BALANCE_SHEET", "ACTIVITIES", "CASH_FLOW"):
        link = await world.api.data(
            "query($f: ID!, $k: ReportKind!, $a: Date!, $b: Date!) { fundReport(fundId: $f,"
            " kind: $k, from: $a, to: $b, format: CSV) { url } }",
            {"f": world.fund, "k": kind, "a": period[0], "b": period[1]},
            token=world.fin,
        )
        response = await world.api.http.get(link["fundReport"]["url"])
        assert response.status_code == 200, (kind, response.text[:300])


async def test_pages_refuse_days_outside_the_calendar_and_ids_past_the_keys(world: World):
    http = world.api.http
    response = await http.get("/funds/ETGY", params={"from": "0001-01-01", "to": "0001-01-31"})
    assert response.status_code == 400
    response = await http.get("/funds/ETGY", params={"from": "9998-12-01", "to": "9998-12-31"})
    assert response.status_code == 200
    huge = b64("Campaign:99999999999")
    for path in (f"/board/{huge}", f"/board/{huge}/recent.json"):
        assert (await http.get(path)).status_code == 404, path
