"""Page sign-in and sign-out with a session cookie (for the server-rendered pages).

These routes sit outside ``/api/v1`` and outside the OpenAPI schema. Until the pages exist,
``GET /auth/login`` answers JSON with the login CSRF token; a page will render it into the form.

* ``GET /auth/login``: sets the login CSRF cookie; returns ``{"csrf_token": ...}``.
* ``POST /auth/login`` (form: ``email``, ``password``, ``csrf_token``): checks the double-submit
  token, signs in, sets the session cookie (HttpOnly, SameSite=Lax) and redirects (303).
* ``GET /auth/session``: the signed-in user and the session's CSRF token.
* ``POST /auth/logout`` (form ``csrf_token`` or ``X-CSRF-Token``): revokes the session.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response, status
from fastapi.responses import JSONResponse, RedirectResponse

from openvns.clinic.auth import service
from openvns.clinic.auth.dependencies import CurrentUser, HasherDep, SettingsDep
from openvns.clinic.auth.models import TokenKind
from openvns.clinic.auth.schemas import LoginForm, SessionInfo, UserRead
from openvns.clinic.auth.security import csrf_token_for, login_csrf_valid, new_login_csrf
from openvns.clinic.config import Settings
from openvns.clinic.db.session import SessionDep
from openvns.clinic.errors import CSRFError

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


@router.get("/login")
def login_form(settings: SettingsDep) -> JSONResponse:
    """Start a sign-in: issue the login CSRF token (cookie and body)."""
    token = new_login_csrf(settings.secret_key)
    response = JSONResponse({"csrf_token": token})
    _set_cookie(response, settings, settings.login_csrf_cookie, token, 3600)
    return response


@router.post("/login")
def login(
    request: Request,
    form: Annotated[LoginForm, Form()],
    session: SessionDep,
    settings: SettingsDep,
    hasher: HasherDep,
) -> Response:
    """Sign in from the page form; the old session cookie, if any, is revoked."""
    cookie = request.cookies.get(settings.login_csrf_cookie)
    if not login_csrf_valid(settings.secret_key, cookie, form.csrf_token):
        raise CSRFError("missing or wrong CSRF token")
    user = service.authenticate(session, form.email, form.password, hasher)
    old = request.cookies.get(settings.session_cookie)
    if old:
        service.revoke_token(session, old)
    raw, _ = service.issue_token(session, user, TokenKind.SESSION, settings.session_ttl)
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
    return response
