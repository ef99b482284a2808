"""Schemathesis in GraphQL mode against `jinlin serve` in production mode, on the demo.

It generates every query and mutation the schema has, with arguments of every shape
(the custom scalars' strategies are in scalars.py), and sends them as an anonymous
caller, as ADMIN and as FINANCE, for JINLIN_FUZZ_SECONDS in all (two minutes by
default). Refusals are expected; what must never come back is an HTTP 5xx, an error
whose extensions.code is INTERNAL_SERVER_ERROR (the server's own failure, masked in
production), a non-null field answered null, or an answer that is not a GraphQL
response. The server's log must hold no traceback either.

Production turns introspection off, so the schema is loaded from the SDL the server
itself exports (`jinlin export-schema`) rather than with `from_url`.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis.core.result import Ok

from db.engine import make_engine
from demo import seed_demo
from schema import export_sdl
from tests.auditors import scalars
from tests.faults.harness import Server, create_users, login

pytestmark = pytest.mark.slow

BUDGET_SECONDS = float(os.environ.get("JINLIN_FUZZ_SECONDS", "120"))
RUN_SEED = int(os.environ.get("JINLIN_FUZZ_SEED", random.randrange(2**32)))
EXAMPLES_PER_RUN = 25  # each Hypothesis run is short and has a seed of its own
VIEWERS = {"anonymous": None, "ADMIN": "fuzzadmin", "FINANCE": "fuzzfinance"}


@dataclass
class Tally:
    """What one viewer's run sent and got back."""

    viewer: str
    requests: int = 0
    operations: Counter = field(default_factory=Counter)
    answers: Counter = field(default_factory=Counter)
    findings: list[str] = field(default_factory=list)

    def record(self, case, response: requests.Response | None, failure: str = "") -> None:
        self.requests += 1
        self.operations[case.operation.label] += 1
        problems = [failure] if failure else defects(response)
        if response is not None:
            self.answers.update(answer_codes(response))
        for problem in problems:
            body = response.text[:800] if response is not None else ""
            self.findings.append(
                f"{self.viewer} · {case.operation.label}: {problem}\n{case.body}\n→ {body}"
            )

    def summary(self, seconds: float) -> str:
        common = ", ".join(f"{code} {n}" for code, n in self.answers.most_common(8))
        return (
            f"schemathesis as {self.viewer}: {self.requests} requests over "
            f"{len(self.operations)} operations in {seconds:.0f} s; answers: {common}"
        )


def answer_codes(response: requests.Response) -> list[str]:
    """The HTTP status, and the extensions.code of each error."""
    codes = [f"HTTP {response.status_code}"]
    try:
        body = response.json()
    except ValueError:
        return codes
    if isinstance(body, dict):
        for error in body.get("errors") or []:
            codes.append(str((error.get("extensions") or {}).get("code")))
    return codes


def defects(response: requests.Response) -> list[str]:
    """What in an answer shows the server failing rather than refusing."""
    found = []
    if response.status_code >= 500:
        found.append(f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        return [*found, "the answer is not JSON"]
    if not isinstance(body, dict) or not ({"data", "errors"} & body.keys()):
        return [*found, "the answer is not a GraphQL response"]
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code == "INTERNAL_SERVER_ERROR":
            found.append(f"INTERNAL_SERVER_ERROR at {error.get('path')}")
        elif code is None:
            found.append(f"an error without extensions.code: {error.get('message')}")
        if "Cannot return null for non-nullable field" in str(error.get("message")):
            found.append(f"null in a non-null field: {error.get('message')}")
    return found


def quiet(examples: int):
    """Hypothesis settings for runs that only generate: no shrinking, no example
    database, no deadline (the server's answer time is not the test's)."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


def prepared_cases():
    """Schemathesis' cases of every query and mutation, with the generator's caches
    built (the first draw of each kind takes seconds, so it is done before the clock runs)."""
    scalars.register()
    schema = schemathesis.graphql.from_file(export_sdl())
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    for kind in ("Query.", "Mutation."):
        first = next(op for op in operations if op.label.startswith(kind))
        quiet(2)(given(first.as_strategy())(lambda case: None))()
    return st.one_of(*(operation.as_strategy() for operation in operations))


def fuzz(cases, url: str, viewer: str, token: str | None, seconds: float) -> Tally:
    """Hypothesis runs of schemathesis' cases, one after another, until time is up."""
    tally = Tally(viewer)
    headers = {"authorization": f"Bearer {token}"} if token else {}
    session = requests.Session()
    deadline = time.monotonic() + seconds

    def send(case) -> None:
        try:
            response = case.call(base_url=url, session=session, headers=headers, timeout=60)
        except requests.RequestException as exc:
            tally.record(case, None, f"no answer: {exc!r}")
            return
        tally.record(case, response)

    runs = random.Random(f"{RUN_SEED}-{viewer}")
    while time.monotonic() < deadline:
        seed(runs.randrange(2**32))(quiet(EXAMPLES_PER_RUN)(given(cases)(send)))()
    session.close()
    return tally


async def _seeded(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        await seed_demo(engine)
    finally:
        await engine.dispose()
    await create_users(db_url, {"fuzzadmin": ["ADMIN"], "fuzzfinance": ["FINANCE"]})


def fuzz_all(cases, server: Server, tokens: dict[str, str | None]) -> tuple[list[Tally], str]:
    """Each viewer's share of the time, then the server's log."""
    tallies = []
    for viewer, token in tokens.items():
        started = time.monotonic()
        url = f"{server.base_url}/graphql"
        tally = fuzz(cases, url, viewer, token, BUDGET_SECONDS / len(tokens))
        print(tally.summary(time.monotonic() - started))
        tallies.append(tally)
    return tallies, Path(server.log.name).read_text(errors="replace")


async def test_schemathesis_finds_no_server_failure(db_url):
    cases = asyncio.create_task(asyncio.to_thread(prepared_cases))
    await _seeded(db_url)
    with Server(db_url) as server:
        await server.start_ready(within=60)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            tokens = {
                viewer: await login(http, username) if username else None
                for viewer, username in VIEWERS.items()
            }
        tallies, log = await asyncio.to_thread(fuzz_all, await cases, server, tokens)
    print(f"seed {RUN_SEED} (JINLIN_FUZZ_SEED); {sum(t.requests for t in tallies)} requests")
    findings = [finding for tally in tallies for finding in tally.findings]
    assert not findings, f"{len(findings)} findings:\n\n" + "\n\n".join(findings[:8])
    assert "Traceback" not in log, log[-5000:]
    assert all(tally.requests > 0 for tally in tallies)
