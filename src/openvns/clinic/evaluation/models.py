"""The ``evaluations`` table: one candidate evaluation of a patient for implanted VNS.

The contraindications and precautions of the reference (§3.2) are explicit booleans; the
selection criteria (§3.3) read the pain history. A patient may have several evaluations (a
re-evaluation is a new record); ``version`` increases on every update (optimistic locking).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from openvns.clinic.db.base import Base, utcnow

DIAGNOSIS_DETAIL_MAX = 500
NOTES_MAX = 4000
PAIN_DURATION_MAX_MONTHS = 1200
NRS_MAX = 10
HEADACHE_DAYS_MAX = 31


class Diagnosis(enum.StrEnum):
    """Pain diagnosis of the candidate."""

    FIBROMYALGIA = "fibromyalgia"
    NEUROPATHIC_PAIN = "neuropathic_pain"
    CRPS = "crps"
    HEADACHE_MIGRAINE = "headache_migraine"
    OTHER = "other"


class Treatment(enum.StrEnum):
    """Treatments tried (and failed or not tolerated) before the evaluation."""

    NSAIDS = "nsaids"
    TRICYCLICS = "tricyclics"
    SNRIS = "snris"
    ANTICONVULSANTS = "anticonvulsants"
    OPIOIDS = "opioids"
    TRIPTANS = "triptans"
    CGRP_ANTIBODIES = "cgrp_antibodies"
    BOTULINUM_TOXIN = "botulinum_toxin"
    NERVE_BLOCKS = "nerve_blocks"
    PHYSIOTHERAPY = "physiotherapy"
    PSYCHOLOGICAL_THERAPY = "psychological_therapy"
    SPINAL_CORD_STIMULATION = "spinal_cord_stimulation"
    OTHER = "other"


#: The boolean findings of §3.2, in the order the API and the pages show them.
FLAGS: tuple[str, ...] = (
    "prior_left_or_bilateral_cervical_vagotomy",
    "planned_diathermy",
    "obstructive_sleep_apnoea",
    "chronic_pulmonary_disease",
    "swallowing_difficulty",
    "cardiac_arrhythmia_or_conduction_disorder",
    "heart_rate_altering_treatment",
    "anticipated_mri",
    "pregnancy",
    "other_active_implanted_device",
)


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Evaluation(Base):
    """A candidate evaluation (see the module documentation)."""

    __tablename__ = "evaluations"
    __table_args__ = (
        CheckConstraint(_in("diagnosis", Diagnosis), name="diagnosis"),
        CheckConstraint(
            f"pain_duration_months >= 0 AND pain_duration_months <= {PAIN_DURATION_MAX_MONTHS}",
            name="pain_duration_months",
        ),
        CheckConstraint(f"baseline_nrs >= 0 AND baseline_nrs <= {NRS_MAX}", name="baseline_nrs"),
        CheckConstraint(f"worst_nrs >= 0 AND worst_nrs <= {NRS_MAX}", name="worst_nrs"),
        CheckConstraint(
            f"headache_days_per_month >= 0 AND headache_days_per_month <= {HEADACHE_DAYS_MAX}",
            name="headache_days_per_month",
        ),
        Index("ix_evaluations_patient_id", "patient_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    diagnosis: Mapped[str] = mapped_column(String(32))
    diagnosis_detail: Mapped[str | None] = mapped_column(String(DIAGNOSIS_DETAIL_MAX))
    pain_duration_months: Mapped[int]
    treatments_tried: Mapped[list[Any]] = mapped_column(JSON)
    baseline_nrs: Mapped[float]
    worst_nrs: Mapped[float | None]
    headache_days_per_month: Mapped[int | None]
    prior_left_or_bilateral_cervical_vagotomy: Mapped[bool]
    planned_diathermy: Mapped[bool]
    obstructive_sleep_apnoea: Mapped[bool]
    chronic_pulmonary_disease: Mapped[bool]
    swallowing_difficulty: Mapped[bool]
    cardiac_arrhythmia_or_conduction_disorder: Mapped[bool]
    heart_rate_altering_treatment: Mapped[bool]
    anticipated_mri: Mapped[bool]
    pregnancy: Mapped[bool]
    other_active_implanted_device: Mapped[bool]
    notes: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
