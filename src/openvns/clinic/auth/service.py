"""Users and tokens: plain functions over a ``Session`` (no web framework in here).

Pages, the API and the CLI call these. Failures raise :mod:`openvns.clinic.errors`.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import argon2
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from openvns.clinic.audit import service as audit
from openvns.clinic.auth.models import AuthToken, Role, TokenKind, User
from openvns.clinic.auth.security import dummy_hash, hash_token, new_token
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
    password_hash: str | None = None,
) -> User:
    """Create a user with an argon2 password hash; the creation is audited.

    ``password_hash``, when given, is ``hasher.hash(password)`` made beforehand, outside the
    write transaction (the API does so). The password policy
    (:mod:`openvns.clinic.auth.passwords`) is the callers' to apply: the schemas and the CLI do.

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
        password_hash=password_hash or hasher.hash(password),
        active=True,
    )
    session.add(user)
    session.flush()
    after = audit.snapshot(user, exclude=_SECRET_FIELDS)
    audit.record(session, actor, "create", "user", user.id, None, after)
    log.info("created user %d with role %s", user.id, user.role)
    return user


@dataclass(frozen=True)
class Verified:
    """A user whose password was verified, and the password's new hash when the stored one was
    made with older parameters (stored by :func:`start_session`, in its write transaction)."""

    user: User
    new_hash: str | None = None


def verify_credentials(
    session: Session, email: str, password: str, hasher: argon2.PasswordHasher
) -> Verified:
    """Check e-mail and password, reading only: call it outside any write transaction.

    The error is the same whether the e-mail is unknown, the password wrong or the account
    inactive, and every attempt runs exactly one ``verify`` (an unknown e-mail against the
    hasher's cached dummy hash), so neither the message nor the time tells whether an account
    exists. A hash made with older parameters gets a new one (the only ``hash`` here).

    Raises
    ------
    AuthenticationError
        The credentials are not valid.
    """
    user = find_user_by_email(session, email)
    if user is None:
        with contextlib.suppress(argon2.exceptions.VerificationError):
            hasher.verify(dummy_hash(hasher), password)
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
    new_hash = hasher.hash(password) if hasher.check_needs_rehash(user.password_hash) else None
    return Verified(user, new_hash)


def authenticate(
    session: Session, email: str, password: str, hasher: argon2.PasswordHasher
) -> User:
    """The active user with this e-mail and password (see :func:`verify_credentials`); an
    outdated hash is replaced in ``session`` (the caller commits).

    Raises
    ------
    AuthenticationError
        The credentials are not valid.
    """
    verified = verify_credentials(session, email, password, hasher)
    if verified.new_hash is not None:
        verified.user.password_hash = verified.new_hash
    return verified.user


def start_session(
    session: Session, verified: Verified, kind: TokenKind, ttl: timedelta
) -> tuple[str, AuthToken]:
    """Store a token for a verified user; call it inside a write transaction.

    The user is read again first: one deactivated since the password check gets no token.

    Raises
    ------
    AuthenticationError
        The account was deactivated meanwhile.
    """
    user = verified.user
    session.refresh(user)
    if not user.active:
        raise AuthenticationError()
    if verified.new_hash is not None:
        user.password_hash = verified.new_hash
    return issue_token(session, user, kind, ttl)


def set_password(
    session: Session, user: User, new_hash: str, *, keep_token: str | None = None
) -> int:
    """Store ``new_hash`` (made outside the write transaction) as ``user``'s password and
    revoke every other session and token of theirs (all but ``keep_token``); audited without
    the hash. Returns how many were revoked."""
    user.password_hash = new_hash
    query = delete(AuthToken).where(AuthToken.user_id == user.id)
    if keep_token is not None:
        query = query.where(AuthToken.token_hash != hash_token(keep_token))
    revoked = _rowcount(session.execute(query))
    audit.record(session, user, "change_password", "user", user.id, None, {"revoked": revoked})
    log.info("user %d changed their password; %d other tokens revoked", user.id, revoked)
    return revoked


def revoke_user_tokens(session: Session, user: User, actor: User | None = None) -> int:
    """Revoke every session and bearer token of ``user`` (audited). Returns how many."""
    revoked = _rowcount(session.execute(delete(AuthToken).where(AuthToken.user_id == user.id)))
    audit.record(session, actor, "revoke_tokens", "user", user.id, None, {"revoked": revoked})
    log.info("revoked %d tokens of user %d", revoked, user.id)
    return revoked


def set_active(session: Session, user: User, active: bool, actor: User | None = None) -> User:
    """Deactivate or reactivate ``user``, audited. Deactivation revokes all their sessions and
    tokens in the same transaction, so they are signed out everywhere at once.

    Raises
    ------
    ConflictError
        An admin tried to deactivate their own account.
    """
    if not active and actor is not None and actor.id == user.id:
        raise ConflictError("you cannot deactivate your own account; ask another administrator")
    before = audit.snapshot(user, exclude=_SECRET_FIELDS)
    user.active = active
    revoked = 0
    if not active:
        query = delete(AuthToken).where(AuthToken.user_id == user.id)
        revoked = _rowcount(session.execute(query))
    session.flush()
    after = audit.snapshot(user, exclude=_SECRET_FIELDS)
    action = "reactivate" if active else "deactivate"
    audit.record(session, actor, action, "user", user.id, before, after)
    log.info("%sd user %d (%d tokens revoked)", action, user.id, revoked)
    return user


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


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
    # One query for the token and its user (every authenticated request runs it).
    row = session.execute(
        select(User, AuthToken.expires_at)
        .join(AuthToken, AuthToken.user_id == User.id)
        .where(AuthToken.token_hash == hash_token(raw), AuthToken.kind == kind.value)
    ).first()
    if row is None:
        return None
    user, expires_at = row
    if expires_at <= now or not user.active:
        return None
    return user


def revoke_token(session: Session, raw: str) -> bool:
    """Delete the token (logout). Returns whether it existed."""
    result = session.execute(delete(AuthToken).where(AuthToken.token_hash == hash_token(raw)))
    return bool(_rowcount(result))
