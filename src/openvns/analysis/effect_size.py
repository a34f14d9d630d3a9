"""Standardised effect size and number needed to treat, with confidence intervals.

* :func:`hedges_g` — Hedges' g of ``a − b`` (Cohen's d on the pooled SD times the exact
  small-sample correction ``J(ν)``) with either the exact noncentral-t interval for the
  population standardised difference δ (default) or Hedges & Olkin's normal approximation.
* :func:`hedges_correction` — ``J(ν) = Γ(ν/2) / (√(ν/2) · Γ((ν − 1)/2))`` (Hedges 1981).
* :func:`number_needed_to_treat` — ``1 / risk difference`` of a
  :class:`~openvns.analysis.statistics.Comparison` of two proportions (e.g. Newcombe's hybrid
  score interval, :func:`~openvns.analysis.statistics.newcombe_difference`), the interval by
  inverting the difference's limits, written with Altman's convention when the difference's
  interval includes 0.

References: Hedges LV (1981) *J Educ Stat* 6:107; Hedges LV & Olkin I (1985) *Statistical
methods for meta-analysis*, ch. 5; Borenstein M et al. (2009) *Introduction to meta-analysis*,
ch. 4 (worked example); Steiger JH & Fouladi RT (1997) noncentrality interval estimation, in
*What if there were no significance tests?*; Altman DG (1998) *BMJ* 317:1309 (NNT intervals).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import optimize, special, stats  # type: ignore[import-untyped]

from openvns.analysis.statistics import Comparison

__all__ = [
    "EffectSize",
    "GMethod",
    "NumberNeededToTreat",
    "hedges_correction",
    "hedges_g",
    "number_needed_to_treat",
]

GMethod = Literal["noncentral-t", "normal"]

#: Method names as reported on an :class:`EffectSize`.
_METHOD_NAMES = {
    "noncentral-t": "noncentral t (exact interval for δ)",
    "normal": "normal approximation (Hedges & Olkin)",
}


def hedges_correction(df: float) -> float:
    """Small-sample bias correction ``J(ν)`` of Cohen's d (Hedges 1981, exact gamma form).

    ``J(ν) = Γ(ν/2) / (√(ν/2) · Γ((ν − 1)/2))``, computed on the log scale; ``1 − 3/(4ν − 1)``
    is its usual approximation. NaN for ``ν ≤ 1``; increases to 1 as ``ν → ∞``.
    """
    if not df > 1.0:
        return float("nan")
    log_j = special.gammaln(df / 2.0) - 0.5 * math.log(df / 2.0) - special.gammaln((df - 1) / 2.0)
    return float(math.exp(log_j))


@dataclass(frozen=True)
class EffectSize:
    """Hedges' g of group a minus group b with its confidence interval.

    Attributes
    ----------
    estimate
        Hedges' g (dimensionless; the difference in pooled standard deviations), NaN where
        undefined (fewer than 2 values in a group, or no spread).
    lower, upper
        Confidence interval: for ``"noncentral-t"`` the exact interval for the population δ
        (assumes normal data with equal variances), for ``"normal"`` ``g ± z · J · se(d)``.
    cohen_d
        The uncorrected standardised difference ``(mean_a − mean_b) / s_pooled``.
    n_a, n_b
        Values used (NaN dropped).
    method
        The interval's method.
    """

    estimate: float
    lower: float
    upper: float
    cohen_d: float
    n_a: int
    n_b: int
    method: str


def _nct_limit(t_obs: float, df: float, target: float) -> float:
    """The noncentrality ``λ`` with ``P(T_ν,λ ≤ t_obs) = target`` (decreasing in ``λ``).

    scipy's noncentral-t CDF is NaN far in its tails; there it is 1 (``λ`` well below
    ``t_obs``) or 0 (well above), so the bracket, grown outward from ``t_obs``, stays valid.
    """

    def f(ncp: float) -> float:
        p = float(stats.nct.cdf(t_obs, df, ncp))
        if math.isnan(p):
            p = 1.0 if ncp < t_obs else 0.0
        return p - target

    step = 1.0
    lo, hi = t_obs - step, t_obs + step
    while f(lo) < 0.0:
        step *= 2.0
        lo = t_obs - step
    step = 1.0
    while f(hi) > 0.0:
        step *= 2.0
        hi = t_obs + step
    return float(optimize.brentq(f, lo, hi, xtol=1e-12, rtol=1e-12))


def hedges_g(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    confidence: float = 0.95,
    method: GMethod = "noncentral-t",
) -> EffectSize:
    """Hedges' g of ``a − b`` with a confidence interval.

    ``d = (mean_a − mean_b) / s_p`` with the pooled SD ``s_p² = ((n_a−1)s_a² + (n_b−1)s_b²) / ν``,
    ``ν = n_a + n_b − 2``, and ``g = J(ν) · d`` (:func:`hedges_correction`).

    Parameters
    ----------
    a, b
        One-dimensional samples (any unit, e.g. change of NRS); NaN entries are dropped.
    confidence
        Two-sided confidence level.
    method
        ``"noncentral-t"``: ``t = d · √(n_a n_b / (n_a + n_b))`` follows a noncentral t with ``ν``
        degrees of freedom and noncentrality ``δ · √(n_a n_b / (n_a + n_b))``; the limits are the
        noncentralities that put ``t`` at the upper and lower ``(1 − confidence)/2`` tails,
        rescaled to δ (Steiger & Fouladi 1997): an exact interval for δ under normality.
        ``"normal"``: ``g ± z · se`` with Hedges & Olkin's large-sample variance of d,
        ``V_d = (n_a + n_b)/(n_a n_b) + d²/(2(n_a + n_b))``, and ``se² = J² · V_d``
        (Borenstein 2009, eqs. 4.20 and 4.24).

    Returns
    -------
    EffectSize
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence {confidence} must lie strictly between 0 and 1")
    if method not in _METHOD_NAMES:
        raise ValueError(f"method {method!r} must be 'noncentral-t' or 'normal'")
    xa = np.asarray(a, dtype=np.float64).ravel()
    xb = np.asarray(b, dtype=np.float64).ravel()
    xa, xb = xa[~np.isnan(xa)], xb[~np.isnan(xb)]
    na, nb = int(xa.size), int(xb.size)
    nan = float("nan")
    name = _METHOD_NAMES[method]
    df = na + nb - 2
    if na < 2 or nb < 2:
        return EffectSize(nan, nan, nan, nan, na, nb, name)
    ss = float(((xa - xa.mean()) ** 2).sum() + ((xb - xb.mean()) ** 2).sum())
    if not ss > 0.0:
        return EffectSize(nan, nan, nan, nan, na, nb, name)
    d = float(xa.mean() - xb.mean()) / math.sqrt(ss / df)
    j = hedges_correction(df)
    g = j * d
    alpha = 1.0 - confidence
    if method == "normal":
        se = j * math.sqrt((na + nb) / (na * nb) + d**2 / (2.0 * (na + nb)))
        z = float(stats.norm.ppf(1.0 - alpha / 2.0))
        return EffectSize(g, g - z * se, g + z * se, d, na, nb, name)
    scale = math.sqrt(na * nb / (na + nb))
    t_obs = d * scale
    lower = _nct_limit(t_obs, df, 1.0 - alpha / 2.0) / scale
    upper = _nct_limit(t_obs, df, alpha / 2.0) / scale
    return EffectSize(g, lower, upper, d, na, nb, name)


@dataclass(frozen=True)
class NumberNeededToTreat:
    """Number needed to treat from a risk difference ``p_a − p_b`` of a beneficial outcome.

    A positive difference favours group a: ``1/difference`` patients treated as in a rather than
    as in b give one more responder (NNT to benefit, NNTB); a negative one favours b (NNT to
    harm, NNTH, ``1/|difference|``). Values are signed: positive NNTB, negative NNTH, ``±∞``
    where the difference is 0.

    Attributes
    ----------
    risk_difference
        The difference of proportions with its interval ``[L, U]`` and p-value.
    estimate
        ``1 / difference`` (signed, patients).
    at_upper, at_lower
        ``1/U`` and ``1/L`` (signed, patients; ``±∞`` at a limit of 0). When ``L > 0`` the
        interval is NNTB ``1/U`` to ``1/L``; when ``U < 0`` NNTH ``1/|L|`` to ``1/|U|``;
        otherwise it includes infinity: NNTB ``1/U`` to ∞ to NNTH ``1/|L|`` (Altman 1998).
    """

    risk_difference: Comparison
    estimate: float
    at_upper: float
    at_lower: float

    @property
    def includes_infinity(self) -> bool:
        """True when the difference's interval includes 0 (the NNT's includes ∞)."""
        return bool(self.risk_difference.lower <= 0.0 <= self.risk_difference.upper)

    @property
    def defined(self) -> bool:
        """False where the difference or its interval is NaN (an empty arm)."""
        rd = self.risk_difference
        return all(math.isfinite(v) for v in (rd.estimate, rd.lower, rd.upper))

    def describe(self, digits: int = 1) -> str:
        """Altman's text, e.g. ``NNTB 5.0 (3.0 to 19.1)`` or
        ``NNTB 11.2 (NNTH 26.2 to ∞ to NNTB 5.2)``; ``—`` where undefined."""
        if not self.defined:
            return "—"
        point = _nnt_text(self.estimate, digits)
        if not self.includes_infinity:
            lo, hi = sorted((abs(self.at_upper), abs(self.at_lower)))
            return f"{point} ({lo:.{digits}f} to {hi:.{digits}f})"
        harm, benefit = self.at_lower, self.at_upper
        if math.isfinite(harm) and math.isfinite(benefit):
            span = f"{_nnt_text(harm, digits)} to ∞ to {_nnt_text(benefit, digits)}"
        elif math.isfinite(benefit) or math.isfinite(harm):  # a limit of exactly 0
            span = f"{_nnt_text(benefit if math.isfinite(benefit) else harm, digits)} to ∞"
        else:
            span = "∞"
        return f"{point} ({span})"


def _nnt_text(value: float, digits: int) -> str:
    if not math.isfinite(value):
        return "NNT ∞"
    return f"{'NNTB' if value > 0 else 'NNTH'} {abs(value):.{digits}f}"


def _reciprocal(x: float) -> float:
    if math.isnan(x):
        return float("nan")
    if x == 0.0:
        return math.copysign(math.inf, x)
    return 1.0 / x


def number_needed_to_treat(risk_difference: Comparison) -> NumberNeededToTreat:
    """NNT and its interval from a difference of proportions ``p_a − p_b`` and its interval.

    Parameters
    ----------
    risk_difference
        E.g. :func:`~openvns.analysis.statistics.newcombe_difference` of responders (a beneficial
        outcome): the estimate and limits are proportions (−1 … 1).

    Returns
    -------
    NumberNeededToTreat
        ``1/d``, ``1/U`` and ``1/L`` (Altman 1998: the limits of the NNT are the reciprocals of
        the difference's limits; see :meth:`NumberNeededToTreat.describe`). A limit of exactly 0
        maps to ``+∞`` at the upper limit and ``−∞`` at the lower.
    """
    rd = risk_difference
    if rd.lower > rd.upper:
        raise ValueError(f"risk difference interval [{rd.lower}, {rd.upper}] is reversed")
    at_upper = math.inf if rd.upper == 0.0 else _reciprocal(rd.upper)
    at_lower = -math.inf if rd.lower == 0.0 else _reciprocal(rd.lower)
    return NumberNeededToTreat(rd, _reciprocal(rd.estimate), at_upper, at_lower)
