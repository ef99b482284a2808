"""`jinlin serve` with settings of its own (log format, metrics token, pooler)."""

from __future__ import annotations

import subprocess

from tests.faults.harness import ROOT, Server, jinlin_command, server_env


class ConfiguredServer(Server):
    def __init__(self, database_url: str, *, env: dict[str, str], **kwargs):
        super().__init__(database_url, **kwargs)
        self.extra_env = env

    def start(self) -> None:
        env = server_env(self.database_url)
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        env.update(self.extra_env)
        self.proc = subprocess.Popen(
            [*jinlin_command(), "serve", "--port", str(self.port), "--workers", str(self.workers)],
            env=env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def full_output(self) -> str:
        with open(self.log.name, errors="replace") as f:
            return f.read()
