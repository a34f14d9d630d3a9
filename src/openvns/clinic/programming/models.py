"""Tables of programming: ``programming_sessions``, ``programming_proposals``, ``titration_plans``.

A session is one sitting of a clinician (or nurse) with the programmer at an implant. A proposal
is a set of settings with the result of :func:`openvns.device.safety.check` at the time it was
made; it reaches the implant only through an explicit confirmation. A titration plan is a
protocol text programmed into the implant's Scheduled Programming.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openvns.clinic.db.base import Base, utcnow

PROTOCOL_MAX = 1000


class SessionStatus(enum.StrEnum):
    """Whether a programming session is open."""

    OPEN = "open"
    CLOSED = "closed"


class ProposalStatus(enum.StrEnum):
    """``checked`` until programmed; ``programmed`` once it reached the implant."""

    CHECKED = "checked"
    PROGRAMMED = "programmed"


class PlanStatus(enum.StrEnum):
    """``active`` until a later plan replaces it (``superseded``)."""

    ACTIVE = "active"
    SUPERSEDED = "superseded"


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class ProgrammingSession(Base):
    """One programming session at an implant."""

    __tablename__ = "programming_sessions"
    __table_args__ = (
        CheckConstraint(_in("status", SessionStatus), name="status"),
        Index("ix_programming_sessions_implant_id", "implant_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    implant_id: Mapped[int] = mapped_column(ForeignKey("implants.id", ondelete="CASCADE"))
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default=SessionStatus.OPEN.value)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]


class Proposal(Base):
    """Proposed settings and the safety report made for them."""

    __tablename__ = "programming_proposals"
    __table_args__ = (
        CheckConstraint(_in("status", ProposalStatus), name="status"),
        Index("ix_programming_proposals_session_id", "session_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("programming_sessions.id", ondelete="CASCADE")
    )
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    ok: Mapped[bool]
    issues: Mapped[list[Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=ProposalStatus.CHECKED.value)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    programmed_at: Mapped[datetime | None]


class TitrationPlan(Base):
    """A titration protocol programmed into the implant's Scheduled Programming."""

    __tablename__ = "titration_plans"
    __table_args__ = (
        CheckConstraint(_in("status", PlanStatus), name="status"),
        Index("ix_titration_plans_implant_id", "implant_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    implant_id: Mapped[int] = mapped_column(ForeignKey("implants.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("programming_sessions.id", ondelete="SET NULL")
    )
    protocol: Mapped[str] = mapped_column(Text)
    start_at: Mapped[datetime]
    steps: Mapped[list[Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=PlanStatus.ACTIVE.value)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
