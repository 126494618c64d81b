"""The web app built from frontend/ (into app/static) and the self-hosted GraphiQL.

- ``/`` and every client-side route (a path without a file extension) answer with index.html,
  so a reload on a deep link works; a missing file (``/assets/x.js``, ``/logo.png``) is a 404.
- ``/assets/*`` carry a content hash in their names: cached for a year. HTML is ``no-cache``, so a
  new build is picked up at the next load.
- ``/graphiql`` is GraphiQL from the app's own bundle (strawberry's page loads its scripts from a
  public CDN). A browser that opens ``/graphql`` is sent there by ``graphiql_redirect``, which
  the GraphQL view's ``render_graphql_ide`` returns. With ``graphiql=False`` (production) both
  ``/graphiql`` and ``/graphiql.html`` are 404s.
"""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

GRAPHIQL_PATH = "/graphiql"
ASSETS_DIR = "assets"
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"


def static_routes(static_dir: Path, *, graphiql: bool) -> list[Route | Mount]:
    """Routes for the built frontend; put them after the API's routes (``/`` catches the rest)."""
    routes: list[Route | Mount] = []
    if graphiql:
        page = static_dir / "graphiql.html"

        async def graphiql_page(_request: Request) -> Response:
            if not page.is_file():
                raise HTTPException(404, "GraphiQL is not built: run `npm run build` in frontend/.")
            return FileResponse(page, headers={"Cache-Control": NO_CACHE})

        routes.append(Route(GRAPHIQL_PATH, graphiql_page, methods=["GET", "HEAD"], name="graphiql"))
    hidden = frozenset() if graphiql else frozenset({"graphiql", "graphiql.html"})
    routes.append(Mount("/", app=SinglePageApp(static_dir, hidden=hidden), name="web"))
    return routes


def graphiql_redirect(request: Request) -> RedirectResponse:
    """Where a browser asking ``GET /graphql`` for HTML goes: the self-hosted GraphiQL."""
    root_path = request.scope.get("root_path", "")
    return RedirectResponse(f"{root_path}{GRAPHIQL_PATH}", status_code=307)


class SinglePageApp(StaticFiles):
    """StaticFiles with index.html for client-side routes and cache headers by kind of file."""

    def __init__(self, directory: Path, *, hidden: frozenset[str] = frozenset()) -> None:
        super().__init__(directory=directory, html=True)
        self.hidden = hidden

    async def get_response(self, path: str, scope: Scope) -> Response:
        parts = Path(path).parts
        if path in self.hidden:
            raise HTTPException(404)
        try:
            response = await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404 or not _is_client_route(parts):
                raise
            response = await super().get_response("index.html", scope)
            parts = ("index.html",)
        immutable = len(parts) > 1 and parts[0] == ASSETS_DIR and response.status_code < 400
        response.headers["Cache-Control"] = IMMUTABLE if immutable else NO_CACHE
        return response


def _is_client_route(parts: tuple[str, ...]) -> bool:
    """A path the frontend's router owns: not under assets/, and no file extension."""
    if not parts:
        return True
    return parts[0] != ASSETS_DIR and "." not in parts[-1]
