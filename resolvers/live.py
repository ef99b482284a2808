"""The change feed behind subscriptions: "campaign N changed".

Within one process it is a set of asyncio queues. Across worker processes on
PostgreSQL it travels through LISTEN/NOTIFY: every process listens on one channel
and fans notifications out to its own subscribers, including its own
notifications, so there is one path whatever the number of workers. The listener
reconnects by itself when the database restarts.

LISTEN needs a session of its own: behind PgBouncer in transaction mode it goes to
`listen_url` (JINLIN_LISTEN_DATABASE_URL), a direct connection to the database, while
NOTIFY, sent inside transactions, may go through the pooler.

The same session listens on jinlin_journal, where every ledger write's unit of work
announces its fund's new head after the commit (db/announce.py): the feed keeps the
process's cache of public reads (`reads`), which those heads invalidate
(resolvers/public_reads.py). An announcement can be lost (a worker killed between its
commit and its send), so every second the listener also reads the heads of the funds
the cache knows, and of the funds of the campaigns subscribed to, on its own session: a
head that moved without an announcement wakes that fund's subscribed campaigns (they
read their progress again), since whatever moved it may have been a gift to one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from db.announce import CAMPAIGN_CHANNEL, HEADS_NOW, JOURNAL_CHANNEL, announcer, told_of
from ops import metrics
from resolvers.public_reads import PublicReads

log = logging.getLogger("jinlin.live")
CHECK_EVERY = 1.0  # seconds between the listener's reads of the heads it relies on
CAMPAIGN_FUNDS = "SELECT id, fund_id FROM campaigns WHERE id = ANY($1::int[])"


class CampaignFeed:
    def __init__(self, engine: AsyncEngine, listen_url: str | None = None):
        self.engine = engine
        self.listen_url = listen_url
        self._queues: dict[int, set[asyncio.Queue]] = defaultdict(set)
        self._task: asyncio.Task | None = None
        self.reads = PublicReads()
        self._fund_of: dict[int, int] = {}  # campaign -> its fund (never changes)
        self._watched: dict[int, int] = {}  # fund of a subscribed campaign -> head heard
        self._unheard: dict[int, int] = {}  # such a fund -> a head the check read beyond it

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._listen_forever())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    def _dispatch(self, campaign_id: int) -> None:
        for queue in list(self._queues.get(campaign_id, ())):
            if queue.empty():  # one pending wake-up is enough: progress is re-read
                queue.put_nowait(campaign_id)

    async def publish(self, campaign_id: int | None) -> None:
        """After a commit: the campaign changed. Should the announcement fail, this
        process's own subscribers are still woken."""
        if campaign_id is None:
            return
        if not await announcer(self.engine).announce({}, [campaign_id]):
            self._dispatch(campaign_id)

    @contextlib.asynccontextmanager
    async def subscribe(
        self, campaign_id: int, *, counted: bool = True
    ) -> AsyncIterator[asyncio.Queue]:
        """A queue woken by the campaign's changes; `counted` in the open subscriptions
        unless it serves a shared execution (whose sockets are counted instead)."""
        queue: asyncio.Queue = asyncio.Queue(maxsize=1)
        self._queues[campaign_id].add(queue)
        step = 1 if counted else 0
        metrics.SUBSCRIPTIONS.inc(step)
        try:
            yield queue
        finally:
            metrics.SUBSCRIPTIONS.dec(step)
            self._queues[campaign_id].discard(queue)
            if not self._queues[campaign_id]:
                self._queues.pop(campaign_id, None)

    async def _listen_forever(self) -> None:
        dsn, hosts = listen_dsn(self.listen_url or self.engine.url)
        delay = 0.2
        while True:
            conn = None
            try:
                conn = await asyncpg.connect(dsn, timeout=5, **hosts)
                await conn.add_listener(CAMPAIGN_CHANNEL, self._on_notify)
                await conn.add_listener(JOURNAL_CHANNEL, self._on_journal)
                self.reads.heads.connected()
                self._watched.clear()  # heads heard before are no guide now:
                self._unheard.clear()  # every subscriber is woken below anyway
                delay = 0.2
                # Wake every subscriber once: anything may have changed while away.
                for campaign_id in list(self._queues):
                    self._dispatch(campaign_id)
                while not conn.is_closed():
                    await asyncio.sleep(CHECK_EVERY)
                    await self._check_heads(conn)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.info("campaign feed listener lost its connection; retrying in %.1fs", delay)
            finally:
                self.reads.heads.lost()
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await conn.close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5)

    async def _check_heads(self, conn: asyncpg.Connection) -> None:
        """The heads of the funds the cache knows and of the subscribed campaigns' funds,
        read now: what a lost announcement left out is then heard at most CHECK_EVERY
        late. Also keeps the session alive."""
        heads = self.reads.heads
        cached = heads.funds()
        watched = await self._watched_funds(conn)
        rows = await conn.fetch(HEADS_NOW, list({*cached, *watched}))
        cached_set = set(cached)
        for fund, sequence in rows:
            if fund in cached_set:
                heads.seen(fund, sequence)
            if fund in watched:
                self._head_checked(fund, sequence)

    async def _watched_funds(self, conn: asyncpg.Connection) -> set[int]:
        """The funds of the campaigns subscribed to now (looked up once per campaign)."""
        unknown = [c for c in self._queues if c not in self._fund_of]
        if unknown:
            rows = await conn.fetch(CAMPAIGN_FUNDS, unknown)
            self._fund_of.update((campaign, fund) for campaign, fund in rows)
        funds = {self._fund_of[c] for c in self._queues if c in self._fund_of}
        for fund in [f for f in self._watched if f not in funds]:
            del self._watched[fund]
            self._unheard.pop(fund, None)
        return funds

    def _head_checked(self, fund: int, sequence: int) -> None:
        """A head read by the check. The first read of a fund sets where it stands. A
        head past what was announced may be an announcement still on its way: if the
        next check finds it still unannounced, it was lost, and the fund's subscribed
        campaigns are woken (heard at most two checks late, never woken twice)."""
        heard = self._watched.get(fund)
        if heard is None:
            self._watched[fund] = sequence
            return
        unheard = self._unheard.pop(fund, None)
        if unheard is not None and unheard > heard:
            self._watched[fund] = heard = unheard
            for campaign in [c for c, f in self._fund_of.items() if f == fund]:
                self._dispatch(campaign)
        if sequence > heard:
            self._unheard[fund] = sequence

    def _on_notify(self, _conn, _pid, _channel, payload: str) -> None:
        for item in told_of(payload):
            with contextlib.suppress(ValueError):
                self._dispatch(int(item))

    def _on_journal(self, _conn, _pid, _channel, payload: str) -> None:
        for item in told_of(payload):
            told = self.reads.heads.on_notify(item)
            if told is not None and told[0] in self._watched:
                fund, sequence = told  # announced: the check will not wake for it
                self._watched[fund] = max(self._watched[fund], sequence)


def listen_dsn(url) -> tuple[str, dict]:
    """An asyncpg DSN for `url`, and the hosts to try apart from it. SQLAlchemy writes
    several hosts (failover, target_session_attrs) as repeated host=H:P parameters,
    of which asyncpg would read only the last: they go to asyncpg as lists instead."""
    parsed = make_url(url).set(drivername="postgresql")
    hosts = parsed.query.get("host")
    if not isinstance(hosts, tuple):
        return parsed.render_as_string(hide_password=False), {}
    parsed = parsed.difference_update_query(["host"])
    names, ports = [], []
    for host in hosts:
        name, _, port = host.rpartition(":") if ":" in host else (host, "", "")
        names.append(name)
        ports.append(int(port) if port else 5432)
    return parsed.render_as_string(hide_password=False), {"host": names, "port": ports}
