"""What every write use case receives beside its command: the engine's units of work,
the viewer, and the clock. Use cases are called as `use_case(cmd, uow)` (as in
cosmicpython's service layer); only the GraphQL layer, the CLI and the demo build one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from db import uow as db_uow
from db.types import utcnow
from resolvers.auth import Viewer

FUNDS_TZ = ZoneInfo("Asia/Shanghai")  # config's default, for callers that pass none


@dataclass(frozen=True)
class UnitOfWork:
    """The engine, who acts, and when.

    `clock` is None in the API: writes are dated now, and the ledger dates its
    entries itself. Back-office callers (the demo) pass a clock to date their writes
    in the past.
    """

    engine: AsyncEngine
    viewer: Viewer | None
    clock: Callable[[], datetime] | None = None
    timezone: tzinfo = FUNDS_TZ

    def transaction(self):
        """A session in one transaction, behind the write gate (db/uow.py)."""
        return db_uow.unit_of_work(self.engine)

    def one_statement(self):
        """A pooled driver connection good for one statement (db/uow.py)."""
        return db_uow.one_statement(self.engine)

    def reading(self):
        """A session for reads only; never commits."""
        return db_uow.read_session(self.engine)

    def now(self) -> datetime:
        return self.clock() if self.clock is not None else utcnow()

    def effective_at(self) -> datetime | None:
        """The instant a ledger entry is dated at: None (the ledger's now) unless a
        clock was given."""
        return self.clock() if self.clock is not None else None

    @property
    def username(self) -> str:
        # Only called after authorize(), which refuses an anonymous viewer.
        return self.viewer.username  # type: ignore[union-attr]

    def acting_as(self, viewer: Viewer | None) -> UnitOfWork:
        return UnitOfWork(self.engine, viewer, self.clock, self.timezone)

    def at(self, instant: datetime) -> UnitOfWork:
        """The same unit of work with a clock stopped at `instant`."""
        return UnitOfWork(self.engine, self.viewer, lambda: instant, self.timezone)
