"""Arguments many fields share, each described once (graphql-schema-linter wants every
argument described; tests/schema_lint). The Relay paging arguments are in relay.py."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry

FromDay = Annotated[
    date,
    strawberry.argument(
        name="from", description="First day of the period, in the fund's time zone."
    ),
]
ToDay = Annotated[date, strawberry.argument(description="Last day of the period, inclusive.")]
FromDayOrQuarter = Annotated[
    date | None,
    strawberry.argument(
        name="from", description="First day of the period; by default the current quarter's."
    ),
]
ToDayOrQuarter = Annotated[
    date | None,
    strawberry.argument(description="Last day, inclusive; by default the current quarter's."),
]
At = Annotated[datetime, strawberry.argument(description="The instant to read the figures at.")]
AtOrNow = Annotated[
    datetime | None,
    strawberry.argument(description="The instant to read the figures at; by default now."),
]
FundCode = Annotated[str, strawberry.argument(description="The fund's code, e.g. ETGY.")]
FundId = Annotated[strawberry.ID, strawberry.argument(description="The fund's global ID.")]
CampaignId = Annotated[strawberry.ID, strawberry.argument(description="The campaign's global ID.")]
# Every mutation takes one `input`: `input: Annotated[SomeInput, INPUT]`.
INPUT = strawberry.argument(
    description="The mutation's input; each of its fields is described on its input type."
)
