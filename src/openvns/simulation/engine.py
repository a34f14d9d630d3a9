"""The one engine: courses of stimulation → device → recruitment → physiology → diary, per day,
vectorised over patients.

:func:`simulate_cohort` runs the patients of a :class:`~openvns.patients.cohort.Cohort` through
a baseline (no stimulation) and then treatment days on their :class:`~.courses.Course` s. Every
random stream is named by the patient (``rng_for(root_seed, "physiology", condition, index)``
for side-effect reports and dropout; the diary's own, :mod:`openvns.patients.diary`), so a
patient's trajectory does not depend on who else is simulated with it, how many or in which
chunk: a trial arm and a one-patient :class:`~openvns.simulation.Simulation` agree bit for bit.

One treatment day
    each course's titration gives its patients' programmed current (:class:`~.courses.
    Controller`: for titration to tolerance, from the intolerance of the present side effects
    the day before, :func:`~openvns.physiology.side_effects.intolerance_severity` ≥ 1); the
    device delivers it
    unless the patient has dropped out; the lead's table gives the recruited fractions at the
    effective current ``I / θ`` (θ: the patient's nerve-interface threshold multiplier,
    ``Cohort.coupling``); one physiology :func:`~openvns.physiology.model.step` with the
    device's duty cycle (ramps included).

Noise and placebo are counted once: the physiology gives the underlying pain and the diary adds
fluctuation, flares, the device placebo (``sham_device_placebo_multiplier`` from the first
treatment day, 0 at baseline) and reporting noise. After a dropout the device is off and later
diary entries are unobserved (the entry of the dropout day is kept).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from openvns.errors import ValidationError
from openvns.patients.adherence import adherence
from openvns.patients.attack_parameters import (
    derived_rates,
    headache_conditions,
    load_attack_parameters,
)
from openvns.patients.attacks import AttackDiary, TreatedAttacks, simulate_attacks
from openvns.patients.cohort import Cohort
from openvns.patients.diary import simulate_diary
from openvns.patients.susceptibility import side_effect_traits
from openvns.patients.worst_pain import worst_pain, worst_pain_conditions
from openvns.physiology.brainstem import MINUTES_PER_DAY, periodic_on_fraction, update_minutes
from openvns.physiology.drive import CUT_ABETA, GROUPS
from openvns.physiology.model import (
    N_UNIFORMS,
    RECORDED,
    SIDE_EFFECTS,
    DailyInputs,
    DailyNoise,
    PhysiologyState,
    dropout_reasons,
    initial_state,
    step,
)
from openvns.physiology.modulation import dose_relief
from openvns.physiology.segmental import combined_relief, segmental_relief
from openvns.physiology.side_effects import intolerance_severity
from openvns.protocol.plans import SensationMatchedSham
from openvns.random import KEPT_DRAW_MAX_BYTES, kept_draws, rngs_for
from openvns.simulation.courses import DEVICE_OFF, NONE, Controller, Course
from openvns.simulation.parameters import ModelParameters

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

log = logging.getLogger(__name__)

__all__ = ["CohortTrajectory", "concat_attacks", "concat_treated", "simulate_cohort"]

#: Per-patient-day settings recorded with ``detail=True`` (units in the names).
SETTINGS = (
    "programmed_current_mA",
    "delivered_current_mA",
    "effective_current_mA",
    "frequency_Hz",
    "pulse_width_us",
    "on_time_s",
    "off_time_min",
    "duty_cycle",
    "hours_per_day",
)


@dataclass(frozen=True)
class CohortTrajectory:
    """What happened to every patient on every day; arrays ``(patients, days, ...)``.

    Attributes
    ----------
    nrs, observed
        Diary NRS (int8, also filled where unobserved) and whether the entry counts.
    current_mA
        Delivered current (0 at baseline, at 0-mA protocols and after dropout).
    ae_reported, ae_severity
        ``(patients, days, len(SIDE_EFFECTS))`` side-effect reports and their severity (int8:
        0 none, 1 mild, 2 moderate, 3 severe).
    underlying_NRS
        The physiology's underlying pain (no fluctuation, placebo or noise).
    reported_pain_NRS
        The diary's pain before rounding (fluctuation, flares, placebo and reporting noise, on
        the bounded scale): what :func:`openvns.patients.outcomes.simulate_outcomes` takes.
    dropout_day
        Day of dropout, −1 for completers.
    dropout_reason
        Why each patient dropped out (int8 codes of
        :data:`~openvns.physiology.model.DROPOUT_REASONS`: 0 none, 1 adverse event, 2 lack of
        efficacy, 3 other), from the competing hazards of the day of dropout
        (:func:`~openvns.physiology.model.dropout_reasons`).
    coupling, tolerance
        Each patient's nerve-interface threshold multiplier θ and side-effect tolerance.
    adherence
        Each patient's fraction of a home-use device's doses taken (``None`` without a
        home-use course).
    worst_nrs
        The daily worst pain (int8 0–10, observed where ``observed``) of a condition with a
        worst-pain item (functional abdominal pain), ``None`` otherwise.
    attacks, treated
        For a headache condition (:func:`~openvns.patients.attack_parameters.
        headache_conditions`): the attack diary over all days (the physiology's modulation of
        pain, ``P / P0``, scales each day's attack rate) and the attacks treated acutely (every
        attack on a day a course with acute use runs, relieved by
        :func:`~openvns.physiology.modulation.dose_relief`); ``None`` otherwise.
    detail
        With ``detail=True``: every other state by name (settings of :data:`SETTINGS`, the
        physiology's :data:`~openvns.physiology.model.RECORDED`, ``recruited_fraction``
        ``(patients, days, len(GROUPS))``, ``severity``, ``limiting_side_effect``, ``decision``,
        ``course``, ``placebo_multiplier``, ``reported_pain_NRS``, ``flare_NRS``).
    """

    nrs: npt.NDArray[np.int8]
    observed: BoolArray
    current_mA: FloatArray
    ae_reported: BoolArray
    ae_severity: npt.NDArray[np.int8]
    underlying_NRS: FloatArray
    reported_pain_NRS: FloatArray
    dropout_day: IntArray
    dropout_reason: npt.NDArray[np.int8]
    coupling: FloatArray
    tolerance: FloatArray
    detail: dict[str, npt.NDArray[np.generic]] = field(default_factory=dict)
    attacks: AttackDiary | None = None
    treated: TreatedAttacks | None = None
    adherence: FloatArray | None = None
    worst_nrs: npt.NDArray[np.int8] | None = None

    @staticmethod
    def concat(parts: Sequence[CohortTrajectory]) -> CohortTrajectory:
        """Patients of several trajectories (same days) in order."""
        arrays = {
            f.name: np.concatenate([getattr(p, f.name) for p in parts])
            for f in fields(CohortTrajectory)
            if f.name not in ("detail", "attacks", "treated", "adherence", "worst_nrs")
        }
        keys = parts[0].detail.keys() if parts else ()
        detail = {k: np.concatenate([p.detail[k] for p in parts]) for k in keys}
        headache = bool(parts) and parts[0].attacks is not None
        return CohortTrajectory(
            **arrays,
            detail=detail,
            attacks=concat_attacks([p.attacks for p in parts if p.attacks]) if headache else None,
            treated=concat_treated([p.treated for p in parts if p.treated]) if headache else None,
            adherence=_concat_optional([p.adherence for p in parts]),
            worst_nrs=_concat_optional([p.worst_nrs for p in parts]),
        )


def _concat_optional(arrays: Sequence[npt.NDArray[Any] | None]) -> npt.NDArray[Any] | None:
    """The arrays in order, or ``None`` when the parts have none (the same for every chunk)."""
    present = [a for a in arrays if a is not None]
    return np.concatenate(present) if present else None


class _Uniforms:
    """Side-effect and dropout uniforms, one named stream per patient
    (``rng_for(root_seed, "physiology", condition, index)``), drawn in blocks of days so memory
    stays ``patients × block × N_UNIFORMS``; the values are those of one long draw per patient."""

    BLOCK_DAYS = 64

    def __init__(self, cohort: Cohort, days: int, root_seed: int) -> None:
        self.days = days
        name = cohort.condition.name
        self._all: FloatArray | None = None
        if cohort.n * days * N_UNIFORMS * 8 <= KEPT_DRAW_MAX_BYTES:
            # small enough to draw whole and keep (the same patients under other parameters)

            def draw() -> tuple[FloatArray]:
                block = np.empty((cohort.n, days, N_UNIFORMS))
                gens = rngs_for(root_seed, ("physiology", name), cohort.indices)
                for col, g in enumerate(gens):
                    block[col] = g.random((days, N_UNIFORMS))
                return (np.ascontiguousarray(block.transpose(1, 2, 0)),)

            key = ("physiology-uniforms", root_seed, name, days)
            (self._all,) = kept_draws(key, cohort.indices, draw)
            return
        self._rngs = rngs_for(root_seed, ("physiology", name), cohort.indices)
        self._block = np.empty((cohort.n, min(self.BLOCK_DAYS, max(days, 1)), N_UNIFORMS))
        self._by_day: FloatArray = np.empty((self._block.shape[1], N_UNIFORMS, cohort.n))
        self._start = -self._block.shape[1]

    def day(self, t: int) -> FloatArray:
        """``(N_UNIFORMS, n)`` draws of treatment day ``t`` (days in increasing order)."""
        if self._all is not None:
            return np.asarray(self._all[t], dtype=np.float64)
        if t >= self._start + self._block.shape[1]:
            self._start = t
            size = min(self._block.shape[1], self.days - t)
            for col, rng in enumerate(self._rngs):
                self._block[col, :size] = rng.random((size, N_UNIFORMS))
            self._by_day[...] = self._block.transpose(1, 2, 0)  # one transpose per block
        return np.asarray(self._by_day[t - self._start], dtype=np.float64)


def _detail_arrays(
    n: int, total: int, state: PhysiologyState
) -> dict[str, npt.NDArray[np.generic]]:
    out: dict[str, npt.NDArray[np.generic]] = {k: np.zeros((n, total)) for k in SETTINGS}
    for k in RECORDED:
        v = getattr(state, k)
        shape = (n, total) if v.ndim == 1 else (n, total, v.shape[0])
        arr = np.empty(shape, dtype=v.dtype)
        arr[:] = (v if v.ndim == 1 else v.T)[:, None]  # baseline rows: the untreated state
        out[k] = arr
    out["recruited_fraction"] = np.zeros((n, total, len(GROUPS)))
    out["severity"] = np.zeros((n, total))
    out["limiting_side_effect"] = np.full((n, total), -1, dtype=np.int8)
    out["decision"] = np.zeros((n, total), dtype=np.int8)
    out["course"] = np.full((n, total), -1, dtype=np.int8)
    return out


def simulate_cohort(
    cohort: Cohort,
    courses: Sequence[Course],
    *,
    baseline_days: int,
    treatment_days: int,
    root_seed: int,
    parameters: ModelParameters,
    detail: bool = False,
    minutes: bool = False,
) -> CohortTrajectory:
    """Simulate ``cohort`` over ``baseline_days`` then ``treatment_days`` on ``courses``.

    Parameters
    ----------
    cohort
        The patients (:func:`openvns.patients.sample_patients`).
    courses
        What each patient receives on which treatment day; on a day no course covers, a
        patient's device is off.
    baseline_days, treatment_days
        Lengths of the two periods (days).
    root_seed
        Root of the named random streams.
    parameters
        Physiology, condition and diary parameters (the cohort's condition must be this one's).
    detail
        Record every state (memory ∝ patients × days × ~40); the trial runner leaves it off.
    minutes
        Integrate the brainstem per minute over each course's ON/OFF schedule (ramps included;
        the exact minute path of :func:`~openvns.physiology.model.step`) instead of per day,
        and, with ``detail``, record per minute the fraction stimulating, the noradrenaline and
        the LC sensitisation (``minute_*`` arrays ``(patients, days, 1440)``).
    """
    p = parameters.physiology
    n = cohort.n
    base, treat = baseline_days, treatment_days
    total = base + treat
    _check_courses(courses, n, treat)
    if minutes and any(c.home_use or c.protocol.stimulation.acute_stimulations_per_attack
                       for c in courses):  # fmt: skip
        raise ValidationError(
            "minutes", True, "the daily path for a home-use or acute-use course (the minute "
            "schedule has no adherence and no stimulation at attack onsets)",
        )  # fmt: skip
    courses = [_with_thresholds(c, cohort) for c in courses]
    controllers = [Controller(c) for c in courses]
    se = parameters.side_effects
    state: PhysiologyState = initial_state(
        p, n, **cohort.physiology_traits, **side_effect_traits(cohort, se), side_effects=se
    )
    uniforms = _Uniforms(cohort, treat, root_seed)
    underlying = np.empty((total, n))
    underlying[:base] = cohort.traits["P0_NRS"]
    # day-major while the days are written, one transpose (a view) at the end
    current = np.zeros((total, n))
    ae = np.zeros((total, len(SIDE_EFFECTS), n), dtype=bool)
    ae_severity = np.zeros((total, len(SIDE_EFFECTS), n), dtype=np.int8)
    dropout_day = np.full(n, -1, dtype=np.int64)
    dropout_reason = np.zeros(n, dtype=np.int8)
    rec = _detail_arrays(n, total, state) if detail else {}
    if detail and minutes:
        for key in ("minute_on_fraction", "minute_noradrenaline", "minute_LC_sensitisation"):
            rec[key] = np.zeros((n, total, MINUTES_PER_DAY))
    schedules = [
        periodic_on_fraction(c.protocol.stimulation.on_time_s, c.protocol.stimulation.off_time_min,
                             c.protocol.stimulation.hours_per_day, ramp_s=c.ramp_s)[0]
        if minutes else None
        for c in courses
    ]  # fmt: skip
    implanted = np.ones(n, dtype=bool)  # post-operative side effects, unless a course says not
    skin = np.zeros(n, dtype=bool)  # wears a skin electrode: the skin's side effects can occur
    for course in courses:
        if not course.implanted:
            implanted[course.mask] = False
        if course.home_use:
            skin[course.mask] = True
    # a home-use device delivers what the patient takes: each patient's adherence
    taken = (
        adherence(cohort, root_seed, parameters.diary) if any(c.home_use for c in courses) else None
    )
    previous = [np.full(int(c.mask.sum()), np.nan) for c in courses]
    # each course's last effective currents and their recruitment: the table is read only for
    # patients whose effective current changed (titration steps, dropout), the result is the same
    last_effective = [np.full(int(c.mask.sum()), np.nan) for c in courses]
    last_r = [np.zeros((int(c.mask.sum()), len(GROUPS))) for c in courses]
    headache = cohort.condition.name in headache_conditions()
    acute = [c.acute_stimulations_per_attack > 0 for c in controllers]
    # acute use stimulates at each attack's onset: its daily exposure (side effects, the slow
    # states) is the stimulation time per attack at the condition's mean attack rate (the day's
    # own attacks are drawn after the physiology: the mean stands in for them)
    attacks_per_d = (
        derived_rates(load_attack_parameters(cohort.condition.name)).mean_rate_per_d
        if headache
        else 0.0
    )
    acute_h = [
        c.acute_stimulations_per_attack * c.acute_dose_s * attacks_per_d / 3600.0
        for c in controllers
    ]
    relief = np.zeros((n, total)) if headache and any(acute) else None
    treated_day = np.zeros((n, total), dtype=bool) if relief is not None else None
    for t in range(treat):
        cur = np.zeros(n)
        freq = np.zeros(n)
        duty = np.zeros(n)
        hours = np.full(n, 24.0)  # a day without a course: nothing runs anyway
        r = np.zeros((n, len(GROUPS)))
        live = [k for k, c in enumerate(controllers) if c.active(t)]
        for k in live:
            c = controllers[k]
            cur[c.mask] = c.current(t)
            freq[c.mask] = c.frequency_Hz
            duty[c.mask] = c.duty or (1.0 if acute_h[k] > 0 else 0.0)  # acute use: trains
            hours[c.mask] = c.hours_per_day + acute_h[k]
            if c.course.home_use and taken is not None:
                hours[c.mask] *= taken[c.mask]
        programmed = cur
        cur = np.where(state.dropped_out, 0.0, cur)
        effective = cur / cohort.coupling  # the table is of the ideal cuff; θ scales thresholds
        for k in live:
            c = controllers[k]
            sub = effective[c.mask]
            changed = sub != last_effective[k]
            if changed.any():
                last_r[k][changed] = np.asarray(
                    c.course.recruitment(sub[changed], c.pulse_width_us), dtype=np.float64
                )
                last_effective[k] = sub
            r[c.mask] = last_r[k]
        on = cur > 0
        frac = None
        if minutes:
            frac = np.zeros((n, MINUTES_PER_DAY))
            for k in live:
                frac[controllers[k].mask] = schedules[k]
        inputs = DailyInputs(
            recruited_fraction=r,
            frequency_Hz=freq,
            duty_cycle=duty,
            hours_per_day=hours,
            stimulation_on=on,
            minute_on_fraction=frac,
            implanted=implanted,
            skin_electrode=skin,
        )
        u = uniforms.day(t)
        was_out = state.dropped_out
        before = state
        state = step(state, inputs, p, DailyNoise.from_block(u), se)
        severity = np.where(was_out, 0.0, intolerance_severity(state.intensity, se))
        for k in live:
            controllers[k].report(t, severity)
        d = base + t
        if relief is not None and treated_day is not None:
            for k in live:
                if acute[k]:
                    m = controllers[k].mask & ~was_out  # a 0 mA sham is used too
                    treated_day[m, d] = True
            r_dose = combined_relief(
                dose_relief(state.N_on, state.R, state.M_phasic, state.E_acute_max, p),
                segmental_relief(r[:, CUT_ABETA], freq, p),
            )
            relief[:, d] = np.where(treated_day[:, d], r_dose, 0.0)
        underlying[d] = state.P_true_NRS
        current[d] = cur
        ae[d] = state.ae_reported & ~was_out
        ae_severity[d] = np.where(was_out, 0, state.ae_severity)
        left = state.dropped_out & ~was_out
        dropout_day = np.where(left, d, dropout_day)
        if left.any():
            why = dropout_reasons(before.day, state, u[-1], p)
            dropout_reason = np.where(left, why, dropout_reason)
        if detail:
            switched_off = was_out & (dropout_day == d - 1)  # the first day the device is off
            _record_day(
                rec, d, t, state, controllers, live, previous, programmed, cur, effective, r,
                duty, hours, was_out, switched_off, severity,
            )  # fmt: skip
            if frac is not None:
                f_on = np.where(on[:, None], frac, 0.0)
                *_, S_minute = update_minutes(
                    before.S, before.R1, before.R, state.N_on, f_on, parameters.physiology
                )
                rec["minute_on_fraction"][:, d] = f_on
                rec["minute_noradrenaline"][:, d] = f_on * state.N_on[:, None]
                rec["minute_LC_sensitisation"][:, d] = S_minute

    dp = parameters.diary
    # expectation: a device's from the first treatment day, or what each course says
    mult = np.zeros((total, n))
    mult[base:] = dp.sham_device_placebo_multiplier
    for course in courses:
        if course.expectation is not None:
            span = slice(base + course.start_day, base + min(course.end_day, treat))
            mult[span, course.mask] = course.expectation
    diary = simulate_diary(
        cohort, total, root_seed, underlying_pain_NRS=underlying, placebo_multiplier=mult,
        diary_params=dp,
    )  # fmt: skip
    day = np.arange(total)[None, :]
    gone = (dropout_day[:, None] >= 0) & (day > dropout_day[:, None])
    attacks: AttackDiary | None = None
    treated: TreatedAttacks | None = None
    worst = None
    if cohort.condition.name in worst_pain_conditions():
        worst = np.ascontiguousarray(worst_pain(cohort, diary, root_seed).nrs.T)
    if headache:
        attacks, treated = _attacks(
            cohort, underlying, mult, relief, treated_day, gone, root_seed, total
        )
    reported = np.ascontiguousarray(diary.P_true_NRS.T)
    if detail:
        rec["placebo_multiplier"] = np.ascontiguousarray(mult.T)
        rec["reported_pain_NRS"] = reported
        rec["flare_NRS"] = np.ascontiguousarray(diary.flare_NRS.T)
    return CohortTrajectory(
        nrs=np.ascontiguousarray(diary.nrs.T),
        observed=diary.observed.T & ~gone,
        current_mA=current.T,
        ae_reported=ae.transpose(2, 0, 1),
        ae_severity=ae_severity.transpose(2, 0, 1),
        underlying_NRS=np.ascontiguousarray(underlying.T),
        reported_pain_NRS=reported,
        dropout_day=dropout_day,
        dropout_reason=dropout_reason,
        coupling=cohort.coupling,
        tolerance=cohort.tolerance,
        detail=rec,
        attacks=attacks,
        treated=treated,
        adherence=taken,
        worst_nrs=worst,
    )


def concat_attacks(parts: Sequence[AttackDiary]) -> AttackDiary:
    """The patients of several attack diaries (same days) in order."""
    names = [f.name for f in fields(AttackDiary) if f.name != "scale_max"]
    arrays = {k: np.concatenate([getattr(p, k) for p in parts]) for k in names}
    return AttackDiary(**arrays, scale_max=parts[0].scale_max)


def concat_treated(parts: Sequence[TreatedAttacks]) -> TreatedAttacks:
    """The patients of several treated-attack records in order, slots padded to the most
    any patient treated (empty slots: day −1, pain −1, rescue NaN)."""
    k = max(p.day.shape[1] for p in parts)

    def pad(x: npt.NDArray[Any], fill: float) -> npt.NDArray[Any]:
        width = [(0, 0), (0, k - x.shape[1])] + [(0, 0)] * (x.ndim - 2)
        return np.pad(x, width, constant_values=fill)

    return TreatedAttacks(
        day=np.concatenate([pad(p.day, -1) for p in parts]),
        pain=np.concatenate([pad(p.pain, -1) for p in parts]),
        rescue_min=np.concatenate([pad(p.rescue_min, np.nan) for p in parts]),
        scale_max=parts[0].scale_max,
    )


def _with_thresholds(course: Course, cohort: Cohort) -> Course:
    """The course with each patient's sensory threshold (mA) when its protocol is dosed relative
    to it (taVNS) or is the sensation-matched sham: the electrode's threshold at the
    protocol's pulse width (its recruitment's ``sensory_threshold_mA``) times the patient's
    threshold multiplier θ (``Cohort.coupling``)."""
    protocol = course.protocol
    needs = protocol.relative_to_threshold or isinstance(protocol.current, SensationMatchedSham)
    if not needs or course.threshold_mA is not None:
        return course
    of_lead = getattr(course.recruitment, "sensory_threshold_mA", None)
    if of_lead is None:
        raise ValidationError(
            "recruitment",
            repr(course.recruitment),
            f"a recruitment with a sensory threshold (a skin electrode's table) for the protocol "
            f"'{protocol.current}'",
        )
    threshold = float(of_lead(protocol.stimulation.pulse_width_us)) * cohort.coupling
    return replace(course, threshold_mA=np.asarray(threshold, dtype=np.float64))


def _attacks(
    cohort: Cohort,
    underlying: FloatArray,
    mult: FloatArray,
    relief: FloatArray | None,
    treated_day: BoolArray | None,
    gone: BoolArray,
    root_seed: int,
    total: int,
) -> tuple[AttackDiary, TreatedAttacks]:
    """The attack diary of a headache cohort: the day's attack rate scales with the
    physiology's modulation of pain (``P / P0``: descending inhibition lowers the excitability
    of the trigeminovascular system as it lowers pain), the expectation is the diary's, and
    every attack on a day with acute use is treated, relieved by the dose's relief. After a
    dropout no entry is observed."""
    P0 = cohort.traits["P0_NRS"][:, None]
    rate = np.ascontiguousarray(underlying.T) / np.where(P0 > 0, P0, 1.0)
    attacks, treated = simulate_attacks(
        cohort, total, root_seed, rate_multiplier=np.maximum(rate, 0.0),
        expectation=np.ascontiguousarray(mult.T), acute_relief=relief, treat_days=treated_day,
    )  # fmt: skip
    attacks = replace(attacks, observed=attacks.observed & ~gone)
    return attacks, treated


def _check_courses(courses: Sequence[Course], n: int, treatment_days: int) -> None:
    """Refuse courses of the wrong size or two courses for one patient on one day."""
    for i, c in enumerate(courses):
        if c.mask.shape != (n,):
            raise ValidationError(
                f"courses[{i}].mask", c.mask.shape, f"one flag per patient ({n},)"
            )
        if not 0 <= c.start_day <= c.end_day:
            raise ValidationError(f"courses[{i}].start_day", c.start_day, "0 ≤ start ≤ end")
    for i, a in enumerate(courses):
        for j in range(i + 1, len(courses)):
            b = courses[j]
            overlap_days = min(a.end_day, b.end_day, treatment_days) > max(a.start_day, b.start_day)
            if overlap_days and bool(np.any(a.mask & b.mask)):
                raise ValidationError(
                    f"courses[{j}]",
                    f"days {b.start_day}–{b.end_day}",
                    f"courses that do not overlap courses[{i}] (days {a.start_day}–{a.end_day}) "
                    "for the same patient",
                )


def _record_day(
    rec: dict[str, npt.NDArray[np.generic]],
    d: int,
    t: int,
    state: PhysiologyState,
    controllers: list[Controller],
    live: list[int],
    previous: list[FloatArray],
    programmed: FloatArray,
    delivered: FloatArray,
    effective: FloatArray,
    r: FloatArray,
    duty: FloatArray,
    hours: FloatArray,
    was_out: BoolArray,
    switched_off: BoolArray,
    severity: FloatArray,
) -> None:
    """Store day ``d`` (treatment day ``t``) of every state and the titration's decisions.

    After a dropout nothing is programmed any more (0 mA, no titration decision); the day after
    the dropout day carries the decision "device off".
    """
    programmed = np.where(was_out, 0.0, programmed)
    rec["programmed_current_mA"][:, d] = programmed
    rec["delivered_current_mA"][:, d] = delivered
    rec["effective_current_mA"][:, d] = effective
    rec["duty_cycle"][:, d] = duty
    rec["hours_per_day"][:, d] = hours
    for k in live:
        c = controllers[k]
        s = c.course.protocol.stimulation
        rec["frequency_Hz"][c.mask, d] = s.frequency_Hz
        rec["pulse_width_us"][c.mask, d] = s.pulse_width_us
        rec["on_time_s"][c.mask, d] = s.on_time_s
        rec["off_time_min"][c.mask, d] = s.off_time_min
        rec["course"][c.mask, d] = k
        today = programmed[c.mask]
        code = c.decisions(t, previous[k], today)
        code[was_out[c.mask]] = NONE
        rec["decision"][c.mask, d] = code
        previous[k] = today.copy()
    rec["decision"][switched_off, d] = DEVICE_OFF
    rec["recruited_fraction"][:, d, :] = r
    for name in RECORDED:
        v = getattr(state, name)
        rec[name][:, d] = v if v.ndim == 1 else v.T
    rec["severity"][:, d] = severity
    limiting = np.argmax(state.intensity, axis=0).astype(np.int8)
    none = was_out | ~state.present.any(axis=0)
    rec["limiting_side_effect"][:, d] = np.where(none, -1, limiting)
