"""Daily-step VNS → pain model (reference §5.1–§5.5), vectorised over patients.

Every array has shape ``(n_patients,)`` (recruitment ``(n_patients, len(GROUPS))``). One call of
:func:`step` follows the per-day order of reference §5.9: (2) drive and daily LC output;
(3) exact exponential update of S, R1, R; (4) X, M, E_acute; (5) G, C, E_slow; (6) side
effects, tolerance, AE reports, heart rate; (7) the patient's underlying pain; (8) dropout draw.
Step (1), settings → recruitment, is the caller's: this module takes plain fractions.

Pain here is the patient's *underlying* pain ``P0 (1 − E_slow)(1 − E_acute)``: its day-to-day
fluctuation, flares, placebo and the diary's reporting noise belong to the patient's condition
and are added once, by :func:`openvns.patients.diary.simulate_diary`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace

import numpy as np
import numpy.typing as npt
from numpy.typing import NDArray

from openvns.errors import ValidationError
from openvns.physiology.brainstem import lc_tone, update_daily, update_minutes
from openvns.physiology.drive import (
    ADELTA_AFF as _AD,
)
from openvns.physiology.drive import (
    C_AFF as _C,
)
from openvns.physiology.drive import (
    GROUPS,
    BoolArray,
    FloatArray,
    afferent_drives,
    frequency_filter,
    hill,
)
from openvns.physiology.modulation import (
    day_modulation,
    net_modulation,
    persistence_coverage,
    persistence_coverage_minutes,
)
from openvns.physiology.parameters import PhysiologyParameters
from openvns.physiology.plasticity import plasticity_gain, update_sensitisation
from openvns.physiology.side_effect_parameters import (
    SideEffectParameters,
    load_side_effect_parameters,
)
from openvns.physiology.side_effects import (
    SIDE_EFFECTS,
    habituation_decay,
    heart_rate_change_pct,
    side_effect_drive,
    update_side_effects,
)
from openvns.random import rng_for

__all__ = [
    "GROUPS",
    "N_UNIFORMS",
    "RECORDED",
    "SIDE_EFFECTS",
    "DailyInputs",
    "DailyNoise",
    "PhysiologyState",
    "draw_noise",
    "frequency_filter",
    "hill",
    "initial_state",
    "net_modulation",
    "plasticity_gain",
    "simulate",
    "step",
]


@dataclass(frozen=True)
class DailyInputs:
    """What the patient receives on one day.

    Attributes
    ----------
    recruited_fraction
        ``(n_patients, len(GROUPS))`` fraction recruited per functional group during ON.
    frequency_Hz
        Pulse frequency, ``(n_patients,)`` (the pulse width acts through the recruitment).
    duty_cycle
        Fraction of time ON while the schedule runs (``openvns.device.dose.duty_cycle``).
    hours_per_day
        Hours of the day the schedule runs.
    stimulation_on
        Whether the device stimulates at all today.
    implanted
        Optional ``(n_patients,)``: whether the patient had an operation (post-operative side
        effects decay from the first treatment day); default: everyone.
    skin_electrode
        Optional ``(n_patients,)``: whether the patient wears a skin electrode (non-invasive
        device): the channels of the skin under it (:data:`~openvns.physiology.
        side_effect_parameters.SKIN_ONLY`) occur only then; default: no restriction.
    minute_on_fraction
        Optional ``(n_patients, 1440)`` fraction of each minute that stimulates
        (:func:`openvns.physiology.brainstem.periodic_on_fraction` or
        :func:`~openvns.physiology.brainstem.train_on_fraction`). When given, the brainstem
        states are integrated per minute over this schedule (the exact minute-resolution path)
        and the day's exposure is its mean; ``duty_cycle`` is then not used.
    """

    recruited_fraction: FloatArray
    frequency_Hz: FloatArray
    duty_cycle: FloatArray
    hours_per_day: FloatArray
    stimulation_on: BoolArray
    minute_on_fraction: FloatArray | None = None
    implanted: BoolArray | None = None
    skin_electrode: BoolArray | None = None


#: Uniform draws per patient and day: one per side effect (its transition and its report), dropout.
N_UNIFORMS = len(SIDE_EFFECTS) + 1


@dataclass(frozen=True)
class DailyNoise:
    """Uniform draws on [0, 1) for one day: ``u_ae`` (channels, n) side-effect onsets,
    resolutions and reports (:func:`~openvns.physiology.side_effects.update_side_effects`),
    ``u_dropout`` (n,)."""

    u_ae: FloatArray
    u_dropout: FloatArray

    @classmethod
    def none(cls, n_patients: int) -> DailyNoise:
        """No side effect ever starts, a present one never ends, no dropout."""
        return cls(np.ones((len(SIDE_EFFECTS), n_patients)), np.ones(n_patients))

    @classmethod
    def from_block(cls, block: FloatArray) -> DailyNoise:
        """Split ``(N_UNIFORMS, n)`` draws: one per side effect, then dropout."""
        k = len(SIDE_EFFECTS)
        return cls(block[:k], block[k])


@dataclass(frozen=True)
class PhysiologyState:
    """State of every patient after a day (§5.9), plus fixed traits and the day's observables.

    Dynamic states: ``S`` (LC sensitisation), ``R1``, ``R`` (5-HT stages), ``C`` (central
    sensitisation, 1 = untreated), ``T`` (channels, n) habituated fraction per side effect,
    ``day`` (days since enrolment), ``days_on_therapy``, ``dropped_out``. Traits (fixed per
    patient): ``P0_NRS``, ``D50_N``, ``F_max_over_I_max``, ``E_acute_max``, ``alpha``,
    ``k_ret_per_d``, ``tau_relapse_d``, ``tau_hab_scale``, ``nocebo`` (background side-effect
    propensity), ``tolerance`` (multiplier of the intolerable level), ``susceptibility`` and
    ``hab_decay`` (channels, n).
    Observables of the last day: ``D_on`` (afferent drive
    during ON), ``N_on`` (LC/noradrenaline tone during ON), ``Nbar`` (its daily mean),
    ``inhibition`` and ``facilitation`` (day means of the two descending terms), ``M`` (their
    difference; ``M_tonic`` its day-mean tonic part, ``M_phasic`` the ON-locked modulation during
    ON), ``E_acute``, ``G``, ``E_slow``; per side effect (channels, n) of
    :data:`SIDE_EFFECTS`: ``B`` (stimulation burden), ``p_ae`` (onset probability),
    ``present`` (an episode is running), ``intensity`` (of a present effect, relative to the
    patient's intolerable level), ``ae_reported`` and ``ae_severity`` (0 none … 3 severe);
    ``HR_change_pct``, ``P_true_NRS`` (underlying pain), ``NRS`` (it rounded to 0–10),
    ``hazard_per_d`` (dropout hazard of the day).
    """

    S: FloatArray
    R1: FloatArray
    R: FloatArray
    C: FloatArray
    T: FloatArray
    day: FloatArray
    days_on_therapy: FloatArray
    dropped_out: BoolArray
    P0_NRS: FloatArray
    D50_N: FloatArray
    F_max_over_I_max: FloatArray
    E_acute_max: FloatArray
    alpha: FloatArray
    k_ret_per_d: FloatArray
    tau_relapse_d: FloatArray
    tau_hab_scale: FloatArray
    nocebo: FloatArray
    tolerance: FloatArray
    susceptibility: FloatArray
    hab_decay: FloatArray
    D_on: FloatArray
    N_on: FloatArray
    Nbar: FloatArray
    inhibition: FloatArray
    facilitation: FloatArray
    M: FloatArray
    M_phasic: FloatArray
    M_tonic: FloatArray
    E_acute: FloatArray
    G: FloatArray
    E_slow: FloatArray
    B: FloatArray
    p_ae: FloatArray
    present: BoolArray
    intensity: FloatArray
    ae_reported: BoolArray
    ae_severity: NDArray[np.int8]
    HR_change_pct: FloatArray
    P_true_NRS: FloatArray
    NRS: FloatArray
    hazard_per_d: FloatArray

    def select(self, index: slice | NDArray[np.intp]) -> PhysiologyState:
        """The state of a subset of patients (patients are the last axis of every array)."""
        return PhysiologyState(**{f.name: getattr(self, f.name)[..., index] for f in fields(self)})


def initial_state(
    params: PhysiologyParameters,
    n_patients: int,
    *,
    P0_NRS: npt.ArrayLike,
    alpha: npt.ArrayLike,
    susceptibility: npt.ArrayLike | None = None,
    side_effects: SideEffectParameters | None = None,
    **traits: npt.ArrayLike,
) -> PhysiologyState:
    """Untreated baseline for ``n_patients``.

    ``P0_NRS`` (baseline pain) and ``alpha`` (retraining benefit) are the patient's: the
    condition owns their distribution (:func:`openvns.patients.sample_patients`,
    :func:`openvns.patients.typical_traits`). The other traits default to the population's
    typical values of this parameter set; ``traits`` overrides any of them by name.
    ``susceptibility`` (channels, n) to each side effect defaults to 1 (the median patient).
    ``side_effects`` (default: the shipped set) gives the habituation times: the state keeps each
    patient's daily habituation decay ``hab_decay`` (channels, n), a trait from then on, so
    :func:`step` must get the same set.
    """
    n = n_patients
    se = load_side_effect_parameters() if side_effects is None else side_effects

    def full(v: float) -> FloatArray:
        return np.full(n, float(v))

    base: dict[str, FloatArray] = {
        "P0_NRS": np.broadcast_to(np.asarray(P0_NRS, dtype=np.float64), (n,)).copy(),
        "D50_N": full(params.D50_N),
        "F_max_over_I_max": full(params.F_max_over_I_max),
        "E_acute_max": full(params.E_acute_max),
        "alpha": np.broadcast_to(np.asarray(alpha, dtype=np.float64), (n,)).copy(),
        "k_ret_per_d": full(1.0 / params.retraining_time_d),
        "tau_relapse_d": full(params.tau_relapse_d),
        "tau_hab_scale": full(1.0),
        "nocebo": full(1.0),
        "tolerance": full(1.0),
    }
    for key, value in traits.items():
        if key not in base:
            raise KeyError(f"unknown trait {key!r}; allowed: {', '.join(base)}")
        base[key] = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()
    z = np.zeros(n)
    k = len(SIDE_EFFECTS)
    z3 = np.zeros((k, n))
    no = np.zeros((k, n), dtype=bool)
    sus = np.ones((k, n)) if susceptibility is None else np.asarray(susceptibility, np.float64)
    if sus.shape != (k, n):
        raise ValidationError(
            "susceptibility", sus.shape, f"one value per side effect and patient {(k, n)}"
        )
    return PhysiologyState(
        S=z, R1=z, R=z, C=np.ones(n), T=z3, day=z, days_on_therapy=z,
        dropped_out=np.zeros(n, dtype=bool), **base, susceptibility=sus.copy(),
        hab_decay=habituation_decay(base["tau_hab_scale"], se), D_on=z, N_on=z,
        Nbar=z, inhibition=z, facilitation=z, M=z, M_phasic=z, M_tonic=z, E_acute=z, G=z,
        E_slow=z, B=z3, p_ae=z3,
        present=no, intensity=z3, ae_reported=no, ae_severity=np.zeros((k, n), dtype=np.int8),
        HR_change_pct=z,
        P_true_NRS=base["P0_NRS"].copy(), NRS=np.clip(np.round(base["P0_NRS"]), 0, 10),
        hazard_per_d=z,
    )  # fmt: skip


def step(
    state: PhysiologyState,
    inputs: DailyInputs,
    params: PhysiologyParameters,
    noise: DailyNoise | None = None,
    side_effects: SideEffectParameters | None = None,
) -> PhysiologyState:
    """Advance every patient by one day, in the order of reference §5.9.

    ``side_effects`` defaults to the shipped set (``openvns params show side_effects``).
    """
    p = params
    se = load_side_effect_parameters() if side_effects is None else side_effects
    n = state.S.shape[0]
    noise = DailyNoise.none(n) if noise is None else noise
    r = np.asarray(inputs.recruited_fraction, dtype=np.float64)
    on = np.asarray(inputs.stimulation_on, dtype=bool)
    f = np.asarray(inputs.frequency_Hz, dtype=np.float64)
    # (2) drives during ON (all afferents; thin afferents alone) and daily mean LC output
    D_on, D_thin = afferent_drives(r, f, on, p)
    N_on = lc_tone(D_on, state.D50_N, p)
    if inputs.minute_on_fraction is None:
        exposure = np.where(on, inputs.duty_cycle * inputs.hours_per_day / 24.0, 0.0)
        coverage = persistence_coverage(inputs.duty_cycle, inputs.hours_per_day, on, p)
        Nbar = exposure * N_on
        # (3) exact exponential updates, dt = 1 d, input held over the day
        S, R1, R = update_daily(state.S, state.R1, state.R, Nbar, p)
    else:
        # (2–3) minute resolution: N held per minute of the schedule, exact updates, dt = 1 min
        frac = np.where(on[:, None], np.asarray(inputs.minute_on_fraction, np.float64), 0.0)
        exposure = frac.mean(axis=1)
        coverage = persistence_coverage_minutes(frac, p).mean(axis=1)
        Nbar = exposure * N_on
        S, R1, R, _ = update_minutes(state.S, state.R1, state.R, N_on, frac, p)
    # (4) descending modulation: tonic (persisting over OFF, `coverage`) + ON-locked (`exposure`)
    mod = day_modulation(
        D_on, D_thin, N_on, R, exposure, coverage, state.F_max_over_I_max, state.E_acute_max, p
    )
    M, E_acute, inhibition, facilitation = mod.M, mod.E_acute, mod.inhibition, mod.facilitation
    # (5) plasticity: dC/dt = −k G R Q(exposure) C + (1 − C)/τ_relapse, exact for constant G, R
    G, C, E_slow = update_sensitisation(
        state.C, D_on, r[:, _AD] + r[:, _C], R, on, exposure,
        state.k_ret_per_d, state.tau_relapse_d, state.alpha, p,
    )  # fmt: skip
    # (6) heart rate during ON; side effects: drive × daily exposure, tolerance, episodes,
    # reports and their severity
    HR = heart_rate_change_pct(D_on, r, f, on, p)
    implanted = np.ones(n, dtype=bool) if inputs.implanted is None else inputs.implanted
    se_day = update_side_effects(
        state.T, state.present, side_effect_drive(r, f, exposure, HR, se), state.day, implanted,
        state.hab_decay, state.susceptibility, state.nocebo,
        state.tolerance, noise.u_ae, se, skin_electrode=inputs.skin_electrode,
    )  # fmt: skip
    # (7) the patient's underlying pain (fluctuation, placebo and diary noise: the diary's)
    day = state.day + 1.0
    P_true = state.P0_NRS * (1.0 - E_slow) * (1.0 - E_acute)
    NRS = np.clip(np.round(P_true), 0.0, 10.0)
    # (8) dropout hazard and draw
    h0, h_ae, h_ineffective = dropout_hazards(state.day, state.P0_NRS, P_true, se_day.intensity, p)
    hazard = h0 + h_ae + h_ineffective
    dropped = state.dropped_out | (noise.u_dropout < 1.0 - np.exp(-hazard))
    return replace(
        state, S=S, R1=R1, R=R, C=C, T=se_day.T, day=day,
        days_on_therapy=state.days_on_therapy + on, dropped_out=dropped, D_on=D_on, N_on=N_on,
        Nbar=Nbar, inhibition=inhibition, facilitation=facilitation, M=M, M_phasic=mod.M_phasic,
        M_tonic=mod.M_tonic, E_acute=E_acute, G=G,
        E_slow=E_slow, B=se_day.B, p_ae=se_day.p_onset, present=se_day.present,
        intensity=se_day.intensity, ae_reported=se_day.reported, ae_severity=se_day.severity,
        HR_change_pct=HR,
        P_true_NRS=P_true, NRS=NRS, hazard_per_d=hazard,
    )  # fmt: skip


def dropout_hazards(
    previous_day: FloatArray,
    P0_NRS: FloatArray,
    P_true_NRS: FloatArray,
    intensity: FloatArray,
    p: PhysiologyParameters,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The day's dropout hazard (per day) in its three competing parts.

    Parameters
    ----------
    previous_day
        ``(n,)`` days since enrolment before the day (the state's ``day`` before :func:`step`).
    P0_NRS, P_true_NRS
        ``(n,)`` untreated and underlying pain after the day.
    intensity
        ``(channels, n)`` intensity of each present side effect after the day.

    Returns
    -------
    tuple
        ``(h0, h_ae, h_ineffective)``: the baseline hazard (an early, trial-like ``h0``
        relaxing to the long-term ``h0_late`` over ``h0_decay_d``: withdrawal for other
        reasons), the side effects' (``b_AE`` times the present effects' summed intensity) and
        lack of effect's (``b_ineffective`` once ``ineffective_after_d`` has passed without an
        improvement of ``improvement_threshold``).
    """
    day = previous_day + 1.0
    improved = (P0_NRS - P_true_NRS) >= p.improvement_threshold * P0_NRS
    ineffective = (day > p.ineffective_after_d) & ~improved
    h0 = p.h0_late_per_d + (p.h0_per_d - p.h0_late_per_d) * np.exp(-previous_day / p.h0_decay_d)
    h_ae = np.asarray(p.b_AE_per_d * intensity.sum(axis=0), dtype=np.float64)
    h_ineffective = np.asarray(p.b_ineffective_per_d * ineffective, dtype=np.float64)
    return np.asarray(h0, dtype=np.float64), h_ae, h_ineffective


#: Reasons for discontinuation (:func:`dropout_reasons`), by code; 0 is "none".
DROPOUT_REASONS = ("none", "adverse event", "lack of efficacy", "other")
DROPOUT_NONE, DROPOUT_ADVERSE_EVENT, DROPOUT_LACK_OF_EFFICACY, DROPOUT_OTHER = 0, 1, 2, 3


def dropout_reasons(
    previous_day: FloatArray,
    state: PhysiologyState,
    u_dropout: FloatArray,
    p: PhysiologyParameters,
) -> npt.NDArray[np.int8]:
    """Why a patient who dropped out on this day did, with no new draw (the caller keeps the
    codes of the patients whose ``dropped_out`` turned true on the day; others' are meaningless).

    The dropout is one draw against the summed hazard ``h = h0 + h_ae + h_ineffective``
    (:func:`dropout_hazards`): a patient leaves when ``u < 1 − exp(−h)``. Given that, ``u /
    (1 − exp(−h))`` is uniform on (0, 1), and the competing-risks rule assigns the cause with
    probability proportional to its hazard: adverse event below ``h_ae / h``, lack of efficacy
    below ``(h_ae + h_ineffective) / h``, other reasons above. The same uniform decides both, so
    recording the reason changes no result.

    Parameters
    ----------
    previous_day
        ``(n,)`` the state's ``day`` before the day's :func:`step`.
    state
        The state after the day (its ``dropped_out`` marks who has left so far).
    u_dropout
        ``(n,)`` the day's dropout uniforms (``DailyNoise.u_dropout``).
    """
    h0, h_ae, h_ineffective = dropout_hazards(
        previous_day, state.P0_NRS, state.P_true_NRS, state.intensity, p
    )
    return competing_reason(u_dropout, h0, h_ae, h_ineffective)


def competing_reason(
    u_dropout: FloatArray, h0: FloatArray, h_ae: FloatArray, h_ineffective: FloatArray
) -> npt.NDArray[np.int8]:
    """The cause of a dropout drawn as ``u < 1 − exp(−(h0 + h_ae + h_ineffective))``, from the
    same ``u`` (see :func:`dropout_reasons`): codes of :data:`DROPOUT_REASONS`."""
    h = h0 + h_ae + h_ineffective
    p_leave = -np.expm1(-h)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(p_leave > 0, u_dropout / p_leave, 1.0)
        ae_share = np.where(h > 0, h_ae / h, 0.0)
        ineffective_share = np.where(h > 0, (h_ae + h_ineffective) / h, 0.0)
    reason = np.where(
        v < ae_share,
        DROPOUT_ADVERSE_EVENT,
        np.where(v < ineffective_share, DROPOUT_LACK_OF_EFFICACY, DROPOUT_OTHER),
    )
    return reason.astype(np.int8)


#: Observables recorded by :func:`simulate`.
RECORDED = (
    "S", "R1", "R", "C", "T", "D_on", "N_on", "Nbar", "inhibition", "facilitation", "M",
    "M_phasic", "M_tonic", "E_acute", "G", "E_slow", "B", "p_ae", "present", "intensity",
    "ae_reported", "ae_severity", "HR_change_pct", "P_true_NRS", "NRS", "hazard_per_d",
    "dropped_out",
)  # fmt: skip


def draw_noise(days: int, n_patients: int, root_seed: int) -> list[DailyNoise]:
    """Daily draws, one stream per patient (``rng_for(root_seed, "physiology", i)``)."""
    per_patient = np.empty((n_patients, days, N_UNIFORMS))  # contiguous per patient
    for i in range(n_patients):
        per_patient[i] = rng_for(root_seed, "physiology", i).random((days, N_UNIFORMS))
    block = np.ascontiguousarray(per_patient.transpose(1, 2, 0))  # one transpose: day-major
    return [DailyNoise.from_block(b) for b in block]


def simulate(
    days: int,
    inputs_fn: Callable[[int, PhysiologyState], DailyInputs],
    params: PhysiologyParameters,
    n_patients: int,
    *,
    root_seed: int | None = None,
    state: PhysiologyState | None = None,
    record: Sequence[str] = RECORDED,
    side_effects: SideEffectParameters | None = None,
) -> dict[str, NDArray[np.generic]]:
    """Run ``days`` daily steps; return each of ``RECORDED`` as an array ``(days, ...)``.

    ``inputs_fn(day, state)`` gives the inputs of day ``day`` (0-based) from the state before it.
    Without ``root_seed`` no AE report or dropout is ever drawn.
    ``record`` narrows what is kept (any state field): recording all of ``RECORDED`` for 10 000
    patients over a year takes about 0.75 GB and dominates the run time.
    """
    if state is None:
        raise ValidationError(
            "state", None, "an initial state: initial_state(params, n, P0_NRS=..., alpha=...)"
        )
    if side_effects is not None:  # the habituation times of this set, whatever the state had
        state = replace(state, hab_decay=habituation_decay(state.tau_hab_scale, side_effects))
    noise = draw_noise(days, n_patients, root_seed) if root_seed is not None else None
    out: dict[str, NDArray[np.generic]] = {}
    for d in range(days):
        state = step(
            state, inputs_fn(d, state), params, None if noise is None else noise[d], side_effects
        )
        for k in record:
            value = getattr(state, k)
            if d == 0:
                out[k] = np.empty((days, *value.shape), dtype=value.dtype)
            out[k][d] = value
    return out
