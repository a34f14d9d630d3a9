"""The ``implants`` table: a generator and lead in a patient, and the virtual implant's state.

``state_json`` is the complete :class:`~openvns.device.generator.PulseGenerator` state in the
device layer's own versioned JSON (:meth:`PulseGenerator.to_json`), as of ``device_time``.
``version`` increases on every change of the row (optimistic locking): programming, a titration
plan, diagnostics, explant or replacement. Reading never changes it.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from openvns.clinic.db.base import Base, utcnow

SERIAL_MAX = 32
MODEL_MAX = 32
REASON_MAX = 500
#: The partial unique index of active implants (one per patient) and its condition.
ACTIVE_INDEX = "uq_implants_active_patient_id"
ACTIVE_WHERE = "status = 'active'"


class ImplantStatus(enum.StrEnum):
    """Whether the implant is in the patient."""

    ACTIVE = "active"
    EXPLANTED = "explanted"
    REPLACED = "replaced"


class Implant(Base):
    """A generator with its lead in a patient (see the module documentation)."""

    __tablename__ = "implants"
    __table_args__ = (
        CheckConstraint(
            f"status IN ({', '.join(repr(s.value) for s in ImplantStatus)})", name="status"
        ),
        Index("ix_implants_patient_id", "patient_id"),
        # At most one implant in the patient: a partial unique index, so two registrations
        # that pass the service's check at the same time cannot both commit.
        Index(
            ACTIVE_INDEX,
            "patient_id",
            unique=True,
            sqlite_where=text(ACTIVE_WHERE),
            postgresql_where=text(ACTIVE_WHERE),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    generator_model: Mapped[str] = mapped_column(String(MODEL_MAX))
    generator_serial: Mapped[str] = mapped_column(String(SERIAL_MAX), unique=True)
    lead_model: Mapped[str] = mapped_column(String(MODEL_MAX))
    implanted_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=ImplantStatus.ACTIVE.value)
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(REASON_MAX))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("implants.id"))
    state_json: Mapped[str] = mapped_column(Text)
    device_time: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
