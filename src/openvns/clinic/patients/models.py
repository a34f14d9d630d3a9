"""The ``patients`` table."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from openvns.clinic.db.base import Base, utcnow

MRN_MAX = 32
NAME_MAX = 200
DIAGNOSIS_MAX = 500
PAIN_DURATION_MAX_MONTHS = 1200


class Sex(enum.StrEnum):
    """Sex as recorded by the clinic."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class Patient(Base):
    """A patient record. ``version`` increases on every update (optimistic locking).

    Deleting a record is a soft delete: ``deleted_at`` and ``deleted_by_id`` are set and the row,
    its diary, evaluations, implants and outcomes stay in the database; the services then treat
    the record as not found.
    """

    __tablename__ = "patients"
    __table_args__ = (
        CheckConstraint(f"sex IN ({', '.join(repr(s.value) for s in Sex)})", name="sex"),
        CheckConstraint(
            f"pain_duration_months >= 0 AND pain_duration_months <= {PAIN_DURATION_MAX_MONTHS}",
            name="pain_duration_months",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mrn: Mapped[str] = mapped_column(String(MRN_MAX), unique=True)
    full_name: Mapped[str] = mapped_column(String(NAME_MAX))
    date_of_birth: Mapped[date]
    sex: Mapped[str] = mapped_column(String(16))
    diagnosis: Mapped[str | None] = mapped_column(String(DIAGNOSIS_MAX))
    pain_duration_months: Mapped[int | None]
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)
    deleted_at: Mapped[datetime | None]
    #: The user who deleted the record (no foreign key: see migration 0006; users are never
    #: deleted, and the deletion's audit entry names the actor too).
    deleted_by_id: Mapped[int | None]

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
