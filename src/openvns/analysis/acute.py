"""Acute-treatment endpoints of headache trials: what happened to each treated attack.

Inputs are the arrays of the shared ``TreatedAttacks`` interface, ``(patients, K)`` with ``K``
the most attacks any patient treated: ``day`` (−1 = empty slot), ``pain`` ``(patients, K,
len(times_min))`` on the condition's scale at ``times_min`` = (0, 15, 30, 60, 120) minutes
after treatment (−1 = not rated), ``rescue_min`` (minutes after treatment when rescue
medication was taken, NaN = none) and ``scale_max`` (3 for migraine 0–3, 4 for cluster 0–4).

An attack **succeeds** at ``at_min`` when its pain then is at most ``max_pain`` and no rescue
was taken before ``rescue_free_until_min`` (default: before the rating). Definitions (numbers
in ``analysis/data/headache_endpoints.yaml`` with their sources):

* :func:`cluster_response` — ACT1: pain 0 or 1 (0–4 scale) at 15 min, no rescue before 60 min;
* :func:`pain_free` — pain 0 at ``at_min`` (PRESTO 30, 60, 120 min; ACT2 15 min);
* :func:`pain_relief` — migraine: an attack treated at moderate or severe pain (2–3) with
  none or mild pain (0–1) at ``at_min`` (IHS); attacks treated at pain 0–1 are outside this
  endpoint (not evaluable), as is an attack whose pain at treatment was not rated.

A success needs a rating: an attack whose pain at ``at_min`` is missing (without an earlier
rescue, which is a failure anyway) counts as a failure under ``missing="non_responder"``
(default) and is not evaluable under ``missing="exclude"``.

Per patient, two analyses: the **first treated attack** (ACT1, PRESTO's primary; patients who
treated no attack, or whose first attack is not evaluable, are not analysed), compared between
arms with Newcombe's interval and Fisher's exact or the chi-square test; and the **proportion
of each patient's evaluable treated attacks** that succeeded, then the mean over patients
(ACT1/PRESTO "all attacks"), compared with a t test or the Mann–Whitney test on the
per-patient proportions (a patient-level analysis, no GEE).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from openvns.analysis.endpoints import MissingRule
from openvns.analysis.headache import MeanTest, compare_changes
from openvns.analysis.headache_parameters import headache_number, headache_times_min
from openvns.analysis.statistics import (
    Comparison,
    Interval,
    ProportionMethod,
    mean_ci,
    newcombe_difference,
    wilson_ci,
)
from openvns.errors import ValidationError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

__all__ = [
    "AttackOutcome",
    "AttackProportions",
    "PatientResponse",
    "TreatedAttackArrays",
    "attack_outcome",
    "cluster_response",
    "compare_attack_proportions",
    "compare_first_attack",
    "mean_pain",
    "pain_free",
    "pain_relief",
]


class TreatedAttackArrays(Protocol):
    """The fields of the shared ``TreatedAttacks`` these endpoints read."""

    @property
    def day(self) -> npt.NDArray[Any]: ...

    @property
    def pain(self) -> npt.NDArray[Any]: ...

    @property
    def rescue_min(self) -> npt.NDArray[Any]: ...

    @property
    def scale_max(self) -> int: ...


@dataclass(frozen=True)
class PatientResponse:
    """One outcome per patient (e.g. of the first treated attack).

    Attributes
    ----------
    success
        ``(patients,)`` True where the outcome succeeded.
    analysed
        ``(patients,)`` True for the patients in the denominator.
    """

    success: BoolArray
    analysed: BoolArray

    @property
    def count(self) -> int:
        """Successes among the analysed patients."""
        return int(np.sum(self.success & self.analysed))

    @property
    def n(self) -> int:
        """Analysed patients."""
        return int(np.sum(self.analysed))

    def proportion(self, *, confidence: float = 0.95) -> Interval:
        """Share of successes with a Wilson interval."""
        return wilson_ci(self.count, self.n, confidence=confidence)


@dataclass(frozen=True)
class AttackProportions:
    """Per patient, the share of evaluable treated attacks that succeeded.

    Attributes
    ----------
    proportion
        ``(patients,)`` successes / evaluable attacks; NaN for patients with none.
    n_attacks
        ``(patients,)`` evaluable treated attacks.
    """

    proportion: FloatArray
    n_attacks: IntArray

    def mean(self, *, confidence: float = 0.95) -> Interval:
        """Mean over patients of the per-patient proportion, t interval."""
        return mean_ci(self.proportion, confidence=confidence)


@dataclass(frozen=True)
class AttackOutcome:
    """An endpoint evaluated on every treated attack, ``(patients, K)`` arrays.

    Attributes
    ----------
    name
        What was evaluated (``"pain_free_120min"``, ``"cluster_response_15min"``, …).
    day
        Day of each attack, −1 for an empty slot.
    success
        The attack met the endpoint.
    evaluable
        The attack counts in the endpoint's denominator.
    """

    name: str
    day: IntArray
    success: BoolArray
    evaluable: BoolArray

    def first_attack(self) -> PatientResponse:
        """The outcome of each patient's first treated attack (earliest day, then slot)."""
        treated = self.day >= 0
        key = np.where(treated, self.day, np.iinfo(np.int64).max)
        first = np.argmin(key, axis=1)
        rows = np.arange(self.day.shape[0])
        has = treated.any(axis=1)
        analysed = has & self.evaluable[rows, first]
        return PatientResponse(analysed & self.success[rows, first], analysed)

    def per_patient(self) -> AttackProportions:
        """Share of each patient's evaluable treated attacks that succeeded."""
        n = self.evaluable.sum(axis=1).astype(np.int64)
        k = (self.success & self.evaluable).sum(axis=1)
        prop = np.where(n > 0, k / np.maximum(n, 1), np.nan)
        return AttackProportions(np.asarray(prop, dtype=np.float64), n)


def _arrays(
    day: npt.ArrayLike,
    pain: npt.ArrayLike,
    rescue_min: npt.ArrayLike,
    scale_max: int,
    times_min: tuple[int, ...],
) -> tuple[IntArray, npt.NDArray[np.int64], FloatArray]:
    d = np.asarray(day, dtype=np.int64)
    p = np.asarray(pain, dtype=np.int64)
    r = np.asarray(rescue_min, dtype=np.float64)
    if d.ndim != 2:
        raise ValidationError("day", f"shape {d.shape}", "a (patients, K) array")
    if p.shape != (*d.shape, len(times_min)):
        raise ValidationError("pain", f"shape {p.shape}", f"{(*d.shape, len(times_min))}")
    if r.shape != d.shape:
        raise ValidationError("rescue_min", f"shape {r.shape}", f"the shape of day {d.shape}")
    if scale_max < 1:
        raise ValidationError("scale_max", scale_max, "a positive top of the pain scale")
    if np.any((p < -1) | (p > scale_max)):
        raise ValidationError("pain", "out of range", f"-1 (missing) or 0–{scale_max}")
    if np.any(r[~np.isnan(r)] < 0):
        raise ValidationError("rescue_min", "negative", "minutes ≥ 0 or NaN")
    return d, p, r


def attack_outcome(
    day: npt.ArrayLike,
    pain: npt.ArrayLike,
    rescue_min: npt.ArrayLike,
    scale_max: int,
    *,
    at_min: int,
    max_pain: int,
    from_min_pain: int | None = None,
    rescue_free_until_min: float | None = None,
    times_min: tuple[int, ...] | None = None,
    missing: MissingRule = "non_responder",
    name: str | None = None,
) -> AttackOutcome:
    """Evaluate one endpoint on every treated attack (see the module docstring).

    Parameters
    ----------
    day, pain, rescue_min, scale_max
        Arrays of the ``TreatedAttacks`` interface.
    at_min
        Minutes after treatment of the rating (one of ``times_min``).
    max_pain
        Highest pain that counts as success at ``at_min``.
    from_min_pain
        Only attacks treated (time 0) at this pain or more are evaluable (pain relief: 2).
    rescue_free_until_min
        Rescue before this many minutes is a failure (default ``at_min``; ACT1: 60).
    times_min
        Rating times (default ``headache_endpoints.yaml`` ``times_min``).
    missing
        ``"non_responder"``: an unrated attack fails; ``"exclude"``: it is not evaluable.
    name
        Label of the outcome.
    """
    times = headache_times_min() if times_min is None else tuple(int(t) for t in times_min)
    d, p, r = _arrays(day, pain, rescue_min, int(scale_max), times)
    if at_min not in times:
        raise ValidationError("at_min", at_min, "one of " + ", ".join(map(str, times)))
    if not 0 <= max_pain <= scale_max:
        raise ValidationError("max_pain", max_pain, f"0–{scale_max}")
    if missing not in ("non_responder", "exclude"):
        raise ValidationError("missing", missing, "non_responder or exclude")
    until = float(at_min) if rescue_free_until_min is None else float(rescue_free_until_min)
    treated = d >= 0
    eligible = treated
    if from_min_pain is not None:
        if 0 not in times:
            raise ValidationError("times_min", times, "a rating at 0 min (from_min_pain)")
        if not 0 <= from_min_pain <= scale_max:
            raise ValidationError("from_min_pain", from_min_pain, f"0–{scale_max}")
        eligible = treated & (p[..., times.index(0)] >= from_min_pain)
    pt = p[..., times.index(at_min)]
    rated = pt >= 0
    rescued = ~np.isnan(r) & (np.nan_to_num(r, nan=np.inf) < until)
    success = eligible & ~rescued & rated & (pt <= max_pain)
    evaluable = eligible if missing == "non_responder" else eligible & (rated | rescued)
    label = name or f"pain_le_{max_pain}_at_{at_min}min"
    return AttackOutcome(label, d, success, evaluable)


def cluster_response(
    attacks: TreatedAttackArrays,
    *,
    at_min: int | None = None,
    max_pain: int | None = None,
    rescue_free_until_min: float | None = None,
    missing: MissingRule = "non_responder",
) -> AttackOutcome:
    """ACT1's response: pain ≤ 1 (0–4 scale) at 15 min and no rescue before 60 min."""
    at = int(headache_number("cluster_response_at_min")) if at_min is None else at_min
    return attack_outcome(
        attacks.day, attacks.pain, attacks.rescue_min, attacks.scale_max,
        at_min=at,
        max_pain=int(headache_number("cluster_response_max_pain")) if max_pain is None
        else max_pain,
        rescue_free_until_min=headache_number("cluster_rescue_free_min")
        if rescue_free_until_min is None else rescue_free_until_min,
        missing=missing,
        name=f"cluster_response_{at}min",
    )  # fmt: skip


def pain_free(
    attacks: TreatedAttackArrays,
    at_min: int | None = None,
    *,
    rescue_free_until_min: float | None = None,
    missing: MissingRule = "non_responder",
) -> AttackOutcome:
    """Pain 0 at ``at_min`` (default 120 min) without rescue before it."""
    at = int(headache_number("migraine_primary_at_min")) if at_min is None else at_min
    return attack_outcome(
        attacks.day, attacks.pain, attacks.rescue_min, attacks.scale_max,
        at_min=at, max_pain=0, rescue_free_until_min=rescue_free_until_min,
        missing=missing, name=f"pain_free_{at}min",
    )  # fmt: skip


def pain_relief(
    attacks: TreatedAttackArrays,
    at_min: int | None = None,
    *,
    rescue_free_until_min: float | None = None,
    missing: MissingRule = "non_responder",
) -> AttackOutcome:
    """Migraine pain relief: treated at pain ≥ 2 (moderate, severe), pain ≤ 1 at ``at_min``."""
    at = int(headache_number("migraine_primary_at_min")) if at_min is None else at_min
    return attack_outcome(
        attacks.day, attacks.pain, attacks.rescue_min, attacks.scale_max,
        at_min=at,
        max_pain=int(headache_number("relief_max_pain")),
        from_min_pain=int(headache_number("relief_from_min_pain")),
        rescue_free_until_min=rescue_free_until_min,
        missing=missing,
        name=f"pain_relief_{at}min",
    )  # fmt: skip


def mean_pain(
    attacks: TreatedAttackArrays, at_min: int, *, times_min: tuple[int, ...] | None = None
) -> FloatArray:
    """Per patient, the mean pain at ``at_min`` over the treated attacks rated then (ACT1's
    mean pain of all treated attacks); NaN for patients with none."""
    times = headache_times_min() if times_min is None else tuple(int(t) for t in times_min)
    d, p, _ = _arrays(attacks.day, attacks.pain, attacks.rescue_min, attacks.scale_max, times)
    if at_min not in times:
        raise ValidationError("at_min", at_min, "one of " + ", ".join(map(str, times)))
    pt = p[..., times.index(at_min)]
    ok = (d >= 0) & (pt >= 0)
    n = ok.sum(axis=1)
    total = np.where(ok, pt, 0).sum(axis=1)
    return np.asarray(np.where(n > 0, total / np.maximum(n, 1), np.nan), dtype=np.float64)


def compare_first_attack(
    a: PatientResponse,
    b: PatientResponse,
    *,
    test: ProportionMethod = "auto",
    confidence: float = 0.95,
) -> Comparison:
    """Difference a − b of the shares of successful first attacks: Newcombe's hybrid score
    interval, p from Fisher's exact test, Pearson's chi-square or (``"auto"``) Fisher when an
    expected count is below 5."""
    if a.n == 0 or b.n == 0:
        nan = float("nan")
        return Comparison(nan, nan, nan, nan, "none (empty arm)")
    return newcombe_difference(a.count, a.n, b.count, b.n, confidence=confidence, method=test)


def compare_attack_proportions(
    a: AttackProportions,
    b: AttackProportions,
    *,
    test: MeanTest = "welch",
    confidence: float = 0.95,
) -> Comparison:
    """Difference a − b of the mean per-patient proportion of successful attacks (patients
    with at least one evaluable attack): Welch's or Student's t, or Mann–Whitney."""
    return compare_changes(a.proportion, b.proportion, test=test, confidence=confidence)
