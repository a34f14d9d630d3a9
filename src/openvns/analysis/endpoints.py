"""Pain-trial endpoints from daily diaries, vectorised over patients.

Used by the in-silico trials (:mod:`openvns.trials`) and by the clinic's per-patient outcomes
(one patient is a ``(1, days)`` array); this module imports neither.

Inputs are ``(patients, days)`` arrays (the orientation of a trial result;
a :class:`~openvns.patients.diary.Diary` is ``(days, patients)``, pass ``diary.nrs.T`` and
``diary.observed.T``). Day windows are Python slices over the day axis (0-based, half-open).

Missing-data rule: a patient's mean over a window is the mean of the observed days in it and
is **missing (NaN) when fewer than** ``max(1, ceil(min_observed_fraction · window length))``
days are observed (default fraction 0.5, the inclusion rule of the design). A patient missing
either the baseline or the endpoint mean, or with a baseline mean of 0, has no change from
baseline.

Responders follow IMMPACT (Dworkin 2008): a reduction of mean pain of at least 30 %
(moderate) or 50 % (substantial) from baseline. By default patients without an endpoint value
count as non-responders (``missing="non_responder"``, the usual conservative rule);
``missing="exclude"`` analyses completers only.

Outcomes beyond pain (PGIC, BPI interference, FIQR, sleep; simulated by
:func:`openvns.patients.outcomes.simulate_outcomes`, asked at visits) have their own endpoints,
each with its minimal clinically important difference from :func:`openvns.patients.outcomes.mcid`
(sources in ``patients/data/outcomes.yaml``): the share "much" or "very much improved" on the
PGIC (:func:`pgic_much_improved`, Farrar 2001, Dworkin 2008), the change of BPI interference
and its ≥ 1-point responders (:func:`bpi_interference_change`, Dworkin 2008), the change of the
FIQR total and its ≥ 14.1 % responders (:func:`fiqr_change`, Bennett 2009; fibromyalgia only)
and the change of the sleep-quality NRS and its ≥ 1-point responders (:func:`sleep_change`).
Visit values are per patient, NaN where the questionnaire was not answered; a change is missing
when either value is, and a missing patient counts as not improved unless
``missing="exclude"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from openvns.analysis.statistics import (
    Comparison,
    Interval,
    KaplanMeier,
    LogRank,
    kaplan_meier,
    logrank_test,
    mean_ci,
    newcombe_difference,
    welch_difference,
    wilson_ci,
)
from openvns.patients.outcomes import mcid

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
MissingRule = Literal["non_responder", "exclude"]

DAYS_PER_WEEK = 7

#: Length of the endpoint window in days: the primary endpoint is the change of mean NRS from the
#: baseline window to the last 4 weeks of a phase (the blinded phase of a trial).
ENDPOINT_WINDOW_DAYS = 4 * DAYS_PER_WEEK

__all__ = [
    "DAYS_PER_WEEK",
    "ENDPOINT_WINDOW_DAYS",
    "ArmComparison",
    "ArmSummary",
    "ChangeFromBaseline",
    "Improved",
    "OutcomeChange",
    "OutcomeComparison",
    "OutcomeSummary",
    "PGICDistribution",
    "Responders",
    "TimeToResponse",
    "WeeklyFraction",
    "bpi_interference_change",
    "change_from_baseline",
    "compare_arms",
    "compare_outcomes",
    "dropout_by_week",
    "endpoint_weeks",
    "endpoint_window",
    "fiqr_change",
    "pgic_distribution",
    "pgic_much_improved",
    "responders",
    "side_effect_prevalence_by_week",
    "sleep_change",
    "summarise_arm",
    "summarise_outcomes",
    "time_to_response",
    "window_mean_NRS",
]


def _as_2d(nrs: npt.ArrayLike, observed: npt.ArrayLike | None) -> tuple[FloatArray, BoolArray]:
    x = np.asarray(nrs, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"expected a (patients, days) array, got shape {x.shape}")
    obs = ~np.isnan(x) if observed is None else np.asarray(observed, dtype=np.bool_)
    if obs.shape != x.shape:
        raise ValueError(f"observed mask shape {obs.shape} differs from NRS shape {x.shape}")
    return x, obs & ~np.isnan(x)


def endpoint_window(phase_end_day: int, phase_start_day: int = 0) -> slice:
    """Days of the endpoint window: the last :data:`ENDPOINT_WINDOW_DAYS` of a phase.

    ``phase_start_day`` and ``phase_end_day`` bound the phase (0-based, end excluded); a phase
    shorter than the window gives the whole phase.

    >>> endpoint_window(112, 28)
    slice(84, 112, None)
    """
    return slice(max(phase_start_day, phase_end_day - ENDPOINT_WINDOW_DAYS), phase_end_day)


def endpoint_weeks(phase_days: int) -> tuple[int, int]:
    """First and last week (1-based, of the phase) that :func:`endpoint_window` covers.

    >>> endpoint_weeks(84)
    (9, 12)
    """
    last = phase_days // DAYS_PER_WEEK
    return max(last - ENDPOINT_WINDOW_DAYS // DAYS_PER_WEEK + 1, 1), last


def window_mean_NRS(
    nrs: npt.ArrayLike,
    observed: npt.ArrayLike | None,
    days: slice,
    *,
    min_observed_fraction: float = 0.5,
) -> FloatArray:
    """Per-patient mean NRS over the observed days of a window.

    Parameters
    ----------
    nrs
        ``(patients, days)`` NRS (NaN counts as unobserved).
    observed
        ``(patients, days)`` mask of entries made; ``None``: non-NaN entries.
    days
        Window over the day axis.
    min_observed_fraction
        Minimum share of the window's days that must be observed (at least one day).

    Returns
    -------
    FloatArray
        ``(patients,)`` means, NaN for patients with too few observed days.
    """
    if not 0.0 <= min_observed_fraction <= 1.0:
        raise ValueError(f"min_observed_fraction {min_observed_fraction} must be in 0–1")
    x, obs = _as_2d(nrs, observed)
    block_x, block_o = x[:, days], obs[:, days]
    length = block_x.shape[1]
    if length == 0:
        raise ValueError(f"window {days} selects no days")
    need = max(1, math.ceil(min_observed_fraction * length - 1e-12))
    count = block_o.sum(axis=1)
    total = np.where(block_o, block_x, 0.0).sum(axis=1)
    return np.where(count >= need, total / np.maximum(count, 1), np.nan)


@dataclass(frozen=True)
class ChangeFromBaseline:
    """Per-patient change from baseline, ``(patients,)`` arrays, NaN where missing.

    Attributes
    ----------
    baseline_NRS, endpoint_NRS
        Window means.
    change_NRS
        ``endpoint − baseline`` (negative is improvement).
    change_pct
        ``100 · change / baseline``; NaN where the baseline is 0.
    """

    baseline_NRS: FloatArray
    endpoint_NRS: FloatArray
    change_NRS: FloatArray
    change_pct: FloatArray


def change_from_baseline(
    nrs: npt.ArrayLike,
    observed: npt.ArrayLike | None,
    baseline_days: slice,
    endpoint_days: slice,
    *,
    min_observed_fraction: float = 0.5,
) -> ChangeFromBaseline:
    """Change of mean NRS from the baseline window to the endpoint window, per patient.

    See the module docstring for the missing-data rule.
    """
    base = window_mean_NRS(
        nrs, observed, baseline_days, min_observed_fraction=min_observed_fraction
    )
    end = window_mean_NRS(nrs, observed, endpoint_days, min_observed_fraction=min_observed_fraction)
    change = end - base
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(base > 0, 100.0 * change / base, np.nan)
    return ChangeFromBaseline(base, end, change, pct)


@dataclass(frozen=True)
class Responders:
    """Responder classification.

    Attributes
    ----------
    responder
        ``(patients,)`` True for responders.
    analysed
        ``(patients,)`` True for patients in the denominator.
    threshold_pct
        Required reduction from baseline, percent.
    """

    responder: BoolArray
    analysed: BoolArray
    threshold_pct: float

    @property
    def count(self) -> int:
        """Number of responders among the analysed patients."""
        return int(np.sum(self.responder & self.analysed))

    @property
    def n(self) -> int:
        """Number of analysed patients."""
        return int(np.sum(self.analysed))

    def proportion(self, *, confidence: float = 0.95) -> Interval:
        """Responder proportion with a Wilson interval."""
        return wilson_ci(self.count, self.n, confidence=confidence)


def responders(
    change_pct: npt.ArrayLike,
    threshold_pct: float = 30.0,
    *,
    missing: MissingRule = "non_responder",
) -> Responders:
    """IMMPACT responders: pain reduced by at least ``threshold_pct`` percent from baseline.

    Parameters
    ----------
    change_pct
        Per-patient percentage change (negative is improvement), NaN where missing.
    threshold_pct
        30 (moderate) or 50 (substantial) in IMMPACT; any positive value is allowed.
    missing
        ``"non_responder"``: missing patients stay in the denominator as non-responders;
        ``"exclude"``: completers only.
    """
    if threshold_pct <= 0:
        raise ValueError(f"threshold_pct {threshold_pct} must be positive")
    pct = np.asarray(change_pct, dtype=np.float64)
    present = ~np.isnan(pct)
    resp = present & (np.where(present, pct, 0.0) <= -threshold_pct + 1e-9)
    if missing == "non_responder":
        analysed = np.ones_like(present)
    elif missing == "exclude":
        analysed = present
    else:
        raise ValueError(f"missing {missing!r} must be 'non_responder' or 'exclude'")
    return Responders(resp, analysed, float(threshold_pct))


@dataclass(frozen=True)
class PGICDistribution:
    """Distribution of PGIC scores 1 (very much improved) … 7 (very much worse).

    Attributes
    ----------
    counts
        ``(7,)`` patients per score.
    proportion
        ``(7,)`` share per score with Wilson intervals (denominator: patients with a score).
    much_improved
        Share scoring 1 or 2 ("much" or "very much improved"), Wilson interval.
    """

    counts: npt.NDArray[np.int64]
    proportion: Interval
    much_improved: Interval


def pgic_distribution(scores: npt.ArrayLike, *, confidence: float = 0.95) -> PGICDistribution:
    """Tabulate PGIC scores (NaN = missing, excluded from the denominator)."""
    s = np.asarray(scores, dtype=np.float64).ravel()
    s = s[~np.isnan(s)]
    if np.any((s < 1) | (s > 7) | (s != np.round(s))):
        raise ValueError("PGIC scores must be integers 1–7")
    counts = np.bincount(s.astype(np.int64) - 1, minlength=7).astype(np.int64)
    n = int(counts.sum())
    return PGICDistribution(
        counts=counts,
        proportion=wilson_ci(counts, n, confidence=confidence),
        much_improved=wilson_ci(int(counts[:2].sum()), n, confidence=confidence),
    )


@dataclass(frozen=True)
class WeeklyFraction:
    """A per-week fraction of patients with Wilson bands.

    Attributes
    ----------
    week
        Week numbers 1, 2, … (week ``w`` covers days ``7(w−1) … 7w − 1``).
    fraction
        Estimate and band per week; ``fraction.n`` is the denominator.
    count
        Numerator per week.
    """

    week: npt.NDArray[np.int64]
    fraction: Interval
    count: npt.NDArray[np.int64]


def _weeks(n_days: int) -> int:
    return -(-n_days // DAYS_PER_WEEK)


def side_effect_prevalence_by_week(
    side_effect: npt.ArrayLike,
    in_study: npt.ArrayLike | None = None,
    *,
    confidence: float = 0.95,
) -> WeeklyFraction:
    """Weekly period prevalence of a side effect.

    A patient counts in week ``w`` when in the study on at least one day of it, and has the
    side effect that week when it is present on at least one of those days.

    Parameters
    ----------
    side_effect
        ``(patients, days)`` bool, side effect present.
    in_study
        ``(patients, days)`` bool, patient still in the study; default all days.
    confidence
        Level of the Wilson bands.
    """
    se = np.asarray(side_effect, dtype=np.bool_)
    if se.ndim != 2:
        raise ValueError(f"expected a (patients, days) array, got shape {se.shape}")
    ins = np.ones_like(se) if in_study is None else np.asarray(in_study, dtype=np.bool_)
    if ins.shape != se.shape:
        raise ValueError("in_study must have the shape of side_effect")
    n_p, n_d = se.shape
    n_w = _weeks(n_d)
    pad = n_w * DAYS_PER_WEEK - n_d
    se_w = np.pad(se & ins, ((0, 0), (0, pad))).reshape(n_p, n_w, DAYS_PER_WEEK).any(axis=2)
    in_w = np.pad(ins, ((0, 0), (0, pad))).reshape(n_p, n_w, DAYS_PER_WEEK).any(axis=2)
    count = se_w.sum(axis=0).astype(np.int64)
    denom = in_w.sum(axis=0).astype(np.int64)
    return WeeklyFraction(
        week=np.arange(1, n_w + 1, dtype=np.int64),
        fraction=wilson_ci(count, denom, confidence=confidence),
        count=count,
    )


def dropout_by_week(
    dropout_day: npt.ArrayLike, n_days: int, *, confidence: float = 0.95
) -> WeeklyFraction:
    """Cumulative fraction of patients dropped out by the end of each week.

    Parameters
    ----------
    dropout_day
        ``(patients,)`` first day index (0-based) on which the patient is no longer in the
        study; NaN (or any value ≥ ``n_days``) for patients who complete.
    n_days
        Length of the period.
    confidence
        Level of the Wilson bands (denominator: all randomised patients).
    """
    d = np.asarray(dropout_day, dtype=np.float64).ravel()
    n_w = _weeks(n_days)
    week_end = np.minimum(np.arange(1, n_w + 1) * DAYS_PER_WEEK, n_days)
    dropped = ~np.isnan(d)[None, :] & (np.nan_to_num(d, nan=np.inf)[None, :] < week_end[:, None])
    count = dropped.sum(axis=1).astype(np.int64)
    return WeeklyFraction(
        week=np.arange(1, n_w + 1, dtype=np.int64),
        fraction=wilson_ci(count, np.full(n_w, d.size), confidence=confidence),
        count=count,
    )


@dataclass(frozen=True)
class TimeToResponse:
    """Time to first response per patient.

    Attributes
    ----------
    time_weeks
        ``(patients,)`` week number (1 = first treatment week) of response or censoring;
        0 for patients censored before any assessable week.
    responded
        ``(patients,)`` True where the response happened (False: censored).
    """

    time_weeks: FloatArray
    responded: BoolArray

    def kaplan_meier(self, *, confidence: float = 0.95) -> KaplanMeier:
        """KM estimate of the probability of *no* response yet (1 − S is the responder share)."""
        return kaplan_meier(self.time_weeks, self.responded, confidence=confidence)

    def median_weeks(self) -> float:
        """Kaplan–Meier median weeks to response (first week with ``S ≤ 0.5``); NaN if not
        reached."""
        if not self.responded.any():
            return float("nan")
        km = self.kaplan_meier()
        hit = np.flatnonzero(km.survival <= 0.5)
        return float(km.time[hit[0]]) if hit.size else float("nan")


def time_to_response(
    nrs: npt.ArrayLike,
    observed: npt.ArrayLike | None,
    baseline_days: slice,
    treatment_start_day: int,
    *,
    threshold_pct: float = 30.0,
    dropout_day: npt.ArrayLike | None = None,
    min_observed_fraction: float = 0.5,
) -> TimeToResponse:
    """First treatment week whose weekly mean NRS is at least ``threshold_pct`` below baseline.

    Week ``w`` (1, 2, …) covers days ``treatment_start_day + 7(w − 1)`` onwards for 7 days (the
    last may be shorter). A week's mean follows the missing-data rule of the module docstring;
    a week with too few entries cannot be a response. Patients never responding are censored at
    the last week they were in the study for at least one day (dropout) or at the last week.
    Patients without a baseline are censored at 0.
    """
    x, obs = _as_2d(nrs, observed)
    n_p, n_d = x.shape
    if not 0 <= treatment_start_day < n_d:
        raise ValueError(f"treatment_start_day {treatment_start_day} outside 0…{n_d - 1}")
    base = window_mean_NRS(x, obs, baseline_days, min_observed_fraction=min_observed_fraction)
    drop = (
        np.full(n_p, np.inf)
        if dropout_day is None
        else np.nan_to_num(np.asarray(dropout_day, dtype=np.float64).ravel(), nan=np.inf)
    )
    if drop.shape != (n_p,):
        raise ValueError("dropout_day must have one entry per patient")
    day = np.arange(n_d)
    obs = obs & (day[None, :] < drop[:, None])
    n_w = _weeks(n_d - treatment_start_day)
    weekly = np.full((n_p, n_w), np.nan)
    for w in range(n_w):
        start = treatment_start_day + w * DAYS_PER_WEEK
        window = slice(start, min(start + DAYS_PER_WEEK, n_d))
        weekly[:, w] = window_mean_NRS(x, obs, window, min_observed_fraction=min_observed_fraction)
    with np.errstate(invalid="ignore"):
        hit = (base[:, None] > 0) & (
            np.nan_to_num(weekly, nan=np.inf) <= base[:, None] * (1.0 - threshold_pct / 100.0)
        )
    responded = hit.any(axis=1)
    first = np.argmax(hit, axis=1) + 1
    # censoring: last week with at least one in-study day
    week_starts = treatment_start_day + DAYS_PER_WEEK * np.arange(n_w)
    last_in = (week_starts[None, :] < drop[:, None]).sum(axis=1)
    censor = np.where(np.isnan(base), 0, last_in)
    time = np.where(responded, first, censor).astype(np.float64)
    return TimeToResponse(time, responded)


@dataclass(frozen=True)
class ArmSummary:
    """Endpoint summary of one arm.

    Attributes
    ----------
    n
        Patients in the arm.
    change_NRS
        Mean change from baseline with a t interval (patients with a change).
    responders_30, responders_50
        ≥ 30 % and ≥ 50 % responders.
    """

    n: int
    change_NRS: Interval
    responders_30: Responders
    responders_50: Responders


def summarise_arm(
    change: ChangeFromBaseline, *, missing: MissingRule = "non_responder"
) -> ArmSummary:
    """Summarise one arm's per-patient changes."""
    return ArmSummary(
        n=int(change.change_NRS.size),
        change_NRS=mean_ci(change.change_NRS),
        responders_30=responders(change.change_pct, 30.0, missing=missing),
        responders_50=responders(change.change_pct, 50.0, missing=missing),
    )


@dataclass(frozen=True)
class ArmComparison:
    """Arm a minus arm b.

    Attributes
    ----------
    change_NRS
        Welch difference of mean change.
    responders_30, responders_50
        Newcombe difference of responder proportions with Fisher/chi-square p-values.
    time_to_response
        Log-rank test, when both arms' times to response were given.
    """

    change_NRS: Comparison
    responders_30: Comparison
    responders_50: Comparison
    time_to_response: LogRank | None


def compare_arms(
    change_a: ChangeFromBaseline,
    change_b: ChangeFromBaseline,
    *,
    missing: MissingRule = "non_responder",
    time_a: TimeToResponse | None = None,
    time_b: TimeToResponse | None = None,
    confidence: float = 0.95,
) -> ArmComparison:
    """Between-arm differences (a − b) of change, responder rates and time to response."""
    diffs = []
    for threshold in (30.0, 50.0):
        ra = responders(change_a.change_pct, threshold, missing=missing)
        rb = responders(change_b.change_pct, threshold, missing=missing)
        if ra.n == 0 or rb.n == 0:
            nan = float("nan")
            diffs.append(Comparison(nan, nan, nan, nan, "none (empty arm)"))
        else:
            diffs.append(newcombe_difference(ra.count, ra.n, rb.count, rb.n, confidence=confidence))
    lr = None
    if time_a is not None and time_b is not None:
        lr = logrank_test(time_a.time_weeks, time_a.responded, time_b.time_weeks, time_b.responded)
    return ArmComparison(
        change_NRS=welch_difference(
            change_a.change_NRS, change_b.change_NRS, confidence=confidence
        ),
        responders_30=diffs[0],
        responders_50=diffs[1],
        time_to_response=lr,
    )


# ------------------------------------------------------------------ outcomes beyond pain
def _mcid(outcome: str) -> float:
    return mcid(outcome).value


def _analysed(present: BoolArray, missing: MissingRule) -> BoolArray:
    if missing == "non_responder":
        return np.ones_like(present)
    if missing == "exclude":
        return present
    raise ValueError(f"missing {missing!r} must be 'non_responder' or 'exclude'")


@dataclass(frozen=True)
class Improved:
    """Patients improved by at least a threshold (an MCID).

    Attributes
    ----------
    improved
        ``(patients,)`` True for the improved patients.
    analysed
        ``(patients,)`` True for patients in the denominator.
    threshold
        The MCID applied, in ``unit``.
    unit
        ``"points"``, ``"%"`` (a reduction of at least that many points or percent) or
        ``"category"`` (a PGIC of at most that category).
    """

    improved: BoolArray
    analysed: BoolArray
    threshold: float
    unit: str

    @property
    def count(self) -> int:
        """Number of improved patients among the analysed."""
        return int(np.sum(self.improved & self.analysed))

    @property
    def n(self) -> int:
        """Number of analysed patients."""
        return int(np.sum(self.analysed))

    def proportion(self, *, confidence: float = 0.95) -> Interval:
        """Share improved with a Wilson interval."""
        return wilson_ci(self.count, self.n, confidence=confidence)


def pgic_much_improved(
    scores: npt.ArrayLike, *, category: float | None = None, missing: MissingRule = "non_responder"
) -> Improved:
    """PGIC "much" or "very much improved": a score ≤ ``category`` (default the PGIC MCID, 2).

    ``scores`` ``(patients,)`` PGIC 1 … 7, NaN where not answered (a non-responder unless
    ``missing="exclude"``).
    """
    cut = _mcid("pgic") if category is None else float(category)
    s = np.asarray(scores, dtype=np.float64).ravel()
    present = ~np.isnan(s)
    if np.any((s[present] < 1) | (s[present] > 7) | (s[present] != np.round(s[present]))):
        raise ValueError("PGIC scores must be integers 1–7")
    improved = present & (np.where(present, s, 8.0) <= cut)
    return Improved(improved, _analysed(present, missing), cut, "category")


@dataclass(frozen=True)
class OutcomeChange:
    """Change of a questionnaire score from the baseline visit to an endpoint visit.

    Attributes
    ----------
    outcome
        ``"bpi_interference"``, ``"fiqr"`` or ``"sleep"``.
    baseline, endpoint
        ``(patients,)`` visit values, NaN where not answered.
    change
        ``endpoint − baseline`` (negative is improvement), NaN where either is missing.
    change_pct
        ``100 · change / baseline``, NaN where the baseline is 0 or missing.
    responders
        Improved by at least the MCID (in points, or in percent for the FIQR).
    """

    outcome: str
    baseline: FloatArray
    endpoint: FloatArray
    change: FloatArray
    change_pct: FloatArray
    responders: Improved

    def mean_change(self, *, confidence: float = 0.95) -> Interval:
        """Mean change with a t interval (patients with a change)."""
        return mean_ci(self.change, confidence=confidence)


def _outcome_change(
    outcome: str,
    baseline: npt.ArrayLike,
    endpoint: npt.ArrayLike,
    threshold: float,
    unit: str,
    missing: MissingRule,
) -> OutcomeChange:
    if threshold <= 0:
        raise ValueError(f"the MCID of {outcome} must be positive, got {threshold}")
    b = np.asarray(baseline, dtype=np.float64).ravel()
    e = np.asarray(endpoint, dtype=np.float64).ravel()
    if b.shape != e.shape:
        raise ValueError(f"baseline {b.shape} and endpoint {e.shape} differ in shape")
    change = e - b
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(b > 0, 100.0 * change / b, np.nan)
    by = pct if unit == "%" else change
    present = ~np.isnan(by)
    improved = present & (np.where(present, by, 0.0) <= -threshold + 1e-9)
    return OutcomeChange(
        outcome, b, e, change, pct, Improved(improved, _analysed(present, missing), threshold, unit)
    )


def bpi_interference_change(
    baseline: npt.ArrayLike,
    endpoint: npt.ArrayLike,
    *,
    mcid_points: float | None = None,
    missing: MissingRule = "non_responder",
) -> OutcomeChange:
    """Change of BPI interference (0–10) and its responders: a reduction ≥ ``mcid_points``
    (default the BPI MCID, 1 point, Dworkin 2008)."""
    m = _mcid("bpi_interference") if mcid_points is None else float(mcid_points)
    return _outcome_change("bpi_interference", baseline, endpoint, m, "points", missing)


def fiqr_change(
    baseline: npt.ArrayLike,
    endpoint: npt.ArrayLike,
    *,
    mcid_pct: float | None = None,
    missing: MissingRule = "non_responder",
) -> OutcomeChange:
    """Change of the FIQR total (0–100, fibromyalgia) and its responders: a reduction
    ≥ ``mcid_pct`` percent of the baseline (default the FIQ MCID, 14.1 %, Bennett 2009)."""
    m = _mcid("fiqr") if mcid_pct is None else float(mcid_pct)
    return _outcome_change("fiqr", baseline, endpoint, m, "%", missing)


def sleep_change(
    baseline: npt.ArrayLike,
    endpoint: npt.ArrayLike,
    *,
    mcid_points: float | None = None,
    missing: MissingRule = "non_responder",
) -> OutcomeChange:
    """Change of the sleep-quality NRS (0 best – 10 worst) and its responders: a reduction
    ≥ ``mcid_points`` (default the sleep MCID, 1 point)."""
    m = _mcid("sleep") if mcid_points is None else float(mcid_points)
    return _outcome_change("sleep", baseline, endpoint, m, "points", missing)


@dataclass(frozen=True)
class OutcomeSummary:
    """One arm's outcomes beyond pain from the baseline visit to an endpoint visit.

    Attributes
    ----------
    pgic
        Distribution of the answered PGIC scores (None when nobody answered).
    pgic_improved
        "Much" or "very much improved" (:func:`pgic_much_improved`).
    bpi_interference, sleep
        Changes with their ≥ MCID responders.
    fiqr
        FIQR change and responders; None where the condition has no FIQR (not fibromyalgia).
    """

    pgic: PGICDistribution | None
    pgic_improved: Improved
    bpi_interference: OutcomeChange
    fiqr: OutcomeChange | None
    sleep: OutcomeChange

    def changes(self) -> dict[str, OutcomeChange]:
        """The outcome changes present, by outcome name."""
        out = {"bpi_interference": self.bpi_interference, "fiqr": self.fiqr, "sleep": self.sleep}
        return {k: v for k, v in out.items() if v is not None}


def summarise_outcomes(
    pgic: npt.ArrayLike,
    baseline: dict[str, npt.ArrayLike],
    endpoint: dict[str, npt.ArrayLike],
    *,
    missing: MissingRule = "non_responder",
) -> OutcomeSummary:
    """One arm's :class:`OutcomeSummary`.

    Parameters
    ----------
    pgic
        ``(patients,)`` PGIC at the endpoint visit, NaN where not answered.
    baseline, endpoint
        ``{"bpi_interference", "fiqr", "sleep"}`` → ``(patients,)`` visit values; the FIQR is
        left out (``None``) when its key is absent or every value is NaN.
    missing
        Rule for patients without a value (see the module docstring).
    """
    scores = np.asarray(pgic, dtype=np.float64).ravel()
    fiqr = None
    if "fiqr" in baseline and np.any(~np.isnan(np.asarray(baseline["fiqr"], dtype=np.float64))):
        fiqr = fiqr_change(baseline["fiqr"], endpoint["fiqr"], missing=missing)
    return OutcomeSummary(
        pgic=pgic_distribution(scores) if np.any(~np.isnan(scores)) else None,
        pgic_improved=pgic_much_improved(scores, missing=missing),
        bpi_interference=bpi_interference_change(
            baseline["bpi_interference"], endpoint["bpi_interference"], missing=missing
        ),
        fiqr=fiqr,
        sleep=sleep_change(baseline["sleep"], endpoint["sleep"], missing=missing),
    )


@dataclass(frozen=True)
class OutcomeComparison:
    """Arm a minus arm b on the outcomes beyond pain.

    Attributes
    ----------
    pgic_improved
        Newcombe difference of the PGIC much/very much improved shares.
    change
        ``{outcome: Welch difference of mean change}``.
    responders
        ``{outcome: Newcombe difference of the ≥ MCID responder shares}``.
    """

    pgic_improved: Comparison
    change: dict[str, Comparison]
    responders: dict[str, Comparison]


def _share_difference(a: Improved, b: Improved, confidence: float) -> Comparison:
    if a.n == 0 or b.n == 0:
        nan = float("nan")
        return Comparison(nan, nan, nan, nan, "none (empty arm)")
    return newcombe_difference(a.count, a.n, b.count, b.n, confidence=confidence)


def compare_outcomes(
    a: OutcomeSummary, b: OutcomeSummary, *, confidence: float = 0.95
) -> OutcomeComparison:
    """Between-arm differences (a − b) of the outcomes both arms have."""
    ca, cb = a.changes(), b.changes()
    both = [k for k in ca if k in cb]
    return OutcomeComparison(
        pgic_improved=_share_difference(a.pgic_improved, b.pgic_improved, confidence),
        change={
            k: welch_difference(ca[k].change, cb[k].change, confidence=confidence) for k in both
        },
        responders={
            k: _share_difference(ca[k].responders, cb[k].responders, confidence) for k in both
        },
    )
