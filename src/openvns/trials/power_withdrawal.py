"""Power of a randomised-withdrawal design (``[trial.withdrawal]``), vectorised across replicates.

The design's endpoint (:func:`openvns.trials.withdrawal.withdrawal_outcome`) is the loss of
response among the run-in responders: the share of each arm's run-in responders who lost the
response, withdrawn (the second arm) minus continued (the first), tested by the p-value of
:func:`~openvns.analysis.statistics.newcombe_difference`, i.e.
:func:`~openvns.analysis.statistics.proportion_test` with ``method="auto"`` (Pearson's
chi-square without continuity correction, Fisher's exact test when an expected count of the 2×2
table is below 5), which :func:`openvns.trials.power_stats.proportion_p` computes per replicate.
A replicate in which an arm has no run-in responder has no test (``withdrawal_outcome`` gives a
NaN p-value) and does not reject.

Per patient, :func:`withdrawal_flags` computes on the blinded phase what ``withdrawal_outcome``
computes: a run-in responder has at least ``responder_pct`` % less pain in the last 4 weeks of
the run-in than at baseline; a responder who has not in the last 4 weeks of the blinded phase
(or has no endpoint there: a dropout) lost the response. :func:`withdrawal_tests` counts them per
arm among the eligible patients of each replicate and tests the counts;
:func:`withdrawal_comparison` gives the same comparison with Newcombe's interval for one trial
(the large-sample effect). The endpoint's comparison is labelled ``"withdraw − continue"`` (the
arms' names, second minus first), the sign of ``withdrawal_outcome``'s difference.

The power curve of a withdrawal design keeps the parallel endpoints beside this one (the change
in mean NRS and the ≥ 30 % / ≥ 50 % responders, first arm minus second, as ``trial run``'s
summary prints them): both arms share the run-in, but those endpoints are measured in the last 4
weeks of the blinded phase, which lie in the withdrawal period (``run_in_days + 28 ≤
blinded_days``), and the arms are randomised at enrolment, so they are a valid randomised
comparison of going on against stopping, on all randomised patients (run-in non-responders
included, which dilutes it), rather than the enriched comparison on the run-in responders that
the design is built for. Their power shows what the enrichment buys; the design's own endpoint
is the first row. :class:`WithdrawalPower` adds per size the mean number of run-in responders per
arm and the share of them who lost the response (the numbers the power depends on).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from openvns.analysis.statistics import Comparison, newcombe_difference
from openvns.trials.power_stats import proportion_p
from openvns.trials.withdrawal import response_flags

if TYPE_CHECKING:
    from openvns.trials.design import TrialDesign
    from openvns.trials.power_stats import PatientEndpoints

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

__all__ = [
    "WITHDRAWAL_ENDPOINT",
    "WithdrawalPower",
    "comparison_label",
    "withdrawal_comparison",
    "withdrawal_counts",
    "withdrawal_flags",
    "withdrawal_power",
    "withdrawal_tests",
]

#: The endpoint key of the loss of response (power curve, ``power.csv``, evidence).
WITHDRAWAL_ENDPOINT = "lost_response"


def comparison_label(names: Sequence[str], arm: int, endpoint: str) -> str:
    """``"first − other"`` for the parallel endpoints; ``"withdraw − continue"`` (second minus
    first, the sign of :class:`~openvns.trials.withdrawal.WithdrawalOutcome`) for the loss of
    response."""
    if endpoint == WITHDRAWAL_ENDPOINT:
        return f"{names[arm]} − {names[0]}"
    return f"{names[0]} − {names[arm]}"


def withdrawal_flags(
    design: TrialDesign, nrs: npt.ArrayLike, observed: npt.ArrayLike
) -> tuple[BoolArray, BoolArray]:
    """Per patient (rows of the diaries ``nrs``, ``observed`` from day 0 through at least the
    blinded phase): run-in responder, and lost the response (a run-in responder only), as
    :func:`~openvns.trials.withdrawal.withdrawal_outcome` classifies them. All ``False`` without
    a withdrawal design."""
    return response_flags(design, nrs, observed)


def withdrawal_counts(
    ep: PatientEndpoints, arms: IntArray
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Per replicate (row of ``ep``): lost and run-in responders of the withdrawn arm (1), then
    of the continued arm (0), among the eligible patients."""
    eligible = np.atleast_2d(ep.eligible)
    responder = eligible & np.atleast_2d(ep.run_in_responder)
    lost = responder & np.atleast_2d(ep.lost_response)
    cont, wd = arms == 0, arms == 1
    return (
        lost[:, wd].sum(axis=1),
        responder[:, wd].sum(axis=1),
        lost[:, cont].sum(axis=1),
        responder[:, cont].sum(axis=1),
    )


def withdrawal_tests(ep: PatientEndpoints, arms: IntArray) -> tuple[FloatArray, FloatArray]:
    """Per replicate: the difference of the shares losing the response (withdrawn − continued)
    and its p-value (NaN where an arm has no run-in responder)."""
    x1, n1, x2, n2 = withdrawal_counts(ep, arms)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = x1 / n1 - x2 / n2
    return np.asarray(est, dtype=np.float64), proportion_p(x1, n1, x2, n2)


def withdrawal_comparison(
    ep: PatientEndpoints, arms: IntArray, *, confidence: float = 0.95
) -> Comparison:
    """One trial's loss-of-response comparison with Newcombe's interval, as
    ``withdrawal_outcome`` (NaN where an arm has no run-in responder)."""
    x1, n1, x2, n2 = (int(v[0]) for v in withdrawal_counts(ep, arms))
    if n1 == 0 or n2 == 0:
        nan = float("nan")
        return Comparison(nan, nan, nan, nan, "none (no run-in responder in an arm)")
    return newcombe_difference(x1, n1, x2, n2, confidence=confidence)


@dataclass(frozen=True)
class WithdrawalPower:
    """Run-in responders and loss of response per size (arrays ``(sizes, 2)``: continued,
    withdrawn), means over the replicates.

    Attributes
    ----------
    arm_names
        The continued and the withdrawn arm.
    run_in_days, responder_pct
        The design's run-in.
    sizes, replicates
        Patients per unit of allocation ratio, and replicates per size.
    responders
        Mean run-in responders per arm.
    lost_share
        Share of the run-in responders (all replicates pooled) who lost the response.
    """

    arm_names: tuple[str, str]
    run_in_days: int
    responder_pct: float
    sizes: tuple[int, ...]
    replicates: int
    responders: FloatArray
    lost_share: FloatArray

    def lines(self) -> list[str]:
        """A heading, then one line per size."""
        c, w = self.arm_names
        out = [
            f"randomised withdrawal: loss of response among the run-in responders (≥ "
            f"{self.responder_pct:g} % less pain in the last 4 weeks of the {self.run_in_days}-day "
            f"run-in), {w} − {c}; run-in responders per arm (mean of the trials) and the share "
            "of them who lost the response:"
        ]
        for j, n in enumerate(self.sizes):
            out.append(
                f"  n = {n}: {c} {self.responders[j, 0]:.1f} ({100 * self.lost_share[j, 0]:.0f} % "
                f"lost), {w} {self.responders[j, 1]:.1f} ({100 * self.lost_share[j, 1]:.0f} % lost)"
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-able."""
        c, w = self.arm_names
        return {
            "endpoint": WITHDRAWAL_ENDPOINT,
            "run_in_days": self.run_in_days,
            "responder_pct": self.responder_pct,
            "sizes": list(self.sizes),
            "replicates": self.replicates,
            "mean_run_in_responders": {
                c: [float(x) for x in self.responders[:, 0]],
                w: [float(x) for x in self.responders[:, 1]],
            },
            "lost_share": {
                c: [_num(x) for x in self.lost_share[:, 0]],
                w: [_num(x) for x in self.lost_share[:, 1]],
            },
        }


def _num(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def withdrawal_power(
    design: TrialDesign,
    ep: PatientEndpoints,
    arms_for: Callable[[int], IntArray],
    sizes: tuple[int, ...],
    ratio_sum: int,
) -> WithdrawalPower:
    """:class:`WithdrawalPower` of ``ep`` (``(R, n_max · Σratio)``) at each size; ``arms_for(n)``
    gives the arm of each of a replicate's first ``n`` patients."""
    w = design.withdrawal
    assert w is not None
    r = int(np.atleast_2d(ep.eligible).shape[0])
    responders, shares = [], []
    for n in sizes:
        total = n * ratio_sum
        x1, n1, x2, n2 = withdrawal_counts(ep.take(total), arms_for(total))
        responders.append([n2.mean(), n1.mean()])
        with np.errstate(divide="ignore", invalid="ignore"):
            shares.append([x2.sum() / n2.sum(), x1.sum() / n1.sum()])
    names = (design.arms[0].name, design.arms[1].name)
    return WithdrawalPower(
        arm_names=names,
        run_in_days=w.run_in_days,
        responder_pct=w.responder_pct,
        sizes=sizes,
        replicates=r,
        responders=np.asarray(responders, dtype=np.float64),
        lost_share=np.asarray(shares, dtype=np.float64),
    )
