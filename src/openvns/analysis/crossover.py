"""The two-period, two-treatment (AB/BA) crossover trial with a washout, continuous endpoint.

Each patient has one value per period (e.g. the monthly migraine days of each treatment
period, :func:`openvns.analysis.headache.window_rate` over each period's days) and belongs to
sequence AB (treatment A in period 1) or BA. Under the model ``y = μ + π_period + τ_treatment
(+ λ carry-over of the period-1 treatment into period 2) + patient + error`` the analysis of
Hills & Armitage (1979, *Br J Clin Pharmacol* 8:7–20; Grizzle 1965, *Biometrics* 21:467) is
three two-sample t tests:

* **treatment effect** ``τ_A − τ_B``: half the period differences ``d = y₁ − y₂`` compared
  between sequences, ``(d̄_AB − d̄_BA)/2``, with the pooled-variance t interval on
  ``n_AB + n_BA − 2`` degrees of freedom (free of the period effect);
* **period effect** ``π₁ − π₂``: ``(d̄_AB + d̄_BA)/2`` with the same standard error;
* **carry-over** ``λ_A − λ_B``: the patient totals ``y₁ + y₂`` compared between sequences (a
  test of low power: the totals carry the between-patient variance).

The comparison of the first period alone (a parallel-group trial, A − B) is reported as well.
Grizzle's two-stage procedure — test carry-over, then use the first period only — is *not*
applied: it inflates the type I error (Freeman 1989, *Stat Med* 8:1421); the carry-over test
is reported for inspection, and a washout long enough that there is none is the design's job.

Patients with a missing (NaN) value in either period are left out (``n_excluded``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from openvns.analysis.statistics import Comparison, student_difference, welch_difference
from openvns.errors import ValidationError

FloatArray = npt.NDArray[np.float64]

__all__ = ["CrossoverAnalysis", "hills_armitage"]


@dataclass(frozen=True)
class CrossoverAnalysis:
    """Result of :func:`hills_armitage`.

    Attributes
    ----------
    treatment
        ``τ_A − τ_B`` within patients, with interval and p-value.
    period
        ``π₁ − π₂`` (period 1 minus period 2).
    carryover
        ``λ_A − λ_B`` from the patient totals.
    first_period
        A − B on the first-period values only (parallel groups).
    n_ab, n_ba
        Patients analysed per sequence.
    n_excluded
        Patients left out for a missing period value.
    """

    treatment: Comparison
    period: Comparison
    carryover: Comparison
    first_period: Comparison
    n_ab: int
    n_ba: int
    n_excluded: int


def hills_armitage(
    period1: npt.ArrayLike,
    period2: npt.ArrayLike,
    sequence_ab: npt.ArrayLike,
    *,
    equal_var: bool = True,
    confidence: float = 0.95,
) -> CrossoverAnalysis:
    """Hills–Armitage analysis of an AB/BA crossover trial.

    Parameters
    ----------
    period1, period2
        ``(patients,)`` the endpoint in each period (NaN = missing).
    sequence_ab
        ``(patients,)`` True for sequence AB (A first), False for BA.
    equal_var
        Pooled-variance t (Hills–Armitage, default) or Welch's t for every comparison.
    confidence
        Two-sided level of the intervals.

    Returns
    -------
    CrossoverAnalysis
    """
    y1 = np.asarray(period1, dtype=np.float64).ravel()
    y2 = np.asarray(period2, dtype=np.float64).ravel()
    seq = np.asarray(sequence_ab).ravel()
    if not (y1.shape == y2.shape == seq.shape):
        raise ValidationError(
            "period2", f"shapes {y1.shape}, {y2.shape}, {seq.shape}", "one value per patient"
        )
    if seq.dtype != np.bool_:
        raise ValidationError("sequence_ab", seq.dtype, "booleans (True = sequence AB)")
    ok = ~np.isnan(y1) & ~np.isnan(y2)
    ab, ba = ok & seq, ok & ~seq
    if ab.sum() < 1 or ba.sum() < 1 or ab.sum() + ba.sum() < 3:
        raise ValidationError(
            "sequence_ab",
            f"{int(ab.sum())} AB and {int(ba.sum())} BA complete patients",
            "at least one per sequence and three in all",
        )
    diff = student_difference if equal_var else welch_difference
    d = y1 - y2
    total = y1 + y2
    return CrossoverAnalysis(
        treatment=diff(d[ab] / 2.0, d[ba] / 2.0, confidence=confidence),
        period=diff(d[ab] / 2.0, -d[ba] / 2.0, confidence=confidence),
        carryover=diff(total[ab], total[ba], confidence=confidence),
        first_period=diff(y1[ab], y1[ba], confidence=confidence),
        n_ab=int(ab.sum()),
        n_ba=int(ba.sum()),
        n_excluded=int((~ok).sum()),
    )
