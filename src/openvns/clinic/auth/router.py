"""JSON API of the auth domain: tokens, the current user, and user administration."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from openvns.clinic.auth import service
from openvns.clinic.auth.dependencies import AdminUser, CurrentUser, HasherDep, SettingsDep
from openvns.clinic.auth.models import TokenKind
from openvns.clinic.auth.schemas import TokenRequest, TokenResponse, UserCreate, UserRead
from openvns.clinic.db.session import SessionDep
from openvns.clinic.schemas import Limit, Offset, Page, PathId, error_responses

router = APIRouter(tags=["auth"])


@router.post("/auth/token", response_model=TokenResponse, responses=error_responses(401))
def create_token(
    body: TokenRequest, session: SessionDep, settings: SettingsDep, hasher: HasherDep
) -> TokenResponse:
    """Exchange e-mail and password for an opaque bearer token."""
    user = service.authenticate(session, body.email, body.password, hasher)
    raw, token = service.issue_token(session, user, TokenKind.BEARER, settings.token_ttl)
    return TokenResponse(access_token=raw, expires_at=token.expires_at)


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
def create_user(
    body: UserCreate, admin: AdminUser, session: SessionDep, hasher: HasherDep
) -> UserRead:
    """Create a user (admin only)."""
    user = service.create_user(
        session,
        email=body.email,
        full_name=body.full_name,
        role=body.role,
        password=body.password,
        hasher=hasher,
        actor=admin,
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
