"""FastAPI dependencies: the current user (bearer token or page session) and role checks.

A request is authenticated by ``Authorization: Bearer <token>`` (the API) or by the session
cookie (the pages). A cookie-authenticated request with an unsafe method (POST, PUT, PATCH,
DELETE) must also carry the session's CSRF token, in the ``X-CSRF-Token`` header or in a
``csrf_token`` form field; bearer requests need none (a browser never adds that header by
itself).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Annotated

import argon2
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from openvns.clinic.auth import service
from openvns.clinic.auth.models import Role, TokenKind, User
from openvns.clinic.auth.security import csrf_token_valid
from openvns.clinic.auth.throttle import LoginThrottle
from openvns.clinic.config import Settings
from openvns.clinic.db.session import SessionDep
from openvns.clinic.errors import AuthenticationError, CSRFError, PermissionDeniedError

#: Methods that change nothing and so need no CSRF token.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: Header carrying the CSRF token (htmx and fetch set it; forms use the ``csrf_token`` field).
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"

_bearer = HTTPBearer(auto_error=False, description="Token from POST /api/v1/auth/token.")


def get_settings(request: Request) -> Settings:
    """The app's :class:`Settings`."""
    settings: Settings = request.app.state.settings
    return settings


def get_hasher(request: Request) -> argon2.PasswordHasher:
    """The app's password hasher."""
    hasher: argon2.PasswordHasher = request.app.state.password_hasher
    return hasher


_throttle_lock = threading.Lock()
#: The sign-in throttles of this process, one per database bind (an app serves one engine).
_throttles: weakref.WeakKeyDictionary[object, LoginThrottle] = weakref.WeakKeyDictionary()


def get_login_throttle(request: Request, session: SessionDep) -> LoginThrottle:
    """The sign-in throttle (lockout and per-address limit) of the database this request uses,
    made from the app's settings on first use and kept for the life of the process.

    The counters are per database: the app's engine has one throttle. (The tests bind each
    test's session to its own connection, so each test starts with fresh counters.)
    """
    bind = session.get_bind()
    with _throttle_lock:
        throttle = _throttles.get(bind)
        if throttle is None:
            throttle = _throttles[bind] = LoginThrottle.from_settings(request.app.state.settings)
    return throttle


SettingsDep = Annotated[Settings, Depends(get_settings)]
HasherDep = Annotated[argon2.PasswordHasher, Depends(get_hasher)]
ThrottleDep = Annotated[LoginThrottle, Depends(get_login_throttle)]
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def submitted_csrf_token(request: Request) -> str | None:
    """The CSRF token sent with the request: the header, else the form field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def current_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    credentials: BearerDep,
    csrf: Annotated[str | None, Depends(submitted_csrf_token)],
) -> User:
    """The signed-in user.

    Raises
    ------
    AuthenticationError
        No valid bearer token or session (401).
    CSRFError
        An unsafe cookie-authenticated request without the session's CSRF token (403).
    """
    if credentials is not None:
        user = service.user_for_token(session, credentials.credentials, TokenKind.BEARER)
        if user is None:
            raise AuthenticationError("invalid or expired token")
        request.state.auth_token = credentials.credentials
        return user
    cookie = request.cookies.get(settings.session_cookie)
    if not cookie:
        raise AuthenticationError("not authenticated")
    user = service.user_for_token(session, cookie, TokenKind.SESSION)
    if user is None:
        raise AuthenticationError("session expired or signed out")
    if request.method not in SAFE_METHODS and not csrf_token_valid(
        settings.secret_key, cookie, csrf
    ):
        raise CSRFError("missing or wrong CSRF token")
    request.state.auth_token = cookie
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require_roles(*roles: Role) -> Callable[[User], User]:
    """A dependency that lets through only users with one of ``roles`` (403 otherwise)."""
    allowed = frozenset(r.value for r in roles)

    def check(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise PermissionDeniedError(f"role {user.role!r} may not do this")
        return user

    return check


AdminUser = Annotated[User, Depends(require_roles(Role.ADMIN))]
CareTeamUser = Annotated[User, Depends(require_roles(Role.CLINICIAN, Role.NURSE))]
ClinicianUser = Annotated[User, Depends(require_roles(Role.CLINICIAN))]
PatientRoleUser = Annotated[User, Depends(require_roles(Role.PATIENT))]
