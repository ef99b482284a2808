"""Money and other small value types shared by every domain."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from ledger.money import to_decimal


@strawberry.type(
    description="An amount of money: a Decimal string in major units plus its currency."
)
class Money:
    amount: Decimal = strawberry.field(description='Major units, two decimals, e.g. "100.00".')
    currency: str = strawberry.field(description="ISO 4217 code, e.g. CNY.")


@strawberry.input(description="An amount of money as input: major units plus ISO 4217 currency.")
class MoneyInput:
    amount: Decimal = strawberry.field(
        description='Major units, at most two decimals, e.g. "100.00".'
    )
    currency: str = strawberry.field(description="ISO 4217 code; the fund's currency (CNY).")


def money(fen: int, currency: str = "CNY") -> Money:
    return Money(amount=to_decimal(fen), currency=currency)
