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
  NOTIFY (sent on commit, so heard after it), reads the primary's WAL position and
  waits up to CATCH_UP_WITHIN for the replica to replay past it; otherwise it reads
  the primary, so it never shows a stale figure for ever (`caught_up_with_primary`).
"""

from __future__ import annotations

import asyncio
import logging
import time

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

_ON_PRIMARY, _IDLE_SINCE = "jinlin_on_primary", "jinlin_idle_since"


def parse_lsn(text: str) -> int:
    """PostgreSQL's 'X/Y' WAL position as one comparable number."""
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


class ReadReplica:
    """The engine public reads go through, and what the live board asks of it."""

    def __init__(self, replica_url: str, primary: AsyncEngine, *, pooler: str | None = None):
        self.engine = make_engine(replica_url, pooler=pooler, application_name=APPLICATION_NAME)
        self.primary = primary
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
