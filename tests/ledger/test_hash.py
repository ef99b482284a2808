"""The entry hash, as the rule book computes it (ledger_entry_hash), against its
specification: SHA-256 of the whole entry as one JSON object with sorted keys and no
spaces, encoded as orjson does. Journals already written must keep verifying."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta, timezone

import asyncpg
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.databases import _asyncpg_dsn

HASHED = {
    "fund_id": 1,
    "sequence": 7,
    "effective_at": datetime(2025, 1, 1, tzinfo=UTC),
    "recorded_at": datetime(2025, 1, 2, tzinfo=UTC),
    "recorded_by": "alice",
    "memo": "donation box",
    "kind": "donation",
    "reference": "BANK-1",
    "reverses_id": None,
    "postings": [("1009.09", "DEBIT", 100, "CNY"), ("4101.02", "CREDIT", 100, "CNY")],
    "previous_hash": "a" * 64,
}
# Computed in 2026 by the Python encoder journals were first written with.
KNOWN_DIGEST = "5a86f9d4cfa93734428ad32aa98c772ac9087f169141524538b084c7e22f7438"

_SQL = """SELECT ledger_entry_hash($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"""


def specified_hash(h: dict) -> str:
    """The specification, in Python: what any outside verifier computes."""
    canonical = {
        **h,
        "effective_at": h["effective_at"].astimezone(UTC).isoformat(timespec="microseconds"),
        "recorded_at": h["recorded_at"].astimezone(UTC).isoformat(timespec="microseconds"),
        "postings": [list(p) for p in h["postings"]],
    }
    return hashlib.sha256(orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def sql_hashes(dsn: str, entries: list[dict]) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return [await conn.fetchval(_SQL, *_args(h)) for h in entries]
    finally:
        await conn.close()


def _args(h: dict) -> tuple:
    postings = h["postings"]
    return (
        h["fund_id"],
        h["sequence"],
        h["kind"],
        h["effective_at"],
        h["recorded_at"],
        h["memo"],
        h["recorded_by"],
        h["reference"],
        h["reverses_id"],
        [p[0] for p in postings],
        [p[1] for p in postings],
        [p[2] for p in postings],
        [p[3] for p in postings],
        h["previous_hash"],
    )


CHANGES = [
    {"fund_id": 2},
    {"sequence": 8},
    {"effective_at": HASHED["effective_at"] + timedelta(microseconds=1)},
    {"recorded_at": HASHED["recorded_at"] + timedelta(seconds=1)},
    {"recorded_by": "bob"},
    {"memo": "donation box."},
    {"kind": "manual"},
    {"reference": None},
    {"reverses_id": 3},
    {"postings": [("1009.09", "DEBIT", 101, "CNY"), ("4101.02", "CREDIT", 100, "CNY")]},
    {"postings": list(reversed(HASHED["postings"]))},
    {"previous_hash": None},
]


async def test_the_known_entry_keeps_its_digest_and_every_field_counts(db_url):
    shifted = HASHED | {
        "effective_at": HASHED["effective_at"].astimezone(timezone(timedelta(hours=8)))
    }
    digests = await sql_hashes(
        _asyncpg_dsn(db_url), [HASHED, shifted, *(HASHED | c for c in CHANGES)]
    )
    assert digests[0] == KNOWN_DIGEST == specified_hash(HASHED)
    assert digests[1] == KNOWN_DIGEST  # the offset an instant is written with is no part
    assert len(set(digests[2:])) == len(CHANGES) and KNOWN_DIGEST not in digests[2:]


# PostgreSQL text holds any character but NUL.
_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    entries=st.lists(
        st.fixed_dictionaries(
            {
                "memo": _TEXT,
                "recorded_by": _TEXT,
                "reference": st.none() | _TEXT,
                "reverses_id": st.none() | st.integers(1, 2**62),
                "sequence": st.integers(1, 2**62),
                "previous_hash": st.none() | st.text("0123456789abcdef", min_size=64, max_size=64),
                "codes": st.lists(_TEXT, min_size=1, max_size=3),
                "amount": st.integers(1, 10**13),
            }
        ),
        min_size=1,
        max_size=8,
    )
)
def test_the_rule_book_encodes_as_specified_whatever_the_text(db_url, entries):
    cases = [
        HASHED
        | {k: v for k, v in e.items() if k not in ("codes", "amount")}
        | {"postings": [(code, "DEBIT", e["amount"], "CNY") for code in e["codes"]]}
        for e in entries
    ]
    assert asyncio.run(sql_hashes(_asyncpg_dsn(db_url), cases)) == [
        specified_hash(h) for h in cases
    ]


@pytest.mark.parametrize("text", ['quote " backslash \\', "\n\t\r\x07\x1f\x7f", "近邻 🎑 \u2028"])
async def test_escapes_match_the_specification(db_url, text):
    case = HASHED | {"memo": text, "recorded_by": text, "reference": text}
    assert (await sql_hashes(_asyncpg_dsn(db_url), [case]))[0] == specified_hash(case)
