"""GraphiQL at /graphql from the server's own files: in Chromium with every request to
anything but loopback refused, the editor loads, the sign-in helper sets the
Authorization header, and a query runs as the signed-in user. Without the files, the
page says how to get them and the API answers as before."""

from __future__ import annotations

import subprocess

import httpx
import pytest

try:
    from playwright.async_api import expect
except ImportError:  # skipped by conftest outside CI when playwright is missing
    expect = None

from config import load_settings
from tests.pages.conftest import PASSWORD, ROOT, SECRET, loopback_only


@pytest.fixture(scope="session")
def ide_files() -> None:
    """web_ide/node_modules as the lockfile pins it; npm missing is a failure, not a skip."""
    done = subprocess.run(
        ["bash", "scripts/npm-install.sh", "web_ide"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


async def test_graphiql_loads_offline_and_signs_in(server, new_page, ide_files):
    page = await new_page(1366, 768)
    outside: list[str] = []
    await loopback_only(page.context, outside)
    response = await page.goto(f"{server.base}/graphql")
    assert response.status == 200
    csp = response.headers["content-security-policy"]
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert script_src.strip() == "script-src 'self'", csp  # no inline script, no CDN
    editor = page.locator(".graphiql-query-editor .CodeMirror")
    await expect(editor).to_be_visible(timeout=15000)

    await page.select_option("#signin-user", "admin")
    await page.fill("#signin-password", PASSWORD)
    await page.click("#signin-go")
    await expect(page.locator("#signin-status")).to_have_attribute("data-state", "signed-in")
    await page.get_by_role("button", name="Headers").click()
    headers = page.locator(".graphiql-editor-tool .CodeMirror").last
    await expect(headers).to_contain_text('"Authorization": "Bearer ')

    await editor.evaluate("el => el.CodeMirror.setValue('{ viewer { username roles } }')")
    await page.wait_for_timeout(600)  # GraphiQL reads the operation name after a debounce
    await page.click(".graphiql-execute-button")
    result = page.locator(".result-window")
    await expect(result).to_contain_text('"username": "admin"', timeout=10000)
    await expect(result).to_contain_text('"ADMIN"')
    assert outside == [], outside
    await page.screenshot(path=str(ROOT / "artifacts" / "screenshots" / "graphiql.png"))


async def test_a_wrong_password_says_so(server, new_page, ide_files):
    page = await new_page()
    # The browser logs nothing for a 200 answer; the helper shows the payload's code.
    await page.goto(f"{server.base}/graphql")
    await page.select_option("#signin-user", "admin")
    await page.fill("#signin-password", "not the password")
    await page.click("#signin-go")
    status = page.locator("#signin-status")
    await expect(status).to_have_attribute("data-state", "failed")
    await expect(status).to_contain_text("UNAUTHENTICATED")


async def test_without_the_files_the_page_says_how_and_the_api_works(db_url, tmp_path, monkeypatch):
    import pages.ide
    from server import create_app

    monkeypatch.setattr(pages.ide, "MODULES", tmp_path / "no-node-modules")
    settings = load_settings(
        {"JINLIN_DATABASE_URL": db_url, "JINLIN_SECRET_KEY": SECRET, "JINLIN_ENV": "development"}
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        page = await http.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200
        assert "make ide" in page.text and "<script" not in page.text
        assert (await http.get("/ide/graphiql.js")).status_code == 404
        answer = await http.post("/graphql", json={"query": "{ __typename }"})
        assert answer.json() == {"data": {"__typename": "Query"}}
    await app.state.jinlin.engine.dispose()
