"""The web UI: web/dist (built by scripts/build_web.sh) served at `/`, with index.html for the
client's routes. The API, its docs and its OpenAPI are never shadowed: their paths are not
matched here at all, so their 404s and 405s stay the API's own."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Match, Route
from starlette.types import Scope

from xueji.config import PROJECT_ROOT

DIST = PROJECT_ROOT / "web" / "dist"
# Paths that belong to the service, not to the UI.
RESERVED_PREFIXES = ("/api/", "/docs/", "/redoc/", "/health/", "/metrics/")
RESERVED_PATHS = {"/api", "/docs", "/redoc", "/openapi.json", "/health", "/metrics"}

NOT_BUILT = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>xueji 学籍</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto; line-height: 1.6">
<h1>xueji 学籍</h1>
<p>网页界面尚未构建。The web UI is not built yet. Build it (needs Node.js 20 and npm):</p>
<pre>scripts/build_web.sh</pre>
<p>then reload this page. The API works without it: <a href="/docs">/docs</a>,
<a href="/openapi.json">/openapi.json</a>.</p>
</body></html>
"""


def is_reserved(path: str) -> bool:
    return path in RESERVED_PATHS or path.startswith(RESERVED_PREFIXES)


class WebRoute(Route):
    """A catch-all GET route that never matches the service's own paths."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and is_reserved(scope["path"]):
            return Match.NONE, {}
        return super().matches(scope)


def _inside(dist: Path, relative: str) -> Path | None:
    """The file under dist that a URL path names, or None (missing, a folder, or outside)."""
    if not relative:
        return None
    candidate = (dist / relative).resolve()
    try:
        candidate.relative_to(dist.resolve())
    except ValueError:
        return None
    return candidate if candidate.is_file() else None


def mount_web(app: FastAPI, dist: Path | None = None) -> None:
    """Serve the built UI at `/`: files of dist, else index.html (client-side routes)."""
    dist = dist or DIST

    async def web(request) -> Response:
        relative = request.path_params.get("path", "")
        index = dist / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=200 if relative == "" else 404)
        found = _inside(dist, relative)
        if found is not None:
            # Vite names assets by content hash: cache them for good; everything else revalidates.
            immutable = relative.startswith("assets/")
            cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
            return FileResponse(found, headers={"Cache-Control": cache})
        if relative.startswith("assets/"):
            return Response("Not Found", status_code=404, media_type="text/plain")
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    app.router.routes.append(
        WebRoute("/{path:path}", web, methods=["GET", "HEAD"], include_in_schema=False, name="web")
    )
