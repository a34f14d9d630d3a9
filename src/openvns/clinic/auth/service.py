"""Users and tokens: plain functions over a ``Session`` (no web framework in here).

Pages, the API and the CLI call these. Failures raise :mod:`openvns.clinic.errors`.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta

import argon2
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from openvns.clinic.audit import service as audit
from openvns.clinic.auth.models import AuthToken, Role, TokenKind, User
from openvns.clinic.auth.security import hash_token, new_token
from openvns.clinic.db.base import utcnow
from openvns.clinic.errors import AuthenticationError, ConflictError, NotFoundError

log = logging.getLogger(__name__)

#: Fields never written to the audit log.
_SECRET_FIELDS = frozenset({"password_hash"})


def find_user_by_email(session: Session, email: str) -> User | None:
    """The user with this e-mail (case-insensitive), or ``None``."""
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def get_user(session: Session, user_id: int) -> User:
    """The user with this id, or :class:`NotFoundError`."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError("user", user_id)
    return user


def list_users(session: Session, limit: int = 50, offset: int = 0) -> tuple[list[User], int]:
    """Users ordered by id, and how many there are in all."""
    total = session.scalar(select(func.count()).select_from(User)) or 0
    rows = session.scalars(select(User).order_by(User.id).limit(limit).offset(offset)).all()
    return list(rows), total


def create_user(
    session: Session,
    *,
    email: str,
    full_name: str,
    role: Role | str,
    password: str,
    hasher: argon2.PasswordHasher,
    actor: User | None = None,
) -> User:
    """Create a user with an argon2 password hash; the creation is audited.

    Raises
    ------
    ConflictError
        A user with this e-mail exists.
    """
    email = email.strip().lower()
    if find_user_by_email(session, email) is not None:
        raise ConflictError(f"a user with e-mail {email!r} exists")
    user = User(
        email=email,
        full_name=full_name,
        role=Role(role).value,
        password_hash=hasher.hash(password),
        active=True,
    )
    session.add(user)
    session.flush()
    after = audit.snapshot(user, exclude=_SECRET_FIELDS)
    audit.record(session, actor, "create", "user", user.id, None, after)
    log.info("created user %d with role %s", user.id, user.role)
    return user


def authenticate(
    session: Session, email: str, password: str, hasher: argon2.PasswordHasher
) -> User:
    """The active user with this e-mail and password.

    The error is the same whether the e-mail is unknown, the password wrong or the account
    inactive, and an unknown e-mail costs one hash too, so neither the message nor the time
    tells whether an account exists. A hash made with older parameters is upgraded.

    Raises
    ------
    AuthenticationError
        The credentials are not valid.
    """
    user = find_user_by_email(session, email)
    if user is None:
        _verify_dummy(hasher, password)
        raise AuthenticationError()
    try:
        hasher.verify(user.password_hash, password)
    except argon2.exceptions.VerificationError as exc:
        raise AuthenticationError() from exc
    except argon2.exceptions.InvalidHashError as exc:
        log.error("user %d has an unreadable password hash", user.id)
        raise AuthenticationError() from exc
    if not user.active:
        raise AuthenticationError()
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return user


_DUMMY_HASHES: dict[tuple[int, int, int], str] = {}


def _verify_dummy(hasher: argon2.PasswordHasher, password: str) -> None:
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    dummy = _DUMMY_HASHES.setdefault(key, hasher.hash("not a real password"))
    with contextlib.suppress(argon2.exceptions.VerificationError):
        hasher.verify(dummy, password)


def issue_token(
    session: Session,
    user: User,
    kind: TokenKind,
    ttl: timedelta,
    now: datetime | None = None,
) -> tuple[str, AuthToken]:
    """Create a session or bearer token for ``user``; returns the raw token (shown once).

    Expired tokens of the same user are removed on the way.
    """
    now = now or utcnow()
    session.execute(
        delete(AuthToken).where(AuthToken.user_id == user.id, AuthToken.expires_at <= now)
    )
    raw = new_token()
    token = AuthToken(
        user_id=user.id,
        kind=kind.value,
        token_hash=hash_token(raw),
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(token)
    session.flush()
    return raw, token


def user_for_token(
    session: Session, raw: str, kind: TokenKind, now: datetime | None = None
) -> User | None:
    """The active user holding this unexpired token of this kind, or ``None``."""
    now = now or utcnow()
    token = session.scalar(
        select(AuthToken).where(
            AuthToken.token_hash == hash_token(raw), AuthToken.kind == kind.value
        )
    )
    if token is None or token.expires_at <= now:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.active:
        return None
    return user


def revoke_token(session: Session, raw: str) -> bool:
    """Delete the token (logout). Returns whether it existed."""
    result = session.execute(delete(AuthToken).where(AuthToken.token_hash == hash_token(raw)))
    return bool(getattr(result, "rowcount", 0))
