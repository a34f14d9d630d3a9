"""The analysis of an AB/BA crossover trial: each patient's endpoint per period, Hills–Armitage.

A crossover design (:class:`~openvns.trials.design.Crossover`) gives each patient both arms'
protocols, one per period, with a washout between them. Sequence AB is the patients allocated to
the first arm (``A``, its protocol in period 1), sequence BA those of the second (``B`` first).

Each patient's value in a period is read over the last ``window_days`` of the period (the
period's own days, never the washout):

* ``"pain"`` (non-headache conditions): the mean of the observed daily NRS entries
  (:func:`openvns.analysis.endpoints.window_mean_NRS`; missing with fewer than half of the
  window's days observed); the default window is the last :data:`~openvns.analysis.endpoints.
  ENDPOINT_WINDOW_DAYS` (28) days of the period, the parallel trial's endpoint window, or the
  whole period if it is shorter;
* ``"attacks"``, ``"migraine_days"``, ``"headache_days"`` (headache conditions): the rate over
  the observed days of the window (:func:`openvns.analysis.headache.window_rate`: attacks per
  week, days per 28 days); default windows as the prevention endpoints (14 days for attacks, 28
  for days, or the whole period if shorter).

:func:`crossover_summary` applies :func:`openvns.analysis.crossover.hills_armitage` (treatment
``A − B`` within patients, period 1 − period 2, carry-over on the patient totals, the first
period alone as a parallel comparison) and adds the mean of every sequence and period. Patients
are the eligible ones unless ``eligible_only=False``; a patient missing either period's value is
left out of the analysis (counted in ``n_excluded``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from openvns.analysis.crossover import CrossoverAnalysis, hills_armitage
from openvns.analysis.endpoints import ENDPOINT_WINDOW_DAYS, window_mean_NRS
from openvns.analysis.headache import window_rate
from openvns.analysis.headache_parameters import headache_number
from openvns.analysis.statistics import Interval, mean_ci
from openvns.errors import ValidationError
from openvns.trials.headache import default_measure

if TYPE_CHECKING:
    from openvns.trials.runner import TrialResult

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
CrossoverEndpoint = Literal["pain", "attacks", "migraine_days", "headache_days"]

__all__ = [
    "CROSSOVER_ENDPOINTS",
    "CrossoverEndpoint",
    "CrossoverPeriods",
    "CrossoverSummary",
    "crossover_periods",
    "crossover_summary",
    "endpoint_unit",
]

#: Endpoints a crossover can be analysed on.
CROSSOVER_ENDPOINTS: tuple[str, ...] = ("pain", "attacks", "migraine_days", "headache_days")


def endpoint_unit(endpoint: str) -> str:
    """The unit of a crossover endpoint's per-period value, in words."""
    units = {
        "pain": "mean NRS (0–10)",
        "attacks": "attacks per week",
        "migraine_days": "migraine days per 28 days",
        "headache_days": "headache days per 28 days",
    }
    if endpoint not in units:
        raise ValidationError("endpoint", endpoint, "one of " + ", ".join(CROSSOVER_ENDPOINTS))
    return units[endpoint]


@dataclass(frozen=True)
class CrossoverPeriods:
    """Each analysed patient's endpoint in both periods of a crossover.

    Attributes
    ----------
    endpoint, unit
        What the values are (:data:`CROSSOVER_ENDPOINTS`) and their unit in words.
    treatments
        ``(A, B)``: the first and second arm's names; sequence AB had A in period 1.
    windows
        Day windows (0-based from the first baseline day, half-open) of periods 1 and 2.
    period1, period2
        ``(patients,)`` values, NaN where missing (too few observed days, dropout).
    sequence_ab
        ``(patients,)`` True for sequence AB.
    patient_index
        The patients' indices (names ``condition#index``).
    """

    endpoint: str
    unit: str
    treatments: tuple[str, str]
    windows: tuple[slice, slice]
    period1: FloatArray
    period2: FloatArray
    sequence_ab: BoolArray
    patient_index: IntArray

    @property
    def sequences(self) -> tuple[str, str]:
        """Labels of sequences AB and BA (``"A → B"``)."""
        a, b = self.treatments
        return f"{a} → {b}", f"{b} → {a}"

    def cell_means(self, *, confidence: float = 0.95) -> dict[tuple[str, int], Interval]:
        """``{(sequence label, period 1 or 2): mean with t interval}`` over the patients with
        both periods' values (the patients the analysis uses)."""
        complete = ~np.isnan(self.period1) & ~np.isnan(self.period2)
        out: dict[tuple[str, int], Interval] = {}
        for label, in_seq in zip(
            self.sequences, (self.sequence_ab, ~self.sequence_ab), strict=True
        ):
            sel = complete & in_seq
            for period, values in ((1, self.period1), (2, self.period2)):
                out[(label, period)] = mean_ci(values[sel], confidence=confidence)
        return out

    def treatment_values(self) -> tuple[FloatArray, FloatArray]:
        """``(on A, on B)``: each patient's value under each treatment (whichever period)."""
        on_a = np.where(self.sequence_ab, self.period1, self.period2)
        on_b = np.where(self.sequence_ab, self.period2, self.period1)
        return on_a, on_b


@dataclass(frozen=True)
class CrossoverSummary:
    """The per-period values of a crossover trial and their Hills–Armitage analysis."""

    periods: CrossoverPeriods
    analysis: CrossoverAnalysis


def _window(start: int, end: int, window_days: int, key: str) -> slice:
    length = end - start
    if not 1 <= window_days <= length:
        raise ValidationError(key, window_days, f"1 to {length} (the period's days)")
    return slice(end - window_days, end)


def crossover_periods(
    result: TrialResult,
    *,
    endpoint: CrossoverEndpoint | None = None,
    window_days: int | None = None,
    eligible_only: bool = True,
) -> CrossoverPeriods:
    """Each patient's ``endpoint`` over the last ``window_days`` of each period.

    Parameters
    ----------
    result
        A trial of a crossover design.
    endpoint
        ``"pain"`` (default for non-headache conditions), or a headache measure (default: the
        condition's, :func:`openvns.trials.headache.default_measure`).
    window_days
        Days at the end of each period that the value is read over (defaults in the module
        docstring); at most the period's length.
    eligible_only
        Only the patients who met the inclusion criteria.
    """
    d = result.design
    if d.crossover is None:
        raise ValidationError("trial.crossover", None, "a crossover design (AB/BA)")
    headache = result.attacks is not None
    e: str = endpoint if endpoint is not None else "pain"
    if endpoint is None and headache:
        e = default_measure(result.condition)
    unit = endpoint_unit(e)
    if e != "pain" and not headache:
        raise ValidationError(
            "endpoint", e, f"pain (the condition {result.condition} has no attack diary)"
        )
    p = d.crossover.period_days
    if window_days is None:
        default = {"pain": ENDPOINT_WINDOW_DAYS, "attacks": 14}.get(e, 28)
        window_days = min(default, p)
    (s1, e1), (s2, e2) = d.crossover.periods()
    base = d.baseline_days
    windows = (
        _window(base + s1, base + e1, window_days, "window_days"),
        _window(base + s2, base + e2, window_days, "window_days"),
    )
    sel = result.eligible if eligible_only else np.ones(result.n_patients, dtype=bool)
    values = []
    for w in windows:
        if e == "pain":
            v = window_mean_NRS(result.nrs[sel].astype(np.float64), result.observed[sel], w)
        else:
            assert result.attacks is not None
            a = result.attacks
            if e == "attacks":
                events: npt.NDArray[np.generic] = np.asarray(a.attacks)[sel]
                per = headache_number("week_days")
            else:
                events = np.asarray(getattr(a, e[:-1]), dtype=np.bool_)[sel]
                per = headache_number("month_days")
            v = window_rate(events, np.asarray(a.observed)[sel], w, per_days=per).rate
        values.append(np.asarray(v, dtype=np.float64))
    return CrossoverPeriods(
        endpoint=e,
        unit=unit,
        treatments=(result.arm_names[0], result.arm_names[1]),
        windows=windows,
        period1=values[0],
        period2=values[1],
        sequence_ab=np.asarray(result.arm[sel] == 0, dtype=np.bool_),
        patient_index=result.patient_index[sel].astype(np.int64),
    )


def crossover_summary(
    result: TrialResult,
    *,
    endpoint: CrossoverEndpoint | None = None,
    window_days: int | None = None,
    eligible_only: bool = True,
    equal_var: bool = True,
    confidence: float = 0.95,
) -> CrossoverSummary:
    """The Hills–Armitage analysis of a crossover trial's per-period values.

    Parameters are those of :func:`crossover_periods` and of
    :func:`openvns.analysis.crossover.hills_armitage` (``equal_var``, ``confidence``).

    Raises
    ------
    ValidationError
        For a parallel design, or when a sequence has no patient with both periods' values
        (``hills_armitage`` needs one per sequence and three in all).
    """
    periods = crossover_periods(
        result, endpoint=endpoint, window_days=window_days, eligible_only=eligible_only
    )
    analysis = hills_armitage(
        periods.period1,
        periods.period2,
        periods.sequence_ab,
        equal_var=equal_var,
        confidence=confidence,
    )
    return CrossoverSummary(periods, analysis)
