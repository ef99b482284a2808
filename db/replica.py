"""Public reads on a streaming replica (JINLIN_READ_DATABASE_URL).

The public report, the fund pages and the live board read through the replica's
engine; money reads, receipts and every write stay on the primary (the routing table
is in docs/operations.md). Its connections are named `jinlin-public-reads`
(application_name), so pg_stat_activity on either server shows where they went.

- **Fallback.** When the replica refuses a connection, the engine connects to the
  primary instead and leaves the replica alone for RETRY_AFTER seconds; after that a
  connection to the primary is replaced at its next checkout, so reads go back to the
  replica once it answers. A pooled connection idle for more than IDLE_PING seconds is
  pinged before use: a replica that died while the pool slept costs no request.
- **Lag.** A page may be a little behind the primary. The live board, woken by a
  NOTIFY (sent after the commit, so heard after it), reads the primary's WAL position and
  waits up to CATCH_UP_WITHIN for the replica to replay past it; otherwise it reads
  the primary, so it never shows a stale figure for ever (`caught_up_with_primary`).
- **Lag cut-off.** Every LAG_EVERY seconds each worker notes the primary's WAL position
  and reads the replica's replay position. When the replica has not replayed what the
  primary had written `max_lag` seconds ago (JINLIN_READ_MAX_LAG), it is `behind`
  and every public read goes to the primary. It is used again once it has replayed
  what the primary had written at the previous check, about LAG_EVERY seconds behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError, InvalidatePoolError
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import make_engine

log = logging.getLogger("jinlin.replica")
APPLICATION_NAME = "jinlin-public-reads"
RETRY_AFTER = 10.0  # seconds the replica is left alone after it refused a connection
IDLE_PING = 1.0  # seconds of idleness after which a pooled connection is pinged first
CATCH_UP_WITHIN = 2.0  # seconds the live board waits for the replica's replay
POLL_EVERY = 0.02  # seconds between two readings of the replay position
LAG_EVERY = 1.0  # seconds between two checks of how far behind the replica is

_ON_PRIMARY, _IDLE_SINCE = "jinlin_on_primary", "jinlin_idle_since"


def parse_lsn(text: str) -> int:
    """PostgreSQL's 'X/Y' WAL position as one comparable number."""
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


class ReadReplica:
    """The engine public reads go through, and what the live board asks of it."""

    def __init__(
        self,
        replica_url: str,
        primary: AsyncEngine,
        *,
        pooler: str | None = None,
        max_lag: float = 30.0,
    ):
        self.engine = make_engine(replica_url, pooler=pooler, application_name=APPLICATION_NAME)
        self.primary = primary
        self.max_lag = max_lag
        self.behind = False  # further behind than max_lag: public reads go to the primary
        self._samples: deque[tuple[float, int]] = deque()  # (when, the primary's position)
        self._watch: asyncio.Task | None = None
        self.replica_down_until = 0.0
        self._replayed = -1  # the highest replay position read so far
        self._poll: asyncio.Task | None = None
        self._position: asyncio.Task | None = None  # a reading of the primary's position
        self._position_sent = False
        sync = self.engine.sync_engine
        event.listen(sync, "do_connect", self._connect)
        event.listen(sync, "checkout", self._checkout)
        event.listen(sync, "checkin", self._checkin)

    async def dispose(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        await self.engine.dispose()

    # --- fallback --------------------------------------------------------------

    def _connect(self, dialect, record, cargs, cparams):
        """The replica, or the primary while the replica refuses connections."""
        if time.monotonic() >= self.replica_down_until:
            try:
                return dialect.connect(*cargs, **cparams)
            except Exception as exc:
                self.replica_down_until = time.monotonic() + RETRY_AFTER
                log.warning(
                    "the read replica refused a connection (%s); public reads go to the"
                    " primary, and the replica is tried again in %.0f s",
                    type(exc).__name__,
                    RETRY_AFTER,
                )
        record.info[_ON_PRIMARY] = True
        return dialect.connect(*cargs, **self._primary_params(dialect, cparams))

    def _primary_params(self, dialect, cparams: dict) -> dict:
        """The replica's connection parameters with the primary's address and database."""
        _, replica = dialect.create_connect_args(self.engine.url)
        _, primary = dialect.create_connect_args(self.primary.url)
        return {**{k: v for k, v in cparams.items() if k not in replica}, **primary}

    def _checkout(self, dbapi_connection, record, _proxy) -> None:
        now = time.monotonic()
        if record.info.get(_ON_PRIMARY) and now >= self.replica_down_until:
            raise DisconnectionError("the read replica may be back: reconnect to it")
        idle_since = record.info.pop(_IDLE_SINCE, None)
        if idle_since is not None and now - idle_since > IDLE_PING:
            try:
                dbapi_connection.ping()
            except Exception as exc:
                # Its server went away while the pool slept: so did the others.
                raise InvalidatePoolError(str(exc)) from exc

    def _checkin(self, _dbapi_connection, record) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    # --- lag ------------------------------------------------------------------

    async def caught_up_with_primary(self, within: float = CATCH_UP_WITHIN) -> bool:
        """True once the replica has replayed what the primary had written when this
        was called; False if not within `within` seconds, or if either cannot say."""
        started = time.monotonic()
        try:
            async with asyncio.timeout(within):
                position = await self.primary_position()
        except Exception:
            return False
        return await self.caught_up(position, within - (time.monotonic() - started))

    async def primary_position(self) -> int:
        """The primary's WAL insert position, read after this call. Boards woken by one
        NOTIFY share one reading: one not yet sent serves whoever asks meanwhile."""
        if self._position is None or self._position_sent:
            self._position_sent = False
            self._position = asyncio.ensure_future(self._read_primary_position())
        return await asyncio.shield(self._position)

    async def _read_primary_position(self) -> int:
        self._position_sent = True
        return await self._primary_lsn()

    async def _primary_lsn(self) -> int:
        async with self.primary.connect() as conn:
            text = (await conn.exec_driver_sql("SELECT pg_current_wal_insert_lsn()::text")).scalar()
        return parse_lsn(text)

    async def caught_up(self, lsn: int, within: float = CATCH_UP_WITHIN) -> bool:
        """True once the replica has replayed the primary's WAL up to `lsn`; False if it
        has not within `within` seconds or cannot say. Waiting boards share one reading
        of the position at a time, whatever their number."""
        try:
            async with asyncio.timeout(within):
                while self._replayed < lsn:
                    if self._poll is None or self._poll.done():
                        self._poll = asyncio.ensure_future(self._read_replayed())
                    if await asyncio.shield(self._poll):
                        return True  # not replaying: these reads are on the primary
                    if self._replayed < lsn:
                        await asyncio.sleep(POLL_EVERY)
        except Exception:  # TimeoutError, or the replica went away: read the primary
            return False
        return True

    async def _read_replayed(self) -> bool:
        """Note the replica's replay position; True when its server is not replaying
        (a fallback connection to the primary, or a promoted replica)."""
        async with self.engine.connect() as conn:
            text = (await conn.exec_driver_sql("SELECT pg_last_wal_replay_lsn()::text")).scalar()
        if text is None:
            return True
        self._replayed = max(self._replayed, parse_lsn(text))
        return False

    # --- lag cut-off ----------------------------------------------------------

    def watch_lag(self) -> None:
        """Start checking, in the background, whether the replica is too far behind."""
        if self._watch is None:
            self._watch = asyncio.create_task(self._watch_lag())

    async def _watch_lag(self) -> None:
        while True:
            try:
                await self.check_lag()
            except Exception as exc:  # either server away: the fallback handles it
                log.debug("could not check the replica's lag: %s", exc)
            await asyncio.sleep(LAG_EVERY)

    async def check_lag(self) -> None:
        """One check: note the primary's position, read the replica's replay position,
        and decide whether public reads may go to the replica."""
        now = time.monotonic()
        self._samples.append((now, await self._primary_lsn()))
        # Keep the newest sample old enough to judge by, and every newer one.
        while len(self._samples) > 1 and now - self._samples[1][0] >= self.max_lag:
            self._samples.popleft()
        if await self._read_replayed():
            self._set_behind(False)  # not replaying: these reads are on the primary
            return
        if self.behind:
            # Back once it has replayed what the primary had at the previous check: at
            # most one interval behind (under steady writes it never reaches the latest).
            previous = self._samples[-2 if len(self._samples) > 1 else -1][1]
            self._set_behind(self._replayed < previous)
            return
        when, old = self._samples[0]
        self._set_behind(now - when >= self.max_lag and self._replayed < old)

    def _set_behind(self, behind: bool) -> None:
        if behind != self.behind:
            log.warning(
                "the read replica is %s; public reads go to the %s",
                f"more than {self.max_lag:g} s behind" if behind else "caught up",
                "primary" if behind else "replica",
            )
        self.behind = behind
