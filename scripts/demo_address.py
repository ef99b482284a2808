"""Prints the addresses of the demo's pages, above all the live board of the festival
running now (`make run` calls it after loading the demo, on every start).

    python scripts/demo_address.py http://127.0.0.1:8000
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

from config import load_settings
from db.engine import make_engine
from demo import running_campaigns
from resolvers.ids import to_global_id


async def main(base: str) -> int:
    engine = make_engine(load_settings().database_url)
    try:
        running = await running_campaigns(engine, datetime.now(UTC))
    finally:
        await engine.dispose()
    print(f"GraphiQL:    {base}/graphql")
    if not running:
        print(
            "no campaign is running now (the demo's festival has ended): `make clean && make run`"
        )
    for row in running:
        print(f"live board:  {base}/board/{to_global_id('Campaign', row.id)}  ({row.name})")
    print(f"fund pages:  {base}/funds/ETGY  {base}/funds/JSL")
    return 0


if __name__ == "__main__":
    sys.exit(
        asyncio.run(main(sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8000"))
    )
