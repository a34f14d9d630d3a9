"""The clinic's FastAPI application factory.

``create_app(settings)`` builds the engine and session factory for ``settings.database_url``
(it does not migrate: ``openvns clinic serve`` and ``openvns clinic migrate`` do), mounts the
JSON API under ``/api/v1`` (schema at ``/api/v1/openapi.json``, Swagger UI from the app's own
files at ``/api/v1/docs``), the page sign-in routes under ``/auth``, the pages
(:mod:`openvns.clinic.ui`) and ``/healthz``, and maps the clinic's errors to HTTP.

Around everything, the server's own 500 page included, sit the security headers
(:mod:`openvns.clinic.headers`) and the request-body limit (:mod:`openvns.clinic.limits`: 413
before anything parses an oversize body).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from starlette.types import ASGIApp

from openvns import __version__
from openvns.clinic.apidocs import mount_api_docs
from openvns.clinic.audit.router import router as audit_router
from openvns.clinic.auth.router import router as auth_router
from openvns.clinic.auth.security import make_password_hasher
from openvns.clinic.auth.signin import throttled_response
from openvns.clinic.auth.throttle import LoginThrottledError
from openvns.clinic.auth.web import router as auth_web_router
from openvns.clinic.config import Settings, load_settings
from openvns.clinic.db.session import create_engine_for, make_session_factory
from openvns.clinic.diaries.router import router as diaries_router
from openvns.clinic.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from openvns.clinic.evaluation.router import router as evaluation_router
from openvns.clinic.headers import SecurityHeadersMiddleware, content_security_policy
from openvns.clinic.implants.router import router as implants_router
from openvns.clinic.json_safety import json_safe
from openvns.clinic.limits import BodyLimitMiddleware
from openvns.clinic.outcomes import report as outcome_report
from openvns.clinic.outcomes.router import router as outcomes_router
from openvns.clinic.patients.router import router as patients_router
from openvns.clinic.programming.router import router as programming_router
from openvns.clinic.schemas import complete_openapi
from openvns.clinic.ui import mount_ui
from openvns.clinic.worklist.router import router as worklist_router
from openvns.device.safety import UnsafeSettingsError
from openvns.errors import ValidationError

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
#: Most errors a 422 of FastAPI's request validation lists; one more item says how many more
#: there were (a body with thousands of unknown keys would otherwise echo every one of them).
MAX_VALIDATION_ERRORS = 50


def _value(value: Any) -> Any:
    try:
        return jsonable_encoder(value)
    except (TypeError, ValueError):
        return repr(value)


class _EchoJSONResponse(JSONResponse):
    """JSON of an answer that echoes the request's input (a 422): a lone surrogate, which JSON
    may spell (``"\\ud800"``) but UTF-8 cannot encode, is sent escaped instead of failing, and a
    non-finite number (``NaN``, ``Infinity``, which strict JSON cannot carry) is echoed as its
    spelling (:func:`~openvns.clinic.json_safety.json_safe`)."""

    def render(self, content: Any) -> bytes:
        content = json_safe(content)
        try:
            return super().render(content)
        except UnicodeEncodeError:
            text = json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
            return text.encode("ascii")


#: What a refused secret is echoed as in a 422 (never the value itself).
HIDDEN = "(hidden)"


def _hide_secrets(error: Any) -> Any:
    """The validation error with any password in its ``input`` hidden: a refused password must
    not travel back in the response (logs, proxies, the browser). An input object keeps its
    other members; a value at a password field is hidden whole."""
    if not isinstance(error, dict) or "input" not in error:
        return error
    value = error["input"]
    if isinstance(value, dict):
        if not any(_is_secret(k) for k in value):
            return error
        return {**error, "input": {k: HIDDEN if _is_secret(k) else v for k, v in value.items()}}
    if any(_is_secret(part) for part in error.get("loc", ())):
        return {**error, "input": HIDDEN}
    return error


def _is_secret(name: object) -> bool:
    return isinstance(name, str) and "password" in name.lower()


def _install_error_handlers(app: FastAPI) -> None:
    def detail(status_code: int, exc: Exception, **headers: str) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status_code, headers=headers or None)

    async def validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ValidationError)
        item = {"loc": [exc.field], "msg": str(exc), "type": "value_error", "field": exc.field}
        item |= {"value": _value(exc.value), "allowed": exc.allowed}
        return _EchoJSONResponse({"detail": [item]}, status_code=422)  # schemas.ErrorDetail

    async def request_validation(_: Request, exc: Exception) -> JSONResponse:
        # FastAPI's own answer, which echoes each refused input (``input``): the first
        # MAX_VALIDATION_ERRORS of them, and how many more there were.
        assert isinstance(exc, RequestValidationError)
        errors = [_hide_secrets(e) for e in exc.errors()]
        items = jsonable_encoder(errors[:MAX_VALIDATION_ERRORS])
        if len(errors) > MAX_VALIDATION_ERRORS:
            more = len(errors) - MAX_VALIDATION_ERRORS
            msg = f"{more} more errors not shown (at most {MAX_VALIDATION_ERRORS} are listed)"
            items.append({"loc": ["body"], "msg": msg, "type": "too_many_errors"})
        return _EchoJSONResponse({"detail": items}, status_code=422)

    async def unsafe(_: Request, exc: Exception) -> JSONResponse:
        # Settings the device safety check blocks: every blocking error, then the warnings.
        assert isinstance(exc, UnsafeSettingsError)
        items = [
            {"loc": [i.field], "msg": i.message, "type": i.code, "field": i.field}
            | {"value": _value(i.value), "allowed": i.allowed}
            for i in exc.report.errors
        ]
        warnings = [i.model_dump(mode="json") for i in exc.report.warnings]
        return _EchoJSONResponse({"detail": items, "warnings": warnings}, status_code=422)

    async def not_found(_: Request, exc: Exception) -> JSONResponse:
        return detail(404, exc)

    async def conflict(_: Request, exc: Exception) -> JSONResponse:
        return detail(409, exc)

    async def integrity(_: Request, exc: Exception) -> JSONResponse:
        # A unique or foreign-key rule that a concurrent request won (the services check first).
        log.info("integrity error turned into 409: %s", exc)
        return JSONResponse({"detail": "conflicts with the stored data"}, status_code=409)

    async def unauthenticated(_: Request, exc: Exception) -> JSONResponse:
        return detail(401, exc, **{"WWW-Authenticate": "Bearer"})

    async def forbidden(_: Request, exc: Exception) -> JSONResponse:
        return detail(403, exc)

    app.add_exception_handler(ValidationError, validation)
    app.add_exception_handler(RequestValidationError, request_validation)
    app.add_exception_handler(UnsafeSettingsError, unsafe)
    app.add_exception_handler(NotFoundError, not_found)
    app.add_exception_handler(ConflictError, conflict)
    app.add_exception_handler(IntegrityError, integrity)
    app.add_exception_handler(AuthenticationError, unauthenticated)
    app.add_exception_handler(PermissionDeniedError, forbidden)

    async def throttled(_: Request, exc: Exception) -> JSONResponse:
        # refuse_flooding_address: a flooding address refused before its route runs.
        assert isinstance(exc, LoginThrottledError)
        return throttled_response(exc)

    app.add_exception_handler(LoginThrottledError, throttled)


def create_app_from_environment() -> FastAPI:
    """The app of one worker process of ``clinic serve --workers N`` (uvicorn's factory): the
    settings come from the environment the server set for its workers
    (:func:`openvns.clinic.config.settings_from_environment`)."""
    from openvns.clinic.config import settings_from_environment

    return create_app(settings_from_environment())


class ClinicApp(FastAPI):
    """FastAPI with the transport guards outside everything, Starlette's 500 page included:
    the security headers, then the request-body limit."""

    def build_middleware_stack(self) -> ASGIApp:
        settings: Settings = self.state.settings
        inner = BodyLimitMiddleware(super().build_middleware_stack(), settings.max_body_bytes)
        # The printable report is one self-contained file with its own stylesheet: the CSP
        # allows exactly that <style> by its hash (test_transport checks the report).
        csp = content_security_policy(inline_styles=[outcome_report._CSS])
        return SecurityHeadersMiddleware(inner, csp=csp)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the clinic app.

    Parameters
    ----------
    settings
        Database, secret key, cookies, lifetimes; :func:`~openvns.clinic.config.load_settings`
        (environment and defaults) when ``None``.
    """
    settings = settings or load_settings()
    engine = create_engine_for(settings.database_url)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = ClinicApp(
        title="OpenVNS clinic",
        version=__version__,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served by mount_api_docs from the app's own files
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.password_hasher = make_password_hasher(settings.argon2_parameters)

    api = APIRouter(prefix=API_PREFIX)
    api.include_router(auth_router)
    api.include_router(patients_router)
    api.include_router(audit_router)
    api.include_router(diaries_router)
    api.include_router(outcomes_router)
    api.include_router(evaluation_router)
    api.include_router(implants_router)
    api.include_router(programming_router)
    api.include_router(worklist_router)
    app.include_router(api)
    app.include_router(auth_web_router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        """Liveness and database reachability."""
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    _install_error_handlers(app)
    complete_openapi(app)
    mount_api_docs(app, docs_url=f"{API_PREFIX}/docs", openapi_url=f"{API_PREFIX}/openapi.json")
    mount_ui(app)  # pages, /static and HTML error pages for browsers
    return app
