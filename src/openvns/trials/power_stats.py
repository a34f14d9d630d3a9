"""The endpoint tests of :meth:`openvns.trials.runner.TrialResult.summary`, vectorised over
Monte-Carlo replicates.

Each function takes ``(replicates, patients)`` arrays and returns one value per replicate, equal
(to rounding: the sums are taken in another order) to what the per-trial function of
:mod:`openvns.analysis.statistics` gives for each replicate alone:

* :func:`welch_p` — :func:`~openvns.analysis.statistics.welch_difference` (NaN dropped; NaN
  p-value when a group has fewer than 2 values or both variances are 0).
* :func:`proportion_p` — :func:`~openvns.analysis.statistics.proportion_test` with
  ``method="auto"``: Pearson's chi-square without continuity correction, computed here in closed
  form ``N (ad − bc)² / (r₁ r₂ c₁ c₂)`` on 1 degree of freedom; the replicates whose 2×2 table
  has an expected count below 5 are passed to Fisher's exact test one by one (the same call as
  the summary's); a table with an empty row or column gives p = 1.

:func:`replicate_tests` applies them to every comparison (each other arm against the first) and
endpoint of a block of replicates; :func:`n_for_power` reads the sample size for a target power
off a curve.

Monte-Carlo error: a power estimated from ``R`` replicates with ``k`` rejections is
``p = k / R`` with standard error ``√(p (1 − p) / R)`` (:func:`mc_standard_error`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import stats  # type: ignore[import-untyped]

from openvns.analysis.headache_parameters import headache_number
from openvns.analysis.statistics import proportion_test
from openvns.patients.attack_parameters import headache_conditions
from openvns.trials.headache import default_measure

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

__all__ = [
    "ENDPOINT_LABELS",
    "NForPower",
    "PatientEndpoints",
    "endpoint_keys",
    "endpoint_label",
    "mc_standard_error",
    "n_for_power",
    "proportion_p",
    "replicate_tests",
    "welch_p",
]

#: Cochran's rule of :func:`~openvns.analysis.statistics.proportion_test`: Fisher's exact test
#: when an expected count of the 2×2 table is below this.
MIN_EXPECTED_COUNT = 5.0


def welch_p(a: npt.ArrayLike, b: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Welch's t test of ``mean(a) − mean(b)`` per row.

    Parameters
    ----------
    a, b
        ``(replicates, patients_a)`` and ``(replicates, patients_b)`` values; NaN is missing.

    Returns
    -------
    tuple of FloatArray
        ``(replicates,)`` differences of means and two-sided p-values (NaN where a group has
        fewer than 2 values, or both variances are 0).
    """
    xa, xb = np.atleast_2d(np.asarray(a, np.float64)), np.atleast_2d(np.asarray(b, np.float64))
    ma, va, na = _moments(xa)
    mb, vb, nb = _moments(xb)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = ma - mb
        sa, sb = va / na, vb / nb
        se2 = sa + sb
        df = se2**2 / (sa**2 / (na - 1) + sb**2 / (nb - 1))
        t = np.abs(d) / np.sqrt(se2)
        ok = (na >= 2) & (nb >= 2) & (se2 > 0)
        p = np.full(d.shape, np.nan)
        p[ok] = 2.0 * stats.t.sf(t[ok], df[ok])
    return d, p


def _moments(x: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per row: mean, sample variance (ddof 1) and count of the non-NaN values."""
    present = ~np.isnan(x)
    n = present.sum(axis=1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(present, x, 0.0).sum(axis=1) / n
        dev = np.where(present, x - mean[:, None], 0.0)
        var = (dev * dev).sum(axis=1) / (n - 1)
    return mean, var, n


def proportion_p(
    x1: npt.ArrayLike, n1: npt.ArrayLike, x2: npt.ArrayLike, n2: npt.ArrayLike
) -> FloatArray:
    """Two-sided test of ``x1/n1 == x2/n2`` per replicate, as ``proportion_test(method="auto")``.

    Parameters
    ----------
    x1, n1, x2, n2
        ``(replicates,)`` counts (responders) and group sizes.

    Returns
    -------
    FloatArray
        ``(replicates,)`` p-values; NaN where a group is empty (the summary makes no test).
    """
    a = np.asarray(x1, np.int64)
    r1 = np.asarray(n1, np.int64)
    c = np.asarray(x2, np.int64)
    r2 = np.asarray(n2, np.int64)
    b, d = r1 - a, r2 - c
    total = (r1 + r2).astype(np.float64)
    col1, col2 = a + c, b + d
    p = np.full(a.shape, np.nan)
    empty_group = (r1 == 0) | (r2 == 0)
    degenerate = ~empty_group & ((col1 == 0) | (col2 == 0))
    p[degenerate] = 1.0
    live = ~empty_group & ~degenerate
    with np.errstate(divide="ignore", invalid="ignore"):
        # the smallest expected count is (smallest row total)·(smallest column total) / N
        expected_min = np.minimum(r1, r2) * np.minimum(col1, col2) / total
        cross = (a * d - b * c).astype(np.float64)
        chi2 = total * cross**2 / (r1.astype(np.float64) * r2 * col1 * col2)
    fisher = live & (expected_min < MIN_EXPECTED_COUNT)
    chi = live & ~fisher
    p[chi] = stats.chi2.sf(chi2[chi], 1)
    for i in np.flatnonzero(fisher):
        p[i] = proportion_test(int(a[i]), int(r1[i]), int(c[i]), int(r2[i])).p_value
    return p


def mc_standard_error(power: npt.ArrayLike, replicates: int) -> FloatArray:
    """Monte-Carlo standard error ``√(p (1 − p) / R)`` of a power ``p`` from ``R`` replicates."""
    p = np.asarray(power, np.float64)
    return np.asarray(np.sqrt(p * (1.0 - p) / replicates), np.float64)


#: Responder thresholds of the pain endpoints (IMMPACT, as in the summary), percent.
PAIN_RESPONDER_PCT = (30.0, 50.0)

#: What each endpoint key means (the headache ones hold the condition's measure).
ENDPOINT_LABELS: dict[str, str] = {
    "change_NRS": "Δ NRS (Welch t)",
    "responders_30": "≥30 % responders (χ² / Fisher)",
    "responders_50": "≥50 % responders (χ² / Fisher)",
    "headache_change": "Δ {measure}, primary (Welch t)",
    "headache_responders_50": "≥50 % {measure} responders (χ² / Fisher)",
    "lost_response": "loss of response, run-in responders (χ² / Fisher)",
}


@dataclass(frozen=True)
class PatientEndpoints:
    """Per-patient blinded-phase endpoint values (arrays ``(patients,)``, or ``(R, patients)``).

    ``change_NRS`` and ``change_pct`` as :meth:`TrialResult.change`, ``headache_change`` and
    ``headache_pct`` as the headache prevention change (NaN arrays without a headache
    condition); ``eligible`` the inclusion criteria on the baseline diary;
    ``run_in_responder`` and ``lost_response`` a randomised-withdrawal design's run-in responders
    and those of them who lost the response
    (:func:`openvns.trials.power_withdrawal.withdrawal_flags`; all ``False`` without one).
    """

    eligible: BoolArray
    change_NRS: FloatArray
    change_pct: FloatArray
    headache_change: FloatArray
    headache_pct: FloatArray
    run_in_responder: BoolArray
    lost_response: BoolArray

    def reshape(self, replicates: int) -> PatientEndpoints:
        """The arrays as ``(replicates, patients per replicate)``."""
        return PatientEndpoints(
            **{k: getattr(self, k).reshape(replicates, -1) for k in self.__dataclass_fields__}
        )

    def take(self, n_patients: int) -> PatientEndpoints:
        """Each replicate's first ``n_patients``."""
        return PatientEndpoints(
            **{k: getattr(self, k)[..., :n_patients] for k in self.__dataclass_fields__}
        )


def endpoint_keys(condition: str) -> tuple[str, ...]:
    """The endpoints a power analysis of ``condition`` tests (headache ones for headache)."""
    pain = ("change_NRS", "responders_30", "responders_50")
    if condition in headache_conditions():
        return (*pain, "headache_change", "headache_responders_50")
    return pain


def endpoint_label(key: str, condition: str) -> str:
    """Readable name of endpoint ``key`` for ``condition``."""
    measure = default_measure(condition).replace("_", " ") if "headache" in key else ""
    return ENDPOINT_LABELS[key].format(measure=measure)


def replicate_tests(
    ep: PatientEndpoints, arms: IntArray, n_arms: int, condition: str
) -> dict[tuple[int, str], tuple[FloatArray, FloatArray]]:
    """Every comparison's endpoint tests, one per replicate (row).

    Parameters
    ----------
    ep
        ``(R, patients)`` endpoint values.
    arms
        ``(patients,)`` arm index of each column.
    n_arms
        Number of arms; each arm ``a ≥ 1`` is compared with arm 0 (arm 0 − arm ``a``).
    condition
        The condition (headache conditions add their endpoints).

    Returns
    -------
    dict
        ``{(a, endpoint): (estimates (R,), p-values (R,))}``; the estimate is the difference of
        means or of proportions (arm 0 − arm ``a``); NaN p-values where the summary has none.
    """
    eligible = np.atleast_2d(ep.eligible)
    responder = headache_number("responder_pct")
    out: dict[tuple[int, str], tuple[FloatArray, FloatArray]] = {}
    series: list[tuple[str, FloatArray, FloatArray, float | None]] = [
        ("change_NRS", ep.change_NRS, ep.change_pct, None),
        ("responders_30", ep.change_NRS, ep.change_pct, PAIN_RESPONDER_PCT[0]),
        ("responders_50", ep.change_NRS, ep.change_pct, PAIN_RESPONDER_PCT[1]),
    ]
    if condition in headache_conditions():
        series += [
            ("headache_change", ep.headache_change, ep.headache_pct, None),
            ("headache_responders_50", ep.headache_change, ep.headache_pct, responder),
        ]
    ref = arms == 0
    for a in range(1, n_arms):
        other = arms == a
        for key, change, pct, threshold in series:
            change, pct = np.atleast_2d(change), np.atleast_2d(pct)
            if threshold is None:
                values = np.where(eligible, change, np.nan)
                out[a, key] = welch_p(values[:, ref], values[:, other])
                continue
            present = ~np.isnan(pct)
            resp = eligible & present & (np.where(present, pct, 0.0) <= -threshold + 1e-9)
            x1, x2 = resp[:, ref].sum(axis=1), resp[:, other].sum(axis=1)
            n1, n2 = eligible[:, ref].sum(axis=1), eligible[:, other].sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                est = x1 / n1 - x2 / n2
            out[a, key] = (np.asarray(est, np.float64), proportion_p(x1, n1, x2, n2))
    return out


@dataclass(frozen=True)
class NForPower:
    """Patients per arm for a target power, read off a power curve.

    ``bound`` is ``"interpolated"`` (linear between the two sizes around the first crossing,
    rounded up), ``"at_most"`` (the smallest size already reaches it: ``n_per_arm`` is that
    size) or ``"above"`` (no size reaches it: ``n_per_arm`` is ``None``).
    """

    target: float
    n_per_arm: int | None
    bound: Literal["interpolated", "at_most", "above"]
    largest_size: int

    def text(self) -> str:
        """``"≈ 312"``, ``"≤ 50"`` or ``"> 400"``."""
        if self.bound == "above":
            return f"> {self.largest_size}"
        return f"≤ {self.n_per_arm}" if self.bound == "at_most" else f"≈ {self.n_per_arm}"


def n_for_power(sizes: Sequence[int], power: npt.ArrayLike, target: float) -> NForPower:
    """The ``n`` per arm at which ``power`` (per size, ascending sizes) first reaches ``target``,
    linearly interpolated between the sizes on either side of the first crossing."""
    n = np.asarray(sizes, np.float64)
    p = np.asarray(power, np.float64)
    largest = int(n[-1])
    reached = np.flatnonzero(p >= target)
    if reached.size == 0:
        return NForPower(target, None, "above", largest)
    i = int(reached[0])
    if i == 0:
        return NForPower(target, int(n[0]), "at_most", largest)
    frac = (target - p[i - 1]) / (p[i] - p[i - 1])
    return NForPower(
        target, math.ceil(n[i - 1] + frac * (n[i] - n[i - 1]) - 1e-9), "interpolated", largest
    )
