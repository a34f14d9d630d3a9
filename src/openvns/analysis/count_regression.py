"""Negative-binomial regression of event counts with an exposure offset, by maximum likelihood.

The model (NB2, Lawless 1987, *Can J Stat* 15:209; Cameron & Trivedi 2013, *Regression Analysis
of Count Data*, 2nd ed., ch. 3): the count ``y_i`` of patient ``i`` over ``t_i`` exposure days
is negative binomial with mean ``μ_i = t_i · exp(x_i β)`` and variance ``μ_i + α μ_i²``
(``α ≥ 0`` the dispersion; ``α = 0`` is Poisson). Its log-likelihood, written so that it stays
exact as ``α → 0``::

    ℓ = Σ_i [ Σ_{k<y_i} log(1 + kα) − log y_i! + y_i log μ_i − (1/α + y_i) log(1 + α μ_i) ]

It is maximised by profiling: for a fixed ``α`` the log-likelihood is concave in ``β`` and
Newton's method (with step halving) finds its maximum; the profile is then maximised over
``log α`` on ``[−15, 5]`` with :func:`scipy.optimize.minimize_scalar` (bounded Brent). Standard
errors of ``β`` are Wald errors from the expected information ``X' diag(μ/(1 + αμ)) X`` at the
estimate (the information ``MASS::glm.nb`` reports). A rate ratio between two arms is
``exp(β_arm)`` with the Wald interval ``exp(β ± z·se)`` and the likelihood-ratio p-value of the
model without the arm term (its own ``α`` refitted).

No statsmodels: numpy and scipy only. Tests check the fit against a direct maximisation of
``scipy.stats.nbinom.logpmf``, the closed form of a two-arm fit with equal exposure (the
rate ratio is the ratio of mean counts) and the coverage of the interval on simulated trials.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import optimize, special, stats  # type: ignore[import-untyped]

from openvns.analysis.statistics import Comparison
from openvns.errors import ValidationError

FloatArray = npt.NDArray[np.float64]

__all__ = [
    "LOG_ALPHA_BOUNDS",
    "NegativeBinomialFit",
    "RateRatio",
    "fit_negative_binomial",
    "rate_ratio",
]

log = logging.getLogger(__name__)

#: Search interval of ``log α`` (α from 3·10⁻⁷, practically Poisson, to 148).
LOG_ALPHA_BOUNDS = (-15.0, 5.0)
_NEWTON_TOL = 1e-10
_NEWTON_MAX = 100


@dataclass(frozen=True)
class NegativeBinomialFit:
    """A fitted NB2 regression.

    Attributes
    ----------
    names
        Column names of the design matrix.
    coef, se
        ``β`` and its Wald standard errors (log rate ratios per unit of each column).
    alpha
        Dispersion ``α`` (variance ``μ + αμ²``); at the lower bound the data are no more
        variable than Poisson.
    log_likelihood
        Maximised log-likelihood.
    n
        Patients in the fit.
    converged
        Whether Newton's method and the search over ``α`` both converged.
    """

    names: tuple[str, ...]
    coef: FloatArray
    se: FloatArray
    alpha: float
    log_likelihood: float
    n: int
    converged: bool

    def rate_ratio(self, name: str, *, confidence: float = 0.95) -> Comparison:
        """``exp(β_name)`` with its Wald interval and Wald p-value."""
        if name not in self.names:
            raise ValidationError("name", name, "one of " + ", ".join(self.names))
        if not 0.0 < confidence < 1.0:
            raise ValidationError("confidence", confidence, "strictly between 0 and 1")
        j = self.names.index(name)
        b, s = float(self.coef[j]), float(self.se[j])
        z = float(stats.norm.ppf(0.5 + confidence / 2.0))
        p = float(2.0 * stats.norm.sf(abs(b) / s)) if s > 0 else float("nan")
        return Comparison(
            math.exp(b), math.exp(b - z * s), math.exp(b + z * s), p, "negative binomial Wald"
        )


def _check_inputs(
    counts: npt.ArrayLike, design: npt.ArrayLike, offset: npt.ArrayLike | None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    y = np.asarray(counts, dtype=np.float64).ravel()
    X = np.asarray(design, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] != y.size:
        raise ValidationError(
            "design", f"shape {X.shape}", f"a ({y.size}, columns) matrix, one row per count"
        )
    if np.any(~np.isfinite(y)) or np.any(y < 0) or np.any(y != np.round(y)):
        raise ValidationError("counts", "non-integer, negative or missing", "integers ≥ 0")
    if not np.all(np.isfinite(X)):
        raise ValidationError("design", "non-finite entries", "finite numbers")
    off = np.zeros(y.size) if offset is None else np.asarray(offset, dtype=np.float64).ravel()
    if off.shape != y.shape or not np.all(np.isfinite(off)):
        raise ValidationError("offset", f"shape {off.shape}", f"{y.size} finite numbers")
    if y.size <= X.shape[1]:
        raise ValidationError("counts", f"{y.size} patients", f"more than {X.shape[1]} patients")
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise ValidationError("design", "rank deficient", "linearly independent columns")
    return y, X, off


class _Likelihood:
    """The NB2 log-likelihood of fixed data as a function of ``(β, α)``."""

    def __init__(self, y: FloatArray, X: FloatArray, offset: FloatArray) -> None:
        self.y, self.X, self.offset = y, X, offset
        ymax = int(y.max()) if y.size else 0
        # n_gt[k] = number of counts > k, so that Σ_i Σ_{k<y_i} log(1+kα) = Σ_k n_gt[k] log(1+kα)
        hist = np.bincount(y.astype(np.int64), minlength=ymax + 1)
        self.n_gt = (y.size - np.cumsum(hist))[:ymax].astype(np.float64)
        self.k = np.arange(ymax, dtype=np.float64)
        self.const = float(-special.gammaln(y + 1.0).sum())

    def value(self, beta: FloatArray, alpha: float) -> float:
        """``ℓ(β, α)``; ``-inf`` or NaN where a trial step overflows (the step is halved)."""
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            mu = np.exp(self.offset + self.X @ beta)
            if alpha > 0.0:
                tail = (1.0 / alpha + self.y) * np.log1p(alpha * mu)
                gamma_part = float(self.n_gt @ np.log1p(self.k * alpha))
            else:
                tail, gamma_part = mu, 0.0
            log_mu = np.where(self.y > 0, self.y * np.log(mu), 0.0)
            return gamma_part + self.const + float((log_mu - tail).sum())

    def fit_beta(self, alpha: float, beta0: FloatArray) -> tuple[FloatArray, float, bool]:
        """Newton's method for ``β`` at fixed ``α`` (concave), with step halving."""
        beta = beta0.copy()
        ll = self.value(beta, alpha)
        for _ in range(_NEWTON_MAX):
            mu = np.exp(self.offset + self.X @ beta)
            denom = 1.0 + alpha * mu
            score = self.X.T @ ((self.y - mu) / denom)
            weight = mu * (1.0 + alpha * self.y) / denom**2
            info = self.X.T @ (self.X * weight[:, None])
            step = np.linalg.solve(info, score)
            for _half in range(40):
                trial = beta + step
                ll_trial = self.value(trial, alpha)
                if np.isfinite(ll_trial) and ll_trial >= ll - 1e-12:
                    break
                step = step / 2.0
            else:
                return beta, ll, False
            beta, ll = trial, ll_trial
            if float(np.max(np.abs(step))) < _NEWTON_TOL:
                return beta, ll, True
        return beta, ll, False


def _start(y: FloatArray, X: FloatArray, offset: FloatArray) -> FloatArray:
    """Least squares of ``log((y + 0.5)/t)`` on ``X``: a start for Newton's method."""
    target = np.log(y + 0.5) - offset
    beta, *_ = np.linalg.lstsq(X, target, rcond=None)
    return np.asarray(beta, dtype=np.float64)


def fit_negative_binomial(
    counts: npt.ArrayLike,
    design: npt.ArrayLike,
    *,
    offset: npt.ArrayLike | None = None,
    names: tuple[str, ...] | None = None,
) -> NegativeBinomialFit:
    """Maximum-likelihood NB2 regression (see the module docstring).

    Parameters
    ----------
    counts
        ``(n,)`` event counts (integers ≥ 0).
    design
        ``(n, p)`` design matrix (include a column of ones for an intercept).
    offset
        ``(n,)`` known part of the linear predictor, ``log(exposure days)`` for rates.
    names
        Column names (default ``x0 … x{p−1}``).

    Returns
    -------
    NegativeBinomialFit
    """
    y, X, off = _check_inputs(counts, design, offset)
    cols = tuple(names) if names is not None else tuple(f"x{j}" for j in range(X.shape[1]))
    if len(cols) != X.shape[1]:
        raise ValidationError("names", cols, f"{X.shape[1]} column names")
    lik = _Likelihood(y, X, off)
    state = {"beta": _start(y, X, off), "ok": True}

    def negative_profile(log_alpha: float) -> float:
        beta, ll, ok = lik.fit_beta(math.exp(log_alpha), state["beta"])  # type: ignore[arg-type]
        state["beta"], state["ok"] = beta, ok
        return -ll

    res = optimize.minimize_scalar(
        negative_profile, bounds=LOG_ALPHA_BOUNDS, method="bounded", options={"xatol": 1e-6}
    )
    alpha = math.exp(float(res.x))
    beta, ll, ok = lik.fit_beta(alpha, state["beta"])  # type: ignore[arg-type]
    mu = np.exp(off + X @ beta)
    info = X.T @ (X * (mu / (1.0 + alpha * mu))[:, None])
    se = np.sqrt(np.diag(np.linalg.inv(info)))
    converged = bool(ok and res.success)
    if not converged:
        log.warning("negative-binomial fit did not converge (alpha %.3g)", alpha)
    return NegativeBinomialFit(
        names=cols,
        coef=np.asarray(beta, dtype=np.float64),
        se=np.asarray(se, dtype=np.float64),
        alpha=alpha,
        log_likelihood=ll,
        n=int(y.size),
        converged=converged,
    )


@dataclass(frozen=True)
class RateRatio:
    """Rate ratio of arm a to arm b from a negative-binomial regression.

    Attributes
    ----------
    rate_ratio
        ``exp(β_arm)`` with its Wald interval; ``p_value`` is the likelihood-ratio test of no
        arm effect (``method`` says so).
    wald_p_value
        The Wald test's p-value, for reference.
    lr_statistic
        ``2 (ℓ_full − ℓ_null)`` (chi-square, 1 degree of freedom).
    fit, null_fit
        The model with and without the arm term.
    """

    rate_ratio: Comparison
    wald_p_value: float
    lr_statistic: float
    fit: NegativeBinomialFit
    null_fit: NegativeBinomialFit


def rate_ratio(
    counts_a: npt.ArrayLike,
    exposure_days_a: npt.ArrayLike,
    counts_b: npt.ArrayLike,
    exposure_days_b: npt.ArrayLike,
    *,
    covariate_a: npt.ArrayLike | None = None,
    covariate_b: npt.ArrayLike | None = None,
    covariate_name: str = "baseline",
    confidence: float = 0.95,
) -> RateRatio:
    """Rate ratio (a / b) of event counts over exposure days, NB2 with ``log(days)`` offset.

    The design is an intercept, the arm indicator (1 for arm a) and, when given, one
    covariate per patient (e.g. the log baseline rate, see
    :func:`openvns.analysis.headache.compare_prevention`). Patients with a NaN count, exposure
    or covariate, or no exposure, are left out.

    Parameters
    ----------
    counts_a, counts_b
        Events per patient in the window.
    exposure_days_a, exposure_days_b
        Observed days per patient in the window (> 0).
    covariate_a, covariate_b
        Optional covariate per patient (both or neither).
    covariate_name
        Name of the covariate's coefficient in the fit.
    confidence
        Level of the Wald interval.
    """
    if (covariate_a is None) != (covariate_b is None):
        raise ValidationError("covariate", "given for one arm", "both arms or neither")
    parts = []
    for counts, days, cov in (
        (counts_a, exposure_days_a, covariate_a),
        (counts_b, exposure_days_b, covariate_b),
    ):
        y = np.asarray(counts, dtype=np.float64).ravel()
        t = np.asarray(days, dtype=np.float64).ravel()
        c = np.zeros_like(y) if cov is None else np.asarray(cov, dtype=np.float64).ravel()
        if not (y.shape == t.shape == c.shape):
            raise ValidationError(
                "counts", f"shape {y.shape}", "one count, exposure, covariate each"
            )
        keep = np.isfinite(y) & np.isfinite(t) & (t > 0) & np.isfinite(c)
        parts.append((y[keep], t[keep], c[keep]))
    (ya, ta, ca), (yb, tb, cb) = parts
    if ya.size == 0 or yb.size == 0:
        raise ValidationError("counts", "an arm without analysable patients", "both arms ≥ 1")
    if ya.sum() == 0 or yb.sum() == 0:
        raise ValidationError(
            "counts",
            "no event in one arm",
            "at least one event in each arm (otherwise the rate ratio has no finite estimate)",
        )
    y = np.concatenate([ya, yb])
    offset = np.log(np.concatenate([ta, tb]))
    arm = np.concatenate([np.ones(ya.size), np.zeros(yb.size)])
    columns = [np.ones(y.size), arm]
    names = ["intercept", "arm"]
    if covariate_a is not None:
        columns.append(np.concatenate([ca, cb]))
        names.append(covariate_name)
    X = np.column_stack(columns)
    fit = fit_negative_binomial(y, X, offset=offset, names=tuple(names))
    null = fit_negative_binomial(
        y, np.delete(X, 1, axis=1), offset=offset, names=tuple(n for n in names if n != "arm")
    )
    lr = max(0.0, 2.0 * (fit.log_likelihood - null.log_likelihood))
    wald = fit.rate_ratio("arm", confidence=confidence)
    return RateRatio(
        rate_ratio=Comparison(
            wald.estimate,
            wald.lower,
            wald.upper,
            float(stats.chi2.sf(lr, 1)),
            "negative binomial (Wald CI, likelihood-ratio p)",
        ),
        wald_p_value=wald.p_value,
        lr_statistic=lr,
        fit=fit,
        null_fit=null,
    )
