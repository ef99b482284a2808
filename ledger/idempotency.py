"""Idempotency keys: the same key and request give the first result and write nothing.

A key is remembered in the same transaction as the write it guards, so a crash can
never leave one without the other. Callers recall after taking the lock that
serializes the write (the fund's book), so two racing requests with one key are
decided one after the other; a key claimed concurrently elsewhere surfaces as an
IntegrityError on commit, and the retried unit of work then recalls it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import IdempotencyRow
from db.types import utcnow
from ledger.errors import IdempotencyConflict, InvalidEntry

MAX_KEY_LENGTH = 200


def fingerprint(operation: str, request: dict[str, Any]) -> str:
    """A stable hash of what was asked (the key itself excluded)."""
    canonical = orjson.dumps(
        {"op": operation, "request": request}, option=orjson.OPT_SORT_KEYS, default=str
    )
    return hashlib.sha256(canonical).hexdigest()


def check_key(key: str) -> str:
    key = key.strip() if isinstance(key, str) else ""
    if not key:
        raise InvalidEntry("idempotencyKey must not be empty", field="idempotencyKey")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidEntry(
            f"idempotencyKey is longer than {MAX_KEY_LENGTH} characters", field="idempotencyKey"
        )
    return key


# Core statements on the table, built once: these run on every money write, and
# ORM-enabled statements or statements rebuilt per call cost more CPU than the I/O.
_KEYS = IdempotencyRow.__table__
_RECALL = select(_KEYS.c.operation, _KEYS.c.fingerprint, _KEYS.c.result_id).where(
    _KEYS.c.key == bindparam("key")
)
_REMEMBER = insert(_KEYS)


async def recall(session: AsyncSession, key: str, operation: str, print_: str) -> int | None:
    """The id the key produced before, None if the key is new; a conflict if it was
    used for another request."""
    return judge((await session.execute(_RECALL, {"key": key})).first(), operation, print_)


def judge(stored: Sequence | None, operation: str, print_: str) -> int | None:
    """What a stored key (operation, fingerprint, result id), or None, says of a request:
    its earlier result, None if the key is new, a conflict if it was another request."""
    if stored is None:
        return None
    stored_operation, stored_print, result_id = stored
    if stored_operation != operation or stored_print != print_:
        raise IdempotencyConflict(
            "this idempotencyKey was already used for a different request",
            field="idempotencyKey",
        )
    return result_id


async def remember(
    session: AsyncSession, key: str, operation: str, print_: str, result_id: int
) -> None:
    await session.execute(
        _REMEMBER,
        {
            "key": key,
            "operation": operation,
            "fingerprint": print_,
            "result_id": result_id,
            "created_at": utcnow(),
        },
    )
