"""What every mutation shares, written once (as Saleor's BaseMutation): the input is
mapped to a command, the use case runs with a unit of work, and a domain refusal
becomes the payload's `errors`. A payload with errors wrote nothing.

Transient conflicts re-run the whole use case: a serialization failure, a deadlock,
and a unique key claimed by a concurrent request (whose re-run reads the winner: an
idempotency key then replays its result). A CHECK or foreign-key violation is never
re-run; it is raised (db/driver.py is_transient decides).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry

from db.driver import TRANSIENT_ERRORS, is_transient
from ledger.errors import LedgerError
from resolvers.ids import key_of
from resolvers.unit_of_work import UnitOfWork
from schema.context import Info
from schema.errors import UserError, user_error

log = logging.getLogger("jinlin.mutations")
ATTEMPTS = 3
Command = TypeVar("Command")


async def run(call: Callable[..., Awaitable[Any]], *args, **kwargs) -> tuple[Any, list[UserError]]:
    """(result, errors) of a use case; refusals become payload errors, transient
    conflicts re-run it (at most ATTEMPTS times in all)."""
    for attempt in range(ATTEMPTS):
        try:
            return await call(*args, **kwargs), []
        except LedgerError as exc:
            return None, [user_error(exc)]
        except TRANSIENT_ERRORS as exc:
            if attempt == ATTEMPTS - 1 or not is_transient(exc):
                raise
            orig = getattr(exc, "orig", exc)
            log.info("retrying after a transient conflict: %s", type(orig).__name__)
    raise AssertionError("unreachable")


async def unit_of_work(info: Info) -> UnitOfWork:
    """The request's unit of work: the engine, the signed-in viewer, the funds' calendar."""
    app = info.context.app
    return UnitOfWork(app.engine, await info.context.viewer(), timezone=app.timezone)


async def execute(
    info: Info, use_case: Callable[[Command, UnitOfWork], Awaitable[Any]], cmd: Command
) -> tuple[Any, list[UserError]]:
    """Run `use_case(cmd, uow)` in the request's unit of work: (result, errors). The
    rest of the request then reads its own writes (Context.read_engine)."""
    info.context.wrote = True
    return await run(use_case, cmd, await unit_of_work(info))


def key(global_id: strawberry.ID, type_name: str) -> int:
    """The database key behind a global ID (resolvers/ids.py NO_ROW if it names
    nothing of the type: the use case then answers NOT_FOUND, naming the field)."""
    return key_of(global_id, type_name)


def optional_key(global_id: strawberry.ID | None, type_name: str) -> int | None:
    """key() of an optional ID; an absent or empty one is None."""
    return key_of(global_id, type_name) if global_id else None


def payload(name: str, field: str, type_, description: str):
    """A payload type: the result (null on errors) and `errors`."""
    fields = {
        field: strawberry.field(
            description="What the mutation wrote or changed (with an idempotency key used before: the first result); null when errors is not empty."
        ),
        "errors": strawberry.field(
            description="Why nothing was written, in the contract's codes; empty on success."
        ),
    }
    annotations = {field: type_ | None, "errors": list[UserError]}
    cls = type(name, (), {"__annotations__": annotations, **fields})
    return strawberry.type(cls, description=description)


def of(convert, row):
    return convert(row) if row is not None else None
