"""The ``outcome_baselines`` table: a baseline window set by a clinician, one per patient."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from openvns.clinic.db.base import Base, utcnow


class BaselineWindow(Base):
    """The dates (inclusive) whose pain entries form the patient's baseline."""

    __tablename__ = "outcome_baselines"
    __table_args__ = (CheckConstraint("end_date >= start_date", name="window"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), unique=True
    )
    start_date: Mapped[date]
    end_date: Mapped[date]
    set_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
