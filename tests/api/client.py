"""An in-process GraphQL client over the real ASGI app (httpx), plus test users."""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from config import load_settings
from resolvers.users import create_user_in
from server import create_app

_keys = itertools.count()
PASSWORD = "correct horse battery staple"


def new_key(prefix: str = "k") -> str:
    return f"{prefix}-{next(_keys)}"


class GraphQLClient:
    def __init__(self, app, state):
        self.app = app
        self.state = state
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        )

    async def close(self) -> None:
        await self.http.aclose()
        await self.state.engine.dispose()

    async def execute(
        self, query: str, variables: dict | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def data(
        self, query: str, variables: dict | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        """The data of a query that must succeed without any GraphQL error."""
        body = await self.execute(query, variables, token=token)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def user(
        self,
        username: str,
        *roles: str,
        community_id: int | None = None,
        partner_id: int | None = None,
    ) -> str:
        """Create a user and return a bearer token for it."""
        await create_user_in(
            self.state.engine,
            username,
            PASSWORD,
            list(roles),
            community_id=community_id,
            partner_id=partner_id,
        )
        body = await self.data(
            "mutation($u:String!,$p:String!){login(input:{username:$u,password:$p}){token errors{code}}}",
            {"u": username, "p": PASSWORD},
        )
        return body["login"]["token"]


def make_client(db_url: str, *, env: str = "development") -> GraphQLClient:
    settings = load_settings(
        {"JINLIN_DATABASE_URL": db_url, "JINLIN_SECRET_KEY": "x" * 40, "JINLIN_ENV": env}
    )
    app = create_app(settings)
    return GraphQLClient(app, app.app.state.jinlin)
