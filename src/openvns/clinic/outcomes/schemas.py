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
#: What the follow-up window showed (whatever its age).
WindowCategory = Literal["substantial", "moderate", "non_responder", "not_assessable"]
#: The responder status now: a window's class only while the diary is current.
ResponderCategory = Literal[
    "substantial", "moderate", "non_responder", "not_assessable", "diary_stale", "dropout"
]
#: How current the pain diary is: ``none`` (no entry), ``current``, ``stale`` (more than
#: ``STALE_AFTER_DAYS`` days without an entry), ``dropout`` (none in the last 28 days).
DiaryState = Literal["none", "current", "stale", "dropout"]


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


class DiaryStatus(BaseModel):
    """How current the pain diary is on ``as_of`` (``openvns.clinic.diaries.staleness``)."""

    state: DiaryState
    as_of: date = Field(description="The day the status refers to (today, UTC).")
    last_entry_date: date | None
    days_since_last_entry: int | None
    stale: bool = Field(description="More than 7 days without a pain entry, or no entry at all.")


class ResponderStatus(BaseModel):
    """Change from baseline over the follow-up window: the last 28 days of follow-up up to the
    last pain entry (or fewer, if fewer have passed). The window has its real dates; a class is
    claimed (``category``, ``moderate``, ``substantial``) only while the diary is current."""

    start_date: date | None
    end_date: date | None
    window_days: int = Field(description="Days in the window (0 without one).")
    window_label: str = Field(description="The window in words, with its dates and age.")
    endpoint_mean_NRS: float | None
    change_NRS: float | None
    change_pct: float | None
    moderate: bool = Field(
        description="≥ 30 % reduction (IMMPACT moderately important), diary current."
    )
    substantial: bool = Field(description="≥ 50 % reduction (IMMPACT substantial), diary current.")
    category: ResponderCategory = Field(
        description="The status now: the window's class while the diary is current; "
        "diary_stale (more than 7 days without a pain entry) or dropout (none in the last 28 "
        "days) otherwise; not_assessable without follow-up."
    )
    window_category: WindowCategory = Field(description="What the window showed, however old.")
    diary: DiaryStatus
    summary: str = Field(description="The status in a sentence or two, as the pages show it.")


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


class DeviceSettings(BaseModel):
    """The programmed normal-mode settings."""

    output_current_mA: float
    frequency_Hz: float
    pulse_width_us: float
    on_time_s: float
    off_time_min: float


class DeviceSummary(BaseModel):
    """The patient's implant (the active one, else the last one) as it is now."""

    implant_id: int
    status: str = Field(description="active, explanted or replaced.")
    generator_model: str
    generator_name: str
    generator_serial: str
    implanted_at: date
    lead_model: str
    lead_name: str
    device_time: datetime = Field(description="The implant's clock for the values below.")
    settings: DeviceSettings
    battery_percent: float
    battery_indicator: str = Field(description="OK, IFI, NEOS or EOS.")
    lead_impedance_ohm: float | None = Field(
        description="Last measured lead impedance (System Diagnostics); null before any."
    )
    impedance_status: str | None


class PatientOutcomes(BaseModel):
    """Everything the clinic computes from one patient's diary, with the device."""

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
    device: DeviceSummary | None = Field(description="The implant now; null without one.")


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
