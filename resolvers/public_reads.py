"""A per-process cache of public reads, keyed by the funds' journal heads.

A public answer (the disclosure page, the board, publicFundReport, a campaign's
progress) changes when its fund's journal moves, and every ledger write's unit of work
announces NOTIFY jinlin_journal 'fund:sequence,…' after its commit (db/announce.py), which
the change feed's listener hands to `JournalHeads.seen` (as it does the heads it reads
itself every second, in case an announcement was lost). An entry is served only while it was read at or
after the head this process has heard of for each of its funds: a worker never answers
with data older than the newest head it has seen. The few public changes outside the
journal (a day's Merkle root published, a fund's status) send 'fund:' instead, which
drops the fund's entries.

While the listener is not connected (before it starts, after it loses its session)
notifications may be lost, so nothing is cached then: every read goes to the database.

Heads are read through the engine that reads the data, and before the data: an entry is
then keyed by a head no newer than its data, so a lagging replica could only give an old
head with its old data, never old data under a new head.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db.announce import JOURNAL_CHANNEL
from db.uow import read_session

HEADS = text("SELECT fund_id, last_sequence FROM ledger_books WHERE fund_id = ANY(:funds)")
FUND_OF_CODE = text("SELECT id FROM funds WHERE code = :code")
FUND_OF_CAMPAIGN = text("SELECT fund_id FROM campaigns WHERE id = :campaign")
CHANGED = text(f"SELECT pg_notify('{JOURNAL_CHANNEL}', :payload)")


async def announce_change(session: AsyncSession, fund: int) -> None:
    """Within a write's transaction: something public of the fund changed outside its
    journal (every worker drops the fund's cached reads at commit)."""
    await session.execute(CHANGED, {"payload": f"{fund}:"})


async def read_heads(engine: AsyncEngine, funds: tuple[int, ...]) -> tuple[int, ...]:
    """The funds' journal heads now (0 for a fund with no entry yet), in `funds` order."""
    async with read_session(engine) as session:
        rows = (await session.execute(HEADS, {"funds": list(funds)})).all()
    found = dict(rows)
    return tuple(int(found.get(f) or 0) for f in funds)


class JournalHeads:
    """What this process has heard of each fund's journal head."""

    def __init__(self) -> None:
        self.live = False  # the listener holds its session: notifications arrive
        self.generation = 0  # bumped when notifications may have been lost
        self._known: dict[int, int] = {}
        self._epochs: dict[int, int] = {}

    def seen(self, fund: int, sequence: int) -> None:
        if sequence > self._known.get(fund, -1):
            self._known[fund] = sequence

    def changed(self, fund: int) -> None:
        """Something public of the fund changed outside its journal."""
        self._epochs[fund] = self._epochs.get(fund, 0) + 1

    def connected(self) -> None:
        """The listener (re)connected: anything may have changed while it was away."""
        self._known.clear()
        self.generation += 1
        self.live = True

    def lost(self) -> None:
        self.live = False
        self.generation += 1

    def known(self, fund: int) -> int | None:
        return self._known.get(fund)

    def funds(self) -> list[int]:
        """The funds whose heads this process has heard of."""
        return list(self._known)

    def epoch(self, fund: int) -> int:
        return self._epochs.get(fund, 0)

    def on_notify(self, payload: str) -> tuple[int, int] | None:
        """'fund:sequence' from a ledger write; 'fund:' for a change outside the journal.
        The (fund, sequence) of a ledger write, for the listener's own use; else None."""
        fund, _, sequence = payload.partition(":")
        with contextlib.suppress(ValueError):
            if sequence:
                told = int(fund), int(sequence)
                self.seen(*told)
                return told
            self.changed(int(fund))
        return None


@dataclass(slots=True, frozen=True)
class Entry:
    funds: tuple[int, ...]
    heads: tuple[int, ...]
    epochs: tuple[int, ...]
    generation: int
    value: Any


class PublicReads:
    """Bounded (least recently used first out); one load per key at a time, shared by
    every caller that asks meanwhile (a change wakes many subscribers at once)."""

    def __init__(self, size: int = 512) -> None:
        self.heads = JournalHeads()
        self.size = size
        self.loads: Counter[str] = Counter()  # reads that went to the database, by kind
        self._entries: OrderedDict[Hashable, Entry] = OrderedDict()
        self._pending: dict[Hashable, asyncio.Future] = {}
        self._funds_of: dict[tuple[str, Any], int] = {}
        self._aliases: OrderedDict[Hashable, tuple[Hashable, Any]] = OrderedDict()

    def fresh(self, entry: Entry) -> bool:
        heads = self.heads
        if not heads.live or entry.generation != heads.generation:
            return False
        for fund, head, epoch in zip(entry.funds, entry.heads, entry.epochs, strict=True):
            known = heads.known(fund)
            if known is None or head < known or epoch != heads.epoch(fund):
                return False
        return True

    def lookup(self, key: Hashable) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None or not self.fresh(entry):
            return None
        self._entries.move_to_end(key)
        return entry

    async def get(
        self,
        engine: AsyncEngine,
        key: tuple,
        funds: tuple[int, ...],
        load: Callable[[], Awaitable[Any]],
        keep: Callable[[Any], bool] = lambda _value: True,
    ) -> Entry:
        """The entry for `key`, loaded by `load` unless a fresh one is held; `keep`
        says whether a loaded value may be kept (an error page is not)."""
        entry = self.lookup(key)
        if entry is not None:
            return entry
        pending = self._pending.get(key)
        if pending is not None:
            shared = await asyncio.shield(pending)
            if shared is not None and self.fresh(shared):
                return shared
            # That load began before this call; one begun since is as fresh as our own
            # would be (so, listener down, a thousand subscribers still share reads).
            later = self._pending.get(key)
            if later is not None:
                shared = await asyncio.shield(later)
                if shared is not None:
                    return shared
        start = self.begin(key)
        entry = None
        try:
            heads = await self.read_heads(engine, funds)
            entry = self.entry(funds, heads, start, await load(), kind=key[0])
            if keep(entry.value):
                self.store(key, entry)
            return entry
        finally:
            self.finish(key, entry)

    def begin(self, key: Hashable) -> tuple[int, dict[int, int]]:
        """Before a load: it waits for no one else, and notes the state it starts from
        (a change heard during the load leaves its entry stale)."""
        self._pending.setdefault(key, asyncio.get_running_loop().create_future())
        return self.heads.generation, self.heads._epochs.copy()

    def entry(self, funds, heads, start, value, *, kind: str) -> Entry:
        generation, epochs = start
        self.loads[kind] += 1
        return Entry(funds, heads, tuple(epochs.get(f, 0) for f in funds), generation, value)

    async def read_heads(self, engine: AsyncEngine, funds: tuple[int, ...]) -> tuple[int, ...]:
        heads = await read_heads(engine, funds)
        for fund, head in zip(funds, heads, strict=True):
            self.heads.seen(fund, head)
        return heads

    def store(self, key: Hashable, entry: Entry) -> None:
        if not self.heads.live:
            return
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def alias(self, name: Hashable, key: Hashable, meta: Any = None) -> None:
        """`name` (an exact request body) asks for nothing but `key`'s entry."""
        if not self.heads.live:
            return
        self._aliases[name] = (key, meta)
        self._aliases.move_to_end(name)
        while len(self._aliases) > self.size:
            self._aliases.popitem(last=False)

    def by_alias(self, name: Hashable) -> tuple[Hashable, Entry, Any] | None:
        """The fresh entry a name stands for, its key and the alias's meta, if any."""
        found = self._aliases.get(name)
        if found is None:
            return None
        key, meta = found
        entry = self.lookup(key)
        return None if entry is None else (key, entry, meta)

    def finish(self, key: Hashable, entry: Entry | None) -> None:
        """After a load, kept or not: callers that waited for it read its entry (None:
        it failed, and they load for themselves)."""
        pending = self._pending.pop(key, None)
        if pending is not None and not pending.done():
            pending.set_result(entry)

    async def fund_of(self, engine: AsyncEngine, what: str, name: Any) -> int | None:
        """A fund's id by its code ('code') or by a campaign's id ('campaign'): neither
        ever changes, so the answer is kept (unknown ones are not)."""
        fund = self._funds_of.get((what, name))
        if fund is None:
            query, params = (
                (FUND_OF_CODE, {"code": name})
                if what == "code"
                else (FUND_OF_CAMPAIGN, {"campaign": name})
            )
            async with read_session(engine) as session:
                fund = await session.scalar(query, params)
            if fund is not None and len(self._funds_of) < 100 * self.size:
                self._funds_of[(what, name)] = fund
        return fund


def reads_of(app: Any) -> PublicReads | None:
    """The process's cache, held by its change feed (None without one)."""
    return getattr(getattr(app, "events", None), "reads", None)
