"""Planned input conversion (schema/inputs.py) builds what Strawberry's own does."""

from __future__ import annotations

import pytest
from graphql import coerce_input_value
from strawberry.types.arguments import convert_argument

from schema import build_schema
from schema.inputs import _from_input

SCHEMA = build_schema()

CASES = [
    (
        "RecordDonationInput",
        {
            "fundId": "RnVuZDox",
            "channel": "ONLINE",
            "amount": {"amount": "100.50", "currency": "CNY"},
            "donorName": "张三",
            "externalRef": "WX-1",
            "receivedAt": "2026-09-20T10:00:00+08:00",
            "idempotencyKey": "k-1",
        },
    ),
    (
        "RecordDonationInput",
        {
            "fundId": "RnVuZDox",
            "channel": "CASH",
            "amount": {"amount": "1", "currency": "CNY"},
            "anonymous": True,
            "partnerId": None,
            "idempotencyKey": "k-2",
        },
    ),
    (
        "PostJournalEntryInput",
        {
            "fundId": "RnVuZDox",
            "memo": "调整",
            "postings": [
                {
                    "accountCode": "1002",
                    "side": "DEBIT",
                    "amount": {"amount": "5", "currency": "CNY"},
                },
                {
                    "accountCode": "4101.02",
                    "side": "CREDIT",
                    "amount": {"amount": "5", "currency": "CNY"},
                },
            ],
            "idempotencyKey": "k-3",
        },
    ),
    (
        "RecordCashCountInput",
        {
            "fundId": "RnVuZDox",
            "counted": {"amount": "10.00", "currency": "CNY"},
            "countedBy": ["甲", "乙"],
            "idempotencyKey": "k-4",
        },
    ),
    ("CreateCommunityInput", {"subdistrictId": "U3ViOjE=", "name": "百花社区"}),
    ("CreateCommunityInput", {"subdistrictId": "U3ViOjE=", "name": "百花社区", "grids": None}),
    ("DonationFilter", {"channel": "IN_KIND", "receivedFrom": "2026-01-01T00:00:00Z"}),
]


def _both_ways(type_name: str, raw: dict):
    graphql_type = SCHEMA._schema.get_type(type_name)
    value = coerce_input_value(raw, graphql_type)  # what graphql-core hands over
    cls = SCHEMA.schema_converter.type_map[type_name].definition.origin
    definition = cls.__strawberry_definition__
    assert definition.from_input is _from_input
    convert = lambda: convert_argument(  # noqa: E731
        value, cls, SCHEMA.schema_converter.scalar_registry, SCHEMA.config
    )
    planned = convert()
    definition.from_input = None  # Strawberry's general conversion
    try:
        general = convert()
    finally:
        definition.from_input = _from_input
    return planned, general


@pytest.mark.parametrize(("type_name", "raw"), CASES)
def test_planned_conversion_builds_what_strawberry_builds(type_name, raw):
    planned, general = _both_ways(type_name, raw)
    assert planned == general
    assert type(planned) is type(general)


def test_lists_are_copies_not_the_value_handed_over():
    planned, _ = _both_ways("RecordCashCountInput", CASES[3][1])
    planned.counted_by.append("丙")
    again, _ = _both_ways("RecordCashCountInput", CASES[3][1])
    assert again.counted_by == ["甲", "乙"]
