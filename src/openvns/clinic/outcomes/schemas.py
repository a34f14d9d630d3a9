"""Response (and baseline request) bodies of the outcomes API.

Numbers that cannot be computed (too few diary days, no baseline) are ``null``. Week ``w``
counts from the end of the baseline: week 1 is the seven days starting the day after the
baseline's last day, weeks ≤ 0 lie in or before the baseline.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from openvns.clinic.diaries.models import Severity, SideEffectKind
from openvns.clinic.schemas import NotBoolean

#: Longest clinician-set baseline window, days.
MAX_BASELINE_DAYS = 366

BaselineSource = Literal["clinician", "programming", "first_28_days"]
ResponderCategory = Literal["substantial", "moderate", "non_responder", "not_assessable"]


class BaselineWindowSet(BaseModel):
    """A clinician-set baseline window: its first day and its length."""

    model_config = ConfigDict(extra="forbid")

    start_date: date = Field(description="First day of the baseline.")
    length_days: Annotated[
        int,
        Field(ge=1, le=MAX_BASELINE_DAYS, description="Days in the window (the last is included)."),
        NotBoolean(),
    ]


class Baseline(BaseModel):
    """The baseline window in use, how it was chosen, and its mean pain."""

    start_date: date
    end_date: date
    source: BaselineSource = Field(
        description="clinician: a window set by a clinician; programming: the entries before "
        "the first programming date; first_28_days: the first 28 days of the pain diary."
    )
    mean_NRS: float | None = Field(
        description="Mean of the window's entries (null with entries on fewer than half its "
        "days, or a window outside the diary's range: the last ten years)."
    )
    days_observed: int


class WeekPain(BaseModel):
    """One week of the pain diary against the baseline."""

    week: int
    start_date: date
    end_date: date
    days_observed: int
    mean_NRS: float | None = Field(description="Mean of the week's entries (≥ 4 of 7 days).")
    lower_NRS: float | None = Field(description="95 % t interval over the week's days.")
    upper_NRS: float | None
    change_NRS: float | None
    change_pct: float | None
    responder_30: bool = Field(description="Mean at least 30 % below baseline (IMMPACT).")
    responder_50: bool = Field(description="Mean at least 50 % below baseline (IMMPACT).")


class ResponderStatus(BaseModel):
    """Change from baseline to the last 28 days of follow-up (or fewer, if fewer have passed)."""

    start_date: date | None
    end_date: date | None
    endpoint_mean_NRS: float | None
    change_NRS: float | None
    change_pct: float | None
    moderate: bool = Field(description="≥ 30 % reduction: moderately important (IMMPACT).")
    substantial: bool = Field(description="≥ 50 % reduction: substantial (IMMPACT).")
    category: ResponderCategory


class PGICPoint(BaseModel):
    """One PGIC rating."""

    entry_date: date
    score: int
    label: str


class BPIPoint(BaseModel):
    """One BPI: interference (mean of the seven items), average pain, change from baseline."""

    entry_date: date
    interference: float
    average: int
    change_interference: float | None = Field(
        description="Interference minus that of the baseline BPI (the last one on or before "
        "the baseline's end, else the first)."
    )
    meaningful_improvement: bool = Field(description="Interference ≥ 1 point below baseline.")


class SideEffectWeek(BaseModel):
    """A side effect in one week."""

    week: int
    start_date: date
    present: bool = Field(description="Reported on at least one day of the week.")
    days: int
    worst_severity: Severity | None


class SideEffectCourse(BaseModel):
    """Weekly course of one kind of side effect."""

    kind: SideEffectKind
    weeks: list[SideEffectWeek]


class SettingsEvent(BaseModel):
    """A change of the patient's implant or programming, from the audit log."""

    at: datetime
    entity: str
    entity_id: int
    action: str
    values: dict[str, Any] | None


class PatientOutcomes(BaseModel):
    """Everything the clinic computes from one patient's diary."""

    patient_id: int
    first_entry_date: date | None
    last_entry_date: date | None
    baseline: Baseline | None
    weekly_pain: list[WeekPain]
    responder: ResponderStatus
    pgic: list[PGICPoint]
    bpi: list[BPIPoint]
    side_effects: list[SideEffectCourse]
    settings_history: list[SettingsEvent]


class TimelineDay(BaseModel):
    """One calendar day of the patient's diary."""

    day: date
    week: int
    pain_nrs: int | None
    pgic: int | None
    bpi_interference: float | None
    side_effects: list[SideEffectKind]


class Timeline(BaseModel):
    """Diary days merged with the settings history (implant and programming changes)."""

    patient_id: int
    baseline: Baseline | None
    days: list[TimelineDay]
    settings_history: list[SettingsEvent]
