"""Sign-in: argon2 password hashes, signed JWT bearer tokens, and user creation."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import URL, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db.models import CommunityRow, PartnerRow, UserRow
from db.types import utcnow
from db.uow import read_session, unit_of_work
from resolvers.auth import COMMUNITY_STAFF, PARTNER, ROLES, Viewer
from resolvers.errors import UseCaseError, invalid, not_found

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both cases cost the same time.
_DUMMY_HASH = _hasher.hash("not a password anyone has")
TOKEN_ALGORITHM = "HS256"
USERNAME_MAX = 64
PASSWORD_MIN, PASSWORD_MAX = 10, 200


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


def issue_token(user: UserRow, keys: TokenKeys) -> str:
    now = utcnow()
    claims = {
        "sub": str(user.id),
        "iat": now,
        "exp": now + timedelta(seconds=keys.ttl_seconds),
        "iss": "jinlin",
    }
    return jwt.encode(claims, keys.secret, algorithm=TOKEN_ALGORITHM)


def user_id_from_token(token: str, keys: TokenKeys) -> int | None:
    """The user a token speaks for, or None when it is bad, expired or forged.

    A token's signature is checked once per process; the verified token (the exact
    string, under the same secret) is remembered with its expiry, which is checked on
    every use. Bad tokens are not remembered, so garbage cannot fill the cache.
    """
    cache_key = (keys.secret, token)
    known = _verified.get(cache_key)
    if known is not None:
        user_id, expires = known
        return user_id if time.time() < expires else None
    try:
        claims = jwt.decode(
            token,
            keys.secret,
            algorithms=[TOKEN_ALGORITHM],
            issuer="jinlin",
            options={"require": ["exp", "sub", "iss"]},
        )
        user_id = int(claims["sub"])
        expires = int(claims["exp"])  # NumericDate: whole seconds since the epoch
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    if len(_verified) >= _TOKEN_CACHE_SIZE:
        _verified.clear()
    _verified[cache_key] = (user_id, expires)
    return user_id


_TOKEN_CACHE_SIZE = 4096
_verified: dict[tuple[str, str], tuple[int, int]] = {}


# Who a user is (roles, community, partner) is read at most every few seconds per
# process rather than on every request: a role change takes effect within
# VIEWER_TTL_SECONDS. The token's expiry is checked on every request.
VIEWER_TTL_SECONDS = 10.0
_VIEWER_CACHE_SIZE = 4096
_viewers: dict[tuple[URL, int], tuple[float, Viewer | None]] = {}


async def viewer_from_token(engine: AsyncEngine, token: str, keys: TokenKeys) -> Viewer | None:
    user_id = user_id_from_token(token, keys)
    if user_id is None:
        return None
    now = time.monotonic()
    key = (engine.url, user_id)
    cached = _viewers.get(key)
    if cached is not None and now - cached[0] < VIEWER_TTL_SECONDS:
        return cached[1]
    async with read_session(engine) as session:
        user = await session.get(UserRow, user_id)
    viewer = viewer_of(user) if user else None
    if len(_viewers) >= _VIEWER_CACHE_SIZE:
        _viewers.clear()
    _viewers[key] = (now, viewer)
    return viewer


async def login(engine: AsyncEngine, username: str, password: str, keys: TokenKeys):
    """(token, user) for good credentials; UNAUTHENTICATED otherwise, without saying
    which of the two was wrong."""
    async with read_session(engine) as session:
        user = await session.scalar(select(UserRow).where(UserRow.username == username[:100]))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password[:PASSWORD_MAX])
    except (VerificationError, InvalidHashError):
        user = None
    if user is None:
        raise UseCaseError("UNAUTHENTICATED", "wrong username or password")
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


async def create_user(
    session: AsyncSession,
    username: str,
    password: str,
    roles: list[str],
    *,
    community_id: int | None = None,
    partner_id: int | None = None,
) -> UserRow:
    check_new_user(username, password, roles)
    if COMMUNITY_STAFF in roles and community_id is None:
        raise invalid("a COMMUNITY_STAFF user needs a community", "communityId")
    if PARTNER in roles and partner_id is None:
        raise invalid("a PARTNER user needs a partner", "partnerId")
    if community_id is not None and await session.get(CommunityRow, community_id) is None:
        raise not_found("community", "communityId")
    if partner_id is not None and await session.get(PartnerRow, partner_id) is None:
        raise not_found("partner", "partnerId")
    if await session.scalar(select(UserRow.id).where(UserRow.username == username)):
        raise invalid(f"username {username!r} is taken", "username")
    user = UserRow(
        username=username,
        password_hash=_hasher.hash(password),
        roles=",".join(sorted(set(roles))),
        community_id=community_id,
        partner_id=partner_id,
    )
    session.add(user)
    await session.flush()
    return user


async def create_user_in(engine: AsyncEngine, *args, **kwargs) -> UserRow:
    async with unit_of_work(engine) as session:
        return await create_user(session, *args, **kwargs)
