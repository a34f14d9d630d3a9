"""Parameters of the headache attack model: a validated view of ``data/headache.yaml``.

Each headache condition (``episodic_migraine``, ``chronic_migraine``, ``episodic_cluster``,
``chronic_cluster``) is a registry set ``headache/<condition>`` with a status and a source for
every value. Two quantities are *derived* here, not read (:func:`derived_rates`):

* the population mean attack rate ``mu`` (attacks per day), so that the population mean of the
  condition's frequency measure per 28 days (migraine days, headache days or attacks) is the
  sourced ``frequency_per_28d``, given the between-patient gamma, the slow log-normal fluctuation,
  the attack durations and the cap on onsets per day;
* for migraine, the rate of headache days without a migraine (``extra_per_attack`` times the
  attack rate), so that the population ratio of headache days to migraine days is the sourced
  ``headache_days_per_migraine_day``.

With Poisson onsets at rate ``λ`` per day, onset times uniform over the day and attack durations
``D``, a day is touched by an attack that started ``k`` days earlier with probability
``P(⌊u + D / 1 d⌋ ≥ k)``; thinning the Poisson process gives ``P(migraine day) = 1 − exp(−λ c)``
with ``c = 1 + E[D] / 1 d`` exactly (``E⌊u + x⌋ = x`` for ``u`` uniform). Headache days without a
migraine are a Poisson process of rate ``κ λ`` per day: ``P(headache day) = 1 − exp(−λ (c + κ))``.
Attack counts are ``min(Poisson(λ), cap)``. The population expectations average these over the
gamma (Gauss–Laguerre nodes) and the fluctuation (Gauss–Hermite nodes).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError
from scipy.special import ndtr, pdtr, roots_genlaguerre  # type: ignore[import-untyped]

from openvns.errors import ValidationError
from openvns.parameters import load_set, read_resource
from openvns.parameters.constraints import FRACTION, NON_NEGATIVE, POSITIVE

__all__ = [
    "AttackParameters",
    "DerivedRates",
    "derived_rates",
    "gamma_nodes",
    "headache_conditions",
    "load_attack_parameters",
]

FloatArray = NDArray[np.float64]
_FILE = "data/headache.yaml"
#: Minutes in a day.
DAY_MIN = 1440.0
#: Points of the quadratures over the between-patient gamma and the slow fluctuation.
_N_GAMMA = 64
_N_HERMITE = 40


class AttackParameters(BaseModel):
    """One headache condition's attack-model parameters (names as in ``data/headache.yaml``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    condition: str
    kind: Literal["migraine", "cluster"]
    scale_max: int = Field(ge=1, le=10)
    frequency_measure: Literal["migraine_days", "headache_days", "attacks"]
    frequency_per_28d: float = POSITIVE
    between_patient_cv: float = NON_NEGATIVE
    fluctuation_sd: float = NON_NEGATIVE
    fluctuation_tau_d: float = POSITIVE
    max_attacks_per_day: int = Field(ge=1, le=24)
    severity_probabilities: tuple[float, ...]
    severity_icc: float = FRACTION
    duration_mean_min: float = POSITIVE
    duration_omega: float = POSITIVE
    duration_icc: float = FRACTION
    duration_lower_min: float = POSITIVE
    duration_upper_min: float = POSITIVE
    #: Headache days per migraine day in the population (migraine; 1 for cluster headache, where
    #: a headache day is an attack day and the data file gives none).
    headache_days_per_migraine_day: float = Field(default=1.0, ge=1)
    rescue_probability: float = Field(gt=0, lt=1)
    rescue_omega: float = NON_NEGATIVE
    rescue_threshold: int = Field(ge=1)
    rescue_allowed_min: float = NON_NEGATIVE
    relief_onset_min: float = POSITIVE
    #: Share of attacks that stop by themselves before ``duration_lower_min`` (cluster headache:
    #: Russell 1981's abortive attacks); their durations span ``abortive_lower_min`` to it.
    abortive_share: float = Field(default=0.0, ge=0, lt=1)
    abortive_lower_min: float | None = Field(default=None, gt=0)
    #: Multiplier of the arm's expectation multiplier within an acutely treated attack.
    acute_expectation_multiplier: float = POSITIVE
    #: Time constant (minutes) with which the expectation relieves a treated attack's pain.
    expectation_onset_min: float = POSITIVE
    decline_fraction: float = Field(gt=0, le=1)
    rating_sd: float = NON_NEGATIVE
    bout_lower_d: float | None = Field(default=None, ge=0)
    bout_mean_extra_d: float | None = Field(default=None, gt=0)
    remission_lower_d: float | None = Field(default=None, ge=0)
    remission_mean_extra_d: float | None = Field(default=None, gt=0)
    in_bout_at_start: float | None = Field(default=None, ge=0, le=1)

    @property
    def episodic_bouts(self) -> bool:
        """Whether attacks come in bouts separated by remissions (episodic cluster headache)."""
        return self.bout_mean_extra_d is not None

    def with_(self, **changes: Any) -> AttackParameters:
        """A validated copy with ``changes`` applied (errors name the field)."""
        return _validated({**self.model_dump(), **changes}, self.condition)


_BOUT_FIELDS = (
    "bout_lower_d", "bout_mean_extra_d", "remission_lower_d", "remission_mean_extra_d",
    "in_bout_at_start",
)  # fmt: skip


def _check(p: AttackParameters) -> None:
    """Cross-field rules; each failure names the field, the value and what is allowed."""
    where = p.condition
    probs = p.severity_probabilities
    if len(probs) != p.scale_max or min(probs) < 0 or abs(sum(probs) - 1.0) > 1e-9:
        raise ValidationError(
            f"{where}.severity_probabilities",
            probs,
            f"{p.scale_max} non-negative shares (severity 1 … {p.scale_max}) summing to 1",
        )
    if not p.duration_lower_min < p.duration_mean_min < p.duration_upper_min:
        raise ValidationError(
            f"{where}.duration_mean_min",
            p.duration_mean_min,
            f"between duration_lower_min {p.duration_lower_min} and duration_upper_min "
            f"{p.duration_upper_min}",
        )
    if p.rescue_threshold > p.scale_max:
        raise ValidationError(
            f"{where}.rescue_threshold", p.rescue_threshold, f"1 … scale_max {p.scale_max}"
        )
    days_measure = p.frequency_measure != "attacks"
    if (p.kind == "cluster") == days_measure:
        allowed = "attacks" if p.kind == "cluster" else "migraine_days or headache_days"
        raise ValidationError(f"{where}.frequency_measure", p.frequency_measure, allowed)
    top = 28.0 if days_measure else 28.0 * p.max_attacks_per_day
    if p.frequency_per_28d >= top:
        raise ValidationError(f"{where}.frequency_per_28d", p.frequency_per_28d, f"< {top}")
    if p.kind == "cluster" and p.headache_days_per_migraine_day != 1.0:
        raise ValidationError(
            f"{where}.headache_days_per_migraine_day",
            p.headache_days_per_migraine_day,
            "1 for cluster headache (a headache day is an attack day)",
        )
    if p.abortive_share > 0 and p.kind != "cluster":
        raise ValidationError(
            f"{where}.abortive_share", p.abortive_share,
            "0 for migraine (abortive attacks only for cluster headache)",
        )  # fmt: skip
    if p.abortive_share > 0 and not (
        p.abortive_lower_min is not None and p.abortive_lower_min < p.duration_lower_min
    ):
        raise ValidationError(
            f"{where}.abortive_lower_min", p.abortive_lower_min,
            f"a duration below duration_lower_min {p.duration_lower_min} when abortive_share > 0",
        )  # fmt: skip
    given = [getattr(p, f) is not None for f in _BOUT_FIELDS]
    if any(given) and not all(given):
        missing = [f for f, g in zip(_BOUT_FIELDS, given, strict=True) if not g]
        raise ValidationError(f"{where}.{missing[0]}", None, "all bout fields or none")
    if all(given) and p.kind != "cluster":
        raise ValidationError(f"{where}.bout_mean_extra_d", p.bout_mean_extra_d,
                              "bouts only for cluster headache")  # fmt: skip


def _validated(values: dict[str, Any], where: str) -> AttackParameters:
    known = set(AttackParameters.model_fields)
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValidationError(f"{where}.{unknown[0]}", values[unknown[0]], "one of " +
                              ", ".join(sorted(known)))  # fmt: skip
    try:
        p = AttackParameters.model_validate(values)
    except PydanticValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(x) for x in err["loc"]) or where
        raise ValidationError(f"{where}.{key}", err.get("input"), err["msg"]) from None
    _check(p)
    return p


@lru_cache(maxsize=1)
def headache_conditions() -> tuple[str, ...]:
    """Names of the conditions the attack model has parameters for."""
    from openvns import yamlio

    raw = yamlio.safe_load(read_resource("openvns.patients", _FILE))
    return tuple(raw["conditions"])


@lru_cache(maxsize=8)
def load_attack_parameters(condition: str) -> AttackParameters:
    """The shipped attack-model parameters of ``condition`` (registry set ``headache/<name>``).

    Raises
    ------
    openvns.errors.ValidationError
        ``condition`` has no attack model; the message lists the ones that have.
    """
    names = headache_conditions()
    if condition not in names:
        raise ValidationError("condition", condition, "one of " + ", ".join(names))
    values: dict[str, Any] = dict(load_set(f"headache/{condition}").values())
    values["severity_probabilities"] = tuple(values["severity_probabilities"])
    return _validated({"condition": condition, **values}, condition)


# ------------------------------------------------------------------------- derived quantities
@dataclass(frozen=True)
class DerivedRates:
    """Quantities derived from the sourced parameters (see the module docstring).

    Attributes
    ----------
    mean_rate_per_d
        ``mu``: population mean attack rate (attacks per day; in a bout for episodic cluster).
    extra_per_attack
        ``κ``: headache days without a migraine per unit of attack rate (0 for cluster).
    log_duration_median_min
        ``ln`` of the median of the log-normal duration before truncation (minutes).
    days_per_attack
        ``c = 1 + E[D] / 1 d``: expected days an attack touches (migraine coverage).
    """

    mean_rate_per_d: float
    extra_per_attack: float
    log_duration_median_min: float
    days_per_attack: float


def gamma_nodes(cv: float, n: int = _N_GAMMA) -> tuple[FloatArray, FloatArray]:
    """Gauss–Laguerre nodes and weights (sum 1) of the mean-1 gamma with coefficient of
    variation ``cv``: exact for polynomials of degree < 2n in ``G``."""
    if cv == 0.0:
        return np.ones(1), np.ones(1)
    k = 1.0 / cv**2
    x, w = roots_genlaguerre(n, k - 1.0)  # ∫ x^(k−1) e^(−x) f(x) dx, G = x / k
    return np.asarray(x / k, dtype=np.float64), np.asarray(w / w.sum(), dtype=np.float64)


def truncated_lognormal_mean(mu_log: float, omega: float, lower: float, upper: float) -> float:
    """Mean of ``exp(N(mu_log, omega²))`` truncated to ``[lower, upper]``."""
    a = (np.log(lower) - mu_log) / omega
    b = (np.log(upper) - mu_log) / omega
    mass = ndtr(b) - ndtr(a)
    return float(np.exp(mu_log + 0.5 * omega**2) * (ndtr(b - omega) - ndtr(a - omega)) / mass)


def _rate_grid(p: AttackParameters) -> tuple[FloatArray, FloatArray]:
    """Relative rates ``G·S`` of the population and their weights (sum 1)."""
    g, wg = gamma_nodes(p.between_patient_cv)
    x, w = np.polynomial.hermite_e.hermegauss(_N_HERMITE)
    s = np.exp(p.fluctuation_sd * x - 0.5 * p.fluctuation_sd**2)
    rel = (g[:, None] * s[None, :]).ravel()
    weight = (wg[:, None] * (w / w.sum())[None, :]).ravel()
    return rel, weight


def _solve(f: Any, target: float, hi: float) -> float:
    """The root of the increasing ``f(v) = target`` on ``(0, hi·2^k]``."""
    while f(hi) < target:
        hi *= 2.0
    from scipy.optimize import brentq  # type: ignore[import-untyped]  # lazily: start-up

    return float(brentq(lambda v: f(v) - target, 0.0, hi, xtol=1e-14, rtol=1e-12))


def _log_duration_median(p: AttackParameters) -> float:
    """``ln`` median of the duration's log-normal whose truncated mean is the sourced mean."""
    lo = np.log(p.duration_lower_min) - 3.0 * p.duration_omega
    hi = np.log(p.duration_upper_min) + 3.0 * p.duration_omega

    def mean(m: float) -> float:
        lower, upper = p.duration_lower_min, p.duration_upper_min
        return truncated_lognormal_mean(m, p.duration_omega, lower, upper) - p.duration_mean_min

    if mean(lo) >= 0.0 or mean(hi) <= 0.0:
        raise ValidationError(
            f"{p.condition}.duration_mean_min",
            p.duration_mean_min,
            f"a mean a log-normal with omega {p.duration_omega} truncated to "
            f"[{p.duration_lower_min}, {p.duration_upper_min}] can have",
        )
    from scipy.optimize import brentq  # lazily: start-up

    return float(brentq(mean, lo, hi, xtol=1e-12))


@lru_cache(maxsize=32)
def derived_rates(p: AttackParameters) -> DerivedRates:
    """``mu``, ``κ``, the duration's log-median and ``c`` of ``p`` (cached per parameter set)."""
    log_median = _log_duration_median(p)
    mean_d = truncated_lognormal_mean(
        log_median, p.duration_omega, p.duration_lower_min, p.duration_upper_min
    )
    c = 1.0 + mean_d / DAY_MIN
    rel, w = _rate_grid(p)
    per_day = p.frequency_per_28d / 28.0

    def covered(mu: float, span: float) -> float:
        return float(np.sum(w * -np.expm1(-mu * rel * span)))

    if p.kind == "cluster":
        ks = np.arange(p.max_attacks_per_day)[:, None]

        def attacks(mu: float) -> float:  # E[min(N, cap)] = Σ_{k<cap} P(N > k)
            return float(np.sum(w * np.sum(1.0 - pdtr(ks, mu * rel[None, :]), axis=0)))

        mu = _solve(attacks, per_day, per_day)
        return DerivedRates(mu, 0.0, log_median, c)
    r = p.headache_days_per_migraine_day
    md = per_day if p.frequency_measure == "migraine_days" else per_day / r
    hd = md * r
    if hd >= 1.0:
        raise ValidationError(
            f"{p.condition}.headache_days_per_migraine_day",
            r,
            f"a ratio that keeps headache days below 28 per 28 days (gives {28 * hd:.1f})",
        )
    mu = _solve(lambda m: covered(m, c), md, md)
    if r == 1.0:
        return DerivedRates(mu, 0.0, log_median, c)
    total = _solve(lambda span: covered(mu, span), hd, c)
    return DerivedRates(mu, total - c, log_median, c)
