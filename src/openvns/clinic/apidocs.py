"""Swagger UI for the JSON API, served by the clinic itself (it works offline).

The assets come from the ``swagger-ui-bundle-v2`` package (Swagger UI's ``swagger-ui-dist``
files, Apache-2.0, its licence in the package's metadata) and are served under
``/static/swagger-ui/``. The docs page holds no inline script (the clinic's CSP allows none):
``/static/swagger-init.js`` starts Swagger UI with the schema URL read from a ``data-``
attribute. Without the package the page says how to install it and where the schema is.
"""

from __future__ import annotations

import html
import importlib
import logging
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

log = logging.getLogger(__name__)

#: Where the Swagger UI assets are served.
ASSETS_PATH = "/static/swagger-ui"
#: The only files served from the package (not its demo index.html nor its source maps).
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
#: The distribution that ships the assets (``pip install swagger-ui-bundle-v2``).
DISTRIBUTION = "swagger-ui-bundle-v2"


def swagger_ui_dir() -> Path | None:
    """The folder holding Swagger UI's files, or ``None`` when the package is missing."""
    try:
        module = importlib.import_module("swagger_ui_bundle")
    except ImportError:
        return None
    path = Path(str(module.swagger_ui_path))
    return path if (path / "swagger-ui-bundle.js").is_file() else None


def docs_page(title: str, openapi_url: str, assets: Path | None) -> str:
    """The HTML of the docs page (no inline script or style)."""
    title = html.escape(title)
    if assets is None:
        return (
            f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
            "</head><body><h1>API documentation</h1><p>Swagger UI is not installed: "
            f"<code>pip install {DISTRIBUTION}</code>. The OpenAPI schema is at "
            f'<a href="{html.escape(openapi_url)}">{html.escape(openapi_url)}</a>.</p>'
            "</body></html>"
        )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
<link rel="icon" type="image/png" href="{ASSETS_PATH}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{html.escape(openapi_url)}"></div>
<script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="/static/swagger-init.js"></script>
</body>
</html>
"""


def mount_api_docs(app: FastAPI, docs_url: str, openapi_url: str) -> None:
    """Serve Swagger UI at ``docs_url`` and its assets under :data:`ASSETS_PATH`.

    Call before ``/static`` is mounted, so that the asset routes are matched first.
    """
    assets = swagger_ui_dir()
    if assets is None:
        log.warning("%s is not installed: %s shows no Swagger UI", DISTRIBUTION, docs_url)
    page = docs_page(f"{app.title} - API documentation", openapi_url, assets)

    @app.get(docs_url, include_in_schema=False)
    def api_docs() -> HTMLResponse:
        """Swagger UI, from the clinic's own files."""
        return HTMLResponse(page)

    @app.get(ASSETS_PATH + "/{name}", include_in_schema=False)
    def swagger_ui_asset(name: str) -> FileResponse:
        """One of Swagger UI's files (only those in :data:`ASSETS`)."""
        if assets is None or name not in ASSETS:
            raise HTTPException(status_code=404, detail=f"no Swagger UI file {name!r}")
        return FileResponse(assets / name, media_type=ASSETS[name])
