"""Power of a design with a pre-specified interim analysis, vectorised across replicates.

:func:`sequential_power` applies the design's group-sequential rule
(:func:`openvns.trials.interim.interim_outcome`: Lan–DeMets O'Brien–Fleming-type boundaries
``c₁, c₂``, optional non-binding futility stop) to every simulated replicate of a power curve:
the interim look is the Welch test of the change in mean NRS (first arm minus the second) on the
first ``⌈t · n_arm⌉`` patients of each arm (by enrolment: the replicate's column order), the
final look on all of them. Per size it counts the replicates that conclude efficacy (at the
interim or the end: the design's power), that stop at the interim for efficacy, for harm or for
futility, and the mean number of patients randomised when the trial stops (an interim stop
randomises only the interim's patients).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats  # type: ignore[import-untyped]

from openvns.trials.interim import Interim, boundaries
from openvns.trials.power_stats import PatientEndpoints, mc_standard_error, welch_p

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

__all__ = ["SequentialPower", "look_z", "sequential_power"]


def look_z(ep: PatientEndpoints, arms: IntArray, fraction: float) -> FloatArray:
    """Welch's statistic as a z (sign of first arm minus the second) per replicate, on the
    first ``max(2, ⌈fraction · n⌉)`` patients of each of the two arms (columns in order)."""
    change = np.where(np.atleast_2d(ep.eligible), np.atleast_2d(ep.change_NRS), np.nan)
    cols = []
    for i in (0, 1):
        mine = np.flatnonzero(arms == i)
        cols.append(mine[: max(2, math.ceil(fraction * mine.size))])
    d, p = welch_p(change[:, cols[0]], change[:, cols[1]])
    with np.errstate(invalid="ignore"):
        z = np.where(p > 0, stats.norm.isf(p / 2.0), np.inf)
    return np.asarray(np.copysign(z, d), dtype=np.float64)


@dataclass(frozen=True)
class SequentialPower:
    """Outcomes of the group-sequential rule per size (arrays over :attr:`sizes`).

    Attributes
    ----------
    interim
        The design's interim analysis.
    c1, c2
        The efficacy boundaries at the interim and the end.
    sizes, replicates
        Patients per unit of allocation ratio, and replicates per size.
    efficacy
        Replicates concluding efficacy (first arm better) at either look.
    stopped_efficacy, stopped_harm, stopped_futility
        Replicates stopping at the interim for each reason.
    expected_patients
        Mean patients randomised per replicate (the interim's when it stops there).
    """

    interim: Interim
    c1: float
    c2: float
    sizes: tuple[int, ...]
    replicates: int
    efficacy: IntArray
    stopped_efficacy: IntArray
    stopped_harm: IntArray
    stopped_futility: IntArray
    expected_patients: FloatArray

    @property
    def power(self) -> FloatArray:
        """Probability of concluding efficacy, per size."""
        return np.asarray(self.efficacy / self.replicates, dtype=np.float64)

    @property
    def mc_se(self) -> FloatArray:
        """Monte-Carlo standard error of :attr:`power`."""
        return mc_standard_error(self.power, self.replicates)

    def lines(self) -> list[str]:
        """One line per size."""
        t = self.interim.information_fraction
        out = [
            f"group-sequential (interim at {100 * t:.0f} % of patients, |z| ≥ {self.c1:.3f} "
            f"then {self.c2:.3f}"
            + (f", futility below z = {self.interim.futility_z:g}" if self.interim.futility_z
               is not None else "")
            + "), Δ NRS:"
        ]  # fmt: skip
        r = self.replicates
        for j, n in enumerate(self.sizes):
            out.append(
                f"  n = {n}: power {100 * self.power[j]:.0f} % ± {100 * self.mc_se[j]:.0f} %; "
                f"stops at the interim for efficacy {100 * self.stopped_efficacy[j] / r:.0f} %, "
                f"futility {100 * self.stopped_futility[j] / r:.0f} %, harm "
                f"{100 * self.stopped_harm[j] / r:.0f} %; expected patients "
                f"{self.expected_patients[j]:.0f}"
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-able (``power.json``)."""
        return {
            "information_fraction": self.interim.information_fraction,
            "alpha": self.interim.alpha,
            "futility_z": self.interim.futility_z,
            "boundaries": [self.c1, self.c2],
            "sizes": list(self.sizes),
            "replicates": self.replicates,
            "power": [float(x) for x in self.power],
            "mc_se": [float(x) for x in self.mc_se],
            "stopped_efficacy": [int(x) for x in self.stopped_efficacy],
            "stopped_harm": [int(x) for x in self.stopped_harm],
            "stopped_futility": [int(x) for x in self.stopped_futility],
            "expected_patients": [float(x) for x in self.expected_patients],
        }


def decide(z1: FloatArray, z2: FloatArray, interim: Interim) -> tuple[FloatArray, ...]:
    """Per replicate: (efficacy, stopped for efficacy, for harm, for futility) as 0/1 floats,
    the rule of :func:`openvns.trials.interim.interim_outcome`."""
    c1, c2 = boundaries(interim.information_fraction, interim.alpha)
    cross = np.abs(z1) >= c1
    stop_eff = cross & (z1 < 0)
    stop_harm = cross & (z1 >= 0)
    futile = ~cross & (
        (-z1 < interim.futility_z) if interim.futility_z is not None else np.zeros_like(cross)
    )
    final_eff = ~cross & ~futile & (np.abs(z2) >= c2) & (z2 < 0)
    return tuple(x.astype(np.float64) for x in (stop_eff | final_eff, stop_eff, stop_harm, futile))


def sequential_power(
    ep: PatientEndpoints,
    arms_for: Any,
    interim: Interim,
    sizes: tuple[int, ...],
    ratio_sum: int,
) -> SequentialPower:
    """The rule applied to ``ep`` (``(R, n_max · Σratio)``) at each size; ``arms_for(n)`` gives
    the arm of each of a replicate's first ``n`` patients."""
    c1, c2 = boundaries(interim.information_fraction, interim.alpha)
    r = int(np.atleast_2d(ep.change_NRS).shape[0])
    acc: dict[str, list[float]] = {k: [] for k in ("eff", "se", "sh", "sf", "n")}
    for n in sizes:
        total = n * ratio_sum
        sub = ep.take(total)
        arms = np.asarray(arms_for(total), dtype=np.int64)
        z1 = look_z(sub, arms, interim.information_fraction)
        z2 = look_z(sub, arms, 1.0)
        eff, se, sh, sf = decide(z1, z2, interim)
        n_interim = sum(
            max(2, math.ceil(interim.information_fraction * int((arms == i).sum())))
            for i in range(int(arms.max()) + 1)
        )
        stopped = se + sh + sf
        acc["eff"].append(eff.sum())
        acc["se"].append(se.sum())
        acc["sh"].append(sh.sum())
        acc["sf"].append(sf.sum())
        acc["n"].append(float(np.mean(np.where(stopped > 0, n_interim, total))))
    ints = {k: np.asarray(acc[k], dtype=np.int64) for k in ("eff", "se", "sh", "sf")}
    return SequentialPower(
        interim=interim, c1=c1, c2=c2, sizes=sizes, replicates=r, efficacy=ints["eff"],
        stopped_efficacy=ints["se"], stopped_harm=ints["sh"], stopped_futility=ints["sf"],
        expected_patients=np.asarray(acc["n"], dtype=np.float64),
    )  # fmt: skip
