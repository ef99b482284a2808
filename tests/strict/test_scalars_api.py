"""Decimal, DateTime and Date through the API: strings only, DateTime in RFC 3339
with an offset (answered in the funds' time zone), Date in ISO 8601, and each scalar
described, with a specifiedByURL, in the served schema and the exported SDL."""

from __future__ import annotations

import pytest
from graphql import build_schema as parse_sdl

from schema import export_sdl
from tests.api.client import make_client, new_key
from tests.strict.rows import row_counts

DONATE = """mutation($i: RecordDonationInput!) { recordDonation(input: $i) {
  donation { receivedAt amount { amount } } errors { code field } } }"""
STATEMENT = """query($f: ID!, $from: Date!, $to: Date!) { node(id: $f) { ... on Fund {
  statement(from: $from, to: $to) { closing { amount } } } } }"""
SCALAR = "query($n: String!) { __type(name: $n) { kind description specifiedByURL } }"


def gift(world, received_at) -> dict:
    return {
        "i": {
            "fundId": world.fund,
            "channel": "BANK_TRANSFER",
            "amount": {"amount": "10.00", "currency": "CNY"},
            "donorName": "张三丰",
            "receivedAt": received_at,
            "idempotencyKey": new_key(),
        }
    }


@pytest.mark.parametrize(
    ("sent", "answered"),
    [
        ("2023-06-10T01:30:00Z", "2023-06-10T09:30:00+08:00"),
        ("2023-06-10t01:30:00z", "2023-06-10T09:30:00+08:00"),
        ("2023-06-10T09:30:00+08:00", "2023-06-10T09:30:00+08:00"),
        ("2023-06-09T20:30:00-05:00", "2023-06-10T09:30:00+08:00"),
        ("2023-06-10T06:00:00+05:30", "2023-06-10T08:30:00+08:00"),
        ("2023-06-10T01:30:00.250Z", "2023-06-10T09:30:00.250000+08:00"),
    ],
)
async def test_a_date_time_with_any_offset_is_answered_in_the_funds_zone(world, sent, answered):
    d = (await world.api.data(DONATE, gift(world, sent), token=world.fin))["recordDonation"]
    assert d["errors"] == [] and d["donation"]["receivedAt"] == answered


async def test_the_answer_zone_is_the_configured_one(db_url, world, monkeypatch):
    monkeypatch.setenv("JINLIN_TIMEZONE", "America/New_York")
    elsewhere = make_client(db_url)
    try:
        d = await elsewhere.data(DONATE, gift(world, "2023-06-10T01:30:00Z"), token=world.fin)
    finally:
        await elsewhere.close()
    assert d["recordDonation"]["donation"]["receivedAt"] == "2023-06-09T21:30:00-04:00"


@pytest.mark.parametrize(
    "sent",
    [
        "2023-06-10T09:30:00",  # no offset
        "2023-06-10T09:30:00.5",
        "20230610T013000Z",  # ISO 8601 basic format, not RFC 3339
        "2023-06-10T01:30Z",  # no seconds
        "2023-06-10T01:30:00+0800",
        "2023-06-10T01:30:00+08",
        "2023-06-10 01:30:00Z",
        "2023-W23-6T01:30:00Z",
        "2023-161T01:30:00Z",  # ordinal date
        "２０２３-06-10T01:30:00Z",
        "2023-06-10T25:00:00Z",
        "2023-02-30T01:00:00Z",
        "2023-06-10T01:30:00+24:00",
        "2023-06-10",
        "",
        "now",
        1686360600,
        True,
    ],
)
async def test_anything_but_rfc_3339_with_an_offset_is_bad_user_input(world, sent):
    before = await row_counts(world)
    body = await world.api.execute(DONATE, gift(world, sent), token=world.fin)
    assert "data" not in body, body
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": ["i", "receivedAt"]}
    assert await row_counts(world) == before


async def test_a_date_is_iso_8601(world):
    variables = {"f": world.fund, "from": "2023-06-01", "to": "2023-06-30"}
    d = await world.api.data(STATEMENT, variables, token=world.fin)
    assert d["node"]["statement"]["closing"]["amount"] == "0.00"


@pytest.mark.parametrize(
    "sent",
    [
        "20230601",  # basic format
        "2023-W22-4",
        "2023-152",
        "2023-6-1",
        "２０２３-06-01",
        "2023-02-30",
        "2023-06-01T00:00:00+08:00",
        " 2023-06-01",
        "",
        20230601,
    ],
)
async def test_a_date_in_another_form_is_bad_user_input(world, sent):
    body = await world.api.execute(
        STATEMENT, {"f": world.fund, "from": sent, "to": "2023-06-30"}, token=world.fin
    )
    assert "data" not in body, body
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": ["from"]}


async def test_dates_are_answered_as_iso_8601(world):
    d = await world.api.data(
        "query($p: ID!) { node(id: $p) { ... on Partner { partnerships { signedOn } } } }",
        {"p": world.partner_id},
        token=world.admin,
    )
    assert d["node"]["partnerships"] == [{"signedOn": "2023-05-20"}]


async def test_decimals_are_answered_as_strings_with_two_places(world):
    d = await world.api.data(
        "mutation($i: RecordServiceInput!) { recordService(input: $i) {"
        " contribution { hours } errors { code } } }",
        {
            "i": {
                "partnerId": world.partner_id,
                "hours": "1.5",
                "description": "巡逻",
                "idempotencyKey": new_key(),
            }
        },
        token=world.admin,
    )
    assert d["recordService"] == {"contribution": {"hours": "1.50"}, "errors": []}


@pytest.mark.parametrize("name", ["Decimal", "DateTime", "Date"])
async def test_each_scalar_is_described_and_specified(api, name):
    t = (await api.data(SCALAR, {"n": name}))["__type"]
    assert t["kind"] == "SCALAR"
    assert t["specifiedByURL"] and t["specifiedByURL"].startswith("https://")
    # Not the library's placeholders ("Decimal (fixed-point)", "Date with time (isoformat)").
    assert "string" in t["description"] and "isoformat" not in t["description"]


def test_the_exported_sdl_declares_the_scalars_as_served():
    sdl = parse_sdl(export_sdl())
    for name in ("Decimal", "DateTime", "Date"):
        scalar = sdl.get_type(name)
        assert scalar.specified_by_url and scalar.description, name
