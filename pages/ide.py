"""GraphiQL at GET /graphql (development only), served from this server's own files.

React and GraphiQL come from the npm registry at install time (web_ide/package.json and
its lockfile pin the versions and integrity hashes; scripts/npm-install.sh puts them in
web_ide/node_modules), so the IDE works offline and nothing is fetched from a CDN.
Without them, /graphql shows how to get them; the API itself does not depend on them.

The page keeps the pages' CSP (no inline script or style); GraphiQL's stylesheet embeds
its fonts as data: URLs, so font-src data: is the one addition.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from web.guards import PAGE_CSP

ROOT = Path(__file__).resolve().parents[1]
MODULES = ROOT / "web_ide" / "node_modules"
# The only files served from node_modules: name at /ide/ -> path under node_modules.
ASSETS = {
    "react.js": "react/umd/react.production.min.js",
    "react-dom.js": "react-dom/umd/react-dom.production.min.js",
    "graphiql.js": "graphiql/graphiql.min.js",
    "graphiql.css": "graphiql/graphiql.min.css",
}
IDE_CSP = PAGE_CSP.replace("img-src 'self' data:", "img-src 'self' data:; font-src data:")
DEMO_USERS = ("admin", "finance", "auditor", "staff", "partner")


class Ide:
    def __init__(self, modules: Path | None = None):
        self.modules = modules or MODULES
        self.templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

    def installed(self) -> bool:
        return all((self.modules / path).is_file() for path in ASSETS.values())

    async def page(self, request: Request) -> Response:
        template = "ide.html" if self.installed() else "ide-missing.html"
        response = self.templates.TemplateResponse(request, template, {"users": DEMO_USERS})
        response.headers["content-security-policy"] = IDE_CSP
        response.headers["cache-control"] = "no-store"
        return response

    async def asset(self, request: Request) -> Response:
        path = ASSETS.get(request.path_params["name"])
        if path is None or not (self.modules / path).is_file():
            return Response("not found", status_code=404, media_type="text/plain")
        return FileResponse(self.modules / path, headers={"cache-control": "max-age=3600"})

    def routes(self) -> list:
        return [Route("/ide/{name}", self.asset, methods=["GET"])]


class IdeOrApi:
    """GET /graphql (a browser, development only) is the IDE page; the rest is the API.
    The request guard lets GET through only when the IDE is on and asks for HTML."""

    def __init__(self, api, ide: Ide | None):
        self.api = api
        self.ide = ide

    async def __call__(self, scope, receive, send):
        if self.ide is not None and scope["type"] == "http" and scope["method"] == "GET":
            response = await self.ide.page(Request(scope, receive))
            return await response(scope, receive, send)
        return await self.api(scope, receive, send)
