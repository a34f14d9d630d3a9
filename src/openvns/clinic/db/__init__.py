"""Database plumbing: declarative base, engine and sessions, shipped Alembic migrations."""

from __future__ import annotations

from openvns.clinic.db.base import Base, UTCDateTime, utcnow
from openvns.clinic.db.session import create_engine_for, get_session, make_session_factory

__all__ = [
    "Base",
    "UTCDateTime",
    "create_engine_for",
    "get_session",
    "make_session_factory",
    "utcnow",
]
