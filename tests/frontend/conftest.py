"""Front-end client tests: real client libraries from npm (Node) against a real server.
npm packages are installed by scripts/npm-install.sh from each folder's lockfile; a
missing npm or Node fails these tests, it never skips them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.pages.conftest import ROOT, api, server  # noqa: F401 - fixtures shared with tests/pages


def npm_install(folder: Path) -> None:
    done = subprocess.run(
        ["bash", "scripts/npm-install.sh", str(folder.relative_to(ROOT))],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="session")
def node() -> str:
    path = shutil.which("node")
    assert path, "Node.js is missing (Debian: apt-get install nodejs npm)"
    return path


@pytest.fixture(scope="session")
def client_libraries(node) -> Path:
    folder = ROOT / "tests" / "frontend"
    npm_install(folder)
    return folder
