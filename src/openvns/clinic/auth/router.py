"""JSON API of the auth domain: tokens, the current user, and user administration.

Sign-in (``POST /auth/token``) and password change (``POST /auth/password``) verify a password,
which takes argon2 a quarter of a second: they are marked
:func:`~openvns.clinic.db.session.reads_first`, verify in a read transaction, and take the write
lock only to store the result. Both are throttled (:mod:`openvns.clinic.auth.throttle`): 429
with ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response, status

from openvns.clinic.auth import service
from openvns.clinic.auth.dependencies import (
    AdminUser,
    CurrentUser,
    HasherDep,
    SettingsDep,
    ThrottleDep,
    refuse_flooding_address,
)
from openvns.clinic.auth.models import TokenKind
from openvns.clinic.auth.schemas import (
    PasswordChange,
    TokenRequest,
    TokenResponse,
    TokensRevoked,
    UserCreate,
    UserRead,
)
from openvns.clinic.auth.signin import client_address, sign_in, throttled_response
from openvns.clinic.auth.throttle import LoginThrottledError
from openvns.clinic.db.session import SessionDep, reads_first, write_transaction
from openvns.clinic.errors import AuthenticationError
from openvns.clinic.schemas import ErrorBody, Limit, Offset, Page, PathId, error_responses

router = APIRouter(tags=["auth"])

#: The 429 of the throttled operations, for the OpenAPI schema.
THROTTLED: dict[int | str, dict[str, Any]] = {
    429: {
        "model": ErrorBody,
        "description": "Too many sign-in attempts from this address, or the account is "
        "locked after repeated failures; retry after the seconds in Retry-After.",
        "headers": {
            "Retry-After": {
                "description": "Seconds until an attempt may succeed.",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    }
}


@router.post(
    "/auth/token",
    response_model=TokenResponse,
    responses=error_responses(401) | THROTTLED,
    dependencies=[Depends(refuse_flooding_address)],
)
@reads_first
def create_token(
    request: Request,
    body: TokenRequest,
    session: SessionDep,
    settings: SettingsDep,
    hasher: HasherDep,
    throttle: ThrottleDep,
) -> Any:
    """Exchange e-mail and password for an opaque bearer token."""
    try:
        raw, token = sign_in(
            session,
            throttle,
            client_address(request),
            email=body.email,
            password=body.password,
            hasher=hasher,
            kind=TokenKind.BEARER,
            ttl=settings.token_ttl,
        )
    except LoginThrottledError as exc:
        return throttled_response(exc)
    return TokenResponse(access_token=raw, expires_at=token.expires_at)


@router.post(
    "/auth/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401) | THROTTLED,
)
@reads_first
def change_password(
    request: Request,
    body: PasswordChange,
    user: CurrentUser,
    session: SessionDep,
    hasher: HasherDep,
    throttle: ThrottleDep,
) -> Response:
    """Change the signed-in user's password (the current one is required). Every other session
    and token of the user is revoked; the one used for this request stays."""
    address = client_address(request)
    try:
        throttle.admit(address, user.email)
    except LoginThrottledError as exc:
        return throttled_response(exc)
    try:
        service.verify_credentials(session, user.email, body.current_password, hasher)
    except AuthenticationError:
        throttle.failed(address, user.email)
        raise
    throttle.succeeded(address, user.email)
    new_hash = hasher.hash(body.new_password)
    with write_transaction(session):
        service.set_password(session, user, new_hash, keep_token=request.state.auth_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(401))
def logout(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    """Revoke the token (or session) this request was authenticated with."""
    service.revoke_token(session, request.state.auth_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/auth/me", response_model=UserRead, responses=error_responses(401))
def me(user: CurrentUser) -> UserRead:
    """The signed-in user."""
    return UserRead.model_validate(user)


@router.post(
    "/users",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 409),
)
@reads_first
def create_user(
    body: UserCreate, admin: AdminUser, session: SessionDep, hasher: HasherDep
) -> UserRead:
    """Create a user (admin only). The password must follow the policy: at least 12
    characters, not all white space, not one repeated character, not a common password."""
    password_hash = hasher.hash(body.password)
    with write_transaction(session):
        user = service.create_user(
            session,
            email=body.email,
            full_name=body.full_name,
            role=body.role,
            password=body.password,
            hasher=hasher,
            actor=admin,
            password_hash=password_hash,
        )
    return UserRead.model_validate(user)


@router.get("/users", response_model=Page[UserRead], responses=error_responses(401, 403))
def list_users(
    admin: AdminUser, session: SessionDep, limit: Limit = 50, offset: Offset = 0
) -> Page[UserRead]:
    """List users (admin only)."""
    rows, total = service.list_users(session, limit=limit, offset=offset)
    items = [UserRead.model_validate(u) for u in rows]
    return Page[UserRead](items=items, total=total, limit=limit, offset=offset)


@router.get("/users/{user_id}", response_model=UserRead, responses=error_responses(401, 403, 404))
def get_user(user_id: PathId, admin: AdminUser, session: SessionDep) -> UserRead:
    """One user (admin only)."""
    return UserRead.model_validate(service.get_user(session, user_id))


@router.post(
    "/users/{user_id}/deactivate",
    response_model=UserRead,
    responses=error_responses(401, 403, 404, 409),
)
def deactivate_user(user_id: PathId, admin: AdminUser, session: SessionDep) -> UserRead:
    """Deactivate a user (admin only): they cannot sign in, and every session and bearer token
    of theirs is revoked at once. Audited. An admin cannot deactivate their own account."""
    user = service.set_active(session, service.get_user(session, user_id), False, actor=admin)
    return UserRead.model_validate(user)


@router.post(
    "/users/{user_id}/reactivate",
    response_model=UserRead,
    responses=error_responses(401, 403, 404),
)
def reactivate_user(
    user_id: PathId, admin: AdminUser, session: SessionDep, throttle: ThrottleDep
) -> UserRead:
    """Let a deactivated user sign in again (admin only; their old tokens stay revoked), and
    lift a lockout after failed sign-ins. Audited."""
    user = service.set_active(session, service.get_user(session, user_id), True, actor=admin)
    throttle.unlock(user.email)
    return UserRead.model_validate(user)


@router.delete(
    "/users/{user_id}/tokens",
    response_model=TokensRevoked,
    responses=error_responses(401, 403, 404),
)
def revoke_user_tokens(user_id: PathId, admin: AdminUser, session: SessionDep) -> TokensRevoked:
    """Revoke every page session and bearer token of a user (admin only); they stay active
    and may sign in again. Audited."""
    revoked = service.revoke_user_tokens(session, service.get_user(session, user_id), admin)
    return TokensRevoked(revoked=revoked)
