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

Time to loss of response (:func:`time_to_loss`), the time-to-event endpoint of such trials:
for each run-in responder, weeks ``w = 1, 2, …`` after the run-in, the second of the first two
weeks in a row whose mean NRS (at least half its days in the diary) is no longer
``responder_pct`` % below the baseline mean, or the week of dropout (a treatment failure) if that
comes first: FREEDOM's "loss of therapeutic response", < 30 % reduction at two consecutive
visits or discontinuation (Crofford et al. 2008, Pain 136:419, a randomised-withdrawal trial in
fibromyalgia). A week with too few entries breaks a run. Patients who kept the response are
censored at the last week of the blinded phase. Per arm a Kaplan–Meier curve and its median,
between arms the log-rank test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from pydantic import model_validator

from openvns.analysis.endpoints import (
    DAYS_PER_WEEK,
    ENDPOINT_WINDOW_DAYS,
    change_from_baseline,
    endpoint_window,
    window_mean_NRS,
)
from openvns.analysis.statistics import KaplanMeier, kaplan_meier, logrank_test, newcombe_difference
from openvns.base import FrozenModel
from openvns.errors import ValidationError

if TYPE_CHECKING:
    from openvns.trials.design import TrialDesign
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
    time_to_loss: dict[str, TimeToLoss] | None = None
    logrank_p: float = float("nan")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (``summary.json``)."""
        doc: dict[str, Any] = {
            "run_in_responders": dict(self.run_in_responders),
            "lost_response": dict(self.lost),
            "difference": [self.difference, self.lower, self.upper],
            "p_value": self.p_value,
        }
        if self.time_to_loss is not None:
            doc["time_to_loss"] = {
                "median_weeks": {a: t.median_weeks() for a, t in self.time_to_loss.items()},
                "events": {a: int(t.lost.sum()) for a, t in self.time_to_loss.items()},
                "logrank_p": self.logrank_p,
                "method": "Kaplan–Meier, log-rank",
            }
        return doc


@dataclass(frozen=True)
class TimeToLoss:
    """Weeks from the end of the run-in to the loss of response, per run-in responder.

    Attributes
    ----------
    time_weeks
        Week of the loss (an event) or of censoring.
    lost
        Whether the response was lost (else censored).
    """

    time_weeks: npt.NDArray[np.float64]
    lost: npt.NDArray[np.bool_]

    def kaplan_meier(self, *, confidence: float = 0.95) -> KaplanMeier:
        """KM estimate of the probability of keeping the response."""
        return kaplan_meier(self.time_weeks, self.lost, confidence=confidence)

    def median_weeks(self) -> float | None:
        """Kaplan–Meier median weeks to the loss (first week with ``S ≤ 0.5``); ``None`` if
        not reached."""
        if not self.lost.any():
            return None
        km = self.kaplan_meier()
        hit = np.flatnonzero(km.survival <= 0.5)
        return float(km.time[hit[0]]) if hit.size else None


def response_flags(
    design: TrialDesign, nrs: npt.ArrayLike, observed: npt.ArrayLike
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Per patient (rows of the diaries ``nrs``, ``observed`` from day 0 through at least the
    blinded phase): run-in responder, and lost the response by the end of the blinded phase (a
    run-in responder only; see the module documentation). All ``False`` without a withdrawal
    design."""
    x = np.asarray(nrs, dtype=np.float64)
    obs = np.asarray(observed, dtype=bool)
    w = design.withdrawal
    if w is None:
        none = np.zeros(x.shape[0], dtype=bool)
        return none, none.copy()
    base = slice(0, design.baseline_days)
    run_in_end = design.baseline_days + w.run_in_days
    blinded_end = design.baseline_days + design.blinded_days
    at_run_in = change_from_baseline(x, obs, base, endpoint_window(run_in_end, base.stop))
    at_end = change_from_baseline(x, obs, base, endpoint_window(blinded_end, run_in_end))
    threshold = -w.responder_pct + 1e-9
    responded = np.nan_to_num(at_run_in.change_pct, nan=np.inf) <= threshold
    kept = np.nan_to_num(at_end.change_pct, nan=np.inf) <= threshold
    return responded, responded & ~kept


def withdrawal_outcome(result: TrialResult) -> WithdrawalOutcome:
    """Loss of response in a randomised-withdrawal trial (see the module documentation)."""
    d = result.design
    if d.withdrawal is None:
        raise ValidationError("withdrawal", None, "a design with [trial.withdrawal]")
    responders: dict[str, int] = {}
    lost: dict[str, int] = {}
    for i, arm in enumerate(result.arm_names[:2]):
        sel = (result.arm == i) & result.eligible
        responded, gone = response_flags(d, result.nrs[sel], result.observed[sel])
        responders[arm] = int(responded.sum())
        lost[arm] = int(gone.sum())
    first, second = result.arm_names[:2]
    times = time_to_loss(result)
    if responders[first] == 0 or responders[second] == 0:
        nan = float("nan")
        return WithdrawalOutcome(responders, lost, nan, nan, nan, nan, times)
    c = newcombe_difference(lost[second], responders[second], lost[first], responders[first])
    a, b = times[first], times[second]
    lr = logrank_test(a.time_weeks, a.lost, b.time_weeks, b.lost)
    return WithdrawalOutcome(
        responders, lost, float(c.estimate), float(c.lower), float(c.upper), float(c.p_value),
        times, float(lr.p_value),
    )  # fmt: skip


def time_to_loss(result: TrialResult) -> dict[str, TimeToLoss]:
    """Per arm, the run-in responders' weeks to the loss of response (see the module
    documentation)."""
    d = result.design
    w = d.withdrawal
    if w is None:
        raise ValidationError("withdrawal", None, "a design with [trial.withdrawal]")
    base = slice(0, d.baseline_days)
    run_in_end = d.baseline_days + w.run_in_days
    blinded_end = d.baseline_days + d.blinded_days
    n_weeks = -(-(blinded_end - run_in_end) // DAYS_PER_WEEK)
    out: dict[str, TimeToLoss] = {}
    for i, arm in enumerate(result.arm_names[:2]):
        sel = (result.arm == i) & result.eligible
        responded, _ = response_flags(d, result.nrs[sel], result.observed[sel])
        nrs = result.nrs[sel][responded].astype(np.float64)
        obs = result.observed[sel][responded]
        baseline = window_mean_NRS(nrs, obs, base)
        keep_below = baseline * (1.0 - w.responder_pct / 100.0) + 1e-9
        drop = result.dropout_day[sel][responded]
        lost_week = np.full(nrs.shape[0], np.inf)
        above_before = np.zeros(nrs.shape[0], dtype=bool)
        for k in range(n_weeks):
            start = run_in_end + k * DAYS_PER_WEEK
            week = window_mean_NRS(nrs, obs, slice(start, min(start + DAYS_PER_WEEK, blinded_end)))
            gone = (drop >= 0) & (drop < start + DAYS_PER_WEEK)  # dropped out by this week's end
            above = np.isfinite(week) & (week > keep_below)
            event = gone | (above & above_before)  # the second of two weeks in a row
            lost_week = np.where(np.isinf(lost_week) & event, k + 1, lost_week)
            above_before = above
        lost = np.isfinite(lost_week)
        out[arm] = TimeToLoss(np.where(lost, lost_week, float(n_weeks)), lost)
    return out
