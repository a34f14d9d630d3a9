"""Per-patient outcomes from the diary, computed with :mod:`openvns.analysis.endpoints`.

The pain diary becomes one ``(1, days)`` NRS array (NaN on days without an entry) on a day axis
that starts on a week boundary counted back from the day after the baseline, so the trials'
week windows, missing-data rule (a window mean needs entries on at least half its days),
change from baseline and IMMPACT responder rules apply unchanged:

* weekly means (with a 95 % t interval over the week's days, :func:`~openvns.analysis.statistics.
  mean_ci`), their change from the baseline mean and ≥ 30 % / ≥ 50 % responder status;
* the follow-up window: the last 28 days of follow-up (up to the last entry) against the
  baseline — ≥ 30 % "moderate" (moderately important), ≥ 50 % "substantial" — and the responder
  status now, which claims that class only while the diary is current
  (:func:`openvns.clinic.diaries.staleness.diary_currency`): a diary without a pain entry for
  more than a week is ``diary_stale``, one without any in the last 28 days a ``dropout``, and
  the window keeps its real dates;
* the PGIC and BPI interference courses; the weekly course of each side effect
  (:func:`~openvns.analysis.endpoints.side_effect_prevalence_by_week`), the legacy
  ``throat_cough`` only for a patient with such reports;
* the settings history (implant and programming changes) from the audit log, and the device now.

The diary-derived numbers are cached per patient under a version of the diary read from the
database (:mod:`openvns.clinic.outcomes.cache`): repeated reads cost a few small queries, and any
diary or baseline write changes the key. The weekly 95 % intervals come from one vectorised
:func:`~openvns.analysis.statistics.mean_ci` over every week (one quantile computation per
recomputation, not one per week), and a side effect's weekly presence is counted directly.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from openvns.analysis.endpoints import (
    DAYS_PER_WEEK,
    change_from_baseline,
    responders,
    window_mean_NRS,
)
from openvns.analysis.statistics import mean_ci
from openvns.clinic.auth.models import User
from openvns.clinic.db.base import utcnow
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
from openvns.clinic.diaries.staleness import DiaryCurrency, diary_currency
from openvns.clinic.outcomes.baseline import resolve_baseline, settings_history
from openvns.clinic.outcomes.cache import OutcomeCache, diary_version
from openvns.clinic.outcomes.device import device_summary
from openvns.clinic.outcomes.schemas import (
    Baseline,
    BaselineSource,
    BPIPoint,
    DiaryStatus,
    PatientOutcomes,
    PGICPoint,
    ResponderCategory,
    ResponderStatus,
    SettingsEvent,
    SideEffectCourse,
    SideEffectWeek,
    Timeline,
    TimelineDay,
    WeekPain,
    WindowCategory,
)

FloatArray = npt.NDArray[np.float64]

#: IMMPACT thresholds (reference §6): moderately important and substantial reductions, %.
#: Share of a week's days that must hold an entry for its mean: the default of
#: :func:`~openvns.analysis.endpoints.window_mean_NRS` (the endpoint's missing-data rule).
MIN_OBSERVED_FRACTION = float(
    inspect.signature(window_mean_NRS).parameters["min_observed_fraction"].default
)
MODERATE_PCT = 30.0
SUBSTANTIAL_PCT = 50.0
#: Length of the endpoint window of the current responder status, days.
ENDPOINT_DAYS = 28
#: Days without a pain entry from which a stale diary counts as a dropout: the length of the
#: follow-up window, so that the last 28 days hold no entry at all (a clinic rule, an assumption).
DROPOUT_AFTER_DAYS = ENDPOINT_DAYS
#: IMMPACT minimal important change of BPI interference, points.
BPI_MCID_POINTS = 1.0
#: The window's class in words (pages and report).
WINDOW_LABELS: dict[str, str] = {
    "substantial": "Substantial improvement (≥ 50 %)",
    "moderate": "Moderately important improvement (≥ 30 %)",
    "non_responder": "Less than 30 % improvement",
    "not_assessable": "Not assessable yet",
}
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
    entries: Sequence[PainPoint | PainEntry],
    base_start: date,
    base_end: date,
    last: date | None = None,
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
    """Each week's mean pain (the endpoint's missing-data rule: half the week's days, a short
    last week counted by its own length), its 95 % t interval, the change from the baseline
    and the responder flags, for all weeks at once."""
    weeks = axis.weeks()
    n_weeks = len(weeks)
    padded = np.full(n_weeks * DAYS_PER_WEEK, np.nan)
    padded[: axis.n_days] = axis.nrs[0]
    grid = padded.reshape(n_weeks, DAYS_PER_WEEK)  # NaN pads the last week: missing days
    ci = mean_ci(grid, axis=1)
    lengths = np.array([w.stop - w.start for w in weeks], dtype=np.float64)
    need = np.maximum(1.0, np.ceil(MIN_OBSERVED_FRACTION * lengths - 1e-12))
    count = ci.n
    total = np.where(np.isnan(grid), 0.0, grid).sum(axis=1)
    means = np.where(count >= need, total / np.maximum(count, 1), np.nan)
    base = float(window_mean_NRS(axis.nrs, None, axis.baseline)[0])
    change = means - base
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(base > 0, 100.0 * change / base, np.nan)
    moderate = responders(pct, MODERATE_PCT).responder
    substantial = responders(pct, SUBSTANTIAL_PCT).responder
    shown = (count > 0) & np.isfinite(means)
    lower = np.where(shown, ci.lower, np.nan)
    upper = np.where(shown, ci.upper, np.nan)
    return [
        WeekPain.model_construct(
            week=axis.week_of(window.start),
            start_date=axis.start + timedelta(days=window.start),
            end_date=axis.start + timedelta(days=window.stop - 1),
            days_observed=int(count[w]),
            mean_NRS=_num(float(means[w])),
            lower_NRS=_num(float(lower[w])),
            upper_NRS=_num(float(upper[w])),
            change_NRS=_num(float(change[w])),
            change_pct=_num(float(pct[w])),
            responder_30=bool(moderate[w]),
            responder_50=bool(substantial[w]),
        )
        for w, window in enumerate(weeks)
    ]


@dataclass(frozen=True)
class FollowUpWindow:
    """The follow-up window against the baseline (the last :data:`ENDPOINT_DAYS` days of
    follow-up up to the last entry) and what it showed."""

    start: date | None
    end: date | None
    endpoint_mean_NRS: float | None
    change_NRS: float | None
    change_pct: float | None
    category: WindowCategory

    @property
    def days(self) -> int:
        return 0 if self.start is None or self.end is None else (self.end - self.start).days + 1


_NO_WINDOW = FollowUpWindow(None, None, None, None, None, "not_assessable")


def follow_up_window(axis: PainAxis, last_entry: date | None) -> FollowUpWindow:
    """Change from baseline to the last :data:`ENDPOINT_DAYS` days of follow-up."""
    anchor_i = axis.index(axis.anchor)
    stop = axis.index(last_entry) + 1 if last_entry is not None else 0
    if stop <= anchor_i:
        return _NO_WINDOW
    window = slice(max(anchor_i, stop - ENDPOINT_DAYS), stop)
    change = change_from_baseline(axis.nrs, None, axis.baseline, window)
    pct = change.change_pct
    moderate = bool(responders(pct, MODERATE_PCT).responder[0])
    substantial = bool(responders(pct, SUBSTANTIAL_PCT).responder[0])
    category: WindowCategory
    if math.isnan(float(pct[0])):
        category = "not_assessable"
    else:
        category = "substantial" if substantial else "moderate" if moderate else "non_responder"
    return FollowUpWindow(
        start=axis.start + timedelta(days=window.start),
        end=axis.start + timedelta(days=window.stop - 1),
        endpoint_mean_NRS=_num(float(change.endpoint_NRS[0])),
        change_NRS=_num(float(change.change_NRS[0])),
        change_pct=_num(float(pct[0])),
        category=category,
    )


def diary_status(currency: DiaryCurrency, today: date) -> DiaryStatus:
    """The diary's state on ``today``: none, current, stale or dropout."""
    days = currency.days_since
    if currency.last_entry is None or days is None:
        state = "none"
    elif not currency.stale:
        state = "current"
    else:
        state = "dropout" if days >= DROPOUT_AFTER_DAYS else "stale"
    return DiaryStatus(
        state=state, as_of=today, last_entry_date=currency.last_entry,
        days_since_last_entry=days, stale=currency.stale,
    )  # fmt: skip


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def responder_status(window: FollowUpWindow, diary: DiaryStatus) -> ResponderStatus:
    """The responder status now: the window's class while the diary is current, else none."""
    current = diary.state == "current"
    label = WINDOW_LABELS[window.category]
    if window.start is None or window.end is None:
        window_label = "no follow-up window yet"
        shown = ""
    else:
        window_label = f"{_days(window.days)} of follow-up, {window.start} to {window.end}"
        if not current and window.end < diary.as_of:
            window_label += f" (ended {_days((diary.as_of - window.end).days)} ago)"
        shown = f"{window.start} to {window.end}: {label[0].lower()}{label[1:]}"
    category: ResponderCategory
    if diary.state == "none":
        category = "not_assessable"
        summary = "No pain entries yet: no responder status."
    elif current:
        category = window.category
        summary = (
            f"{label} over {window_label}."
            if window.category != "not_assessable"
            else "Not assessable yet: no follow-up after the baseline, too few entries in the "
            "window (fewer than half its days) or a baseline of 0."
        )
    else:
        category = "dropout" if diary.state == "dropout" else "diary_stale"
        since = _days(diary.days_since_last_entry or 0)
        summary = f"Diary stale since {diary.last_entry_date}: no pain entry for {since}"
        summary += (
            f" (none in the last {ENDPOINT_DAYS} days: a possible dropout)"
            if category == "dropout"
            else ""
        )
        summary += ", so no responder status now."
        if shown:
            summary += f" The last follow-up window ({shown})."
    return ResponderStatus(
        start_date=window.start,
        end_date=window.end,
        window_days=window.days,
        window_label=window_label,
        endpoint_mean_NRS=window.endpoint_mean_NRS,
        change_NRS=window.change_NRS,
        change_pct=window.change_pct,
        moderate=current and window.category in ("moderate", "substantial"),
        substantial=current and window.category == "substantial",
        category=category,
        window_category=window.category,
        diary=diary,
        summary=summary,
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
    """Per kind and week: reported on at least one day (the weekly period prevalence of
    :func:`~openvns.analysis.endpoints.side_effect_prevalence_by_week` for one patient), on how
    many days, and the worst severity."""
    weeks = axis.weeks()
    n_pad = len(weeks) * DAYS_PER_WEEK
    by_kind: dict[str, list[SideEffectReport]] = {}
    for r in reports:
        by_kind.setdefault(r.kind, []).append(r)
    severities = list(Severity)
    week_numbers = [axis.week_of(window.start) for window in weeks]
    starts = [axis.start + timedelta(days=window.start) for window in weeks]
    courses = []
    for kind in SideEffectKind:
        mine = by_kind.get(kind.value, [])
        if kind in LEGACY_KINDS and not mine:
            continue  # a legacy kind has a course only where older reports use it
        worst = np.full(n_pad, -1)
        for r in mine:
            i = axis.index(r.entry_date)
            if 0 <= i < axis.n_days:
                worst[i] = max(worst[i], _SEVERITY_RANK[r.severity])
        by_week = worst.reshape(len(weeks), DAYS_PER_WEEK)
        days = (by_week >= 0).sum(axis=1)
        rank = by_week.max(axis=1)
        # built without re-validation: every value is made here with its declared type
        courses.append(
            SideEffectCourse.model_construct(
                kind=kind,
                weeks=[
                    SideEffectWeek.model_construct(
                        week=week_numbers[w],
                        start_date=starts[w],
                        present=bool(days[w] > 0),
                        days=int(days[w]),
                        worst_severity=severities[int(rank[w])] if rank[w] >= 0 else None,
                    )
                    for w in range(len(weeks))
                ],
            )
        )
    return courses


class PainPoint(NamedTuple):
    """One pain diary day as the outcomes read it."""

    entry_date: date
    pain_nrs: int


@dataclass(frozen=True)
class _Diary:
    pain: list[PainPoint]
    pgic: list[PGICEntry]
    bpi: list[BPIEntry]
    side_effects: list[SideEffectReport]


def _load(session: Session, patient_id: int) -> _Diary:
    # The pain diary (an entry a day) as (date, NRS) rows: the outcomes read nothing else of it,
    # and rows cost a fraction of ORM objects.
    pain = session.execute(
        select(PainEntry.entry_date, PainEntry.pain_nrs)
        .where(PainEntry.patient_id == patient_id)
        .order_by(PainEntry.entry_date, PainEntry.id)
    ).all()
    return _Diary(
        [PainPoint(d, v) for d, v in pain],
        diaries.all_entries(session, patient_id, PGICEntry),
        diaries.all_entries(session, patient_id, BPIEntry),
        diaries.all_entries(session, patient_id, SideEffectReport),
    )


def _baseline_and_axis(
    diary: _Diary, resolved: tuple[date, date, BaselineSource] | None, low: date, high: date
) -> tuple[Baseline | None, PainAxis | None]:
    if resolved is None:
        return None, None
    start, end, source = resolved
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


@dataclass(frozen=True)
class DiaryOutcomes:
    """What the diary and the baseline window alone determine (the cached part)."""

    first_entry_date: date | None
    last_entry_date: date | None
    baseline: Baseline | None
    weekly_pain: list[WeekPain]
    window: FollowUpWindow
    pgic: list[PGICPoint]
    bpi: list[BPIPoint]
    side_effects: list[SideEffectCourse]


def compute_diary_outcomes(
    diary: _Diary, resolved: tuple[date, date, BaselineSource] | None, low: date, high: date
) -> DiaryOutcomes:
    """Every number of the diary against the baseline window ``resolved``.

    ``low`` and ``high`` bound the dates an entry may have (the baseline is clipped to them).
    """
    baseline, axis = _baseline_and_axis(diary, resolved, low, high)
    last = diary.pain[-1].entry_date if diary.pain else None
    return DiaryOutcomes(
        first_entry_date=diary.pain[0].entry_date if diary.pain else None,
        last_entry_date=last,
        baseline=baseline,
        weekly_pain=_weekly(axis) if axis is not None else [],
        window=follow_up_window(axis, last) if axis is not None else _NO_WINDOW,
        pgic=[
            PGICPoint(entry_date=e.entry_date, score=e.score, label=PGIC_LABELS[e.score])
            for e in diary.pgic
        ],
        bpi=_bpi_course(diary.bpi, baseline.end_date if baseline else None),
        side_effects=_side_effect_courses(axis, diary.side_effects) if axis is not None else [],
    )


_CACHE: OutcomeCache[DiaryOutcomes] = OutcomeCache()


def _database(session: Session) -> str:
    return session.get_bind().engine.url.render_as_string(hide_password=True)


def cached_diary_outcomes(
    session: Session, patient_id: int, history: list[SettingsEvent], now: datetime
) -> DiaryOutcomes:
    """:func:`compute_diary_outcomes` for the patient, from the cache while the diary's version
    and the baseline window are unchanged (:mod:`openvns.clinic.outcomes.cache`)."""
    version = diary_version(session, patient_id)  # before the entries: never older than its key
    resolved = resolve_baseline(session, patient_id, version.first_pain, history)
    low, high = diaries.earliest_entry_date(now), diaries.latest_entry_date(now)
    key = (version.key, resolved, low, high)
    database = _database(session)
    found = _CACHE.get(database, patient_id, key)
    if found is not None:
        return found
    computed = compute_diary_outcomes(_load(session, patient_id), resolved, low, high)
    _CACHE.put(database, patient_id, key, computed)
    return computed


def patient_outcomes(
    session: Session, viewer: User, patient_id: int, now: datetime | None = None
) -> PatientOutcomes:
    """All outcomes of one patient as ``viewer`` may see them (diary read rules), at ``now``
    (default: the current time; its UTC date is "today" for the diary's currency)."""
    diaries.readable_patient(session, viewer, patient_id)
    now = now or utcnow()
    history = settings_history(session, patient_id)
    part = cached_diary_outcomes(session, patient_id, history, now)
    today = now.astimezone(UTC).date()
    status = responder_status(part.window, diary_status(diary_currency(part.last_entry_date,
                                                                       today), today))  # fmt: skip
    return PatientOutcomes(
        patient_id=patient_id,
        first_entry_date=part.first_entry_date,
        last_entry_date=part.last_entry_date,
        baseline=part.baseline,
        weekly_pain=part.weekly_pain,
        responder=status,
        pgic=part.pgic,
        bpi=part.bpi,
        side_effects=part.side_effects,
        settings_history=history,
        device=device_summary(session, patient_id, now),
    )


def timeline(session: Session, viewer: User, patient_id: int) -> Timeline:
    """The diary day by day (from the first to the last entry of any kind) with the settings
    history."""
    diaries.readable_patient(session, viewer, patient_id)
    diary = _load(session, patient_id)
    history = settings_history(session, patient_id)
    first_pain = diary.pain[0].entry_date if diary.pain else None
    resolved = resolve_baseline(session, patient_id, first_pain, history)
    low, high = diaries.earliest_entry_date(), diaries.latest_entry_date()
    baseline, axis = _baseline_and_axis(diary, resolved, low, high)
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
        settings_history=history,
    )
