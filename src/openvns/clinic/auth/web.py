"""Page sign-in and sign-out with a session cookie (for the server-rendered pages).

These routes sit outside ``/api/v1`` and outside the OpenAPI schema. A browser (``Accept:
text/html``) gets the sign-in page, with the login CSRF token in the form; any other client gets
JSON, so scripts and tests can sign in the same way.

* ``GET /auth/login``: sets the login CSRF cookie; the page, or ``{"csrf_token": ...}``.
* ``POST /auth/login`` (form: ``email``, ``password``, ``csrf_token``): checks the double-submit
  token, signs in, sets the session cookie (HttpOnly, SameSite=Lax) and redirects (303). A
  browser whose sign-in fails gets the page again with a generic message (401, or 403 for a
  missing or stale CSRF token, or 429 with ``Retry-After`` when throttled) and a fresh token.
  The password is verified without the write lock (:mod:`openvns.clinic.auth.signin`).
* ``GET /auth/session``: the signed-in user and the session's CSRF token.
* ``POST /auth/logout`` (form ``csrf_token`` or ``X-CSRF-Token``): revokes the session.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response, status
from fastapi.responses import JSONResponse, RedirectResponse

from openvns.clinic.auth import service
from openvns.clinic.auth.dependencies import CurrentUser, HasherDep, SettingsDep, ThrottleDep
from openvns.clinic.auth.models import TokenKind
from openvns.clinic.auth.schemas import LoginForm, SessionInfo, UserRead
from openvns.clinic.auth.security import (
    LOGIN_CSRF_MAX_AGE_S,
    csrf_token_for,
    login_csrf_valid,
    new_login_csrf,
)
from openvns.clinic.auth.signin import client_address, sign_in, throttled_response
from openvns.clinic.auth.throttle import LoginThrottledError
from openvns.clinic.config import Settings
from openvns.clinic.db.session import SessionDep, reads_first
from openvns.clinic.errors import AuthenticationError, CSRFError
from openvns.clinic.ui.templating import flash, render, wants_html

router = APIRouter(prefix="/auth", include_in_schema=False)

#: Where a successful page sign-in or sign-out goes.
AFTER_LOGIN = "/"
AFTER_LOGOUT = "/auth/login"


def _set_cookie(
    response: Response, settings: Settings, name: str, value: str, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
    )


def _login_page(
    request: Request,
    settings: Settings,
    *,
    error: str = "",
    email: str = "",
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """The sign-in page (or JSON for non-browsers) with a fresh login CSRF token."""
    token = new_login_csrf(settings.secret_key)
    response: Response
    if wants_html(request):
        context = {"login_csrf": token, "error": error, "email": email}
        response = render(request, "login.html", context, status_code=status_code)
    else:
        response = JSONResponse({"csrf_token": token}, status_code=status_code)
    response.headers.update(headers or {})
    _set_cookie(response, settings, settings.login_csrf_cookie, token, LOGIN_CSRF_MAX_AGE_S)
    return response


@router.get("/login")
def login_form(request: Request, settings: SettingsDep) -> Response:
    """Start a sign-in: issue the login CSRF token (cookie, and the form or the body)."""
    return _login_page(request, settings)


@router.post("/login")
@reads_first
def login(
    request: Request,
    form: Annotated[LoginForm, Form()],
    session: SessionDep,
    settings: SettingsDep,
    hasher: HasherDep,
    throttle: ThrottleDep,
) -> Response:
    """Sign in from the page form; the old session cookie, if any, is revoked."""
    cookie = request.cookies.get(settings.login_csrf_cookie)
    if not login_csrf_valid(settings.secret_key, cookie, form.csrf_token):
        if wants_html(request):
            error = "The sign-in form had expired. Please enter your details again."
            return _login_page(request, settings, error=error, email=form.email, status_code=403)
        raise CSRFError("missing or wrong CSRF token")
    try:
        raw, _ = sign_in(
            session,
            throttle,
            client_address(request),
            email=form.email,
            password=form.password,
            hasher=hasher,
            kind=TokenKind.SESSION,
            ttl=settings.session_ttl,
            revoke=request.cookies.get(settings.session_cookie),
        )
    except LoginThrottledError as exc:
        if not wants_html(request):
            return throttled_response(exc)
        minutes = max(1, round(exc.retry_after_s / 60))
        error = f"Too many sign-in attempts. Please try again in {minutes} min."
        retry = {"Retry-After": str(exc.retry_after_s)}
        return _login_page(
            request, settings, error=error, email=form.email, status_code=429, headers=retry
        )
    except AuthenticationError:
        if not wants_html(request):
            raise
        error = "The e-mail or the password is not right."
        return _login_page(request, settings, error=error, email=form.email, status_code=401)
    response = RedirectResponse(AFTER_LOGIN, status_code=status.HTTP_303_SEE_OTHER)
    max_age = int(settings.session_ttl.total_seconds())
    _set_cookie(response, settings, settings.session_cookie, raw, max_age)
    response.delete_cookie(settings.login_csrf_cookie, path="/")
    return response


@router.get("/session", response_model=SessionInfo)
def session_info(request: Request, user: CurrentUser, settings: SettingsDep) -> SessionInfo:
    """The signed-in user and the CSRF token for unsafe requests of this session."""
    csrf = csrf_token_for(settings.secret_key, request.state.auth_token)
    return SessionInfo(user=UserRead.model_validate(user), csrf_token=csrf)


@router.post("/logout")
def logout(
    request: Request, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> Response:
    """Sign out: the session is deleted in the database, so the cookie is dead everywhere."""
    service.revoke_token(session, request.state.auth_token)
    response = RedirectResponse(AFTER_LOGOUT, status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(settings.session_cookie, path="/")
    if wants_html(request):
        flash(request, response, "You are signed out.", "success")
    return response
