"""Validation cohorts run through the trial runner, cached so that several targets share one run.

Each :class:`~openvns.trials.validation.registry.CohortSpec` becomes a
:class:`~openvns.trials.design.TrialDesign` whose arms are simulated side by side (patients
``0 … n·arms − 1``, arm by arm) with :func:`openvns.trials.runner.simulate_patients`, the one
engine of :mod:`openvns.simulation`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from openvns.physiology.parameters import PhysiologyParameters
from openvns.protocol.text import Protocol
from openvns.simulation.courses import Recruitment
from openvns.simulation.parameters import ModelParameters
from openvns.trials.design import Arm, TrialDesign
from openvns.trials.runner import simulate_patients
from openvns.trials.validation.registry import CohortSpec

__all__ = ["QUICK_SIZES", "CohortData", "CohortRunner", "ValidationSizes", "design_of"]


@dataclass(frozen=True)
class ValidationSizes:
    """Patients per arm of each kind of validation cohort (a cohort's ``size`` names a field).

    Attributes
    ----------
    placebo
        The pill-placebo arm (Häuser, Chen, RTM, within-person SD).
    trial_per_arm
        Each arm of the active-vs-sham trial.
    voice
        The 5-year open-label cohort (side-effect table, continuation).
    lange
        The Lange-like open-label cohort (11 months).
    arm
        Each arm of the E05 and DeGiorgio cohorts.
    """

    placebo: int = 40_000
    trial_per_arm: int = 6_000
    voice: int = 3_000
    lange: int = 6_000
    arm: int = 3_000

    def with_(self, **changes: int) -> ValidationSizes:
        """A copy with named sizes changed (unknown names are refused)."""
        known = {f.name for f in fields(self)}
        for k, v in changes.items():
            if k not in known:
                raise KeyError(f"unknown size {k!r}; allowed: {', '.join(sorted(known))}")
            if v < 1:
                raise ValueError(f"size {k} must be ≥ 1, not {v}")
        return ValidationSizes(**{**{f: getattr(self, f) for f in known}, **changes})


#: Sizes of ``openvns validate --quick``: seconds, wide simulated intervals.
QUICK_SIZES = ValidationSizes(placebo=1_500, trial_per_arm=300, voice=200, lange=300, arm=200)


def design_of(spec: CohortSpec) -> TrialDesign:
    """The trial design of a cohort specification."""
    return TrialDesign(
        arms=tuple(
            Arm(
                name=a.name,
                kind=a.kind,
                protocol=Protocol.parse(a.protocol),
                expectation=a.expectation,
                implanted=a.implanted,
            )
            for a in spec.arms
        ),
        baseline_days=spec.baseline_days,
        blinded_days=spec.blinded_days,
        open_label_days=spec.open_label_days,
        open_label_arm=spec.open_label_arm,
    )


@dataclass(frozen=True)
class CohortData:
    """Per-patient-day arrays of one simulated validation cohort.

    ``arm`` holds each patient's arm index into ``spec.arms``; ``days`` count from the first
    baseline day (treatment starts at ``spec.baseline_days``). ``arrays`` holds everything the
    runner returned (``nrs``, ``observed``, ``current_mA``, ``ae_reported``, ``dropout_day``,
    ``eligible``, ``coupling`` and whatever it adds, e.g. ``ae_severity``).
    """

    spec: CohortSpec
    arm: npt.NDArray[np.int64]
    arrays: dict[str, npt.NDArray[Any]] = field(repr=False)

    @property
    def base(self) -> int:
        return self.spec.baseline_days

    def arm_mask(self, name: str) -> npt.NDArray[np.bool_]:
        """Patients of the arm called ``name``."""
        names = [a.name for a in self.spec.arms]
        if name not in names:
            raise KeyError(f"cohort {self.spec.name} has no arm {name!r}; arms: {names}")
        return np.asarray(self.arm == names.index(name))

    def __getitem__(self, key: str) -> npt.NDArray[Any]:
        return self.arrays[key]

    def in_study(self, mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """``(patients, days)``: still in the study that day (through the day of dropout)."""
        drop = self.arrays["dropout_day"][mask]
        days = self.arrays["nrs"].shape[1]
        day = np.arange(days)[None, :]
        return np.asarray((drop[:, None] < 0) | (day <= drop[:, None]))


class CohortRunner:
    """Simulates each named cohort once per (spec, size) and hands the same data to every target."""

    def __init__(
        self,
        cohorts: dict[str, CohortSpec],
        sizes: ValidationSizes,
        *,
        root_seed: int,
        params: PhysiologyParameters | None,
        recruitment: Recruitment | None,
    ) -> None:
        self.cohorts = cohorts
        self.sizes = sizes
        self.root_seed = root_seed
        self.params = params
        self.recruitment = recruitment
        self._cache: dict[str, CohortData] = {}

    def parameters(self, spec: CohortSpec) -> ModelParameters:
        mp = ModelParameters.default(spec.condition)
        if self.params is not None:
            mp = ModelParameters(self.params, mp.condition, mp.diary)
        return mp.with_(**spec.parameters) if spec.parameters else mp

    def size(self, spec: CohortSpec) -> int:
        return int(getattr(self.sizes, spec.size))

    def __call__(self, name: str) -> CohortData:
        if name not in self._cache:
            spec = self.cohorts[name]
            n = self.size(spec)
            arms = np.repeat(np.arange(len(spec.arms), dtype=np.int64), n)
            out = simulate_patients(
                design_of(spec), np.arange(arms.shape[0]), arms, root_seed=self.root_seed,
                recruitment=self.recruitment, parameters=self.parameters(spec),
            )  # fmt: skip
            self._cache[name] = CohortData(spec, arms, out)
        return self._cache[name]

    def cached(self, name: str) -> bool:
        return name in self._cache

    def clear(self) -> None:
        self._cache.clear()
