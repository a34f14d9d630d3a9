"""The diary tables: one pain, PGIC and BPI entry per patient and date, side effects per kind.

Every table has the same shape: ``patient_id``, ``entry_date`` (the patient's calendar date),
the values, and UTC ``created_at``/``updated_at``. A correction updates the row in place (the
audit log keeps the value before and after).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from openvns.clinic.db.base import Base, utcnow

NRS_MAX = 10
PGIC_MIN, PGIC_MAX = 1, 7
DESCRIPTION_MAX = 200

#: BPI-SF severity items (0–10).
BPI_SEVERITY_ITEMS = ("worst", "least", "average", "now")
#: BPI-SF interference items (0–10); interference is their mean.
BPI_INTERFERENCE_ITEMS = (
    "general_activity",
    "mood",
    "walking",
    "work",
    "relations",
    "sleep",
    "enjoyment",
)


class SideEffectKind(enum.StrEnum):
    """Side effects a patient can report: the simulator's fourteen channels, ``other``, and the
    legacy ``throat_cough``.

    The last three channels (migration 0005) come from the non-invasive devices (transcutaneous
    cervical and auricular): ``application_site`` (tingling, pain or redness of the skin under
    the electrode), ``dizziness`` and ``muscle_twitch`` (twitching of muscles at the stimulation
    site, such as lip pulling or a neck muscle).

    ``throat_cough`` is the combined "throat pain or cough" item of the first diary (migration
    0003). Reports made with it are kept as they were (migration 0004: a combined report cannot be
    honestly split into cough or throat pain afterwards), read back and shown, but no new report
    can use it (:data:`REPORTABLE_KINDS`).
    """

    VOICE = "voice"  # voice alteration / hoarseness
    COUGH = "cough"
    THROAT_PAIN = "throat_pain"  # throat pain / pharyngitis
    DYSPNOEA = "dyspnoea"
    LARYNGISMUS = "laryngismus"  # laryngeal spasm / throat tightness
    DYSPHAGIA = "dysphagia"
    NECK_PAIN = "neck_pain"
    HEADACHE = "headache"
    PARAESTHESIA = "paraesthesia"
    NAUSEA = "nausea"  # nausea / dyspepsia
    HEART_RATE = "heart_rate"  # palpitations / heart-rate change
    APPLICATION_SITE = "application_site"  # skin tingling, pain or redness under the electrode
    DIZZINESS = "dizziness"
    MUSCLE_TWITCH = "muscle_twitch"  # lip pulling, neck muscle twitch at the stimulation site
    OTHER = "other"
    THROAT_COUGH = "throat_cough"  # legacy: throat pain or cough, before migration 0004


#: Kinds kept for reports made before they were split; read, never newly reported.
LEGACY_KINDS: frozenset[SideEffectKind] = frozenset({SideEffectKind.THROAT_COUGH})
#: The named kinds a new report may have (everything but ``other`` and the legacy kinds).
NAMED_KINDS: tuple[SideEffectKind, ...] = tuple(
    k for k in SideEffectKind if k is not SideEffectKind.OTHER and k not in LEGACY_KINDS
)
#: The kinds a new report may have: the named ones and ``other``.
REPORTABLE_KINDS: tuple[SideEffectKind, ...] = (*NAMED_KINDS, SideEffectKind.OTHER)

#: What each kind means, in the patient's words (forms, tables, figures, the API's ``label``).
SIDE_EFFECT_LABELS: dict[SideEffectKind, str] = {
    SideEffectKind.VOICE: "Voice change or hoarseness",
    SideEffectKind.COUGH: "Cough",
    SideEffectKind.THROAT_PAIN: "Sore throat or throat pain",
    SideEffectKind.DYSPNOEA: "Shortness of breath",
    SideEffectKind.LARYNGISMUS: "Tight throat or throat spasm",
    SideEffectKind.DYSPHAGIA: "Difficulty swallowing",
    SideEffectKind.NECK_PAIN: "Neck pain",
    SideEffectKind.HEADACHE: "Headache",
    SideEffectKind.PARAESTHESIA: "Tingling or pins and needles",
    SideEffectKind.NAUSEA: "Nausea or indigestion",
    SideEffectKind.HEART_RATE: "Palpitations or a change in heart rate",
    SideEffectKind.APPLICATION_SITE: "Skin tingling, pain or redness where the device is applied",
    SideEffectKind.DIZZINESS: "Dizziness",
    SideEffectKind.MUSCLE_TWITCH: "Muscle twitching or lip pulling where the device is applied",
    SideEffectKind.OTHER: "Something else",
    SideEffectKind.THROAT_COUGH: "Throat pain or cough (earlier combined item)",
}


class Severity(enum.StrEnum):
    """Severity of a side effect as the patient rates it."""

    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


def _range(column: str, low: int, high: int) -> CheckConstraint:
    return CheckConstraint(f"{column} >= {low} AND {column} <= {high}", name=column)


class _Entry:
    """Columns every diary table has."""

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    entry_date: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PainEntry(_Entry, Base):
    """Daily pain on the 0–10 numeric rating scale."""

    __tablename__ = "pain_entries"
    __table_args__ = (
        UniqueConstraint("patient_id", "entry_date", name="uq_pain_entries_patient_date"),
        _range("pain_nrs", 0, NRS_MAX),
    )

    pain_nrs: Mapped[int]


class PGICEntry(_Entry, Base):
    """Patient global impression of change, 1 (very much improved) … 7 (very much worse)."""

    __tablename__ = "pgic_entries"
    __table_args__ = (
        UniqueConstraint("patient_id", "entry_date", name="uq_pgic_entries_patient_date"),
        _range("score", PGIC_MIN, PGIC_MAX),
    )

    score: Mapped[int]


class BPIEntry(_Entry, Base):
    """Brief Pain Inventory (short form): four severity and seven interference items, 0–10."""

    __tablename__ = "bpi_entries"
    __table_args__ = (
        UniqueConstraint("patient_id", "entry_date", name="uq_bpi_entries_patient_date"),
        *(_range(item, 0, NRS_MAX) for item in BPI_SEVERITY_ITEMS + BPI_INTERFERENCE_ITEMS),
    )

    worst: Mapped[int]
    least: Mapped[int]
    average: Mapped[int]
    now: Mapped[int]
    general_activity: Mapped[int]
    mood: Mapped[int]
    walking: Mapped[int]
    work: Mapped[int]
    relations: Mapped[int]
    sleep: Mapped[int]
    enjoyment: Mapped[int]

    @property
    def interference(self) -> float:
        """BPI interference: the mean of the seven interference items (0–10)."""
        total = sum(int(getattr(self, item)) for item in BPI_INTERFERENCE_ITEMS)
        return total / len(BPI_INTERFERENCE_ITEMS)


class SideEffectReport(_Entry, Base):
    """A side effect on a date: one report per patient, date and kind."""

    __tablename__ = "side_effect_reports"
    __table_args__ = (
        UniqueConstraint(
            "patient_id", "entry_date", "kind", name="uq_side_effect_reports_patient_date_kind"
        ),
        CheckConstraint(_in("kind", SideEffectKind), name="kind"),
        CheckConstraint(_in("severity", Severity), name="severity"),
    )

    kind: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(String(DESCRIPTION_MAX))
