"""A randomised-withdrawal design: every patient starts on the active protocol; after an
open-label run-in, half go on and half are withdrawn (switched to the second arm's protocol, e.g.
0 mA); the endpoint is loss of response among the run-in responders.

Patients are randomised at enrolment to ``continue`` (the first arm) or ``withdraw`` (the
second), and both arms receive the first arm's protocol through its device for the first
``run_in_days`` of the blinded phase; then the withdrawn arm gets its own protocol through the
same device until the blinded phase ends. Because the assignment does not depend on the run-in,
analysing the run-in responders of each arm is equivalent to randomising the responders after the
run-in, as such trials do. A run-in responder has at least ``responder_pct`` % less pain in the
last 4 weeks of the run-in than at baseline; one who has not in the last 4 weeks of the blinded
phase (or has no endpoint there: a dropout) has lost the response.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import model_validator

from openvns.analysis.endpoints import ENDPOINT_WINDOW_DAYS, change_from_baseline, endpoint_window
from openvns.analysis.statistics import newcombe_difference
from openvns.base import FrozenModel
from openvns.errors import ValidationError

if TYPE_CHECKING:
    from openvns.trials.runner import TrialResult


class Withdrawal(FrozenModel):
    """The run-in of a randomised-withdrawal design (``[trial.withdrawal]``).

    Attributes
    ----------
    run_in_days
        Days of the open-label run-in at the start of the blinded phase (at least the endpoint
        window, 28 days); the withdrawal period is the rest of the blinded phase.
    responder_pct
        Reduction of pain (percent of baseline) that makes a run-in responder, and whose loss
        is the endpoint.
    """

    run_in_days: int
    responder_pct: float = 30.0

    @model_validator(mode="after")
    def _valid(self) -> Withdrawal:
        if self.run_in_days < ENDPOINT_WINDOW_DAYS:
            raise ValidationError(
                "run_in_days", self.run_in_days, f"a whole number of days ≥ {ENDPOINT_WINDOW_DAYS}"
            )
        if not 0.0 < self.responder_pct <= 100.0:
            raise ValidationError("responder_pct", self.responder_pct, "a percentage in (0, 100]")
        return self


@dataclass(frozen=True)
class WithdrawalOutcome:
    """Loss of response among the run-in responders, by arm, and the difference.

    Attributes
    ----------
    run_in_responders, lost
        Per arm: run-in responders, and how many of them lost the response.
    difference, lower, upper, p_value
        Share losing response, second arm (withdrawn) minus first (continued), with Newcombe's
        95 % interval and the p-value of :func:`~openvns.analysis.statistics.newcombe_difference`.
    """

    run_in_responders: dict[str, int]
    lost: dict[str, int]
    difference: float
    lower: float
    upper: float
    p_value: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (``summary.json``)."""
        return {
            "run_in_responders": dict(self.run_in_responders),
            "lost_response": dict(self.lost),
            "difference": [self.difference, self.lower, self.upper],
            "p_value": self.p_value,
        }


def withdrawal_outcome(result: TrialResult) -> WithdrawalOutcome:
    """Loss of response in a randomised-withdrawal trial (see the module documentation)."""
    d = result.design
    w = d.withdrawal
    if w is None:
        raise ValidationError("withdrawal", None, "a design with [trial.withdrawal]")
    base = slice(0, d.baseline_days)
    run_in_end = d.baseline_days + w.run_in_days
    blinded_end = d.baseline_days + d.blinded_days
    responders: dict[str, int] = {}
    lost: dict[str, int] = {}
    for i, arm in enumerate(result.arm_names[:2]):
        sel = (result.arm == i) & result.eligible
        nrs = result.nrs[sel].astype(np.float64)
        obs = result.observed[sel]
        at_run_in = change_from_baseline(
            nrs, obs, base, endpoint_window(run_in_end, d.baseline_days)
        )
        at_end = change_from_baseline(nrs, obs, base, endpoint_window(blinded_end, run_in_end))
        threshold = -w.responder_pct + 1e-9
        responded = np.nan_to_num(at_run_in.change_pct, nan=np.inf) <= threshold
        kept = np.nan_to_num(at_end.change_pct, nan=np.inf) <= threshold
        responders[arm] = int(responded.sum())
        lost[arm] = int((responded & ~kept).sum())
    first, second = result.arm_names[:2]
    if responders[first] == 0 or responders[second] == 0:
        nan = float("nan")
        return WithdrawalOutcome(responders, lost, nan, nan, nan, nan)
    c = newcombe_difference(lost[second], responders[second], lost[first], responders[first])
    return WithdrawalOutcome(
        responders, lost, float(c.estimate), float(c.lower), float(c.upper), float(c.p_value)
    )
