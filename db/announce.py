"""After a write commits, every worker is told what moved: the funds' new journal heads
(NOTIFY jinlin_journal 'fund:sequence,fund:sequence') and the campaigns whose progress
changed (NOTIFY jinlin_campaign 'campaign,campaign'): one payload per channel and send,
so a listener wakes once per send. resolvers/live.py listens; resolvers/public_reads.py
keys its cache by the heads.

Sent after the commit, not inside the writing transaction: PostgreSQL serialises the
commits of every transaction that sent a NOTIFY, holding one cluster-wide lock until the
commit record is flushed, which cost the donation writes much of their rate
(docs/performance.md). A transaction that only notifies need not wait for that flush
(`_script`), so it holds the lock briefly.

Per engine, writes that commit while a send is in flight share the next send, so under
load one statement tells of many writes. A writer sends on the connection it wrote on
when it can (no pool checkout), and waits for the send that carries its heads: once its
request is answered, every worker has been told, as before.

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

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import driver_connection

log = logging.getLogger("jinlin.announce")

JOURNAL_CHANNEL = "jinlin_journal"
CAMPAIGN_CHANNEL = "jinlin_campaign"
MAX_PAYLOAD = 7900  # characters: PostgreSQL refuses a NOTIFY payload of 8000 bytes or more
# A session's info key: the heads its ledger writes reached (ledger/store.py).
WRITTEN_HEADS = "jinlin.written_heads"


def _payloads(items: list[str]) -> list[str]:
    """`items` joined by commas into as few payloads as fit NOTIFY's limit."""
    payloads: list[str] = []
    for item in items:
        if payloads and len(payloads[-1]) + 1 + len(item) <= MAX_PAYLOAD:
            payloads[-1] += "," + item
        else:
            payloads.append(item)
    return payloads


def _notify(channel: str, items: list[str]) -> str:
    told = ",".join(f"'{payload}'" for payload in _payloads(items))
    return f"SELECT pg_notify('{channel}', told) FROM unnest(ARRAY[{told}]) AS told"


def _script(heads: dict[int, int], campaigns: set[int]) -> str:
    """The send, as one simple query: its statements run in order, in one implicit
    transaction. The heads first: a subscriber woken by its campaign then re-reads
    through a cache that already knows the fund's new head (notifications arrive in the
    order they were sent). Whole numbers only, so they go in as literals.

    NOTIFY gives its transaction an id at commit, and PostgreSQL holds its cluster-wide
    notify lock until that commit is flushed; this transaction writes nothing else, so
    it need not wait for the flush (synchronous_commit off, for it alone), and the lock
    is held briefly."""
    statements = ["SET LOCAL synchronous_commit TO off"]
    if heads:
        items = [f"{int(fund)}:{int(seq)}" for fund, seq in sorted(heads.items())]
        statements.append(_notify(JOURNAL_CHANNEL, items))
    if campaigns:
        statements.append(_notify(CAMPAIGN_CHANNEL, [str(int(c)) for c in sorted(campaigns)]))
    return "; ".join(statements)


def told_of(payload: str) -> list[str]:
    """The items of one payload (a listener's side of `_payloads`)."""
    return payload.split(",")


# The listener's own check of the heads it relies on (resolvers/live.py).
HEADS_NOW = "SELECT fund_id, last_sequence FROM ledger_books WHERE fund_id = ANY($1::bigint[])"


def wrote(heads: dict, fund: int, sequence: int) -> None:
    """Note that a write took `fund`'s journal to `sequence`."""
    if sequence > heads.get(fund, 0):
        heads[fund] = sequence


class _Batch:
    """What is announced by one send, and whether it was told."""

    __slots__ = ("campaigns", "heads", "told")

    def __init__(self) -> None:
        self.heads: dict[int, int] = {}
        self.campaigns: set[int] = set()
        self.told: asyncio.Future = asyncio.get_running_loop().create_future()


class Announcer:
    """One engine's sender. At most one send is in flight, made by one of the writers on
    the connection it wrote on (one from the pool after a unit of work, whose session is
    gone). What commits meanwhile waits for it, then goes in one send, made by one of
    those writers."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._pending: _Batch | None = None
        self._in_flight: asyncio.Future | None = None
        self.sends = 0  # statements sent, for the tests and the bench

    async def announce(
        self,
        heads: Mapping[int, int],
        campaigns: Iterable[int] = (),
        via: asyncpg.Connection | None = None,
    ) -> bool:
        """Tell every worker, after the commit; return once told (True) or once the send
        failed (False: the write has committed whatever happens here). `via`: the
        caller's own driver connection, free for a statement."""
        campaigns = [c for c in campaigns if c is not None]
        if not heads and not campaigns:
            return True
        self._forget_another_loop()
        batch = self._pending
        if batch is None:
            batch = self._pending = _Batch()
        for fund, sequence in heads.items():
            wrote(batch.heads, fund, sequence)
        batch.campaigns.update(campaigns)
        while not batch.told.done():
            if self._in_flight is None:
                await self._send_pending(via)
            else:
                await asyncio.shield(self._in_flight)
        return batch.told.result()

    def _forget_another_loop(self) -> None:
        """An engine can outlive an event loop (one test's, say): what that loop left in
        flight or pending will never complete on this one."""
        loop = asyncio.get_running_loop()
        flight, batch = self._in_flight, self._pending
        if (flight is not None and flight.get_loop() is not loop) or (
            batch is not None and batch.told.get_loop() is not loop
        ):
            self._in_flight = self._pending = None

    async def _send_pending(self, via: asyncpg.Connection | None) -> None:
        flight = self._in_flight = asyncio.get_running_loop().create_future()
        batch = None
        told = False
        try:
            # One turn of the loop first: writes whose answers came in with this one
            # announce in the same send.
            await asyncio.sleep(0)
            batch, self._pending = self._pending, None
            assert batch is not None and not batch.told.done()
            await self._send(batch, via)
            told = True
        except Exception:  # a lost announcement must not fail a committed write
            log.warning(
                "could not announce %s heads", len(batch.heads) if batch else 0, exc_info=True
            )
        finally:
            self._in_flight = None
            flight.set_result(None)
            if batch is not None:
                batch.told.set_result(told)

    async def _send(self, batch: _Batch, via: asyncpg.Connection | None) -> None:
        self.sends += 1
        script = _script(batch.heads, batch.campaigns)
        if via is None:
            async with driver_connection(self._engine) as conn:
                await conn.execute(script)
            return
        try:
            await via.execute(script)
        except BaseException:
            via.terminate()  # in an unknown state now: the pool drops it when it returns
            raise


_announcers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def announcer(engine: AsyncEngine) -> Announcer:
    """The engine's announcer (one per engine, like its write gate)."""
    found = _announcers.get(engine.sync_engine)
    if found is None:
        found = _announcers[engine.sync_engine] = Announcer(engine)
    return found
