"""The ``audit_log`` table. Database triggers (created by the migration) reject UPDATE/DELETE."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from openvns.clinic.db.base import Base, utcnow

ACTION_MAX = 32
ENTITY_MAX = 64


class AuditEntry(Base):
    """One change: who (``actor_id``; ``None`` for the system/CLI), when, what, before, after."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(ACTION_MAX))
    entity: Mapped[str] = mapped_column(String(ENTITY_MAX))
    entity_id: Mapped[int]
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
