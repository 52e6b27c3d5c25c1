"""The interactive API reference at ``/docs``, served entirely from this server.

FastAPI's own ``/docs`` page loads Swagger UI from a CDN and starts it with an inline
script; the app's Content-Security-Policy (``script-src 'self'``) blocks both, and an
offline server has no CDN. Here the page's stylesheet and script come from the
``swagger-ui-bundle-v2`` package (Swagger UI's release files, Apache-2.0, licence in the
package) and its start-up script is a same-origin file, so the page works offline and
under the unchanged policy.
"""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from swagger_ui_bundle import swagger_ui_path

DOCS_PATH = "/docs"
ASSETS = "/docs/assets"
INIT_PATH = f"{ASSETS}/init.js"
# the files the page needs, by the name they are served under; nothing else of the bundle
# (its demo index.html points at a remote petstore) is exposed
ASSET_FILES = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
ASSET_CACHE = "public, max-age=86400"

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} API reference</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-schema="{schema}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{init}"></script>
</body>
</html>
"""

# validatorUrl null: Swagger UI would otherwise send the schema to validator.swagger.io
INIT_SCRIPT = """"use strict";
const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: root.dataset.schema,
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
"""


def asset_paths() -> frozenset[str]:
    """Every path the reference page is served under (for the metrics' route labels)."""
    files = {f"{ASSETS}/{name}" for name in ASSET_FILES}
    return frozenset({DOCS_PATH, INIT_PATH, *files})


def add_offline_docs(app: FastAPI) -> None:
    """Serve Swagger UI at ``/docs`` from the package's files; the app must be built with
    ``docs_url=None`` so that FastAPI's CDN page does not take the path first."""
    page = PAGE.format(
        title=html.escape(app.title),
        assets=ASSETS,
        init=INIT_PATH,
        schema=html.escape(app.openapi_url or ""),
    )

    @app.get(DOCS_PATH, include_in_schema=False)
    def show_docs() -> HTMLResponse:
        """The interactive API reference."""
        return HTMLResponse(page, headers={"Cache-Control": "no-cache"})

    @app.get(INIT_PATH, include_in_schema=False)
    def start_docs() -> Response:
        """The script that starts Swagger UI on the app's schema."""
        return Response(
            INIT_SCRIPT,
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": ASSET_CACHE},
        )

    for name, media_type in ASSET_FILES.items():
        _add_asset(app, Path(str(swagger_ui_path)) / name, name, media_type)


def _add_asset(app: FastAPI, path: Path, name: str, media_type: str) -> None:
    if not path.is_file():
        raise RuntimeError(f"swagger-ui-bundle-v2 lacks {name}: reinstall audioclf")

    def send_asset() -> FileResponse:
        return FileResponse(path, media_type=media_type, headers={"Cache-Control": ASSET_CACHE})

    app.add_api_route(f"{ASSETS}/{name}", send_asset, methods=["GET"], include_in_schema=False)
