"""FastAPI dependencies: the current user (bearer token or page session) and role checks.

A request is authenticated by ``Authorization: Bearer <token>`` (the API) or by the session
cookie (the pages). A cookie-authenticated request with an unsafe method (POST, PUT, PATCH,
DELETE) must also carry the session's CSRF token, in the ``X-CSRF-Token`` header or in a
``csrf_token`` form field; bearer requests need none (a browser never adds that header by
itself).
"""

from __future__ import annotations

import asyncio
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
from openvns.clinic.auth.shared_throttle import SharedLoginThrottle
from openvns.clinic.auth.signin import client_address
from openvns.clinic.auth.throttle import LoginThrottle, LoginThrottledError, Throttle
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
_throttles: weakref.WeakKeyDictionary[object, Throttle] = weakref.WeakKeyDictionary()
#: The shared throttles of this process, one per scratch file (``Settings.throttle_path``).
_shared: dict[str, SharedLoginThrottle] = {}


def get_login_throttle(request: Request, session: SessionDep) -> Throttle:
    """The sign-in throttle (lockout and per-address limit) of the database this request uses,
    made from the app's settings on first use and kept for the life of the process.

    The counters are per database: the app's engine has one throttle. (The tests bind each
    test's session to its own connection, so each test starts with fresh counters.) With
    ``Settings.throttle_path`` set (a server of several workers) the counters are in that file,
    shared by the workers.
    """
    settings: Settings = request.app.state.settings
    bind = session.get_bind()
    with _throttle_lock:
        shared = _shared_throttle(settings)
        if shared is not None:
            return shared
        throttle = _throttles.get(bind)
        if throttle is None:
            throttle = _throttles[bind] = LoginThrottle.from_settings(request.app.state.settings)
    return throttle


#: Seconds before the early 429 of a flooding address is sent (see refuse_flooding_address).
FLOOD_ANSWER_DELAY_S = 1.0


def _shared_throttle(settings: Settings) -> SharedLoginThrottle | None:
    if settings.throttle_path is None:
        return None
    path = str(settings.throttle_path)
    shared = _shared.get(path)
    if shared is None:
        shared = _shared[path] = SharedLoginThrottle.from_settings(settings.throttle_path, settings)
    return shared


async def refuse_flooding_address(request: Request) -> None:
    """429 on the event loop for an address that has used up its sign-in attempts, before a
    session, a worker thread or the body's validation, and only after
    :data:`FLOOD_ANSWER_DELAY_S` (a tarpit: a client looping wrong passwords then costs the
    server one cheap answer a second instead of as many as it can send, and leaves the CPU to
    the clinic's users; an honest client waits for ``Retry-After`` anyway). Consults the app
    engine's throttle (or the shared one) only once it exists; the full check in
    :func:`~openvns.clinic.auth.signin.sign_in` always follows."""
    settings: Settings = request.app.state.settings
    with _throttle_lock:
        throttle = _shared_throttle(settings) or _throttles.get(request.app.state.engine)
    if throttle is None:
        return
    retry = throttle.address_retry_after(client_address(request))
    if retry is not None:
        await asyncio.sleep(min(FLOOD_ANSWER_DELAY_S, retry))
        raise LoginThrottledError(retry)


SettingsDep = Annotated[Settings, Depends(get_settings)]
HasherDep = Annotated[argon2.PasswordHasher, Depends(get_hasher)]
ThrottleDep = Annotated[Throttle, Depends(get_login_throttle)]
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
