"""Every money field of every mutation, through the API: a malformed amount is
INVALID_AMOUNT in the payload naming the field, a JSON number is BAD_USER_INPUT naming
the variable's path, and neither writes anything or is ever an internal error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.api.client import new_key
from tests.api.world import RECORD
from tests.strict.rows import row_counts

MALFORMED = [
    "1e999999999",
    "1e2",
    "",
    " ",
    "1,000",
    "1 000",
    "0x10",
    "1_000",
    "NaN",
    "Infinity",
    "-Infinity",
    "１０",  # full-width
    "١٠",  # Arabic-Indic
    "१०",  # Devanagari
    "²",
    " 10",
    "10 ",
    "10\n",
    "+10",
    "10.",
    ".5",
    "1.005",
    "1.000",
    "-5",
    "0",
    "100000000000.01",
    "0" * 40 + "1",
]
JSON_NUMBERS = [10, 10.5, 0, 1e300, True]


def money(amount) -> dict:
    return {"amount": amount, "currency": "CNY"}


@dataclass
class Site:
    """One money field: the mutation, its input with the amount put in, and where."""

    mutation: str
    input_type: str
    build: Callable  # (world, amount) -> input
    token: str  # World attribute
    field: list[str]  # the payload error's field
    code: str = "INVALID_AMOUNT"
    valid: str = "1.50"
    zero_allowed: bool = False  # a cash count may find nothing

    def query(self) -> str:
        return (
            f"mutation($i:{self.input_type}!){{{self.mutation}(input:$i){{"
            "errors{code message field}}}"
        )

    def variable_path(self) -> list:
        """The coercion error's path: the variable, then the input's (indices as ints)."""
        return ["i", *(int(p) if p.isdigit() else p for p in self.field[1:])]


def _posting(amount) -> list[dict]:
    return [
        {"accountCode": "1002", "side": "DEBIT", "amount": money("1.50")},
        {"accountCode": "4101.02", "side": "CREDIT", "amount": money(amount)},
    ]


SITES = {
    "recordDonation": Site(
        "recordDonation",
        "RecordDonationInput",
        lambda w, a: {
            "fundId": w.fund,
            "channel": "CASH",
            "amount": money(a),
            "donorName": "张三丰",
            "idempotencyKey": new_key(),
        },
        "fin",
        ["input", "amount", "amount"],
    ),
    "depositCash": Site(
        "depositCash",
        "DepositCashInput",
        lambda w, a: {"fundId": w.fund, "amount": money(a), "idempotencyKey": new_key()},
        "fin",
        ["input", "amount", "amount"],
    ),
    "recordCashCount": Site(
        "recordCashCount",
        "RecordCashCountInput",
        lambda w, a: {
            "fundId": w.fund,
            "counted": money(a),
            "countedBy": ["甲", "乙"],
            "idempotencyKey": new_key(),
        },
        "staff",
        ["input", "counted", "amount"],
        valid="100.00",
        zero_allowed=True,
    ),
    "requestDisbursement": Site(
        "requestDisbursement",
        "RequestDisbursementInput",
        lambda w, a: {
            "fundId": w.fund,
            "amount": money(a),
            "payee": "居委会",
            "purpose": "慰问",
            "idempotencyKey": new_key(),
        },
        "staff",
        ["input", "amount", "amount"],
    ),
    "postJournalEntry": Site(
        "postJournalEntry",
        "PostJournalEntryInput",
        lambda w, a: {
            "fundId": w.fund,
            "memo": "调整",
            "postings": _posting(a),
            "idempotencyKey": new_key(),
        },
        "fin",
        ["input", "postings", "1", "amount", "amount"],
    ),
    "createCampaign": Site(
        "createCampaign",
        "CreateCampaignInput",
        lambda w, a: {
            "fundId": w.fund,
            "name": "中秋义卖",
            "startsAt": "2026-09-20T08:00:00+08:00",
            "goal": money(a),
        },
        "admin",
        ["input", "goal", "amount"],
    ),
    "recordService": Site(
        "recordService",
        "RecordServiceInput",
        lambda w, a: {
            "partnerId": w.partner_id,
            "hours": a,
            "description": "巡逻",
            "idempotencyKey": new_key(),
        },
        "admin",
        ["input", "hours"],
        code="INVALID_INPUT",  # hours are not money
    ),
}


async def _prepare(world, site: Site) -> None:
    """Cash to count, or counted cash to deposit, so that the valid amount succeeds."""
    if site.mutation in ("recordCashCount", "depositCash"):
        assert (await world.donate("CASH", "100.00"))["errors"] == []
    if site.mutation == "depositCash":
        count = await world.api.data(
            SITES["recordCashCount"].query(),
            {"i": SITES["recordCashCount"].build(world, "100.00")},
            token=world.staff,
        )
        assert count["recordCashCount"]["errors"] == []


@pytest.mark.parametrize("name", SITES)
async def test_a_malformed_amount_is_refused_in_the_payload_naming_the_field(world, name):
    site = SITES[name]
    await _prepare(world, site)
    token = getattr(world, site.token)
    before = await row_counts(world)
    for amount in MALFORMED:
        if site.zero_allowed and amount == "0":
            continue
        body = await world.api.execute(site.query(), {"i": site.build(world, amount)}, token=token)
        assert "errors" not in body, (amount, body)
        errors = body["data"][name]["errors"]
        assert [(e["code"], e["field"]) for e in errors] == [(site.code, site.field)], (
            amount,
            errors,
        )
        assert await row_counts(world) == before, amount
    # The same input with a well-formed amount goes through: the amount was the fault.
    ok = await world.api.data(site.query(), {"i": site.build(world, site.valid)}, token=token)
    assert ok[name]["errors"] == []


@pytest.mark.parametrize("name", SITES)
async def test_a_json_number_is_bad_user_input_with_the_variable_s_path(world, name):
    site = SITES[name]
    token = getattr(world, site.token)
    before = await row_counts(world)
    for number in JSON_NUMBERS:
        body = await world.api.execute(site.query(), {"i": site.build(world, number)}, token=token)
        assert "data" not in body, (number, body)
        [error] = body["errors"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": site.variable_path()}
        assert "not a JSON number" in error["message"] or "JSON boolean" in error["message"]
    assert await row_counts(world) == before


async def test_a_literal_number_in_the_query_text_is_a_validation_failure(world):
    before = await row_counts(world)
    body = await world.api.execute(
        'mutation($f:ID!){recordDonation(input:{fundId:$f,channel:CASH,amount:{amount:10,currency:"CNY"},'
        'donorName:"x",idempotencyKey:"lit"}){errors{code}}}',
        {"f": world.fund},
        token=world.fin,
    )
    assert "data" not in body  # a request error: GraphQL over HTTP
    assert [e["extensions"]["code"] for e in body["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert await row_counts(world) == before


async def test_a_malformed_literal_string_is_still_invalid_amount(world):
    body = await world.api.data(
        'mutation($f:ID!){recordDonation(input:{fundId:$f,channel:CASH,amount:{amount:"1,000",currency:"CNY"},'
        'donorName:"x",idempotencyKey:"lit2"}){donation{id} errors{code field}}}',
        {"f": world.fund},
        token=world.fin,
    )
    assert body["recordDonation"] == {
        "donation": None,
        "errors": [{"code": "INVALID_AMOUNT", "field": ["input", "amount", "amount"]}],
    }


@pytest.mark.parametrize(
    ("amount", "stored"),
    [("1", "1.00"), ("0.5", "0.50"), ("007.10", "7.10"), ("100000000000.00", "100000000000.00")],
)
async def test_well_formed_amounts_are_taken_exactly(world, amount, stored):
    d = await world.donate("BANK_TRANSFER", amount)
    assert d["errors"] == [] and d["donation"]["amount"]["amount"] == stored
    assert (await world.balances())["bank"] == stored


async def test_the_same_key_with_a_refused_amount_stores_nothing_under_the_key(world):
    site = SITES["recordDonation"]
    inp = site.build(world, "1_000")
    refused = await world.api.data(RECORD, {"i": inp}, token=world.fin)
    assert refused["recordDonation"]["errors"][0]["code"] == "INVALID_AMOUNT"
    ok = await world.api.data(RECORD, {"i": {**inp, "amount": money("1000")}}, token=world.fin)
    assert ok["recordDonation"]["errors"] == []
    assert ok["recordDonation"]["donation"]["amount"]["amount"] == "1000.00"
