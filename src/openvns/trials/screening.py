"""Screening before randomisation: the baseline diary decides who is randomised.

A trial screens candidates one after another, keeps a baseline diary for each and randomises
those who meet the inclusion criteria until every arm is full; the others are screen failures,
counted by the criterion they failed (CONSORT's "excluded: not meeting inclusion criteria").
:func:`screen` does the same with the named patients of a condition: candidate ``j`` is the
patient of index ``j`` under the run's root seed (its own streams), its baseline is simulated
alone (no device runs in the baseline, and the engine runs day by day, so the baseline diary
is the same bit for bit as in the whole trial; ``tests/trials/test_screening.py`` checks it),
and the first ``n`` candidates who qualify are the randomised patients. Screening stops at the
``n``-th eligible candidate: the screened count is that candidate's position.

Failure reasons (each failing patient counted once, under the first criterion failed in this
order): no diary entry at all or too few baseline days in the diary; mean baseline pain below
or above the range; for a headache condition the attack criteria instead of the pain ones
(attacks per week, migraine days, headache days, each below or above).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from openvns.errors import ValidationError

if TYPE_CHECKING:
    from openvns.simulation.parameters import ModelParameters
    from openvns.trials.design import InclusionCriteria, TrialDesign

__all__ = [
    "MAX_SCREENED_PER_RANDOMISED",
    "Screening",
    "failure_labels",
    "headache_failures",
    "pain_failures",
    "screen",
]

log = logging.getLogger(__name__)

#: Most candidates screened per patient to randomise before the criteria are refused as
#: admitting (almost) nobody.
MAX_SCREENED_PER_RANDOMISED = 50
#: Candidates per screening batch at least (the baselines of a batch run as one cohort).
MIN_BATCH = 256

# failure codes; 0 is eligible
_DIARY = 1
_PAIN_LOW, _PAIN_HIGH = 2, 3
_RATES = ("attacks_per_week", "migraine_days", "headache_days")
_RATE_UNITS = {
    "attacks_per_week": ("attacks per week", 7.0),
    "migraine_days": ("migraine days per 28 days", 28.0),
    "headache_days": ("headache days per 28 days", 28.0),
}
_FIRST_RATE = 4  # code of rate k below its minimum: 4 + 2k, above its maximum: 5 + 2k


def failure_labels(criteria: InclusionCriteria) -> tuple[str, ...]:
    """Labels of the failure codes (index = code; ``labels[0]`` is ``"eligible"``)."""
    labels = [
        "eligible",
        f"baseline diary under {100 * criteria.min_diary_fraction:.0f} % of days",
        f"mean baseline pain below {criteria.min_mean_pain:g}",
        f"mean baseline pain above {criteria.max_mean_pain:g}",
    ]
    for name in _RATES:
        unit, _ = _RATE_UNITS[name]
        lo, hi = getattr(criteria, f"min_{name}"), getattr(criteria, f"max_{name}")
        labels.append(f"{unit} below {lo:g}" if lo is not None else f"{unit} below minimum")
        labels.append(f"{unit} above {hi:g}" if hi is not None else f"{unit} above maximum")
    return tuple(labels)


def pain_failures(
    criteria: InclusionCriteria, baseline_pain: npt.ArrayLike
) -> npt.NDArray[np.int8]:
    """Failure code per patient (0 eligible) from baseline NRS ``(patients, days)``, NaN where
    no entry."""
    pain = np.asarray(baseline_pain, dtype=float)
    if pain.ndim != 2:
        raise ValidationError("baseline_pain", pain.shape, "an array of shape (patients, days)")
    present = ~np.isnan(pain)
    n_present = present.sum(axis=1)
    frac = n_present / pain.shape[1] if pain.shape[1] else np.zeros(pain.shape[0])
    mean = np.where(present, pain, 0.0).sum(axis=1) / np.maximum(n_present, 1)
    code = np.zeros(pain.shape[0], dtype=np.int8)
    code = _first(code, mean > criteria.max_mean_pain, _PAIN_HIGH)
    code = _first(code, mean < criteria.min_mean_pain, _PAIN_LOW)
    return _first(code, (n_present == 0) | (frac < criteria.min_diary_fraction), _DIARY)


def headache_failures(
    criteria: InclusionCriteria, attacks: Any, baseline_days: int
) -> npt.NDArray[np.int8]:
    """Failure code per patient (0 eligible) of a headache condition from the attack diary's
    first ``baseline_days`` (an ``AttackDiary``): the diary fraction, then the attack criteria
    over the observed baseline days."""
    obs = np.asarray(attacks.observed)[:, :baseline_days]
    n_obs = obs.sum(axis=1)
    days = np.maximum(n_obs, 1)
    events = {
        "attacks_per_week": np.asarray(attacks.attacks)[:, :baseline_days],
        "migraine_days": np.asarray(attacks.migraine_day)[:, :baseline_days],
        "headache_days": np.asarray(attacks.headache_day)[:, :baseline_days],
    }
    code = np.zeros(obs.shape[0], dtype=np.int8)
    for k in reversed(range(len(_RATES))):  # the earlier criterion wins: set it last
        name = _RATES[k]
        rate = np.where(obs, events[name], 0).sum(axis=1) / days * _RATE_UNITS[name][1]
        lo, hi = getattr(criteria, f"min_{name}"), getattr(criteria, f"max_{name}")
        if hi is not None:
            code = _first(code, rate > hi, _FIRST_RATE + 2 * k + 1)
        if lo is not None:
            code = _first(code, rate < lo, _FIRST_RATE + 2 * k)
    fraction_short = (n_obs == 0) | (n_obs / max(baseline_days, 1) < criteria.min_diary_fraction)
    return _first(code, fraction_short, _DIARY)


def _first(
    code: npt.NDArray[np.int8], failed: npt.NDArray[np.bool_], value: int
) -> npt.NDArray[np.int8]:
    """``code`` with ``value`` where ``failed`` (callers go from the last criterion to the first,
    so the first failed one is what remains)."""
    return np.where(failed, np.int8(value), code).astype(np.int8)


@dataclass(frozen=True)
class Screening:
    """Who was screened and who was randomised.

    Attributes
    ----------
    screened
        Candidates screened (indices ``0 … screened − 1`` from the first).
    randomised
        Candidates randomised.
    failures
        Screen failures by reason (label → count, the reasons of :func:`failure_labels` that
        occurred, in that order).
    arm_full
        Candidates who qualified after the arm their place on the allocation list gives them
        had filled (enrolment to it closed); with ``failures`` they add up to
        ``screened − randomised``.
    """

    screened: int
    randomised: int
    failures: dict[str, int] = field(default_factory=dict)
    arm_full: int = 0

    @property
    def excluded(self) -> int:
        """Screened but not randomised."""
        return self.screened - self.randomised

    def to_dict(self) -> dict[str, Any]:
        """``{"screened", "excluded", "failures", "arm_full", "randomised"}``."""
        return {
            "screened": self.screened,
            "excluded": self.excluded,
            "failures": dict(self.failures),
            "arm_full": self.arm_full,
            "randomised": self.randomised,
        }


def baseline_failures(
    design: TrialDesign, parameters: ModelParameters, root_seed: int, indices: npt.NDArray[np.int64]
) -> npt.NDArray[np.int8]:
    """Failure code of each named candidate (0 eligible) from its baseline alone."""
    from openvns.patients.cohort import sample_patients
    from openvns.simulation.engine import simulate_cohort

    base = design.baseline_days
    if not base:
        return np.zeros(indices.shape[0], dtype=np.int8)
    cohort = sample_patients(parameters.condition, indices, root_seed, parameters.physiology)
    traj = simulate_cohort(
        cohort, [], baseline_days=base, treatment_days=0, root_seed=root_seed,
        parameters=parameters,
    )  # fmt: skip
    if traj.attacks is not None:
        return headache_failures(design.inclusion, traj.attacks, base)
    return pain_failures(design.inclusion, np.where(traj.observed, traj.nrs, np.nan))


def screen(
    design: TrialDesign,
    parameters: ModelParameters,
    root_seed: int,
    wanted: npt.ArrayLike,
    arm_of: npt.ArrayLike,
    *,
    first_index: int = 0,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], Screening]:
    """Screen candidates ``first_index, first_index + 1, …`` until every arm is full.

    Candidate ``j`` (counted from ``first_index``) has its place on the allocation list,
    ``arm_of[j]``, before it is screened; if it qualifies and its arm still needs patients it is
    randomised there. The arms fill independently, so the assignment never depends on anyone's
    baseline, and a change of the model's parameters that turns one candidate's eligibility
    moves only that candidate (and one at the end of its arm), not everyone after it: the
    patients of a sensitivity analysis stay common random numbers.

    Parameters
    ----------
    wanted
        Patients to randomise per arm.
    arm_of
        The allocation list: the arm of each candidate position (long enough for
        :data:`MAX_SCREENED_PER_RANDOMISED` candidates per patient wanted).

    Returns
    -------
    indices, arms
        The randomised patients' indices in screening order, and their arms.
    screening
        The counts for the CONSORT flow.

    Raises
    ------
    ValidationError
        ``inclusion`` when the list runs out first: fewer than one in
        :data:`MAX_SCREENED_PER_RANDOMISED` candidates qualifies.
    """
    need = np.asarray(wanted, dtype=np.int64).reshape(-1)
    plan = np.asarray(arm_of, dtype=np.int64).reshape(-1)
    n_randomised = int(need.sum())
    if n_randomised == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, Screening(screened=0, randomised=0)
    limit = min(len(plan), MAX_SCREENED_PER_RANDOMISED * n_randomised)
    codes: list[npt.NDArray[np.int8]] = []
    n_screened = 0
    while True:
        done = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int8)
        got = np.bincount(plan[: len(done)][done == 0], minlength=len(need))[: len(need)]
        if np.all(got >= need):
            break
        rate = float((done == 0).mean()) if len(done) else 0.5
        short = int(((need - np.minimum(got, need)) * len(need)).max())
        batch = min(max(int(np.ceil(short / max(rate, 1e-3) * 1.1)), MIN_BATCH),
                    limit - n_screened)  # fmt: skip
        if batch <= 0:
            labels = failure_labels(design.inclusion)
            seen = np.bincount(done, minlength=len(labels))
            worst = labels[int(np.argmax(seen[1:])) + 1]
            raise ValidationError(
                "inclusion",
                design.inclusion.model_dump(exclude_none=True),
                f"criteria that at least 1 in {MAX_SCREENED_PER_RANDOMISED} screened patients "
                f"of {parameters.condition.name} meet ({int((done == 0).sum())} of "
                f"{n_screened} did; most failed on: {worst})",
            )
        start = first_index + n_screened
        idx = np.arange(start, start + batch, dtype=np.int64)
        codes.append(baseline_failures(design, parameters, root_seed, idx))
        n_screened += batch
    every = np.concatenate(codes)
    eligible = every == 0
    arms = plan[: len(every)]
    take = np.zeros(len(every), dtype=bool)
    last = 0
    for a, n in enumerate(need):
        mine = np.flatnonzero(eligible & (arms == a))[:n]
        take[mine] = True
        if n:
            last = max(last, int(mine[-1]))
    screened = last + 1
    labels = failure_labels(design.inclusion)
    counts = np.bincount(every[:screened], minlength=len(labels))
    failures = {labels[k]: int(counts[k]) for k in range(1, len(labels)) if counts[k]}
    arm_full = int((eligible[:screened] & ~take[:screened]).sum())
    chosen = np.flatnonzero(take)
    log.info("screening: %d screened, %d randomised", screened, n_randomised)
    return (
        first_index + chosen.astype(np.int64),
        arms[chosen].astype(np.int64),
        Screening(screened=screened, randomised=n_randomised, failures=failures,
                  arm_full=arm_full),
    )  # fmt: skip
