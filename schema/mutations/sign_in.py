"""login: a bearer token for good credentials."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import users
from resolvers.commands import Login
from schema.arguments import INPUT
from schema.context import Info
from schema.errors import UserError
from schema.mutations.base import run, unit_of_work
from schema.types.users import User


@strawberry.input(description="Credentials.")
class LoginInput:
    username: str = strawberry.field(description="The username.")
    password: str = strawberry.field(description="The password.")


@strawberry.type(description="Result of login.")
class LoginPayload:
    token: str | None = strawberry.field(description="Bearer token for the Authorization header.")
    user: User | None = strawberry.field(description="Who signed in.")
    errors: list[UserError] = strawberry.field(description="Why it failed.")


@strawberry.type
class SignInMutations:
    @strawberry.mutation(description="Sign in; returns a bearer token.")
    async def login(self, info: Info, input: Annotated[LoginInput, INPUT]) -> LoginPayload:
        cmd = Login(username=input.username, password=input.password)
        result, errors = await run(
            users.login, cmd, await unit_of_work(info), info.context.app.keys
        )
        if errors:
            return LoginPayload(token=None, user=None, errors=errors)
        token, row = result
        return LoginPayload(token=token, user=User.of(row), errors=[])
