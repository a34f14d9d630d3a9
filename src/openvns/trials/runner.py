"""Trial runner: a :class:`TrialDesign` in, per-patient-day arrays and their provenance out.

Enrolment and allocation
    ``n_per_arm · ratio`` patients per arm are enrolled: patients ``0 … N − 1`` of the condition,
    each drawn from its own stream ``rng_for(root_seed, condition, index)`` (so
    ``fibromyalgia#0042`` is the same patient in every run with the same root seed), and
    randomised to the arms by permuted blocks from ``rng_for(root_seed, "allocation")``.

Days
    Day 0 … ``baseline_days − 1`` is the baseline (no stimulation, underlying pain ``P0``); then
    the blinded phase on the arm's protocol, then the open-label extension on the open-label
    arm's protocol. Patients of the open-label arm continue their titration; the others start
    it on the first open-label day.

One treatment day, vectorised over the patients of a chunk
    the titration policy gives each patient's current (:class:`ToTolerance` from the
    intolerance severity of the day before, at the current of that day:
    :func:`~openvns.physiology.side_effects.intolerance_severity` of the reported burdens ``B``
    and the patient's ``Cohort.tolerance``, ≥ 1 intolerable; tolerated side effects such as voice
    alteration during ON do not stop the titration); ``recruitment(current_mA / θ,
    pulse_width_us)`` gives the recruited fractions (θ: the patient's nerve-interface threshold
    multiplier, ``Cohort.coupling``); one physiology :func:`step`.

Noise and placebo are counted once (the rule of :mod:`openvns.patients.diary`): the physiology
runs without diary noise (``eps_eta = eps_s = 0``) and without placebo, and its ``P_true_NRS``
is the diary's ``underlying_pain_NRS``; the diary adds fluctuation, flares, the device placebo
(``sham_device_placebo_multiplier`` in both blinded arms and the extension, 0 at baseline) and
reporting noise. The physiology keeps its own uniforms for side-effect reports and dropout, from
``rng_for(root_seed, "physiology", condition, index)``. After a patient drops out the device is
off and later diary entries are unobserved (the entry of the dropout day is kept).

Executors (:mod:`openvns.trials.executors`) run chunks of patients; every stream is named by the
patient, so the result is identical whatever the executor, the workers and the chunk size.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

import openvns
from openvns.device.dose import duty_cycle
from openvns.errors import ValidationError
from openvns.patients.cohort import Cohort, patient_name, sample_patients
from openvns.patients.conditions import Condition, load_condition
from openvns.patients.diary import simulate_diary
from openvns.physiology.drive import GROUPS
from openvns.physiology.model import (
    SIDE_EFFECTS,
    DailyInputs,
    DailyNoise,
    PhysiologyState,
    initial_state,
    step,
)
from openvns.physiology.parameters import PhysiologyParameters, load_parameters
from openvns.physiology.side_effects import intolerance_severity
from openvns.protocol.text import Protocol
from openvns.protocol.titration import TitrationPolicy, ToleranceState, ToTolerance, policy_for
from openvns.random import RNG_SCHEME, rng_for
from openvns.trials.design import TrialDesign
from openvns.analysis.endpoints import (
    ArmComparison,
    ArmSummary,
    ChangeFromBaseline,
    TimeToResponse,
    change_from_baseline,
    compare_arms,
    summarise_arm,
    time_to_response,
)
from openvns.trials.executors import ChunkExecutor, get_executor, run_chunks

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

#: ``recruitment(current_mA (n,), pulse_width_us) -> (n, len(GROUPS))`` recruited fractions.
Recruitment = Callable[[FloatArray, float], FloatArray]

log = logging.getLogger(__name__)

__all__ = [
    "Recruitment",
    "TrialResult",
    "TrialSummary",
    "config_hash",
    "recruitment_identity",
    "run_trial",
    "simulate_patients",
]


@dataclass(frozen=True)
class _ChunkSpec:
    design: TrialDesign
    condition: Condition
    params: PhysiologyParameters
    root_seed: int
    recruitment: Recruitment
    indices: IntArray
    arms: IntArray


@dataclass(frozen=True)
class _ChunkResult:
    nrs: npt.NDArray[np.int8]
    observed: BoolArray
    current_mA: FloatArray
    ae_reported: BoolArray
    dropout_day: IntArray
    eligible: BoolArray
    coupling: FloatArray


class _Controller:
    """A protocol's titration for some of a chunk's patients, from treatment day ``offset``."""

    def __init__(
        self, protocol: Protocol, mask: BoolArray, offset: int, end: int, total_days: int
    ) -> None:
        self.protocol = protocol
        self.mask = mask
        self.offset = offset
        self.end = end
        self.policy: TitrationPolicy = policy_for(protocol)
        n = int(mask.sum())
        self.state: ToleranceState | None = None
        self.plan: FloatArray | None = None
        if isinstance(self.policy, ToTolerance):
            self.state = self.policy.start(protocol, n)
        else:
            self.plan = self.policy.currents(protocol, n, max(end - offset, 0))
        s = protocol.stimulation
        self.frequency_Hz = s.frequency_Hz
        self.pulse_width_us = s.pulse_width_us
        self.duty = duty_cycle(s.on_time_s, s.off_time_min)

    def active(self, t: int) -> bool:
        return self.offset <= t < self.end and bool(self.mask.any())

    def current(self, t: int) -> FloatArray:
        if self.state is not None:
            return np.asarray(self.state.current_mA, dtype=np.float64)
        assert self.plan is not None
        return self.plan[:, t - self.offset]

    def report(self, t: int, severity: FloatArray) -> None:
        if self.state is not None:
            assert isinstance(self.policy, ToTolerance)
            self.policy.advance(self.protocol, self.state, t - self.offset, severity[self.mask])


def _physiology_uniforms(cohort: Cohort, days: int, root_seed: int) -> FloatArray:
    """``(days, 4, n)``: AE-report and dropout uniforms per patient (named streams)."""
    out = np.empty((days, 4, cohort.n))
    for col, i in enumerate(cohort.indices):
        rng = rng_for(root_seed, "physiology", cohort.condition.name, int(i))
        out[:, :, col] = rng.random((days, 4))
    return out


def _simulate_chunk(spec: _ChunkSpec) -> _ChunkResult:
    design, p = spec.design, spec.params
    cohort = sample_patients(spec.condition, spec.indices, spec.root_seed, p)
    n = cohort.n
    base, blind, ol = design.baseline_days, design.blinded_days, design.open_label_days
    treat = blind + ol
    total = base + treat
    arm_names = [a.name for a in design.arms]

    controllers: list[_Controller] = []
    ol_index = arm_names.index(design.open_label_arm) if design.open_label_arm else -1
    for a, name in enumerate(arm_names):
        end = treat if a == ol_index else blind
        controllers.append(_Controller(design.protocol_for(name), spec.arms == a, 0, end, treat))
    if ol and ol_index >= 0:
        controllers.append(
            _Controller(
                design.protocol_for(arm_names[ol_index]), spec.arms != ol_index, blind, treat, treat
            )
        )

    state: PhysiologyState = initial_state(p, n, **cohort.traits)
    uniforms = _physiology_uniforms(cohort, treat, spec.root_seed)
    zeros = np.zeros(n)
    underlying = np.empty((total, n))
    underlying[:base] = cohort.traits["P0_NRS"]
    current = np.zeros((n, total))
    ae = np.zeros((n, total, len(SIDE_EFFECTS)), dtype=bool)
    dropout_day = np.full(n, -1, dtype=np.int64)
    for t in range(treat):
        cur = np.zeros(n)
        freq = np.zeros(n)
        pw = np.zeros(n)
        duty = np.zeros(n)
        r = np.zeros((n, len(GROUPS)))
        live = [c for c in controllers if c.active(t)]
        for c in live:
            cur[c.mask] = c.current(t)
            freq[c.mask] = c.frequency_Hz
            pw[c.mask] = c.pulse_width_us
            duty[c.mask] = c.duty
        cur = np.where(state.dropped_out, 0.0, cur)
        effective = cur / cohort.coupling  # the table is of the ideal cuff; θ scales thresholds
        for c in live:
            sub = effective[c.mask]
            r[c.mask] = np.asarray(spec.recruitment(sub, c.pulse_width_us), dtype=np.float64)
        on = cur > 0
        inputs = DailyInputs(
            recruited_fraction=r,
            frequency_Hz=freq,
            pulse_width_us=pw,
            duty_cycle=duty,
            hours_per_day=np.full(n, 24.0),
            stimulation_on=on,
            placebo_multiplier=zeros,
        )
        u = uniforms[t]
        noise = DailyNoise(eps_eta=zeros, eps_s=zeros, u_ae=u[:3], u_dropout=u[3])
        was_out = state.dropped_out
        state = step(state, inputs, p, noise)
        severity = np.where(was_out, 0.0, intolerance_severity(state.B, cohort.tolerance, p))
        for c in live:
            c.report(t, severity)
        underlying[base + t] = state.P_true_NRS
        current[:, base + t] = cur
        ae[:, base + t, :] = (state.ae_reported & ~was_out).T
        dropout_day = np.where(state.dropped_out & ~was_out, base + t, dropout_day)

    mult = np.zeros((total, n))
    mult[base:] = p.sham_device_placebo_multiplier
    diary = simulate_diary(
        cohort, total, spec.root_seed, underlying_pain_NRS=underlying, placebo_multiplier=mult
    )
    day = np.arange(total)[None, :]
    gone = (dropout_day[:, None] >= 0) & (day > dropout_day[:, None])
    observed = diary.observed.T & ~gone
    baseline = np.where(diary.observed.T[:, :base], diary.nrs.T[:, :base], np.nan)
    eligible = (design.inclusion.eligible(baseline) if base else np.ones(n, dtype=bool)).astype(
        bool
    )
    return _ChunkResult(
        nrs=np.ascontiguousarray(diary.nrs.T),
        observed=observed,
        current_mA=current,
        ae_reported=ae,
        dropout_day=dropout_day,
        eligible=eligible,
        coupling=cohort.coupling,
    )


def _concat(results: list[_ChunkResult]) -> _ChunkResult:
    return _ChunkResult(
        *(
            np.concatenate([getattr(r, f) for r in results])
            for f in _ChunkResult.__dataclass_fields__
        )
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
class TrialSummary:
    """Blinded-phase endpoints: per-arm summaries and each other arm against the first.

    ``time_to_response`` holds each arm's weeks to a ≥ 30 % response (censored at dropout and at
    the end of the blinded phase); the comparisons carry its log-rank test.
    """

    arms: dict[str, ArmSummary]
    comparisons: dict[str, ArmComparison]
    time_to_response: dict[str, TimeToResponse] = field(default_factory=dict)


@dataclass(frozen=True)
class TrialResult:
    """Per-patient-day arrays ``(patients, days)`` of a trial and their provenance.

    Attributes
    ----------
    nrs, observed
        Diary NRS (int8, also filled where unobserved) and whether the entry counts.
    current_mA
        Programmed current (0 at baseline, in the sham arm and after dropout).
    ae_reported
        ``(patients, days, len(SIDE_EFFECTS))`` side-effect reports.
    dropout_day
        Day of dropout, −1 for completers.
    eligible
        Whether the baseline diary meets the inclusion criteria.
    coupling
        Each patient's nerve-interface threshold multiplier θ (recruitment at ``I`` is the
        table's at ``I / θ``).
    patient_index, arm
        Patient indices (names ``condition#index``) and arm index per patient.
    arm_names, side_effects
        Labels of the arm indices and of the last axis of ``ae_reported``.
    root_seed, version, rng_scheme, config_hash, config
        Provenance: the hash is the SHA-256 of ``config``.
    """

    design: TrialDesign
    nrs: npt.NDArray[np.int8]
    observed: BoolArray
    current_mA: FloatArray
    ae_reported: BoolArray
    dropout_day: IntArray
    eligible: BoolArray
    coupling: FloatArray
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

    def change(self, arm: str, *, eligible_only: bool = True) -> ChangeFromBaseline:
        """Change from the baseline window to the last 4 weeks of the blinded phase."""
        d = self.design
        sel = self.arm == self.arm_names.index(arm)
        if eligible_only:
            sel &= self.eligible
        end = d.baseline_days + d.blinded_days
        window = slice(max(d.baseline_days, end - 28), end)
        return change_from_baseline(
            self.nrs[sel].astype(np.float64),
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

    def summary(self) -> TrialSummary:
        """Per-arm summaries and comparisons against the first arm (eligible patients)."""
        if self.design.baseline_days == 0:
            raise ValidationError("baseline_days", 0, "a baseline period ≥ 1 day for endpoints")
        if self.design.blinded_days == 0:
            raise ValidationError("blinded_days", 0, "a blinded phase ≥ 1 day for endpoints")
        changes = {a: self.change(a) for a in self.arm_names}
        times = {a: self.time_to_response(a) for a in self.arm_names}
        ref = self.arm_names[0]
        return TrialSummary(
            arms={a: summarise_arm(c) for a, c in changes.items()},
            comparisons={
                a: compare_arms(changes[ref], changes[a], time_a=times[ref], time_b=times[a])
                for a in self.arm_names
                if a != ref
            },
            time_to_response=times,
        )


def simulate_patients(
    design: TrialDesign,
    indices: npt.ArrayLike,
    arms: npt.ArrayLike,
    *,
    root_seed: int,
    recruitment: Recruitment,
    condition: str | Condition = "fibromyalgia",
    params: PhysiologyParameters | None = None,
) -> dict[str, npt.NDArray[Any]]:
    """Simulate the named patients ``indices`` in arms ``arms`` (arm indices), no allocation.

    A patient's rows are the same here as in any :func:`run_trial` that allocated them to the
    same arm under the same root seed.
    """
    cond = load_condition(condition) if isinstance(condition, str) else condition
    p = load_parameters() if params is None else params
    spec = _ChunkSpec(
        design,
        cond,
        p,
        root_seed,
        recruitment,
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
    recruitment: Recruitment,
    condition: str | Condition = "fibromyalgia",
    params: PhysiologyParameters | None = None,
    executor: Literal["serial", "process", "dask"] | ChunkExecutor = "serial",
    workers: int = 1,
    chunk_size: int = 1024,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> TrialResult:
    """Run ``design`` with ``n_per_arm · ratio`` patients per arm.

    Parameters
    ----------
    design
        The trial design.
    n_per_arm
        Patients per unit of allocation ratio (1:1 → ``n_per_arm`` in each arm).
    root_seed
        Root of every random stream.
    recruitment
        ``recruitment(current_mA, pulse_width_us) -> (n, len(GROUPS))`` fractions, e.g. a bound
        :meth:`RecruitmentTable.fraction`-based function; must be picklable for ``"process"``.
    condition, params
        The patients' condition and physiology parameters (shipped sets by default).
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
    cond = load_condition(condition) if isinstance(condition, str) else condition
    p = load_parameters() if params is None else params
    n_total = n_per_arm * sum(design.ratio)
    arms = design.allocate(n_total, rng_for(root_seed, "allocation")).astype(np.int64)
    indices = np.arange(n_total, dtype=np.int64)
    chunks = [
        _ChunkSpec(design, cond, p, root_seed, recruitment, indices[s : s + chunk_size],
                   arms[s : s + chunk_size])
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
        res = _simulate_chunk(_ChunkSpec(design, cond, p, root_seed, recruitment, indices, arms))
    config: dict[str, Any] = {
        "design": design.to_dict(),
        "n_per_arm": n_per_arm,
        "root_seed": root_seed,
        "condition": cond.model_dump(mode="json"),
        "params": p.model_dump(mode="json"),
        "recruitment": recruitment_identity(recruitment),
        "rng_scheme": RNG_SCHEME,
    }
    return TrialResult(
        design=design,
        nrs=res.nrs,
        observed=res.observed,
        current_mA=res.current_mA,
        ae_reported=res.ae_reported,
        dropout_day=res.dropout_day,
        eligible=res.eligible,
        coupling=res.coupling,
        patient_index=indices,
        arm=arms,
        arm_names=tuple(a.name for a in design.arms),
        side_effects=tuple(SIDE_EFFECTS),
        condition=cond.name,
        root_seed=root_seed,
        version=openvns.__version__,
        rng_scheme=RNG_SCHEME,
        config_hash=config_hash(config),
        config=config,
    )
