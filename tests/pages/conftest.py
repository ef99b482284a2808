"""Browser-test plumbing: a real `jinlin serve` subprocess per test, GraphQL over real
HTTP, and Debian's Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from db.engine import make_engine
from resolvers.users import create_user_in

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct horse battery staple"
SECRET = "s" * 40

try:
    from playwright.async_api import async_playwright
except ImportError:  # pragma: no cover - depends on the machine
    async_playwright = None


def _missing() -> str | None:
    if async_playwright is None:
        return "playwright is not installed (pip install -e '.[test]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing (bash scripts/browser-deps.sh)"
    return None


@pytest.fixture(autouse=True)
def _browser_present() -> None:
    """`make test` installs the browser (scripts/browser-deps.sh): without it these
    tests fail, never skip, wherever they run, so a broken setup cannot pass."""
    reason = _missing()
    if reason is not None:
        pytest.fail(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`jinlin serve` on a fixed port, so a restart comes back at the same address."""

    def __init__(self, db_url: str, log_path: Path, env: dict[str, str] | None = None):
        self.db_url = db_url
        self.env = env or {}
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> None:
        env = {
            **os.environ,
            "JINLIN_DATABASE_URL": self.db_url,
            "JINLIN_SECRET_KEY": SECRET,
            "JINLIN_ENV": "development",
            **self.env,
        }
        jinlin = shutil.which("jinlin", path=str(Path(sys.executable).parent)) or "jinlin"
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [jinlin, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.base}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not become healthy: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        """An abrupt death, as in a crash: no goodbye frames to the browser."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Api:
    """GraphQL over real HTTP against the server under test."""

    def __init__(self, base: str):
        self.http = httpx.AsyncClient(base_url=base, timeout=10)
        self.tokens: dict[str, str] = {}

    async def data(self, query: str, variables: dict | None = None, *, token: str | None = None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        r = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def login(self, username: str) -> str:
        d = await self.data(
            "mutation($u:String!,$p:String!){login(input:{username:$u,password:$p}){token errors{code}}}",
            {"u": username, "p": PASSWORD},
        )
        return d["login"]["token"]


async def make_users(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        await create_user_in(engine, "admin", PASSWORD, ["ADMIN"])
        await create_user_in(engine, "fin", PASSWORD, ["FINANCE"])
        await create_user_in(engine, "fin2", PASSWORD, ["FINANCE"])
    finally:
        await engine.dispose()


@pytest.fixture
async def server(db_url, tmp_path):
    # Users are made before the server starts, so the test never writes to the
    # database alongside another process.
    await make_users(db_url)
    srv = Server(db_url, tmp_path / "server.log")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
async def api(server):
    client = Api(server.base)
    yield client
    await client.http.aclose()


@pytest.fixture(scope="session")
async def browser():
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        await b.close()


class PageErrors:
    """Every uncaught exception and console error; a test fails on any it did not expect."""

    def __init__(self):
        self.errors: list[str] = []
        self.tolerate: tuple[str, ...] = ()

    def attach(self, page) -> None:
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("console", self._console)

    def _console(self, msg) -> None:
        if msg.type == "error" and not any(t in msg.text for t in self.tolerate):
            self.errors.append(f"console: {msg.text}")


@pytest.fixture
async def new_page(browser):
    contexts = []
    errors = PageErrors()

    async def make(width: int = 1920, height: int = 1080):
        context = await browser.new_context(
            viewport={"width": width, "height": height}, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        contexts.append(context)
        page = await context.new_page()
        errors.attach(page)
        return page

    make.errors = errors
    yield make
    for context in contexts:
        await context.close()
    assert errors.errors == [], errors.errors


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def loopback_only(page_or_context, outside: list[str]):
    """Route every request: loopback ones go through, any other is aborted and noted."""
    from urllib.parse import urlsplit

    async def guard(route):
        host = urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost", "::1"):
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    return page_or_context.route("**/*", guard)
