"""What `jinlin serve` sets up before uvicorn starts its workers."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Not imported from ops.metrics: prometheus-client must not load before this is set.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


@contextlib.contextmanager
def metrics_folder() -> Iterator[Path]:
    """A folder for the workers' metric files, named in PROMETHEUS_MULTIPROC_DIR before
    any worker imports prometheus-client. A folder given in the environment is emptied
    (values of an earlier run are not this run's) and kept; a fresh one is removed."""
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
        yield folder
        return
    folder = Path(tempfile.mkdtemp(prefix="jinlin-metrics-"))
    os.environ[MULTIPROC_ENV] = str(folder)
    try:
        yield folder
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(folder, ignore_errors=True)
