"""What a database error means for a request: worth re-running the unit of work
(a conflict with a concurrent request), worth a retry later (the database cannot serve
now), or neither."""

from __future__ import annotations

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeout

# Conflicts a re-run of the whole unit of work settles: a serialization failure, a
# deadlock, and a unique key claimed by a concurrent request (the re-run reads the
# claim: an idempotency key replays its result). Never a CHECK or foreign-key
# violation, which a re-run would only meet again.
_TRANSIENT_STATES = frozenset({"40001", "40P01", "23505"})


def is_transient(exc: BaseException) -> bool:
    """True for a conflict that re-running the unit of work settles, through SQLAlchemy
    (DBAPIError) or straight from the driver (asyncpg errors)."""
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        state = getattr(orig, "sqlstate", None) or getattr(
            getattr(orig, "__cause__", None), "sqlstate", None
        )
        return state in _TRANSIENT_STATES
    if isinstance(exc, asyncpg.PostgresError):
        return exc.sqlstate in _TRANSIENT_STATES
    return False


TRANSIENT_ERRORS = (DBAPIError, asyncpg.PostgresError)


# What a request meets when the database cannot serve it now (down, restarting, or
# every connection and write slot busy past its timeout): worth a retry later with the
# same idempotency key, unlike a bug.
_UNAVAILABLE_DRIVER_ERRORS = (
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08, "connection does not exist" too
    asyncpg.CannotConnectNowError,  # the server is starting or shutting down
    asyncpg.AdminShutdownError,
    # "terminating connection because of crash of another server process": the server
    # resets after one of its processes died, and is back in a moment.
    asyncpg.exceptions.CrashShutdownError,
    # During a failover: no host of a multi-host URL accepts writes yet (the standby is
    # not promoted), or a connection still reaches a server that became read-only.
    asyncpg.exceptions.TargetServerAttributeNotMatched,
    asyncpg.ReadOnlySQLTransactionError,
    # Refused, reset, timed out, or (a Unix socket) no server there at all: OSError
    # covers ConnectionError and TimeoutError (connect, pool checkout, write gate).
    OSError,
)


def _while_handling(exc: BaseException) -> BaseException | None:
    """The error being handled when `exc` was raised (a ROLLBACK that fails on the
    connection the first error broke, say), unless it was suppressed (`from None`)."""
    return None if exc.__suppress_context__ else exc.__context__


def _lost_while_idle(exc: BaseException) -> bool:
    """A pooled connection whose server said goodbye while it sat idle: the server's
    FATAL message ("terminating connection due to unexpected postmaster exit", when the
    primary dies) arrived before the end of the stream, so the driver's protocol left its
    idle state, and the next statement is refused before anything is sent. The
    connection is lost, like one reset; a concurrent use of a connection (a bug) raises
    InterfaceError instead."""
    return isinstance(exc, asyncpg.exceptions.InternalClientError) and str(exc).startswith(
        "cannot switch to state"
    )


def is_unavailable(exc: BaseException | None) -> bool:
    """True when `exc` (or what it wraps, or the error it was raised while handling)
    says the database cannot serve the request now."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, _UNAVAILABLE_DRIVER_ERRORS) or isinstance(exc, SQLAlchemyTimeout):
            return True
        if _lost_while_idle(exc):
            return True
        # A pooled connection the restart killed; other interface errors are bugs.
        if isinstance(exc, asyncpg.InterfaceError) and "connection is closed" in str(exc):
            return True
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__ or _while_handling(exc)
        seen += 1
    return False
