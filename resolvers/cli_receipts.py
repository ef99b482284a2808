"""`jinlin publish-roots [FUND] [--day D]` and `jinlin verify-receipt URL_OR_FILE`.

publish-roots publishes each fund's daily root of day D (default: yesterday in the
funds' time zone), catching up any day left unpublished before it; run it from cron
shortly after midnight (docs/verifiable-giving.md). verify-receipt checks a receipt's
proof document offline: a file, or a /verify/{receipt} address (its .json is fetched);
given an address it also compares the day's root with the fund's published roots.
"""

from __future__ import annotations

import asyncio
import json
import sys
import urllib.request
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from config import load_settings
from ledger.merkle import ProofError, chain_root, root_from_path

ROOTS_QUERY = "query($c:String!){publicFundReport(code:$c){roots(first:100){day root}}}"


def _publish(args) -> int:
    from sqlalchemy import select

    from db.engine import make_engine
    from db.models import FundRow
    from db.uow import read_session
    from ledger.errors import LedgerError
    from resolvers.receipts import now, publish_fund_day

    settings = load_settings()
    tz = settings.timezone
    try:
        day = (
            date.fromisoformat(args.day) if args.day else now().astimezone(tz).date() - timedelta(1)
        )
    except ValueError:
        print("error: --day must be a date, YYYY-MM-DD", file=sys.stderr)
        return 2

    async def run() -> int:
        engine = make_engine(settings.database_url)
        failed = 0
        try:
            async with read_session(engine) as session:
                stmt = select(FundRow).order_by(FundRow.id)
                if args.fund_code:
                    stmt = stmt.where(FundRow.code == args.fund_code.upper())
                funds = (await session.scalars(stmt)).all()
            if args.fund_code and not funds:
                print(f"error: no fund with code {args.fund_code}", file=sys.stderr)
                return 2
            for fund in funds:
                try:
                    root = await publish_fund_day(engine, fund.id, day, tz)
                except LedgerError as exc:  # one fund's refusal does not stop the others
                    print(f"{fund.code}: {exc.message}", file=sys.stderr)
                    failed += 1
                    continue
                print(f"{fund.code} {root.day}: {root.tree_size} entries, root {root.root}")
        finally:
            await engine.dispose()
        return 1 if failed else 0

    return asyncio.run(run())


def _fetch_json(url: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.loads(response.read().decode("utf-8"))


def check_proof(doc: dict) -> list[str]:
    """What is wrong with the proof document; empty when it checks."""
    proof = doc.get("proof")
    if not proof:
        return ["the day's root is not published yet: nothing to check against"]
    try:
        merkle = root_from_path(
            doc["entry"]["hash"], proof["leafIndex"], proof["treeSize"], proof["auditPath"]
        )
        chained = chain_root(
            proof["previousRoot"],
            date.fromisoformat(proof["day"]),
            proof["treeSize"],
            proof["merkleRoot"],
        )
    except (ProofError, KeyError, TypeError, ValueError) as exc:
        return [f"the proof is malformed: {exc}"]
    problems = []
    if merkle != proof["merkleRoot"]:
        problems.append("the entry hash and audit path do not lead to the day's Merkle root")
    if chained != proof["root"]:
        problems.append("the day's root does not follow from its Merkle root and the previous root")
    return problems


def _verify_receipt(args) -> int:
    source = args.source
    try:
        if source.startswith(("http://", "https://")):
            parts = urlsplit(source)
            path = parts.path if parts.path.endswith(".json") else parts.path.rstrip("/") + ".json"
            doc = _fetch_json(urlunsplit((parts.scheme, parts.netloc, path, "", "")))
        else:
            doc = json.loads(Path(source).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"error: cannot read the proof: {exc}", file=sys.stderr)
        return 2
    if not isinstance(doc, dict):
        print("error: a proof document is a JSON object", file=sys.stderr)
        return 2
    problems = check_proof(doc)
    if not problems and source.startswith(("http://", "https://")):
        problems += _compare_published(source, doc)
    label = f"{doc.get('receipt')} ({doc.get('fund', {}).get('code')}, {doc.get('amount')})"
    if problems:
        print(f"FAIL {label}")
        for problem in problems:
            print(f"  {problem}")
        return 1
    proof = doc["proof"]
    void = " (receipt void: refunded or reversed)" if doc.get("void") else ""
    print(f"ok {label}: entry {doc['entry']['sequence']} is in the root of {proof['day']}{void}")
    print(f"  root {proof['root']}")
    return 0


def _compare_published(source: str, doc: dict) -> list[str]:
    parts = urlsplit(source)
    graphql = urlunsplit((parts.scheme, parts.netloc, "/graphql", "", ""))
    try:
        answer = _fetch_json(
            graphql, {"query": ROOTS_QUERY, "variables": {"c": doc["fund"]["code"]}}
        )
        roots = answer["data"]["publicFundReport"]["roots"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"cannot read the fund's published roots: {exc}"]
    day = doc["proof"]["day"]
    published = {r["day"]: r["root"] for r in roots}
    if day in published and published[day] != doc["proof"]["root"]:
        return [f"the fund published another root for {day}: {published[day]}"]
    return []


def add_commands(sub) -> None:
    publish = sub.add_parser("publish-roots", help="publish funds' daily Merkle roots")
    publish.add_argument("fund_code", nargs="?")
    publish.add_argument("--day", help="YYYY-MM-DD (default: yesterday in the funds' time zone)")
    publish.set_defaults(run=_publish)
    verify = sub.add_parser("verify-receipt", help="check a receipt's inclusion proof offline")
    verify.add_argument("source", help="a /verify/{receipt} address, or a saved proof .json")
    verify.set_defaults(run=_verify_receipt)
