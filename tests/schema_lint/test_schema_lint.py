"""graphql-schema-linter (pinned in package-lock.json) finds nothing in the SDL the server
serves: every type, field, argument and enum value is described, and the Relay rules
hold. Its config (.graphql-schema-linterrc) turns on every rule the linter has but the
ordering ones: the schema keeps the contract's order of fields and enum values.

npm installs the linter (make test does it first; this test installs it too). Without
npm the test is skipped with the reason on a developer's machine and fails under CI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from schema import export_sdl

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
LINTER = HERE / "node_modules" / "graphql-schema-linter"
ORDERING = {
    "type-fields-sorted-alphabetically",
    "input-object-fields-sorted-alphabetically",
    "interface-fields-sorted-alphabetically",
    "enum-values-sorted-alphabetically",
}


@pytest.fixture(scope="module")
def node() -> str:
    if shutil.which("npm") is None or shutil.which("node") is None:
        missing = "Node.js and npm are needed for graphql-schema-linter (apt-get install npm)"
        if os.environ.get("CI"):
            pytest.fail(missing + "; CI must run it")
        pytest.skip(missing)
    done = subprocess.run(
        ["bash", "scripts/npm-install.sh", "tests/schema_lint"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return shutil.which("node")


def test_the_config_leaves_out_only_the_ordering_rules(node):
    shipped = {p.stem.replace("_", "-") for p in (LINTER / "lib" / "rules").glob("*.js")}
    shipped.discard("index")
    config = json.loads((HERE / ".graphql-schema-linterrc").read_text())
    assert set(config["rules"]) == shipped - ORDERING
    assert set(config) == {"rules"}  # no ignore lists either


def test_the_served_schema_has_no_findings(node, tmp_path):
    sdl = tmp_path / "schema.graphql"
    sdl.write_text(export_sdl())
    run = subprocess.run(
        [
            node,
            str(LINTER / "lib" / "cli.js"),
            "--config-directory",
            str(HERE),
            "--format",
            "json",
            str(sdl),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    findings = json.loads(run.stdout)["errors"]
    assert [f"{f['rule']}: {f['message']}" for f in findings] == []
    assert run.returncode == 0, run.stderr
