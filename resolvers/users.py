"""Sign-in: argon2 password hashes, signed JWT bearer tokens, and user creation.

Hashing runs in a small thread pool, never on the event loop (argon2 takes about
100 ms a hash and releases the GIL while it works). A token carries the user's token
version; changing the password, removing a role or moving the user to another
community or partner bumps the version in the row (a trigger, migration 0008), and
every token issued before stops working.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncEngine

from db import directory
from db.models import CommunityRow, PartnerRow, UserRow
from db.types import utcnow
from db.uow import read_session
from resolvers.auth import COMMUNITY_STAFF, PARTNER, ROLES, Viewer
from resolvers.commands import CreateUser, Login
from resolvers.errors import UseCaseError, invalid, not_found
from resolvers.throttle import check_login_allowed, login_failed, login_succeeded, rate_limited
from resolvers.unit_of_work import UnitOfWork

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both cases cost the same time.
_DUMMY_HASH = _hasher.hash("not a password anyone has")
TOKEN_ALGORITHM = "HS256"
USERNAME_MAX = 64
PASSWORD_MIN, PASSWORD_MAX = 10, 200
HASH_THREADS = 2
HASH_QUEUE = 32  # hashes waiting for a thread; past it, sign-ins are refused for now
_hash_pool = ThreadPoolExecutor(max_workers=HASH_THREADS, thread_name_prefix="argon2")
_hashes_pending = 0


@dataclass(frozen=True)
class TokenKeys:
    secret: str
    ttl_seconds: int


def viewer_of(user: UserRow) -> Viewer:
    return Viewer(
        user_id=user.id,
        username=user.username,
        roles=frozenset(r for r in user.roles.split(",") if r),
        community_id=user.community_id,
        partner_id=user.partner_id,
    )


async def _in_hash_pool(fn, *args):
    global _hashes_pending
    if _hashes_pending >= HASH_QUEUE:
        raise rate_limited(1, "too many sign-ins at once")
    _hashes_pending += 1
    try:
        return await asyncio.get_running_loop().run_in_executor(_hash_pool, fn, *args)
    finally:
        _hashes_pending -= 1


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Off the event loop. An unknown user is checked against a dummy hash, so both
    cases cost the same time."""
    return await _in_hash_pool(_verify, password_hash or _DUMMY_HASH, password[:PASSWORD_MAX])


async def hash_password(password: str) -> str:
    return await _in_hash_pool(lambda: _hasher.hash(password))


def issue_token(user: UserRow, keys: TokenKeys) -> str:
    now = utcnow()
    claims = {
        "ver": user.token_version or 0,
        "sub": str(user.id),
        "iat": now,
        "exp": now + timedelta(seconds=keys.ttl_seconds),
        "iss": "jinlin",
    }
    return jwt.encode(claims, keys.secret, algorithm=TOKEN_ALGORITHM)


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    expires: int  # NumericDate: whole seconds since the epoch
    version: int


def user_id_from_token(token: str, keys: TokenKeys) -> int | None:
    claims = token_claims(token, keys)
    return claims.user_id if claims else None


def token_claims(token: str, keys: TokenKeys) -> TokenClaims | None:
    """What a token says, or None when it is bad, expired or forged.

    A token's signature is checked once per process; the verified token (the exact
    string, under the same secret) is remembered with its expiry, which is checked on
    every use. Bad tokens are not remembered, so garbage cannot fill the cache.
    """
    cache_key = (keys.secret, token)
    known = _verified.get(cache_key)
    if known is not None:
        return known if time.time() < known.expires else None
    try:
        claims = jwt.decode(
            token,
            keys.secret,
            algorithms=[TOKEN_ALGORITHM],
            issuer="jinlin",
            options={"require": ["exp", "sub", "iss"]},
        )
        known = TokenClaims(int(claims["sub"]), int(claims["exp"]), int(claims.get("ver", 0)))
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    if len(_verified) >= _TOKEN_CACHE_SIZE:
        _verified.clear()
    _verified[cache_key] = known
    return known


_TOKEN_CACHE_SIZE = 4096
_verified: dict[tuple[str, str], TokenClaims] = {}


# Who a user is (roles, community, partner) is read at most every few seconds per
# process rather than on every request: a role change takes effect within
# VIEWER_TTL_SECONDS. The token's expiry is checked on every request.
VIEWER_TTL_SECONDS = 10.0
_VIEWER_CACHE_SIZE = 4096
# (database, user) -> (read at, the viewer or None for no such user, token version)
_viewers: dict[tuple[str, int], tuple[float, Viewer | None, int]] = {}
_NO_VERSION = 2**62
# An engine's database as a key: a URL hashes by rendering itself, on every request.
_database_of: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _database(engine: AsyncEngine) -> str:
    key = _database_of.get(engine.sync_engine)
    if key is None:
        key = _database_of[engine.sync_engine] = repr(engine.url)
    return key


def cached_viewer(engine: AsyncEngine, token: str, keys: TokenKeys) -> tuple[bool, Viewer | None]:
    """(True, what viewer_from_token answers) when that needs no read (a bad or expired
    token, or the user's row read within VIEWER_TTL_SECONDS); (False, None) otherwise."""
    claims = token_claims(token, keys)
    return (True, None) if claims is None else _cached_viewer(engine, claims)


def _cached_viewer(engine: AsyncEngine, claims: TokenClaims) -> tuple[bool, Viewer | None]:
    cached = _viewers.get((_database(engine), claims.user_id))
    # A token newer than the cached row (signed in again after a password change) reads
    # the row again rather than wait for the cache.
    if (
        cached is None
        or time.monotonic() - cached[0] >= VIEWER_TTL_SECONDS
        or cached[2] < claims.version
    ):
        return False, None
    _read_at, viewer, version = cached
    return True, viewer if version == claims.version else None


async def viewer_from_token(engine: AsyncEngine, token: str, keys: TokenKeys) -> Viewer | None:
    """The token's user, unless the token is bad or expired, the user is gone, or the
    token was issued before the user's token version last changed."""
    claims = token_claims(token, keys)
    if claims is None:
        return None
    known, viewer = _cached_viewer(engine, claims)
    if known:
        return viewer
    now = time.monotonic()
    async with read_session(engine) as session:
        user = await session.get(UserRow, claims.user_id)
    gone = (now, None, _NO_VERSION)  # a deleted user: no token is newer, none re-reads
    cached = (now, viewer_of(user), user.token_version) if user else gone
    if len(_viewers) >= _VIEWER_CACHE_SIZE:
        _viewers.clear()
    _viewers[(_database(engine), claims.user_id)] = cached
    _read_at, viewer, version = cached
    return viewer if version == claims.version else None


async def login(cmd: Login, uow: UnitOfWork, keys: TokenKeys):
    """(token, user) for good credentials; UNAUTHENTICATED otherwise, without saying
    which of the two was wrong. RATE_LIMITED while the username or the client's
    address backs off after failures (resolvers/throttle.py)."""
    username = cmd.username[:USERNAME_MAX]
    check_login_allowed(username)
    async with uow.reading() as session:
        user = await directory.user_named(session, username)
    if not await verify_password(user.password_hash if user else None, cmd.password):
        login_failed(username)
        raise UseCaseError("UNAUTHENTICATED", "wrong username or password")
    login_succeeded(username)
    return issue_token(user, keys), user


def check_new_user(username: str, password: str, roles: list[str]) -> None:
    if (
        not username
        or len(username) > USERNAME_MAX
        or not username.isprintable()
        or " " in username
    ):
        raise invalid(
            f"username must be 1 to {USERNAME_MAX} printable characters, no spaces", "username"
        )
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise invalid(f"password must be {PASSWORD_MIN} to {PASSWORD_MAX} characters", "password")
    if not roles or any(r not in ROLES for r in roles):
        raise invalid(f"roles must be some of {', '.join(ROLES)}", "roles")


async def create_user(cmd: CreateUser, uow: UnitOfWork) -> UserRow:
    """A back-office use case (the command line, the demo): no viewer is checked."""
    roles = list(cmd.roles)
    check_new_user(cmd.username, cmd.password, roles)
    if COMMUNITY_STAFF in roles and cmd.community_id is None:
        raise invalid("a COMMUNITY_STAFF user needs a community", "communityId")
    if PARTNER in roles and cmd.partner_id is None:
        raise invalid("a PARTNER user needs a partner", "partnerId")
    async with uow.transaction() as session:
        if (
            cmd.community_id is not None
            and await session.get(CommunityRow, cmd.community_id) is None
        ):
            raise not_found("community", "communityId")
        if cmd.partner_id is not None and await session.get(PartnerRow, cmd.partner_id) is None:
            raise not_found("partner", "partnerId")
        if await directory.user_named(session, cmd.username) is not None:
            raise invalid(f"username {cmd.username!r} is taken", "username")
        user = UserRow(
            username=cmd.username,
            password_hash=await hash_password(cmd.password),
            roles=",".join(sorted(set(roles))),
            community_id=cmd.community_id,
            partner_id=cmd.partner_id,
        )
        session.add(user)
        await session.flush()
        return user


async def create_user_in(
    engine: AsyncEngine,
    username: str,
    password: str,
    roles: list[str],
    *,
    community_id: int | None = None,
    partner_id: int | None = None,
) -> UserRow:
    """create_user with a unit of work of no viewer (tests, fault harness)."""
    cmd = CreateUser(username, password, tuple(roles), community_id, partner_id)
    return await create_user(cmd, UnitOfWork(engine, None))
