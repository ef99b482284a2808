"""MoneyInput to the commands' Money: the amount stays the client's text (see
resolvers/commands.py), so that the use case refuses a malformed one naming its field."""

from __future__ import annotations

from resolvers.commands import Money
from schema.types.common import MoneyInput


def money(value: MoneyInput) -> Money:
    return Money(amount=value.amount, currency=value.currency)
