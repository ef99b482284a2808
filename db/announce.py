"""After a write commits, every worker is told what moved: the funds' new journal heads
(NOTIFY jinlin_journal 'fund:sequence') and the campaigns whose progress changed
(NOTIFY jinlin_campaign 'campaign'). resolvers/live.py listens; resolvers/public_reads.py
keys its cache by the heads.

Sent after the commit, not inside the writing transaction: PostgreSQL serialises the
commits of every transaction that sent a NOTIFY, holding one cluster-wide lock until the
commit record is flushed, which cost the donation writes much of their rate
(docs/performance.md). A transaction that only notifies writes no WAL and holds that
lock briefly.

Per engine, writes that commit while a send is in flight share the next send, so under
load one statement tells of many writes. A writer waits for the send that carries its
heads: once its request is answered, every worker has been told, as before.

An announcement can be lost (the database gone between the commit and the send, the
process killed in between). The change feed's listener therefore also reads the heads
of the funds it caches every second (HEADS_NOW), so a lost one delays freshness by at
most that, and never lets a worker answer with data older than a head it has seen.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Iterable, Mapping

from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import driver_connection

log = logging.getLogger("jinlin.announce")

JOURNAL_CHANNEL = "jinlin_journal"
CAMPAIGN_CHANNEL = "jinlin_campaign"
# A session's info key: the heads its ledger writes reached (ledger/store.py).
WRITTEN_HEADS = "jinlin.written_heads"

# The heads first: a subscriber woken by its campaign then re-reads through a cache that
# already knows the fund's new head (notifications arrive in the order they were sent).
_SEND = f"""
WITH journal AS MATERIALIZED (
    SELECT pg_notify('{JOURNAL_CHANNEL}', head) FROM unnest($1::text[]) AS head
), told AS MATERIALIZED (
    SELECT count(*) AS heads FROM journal
)
SELECT told.heads,
       (SELECT count(pg_notify('{CAMPAIGN_CHANNEL}', campaign))
        FROM unnest($2::text[]) AS campaign WHERE told.heads >= 0) AS campaigns
FROM told
"""
# The listener's own check of the heads it relies on (resolvers/live.py).
HEADS_NOW = "SELECT fund_id, last_sequence FROM ledger_books WHERE fund_id = ANY($1::bigint[])"


def wrote(heads: dict, fund: int, sequence: int) -> None:
    """Note that a write took `fund`'s journal to `sequence`."""
    if sequence > heads.get(fund, 0):
        heads[fund] = sequence


class Announcer:
    """One engine's sender. At most one send is in flight; what commits meanwhile waits
    for the next, which carries all of it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._heads: dict[int, int] = {}
        self._campaigns: set[int] = set()
        self._next: asyncio.Future | None = None  # the send that carries what is pending
        self._task: asyncio.Task | None = None
        self.sends = 0  # statements sent, for the tests and the bench

    async def announce(self, heads: Mapping[int, int], campaigns: Iterable[int] = ()) -> bool:
        """Tell every worker, after the commit; return once told (True) or once the send
        failed (False: the write has committed whatever happens here)."""
        for fund, sequence in heads.items():
            wrote(self._heads, fund, sequence)
        self._campaigns.update(c for c in campaigns if c is not None)
        if not self._heads and not self._campaigns:
            return True
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        sent = self._next
        if self._task is None:
            self._task = asyncio.create_task(self._drain())
        return await asyncio.shield(sent)

    async def _drain(self) -> None:
        try:
            while self._next is not None:
                done, heads, campaigns = self._next, self._heads, self._campaigns
                self._next, self._heads, self._campaigns = None, {}, set()
                told = False
                try:
                    await self._send(heads, campaigns)
                    told = True
                except Exception:  # a lost announcement must not fail a committed write
                    log.warning("could not announce %s heads", len(heads), exc_info=True)
                finally:
                    done.set_result(told)
        finally:
            self._task = None
            if self._next is not None and not self._next.done():
                self._next.set_result(False)  # cancelled (the loop is closing)
                self._next = None

    async def _send(self, heads: dict[int, int], campaigns: set[int]) -> None:
        self.sends += 1
        async with driver_connection(self._engine) as conn:
            await conn.execute(
                _SEND,
                [f"{fund}:{sequence}" for fund, sequence in sorted(heads.items())],
                [str(c) for c in sorted(campaigns)],
            )


_announcers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def announcer(engine: AsyncEngine) -> Announcer:
    """The engine's announcer (one per engine, like its write gate)."""
    found = _announcers.get(engine.sync_engine)
    if found is None:
        found = _announcers[engine.sync_engine] = Announcer(engine)
    return found
