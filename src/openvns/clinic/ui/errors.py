"""Errors as pages: the app's JSON error handlers, answered with HTML where a browser asks.

:func:`install_page_error_handlers` wraps the handlers that ``create_app`` installed: a request
outside ``/api`` from a browser (``Accept: text/html`` or htmx) gets a page, everything else the
original JSON. Handlers run after the request's transaction has been rolled back, so a page
error never commits half a change. Not signed in (or the session expired) sends a browser to the
sign-in page.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException

from openvns.clinic.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from openvns.clinic.ui.forms import label_of
from openvns.clinic.ui.templating import redirect, render, wants_html
from openvns.errors import ValidationError

log = logging.getLogger(__name__)

Handler = Callable[[Request, Any], Response | Awaitable[Response]]

#: Where the API lives; its errors stay JSON whatever the client accepts.
API_PATH = "/api/"
LOGIN_PATH = "/auth/login"

_PAGE_ERRORS: dict[type[Exception], int] = {
    ValidationError: 422,
    NotFoundError: 404,
    ConflictError: 409,
    PermissionDeniedError: 403,
    RequestValidationError: 422,
    IntegrityError: 409,
}

_EXPLANATIONS = {
    403: "You are signed in, but your role may not do this, or the form was stale "
    "(reload the page and try again).",
    404: "There is nothing here, or it is not yours to see.",
    409: "Someone changed this record meanwhile. Reload the page and make your change again.",
    422: "Some of what was sent is not allowed.",
}


#: Where FastAPI says an input came from; not part of the field's name on a page.
_LOCATIONS = frozenset({"body", "query", "path", "header", "cookie", "form"})


def validation_detail(exc: RequestValidationError) -> str:
    """A request's validation errors for a page: each field by its label (``Baseline pain …``,
    not ``body.baseline_nrs``), its message and the value sent."""
    parts = []
    for error in exc.errors():
        names = [str(p) for p in error.get("loc", ()) if str(p) not in _LOCATIONS]
        field = label_of(names[-1]) if names else ""
        if len(names) > 1:
            field = f"{label_of(names[0])} › {field}"
        message = str(error.get("msg", "not allowed"))
        value = error.get("input")
        sent = "" if value is None or isinstance(value, dict) else f" (sent: {value!s:.40})"
        parts.append(f"{field}: {message}{sent}" if field else f"{message}{sent}")
    return "; ".join(parts)


def _is_page_request(request: Request) -> bool:
    return not request.url.path.startswith(API_PATH) and wants_html(request)


def error_page(request: Request, status_code: int, detail: str) -> Response:
    """The error page (or, for htmx, the error fragment) for ``status_code``."""
    try:
        title = HTTPStatus(status_code).phrase
    except ValueError:
        title = "Error"
    context = {
        "status_code": status_code,
        "title": title,
        "detail": detail,
        "explanation": _EXPLANATIONS.get(status_code, ""),
    }
    return render(request, "error.html", context, status_code=status_code)


def _page_handler(status_code: int | None, original: Handler | None) -> Handler:
    async def handle(request: Request, exc: Any) -> Response:
        if not _is_page_request(request):
            if original is None:
                raise exc
            answer = original(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        if isinstance(exc, AuthenticationError):
            log.info("page %s needs a signed-in user: %s", request.url.path, exc)
            return redirect(request, LOGIN_PATH)
        code = status_code
        if isinstance(exc, HTTPException):
            code = exc.status_code
        detail = str(exc.detail) if isinstance(exc, HTTPException) else str(exc)
        if isinstance(exc, IntegrityError):
            detail = "conflicts with the stored data"
        elif isinstance(exc, RequestValidationError):
            detail = validation_detail(exc)
        return error_page(request, code or 500, detail)

    return handle


async def _starlette_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def install_page_error_handlers(app: FastAPI) -> None:
    """Answer page requests' errors with pages; keep the installed JSON handlers for the rest."""
    for exc_class, code in _PAGE_ERRORS.items():
        original = app.exception_handlers.get(exc_class)
        if original is None and exc_class is RequestValidationError:
            from fastapi.exception_handlers import request_validation_exception_handler

            original = request_validation_exception_handler
        app.add_exception_handler(exc_class, _page_handler(code, original))
    original_auth = app.exception_handlers.get(AuthenticationError)
    app.add_exception_handler(AuthenticationError, _page_handler(401, original_auth))
    original_http = app.exception_handlers.get(HTTPException, _starlette_http)
    app.add_exception_handler(HTTPException, _page_handler(None, original_http))
