"""Prevention endpoints of headache trials from daily attack diaries, vectorised over patients.

Cluster headache prevention counts **attacks per week** (PREVA: the change from a 2-week
baseline to the last 2 weeks of the randomised phase); migraine prevention counts **monthly
migraine days** (PREMIUM) or **monthly headache days** (EVENT) — days with a migraine or any
headache, per month of ``month_days`` days (28 by default; 30 is a choice of the caller). The
endpoints read only arrays of the shared attack-diary interface (``(patients, days)``:
``attacks``, ``migraine_day``, ``headache_day``, ``observed``), never the attack model.

Missing diary days: a window's rate is the events on its **observed** days divided by the
number of observed days, times ``per_days``; it is missing (NaN) when fewer than
``max(1, ⌈min_observed_fraction · window length⌉)`` days are observed (default 0.5, sourced in
``analysis/data/headache_endpoints.yaml``). A patient missing either rate, or with a baseline
rate of 0, has no percentage change.

Responders: a reduction of the rate by at least 50 % (PREMIUM, PREVA), and the ≥ 30 % and 100 %
(attack- or migraine-free) variants, with :func:`openvns.analysis.endpoints.responders` (missing
patients are non-responders unless ``missing="exclude"``).

Between arms (a − b): the change with Welch's or Student's t or the Mann–Whitney test
(Hodges–Lehmann shift), responder shares with Newcombe intervals, and the rate ratio of the
endpoint-window counts from a negative-binomial regression with ``log(observed days)`` offset,
the arm and (optionally) the log baseline rate (:mod:`openvns.analysis.count_regression`). An
open-label add-on design against standard of care (PREVA) uses the same comparison.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from openvns.analysis.count_regression import RateRatio, rate_ratio
from openvns.analysis.endpoints import MissingRule, Responders, responders
from openvns.analysis.headache_parameters import headache_number
from openvns.analysis.statistics import (
    Comparison,
    Interval,
    mann_whitney_difference,
    mean_ci,
    newcombe_difference,
    student_difference,
    welch_difference,
)
from openvns.errors import ValidationError

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Measure = Literal["attacks", "migraine_days", "headache_days"]
MeanTest = Literal["welch", "student", "mann-whitney"]

__all__ = [
    "DiaryArrays",
    "FrequencyChange",
    "MeanTest",
    "Measure",
    "PreventionComparison",
    "PreventionSummary",
    "WindowRate",
    "compare_changes",
    "compare_prevention",
    "diary_frequency_change",
    "frequency_change",
    "summarise_prevention",
    "window_rate",
]


class DiaryArrays(Protocol):
    """The fields of the shared ``AttackDiary`` these endpoints read, ``(patients, days)``."""

    @property
    def attacks(self) -> npt.NDArray[Any]: ...

    @property
    def headache_day(self) -> npt.NDArray[Any]: ...

    @property
    def migraine_day(self) -> npt.NDArray[Any]: ...

    @property
    def observed(self) -> npt.NDArray[Any]: ...


def _fraction(min_observed_fraction: float | None) -> float:
    f = (
        headache_number("min_observed_fraction")
        if min_observed_fraction is None
        else float(min_observed_fraction)
    )
    if not 0.0 <= f <= 1.0:
        raise ValidationError("min_observed_fraction", f, "0–1")
    return f


def _events(events: npt.ArrayLike, observed: npt.ArrayLike) -> tuple[FloatArray, BoolArray]:
    x = np.asarray(events)
    if x.ndim != 2:
        raise ValidationError("events", f"shape {x.shape}", "a (patients, days) array")
    obs = np.asarray(observed, dtype=np.bool_)
    if obs.shape != x.shape:
        raise ValidationError("observed", f"shape {obs.shape}", f"the events' shape {x.shape}")
    xf = x.astype(np.float64)
    bad = obs & (~np.isfinite(xf) | (xf < 0))
    if np.any(bad):
        raise ValidationError("events", "negative or missing on an observed day", "counts ≥ 0")
    return np.where(obs, xf, 0.0), obs


@dataclass(frozen=True)
class WindowRate:
    """Events per ``per_days`` over the observed days of a window, per patient.

    Attributes
    ----------
    count
        ``(patients,)`` events (attacks, or days with the event) on the observed days.
    observed_days
        ``(patients,)`` observed days in the window.
    rate
        ``count / observed_days · per_days``; NaN with too few observed days.
    per_days
        The normalisation (7 per week, 28 or 30 per month).
    """

    count: FloatArray
    observed_days: FloatArray
    rate: FloatArray
    per_days: float


def window_rate(
    events: npt.ArrayLike,
    observed: npt.ArrayLike,
    days: slice,
    *,
    per_days: float,
    min_observed_fraction: float | None = None,
) -> WindowRate:
    """Per-patient rate of events over the observed days of a window.

    Parameters
    ----------
    events
        ``(patients, days)`` counts (attacks) or flags (migraine days); ignored on days that
        were not observed.
    observed
        ``(patients, days)`` diary entry made.
    days
        Window over the day axis (0-based, half-open).
    per_days
        Days per unit of the rate: 7 (per week), 28 or 30 (per month).
    min_observed_fraction
        Minimum share of the window's days observed (at least one day); default from
        ``headache_endpoints.yaml``.
    """
    if not per_days > 0:
        raise ValidationError("per_days", per_days, "a positive number of days")
    frac = _fraction(min_observed_fraction)
    x, obs = _events(events, observed)
    bx, bo = x[:, days], obs[:, days]
    length = bx.shape[1]
    if length == 0:
        raise ValidationError("days", days, "a window of at least one day")
    need = max(1, math.ceil(frac * length - 1e-12))
    count = bx.sum(axis=1)
    n_obs = bo.sum(axis=1).astype(np.float64)
    rate = np.where(n_obs >= need, count / np.maximum(n_obs, 1.0) * per_days, np.nan)
    return WindowRate(count, n_obs, rate, float(per_days))


@dataclass(frozen=True)
class FrequencyChange:
    """Change of an event rate from the baseline to the endpoint window, per patient.

    Attributes
    ----------
    baseline, endpoint
        The two windows' rates.
    change
        ``endpoint.rate − baseline.rate`` (negative is improvement), NaN where missing.
    change_pct
        ``100 · change / baseline.rate``; NaN where the baseline rate is 0 or missing.
    """

    baseline: WindowRate
    endpoint: WindowRate
    change: FloatArray
    change_pct: FloatArray

    def responders(
        self, threshold_pct: float | None = None, *, missing: MissingRule = "non_responder"
    ) -> Responders:
        """Patients whose rate fell by at least ``threshold_pct`` (default 50 %)."""
        t = headache_number("responder_pct") if threshold_pct is None else float(threshold_pct)
        return responders(self.change_pct, t, missing=missing)


def frequency_change(
    events: npt.ArrayLike,
    observed: npt.ArrayLike,
    baseline_days: slice,
    endpoint_days: slice,
    *,
    per_days: float,
    min_observed_fraction: float | None = None,
) -> FrequencyChange:
    """Change of the rate of ``events`` (see :func:`window_rate`) from baseline to endpoint."""
    base = window_rate(
        events, observed, baseline_days, per_days=per_days,
        min_observed_fraction=min_observed_fraction,
    )  # fmt: skip
    end = window_rate(
        events, observed, endpoint_days, per_days=per_days,
        min_observed_fraction=min_observed_fraction,
    )  # fmt: skip
    change = end.rate - base.rate
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(base.rate > 0, 100.0 * change / base.rate, np.nan)
    return FrequencyChange(base, end, change, pct)


def diary_frequency_change(
    diary: DiaryArrays,
    measure: Measure,
    baseline_days: slice,
    endpoint_days: slice,
    *,
    per_days: float | None = None,
    min_observed_fraction: float | None = None,
) -> FrequencyChange:
    """The prevention endpoint of an attack diary.

    Parameters
    ----------
    diary
        An ``AttackDiary`` (or anything with its ``(patients, days)`` fields).
    measure
        ``"attacks"`` (attacks per week, cluster headache), ``"migraine_days"`` (monthly
        migraine days) or ``"headache_days"`` (monthly headache days).
    baseline_days, endpoint_days
        Windows over the day axis.
    per_days
        Normalisation; default 7 for attacks, ``month_days`` (28) for days.
    min_observed_fraction
        See :func:`window_rate`.
    """
    if measure == "attacks":
        events: npt.NDArray[np.generic] = np.asarray(diary.attacks)
        default = headache_number("week_days")
    elif measure in ("migraine_days", "headache_days"):
        events = np.asarray(getattr(diary, measure[:-1]), dtype=np.bool_)
        default = headache_number("month_days")
    else:
        raise ValidationError("measure", measure, "attacks, migraine_days or headache_days")
    return frequency_change(
        events, diary.observed, baseline_days, endpoint_days,
        per_days=default if per_days is None else per_days,
        min_observed_fraction=min_observed_fraction,
    )  # fmt: skip


def _thresholds(thresholds: tuple[float, ...] | None) -> tuple[float, ...]:
    if thresholds is None:
        names = ("responder_moderate_pct", "responder_pct", "responder_complete_pct")
        return tuple(headache_number(n) for n in names)
    if not thresholds or any(not 0 < t <= 100 for t in thresholds):
        raise ValidationError("thresholds", thresholds, "percentages in (0, 100]")
    return tuple(float(t) for t in thresholds)


@dataclass(frozen=True)
class PreventionSummary:
    """One arm's prevention endpoints.

    Attributes
    ----------
    n
        Patients in the arm.
    baseline_rate, endpoint_rate, change
        Means over patients with a t interval (patients with a value).
    responders
        ``{threshold_pct: Responders}`` (≥ 30 %, ≥ 50 %, 100 % by default).
    """

    n: int
    baseline_rate: Interval
    endpoint_rate: Interval
    change: Interval
    responders: dict[float, Responders] = field(default_factory=dict)


def summarise_prevention(
    change: FrequencyChange,
    *,
    thresholds: tuple[float, ...] | None = None,
    missing: MissingRule = "non_responder",
    confidence: float = 0.95,
) -> PreventionSummary:
    """Summarise one arm's :class:`FrequencyChange`."""
    return PreventionSummary(
        n=int(change.change.size),
        baseline_rate=mean_ci(change.baseline.rate, confidence=confidence),
        endpoint_rate=mean_ci(change.endpoint.rate, confidence=confidence),
        change=mean_ci(change.change, confidence=confidence),
        responders={
            t: responders(change.change_pct, t, missing=missing) for t in _thresholds(thresholds)
        },
    )


def compare_changes(
    a: npt.ArrayLike, b: npt.ArrayLike, *, test: MeanTest = "welch", confidence: float = 0.95
) -> Comparison:
    """Difference a − b of per-patient values (NaN dropped) by ``test``: ``"welch"`` (Welch's
    t), ``"student"`` (pooled t) or ``"mann-whitney"`` (Hodges–Lehmann shift, U test)."""
    if test == "welch":
        return welch_difference(a, b, confidence=confidence)
    if test == "student":
        return student_difference(a, b, confidence=confidence)
    if test == "mann-whitney":
        return mann_whitney_difference(a, b, confidence=confidence)
    raise ValidationError("test", test, "welch, student or mann-whitney")


@dataclass(frozen=True)
class PreventionComparison:
    """Arm a against arm b on the prevention endpoints.

    Attributes
    ----------
    change
        Difference of the mean (or, Mann–Whitney, the location of the) change, a − b.
    responders
        ``{threshold_pct: Newcombe difference of responder shares}``.
    rate_ratio
        Negative-binomial rate ratio a / b of the endpoint window (None when not asked for, or
        when an arm has no event in the window: the ratio then has no finite estimate).
    """

    change: Comparison
    responders: dict[float, Comparison]
    rate_ratio: RateRatio | None


def compare_prevention(
    a: FrequencyChange,
    b: FrequencyChange,
    *,
    test: MeanTest = "welch",
    thresholds: tuple[float, ...] | None = None,
    missing: MissingRule = "non_responder",
    regression: bool = True,
    baseline_covariate: bool = True,
    confidence: float = 0.95,
) -> PreventionComparison:
    """Between-arm comparison (a − b, rate ratio a / b) of two arms' frequency changes.

    Parameters
    ----------
    a, b
        The arms' :class:`FrequencyChange` (same windows and ``per_days``).
    test
        Test of the change: ``"welch"``, ``"student"`` or ``"mann-whitney"``.
    thresholds
        Responder thresholds in percent (default 30, 50, 100).
    missing
        Responder rule for patients without a change.
    regression
        Fit the negative-binomial rate ratio of the endpoint-window counts.
    baseline_covariate
        Adjust the regression for ``log((baseline count + c) / baseline observed days)`` with
        ``c`` = ``baseline_log_continuity_count`` (0.5); patients without a baseline rate are
        then left out of the regression.
    confidence
        Level of every interval.
    """
    if a.endpoint.per_days != b.endpoint.per_days:
        raise ValidationError(
            "per_days", (a.endpoint.per_days, b.endpoint.per_days), "the same in both arms"
        )
    shares = {}
    for t in _thresholds(thresholds):
        ra = responders(a.change_pct, t, missing=missing)
        rb = responders(b.change_pct, t, missing=missing)
        if ra.n == 0 or rb.n == 0:
            nan = float("nan")
            shares[t] = Comparison(nan, nan, nan, nan, "none (empty arm)")
        else:
            shares[t] = newcombe_difference(ra.count, ra.n, rb.count, rb.n, confidence=confidence)
    rr = None
    if regression:
        c = headache_number("baseline_log_continuity_count")

        def parts(x: FrequencyChange) -> tuple[FloatArray, FloatArray, FloatArray]:
            ok = ~np.isnan(x.endpoint.rate)
            cov = np.full(ok.shape, np.nan)
            has_base = ~np.isnan(x.baseline.rate)
            cov[has_base] = np.log(
                (x.baseline.count[has_base] + c) / x.baseline.observed_days[has_base]
            )
            counts = np.where(ok, x.endpoint.count, np.nan)
            return counts, x.endpoint.observed_days, cov

        ya, ta, ca = parts(a)
        yb, tb, cb = parts(b)
        if np.nansum(ya) > 0 and np.nansum(yb) > 0:
            rr = rate_ratio(
                ya, ta, yb, tb,
                covariate_a=ca if baseline_covariate else None,
                covariate_b=cb if baseline_covariate else None,
                covariate_name="log_baseline_rate",
                confidence=confidence,
            )  # fmt: skip
        else:
            log.warning("no event in an arm's endpoint window: no negative-binomial rate ratio")
    return PreventionComparison(
        change=compare_changes(a.change, b.change, test=test, confidence=confidence),
        responders=shares,
        rate_ratio=rr,
    )
