"""docs/examples/web compiles: graphql-codegen types its operations from the schema the
server serves (scalars as strings) and `tsc --strict` accepts the app, including its
proof that a JSON number as an amount does not compile."""

from __future__ import annotations

import subprocess

from schema import export_sdl
from tests.frontend.conftest import npm_install
from tests.pages.conftest import ROOT

EXAMPLE = ROOT / "docs" / "examples" / "web"


def run(node: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([node, *args], cwd=EXAMPLE, capture_output=True, text=True, timeout=300)


def test_codegen_types_and_tsc_accepts_the_example(node):
    npm_install(EXAMPLE)
    (EXAMPLE / "schema.graphql").write_text(export_sdl())
    codegen = run(node, "node_modules/.bin/graphql-codegen", "--config", "codegen.ts")
    assert codegen.returncode == 0, codegen.stdout + codegen.stderr
    generated = (EXAMPLE / "src" / "generated" / "graphql.ts").read_text()
    assert "export type CampaignUpdatedSubscription" in generated
    assert "amount: string" in generated and "amount: any" not in generated
    assert "receivedAt: string" in generated
    check = run(node, "node_modules/.bin/tsc", "-p", ".")
    assert check.returncode == 0, check.stdout + check.stderr
