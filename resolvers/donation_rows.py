"""What recordDonation remembers of funds, campaigns and partners, per engine, so that
a donation into ones seen before needs no read before its one statement (db/donations.py).

None of it can change once written, and the database holds it to that: triggers
(migration 0009) refuse an UPDATE of a fund's code, currency or community, of a
campaign's fund or time window, and the DELETE of a fund, campaign or partner. A
fund's status does change; the rule book checks it under the book lock.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import datetime

from db.donations import FundFacts, RecordedDonation

__all__ = ["CampaignFacts", "FundFacts", "RecordedDonation", "known", "remember"]

_KNOWN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_KNOWN_MAX = 10_000  # entries per engine; all forgotten at once when reached


@dataclass(frozen=True, slots=True)
class CampaignFacts:
    id: int
    fund_id: int
    starts_at: datetime
    ends_at: datetime | None


def _known_of(bind) -> dict:
    return _KNOWN.setdefault(getattr(bind, "sync_engine", bind), {})


def remember(bind, kind: str, pk: int, facts) -> None:
    """Remember what was read of a fund, campaign or partner (bind: an engine or a
    session's bind)."""
    known = _known_of(bind)
    if len(known) >= _KNOWN_MAX:
        known.clear()
    known[(kind, pk)] = facts


def known(bind, kind: str, pk: int):
    """What remember() kept of it; None if nothing."""
    return _known_of(bind).get((kind, pk))
