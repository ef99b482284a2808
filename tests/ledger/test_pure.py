"""The pure parts: chart, positions, draft validation, the entry hash."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger import accounts
from ledger.accounts import CHART, Positions, positions
from ledger.entries import PostingSpec, entry_hash, iso_utc, validate_draft
from ledger.errors import InvalidAmount, InvalidEntry, UnbalancedEntry
from tests.ledger.conftest import cr, dr

DOMAIN_CHART = {  # domain.md: code -> (type, normal side)
    "1001": ("ASSET", "DEBIT"),
    "1002": ("ASSET", "DEBIT"),
    "1009.01": ("ASSET", "DEBIT"),
    "1009.09": ("ASSET", "DEBIT"),
    "1201": ("ASSET", "DEBIT"),
    "2209.01": ("LIABILITY", "CREDIT"),
    "2209.02": ("LIABILITY", "CREDIT"),
    "3101": ("NET_ASSETS", "CREDIT"),
    "3102": ("NET_ASSETS", "CREDIT"),
    "4101.01": ("INCOME", "CREDIT"),
    "4101.02": ("INCOME", "CREDIT"),
    "4101.03": ("INCOME", "CREDIT"),
    "5101": ("EXPENSE", "DEBIT"),
    "5201": ("EXPENSE", "DEBIT"),
    "5301": ("EXPENSE", "DEBIT"),
    "5401": ("EXPENSE", "DEBIT"),
}


def test_chart_matches_the_domain():
    assert {s.code: (s.type, s.normal_side) for s in CHART} == DOMAIN_CHART
    assert len(CHART) == len(DOMAIN_CHART)
    assert {s.code for s in CHART if s.guarded} == {"1001", "1002", "1009.01", "1009.09", "1201"}
    assert accounts.CASH_UNCOUNTED == "1009.09" and accounts.NET_RESTRICTED == "3102"


def test_positions():
    got = positions(
        {"1001": 100, "1009.09": 20, "1002": 1000, "1009.01": 7, "1201": 50, "2209.01": 300}
    )
    assert got == Positions(
        cash_on_hand=120, bank=1000, online_clearing=7, in_kind=50, total=1177, available=820
    )
    assert positions({}).available == 0


REFUSED_DRAFTS = [
    ([dr("1002", 100)], InvalidEntry, "postings"),
    ([dr("1002", 0), cr("4101.02", 0)], InvalidAmount, "amount"),
    ([dr("1002", -5), cr("4101.02", -5)], InvalidAmount, "amount"),
    ([dr("1002", 1.5), cr("4101.02", 1.5)], InvalidAmount, "amount"),
    ([dr("1002", True), cr("4101.02", True)], InvalidAmount, "amount"),
    ([dr("1002", 10**14), cr("4101.02", 10**14)], InvalidAmount, "amount"),
    ([dr("1002", 100), cr("4101.02", 99)], UnbalancedEntry, "postings"),
    # Balanced in total but not per currency.
    (
        [dr("1002", 100), cr("4101.02", 100, "USD"), dr("1001", 5, "USD"), cr("1002", 5)],
        UnbalancedEntry,
        "postings",
    ),
    ([PostingSpec("1002", "LEFT", 1), cr("4101.02", 1)], InvalidEntry, "side"),
]


@pytest.mark.parametrize(("postings", "error", "field"), REFUSED_DRAFTS)
def test_malformed_drafts_are_refused(postings, error, field):
    with pytest.raises(error) as caught:
        validate_draft(postings, memo="m", recorded_by="u", kind="manual")
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("memo", "recorded_by", "kind", "field"),
    [
        ("", "u", "manual", "memo"),
        ("   ", "u", "manual", "memo"),
        ("x" * 501, "u", "manual", "memo"),
        ("m", "", "manual", "recordedBy"),
        ("m", "u", "gift", "kind"),
    ],
)
def test_draft_fields_are_checked(memo, recorded_by, kind, field):
    with pytest.raises(InvalidEntry) as caught:
        validate_draft(
            [dr("1002", 1), cr("4101.02", 1)], memo=memo, recorded_by=recorded_by, kind=kind
        )
    assert caught.value.field == field


def test_a_good_draft_passes():
    validate_draft(
        [dr("1002", 70), dr("5301", 30), cr("1009.01", 100)],
        memo="x" * 500,
        recorded_by="u",
        kind="settlement",
    )


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


def test_hash_is_stable_and_independent_of_the_offset_written():
    digest = entry_hash(**HASHED)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert entry_hash(**HASHED) == digest
    shifted = HASHED | {
        "effective_at": HASHED["effective_at"].astimezone(timezone(timedelta(hours=8)))
    }
    assert entry_hash(**shifted) == digest


@pytest.mark.parametrize(
    "change",
    [
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
    ],
)
def test_every_hashed_field_changes_the_hash(change):
    assert entry_hash(**(HASHED | change)) != entry_hash(**HASHED)


def _whole_object_hash(h: dict) -> str:
    """The hash as specified: SHA-256 of the whole entry as one JSON object with
    sorted keys. entry_hash (and ledger_post on PostgreSQL) splices the two values
    only the lock knows into a pre-encoded frame; the bytes must be the same."""
    canonical = {
        **h,
        "effective_at": iso_utc(h["effective_at"]),
        "recorded_at": iso_utc(h["recorded_at"]),
        "postings": [list(p) for p in h["postings"]],
    }
    return hashlib.sha256(orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)).hexdigest()


def test_hash_of_a_known_entry_has_not_changed():
    # Journals already written must still verify: this digest was computed before the
    # hash was split into a frame and a splice.
    assert entry_hash(**HASHED) == (
        "5a86f9d4cfa93734428ad32aa98c772ac9087f169141524538b084c7e22f7438"
    )


@given(
    memo=st.text(min_size=1),
    recorded_by=st.text(min_size=1),
    reference=st.none() | st.text(),
    reverses_id=st.none() | st.integers(1, 2**62),
    sequence=st.integers(1, 2**62),
    previous_hash=st.none() | st.text("0123456789abcdef", min_size=64, max_size=64),
)
def test_spliced_hash_equals_the_whole_object_hash(
    memo, recorded_by, reference, reverses_id, sequence, previous_hash
):
    h = HASHED | {
        "memo": memo,
        "recorded_by": recorded_by,
        "reference": reference,
        "reverses_id": reverses_id,
        "sequence": sequence,
        "previous_hash": previous_hash,
    }
    assert entry_hash(**h) == _whole_object_hash(h)


def test_naive_instants_cannot_be_hashed():
    with pytest.raises(ValueError):
        entry_hash(**(HASHED | {"effective_at": datetime(2025, 1, 1)}))


def test_positions_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        positions({}).bank = 1  # type: ignore[misc]
