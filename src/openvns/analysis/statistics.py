"""Small, exact-where-possible statistics for trial endpoints, vectorised where it helps.

All intervals are two-sided at ``confidence`` (0.95 by default).

* :func:`mean_ci` — sample mean with a Student-t interval (NaN entries ignored).
* :func:`welch_difference` — difference of two means, Welch–Satterthwaite t interval and p-value.
* :func:`student_difference` — difference of two means, pooled-variance (Student) t interval.
* :func:`mann_whitney_difference` — Mann–Whitney U test with the Hodges–Lehmann shift and its
  distribution-free interval (Bauer 1972, normal approximation).
* :func:`wilson_ci` — a proportion with the Wilson score interval (vectorised over counts).
* :func:`newcombe_difference` — difference of two proportions with Newcombe's hybrid score
  interval (Newcombe 1998, *Stat Med* 17:873, method 10).
* :func:`proportion_test` — two-sided test of two proportions: by default Fisher's exact test
  when any expected cell count of the 2×2 table is below 5, otherwise Pearson's chi-square
  without continuity correction; either test can be asked for.
* :func:`kaplan_meier` — Kaplan–Meier survival estimate with Greenwood standard errors and a
  plain (``"linear"``, clipped to 0–1) or ``"log-log"`` interval.
* :func:`logrank_test` — two-sample log-rank (Mantel–Cox) chi-square test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import stats  # type: ignore[import-untyped]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ProportionMethod = Literal["auto", "fisher", "chi-square"]

__all__ = [
    "Comparison",
    "Interval",
    "KaplanMeier",
    "LogRank",
    "ProportionTest",
    "kaplan_meier",
    "logrank_test",
    "mann_whitney_difference",
    "mean_ci",
    "newcombe_difference",
    "proportion_test",
    "student_difference",
    "welch_difference",
    "wilson_ci",
]


def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence {confidence} must lie strictly between 0 and 1")
    return float(stats.norm.ppf(0.5 + confidence / 2.0))


@dataclass(frozen=True)
class Interval:
    """An estimate with a two-sided confidence interval (arrays, 0-d for a single estimate).

    Attributes
    ----------
    estimate, lower, upper
        Point estimate and interval bounds (NaN where undefined).
    n
        Number of observations (non-missing values, or trials for a proportion).
    """

    estimate: FloatArray
    lower: FloatArray
    upper: FloatArray
    n: IntArray


@dataclass(frozen=True)
class Comparison:
    """A between-group difference (group a minus group b) with interval and p-value.

    Attributes
    ----------
    estimate, lower, upper
        Difference and its confidence interval.
    p_value
        Two-sided p-value of the test of no difference.
    method
        Name of the test that produced ``p_value``.
    """

    estimate: float
    lower: float
    upper: float
    p_value: float
    method: str


def mean_ci(values: npt.ArrayLike, *, axis: int = 0, confidence: float = 0.95) -> Interval:
    """Mean along ``axis`` with a Student-t confidence interval, ignoring NaN.

    Parameters
    ----------
    values
        Observations; NaN entries are missing.
    axis
        Axis to reduce (e.g. the patient axis of a ``(patients, days)`` array).
    confidence
        Two-sided confidence level.

    Returns
    -------
    Interval
        ``mean ± t_{n-1} · sd / √n``; the interval is NaN when fewer than 2 values are present
        and the estimate is NaN when none are.
    """
    x = np.asarray(values, dtype=np.float64)
    present = ~np.isnan(x)
    n = present.sum(axis=axis)
    total = np.where(present, x, 0.0).sum(axis=axis)
    mean = np.where(n > 0, total / np.maximum(n, 1), np.nan)
    dev = np.where(present, x - np.expand_dims(mean, axis), 0.0)
    var = np.where(n > 1, (dev**2).sum(axis=axis) / np.maximum(n - 1, 1), np.nan)
    _z(confidence)
    t = stats.t.ppf(0.5 + confidence / 2.0, np.maximum(n - 1, 1))
    half = np.where(n > 1, t * np.sqrt(var / np.maximum(n, 1)), np.nan)
    return Interval(
        estimate=np.asarray(mean, dtype=np.float64),
        lower=np.asarray(mean - half, dtype=np.float64),
        upper=np.asarray(mean + half, dtype=np.float64),
        n=np.asarray(n, dtype=np.int64),
    )


def welch_difference(a: npt.ArrayLike, b: npt.ArrayLike, *, confidence: float = 0.95) -> Comparison:
    """Difference of means ``mean(a) − mean(b)`` with Welch's t interval and p-value.

    Parameters
    ----------
    a, b
        One-dimensional samples; NaN entries are dropped.
    confidence
        Two-sided confidence level.

    Returns
    -------
    Comparison
        Interval ``d ± t_ν · se`` with ``se² = s_a²/n_a + s_b²/n_b`` and the
        Welch–Satterthwaite degrees of freedom ``ν``; NaN when either group has fewer than 2
        values or both variances are 0.
    """
    _z(confidence)
    xa = np.asarray(a, dtype=np.float64).ravel()
    xb = np.asarray(b, dtype=np.float64).ravel()
    xa, xb = xa[~np.isnan(xa)], xb[~np.isnan(xb)]
    na, nb = xa.size, xb.size
    if na < 2 or nb < 2:
        d = float(xa.mean() - xb.mean()) if na and nb else float("nan")
        return Comparison(d, float("nan"), float("nan"), float("nan"), "welch t")
    va, vb = float(xa.var(ddof=1)) / na, float(xb.var(ddof=1)) / nb
    d = float(xa.mean() - xb.mean())
    se2 = va + vb
    if se2 == 0.0:
        return Comparison(d, d, d, float("nan"), "welch t")
    df = se2**2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    se = float(np.sqrt(se2))
    t = float(stats.t.ppf(0.5 + confidence / 2.0, df))
    p = float(2.0 * stats.t.sf(abs(d) / se, df))
    return Comparison(d, d - t * se, d + t * se, p, "welch t")


def _two_samples(a: npt.ArrayLike, b: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    xa = np.asarray(a, dtype=np.float64).ravel()
    xb = np.asarray(b, dtype=np.float64).ravel()
    return xa[~np.isnan(xa)], xb[~np.isnan(xb)]


def student_difference(
    a: npt.ArrayLike, b: npt.ArrayLike, *, confidence: float = 0.95
) -> Comparison:
    """Difference of means ``mean(a) − mean(b)`` with the pooled-variance (Student) t interval.

    Parameters
    ----------
    a, b
        One-dimensional samples; NaN entries are dropped.
    confidence
        Two-sided confidence level.

    Returns
    -------
    Comparison
        ``d ± t_{n_a+n_b−2} · s_p √(1/n_a + 1/n_b)`` with the pooled variance ``s_p²``; NaN
        when there are fewer than 3 values in all or the pooled variance is 0.
    """
    _z(confidence)
    xa, xb = _two_samples(a, b)
    na, nb = xa.size, xb.size
    d = float(xa.mean() - xb.mean()) if na and nb else float("nan")
    df = na + nb - 2
    if na < 1 or nb < 1 or df < 1:
        return Comparison(d, float("nan"), float("nan"), float("nan"), "student t")
    ss = float(((xa - xa.mean()) ** 2).sum() + ((xb - xb.mean()) ** 2).sum())
    if ss == 0.0:
        return Comparison(d, d, d, float("nan"), "student t")
    se = float(np.sqrt(ss / df * (1.0 / na + 1.0 / nb)))
    t = float(stats.t.ppf(0.5 + confidence / 2.0, df))
    p = float(2.0 * stats.t.sf(abs(d) / se, df))
    return Comparison(d, d - t * se, d + t * se, p, "student t")


def mann_whitney_difference(
    a: npt.ArrayLike, b: npt.ArrayLike, *, confidence: float = 0.95
) -> Comparison:
    """Location shift ``a − b``: Hodges–Lehmann estimate, its interval and the Mann–Whitney p.

    The estimate is the median of the ``n_a · n_b`` pairwise differences ``a_i − b_j``; the
    interval runs from the ``(k+1)``-th to the ``(n_a n_b − k)``-th ordered difference with
    ``k = ⌊n_a n_b/2 − z √(n_a n_b (n_a + n_b + 1)/12)⌋`` (Bauer 1972, *JASA* 67:687, the normal
    approximation to the null distribution of U, without a tie correction). The two-sided
    p-value is scipy's Mann–Whitney U test (exact for small samples without ties, otherwise
    the tie-corrected normal approximation with continuity correction).

    Parameters
    ----------
    a, b
        One-dimensional samples; NaN entries are dropped.
    confidence
        Two-sided confidence level.
    """
    z = _z(confidence)
    xa, xb = _two_samples(a, b)
    na, nb = xa.size, xb.size
    if na == 0 or nb == 0:
        nan = float("nan")
        return Comparison(nan, nan, nan, nan, "mann-whitney")
    diffs = np.sort((xa[:, None] - xb[None, :]).ravel())
    m = diffs.size
    k = int(np.floor(m / 2.0 - z * np.sqrt(na * nb * (na + nb + 1) / 12.0)))
    if k < 0:
        lower, upper = float("-inf"), float("inf")
    else:
        lower, upper = float(diffs[k]), float(diffs[m - 1 - k])
    p = float(stats.mannwhitneyu(xa, xb, alternative="two-sided").pvalue)
    return Comparison(float(np.median(diffs)), lower, upper, p, "mann-whitney")


def wilson_ci(successes: npt.ArrayLike, n: npt.ArrayLike, *, confidence: float = 0.95) -> Interval:
    """Proportion ``successes / n`` with the Wilson score interval (vectorised).

    Parameters
    ----------
    successes, n
        Counts (broadcast together); ``0 ≤ successes ≤ n``.
    confidence
        Two-sided confidence level.

    Returns
    -------
    Interval
        ``(p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n)``; NaN where ``n == 0``.
    """
    z = _z(confidence)
    x = np.asarray(successes, dtype=np.float64)
    m = np.asarray(n, dtype=np.float64)
    x, m = np.broadcast_arrays(x, m)
    if np.any(x < 0) or np.any(x > m):
        raise ValueError("successes must lie in 0 … n")
    ok = m > 0
    mm = np.where(ok, m, 1.0)
    p = x / mm
    denom = 1.0 + z**2 / mm
    centre = (p + z**2 / (2.0 * mm)) / denom
    half = z * np.sqrt(p * (1.0 - p) / mm + z**2 / (4.0 * mm**2)) / denom
    nan = np.full(p.shape, np.nan)
    return Interval(
        estimate=np.where(ok, p, nan),
        lower=np.where(ok, np.where(x == 0, 0.0, np.clip(centre - half, 0.0, p)), nan),
        upper=np.where(ok, np.where(x == m, 1.0, np.clip(centre + half, p, 1.0)), nan),
        n=np.asarray(m, dtype=np.int64),
    )


@dataclass(frozen=True)
class ProportionTest:
    """Result of :func:`proportion_test`.

    Attributes
    ----------
    p_value
        Two-sided p-value.
    method
        ``"fisher exact"`` or ``"chi-square"``.
    statistic
        Odds ratio (Fisher) or chi-square statistic (1 degree of freedom).
    """

    p_value: float
    method: str
    statistic: float


def proportion_test(
    x1: int, n1: int, x2: int, n2: int, *, method: ProportionMethod = "auto"
) -> ProportionTest:
    """Two-sided test of ``x1/n1 == x2/n2``.

    ``method="auto"``: Fisher's exact test when any expected count of the 2×2 table is below 5
    (Cochran's rule), otherwise Pearson's chi-square without continuity correction;
    ``"fisher"`` or ``"chi-square"`` always use that test. A table with an empty row or column
    gives p = 1.
    """
    if not (0 <= x1 <= n1 and 0 <= x2 <= n2):
        raise ValueError("counts must satisfy 0 ≤ x ≤ n")
    if method not in ("auto", "fisher", "chi-square"):
        raise ValueError(f"method {method!r} must be 'auto', 'fisher' or 'chi-square'")
    table = np.array([[x1, n1 - x1], [x2, n2 - x2]], dtype=np.int64)
    if np.any(table.sum(axis=0) == 0) or np.any(table.sum(axis=1) == 0):
        return ProportionTest(1.0, "none (degenerate table)", float("nan"))
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    if method == "fisher" or (method == "auto" and np.any(expected < 5.0)):
        res = stats.fisher_exact(table)
        return ProportionTest(float(res.pvalue), "fisher exact", float(res.statistic))
    chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
    return ProportionTest(float(p), "chi-square", float(chi2))


def newcombe_difference(
    x1: int,
    n1: int,
    x2: int,
    n2: int,
    *,
    confidence: float = 0.95,
    method: ProportionMethod = "auto",
) -> Comparison:
    """Difference of proportions ``x1/n1 − x2/n2`` with Newcombe's hybrid score interval.

    The bounds combine the two Wilson intervals ``(l_i, u_i)`` (Newcombe 1998, method 10)::

        L = d − √((p1 − l1)² + (u2 − p2)²),   U = d + √((u1 − p1)² + (p2 − l2)²)

    The p-value is from :func:`proportion_test` with ``method``.
    """
    if n1 <= 0 or n2 <= 0:
        raise ValueError("both groups need at least one patient")
    w1, w2 = wilson_ci(x1, n1, confidence=confidence), wilson_ci(x2, n2, confidence=confidence)
    p1, p2 = x1 / n1, x2 / n2
    l1, u1, l2, u2 = float(w1.lower), float(w1.upper), float(w2.lower), float(w2.upper)
    d = p1 - p2
    lower = d - float(np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2))
    upper = d + float(np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))
    test = proportion_test(x1, n1, x2, n2, method=method)
    return Comparison(d, lower, upper, test.p_value, test.method)


@dataclass(frozen=True)
class KaplanMeier:
    """Kaplan–Meier estimate at the distinct event times.

    Attributes
    ----------
    time
        Distinct times with at least one event, ascending.
    n_at_risk, n_events
        Number at risk just before and number of events at each time.
    survival
        ``S(t)``, the estimated probability of no event by ``t`` (inclusive).
    se
        Greenwood standard error of ``S(t)``.
    lower, upper
        Confidence band.
    """

    time: FloatArray
    n_at_risk: IntArray
    n_events: IntArray
    survival: FloatArray
    se: FloatArray
    lower: FloatArray
    upper: FloatArray

    def survival_at(self, t: npt.ArrayLike) -> FloatArray:
        """Step-function value of ``S`` at times ``t`` (1 before the first event)."""
        idx = np.searchsorted(self.time, np.asarray(t, dtype=np.float64), side="right")
        s = np.concatenate([[1.0], self.survival])
        return np.asarray(s[idx], dtype=np.float64)


def _check_survival_data(time: npt.ArrayLike, event: npt.ArrayLike) -> tuple[FloatArray, BoolArray]:
    t = np.asarray(time, dtype=np.float64).ravel()
    e = np.asarray(event, dtype=np.bool_).ravel()
    if t.shape != e.shape:
        raise ValueError("time and event must have the same length")
    if np.any(np.isnan(t)) or np.any(t < 0):
        raise ValueError("times must be non-negative numbers")
    return t, e


def kaplan_meier(
    time: npt.ArrayLike,
    event: npt.ArrayLike,
    *,
    confidence: float = 0.95,
    band: Literal["linear", "log-log"] = "linear",
) -> KaplanMeier:
    """Kaplan–Meier estimate with Greenwood's variance.

    Parameters
    ----------
    time
        Time of event or censoring per patient (any unit, e.g. weeks).
    event
        True where the event (e.g. response) happened at ``time``; False where censored.
        Censoring at the same time as an event is taken to happen just after it.
    confidence
        Two-sided level of the band.
    band
        ``"linear"``: ``S ± z·se`` clipped to 0–1; ``"log-log"``: the interval on
        ``log(−log S)`` transformed back (stays inside 0–1, NaN where ``S`` is 0 or 1).

    Returns
    -------
    KaplanMeier
    """
    z = _z(confidence)
    t, e = _check_survival_data(time, event)
    times = np.unique(t[e])
    n_risk = (t[None, :] >= times[:, None]).sum(axis=1).astype(np.int64)
    n_event = ((t[None, :] == times[:, None]) & e[None, :]).sum(axis=1).astype(np.int64)
    s = np.cumprod(1.0 - n_event / n_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(n_risk > n_event, n_event / (n_risk * (n_risk - n_event)), np.inf)
        g = np.cumsum(terms)
        se = np.where(np.isfinite(g), s * np.sqrt(g), 0.0)
        if band == "linear":
            lower = np.clip(s - z * se, 0.0, 1.0)
            upper = np.clip(s + z * se, 0.0, 1.0)
        elif band == "log-log":
            valid = (s > 0.0) & (s < 1.0)
            ls = np.log(np.where(valid, s, 0.5))
            half = z * np.sqrt(np.where(np.isfinite(g), g, np.nan)) / np.abs(ls)
            lower = np.where(valid, s ** np.exp(half), np.nan)
            upper = np.where(valid, s ** np.exp(-half), np.nan)
        else:
            raise ValueError(f"band {band!r} must be 'linear' or 'log-log'")
    return KaplanMeier(
        time=times,
        n_at_risk=n_risk,
        n_events=n_event,
        survival=np.asarray(s, dtype=np.float64),
        se=np.asarray(se, dtype=np.float64),
        lower=np.asarray(lower, dtype=np.float64),
        upper=np.asarray(upper, dtype=np.float64),
    )


@dataclass(frozen=True)
class LogRank:
    """Two-sample log-rank test.

    Attributes
    ----------
    chi2
        Mantel–Cox statistic (1 degree of freedom).
    p_value
        Two-sided p-value.
    observed_a, expected_a
        Observed and expected number of events in group a.
    """

    chi2: float
    p_value: float
    observed_a: float
    expected_a: float


def logrank_test(
    time_a: npt.ArrayLike,
    event_a: npt.ArrayLike,
    time_b: npt.ArrayLike,
    event_b: npt.ArrayLike,
) -> LogRank:
    """Log-rank (Mantel–Cox) test of equal hazards between groups a and b.

    ``chi2 = (O_a − E_a)² / V`` summed over the distinct event times with the hypergeometric
    variance ``V = Σ n_a n_b d (n − d) / (n² (n − 1))``. NaN when there is no event.
    """
    ta, ea = _check_survival_data(time_a, event_a)
    tb, eb = _check_survival_data(time_b, event_b)
    times = np.unique(np.concatenate([ta[ea], tb[eb]]))
    if times.size == 0:
        return LogRank(float("nan"), float("nan"), 0.0, 0.0)
    na = (ta[None, :] >= times[:, None]).sum(axis=1).astype(np.float64)
    nb = (tb[None, :] >= times[:, None]).sum(axis=1).astype(np.float64)
    da = ((ta[None, :] == times[:, None]) & ea[None, :]).sum(axis=1).astype(np.float64)
    db = ((tb[None, :] == times[:, None]) & eb[None, :]).sum(axis=1).astype(np.float64)
    n, d = na + nb, da + db
    expected = d * na / n
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.where(n > 1, na * nb * d * (n - d) / (n**2 * (n - 1)), 0.0)
    v = float(var.sum())
    oa, ea_ = float(da.sum()), float(expected.sum())
    if v <= 0.0:
        return LogRank(float("nan"), float("nan"), oa, ea_)
    chi2 = (oa - ea_) ** 2 / v
    return LogRank(chi2, float(stats.chi2.sf(chi2, 1)), oa, ea_)
