"""Per-patient outcomes from the diary, computed with :mod:`openvns.analysis.endpoints`.

The pain diary becomes one ``(1, days)`` NRS array (NaN on days without an entry) on a day axis
that starts on a week boundary counted back from the day after the baseline, so the trials'
week windows, missing-data rule (a window mean needs entries on at least half its days),
change from baseline and IMMPACT responder rules apply unchanged:

* weekly means (with a 95 % t interval over the week's days, :func:`~openvns.analysis.statistics.
  mean_ci`), their change from the baseline mean and ≥ 30 % / ≥ 50 % responder status;
* the responder status now: the last 28 days of follow-up (up to the last entry) against the
  baseline — ≥ 30 % "moderate" (moderately important), ≥ 50 % "substantial";
* the PGIC and BPI interference courses; the weekly course of each side effect
  (:func:`~openvns.analysis.endpoints.side_effect_prevalence_by_week`), the legacy
  ``throat_cough`` only for a patient with such reports;
* the settings history (implant and programming changes) from the audit log.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from openvns.analysis.endpoints import (
    DAYS_PER_WEEK,
    change_from_baseline,
    responders,
    side_effect_prevalence_by_week,
    window_mean_NRS,
)
from openvns.analysis.statistics import mean_ci
from openvns.clinic.auth.models import User
from openvns.clinic.diaries import service as diaries
from openvns.clinic.diaries.models import (
    LEGACY_KINDS,
    BPIEntry,
    PainEntry,
    PGICEntry,
    Severity,
    SideEffectKind,
    SideEffectReport,
)
from openvns.clinic.diaries.schemas import PGIC_LABELS
from openvns.clinic.outcomes.baseline import resolve_baseline, settings_history
from openvns.clinic.outcomes.schemas import (
    Baseline,
    BPIPoint,
    PatientOutcomes,
    PGICPoint,
    ResponderStatus,
    SideEffectCourse,
    SideEffectWeek,
    Timeline,
    TimelineDay,
    WeekPain,
)

FloatArray = npt.NDArray[np.float64]

#: IMMPACT thresholds (reference §6): moderately important and substantial reductions, %.
MODERATE_PCT = 30.0
SUBSTANTIAL_PCT = 50.0
#: Length of the endpoint window of the current responder status, days.
ENDPOINT_DAYS = 28
#: IMMPACT minimal important change of BPI interference, points.
BPI_MCID_POINTS = 1.0
_SEVERITY_RANK = {s.value: i for i, s in enumerate(Severity)}


def _num(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


@dataclass(frozen=True)
class PainAxis:
    """The day axis of a patient's diary.

    Attributes
    ----------
    start
        Date of day 0 (a week boundary counted back from ``anchor``).
    anchor
        The day after the baseline: first day of week 1.
    nrs
        ``(1, days)`` NRS, NaN without an entry.
    baseline
        The baseline window as a slice of the axis.
    """

    start: date
    anchor: date
    nrs: FloatArray
    baseline: slice

    @property
    def n_days(self) -> int:
        return int(self.nrs.shape[1])

    def index(self, day: date) -> int:
        return (day - self.start).days

    def week_of(self, index: int) -> int:
        return (index - self.index(self.anchor)) // DAYS_PER_WEEK + 1

    def weeks(self) -> list[slice]:
        n = self.n_days
        return [slice(s, min(s + DAYS_PER_WEEK, n)) for s in range(0, n, DAYS_PER_WEEK)]


def pain_axis(
    entries: list[PainEntry], base_start: date, base_end: date, last: date | None = None
) -> PainAxis:
    """Lay ``entries`` on a day axis covering the baseline and every entry (up to ``last``)."""
    anchor = base_end + timedelta(days=1)
    first = min([base_start, *(e.entry_date for e in entries)])
    back_weeks = max(0, math.ceil((anchor - first).days / DAYS_PER_WEEK))
    start = anchor - timedelta(days=DAYS_PER_WEEK * back_weeks)
    end = max([base_end, *(e.entry_date for e in entries)]) if last is None else last
    nrs = np.full((1, (end - start).days + 1), np.nan)
    for e in entries:
        i = (e.entry_date - start).days
        if 0 <= i < nrs.shape[1]:
            nrs[0, i] = e.pain_nrs
    return PainAxis(start, anchor, nrs, slice((base_start - start).days, (anchor - start).days))


def _weekly(axis: PainAxis) -> list[WeekPain]:
    out = []
    for window in axis.weeks():
        mean = float(window_mean_NRS(axis.nrs, None, window)[0])
        days = axis.nrs[0, window]
        observed = int(np.sum(~np.isnan(days)))
        ci = mean_ci(days) if observed else None
        change = change_from_baseline(axis.nrs, None, axis.baseline, window)
        pct = change.change_pct
        lower = float(ci.lower) if ci is not None and math.isfinite(mean) else math.nan
        upper = float(ci.upper) if ci is not None and math.isfinite(mean) else math.nan
        out.append(
            WeekPain(
                week=axis.week_of(window.start),
                start_date=axis.start + timedelta(days=window.start),
                end_date=axis.start + timedelta(days=window.stop - 1),
                days_observed=observed,
                mean_NRS=_num(mean),
                lower_NRS=_num(lower),
                upper_NRS=_num(upper),
                change_NRS=_num(float(change.change_NRS[0])),
                change_pct=_num(float(pct[0])),
                responder_30=bool(responders(pct, MODERATE_PCT).responder[0]),
                responder_50=bool(responders(pct, SUBSTANTIAL_PCT).responder[0]),
            )
        )
    return out


def responder_status(axis: PainAxis, last_entry: date | None) -> ResponderStatus:
    """Change from baseline to the last :data:`ENDPOINT_DAYS` days of follow-up."""
    anchor_i = axis.index(axis.anchor)
    stop = axis.index(last_entry) + 1 if last_entry is not None else 0
    if stop <= anchor_i:
        return ResponderStatus(
            start_date=None, end_date=None, endpoint_mean_NRS=None, change_NRS=None,
            change_pct=None, moderate=False, substantial=False, category="not_assessable",
        )  # fmt: skip
    window = slice(max(anchor_i, stop - ENDPOINT_DAYS), stop)
    change = change_from_baseline(axis.nrs, None, axis.baseline, window)
    pct = change.change_pct
    moderate = bool(responders(pct, MODERATE_PCT).responder[0])
    substantial = bool(responders(pct, SUBSTANTIAL_PCT).responder[0])
    if math.isnan(float(pct[0])):
        category = "not_assessable"
    else:
        category = "substantial" if substantial else "moderate" if moderate else "non_responder"
    return ResponderStatus(
        start_date=axis.start + timedelta(days=window.start),
        end_date=axis.start + timedelta(days=window.stop - 1),
        endpoint_mean_NRS=_num(float(change.endpoint_NRS[0])),
        change_NRS=_num(float(change.change_NRS[0])),
        change_pct=_num(float(pct[0])),
        moderate=moderate,
        substantial=substantial,
        category=category,
    )


def _bpi_course(entries: list[BPIEntry], base_end: date | None) -> list[BPIPoint]:
    if not entries:
        return []
    within = [e for e in entries if base_end is not None and e.entry_date <= base_end]
    reference = (within[-1] if within else entries[0]).interference
    return [
        BPIPoint(
            entry_date=e.entry_date,
            interference=e.interference,
            average=e.average,
            change_interference=e.interference - reference,
            meaningful_improvement=e.interference - reference <= -BPI_MCID_POINTS + 1e-9,
        )
        for e in entries
    ]


def _side_effect_courses(axis: PainAxis, reports: list[SideEffectReport]) -> list[SideEffectCourse]:
    courses = []
    reported = {r.kind for r in reports}
    for kind in SideEffectKind:
        if kind in LEGACY_KINDS and kind.value not in reported:
            continue  # a legacy kind has a course only where older reports use it
        present = np.zeros((1, axis.n_days), dtype=bool)
        worst = np.full(axis.n_days, -1)
        for r in reports:
            i = axis.index(r.entry_date)
            if r.kind == kind.value and 0 <= i < axis.n_days:
                present[0, i] = True
                worst[i] = max(worst[i], _SEVERITY_RANK[r.severity])
        prevalence = side_effect_prevalence_by_week(present)
        weeks = []
        for w, window in enumerate(axis.weeks()):
            rank = int(worst[window].max())
            weeks.append(
                SideEffectWeek(
                    week=axis.week_of(window.start),
                    start_date=axis.start + timedelta(days=window.start),
                    present=bool(prevalence.count[w] > 0),
                    days=int(present[0, window].sum()),
                    worst_severity=list(Severity)[rank] if rank >= 0 else None,
                )
            )
        courses.append(SideEffectCourse(kind=kind, weeks=weeks))
    return courses


@dataclass(frozen=True)
class _Diary:
    pain: list[PainEntry]
    pgic: list[PGICEntry]
    bpi: list[BPIEntry]
    side_effects: list[SideEffectReport]


def _load(session: Session, patient_id: int) -> _Diary:
    return _Diary(
        diaries.all_entries(session, patient_id, PainEntry),
        diaries.all_entries(session, patient_id, PGICEntry),
        diaries.all_entries(session, patient_id, BPIEntry),
        diaries.all_entries(session, patient_id, SideEffectReport),
    )


def _baseline_and_axis(
    session: Session, patient_id: int, diary: _Diary
) -> tuple[Baseline | None, PainAxis | None]:
    first = diary.pain[0].entry_date if diary.pain else None
    resolved = resolve_baseline(session, patient_id, first)
    if resolved is None:
        return None, None
    start, end, source = resolved
    low, high = diaries.earliest_entry_date(), diaries.latest_entry_date()
    if end < low or start > high:  # no entry can lie in it: nothing to compare with
        none = Baseline(start_date=start, end_date=end, source=source, mean_NRS=None,
                        days_observed=0)  # fmt: skip
        return none, None
    axis = pain_axis(diary.pain, max(start, low), min(end, high))
    block = axis.nrs[:, axis.baseline]
    mean = float(window_mean_NRS(axis.nrs, None, axis.baseline)[0]) if block.size else math.nan
    baseline = Baseline(
        start_date=start, end_date=end, source=source, mean_NRS=_num(mean),
        days_observed=int(np.sum(~np.isnan(block))),
    )  # fmt: skip
    return baseline, axis


def patient_outcomes(session: Session, viewer: User, patient_id: int) -> PatientOutcomes:
    """All outcomes of one patient as ``viewer`` may see them (diary read rules)."""
    diaries.readable_patient(session, viewer, patient_id)
    diary = _load(session, patient_id)
    baseline, axis = _baseline_and_axis(session, patient_id, diary)
    last = diary.pain[-1].entry_date if diary.pain else None
    empty = ResponderStatus(
        start_date=None, end_date=None, endpoint_mean_NRS=None, change_NRS=None,
        change_pct=None, moderate=False, substantial=False, category="not_assessable",
    )  # fmt: skip
    return PatientOutcomes(
        patient_id=patient_id,
        first_entry_date=diary.pain[0].entry_date if diary.pain else None,
        last_entry_date=last,
        baseline=baseline,
        weekly_pain=_weekly(axis) if axis is not None else [],
        responder=responder_status(axis, last) if axis is not None else empty,
        pgic=[
            PGICPoint(entry_date=e.entry_date, score=e.score, label=PGIC_LABELS[e.score])
            for e in diary.pgic
        ],
        bpi=_bpi_course(diary.bpi, baseline.end_date if baseline else None),
        side_effects=_side_effect_courses(axis, diary.side_effects) if axis is not None else [],
        settings_history=settings_history(session, patient_id),
    )


def timeline(session: Session, viewer: User, patient_id: int) -> Timeline:
    """The diary day by day (from the first to the last entry of any kind) with the settings
    history."""
    diaries.readable_patient(session, viewer, patient_id)
    diary = _load(session, patient_id)
    baseline, axis = _baseline_and_axis(session, patient_id, diary)
    dated: list[date] = [
        e.entry_date for group in (diary.pain, diary.pgic, diary.bpi, diary.side_effects)
        for e in group
    ]  # fmt: skip
    days: list[TimelineDay] = []
    if dated:
        first, last = min(dated), max(dated)
        pain = {e.entry_date: e.pain_nrs for e in diary.pain}
        pgic = {e.entry_date: e.score for e in diary.pgic}
        bpi = {e.entry_date: e.interference for e in diary.bpi}
        effects: dict[date, list[SideEffectKind]] = {}
        for r in diary.side_effects:
            effects.setdefault(r.entry_date, []).append(SideEffectKind(r.kind))
        for i in range((last - first).days + 1):
            day = first + timedelta(days=i)
            week = axis.week_of(axis.index(day)) if axis is not None else 0
            days.append(
                TimelineDay(
                    day=day,
                    week=week,
                    pain_nrs=pain.get(day),
                    pgic=pgic.get(day),
                    bpi_interference=bpi.get(day),
                    side_effects=effects.get(day, []),
                )
            )
    return Timeline(
        patient_id=patient_id,
        baseline=baseline,
        days=days,
        settings_history=settings_history(session, patient_id),
    )
