"""Login throttling: failed sign-ins per username and per client address, with an
exponential backoff, and the request's client (set by the server for each request).

The counts live in the worker process (each worker of `jinlin serve --workers N`
keeps its own), bounded in size: the oldest entries are forgotten first.
"""

from __future__ import annotations

import math
import time
from contextvars import ContextVar
from dataclasses import dataclass

from resolvers.errors import UseCaseError


@dataclass
class Client:
    """Who sent the current request, and what the answer should tell it."""

    address: str | None = None
    retry_after: int | None = None  # seconds, for a Retry-After header


CLIENT: ContextVar[Client | None] = ContextVar("jinlin_client", default=None)


def current_client() -> Client:
    client = CLIENT.get()
    if client is None:  # in-process callers (the CLI, tests): one shared anonymous client
        client = Client()
        CLIENT.set(client)
    return client


class Backoff:
    """Failures per key: after `free` of them, each further one locks the key for
    base * 2**n seconds (up to `cap`). Failures older than `forget` seconds no longer
    count."""

    def __init__(self, *, free: int, base: float, cap: float, forget: float, size: int = 10_000):
        self.free, self.base, self.cap, self.forget, self.size = free, base, cap, forget, size
        self._entries: dict[str, tuple[int, float, float]] = {}  # failures, last, locked_until

    def wait(self, key: str, now: float) -> float:
        entry = self._entries.get(key)
        return max(0.0, entry[2] - now) if entry else 0.0

    def failed(self, key: str, now: float) -> None:
        failures, last, _until = self._entries.pop(key, (0, now, now))
        if now - last > self.forget:
            failures = 0
        failures += 1
        over = failures - self.free
        until = now + min(self.cap, self.base * 2 ** (over - 1)) if over > 0 else now
        if len(self._entries) >= self.size:
            self._entries.pop(next(iter(self._entries)))
        self._entries[key] = (failures, now, until)

    def succeeded(self, key: str) -> None:
        self._entries.pop(key, None)


# A person mistyping a few times is never slowed; guessing is, quickly.
BY_USERNAME = Backoff(free=5, base=1.0, cap=900.0, forget=3600.0)
# An address may hold many users (an office behind one NAT): more room before backoff.
BY_ADDRESS = Backoff(free=30, base=1.0, cap=900.0, forget=3600.0)


def rate_limited(seconds: float, why: str) -> UseCaseError:
    wait = max(1, math.ceil(seconds))
    current_client().retry_after = wait
    return UseCaseError("RATE_LIMITED", f"{why}; retry in {wait} s")


def check_login_allowed(username: str) -> None:
    """RATE_LIMITED while the username or the client's address is backing off."""
    now = time.monotonic()
    address = current_client().address
    wait = max(
        BY_USERNAME.wait(username.casefold(), now),
        BY_ADDRESS.wait(address, now) if address else 0.0,
    )
    if wait > 0:
        raise rate_limited(wait, "too many failed sign-ins")


def login_failed(username: str) -> None:
    now = time.monotonic()
    BY_USERNAME.failed(username.casefold(), now)
    address = current_client().address
    if address:
        BY_ADDRESS.failed(address, now)


def login_succeeded(username: str) -> None:
    # Only the username is forgiven: an address guessing at many users stays throttled.
    BY_USERNAME.succeeded(username.casefold())
