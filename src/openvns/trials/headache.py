"""Headache endpoints of a trial: prevention (attacks per week, monthly migraine or headache
days) and acute treatment (the treated attacks), per arm and each arm against the first.

The statistics are :mod:`openvns.analysis.headache` and :mod:`openvns.analysis.acute`; this
module picks a trial's windows and arms. Prevention compares the baseline diary (all baseline
days) with the last ``window_days`` of the blinded phase (default: 14 days for attacks, PREVA's
last two weeks; 28 days for migraine or headache days, one 28-day month as PREMIUM and EVENT).
Acute endpoints read the attacks treated during the blinded phase (an open-label extension's
attacks are left out), per first treated attack and as each patient's share of treated attacks.
Eligible patients only (the design's inclusion criteria), as the other endpoints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from openvns.analysis.acute import (
    AttackOutcome,
    cluster_response,
    compare_first_attack,
    pain_free,
    pain_relief,
)
from openvns.analysis.headache import (
    FrequencyChange,
    Measure,
    PreventionComparison,
    PreventionSummary,
    compare_prevention,
    diary_frequency_change,
    summarise_prevention,
)
from openvns.analysis.statistics import Comparison, Interval, mean_ci
from openvns.errors import ValidationError
from openvns.patients.attacks import TreatedAttacks

if TYPE_CHECKING:
    from openvns.trials.runner import TrialResult

AcuteEndpoint = Literal["response", "pain_free", "pain_relief"]

__all__ = [
    "AcuteArm",
    "HeadacheSummary",
    "PreventionCourse",
    "acute_outcome",
    "default_measure",
    "headache_measures",
    "headache_summary",
    "prevention_change",
    "prevention_course",
]


def default_measure(condition: str) -> Measure:
    """Attacks per week for cluster headache, monthly migraine days for migraine."""
    return "attacks" if "cluster" in condition else "migraine_days"


def headache_measures(condition: str) -> tuple[Measure, ...]:
    """The prevention measures reported for ``condition``, the primary first: attacks per week
    for cluster headache; monthly migraine days, then monthly headache days (EVENT's and
    Straube's endpoint) for migraine."""
    if "cluster" in condition:
        return ("attacks",)
    return ("migraine_days", "headache_days")


def _selected(result: TrialResult, arm: str, eligible_only: bool) -> np.ndarray:
    sel: np.ndarray = result.arm == result.arm_names.index(arm)
    return np.asarray(sel & result.eligible if eligible_only else sel)


def prevention_change(
    result: TrialResult,
    arm: str,
    *,
    measure: Measure | None = None,
    window_days: int | None = None,
    eligible_only: bool = True,
) -> FrequencyChange:
    """``arm``'s change of ``measure`` from baseline to the last ``window_days`` of the blinded
    phase (defaults in the module docstring)."""
    if result.attacks is None:
        raise ValidationError("condition", result.condition, "a headache condition")
    m = default_measure(result.condition) if measure is None else measure
    d = result.design
    w = (14 if m == "attacks" else 28) if window_days is None else window_days
    if not 1 <= w <= d.blinded_days:
        raise ValidationError("window_days", w, f"1 to {d.blinded_days} (the blinded phase)")
    end = d.baseline_days + d.blinded_days
    sel = _selected(result, arm, eligible_only)
    a = result.attacks
    diary = type(a)(**{k: getattr(a, k)[sel] for k in _DIARY_FIELDS}, scale_max=a.scale_max)
    return diary_frequency_change(diary, m, slice(0, d.baseline_days), slice(end - w, end))


_DIARY_FIELDS = (
    "attacks", "headache_day", "migraine_day", "peak_severity", "duration_min", "rescue",
    "observed",
)  # fmt: skip


def acute_outcome(
    result: TrialResult,
    arm: str,
    endpoint: AcuteEndpoint = "response",
    *,
    at_min: int | None = None,
    eligible_only: bool = True,
) -> AttackOutcome:
    """``arm``'s treated attacks of the blinded phase judged by ``endpoint``: ``"response"``
    (ACT1: pain 0–1 on 0–4 at 15 min, no rescue before 60 min), ``"pain_free"`` or
    ``"pain_relief"`` at ``at_min`` (default: the data file's)."""
    t = result.treated
    if t is None:
        raise ValidationError("condition", result.condition, "a headache condition")
    d = result.design
    sel = _selected(result, arm, eligible_only)
    blinded = (t.day[sel] >= d.baseline_days) & (t.day[sel] < d.baseline_days + d.blinded_days)
    treated = TreatedAttacks(
        day=np.where(blinded, t.day[sel], -1),
        pain=np.where(blinded[..., None], t.pain[sel], -1).astype(np.int8),
        rescue_min=np.where(blinded, t.rescue_min[sel], np.nan),
        scale_max=t.scale_max,
    )
    if endpoint == "response":
        return cluster_response(treated, at_min=at_min)
    if endpoint == "pain_free":
        return pain_free(treated, at_min=at_min)
    if endpoint == "pain_relief":
        return pain_relief(treated, at_min=at_min)
    raise ValidationError("endpoint", endpoint, "response, pain_free or pain_relief")


@dataclass(frozen=True)
class AcuteArm:
    """One arm's acute endpoint: first treated attack and the mean per-patient share."""

    first_attack: Interval
    per_patient: Interval
    n_patients: int
    n_attacks: int


@dataclass(frozen=True)
class HeadacheSummary:
    """Prevention (always) and acute (when attacks were treated) endpoints of a headache trial.

    ``comparisons`` and ``acute_comparisons`` hold each other arm against the first (first
    arm − other arm; rate ratio first / other).
    """

    measure: str
    prevention: dict[str, PreventionSummary]
    comparisons: dict[str, PreventionComparison]
    acute_endpoint: str | None = None
    acute: dict[str, AcuteArm] = field(default_factory=dict)
    acute_comparisons: dict[str, Comparison] = field(default_factory=dict)


def headache_summary(result: TrialResult, *, measure: Measure | None = None) -> HeadacheSummary:
    """The headache endpoints of ``result`` (its condition must be a headache condition)."""
    m = default_measure(result.condition) if measure is None else measure
    arms = result.arm_names
    changes = {a: prevention_change(result, a, measure=m) for a in arms}
    ref = arms[0]
    comparisons = {}
    for a in arms[1:]:
        comparisons[a] = compare_prevention(changes[ref], changes[a])
    summary = HeadacheSummary(
        measure=m,
        prevention={a: summarise_prevention(c) for a, c in changes.items()},
        comparisons=comparisons,
    )
    if result.treated is None or not np.any(result.treated.day >= 0):
        return summary
    endpoint: AcuteEndpoint = "response" if "cluster" in result.condition else "pain_free"
    outcomes = {a: acute_outcome(result, a, endpoint) for a in arms}
    acute = {}
    for a, o in outcomes.items():
        first = o.first_attack()
        acute[a] = AcuteArm(
            first_attack=first.proportion(),
            per_patient=o.per_patient().mean(),
            n_patients=first.n,
            n_attacks=int(o.evaluable.sum()),
        )
    acute_cmp = {
        a: compare_first_attack(outcomes[ref].first_attack(), outcomes[a].first_attack())
        for a in arms[1:]
    }
    return HeadacheSummary(m, summary.prevention, comparisons, endpoint, acute, acute_cmp)


@dataclass(frozen=True)
class PreventionCourse:
    """One arm's prevention measure in consecutive windows over the whole trial.

    Attributes
    ----------
    measure
        ``"attacks"`` (per week), ``"migraine_days"`` or ``"headache_days"`` (per 28 days).
    start_day, end_day
        ``(windows,)`` each window's first day and the day after its last (0-based from the
        first baseline day; the last window may be shorter).
    rate
        Mean over the arm's patients with a rate in the window, with its t interval (arrays
        ``(windows,)``).
    """

    measure: str
    start_day: npt.NDArray[np.int64]
    end_day: npt.NDArray[np.int64]
    rate: Interval


def prevention_course(
    result: TrialResult,
    arm: str,
    *,
    measure: Measure | None = None,
    window_days: int | None = None,
    eligible_only: bool = True,
) -> PreventionCourse:
    """``arm``'s ``measure`` in consecutive windows of ``window_days`` from the first baseline
    day (default 7 days for attacks per week, 28 for monthly days), as in the prevention
    endpoints: events on the observed days of each window divided by those days, a window with
    fewer than half of its days observed missing for that patient."""
    if result.attacks is None:
        raise ValidationError("condition", result.condition, "a headache condition")
    m = default_measure(result.condition) if measure is None else measure
    w = (7 if m == "attacks" else 28) if window_days is None else window_days
    if isinstance(w, bool) or not isinstance(w, int) or w < 1:
        raise ValidationError("window_days", w, "a whole number of days ≥ 1")
    sel = _selected(result, arm, eligible_only)
    a = result.attacks
    diary = type(a)(**{k: getattr(a, k)[sel] for k in _DIARY_FIELDS}, scale_max=a.scale_max)
    starts = np.arange(0, result.n_days, w, dtype=np.int64)
    ends = np.minimum(starts + w, result.n_days)
    rates = [
        diary_frequency_change(diary, m, slice(s, e), slice(s, e)).endpoint.rate
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
    ]
    table = np.column_stack(rates) if rates else np.zeros((int(sel.sum()), 0))
    return PreventionCourse(m, starts, ends, mean_ci(table, axis=0))
