"""Short-lived signed download links for reports, so that a browser can fetch a file
without an Authorization header (a link opened in a new tab, or handed to a download
manager).

The token is a JWT signed with the server's secret, naming the user, the user's token
version, and exactly one file: the fund, the report, the format, the period and the
language. It carries an audience of its own, so it is never accepted as a bearer
token, and a bearer token is never accepted as a link. It lives LINK_TTL seconds; the
user must still exist, keep the token version and be allowed to reconcile when the
link is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

import jwt

LINK_TTL = 300
AUDIENCE = "jinlin-report"
ALGORITHM = "HS256"


@dataclass(frozen=True)
class LinkFile:
    fund_code: str
    what: str
    fmt: str
    start: date
    end: date
    lang: str

    def path(self) -> str:
        return f"/exports/{self.fund_code}/{self.what}.{self.fmt}"

    def query(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "lang": self.lang}


@dataclass(frozen=True)
class SignedLink:
    url: str
    expires_at: datetime


def sign_link(
    file: LinkFile, user_id: int, version: int, secret: str, now: datetime | None = None
) -> SignedLink:
    issued = now or datetime.now(UTC)
    expires = issued + timedelta(seconds=LINK_TTL)
    claims = {
        "sub": str(user_id),
        "ver": version,
        "iss": "jinlin",
        "aud": AUDIENCE,
        "iat": issued,
        "exp": expires,
        "file": [file.fund_code, file.what, file.fmt, *file.query().values()],
    }
    token = jwt.encode(claims, secret, algorithm=ALGORITHM)
    query = urlencode({**file.query(), "token": token})
    return SignedLink(url=f"{file.path()}?{query}", expires_at=expires.replace(microsecond=0))


def link_holder(token: str, file: LinkFile, secret: str) -> tuple[int, int] | None:
    """(user id, token version) when the token is good, unexpired and for this very
    file; else None."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer="jinlin",
            options={"require": ["exp", "sub", "aud", "file"]},
        )
        wanted = [file.fund_code, file.what, file.fmt, *file.query().values()]
        if claims["file"] != wanted:
            return None
        return int(claims["sub"]), int(claims.get("ver", 0))
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return None
