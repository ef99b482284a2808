"""CORS in Chromium: a page served from another local port calls /graphql with
Authorization, as a front-end app on its own origin does. Listed origins may, their
preflight is cached, and any other origin is refused by the browser."""

from __future__ import annotations

import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.pages.conftest import PASSWORD, Server, free_port, make_users

APP_PAGE = b"<!doctype html><title>another origin</title><p>a front-end app</p>"
# Runs in the page: sign in, then read the viewer with the token, as an app would.
CALL_API = """async (api) => {
  const post = (body, token) => fetch(api, {
    method: "POST",
    headers: Object.assign({ "Content-Type": "application/json" },
                           token ? { Authorization: "Bearer " + token } : {}),
    body: JSON.stringify(body)
  }).then(r => r.json());
  try {
    const login = await post({ query: "mutation($p:String!){login(input:{username:\\"admin\\",password:$p}){token}}",
                               variables: { p: arguments[1] } });
    const token = login.data.login.token;
    const first = await post({ query: "{ viewer { username } }" }, token);
    const second = await post({ query: "{ viewer { roles } }" }, token);
    return { ok: true, username: first.data.viewer.username, roles: second.data.viewer.roles };
  } catch (error) {
    return { ok: false, error: String(error) };
  }
}"""


class _Page(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(APP_PAGE)))
        self.end_headers()
        self.wfile.write(APP_PAGE)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def app_origin():
    """A plain HTTP server on its own loopback port: a second origin for the browser."""
    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), _Page)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def origins():
    with app_origin() as allowed, app_origin() as other:
        yield allowed, other


@pytest.fixture
async def cors_server(db_url, tmp_path, origins):
    await make_users(db_url)
    srv = Server(db_url, tmp_path / "server.log", env={"JINLIN_CORS_ORIGINS": origins[0]})
    srv.start()
    yield srv
    srv.stop()


async def preflights(page) -> list[str]:
    """The CORS preflights Chromium sends, seen through the DevTools protocol."""
    seen: list[str] = []
    cdp = await page.context.new_cdp_session(page)
    cdp.on(
        "Network.requestWillBeSent",
        lambda e: seen.append(e["request"]["url"]) if e["request"]["method"] == "OPTIONS" else None,
    )
    await cdp.send("Network.enable")
    return seen


async def test_a_listed_origin_may_post_with_authorization(cors_server, origins, new_page):
    allowed, _ = origins
    page = await new_page()
    seen = await preflights(page)
    await page.goto(allowed)
    result = await page.evaluate(
        CALL_API.replace("arguments[1]", repr(PASSWORD)), f"{cors_server.base}/graphql"
    )
    assert result == {"ok": True, "username": "admin", "roles": ["ADMIN"]}
    # One preflight for the two calls with Authorization: the browser reused it.
    assert len(seen) == 1, seen


async def test_another_origin_is_refused_by_the_browser(cors_server, origins, new_page):
    _, other = origins
    page = await new_page()
    new_page.errors.tolerate = ("blocked by CORS policy", "Failed to load resource")
    await page.goto(other)
    result = await page.evaluate(
        CALL_API.replace("arguments[1]", repr(PASSWORD)), f"{cors_server.base}/graphql"
    )
    assert result["ok"] is False and "Failed to fetch" in result["error"]


async def test_the_preflight_answer(cors_server, origins):
    allowed, other = origins
    ask = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type",
    }
    async with httpx.AsyncClient(base_url=cors_server.base) as http:
        ok = await http.options("/graphql", headers={"origin": allowed, **ask})
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == allowed
        assert "POST" in ok.headers["access-control-allow-methods"]
        allowed_headers = ok.headers["access-control-allow-headers"].lower()
        assert "authorization" in allowed_headers and "content-type" in allowed_headers
        assert ok.headers["access-control-max-age"] == "7200"
        refused = await http.options("/graphql", headers={"origin": other, **ask})
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        # Other paths are not opened to other origins.
        page = await http.get("/health", headers={"origin": allowed})
        assert "access-control-allow-origin" not in page.headers


async def test_no_origins_by_default(server):
    async with httpx.AsyncClient(base_url=server.base) as http:
        answer = await http.options(
            "/graphql",
            headers={"origin": "http://127.0.0.1:1", "access-control-request-method": "POST"},
        )
        assert answer.status_code == 405
        assert "access-control-allow-origin" not in answer.headers


def test_the_origins_setting():
    from config import ConfigError, load_settings

    env = {"JINLIN_SECRET_KEY": "s" * 40}
    assert load_settings(env).cors_origins == ()
    listed = load_settings(
        env | {"JINLIN_CORS_ORIGINS": " https://App.example.org/, http://127.0.0.1:5173 ,"}
    )
    assert listed.cors_origins == ("https://app.example.org", "http://127.0.0.1:5173")
    for bad in ("*", "app.example.org", "https://app.example.org/path", "ftp://x.org"):
        try:
            load_settings(env | {"JINLIN_CORS_ORIGINS": bad})
        except ConfigError as exc:
            assert "JINLIN_CORS_ORIGINS" in str(exc)
        else:
            raise AssertionError(f"{bad!r} was accepted")
