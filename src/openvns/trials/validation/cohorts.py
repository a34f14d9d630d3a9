"""Validation cohorts run through the trial runner, cached so that several targets share one run.

Each :class:`~openvns.trials.validation.registry.CohortSpec` becomes a
:class:`~openvns.trials.design.TrialDesign` whose arms are simulated side by side (patients
``0 … n·arms − 1``, arm by arm) with :func:`openvns.trials.runner.simulate_patients`, the one
engine of :mod:`openvns.simulation`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, cast

import numpy as np
import numpy.typing as npt

import openvns
from openvns.patients.attacks import AttackDiary, TreatedAttacks
from openvns.patients.cohort import sample_patients
from openvns.patients.diary import Diary
from openvns.patients.worst_pain import WorstPainDiary, worst_pain
from openvns.physiology.parameters import PhysiologyParameters
from openvns.physiology.side_effects import SIDE_EFFECTS
from openvns.protocol.text import Protocol
from openvns.random import RNG_SCHEME
from openvns.simulation.courses import Recruitment
from openvns.simulation.engine import simulate_cohort
from openvns.simulation.parameters import ModelParameters
from openvns.trials.design import Arm, InclusionCriteria, TrialDesign
from openvns.trials.runner import (
    TrialResult,
    arm_recruitment,
    simulate_patients,
    trial_courses,
)
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
    noninvasive
        Each arm of the non-invasive trials (``data/noninvasive_targets.yaml``).
    """

    placebo: int = 40_000
    trial_per_arm: int = 6_000
    voice: int = 3_000
    lange: int = 6_000
    arm: int = 3_000
    noninvasive: int = 4_000

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
QUICK_SIZES = ValidationSizes(
    placebo=1_500, trial_per_arm=300, voice=200, lange=300, arm=200, noninvasive=200
)


def design_of(spec: CohortSpec) -> TrialDesign:
    """The trial design of a cohort specification."""
    return TrialDesign(
        generator=spec.generator,
        lead=spec.lead,
        arms=tuple(
            Arm(
                name=a.name,
                kind=a.kind,
                protocol=Protocol.parse(a.protocol),
                expectation=a.expectation,
                implanted=a.kind != "standard_of_care" if a.implanted is None else a.implanted,
                generator=a.generator,
                lead=a.lead,
            )
            for a in spec.arms
        ),
        baseline_days=spec.baseline_days,
        blinded_days=spec.blinded_days,
        open_label_days=spec.open_label_days,
        open_label_arm=spec.open_label_arm,
        inclusion=InclusionCriteria(**spec.inclusion),
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
    root_seed: int = 0

    @property
    def base(self) -> int:
        return self.spec.baseline_days

    @property
    def attacks(self) -> AttackDiary | None:
        """The attack diary of a headache condition (``None`` otherwise)."""
        return cast("AttackDiary | None", self.arrays.get("attacks"))

    @property
    def treated(self) -> TreatedAttacks | None:
        """The acutely treated attacks of a headache condition (``None`` otherwise)."""
        return cast("TreatedAttacks | None", self.arrays.get("treated"))

    @property
    def adherence(self) -> npt.NDArray[np.float64] | None:
        """Each patient's fraction of a home-use device's doses taken (``None`` without one)."""
        return cast("npt.NDArray[np.float64] | None", self.arrays.get("adherence"))

    def trial(self) -> TrialResult:
        """The cohort as a :class:`~openvns.trials.runner.TrialResult` (patients ``0 … n − 1``
        arm by arm), for the endpoint functions of :mod:`openvns.trials.headache`."""
        a = self.arrays
        names = ("nrs", "observed", "current_mA", "ae_reported", "ae_severity", "dropout_day",
                 "eligible", "coupling", "pgic", "bpi_interference", "fiqr", "sleep")  # fmt: skip
        arrays: dict[str, Any] = {k: a[k] for k in names}
        return TrialResult(
            **arrays,
            attacks=self.attacks,
            treated=self.treated,
            adherence=self.adherence,
            design=design_of(self.spec),
            patient_index=np.arange(self.arm.shape[0], dtype=np.int64),
            arm=self.arm,
            arm_names=tuple(x.name for x in self.spec.arms),
            side_effects=tuple(SIDE_EFFECTS),
            condition=self.spec.condition,
            root_seed=self.root_seed,
            version=openvns.__version__,
            rng_scheme=RNG_SCHEME,
            config_hash="",
            config={"validation_cohort": self.spec.name},
        )

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
        self._worst: dict[str, WorstPainDiary] = {}

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
            self._cache[name] = CohortData(spec, arms, out, self.root_seed)
        return self._cache[name]

    def worst_pain(self, name: str) -> WorstPainDiary:
        """The daily worst pain ``(days, patients)`` of cohort ``name``'s patients
        (:func:`openvns.patients.worst_pain.worst_pain` of their usual-pain diary before
        rounding). The cohort is run again through the same engine call as the runner's
        (:func:`~openvns.simulation.engine.simulate_cohort` with the trial's courses), which
        also returns the unrounded reports; its patients and arms are those of ``self(name)``."""
        if name not in self._worst:
            spec = self.cohorts[name]
            design = design_of(spec)
            mp = self.parameters(spec)
            n = self.size(spec)
            arms = np.repeat(np.arange(len(spec.arms), dtype=np.int64), n)
            cohort = sample_patients(mp.condition, np.arange(arms.shape[0]), self.root_seed,
                                     mp.physiology)  # fmt: skip
            traj = simulate_cohort(
                cohort, trial_courses(design, arms, arm_recruitment(design, self.recruitment)),
                baseline_days=design.baseline_days,
                treatment_days=design.blinded_days + design.open_label_days,
                root_seed=self.root_seed, parameters=mp,
            )  # fmt: skip
            diary = Diary(
                nrs=np.ascontiguousarray(traj.nrs.T),
                observed=np.ascontiguousarray(traj.observed.T),
                P_true_NRS=np.ascontiguousarray(traj.reported_pain_NRS.T),
                flare_NRS=np.zeros_like(traj.reported_pain_NRS.T),
            )
            self._worst[name] = worst_pain(cohort, diary, self.root_seed)
        return self._worst[name]

    def cached(self, name: str) -> bool:
        return name in self._cache

    def clear(self) -> None:
        self._cache.clear()
        self._worst.clear()
