"""Helpers for the receipt tests: a clock past today's end, proofs and PDFs fetched
over the in-process HTTP client."""

from __future__ import annotations

from datetime import timedelta

import pytest

import resolvers.receipts as receipts
from db.types import utcnow

RECEIPT = """query($id: ID!) { node(id: $id) { ... on Donation {
  receipt { number url verifyUrl } } } }"""
PUBLISH = """mutation($f: ID!, $d: Date!) { publishDailyRoots(input: {fundId: $f, day: $d}) {
  root { day firstSequence lastSequence treeSize merkleRoot previousRoot root }
  errors { code field message } } }"""


@pytest.fixture
def tomorrow(monkeypatch):
    """Publishing sees the clock two days on, so that today has ended."""
    monkeypatch.setattr(receipts, "now", lambda: utcnow() + timedelta(days=2))


def today(api) -> str:
    return utcnow().astimezone(api.state.timezone).date().isoformat()


async def receipt_of(api, donation_id: str, token: str) -> dict:
    return (await api.data(RECEIPT, {"id": donation_id}, token=token))["node"]["receipt"]


async def publish(api, fund: str, day: str, token: str) -> dict:
    return (await api.data(PUBLISH, {"f": fund, "d": day}, token=token))["publishDailyRoots"]
