"""Sign-in: argon2 off the event loop, throttling with backoff (RATE_LIMITED and
Retry-After), and tokens revoked by a password change or a removed role."""

from __future__ import annotations

import asyncio
import time

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text

import resolvers.users as users
from tests.api.client import PASSWORD

LOGIN = "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { token errors { code message } } }"
VIEWER = "{ viewer { username } }"


async def _login(api, username: str, password: str):
    response = await api.http.post(
        "/graphql", json={"query": LOGIN, "variables": {"u": username, "p": password}}
    )
    assert response.status_code == 200
    return response.json()["data"]["login"], response.headers


async def _max_loop_gap(during) -> float:
    """The longest the event loop went without running a 1 ms ticker while `during` ran."""
    gaps, stop = [0.0], asyncio.Event()

    async def tick():
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    try:
        await during
    finally:
        stop.set()
        await ticker
    return max(gaps)


async def test_password_hashing_does_not_block_the_event_loop(api, monkeypatch):
    real = PasswordHasher()  # production costs
    monkeypatch.setattr(users, "_hasher", real)
    monkeypatch.setattr(users, "_DUMMY_HASH", real.hash("dummy password"))
    started = time.perf_counter()
    real.verify(users._DUMMY_HASH, "dummy password")
    one_hash = time.perf_counter() - started
    attempts = asyncio.gather(*(_login(api, f"nobody{i}", "wrong password!") for i in range(4)))
    gap = await _max_loop_gap(attempts)
    assert gap < one_hash / 2, (
        f"the loop stalled {gap * 1000:.0f} ms (a hash: {one_hash * 1000:.0f} ms)"
    )


async def test_failed_sign_ins_back_off_per_username(api):
    await api.user("fin", "FINANCE")
    for _ in range(6):
        payload, _headers = await _login(api, "fin", "wrong password!")
        assert payload["errors"][0]["code"] == "UNAUTHENTICATED"
    payload, headers = await _login(api, "fin", PASSWORD)  # even the right password waits
    assert payload["token"] is None and payload["errors"][0]["code"] == "RATE_LIMITED"
    wait = int(headers["retry-after"])
    assert wait >= 1
    await asyncio.sleep(wait + 0.1)
    payload, headers = await _login(api, "fin", PASSWORD)
    assert payload["token"] and "retry-after" not in headers
    # Success forgives the username: the next mistake is answered plainly.
    payload, _headers = await _login(api, "fin", "wrong password!")
    assert payload["errors"][0]["code"] == "UNAUTHENTICATED"


async def test_failed_sign_ins_back_off_per_address(api):
    await api.user("fin", "FINANCE")
    for i in range(31):  # one failure per username: only the address adds up
        payload, _headers = await _login(api, f"guess{i}", "wrong password!")
        assert payload["errors"][0]["code"] == "UNAUTHENTICATED", i
    payload, headers = await _login(api, "fin", PASSWORD)
    assert payload["errors"][0]["code"] == "RATE_LIMITED" and "retry-after" in headers


@pytest.mark.parametrize(
    ("change", "revoked"),
    [
        ("UPDATE users SET password_hash = 'changed' WHERE username = 'boss'", True),
        ("UPDATE users SET roles = 'FINANCE' WHERE username = 'boss'", True),
        ("UPDATE users SET roles = 'ADMIN,FINANCE,PARTNER' WHERE username = 'boss'", False),
        ("UPDATE users SET username = 'chief' WHERE username = 'boss'", False),
    ],
    ids=["password changed", "role removed", "role added", "renamed"],
)
async def test_a_password_change_or_removed_role_revokes_earlier_tokens(
    api, no_viewer_cache, change, revoked
):
    token = await api.user("boss", "ADMIN", "FINANCE")
    assert (await api.data(VIEWER, token=token))["viewer"] is not None
    async with api.state.engine.begin() as conn:
        await conn.execute(text(change))
    viewer = (await api.data(VIEWER, token=token))["viewer"]
    assert (viewer is None) is revoked


async def test_signing_in_again_after_a_password_change_works_at_once(api):
    old = await api.user("boss", "FINANCE")
    assert (await api.data(VIEWER, token=old))["viewer"] == {"username": "boss"}  # cached
    new_hash = users._hasher.hash("a brand new password")
    async with api.state.engine.begin() as conn:
        await conn.execute(
            text("UPDATE users SET password_hash = :h WHERE username = 'boss'"), {"h": new_hash}
        )
    payload, _headers = await _login(api, "boss", "a brand new password")
    assert (await api.data(VIEWER, token=payload["token"]))["viewer"] == {"username": "boss"}
    assert (await api.data(VIEWER, token=old))["viewer"] is None
