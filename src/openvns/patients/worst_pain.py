"""The daily WORST pain as a diary item beside the usual (average) pain.

Functional abdominal pain trials (Kovacic et al. 2017) rate each day's worst abdominal pain as
well as the usual pain. The worst pain of patient ``i`` on day ``d`` lies above that day's
usual-pain report ``y`` (the diary's report before rounding, on ``(−0.5, 10.5)``) on the logit
scale of the bounded report (parameters and sources: ``data/worst_pain.yaml``, registry sets
``worst_pain/<condition>``)::

    q            = (y + 0.5) / 11
    logit(q_w)   = logit(q) + δ_i · exp(omega_day · z_i(d))
    δ_i          = excess_logit · exp(omega_between · z_i)
    worst NRS    = round(11 · q_w − 0.5)  ∈ 0 … 10

So the worst pain is never below the usual pain (rounding keeps the order), stays on the scale
without a pile of clipped values, and falls when a treatment or the expectation lowers the usual
pain (by less near the ceiling). Missing days are the usual diary's. Patient ``i`` draws from
``rng_for(root_seed, "worst_pain", condition, i)``: one normal, then one per day in day order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict
from scipy.special import expit, logit  # type: ignore[import-untyped]

from openvns.errors import ValidationError
from openvns.parameters import available, load_set
from openvns.parameters.constraints import NON_NEGATIVE, POSITIVE
from openvns.patients.cohort import Cohort
from openvns.patients.diary import Diary
from openvns.random import rngs_for

__all__ = [
    "WorstPainDiary",
    "WorstPainParameters",
    "load_worst_pain_parameters",
    "worst_pain",
    "worst_pain_conditions",
]

FloatArray = NDArray[np.float64]
_PREFIX = "worst_pain/"
_EDGE = 0.5
_SPAN = 11.0
_GUARD = 1e-6


class WorstPainParameters(BaseModel):
    """How far a condition's worst pain lies above its usual pain (``data/worst_pain.yaml``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    excess_logit: float = POSITIVE
    omega_between: float = NON_NEGATIVE
    omega_day: float = NON_NEGATIVE


@dataclass(frozen=True)
class WorstPainDiary:
    """The daily worst pain, arrays ``(days, patients)`` like :class:`~openvns.patients.Diary`.

    Attributes
    ----------
    nrs
        Worst pain, integers 0–10, never below the same day's usual-pain entry.
    P_true_NRS
        The worst-pain report before rounding, on ``(−0.5, 10.5)``.
    observed
        Whether the entry was made (the usual diary's).
    """

    nrs: NDArray[np.int8]
    P_true_NRS: FloatArray
    observed: NDArray[np.bool_]

    def nrs_or_nan(self) -> FloatArray:
        """Worst pain as floats with NaN where the entry is missing."""
        return np.where(self.observed, self.nrs.astype(np.float64), np.nan)


def worst_pain_conditions() -> tuple[str, ...]:
    """Conditions that have a worst-pain item (``functional_abdominal_pain``)."""
    return tuple(n.removeprefix(_PREFIX) for n in available() if n.startswith(_PREFIX))


@lru_cache(maxsize=8)
def load_worst_pain_parameters(condition: str) -> WorstPainParameters:
    """The shipped worst-pain parameters of ``condition`` (errors list the conditions that have
    them)."""
    names = worst_pain_conditions()
    if condition not in names:
        raise ValidationError("condition", condition, "one of " + ", ".join(names))
    return WorstPainParameters.model_validate(load_set(_PREFIX + condition).values())


def _draws(cohort: Cohort, days: int, root_seed: int) -> tuple[FloatArray, FloatArray]:
    patient = np.empty(cohort.n)
    daily = np.empty((cohort.n, days))
    gens = rngs_for(root_seed, ("worst_pain", cohort.condition.name), cohort.indices)
    for row, rng in enumerate(gens):
        patient[row] = rng.standard_normal()
        daily[row] = rng.standard_normal(days)
    return patient, daily


def worst_pain(
    cohort: Cohort,
    diary: Diary,
    root_seed: int,
    *,
    params: WorstPainParameters | None = None,
) -> WorstPainDiary:
    """The daily worst pain of every patient, from the usual-pain diary and the patient's traits.

    Parameters
    ----------
    cohort
        The patients whose usual-pain ``diary`` this is (condition and indices name the streams).
    diary
        Their usual-pain diary (:func:`~openvns.patients.simulate_diary`, ``(days, patients)``).
    root_seed
        Root seed; patient ``i`` uses ``rng_for(root_seed, "worst_pain", condition, i)``.
    params
        Worst-pain parameters (default: the shipped set of the cohort's condition).
    """
    p = load_worst_pain_parameters(cohort.condition.name) if params is None else params
    y = np.asarray(diary.P_true_NRS, dtype=np.float64)
    if y.ndim != 2 or y.shape[1] != cohort.n:
        raise ValidationError("diary", y.shape, f"a diary of (days, patients = {cohort.n})")
    days = y.shape[0]
    z_patient, z_day = _draws(cohort, days, root_seed)
    delta = p.excess_logit * np.exp(p.omega_between * z_patient)
    excess = delta[None, :] * np.exp(p.omega_day * z_day.T)
    q = np.clip((y + _EDGE) / _SPAN, _GUARD, 1.0 - _GUARD)
    worst = _SPAN * expit(logit(q) + excess) - _EDGE
    nrs = np.clip(np.round(worst), 0, 10).astype(np.int8)
    return WorstPainDiary(nrs=nrs, P_true_NRS=worst, observed=diary.observed.copy())
