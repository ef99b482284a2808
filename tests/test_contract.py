"""The served schema is a compatible superset of the public contract."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from schema import export_sdl

CHECK = Path(__file__).resolve().parents[2] / "shared" / "contract" / "check.py"


def test_schema_is_a_compatible_superset_of_the_contract(tmp_path):
    assert CHECK.exists(), f"the contract checker is missing at {CHECK}"
    sdl = tmp_path / "schema.graphql"
    sdl.write_text(export_sdl())
    result = subprocess.run(
        [sys.executable, str(CHECK), str(sdl)], capture_output=True, text=True, timeout=60
    )
    breaking = [line for line in result.stdout.splitlines() if line.startswith("BREAKING")]
    assert breaking == [], "\n".join(breaking)
    assert result.returncode == 0, result.stdout + result.stderr
