"""The clinic's pages: server-rendered Jinja2 with htmx (vendored; nothing from the network).

Pages call the same service functions as the JSON API, with the same role rules; errors from
the services show next to the form field they name. :func:`mount_ui` adds the pages, the
static files and the HTML error pages to an app.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from openvns.clinic.ui.errors import install_page_error_handlers

STATIC_DIR = Path(__file__).parent / "static"


def mount_ui(app: FastAPI) -> None:
    """Mount the pages and ``/static`` on ``app``; call after the JSON error handlers."""
    from openvns.clinic.ui.pages import (
        diaries,
        evaluations,
        home,
        implants,
        outcomes,
        patients,
        programming,
    )

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(home.router)
    app.include_router(patients.router)
    app.include_router(evaluations.router)
    app.include_router(implants.router)
    app.include_router(programming.router)
    app.include_router(diaries.router)
    app.include_router(outcomes.router)
    install_page_error_handlers(app)
