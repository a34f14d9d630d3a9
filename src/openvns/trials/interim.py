"""An adaptive design with one pre-specified interim analysis: stop early for efficacy or futility.

The trial's primary comparison (first arm minus the second: the blinded phase's change in mean
NRS, Welch) is looked at twice: at the interim, on the first ``information_fraction`` of each
arm's patients (by enrolment order: the patients' indices), and at the end, on all of them. The
efficacy boundaries spend the two-sided α with the Lan–DeMets O'Brien–Fleming-type function
``α(t) = 2 − 2 Φ(z_{1−α/2} / √t)`` (Lan & DeMets 1983), so the overall type I error is α: at
the interim the trial stops for efficacy when ``|z| ≥ c₁``; otherwise it stops for futility when
``z`` in the favourable direction (the first arm better: a negative difference) is below
``futility_z`` (non-binding; ``None``: no futility stop); otherwise it goes on and is judged
at the end against ``c₂``, where ``P(|Z₁| < c₁, |Z₂| ≥ c₂) = α − α(t)`` with
``corr(Z₁, Z₂) = √t``. With this two-sided form ``c₁ = z_{1−α/2} / √t`` (2.772 and then 1.979
at t = 0.5, α = 0.05). gsDesign's ``sfLDOF`` applies the same function to the one-sided level
(0.025), which gives the more conservative 2.963 and 1.969 often quoted; the choice is stated
here because both are in use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import model_validator
from scipy import optimize, stats  # type: ignore[import-untyped]

from openvns.analysis.endpoints import change_from_baseline, endpoint_window
from openvns.base import FrozenModel
from openvns.errors import ValidationError

if TYPE_CHECKING:
    from openvns.trials.runner import TrialResult


class Interim(FrozenModel):
    """One pre-specified interim analysis of the primary comparison (``[trial.interim]``).

    Attributes
    ----------
    information_fraction
        Share of each arm's patients (by enrolment) the interim looks at, in (0, 1).
    alpha
        Two-sided type I error of the whole design.
    futility_z
        Stop for futility at the interim when the z of the first arm's advantage is below this
        (e.g. 0: the interim favours the other arm); ``None``: never.
    """

    information_fraction: float = 0.5
    alpha: float = 0.05
    futility_z: float | None = None

    @model_validator(mode="after")
    def _valid(self) -> Interim:
        if not 0.0 < self.information_fraction < 1.0:
            raise ValidationError(
                "information_fraction", self.information_fraction, "a fraction in (0, 1)"
            )
        if not 0.0 < self.alpha < 1.0:
            raise ValidationError("alpha", self.alpha, "a probability in (0, 1)")
        if self.futility_z is not None and not math.isfinite(self.futility_z):
            raise ValidationError("futility_z", self.futility_z, "a finite z value")
        return self


def obrien_fleming_spending(t: float, alpha: float) -> float:
    """Two-sided α spent by information fraction ``t`` (Lan–DeMets O'Brien–Fleming type)."""
    z = stats.norm.ppf(1.0 - alpha / 2.0)
    return float(2.0 - 2.0 * stats.norm.cdf(z / math.sqrt(t)))


def boundaries(information_fraction: float, alpha: float = 0.05) -> tuple[float, float]:
    """The two-sided efficacy boundaries ``(c₁, c₂)`` of the interim and the final look."""
    t = information_fraction
    spent = obrien_fleming_spending(t, alpha)
    c1 = float(stats.norm.ppf(1.0 - spent / 2.0))
    rho = math.sqrt(t)
    joint = stats.multivariate_normal(mean=[0.0, 0.0], cov=[[1.0, rho], [rho, 1.0]])

    def inside_both(c2: float) -> float:
        """P(|Z₁| < c₁, |Z₂| < c₂)."""
        return float(joint.cdf([c1, c2], lower_limit=[-c1, -c2]))

    # P(|Z1| < c1) - P(|Z1| < c1, |Z2| < c2) must equal the α left for the final look
    p_continue = 1.0 - spent
    target = alpha - spent

    def excess(c2: float) -> float:
        return (p_continue - inside_both(c2)) - target

    c2 = float(optimize.brentq(excess, 0.5, 10.0, xtol=1e-10))
    return c1, c2


@dataclass(frozen=True)
class Look:
    """One analysis of the primary comparison.

    Attributes
    ----------
    patients
        Eligible patients of the two arms with an endpoint.
    difference, z, p_value
        First arm minus the second (change in mean NRS; negative favours the first arm),
        Welch's statistic as a z, and its two-sided p-value.
    boundary
        The efficacy boundary ``|z|`` must reach.
    """

    patients: int
    difference: float
    z: float
    p_value: float
    boundary: float


@dataclass(frozen=True)
class InterimOutcome:
    """What the design decided.

    Attributes
    ----------
    interim, final
        The two looks (``final`` is ``None`` when the trial stopped at the interim).
    decision
        ``stopped for efficacy`` or ``stopped for harm`` (the boundary crossed in the first
        arm's favour or against it), ``stopped for futility``, ``efficacy at the final
        analysis``, ``harm at the final analysis`` or ``no difference shown``.
    """

    interim: Look
    final: Look | None
    decision: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (``summary.json``)."""

        def look(x: Look | None) -> dict[str, Any] | None:
            if x is None:
                return None
            return {
                "patients": x.patients, "difference": x.difference, "z": x.z,
                "p_value": x.p_value, "boundary": x.boundary,
            }  # fmt: skip

        return {"decision": self.decision, "interim": look(self.interim),
                "final": look(self.final)}  # fmt: skip


def _look(result: TrialResult, fraction: float, boundary: float) -> Look:
    d = result.design
    window = endpoint_window(d.baseline_days + d.blinded_days, d.baseline_days)
    changes = []
    for i in (0, 1):
        idx = np.flatnonzero(result.arm == i)
        order = idx[np.argsort(result.patient_index[idx], kind="stable")]
        take = order[: max(2, math.ceil(fraction * order.size))]
        take = take[result.eligible[take]]
        c = change_from_baseline(
            result.nrs[take].astype(np.float64),
            result.observed[take],
            slice(0, d.baseline_days),
            window,
        ).change_NRS
        changes.append(c[np.isfinite(c)])
    a, b = changes
    if a.size < 2 or b.size < 2:
        raise ValidationError(
            "interim.information_fraction", fraction, "enough patients for two per arm"
        )
    test = stats.ttest_ind(a, b, equal_var=False)
    p = float(test.pvalue)
    diff = float(a.mean() - b.mean())
    z = math.copysign(float(stats.norm.isf(p / 2.0)) if p > 0 else math.inf, diff)
    return Look(int(a.size + b.size), diff, z, p, boundary)


def interim_outcome(result: TrialResult, interim: Interim) -> InterimOutcome:
    """Apply ``interim`` to the trial's primary comparison (first arm minus the second)."""
    if len(result.arm_names) < 2 or result.design.crossover is not None:
        raise ValidationError("interim", "given", "a parallel design with at least two arms")
    c1, c2 = boundaries(interim.information_fraction, interim.alpha)
    first = _look(result, interim.information_fraction, c1)
    if abs(first.z) >= c1:
        return InterimOutcome(first, None, f"stopped for {_side(first.z)}")
    if interim.futility_z is not None and -first.z < interim.futility_z:
        return InterimOutcome(first, None, "stopped for futility")
    final = _look(result, 1.0, c2)
    if abs(final.z) >= c2:
        return InterimOutcome(first, final, f"{_side(final.z)} at the final analysis")
    return InterimOutcome(first, final, "no difference shown")


def _side(z: float) -> str:
    """A negative difference (less pain on the first arm) is efficacy."""
    return "efficacy" if z < 0 else "harm"
