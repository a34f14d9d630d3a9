"""Trial runner: a :class:`TrialDesign` in, per-patient-day arrays and their provenance out.

Enrolment and allocation
    ``n_per_arm · ratio`` patients per arm are enrolled: patients ``0 … N − 1`` of the condition,
    each drawn from its own stream ``rng_for(root_seed, condition, index)`` (so
    ``fibromyalgia#0042`` is the same patient in every run with the same root seed), and
    randomised to the arms by permuted blocks from ``rng_for(root_seed, "allocation")``.

Days
    Day 0 … ``baseline_days − 1`` is the baseline (no stimulation); then the blinded phase on the
    arm's protocol, then the open-label extension on the open-label arm's protocol. Patients of
    the open-label arm continue their titration; the others start it on the first open-label
    day.

Each arm is a :class:`~openvns.simulation.courses.Course` (its protocol through its own
generator and lead), the extension a second course for the other arms' patients, and every
chunk of patients runs through the one engine, :func:`openvns.simulation.engine.simulate_cohort`
(what a one-patient :class:`~openvns.simulation.Simulation` runs too: a patient's trajectory in
a trial equals the simulation of that patient under its arm's protocol, bit for bit).

Outcomes beyond pain
    PGIC, BPI interference, FIQR (fibromyalgia) and sleep are the patients' latent outcomes
    (:func:`openvns.patients.outcomes.simulate_outcomes` of the diary's pain before rounding),
    asked at three visits (:data:`VISITS`): the last day of the baseline, of the blinded phase
    and of the open-label extension. A patient who dropped out before a visit does not answer
    it (NaN); only the visit values are kept.

Executors (:mod:`openvns.trials.executors`) run chunks of patients; every stream is named by the
patient, so the result is identical whatever the executor, the workers and the chunk size.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

import openvns
from openvns.analysis.endpoints import (
    ChangeFromBaseline,
    OutcomeSummary,
    TimeToResponse,
    change_from_baseline,
    compare_arms,
    compare_outcomes,
    endpoint_window,
    summarise_arm,
    summarise_outcomes,
    time_to_response,
)
from openvns.device.catalogue import generator
from openvns.errors import ValidationError
from openvns.patients.attack_parameters import headache_conditions, load_attack_parameters
from openvns.patients.attacks import AttackDiary, TreatedAttacks
from openvns.patients.cohort import Cohort, patient_name, sample_patients
from openvns.patients.conditions import Condition, load_condition
from openvns.patients.outcomes import OutcomeParameters, load_outcome_parameters, simulate_outcomes
from openvns.patients.worst_pain import load_worst_pain_parameters, worst_pain_conditions
from openvns.physiology.model import SIDE_EFFECTS
from openvns.physiology.parameters import PhysiologyParameters
from openvns.protocol.plans import dosing_defaults
from openvns.random import RNG_SCHEME, rng_for
from openvns.simulation.courses import Course, Recruitment
from openvns.simulation.engine import concat_attacks, concat_treated, simulate_cohort
from openvns.simulation.parameters import ModelParameters
from openvns.simulation.recruitment import default_recruitment
from openvns.trials.design import HEADACHE_CRITERIA, TrialDesign
from openvns.trials.executors import ChunkExecutor, get_executor, run_chunks
from openvns.trials.headache import headache_summary
from openvns.trials.screening import MAX_SCREENED_PER_RANDOMISED, Screening, screen
from openvns.trials.summary import TrialSummary, with_effect_sizes

if TYPE_CHECKING:
    from openvns.trials.consort import ConsortFlow

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

log = logging.getLogger(__name__)

__all__ = [
    "OUTCOMES",
    "VISITS",
    "TrialResult",
    "TrialSummary",
    "arm_recruitment",
    "config_hash",
    "recruitment_identity",
    "run_trial",
    "simulate_patients",
    "trial_courses",
]


#: The visits at which the questionnaires are asked: the last day of each phase.
VISITS: tuple[str, ...] = ("baseline", "blinded", "open_label")
#: How patients enter a trial (recorded in the configuration): each candidate has its place on a
#: permuted-block allocation list and is randomised to that arm if its baseline diary qualifies
#: and the arm still needs patients (before, patients were randomised and the ineligible left
#: out of the analyses).
ENROLMENT = "screened-on-allocation-list/1"
#: The questionnaire outcomes a trial keeps at its visits (arrays ``(patients, len(VISITS))``).
OUTCOMES: tuple[str, ...] = ("pgic", "bpi_interference", "fiqr", "sleep")


@dataclass(frozen=True)
class _ChunkSpec:
    design: TrialDesign
    parameters: ModelParameters
    root_seed: int
    recruitment: tuple[Recruitment, ...]
    indices: IntArray
    arms: IntArray
    outcome_parameters: OutcomeParameters | None = None
    visits: bool = True  #: simulate the questionnaires at the visits (NaN without)


@dataclass(frozen=True)
class _ChunkResult:
    nrs: npt.NDArray[np.int8]
    observed: BoolArray
    current_mA: FloatArray
    ae_reported: BoolArray
    ae_severity: npt.NDArray[np.int8]
    dropout_day: IntArray
    eligible: BoolArray
    coupling: FloatArray
    pgic: FloatArray
    bpi_interference: FloatArray
    fiqr: FloatArray
    sleep: FloatArray
    attacks: AttackDiary | None = None
    treated: TreatedAttacks | None = None
    adherence: FloatArray | None = None
    worst_nrs: npt.NDArray[np.int8] | None = None
    dropout_reason: npt.NDArray[np.int8] | None = None


def visit_days(design: TrialDesign) -> tuple[int, ...]:
    """Day of each visit of :data:`VISITS` (the last day of the phase), −1 for an empty phase."""
    base, blind, ol = design.baseline_days, design.blinded_days, design.open_label_days
    ends = ((base, base), (base + blind, blind), (base + blind + ol, ol))
    return tuple(end - 1 if length else -1 for end, length in ends)


def trial_courses(
    design: TrialDesign, arms: IntArray, recruitment: Sequence[Recruitment]
) -> list[Course]:
    """The courses of a chunk of patients with arm indices ``arms``: one per arm over the
    blinded phase (the whole treatment for the open-label arm), and for the patients of each
    other arm the extension on the open-label arm's protocol, through their own arm's device."""
    blind, ol = design.blinded_days, design.open_label_days
    treat = blind + ol
    names = [a.name for a in design.arms]
    ol_index = names.index(design.open_label_arm) if design.open_label_arm else -1
    courses: list[Course] = []
    if design.crossover is not None:
        return _crossover_courses(design, arms, recruitment)
    run_in = design.withdrawal.run_in_days if design.withdrawal is not None else 0
    for a, name in enumerate(names):
        end = treat if a == ol_index else blind
        if run_in and a == 1:
            # randomised withdrawal: the first arm's protocol and device for the run-in, then
            # this arm's protocol through the same device
            first = _course(design, names[0], names[0], arms == a, 0, run_in, recruitment[0])
            spec0 = design.arms[0]
            courses.append(replace(first, expectation=spec0.expectation,
                                   implanted=spec0.implanted and first.implanted))  # fmt: skip
            course = _course(design, name, names[0], arms == a, run_in, end, recruitment[0])
        else:
            course = _course(design, name, name, arms == a, 0, end, recruitment[a])
        arm = design.arms[a]
        courses.append(
            replace(
                course, expectation=arm.expectation, implanted=arm.implanted and course.implanted
            )
        )
    if ol and ol_index >= 0:
        for a, name in enumerate(names):
            if a != ol_index:
                dev = names.index(design.extension_device_arm(name))
                ext = _course(design, names[ol_index], names[dev], arms == a, blind, treat,
                              recruitment[dev])  # fmt: skip
                courses.append(replace(ext, implanted=design.arms[a].implanted and ext.implanted))
    return courses


def _crossover_courses(
    design: TrialDesign, arms: IntArray, recruitment: Sequence[Recruitment]
) -> list[Course]:
    """AB/BA: sequence ``a`` (the patients of arm ``a``) gets arm ``a``'s protocol through arm
    ``a``'s device in period 1, the other arm's through its device in period 2, nothing in the
    washout; then the open-label arm's protocol through the second period's device."""
    assert design.crossover is not None
    (s1, e1), (s2, e2) = design.crossover.periods()
    names = [a.name for a in design.arms]
    treat = design.blinded_days + design.open_label_days
    courses: list[Course] = []
    for a, _name in enumerate(names):
        b = 1 - a
        mask = arms == a
        for arm, (start, end) in ((a, (s1, e1)), (b, (s2, e2))):
            c = _course(design, names[arm], names[arm], mask, start, end, recruitment[arm])
            spec = design.arms[arm]
            courses.append(
                replace(c, expectation=spec.expectation, implanted=spec.implanted and c.implanted)
            )
        if design.open_label_days and design.open_label_arm is not None:
            dev = names.index(design.extension_device_arm(names[b]))
            ext = _course(design, design.open_label_arm, names[dev], mask, e2, treat,
                          recruitment[dev])  # fmt: skip
            courses.append(replace(ext, implanted=design.arms[dev].implanted and ext.implanted))
    return courses


def _course(
    design: TrialDesign,
    protocol_arm: str,
    device_arm: str,
    mask: BoolArray,
    start: int,
    end: int,
    rec: Recruitment,
) -> Course:
    """``protocol_arm``'s protocol through ``device_arm``'s generator (ramps) and lead."""
    gen = generator(design.generator_for(device_arm))
    implant = gen.kind == "implanted"
    step = gen.parameters["output_current_mA"].step  # relative currents round down to it
    return Course(
        design.protocol_for(protocol_arm), mask, start, end, rec, ramp_s=gen.ramp_s,
        implanted=implant, home_use=not implant, current_step_mA=step,
    )  # fmt: skip


def _simulate_chunk(spec: _ChunkSpec) -> _ChunkResult:
    design, mp = spec.design, spec.parameters
    if mp.condition.name not in headache_conditions():
        for key in HEADACHE_CRITERIA:
            if getattr(design.inclusion, key) is not None:
                raise ValidationError(
                    f"inclusion.{key}", getattr(design.inclusion, key),
                    f"no attack criterion for {mp.condition.name} (a headache condition's: "
                    + ", ".join(headache_conditions()) + ")",
                )  # fmt: skip
    cohort = sample_patients(mp.condition, spec.indices, spec.root_seed, mp.physiology)
    traj = simulate_cohort(
        cohort,
        trial_courses(design, spec.arms, spec.recruitment),
        baseline_days=design.baseline_days,
        treatment_days=design.blinded_days + design.open_label_days,
        root_seed=spec.root_seed,
        parameters=mp,
    )
    base = design.baseline_days
    if not base:
        eligible = np.ones(cohort.n, dtype=bool)
    elif traj.attacks is not None:
        eligible = design.inclusion.eligible_headache(traj.attacks, base)
    else:
        baseline = np.where(traj.observed[:, :base], traj.nrs[:, :base], np.nan)
        eligible = design.inclusion.eligible(baseline).astype(bool)
    visits = _visit_outcomes(spec, cohort, traj.reported_pain_NRS, traj.dropout_day)
    return _ChunkResult(
        nrs=traj.nrs,
        observed=traj.observed,
        current_mA=traj.current_mA,
        ae_reported=traj.ae_reported,
        ae_severity=traj.ae_severity,
        dropout_day=traj.dropout_day,
        eligible=eligible,
        coupling=traj.coupling,
        pgic=visits["pgic"],
        bpi_interference=visits["bpi_interference"],
        fiqr=visits["fiqr"],
        sleep=visits["sleep"],
        attacks=traj.attacks,
        treated=traj.treated,
        adherence=traj.adherence,
        worst_nrs=traj.worst_nrs,
        dropout_reason=traj.dropout_reason,
    )


def _visit_outcomes(
    spec: _ChunkSpec, cohort: Cohort, reported_pain_NRS: FloatArray, dropout_day: IntArray
) -> dict[str, FloatArray]:
    """``{outcome: (patients, len(VISITS))}`` answers at the visits, NaN where the phase is empty,
    the trial has no baseline, or the patient dropped out before the visit."""
    n = cohort.n
    out = {k: np.full((n, len(VISITS)), np.nan) for k in OUTCOMES}
    days = visit_days(spec.design)
    if spec.design.baseline_days == 0 or n == 0 or not spec.visits:
        return out
    asked = sorted({int(d) for d in days if d >= 0})
    o = simulate_outcomes(
        cohort,
        reported_pain_NRS,
        baseline_days=spec.design.baseline_days,
        root_seed=spec.root_seed,
        params=spec.outcome_parameters,
        visit_days=asked,  # only the visits: the noise is sampled there, not every day
    )
    for j, day in enumerate(days):
        if day < 0:
            continue
        answered = (dropout_day < 0) | (dropout_day >= day)
        col = asked.index(int(day))
        for k in OUTCOMES:
            out[k][:, j] = np.where(answered, getattr(o, k)[:, col], np.nan)
    return out


def _concat(results: list[_ChunkResult]) -> _ChunkResult:
    headache = results[0].attacks is not None
    arrays: dict[str, Any] = {
        f: np.concatenate([getattr(r, f) for r in results])
        for f in _ChunkResult.__dataclass_fields__
        if f not in ("attacks", "treated", "adherence", "worst_nrs", "dropout_reason")
    }
    for f in ("adherence", "worst_nrs", "dropout_reason"):
        if getattr(results[0], f) is not None:
            arrays[f] = np.concatenate([getattr(r, f) for r in results])
    return _ChunkResult(
        **arrays,
        attacks=concat_attacks([r.attacks for r in results if r.attacks]) if headache else None,
        treated=concat_treated([r.treated for r in results if r.treated]) if headache else None,
    )


def recruitment_identity(recruitment: Recruitment) -> str:
    """A stable name for a recruitment function: its ``identity`` attribute, else module:qualname.

    Give a closure or a bound method of a table an ``identity`` (e.g. the table's cache key) so
    that two different tables do not hash alike.
    """
    ident = getattr(recruitment, "identity", None)
    if isinstance(ident, str):
        return ident
    owner = getattr(recruitment, "__self__", None)
    owner_id = getattr(owner, "identity", None)
    module = getattr(recruitment, "__module__", type(recruitment).__module__)
    qualname = getattr(recruitment, "__qualname__", type(recruitment).__qualname__)
    name = f"{module}:{qualname}"
    return f"{name}@{owner_id}" if isinstance(owner_id, str) else name


def config_hash(config: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``config`` (sorted keys, no whitespace)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TrialResult:
    """Per-patient-day arrays ``(patients, days)`` of a trial and their provenance.

    Attributes
    ----------
    nrs, observed
        Diary NRS (int8, also filled where unobserved) and whether the entry counts.
    current_mA
        Programmed current (0 at baseline, in the sham arm and after dropout).
    ae_reported, ae_severity
        ``(patients, days, len(SIDE_EFFECTS))`` side-effect reports and their severity (int8:
        0 none, 1 mild, 2 moderate, 3 severe).
    dropout_day
        Day of dropout, −1 for completers.
    eligible
        Whether the baseline diary meets the inclusion criteria.
    coupling
        Each patient's nerve-interface threshold multiplier θ (recruitment at ``I`` is the
        table's at ``I / θ``).
    pgic, bpi_interference, fiqr, sleep
        ``(patients, len(VISITS))`` questionnaire answers at the visits of :data:`VISITS` (days
        :attr:`visit_days`): PGIC 1–7 (NaN at baseline), BPI interference 0–10, FIQR total
        0–100 (fibromyalgia only, else NaN), sleep-quality NRS 0–10; NaN where not answered.
    patient_index, arm
        Patient indices (names ``condition#index``) and arm index per patient.
    arm_names, side_effects
        Labels of the arm indices and of the last axis of ``ae_reported``.
    root_seed, version, rng_scheme, config_hash, config
        Provenance: the hash is the SHA-256 of ``config``.
    attacks, treated
        Headache conditions: the attack diary ``(patients, days)`` and the acutely treated
        attacks (:mod:`openvns.trials.headache` reads their endpoints); ``None`` otherwise.
    adherence
        ``(patients,)`` fraction of a home-use device's doses each patient takes (``None``
        when no arm uses a home device).
    worst_nrs
        ``(patients, days)`` daily worst pain (int8 0–10; entries count where ``observed``) of a
        condition with a worst-pain item (functional abdominal pain); ``None`` otherwise.
    dropout_reason
        ``(patients,)`` why each patient discontinued (int8 codes of
        :data:`~openvns.physiology.model.DROPOUT_REASONS`: 0 none, 1 adverse event, 2 lack of
        efficacy, 3 other), from the competing hazards of the day of dropout; ``None`` for a
        result read back from an export that lacks it.
    screening
        Candidates screened, screen failures by reason and patients randomised
        (:mod:`openvns.trials.screening`): the patients here are the randomised ones, all of
        whom met the inclusion criteria on their baseline diary; ``None`` for a result made
        without screening.
    """

    design: TrialDesign
    nrs: npt.NDArray[np.int8]
    observed: BoolArray
    current_mA: FloatArray
    ae_reported: BoolArray
    ae_severity: npt.NDArray[np.int8]
    dropout_day: IntArray
    eligible: BoolArray
    coupling: FloatArray
    pgic: FloatArray
    bpi_interference: FloatArray
    fiqr: FloatArray
    sleep: FloatArray
    patient_index: IntArray
    arm: IntArray
    arm_names: tuple[str, ...]
    side_effects: tuple[str, ...]
    condition: str
    root_seed: int
    version: str
    rng_scheme: str
    config_hash: str
    config: dict[str, Any] = field(repr=False)
    attacks: AttackDiary | None = field(default=None, repr=False)
    treated: TreatedAttacks | None = field(default=None, repr=False)
    adherence: FloatArray | None = field(default=None, repr=False)
    worst_nrs: npt.NDArray[np.int8] | None = field(default=None, repr=False)
    dropout_reason: npt.NDArray[np.int8] | None = field(default=None, repr=False)
    screening: Screening | None = field(default=None, repr=False)

    @property
    def n_patients(self) -> int:
        return int(self.patient_index.shape[0])

    @property
    def n_days(self) -> int:
        return int(self.nrs.shape[1])

    @property
    def patient_names(self) -> list[str]:
        return [patient_name(self.condition, int(i)) for i in self.patient_index]

    @property
    def arm_labels(self) -> npt.NDArray[np.str_]:
        """Arm name per patient."""
        return np.asarray(self.arm_names)[self.arm]

    @property
    def visit_days(self) -> tuple[int, ...]:
        """Day of each visit of :data:`VISITS` (−1 where the phase is empty)."""
        return visit_days(self.design)

    def visit(self, outcome: str, visit: str) -> FloatArray:
        """``(patients,)`` answers to ``outcome`` (of :data:`OUTCOMES`) at ``visit``."""
        if outcome not in OUTCOMES:
            raise ValidationError("outcome", outcome, "one of " + ", ".join(OUTCOMES))
        if visit not in VISITS:
            raise ValidationError("visit", visit, "one of " + ", ".join(VISITS))
        out: FloatArray = getattr(self, outcome)[:, VISITS.index(visit)]
        return out

    def outcomes(
        self, arm: str, *, visit: str = "blinded", eligible_only: bool = True
    ) -> OutcomeSummary:
        """PGIC, BPI interference, FIQR and sleep of ``arm`` from baseline to ``visit``."""
        sel = self.arm == self.arm_names.index(arm)
        if eligible_only:
            sel &= self.eligible
        changes = ("bpi_interference", "fiqr", "sleep")
        return summarise_outcomes(
            self.visit("pgic", visit)[sel],
            {k: self.visit(k, "baseline")[sel] for k in changes},
            {k: self.visit(k, visit)[sel] for k in changes},
        )

    def change(
        self, arm: str, *, eligible_only: bool = True, item: Literal["usual", "worst"] = "usual"
    ) -> ChangeFromBaseline:
        """Change from the baseline window to the last 4 weeks of the blinded phase, of the
        usual pain or (``item="worst"``, functional abdominal pain) of the daily worst pain."""
        d = self.design
        sel = self.arm == self.arm_names.index(arm)
        if eligible_only:
            sel &= self.eligible
        end = d.baseline_days + d.blinded_days
        window = endpoint_window(end, d.baseline_days)
        if item == "worst":
            if self.worst_nrs is None:
                raise ValidationError("item", item, f"'usual' ({self.condition} has no worst pain)")
            diary = self.worst_nrs
        elif item == "usual":
            diary = self.nrs
        else:
            raise ValidationError("item", item, "'usual' or 'worst'")
        return change_from_baseline(
            diary[sel].astype(np.float64),
            self.observed[sel],
            slice(0, d.baseline_days),
            window,
        )

    def time_to_response(
        self, arm: str, *, threshold_pct: float = 30.0, eligible_only: bool = True
    ) -> TimeToResponse:
        """Weeks of the blinded phase to the first week ``threshold_pct`` below baseline."""
        d = self.design
        sel = self.arm == self.arm_names.index(arm)
        if eligible_only:
            sel &= self.eligible
        end = d.baseline_days + d.blinded_days
        dropped = self.dropout_day[sel]
        return time_to_response(
            self.nrs[sel, :end].astype(np.float64),
            self.observed[sel, :end],
            slice(0, d.baseline_days),
            d.baseline_days,
            threshold_pct=threshold_pct,
            dropout_day=np.where(dropped >= 0, dropped + 1.0, np.inf),
        )

    def consort(self) -> ConsortFlow:
        """The CONSORT flow: screening, allocation, discontinuations by reason, analysis
        (:func:`openvns.trials.consort.consort_flow`)."""
        from openvns.trials.consort import consort_flow

        return consort_flow(self)

    def summary(self) -> TrialSummary:
        """Per-arm summaries and comparisons against the first arm (eligible patients), with
        Hedges' g and the NNTs; printed, a compact table (:class:`TrialSummary`)."""
        if self.design.baseline_days == 0:
            raise ValidationError("baseline_days", 0, "a baseline period ≥ 1 day for endpoints")
        if self.design.blinded_days == 0:
            raise ValidationError("blinded_days", 0, "a blinded phase ≥ 1 day for endpoints")
        changes = {a: self.change(a) for a in self.arm_names}
        times = {a: self.time_to_response(a) for a in self.arm_names}
        outcomes = {a: self.outcomes(a) for a in self.arm_names}
        ref = self.arm_names[0]
        end_blinded = self.design.baseline_days + self.design.blinded_days
        randomised, dropped = {}, {}
        for i, a in enumerate(self.arm_names):
            drop = self.dropout_day[self.arm == i]
            randomised[a] = int(drop.size)
            dropped[a] = int(((drop >= 0) & (drop < end_blinded)).sum())
        return TrialSummary(
            arms={a: summarise_arm(c) for a, c in changes.items()},
            comparisons={
                a: with_effect_sizes(
                    compare_arms(changes[ref], changes[a], time_a=times[ref], time_b=times[a]),
                    changes[ref],
                    changes[a],
                )
                for a in self.arm_names
                if a != ref
            },
            time_to_response=times,
            outcomes=outcomes,
            outcome_comparisons={
                a: compare_outcomes(outcomes[ref], outcomes[a]) for a in self.arm_names if a != ref
            },
            headache=headache_summary(self) if self.attacks is not None else None,
            randomised=randomised,
            dropout_blinded=dropped,
        )


def _condition_config(design: TrialDesign, condition: str) -> dict[str, Any]:
    """The parameters beyond the model sets that shape a run, for its configuration hash: the
    attack model of a headache condition, the worst-pain item, and the dosing constants when
    an arm uses a non-invasive device (absent otherwise, so an implant trial's hash is kept)."""
    out: dict[str, Any] = {}
    if condition in headache_conditions():
        out["attacks"] = load_attack_parameters(condition).model_dump(mode="json")
    if condition in worst_pain_conditions():
        out["worst_pain"] = load_worst_pain_parameters(condition).model_dump(mode="json")
    if any(generator(design.generator_for(a.name)).kind != "implanted" for a in design.arms):
        out["dosing"] = dosing_defaults()
    return out


def _parameters(
    condition: str | Condition,
    params: PhysiologyParameters | None,
    parameters: ModelParameters | None,
) -> ModelParameters:
    if parameters is not None:
        if params is not None:
            raise ValidationError("params", "given", "either params or parameters, not both")
        return parameters
    cond = load_condition(condition) if isinstance(condition, str) else condition
    mp = ModelParameters.default(cond)
    return mp if params is None else ModelParameters(params, mp.condition, mp.diary)


def arm_recruitment(
    design: TrialDesign, recruitment: Recruitment | None = None
) -> tuple[Recruitment, ...]:
    """One recruitment function per arm: ``recruitment`` for all, or each arm's lead's table."""
    if recruitment is not None:
        return tuple(recruitment for _ in design.arms)
    return tuple(default_recruitment(design.lead_for(a.name)) for a in design.arms)


def simulate_patients(
    design: TrialDesign,
    indices: npt.ArrayLike,
    arms: npt.ArrayLike,
    *,
    root_seed: int,
    recruitment: Recruitment | None = None,
    condition: str | Condition = "fibromyalgia",
    params: PhysiologyParameters | None = None,
    parameters: ModelParameters | None = None,
) -> dict[str, npt.NDArray[Any]]:
    """Simulate the named patients ``indices`` in arms ``arms`` (arm indices), no allocation.

    A patient's rows are the same here as in any :func:`run_trial` that allocated them to the
    same arm under the same root seed.
    """
    spec = _ChunkSpec(
        design,
        _parameters(condition, params, parameters),
        root_seed,
        arm_recruitment(design, recruitment),
        np.asarray(indices, dtype=np.int64).reshape(-1),
        np.asarray(arms, dtype=np.int64).reshape(-1),
    )
    res = _simulate_chunk(spec)
    return {f: getattr(res, f) for f in _ChunkResult.__dataclass_fields__}


def run_trial(
    design: TrialDesign,
    *,
    n_per_arm: int,
    root_seed: int,
    recruitment: Recruitment | None = None,
    condition: str | Condition = "fibromyalgia",
    params: PhysiologyParameters | None = None,
    parameters: ModelParameters | None = None,
    outcome_parameters: OutcomeParameters | None = None,
    executor: Literal["serial", "process", "dask"] | ChunkExecutor = "serial",
    workers: int = 1,
    chunk_size: int = 2048,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    outcomes: bool = True,
) -> TrialResult:
    """Run ``design`` with ``n_per_arm · ratio`` patients randomised per arm.

    Candidates are screened first (:func:`openvns.trials.screening.screen`): each has its
    place on a permuted-block allocation list, its baseline is simulated, and it is randomised
    to its arm if it meets the inclusion criteria and the arm still needs patients, until every
    arm has ``n_per_arm · ratio``; they are then simulated through the trial. The result's
    ``screening`` holds the counts.

    Parameters
    ----------
    design
        The trial design.
    n_per_arm
        Patients per unit of allocation ratio (1:1 → ``n_per_arm`` in each arm).
    root_seed
        Root of every random stream.
    recruitment
        ``recruitment(current_mA, pulse_width_us) -> (n, len(GROUPS))`` fractions used for every
        arm (must be picklable for ``"process"``); default: each arm's lead's table
        (:func:`~openvns.simulation.recruitment.default_recruitment` of
        :meth:`TrialDesign.lead_for`).
    condition, params
        The patients' condition and physiology parameters (shipped sets by default).
    parameters
        All three parameter sets at once (instead of ``condition`` and ``params``).
    outcome_parameters
        Parameters of the PGIC, BPI, FIQR and sleep model (default: the shipped ``outcomes``
        set).
    executor
        ``"serial"``, ``"process"``, ``"dask"`` or any
        :class:`~openvns.trials.executors.ChunkExecutor` (e.g. a configured
        :class:`~openvns.trials.executors.DaskExecutor`).
    workers
        Processes for ``"process"`` and for the local cluster of ``"dask"``.
    chunk_size
        Patients per chunk.
    scheduler
        Dask scheduler address (``"tcp://host:8786"``) for ``executor="dask"``; without it a
        local cluster of ``workers`` processes is started for the run. Not allowed with another
        executor.
    progress
        ``progress(patients_done, patients_total)``, called in this process after each chunk
        completes (in completion order; the counts increase and end at the total). Not called
        when there are no patients.
    outcomes
        Simulate the questionnaires (PGIC, BPI, FIQR, sleep) at the visits; ``False`` leaves
        them NaN (an analysis of a pain endpoint does not read them; everything else is the
        same, and the configuration hash records it).
    """
    for key, value, low in (("n_per_arm", n_per_arm, 0), ("chunk_size", chunk_size, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValidationError(key, value, f"a whole number ≥ {low}")
    if isinstance(root_seed, bool) or not isinstance(root_seed, int) or root_seed < 0:
        raise ValidationError("root_seed", root_seed, "a whole number ≥ 0")
    if isinstance(executor, str):
        run = get_executor(executor, workers, scheduler)
    elif scheduler is not None:
        raise ValidationError("scheduler", scheduler, "only with executor='dask'")
    else:
        run = executor
    mp = _parameters(condition, params, parameters)
    op = load_outcome_parameters() if outcome_parameters is None else outcome_parameters
    rec = arm_recruitment(design, recruitment)
    n_total = n_per_arm * sum(design.ratio)
    # screening before randomisation: the first n_total candidates who qualify on their
    # baseline diary are randomised (trials.screening)
    # the allocation list gives each candidate its arm before it is screened
    wanted = n_per_arm * np.asarray(design.ratio, dtype=np.int64)
    plan = design.allocate(MAX_SCREENED_PER_RANDOMISED * n_total, rng_for(root_seed, "allocation"))
    indices, arms, screening = screen(design, mp, root_seed, wanted, plan)
    chunks = [
        _ChunkSpec(design, mp, root_seed, rec, indices[s : s + chunk_size],
                   arms[s : s + chunk_size], op, outcomes)
        for s in range(0, n_total, chunk_size)
    ]  # fmt: skip
    log.info("trial: %d patients in %d chunks", n_total, len(chunks))
    if chunks:
        done = 0

        def chunk_done(i: int, _: _ChunkResult) -> None:
            nonlocal done
            done += int(chunks[i].indices.shape[0])
            if progress is not None:
                progress(done, n_total)

        on_result = chunk_done if progress is not None else None
        res = _concat(run_chunks(run, _simulate_chunk, chunks, on_result))
    else:
        res = _simulate_chunk(_ChunkSpec(design, mp, root_seed, rec, indices, arms, op, outcomes))
    config: dict[str, Any] = {
        "design": design.to_dict(),
        "n_per_arm": n_per_arm,
        "root_seed": root_seed,
        "condition": mp.condition.model_dump(mode="json"),
        "params": mp.physiology.model_dump(mode="json"),
        "diary": mp.diary.model_dump(mode="json"),
        "side_effects": mp.side_effects.model_dump(mode="json"),
        "outcomes": op.model_dump(mode="json"),
        "recruitment": [recruitment_identity(r) for r in rec],
        "rng_scheme": RNG_SCHEME,
        "enrolment": ENROLMENT,
        **_condition_config(design, mp.condition.name),
    }
    if not outcomes:
        config["outcome_visits"] = False  # absent otherwise: a full run's hash is kept
    return TrialResult(
        design=design,
        nrs=res.nrs,
        observed=res.observed,
        current_mA=res.current_mA,
        ae_reported=res.ae_reported,
        ae_severity=res.ae_severity,
        dropout_day=res.dropout_day,
        eligible=res.eligible,
        coupling=res.coupling,
        pgic=res.pgic,
        bpi_interference=res.bpi_interference,
        fiqr=res.fiqr,
        sleep=res.sleep,
        patient_index=indices,
        arm=arms,
        arm_names=tuple(a.name for a in design.arms),
        side_effects=tuple(SIDE_EFFECTS),
        condition=mp.condition.name,
        root_seed=root_seed,
        version=openvns.__version__,
        rng_scheme=RNG_SCHEME,
        config_hash=config_hash(config),
        config=config,
        attacks=res.attacks,
        treated=res.treated,
        adherence=res.adherence,
        worst_nrs=res.worst_nrs,
        dropout_reason=res.dropout_reason,
        screening=screening,
    )
