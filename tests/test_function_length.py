"""No function in the ledger, the use cases or the schema runs over MAX_LINES lines:
longer ones are split into named steps."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ledger", "resolvers", "schema")
MAX_LINES = 70


def _long_functions(source: str, path: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, path)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_LINES:
                found.append(f"{path}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_no_function_is_longer_than_the_limit():
    long = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            long += _long_functions(path.read_text(), str(path.relative_to(ROOT)))
    assert long == []


def test_the_walk_finds_a_long_function():
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    assert _long_functions(f"def f():\n{body}\n", "f.py") == [f"f.py:1 f ({MAX_LINES + 1} lines)"]
    assert _long_functions(f"async def g():\n{body[: body.rindex(chr(10))]}\n", "g.py") == []
