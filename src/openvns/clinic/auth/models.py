"""Tables of the auth domain: ``users`` and ``auth_tokens``."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from openvns.clinic.db.base import Base, utcnow

#: Column lengths; the schemas use the same numbers so the API accepts what the table stores.
EMAIL_MAX = 254
NAME_MAX = 200
TOKEN_HASH_LEN = 64


class Role(enum.StrEnum):
    """What a user may do. Stored as text; the check constraint lists the values."""

    CLINICIAN = "clinician"
    NURSE = "nurse"
    PATIENT = "patient"
    ADMIN = "admin"


class TokenKind(enum.StrEnum):
    """A page session (cookie, CSRF-protected) or an API bearer token."""

    SESSION = "session"
    BEARER = "bearer"


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class User(Base):
    """A person who can sign in."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", Role), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    full_name: Mapped[str] = mapped_column(String(NAME_MAX))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuthToken(Base):
    """A session or bearer token. Only the SHA-256 of the random token is stored."""

    __tablename__ = "auth_tokens"
    __table_args__ = (
        CheckConstraint(_in("kind", TokenKind), name="kind"),
        Index("ix_auth_tokens_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(TOKEN_HASH_LEN), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
