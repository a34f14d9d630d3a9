"""Daily-step VNS → pain model (reference §5.1–§5.5), vectorised over patients.

Every array has shape ``(n_patients,)`` (recruitment ``(n_patients, len(GROUPS))``). One call of
:func:`step` follows the per-day order of reference §5.9: (2) drive and daily LC output;
(3) exact exponential update of S, R1, R; (4) X, M, E_acute; (5) G, C, E_slow; (6) side
effects, tolerance, AE reports, heart rate; (7) placebo, noise, NRS; (8) dropout draw.
Step (1), settings → recruitment, is the caller's: this module takes plain fractions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace

import numpy as np
from numpy.typing import NDArray

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
    afferent_drive,
    frequency_filter,
    hill,
)
from openvns.physiology.modulation import day_modulation, net_modulation
from openvns.physiology.parameters import PhysiologyParameters
from openvns.physiology.plasticity import plasticity_gain, update_sensitisation
from openvns.physiology.side_effects import (
    SIDE_EFFECTS,
    heart_rate_change_pct,
    update_side_effects,
)
from openvns.random import rng_for

__all__ = [
    "GROUPS",
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
    frequency_Hz, pulse_width_us
        Pulse frequency and width, ``(n_patients,)``.
    duty_cycle
        Fraction of time ON while the schedule runs (``openvns.device.dose.duty_cycle``).
    hours_per_day
        Hours of the day the schedule runs.
    stimulation_on
        Whether the device stimulates at all today.
    placebo_multiplier
        Multiplier on the patient's maximum placebo (1 for a pill-like expectation, more for a
        device or sham, 0 for none).
    minute_on_fraction
        Optional ``(n_patients, 1440)`` fraction of each minute that stimulates
        (:func:`openvns.physiology.brainstem.periodic_on_fraction` or
        :func:`~openvns.physiology.brainstem.train_on_fraction`). When given, the brainstem
        states are integrated per minute over this schedule (the exact minute-resolution path)
        and the day's exposure is its mean; ``duty_cycle`` is then not used.
    """

    recruited_fraction: FloatArray
    frequency_Hz: FloatArray
    pulse_width_us: FloatArray
    duty_cycle: FloatArray
    hours_per_day: FloatArray
    stimulation_on: BoolArray
    placebo_multiplier: FloatArray
    minute_on_fraction: FloatArray | None = None


@dataclass(frozen=True)
class DailyNoise:
    """Standard draws for one day.

    ``eps_eta``, ``eps_s`` ~ N(0, 1); uniforms ``u_ae`` (3, n) and ``u_dropout`` on [0, 1).
    """

    eps_eta: FloatArray
    eps_s: FloatArray
    u_ae: FloatArray
    u_dropout: FloatArray

    @classmethod
    def none(cls, n_patients: int) -> DailyNoise:
        """No noise: zero innovations, no AE report and no dropout ever drawn."""
        z = np.zeros(n_patients)
        return cls(z, z, np.ones((3, n_patients)), np.ones(n_patients))


@dataclass(frozen=True)
class PhysiologyState:
    """State of every patient after a day (§5.9), plus fixed traits and the day's observables.

    Dynamic states: ``S`` (LC sensitisation), ``R1``, ``R`` (5-HT stages), ``C`` (central
    sensitisation, 1 = untreated), ``T`` (3, n) tolerance per side effect, ``eta_NRS`` and
    ``s_NRS`` (noise and slow fluctuation), ``day`` (days since enrolment), ``days_on_therapy``,
    ``dropped_out``. Traits (fixed per patient): ``P0_NRS``, ``sigma_w_NRS``, ``Pmax_NRS``,
    ``D50_N``, ``F_max_over_I_max``, ``E_acute_max``, ``alpha``, ``k_ret_per_d``,
    ``tau_relapse_d``, ``tau_hab_scale``. Observables of the last day: ``D_on``, ``Nbar``, ``M``,
    ``E_acute``, ``G``, ``E_slow``, ``B`` (3, n), ``p_ae`` (3, n), ``ae_reported`` (3, n),
    ``HR_change_pct``, ``P_true_NRS``, ``NRS``.
    """

    S: FloatArray
    R1: FloatArray
    R: FloatArray
    C: FloatArray
    T: FloatArray
    eta_NRS: FloatArray
    s_NRS: FloatArray
    day: FloatArray
    days_on_therapy: FloatArray
    dropped_out: BoolArray
    P0_NRS: FloatArray
    sigma_w_NRS: FloatArray
    Pmax_NRS: FloatArray
    D50_N: FloatArray
    F_max_over_I_max: FloatArray
    E_acute_max: FloatArray
    alpha: FloatArray
    k_ret_per_d: FloatArray
    tau_relapse_d: FloatArray
    tau_hab_scale: FloatArray
    D_on: FloatArray
    Nbar: FloatArray
    M: FloatArray
    E_acute: FloatArray
    G: FloatArray
    E_slow: FloatArray
    B: FloatArray
    p_ae: FloatArray
    ae_reported: BoolArray
    HR_change_pct: FloatArray
    P_true_NRS: FloatArray
    NRS: FloatArray

    def select(self, index: slice | NDArray[np.intp]) -> PhysiologyState:
        """The state of a subset of patients (patients are the last axis of every array)."""
        return PhysiologyState(**{f.name: getattr(self, f.name)[..., index] for f in fields(self)})


def initial_state(
    params: PhysiologyParameters, n_patients: int, **traits: FloatArray
) -> PhysiologyState:
    """Untreated baseline for ``n_patients``; traits default to the population typical values.

    ``traits`` overrides any trait array by name (``D50_N=...``); the patients layer samples them.
    """
    n = n_patients

    def full(v: float) -> FloatArray:
        return np.full(n, float(v))

    alpha = params.p_responder * params.alpha_responder
    alpha += (1 - params.p_responder) * params.alpha_non_responder
    base: dict[str, FloatArray] = {
        "P0_NRS": full(params.P0_NRS),
        "sigma_w_NRS": full(params.sigma_w_NRS),
        "Pmax_NRS": full(params.Pmax_NRS),
        "D50_N": full(params.D50_N),
        "F_max_over_I_max": full(params.F_max_over_I_max),
        "E_acute_max": full(params.E_acute_max),
        "alpha": full(alpha),
        "k_ret_per_d": full(1.0 / params.retraining_time_d),
        "tau_relapse_d": full(params.tau_relapse_d),
        "tau_hab_scale": full(1.0),
    }
    for key, value in traits.items():
        if key not in base:
            raise KeyError(f"unknown trait {key!r}; allowed: {', '.join(base)}")
        base[key] = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()
    z = np.zeros(n)
    z3 = np.zeros((3, n))
    return PhysiologyState(
        S=z, R1=z, R=z, C=np.ones(n), T=z3, eta_NRS=z, s_NRS=z, day=z, days_on_therapy=z,
        dropped_out=np.zeros(n, dtype=bool), **base, D_on=z, Nbar=z, M=z, E_acute=z, G=z,
        E_slow=z, B=z3, p_ae=z3, ae_reported=np.zeros((3, n), dtype=bool), HR_change_pct=z,
        P_true_NRS=base["P0_NRS"].copy(), NRS=np.clip(np.round(base["P0_NRS"]), 0, 10),
    )  # fmt: skip


def step(
    state: PhysiologyState,
    inputs: DailyInputs,
    params: PhysiologyParameters,
    noise: DailyNoise | None = None,
) -> PhysiologyState:
    """Advance every patient by one day, in the order of reference §5.9."""
    p = params
    n = state.S.shape[0]
    noise = DailyNoise.none(n) if noise is None else noise
    r = np.asarray(inputs.recruited_fraction, dtype=np.float64)
    on = np.asarray(inputs.stimulation_on, dtype=bool)
    f = np.asarray(inputs.frequency_Hz, dtype=np.float64)
    # (2) drive during ON and daily mean LC output
    D_on = afferent_drive(r, f, on, p)
    N_on = lc_tone(D_on, state.D50_N, p)
    if inputs.minute_on_fraction is None:
        exposure = np.where(on, inputs.duty_cycle * inputs.hours_per_day / 24.0, 0.0)
        Nbar = exposure * N_on
        # (3) exact exponential updates, dt = 1 d, input held over the day
        S, R1, R = update_daily(state.S, state.R1, state.R, Nbar, p)
    else:
        # (2–3) minute resolution: N held per minute of the schedule, exact updates, dt = 1 min
        frac = np.where(on[:, None], np.asarray(inputs.minute_on_fraction, np.float64), 0.0)
        exposure = frac.mean(axis=1)
        Nbar = exposure * N_on
        S, R1, R, _ = update_minutes(state.S, state.R1, state.R, N_on, frac, p)
    # (4) descending modulation, day average over ON and OFF phases
    M, E_acute = day_modulation(N_on, R, exposure, state.F_max_over_I_max, state.E_acute_max, p)
    # (5) plasticity: dC/dt = −k G R C h/24 + (1 − C)/τ_relapse, exact for constant G, R
    G, C, E_slow = update_sensitisation(
        state.C, D_on, r[:, _AD] + r[:, _C], R, on, inputs.hours_per_day,
        state.k_ret_per_d, state.tau_relapse_d, state.alpha, p,
    )  # fmt: skip
    # (6) side effects: drive × daily exposure, IDR tolerance, reported burden, AE draws, HR
    T, B, p_ae, ae_reported = update_side_effects(
        state.T, r, f, exposure, state.tau_hab_scale, noise.u_ae, p
    )
    HR = heart_rate_change_pct(D_on, r, f, on, p)
    # (7) placebo, slow fluctuation, AR(1) noise, true pain and diary
    day = state.day + 1.0
    placebo = state.Pmax_NRS * inputs.placebo_multiplier
    placebo = placebo * (1.0 - np.exp(-np.log(2.0) * day / p.t_half_placebo_d))
    rho_s = np.exp(-1.0 / p.tau_s_d)
    s = rho_s * state.s_NRS + p.sigma_s_NRS * np.sqrt(1.0 - rho_s**2) * noise.eps_s
    eta = p.phi * state.eta_NRS + state.sigma_w_NRS * np.sqrt(1.0 - p.phi**2) * noise.eps_eta
    expected = (state.P0_NRS + s) * (1.0 - E_slow) * (1.0 - E_acute) - placebo
    P_true = expected + eta
    NRS = np.clip(np.round(P_true), 0.0, 10.0)
    # (8) dropout hazard and draw
    improved = (state.P0_NRS - expected) >= p.improvement_threshold * state.P0_NRS
    ineffective = (day > p.ineffective_after_d) & ~improved
    # baseline hazard: early (trial-like) h0 relaxing to the long-term h0_late over h0_decay_d
    h0 = p.h0_late_per_d + (p.h0_per_d - p.h0_late_per_d) * np.exp(-state.day / p.h0_decay_d)
    hazard = h0 + p.b_AE_per_d * B.sum(axis=0) + p.b_ineffective_per_d * ineffective
    dropped = state.dropped_out | (noise.u_dropout < 1.0 - np.exp(-hazard))
    return replace(
        state, S=S, R1=R1, R=R, C=C, T=T, eta_NRS=eta, s_NRS=s, day=day,
        days_on_therapy=state.days_on_therapy + on, dropped_out=dropped, D_on=D_on, Nbar=Nbar,
        M=M, E_acute=E_acute, G=G, E_slow=E_slow, B=B, p_ae=p_ae, ae_reported=ae_reported,
        HR_change_pct=HR, P_true_NRS=P_true, NRS=NRS,
    )  # fmt: skip


#: Observables recorded by :func:`simulate`.
RECORDED = (
    "S", "R1", "R", "C", "T", "D_on", "Nbar", "M", "E_acute", "G", "E_slow", "B", "p_ae",
    "ae_reported", "HR_change_pct", "P_true_NRS", "NRS", "dropped_out",
)  # fmt: skip


def draw_noise(days: int, n_patients: int, root_seed: int) -> list[DailyNoise]:
    """Daily noise, one stream per patient (``rng_for(root_seed, "physiology", i)``)."""
    block = np.empty((days, 6, n_patients))
    for i in range(n_patients):
        rng = rng_for(root_seed, "physiology", i)
        block[:, :2, i] = rng.standard_normal((days, 2))
        block[:, 2:, i] = rng.random((days, 4))
    return [DailyNoise(b[0], b[1], b[2:5], b[5]) for b in block]


def simulate(
    days: int,
    inputs_fn: Callable[[int, PhysiologyState], DailyInputs],
    params: PhysiologyParameters,
    n_patients: int,
    *,
    root_seed: int | None = None,
    state: PhysiologyState | None = None,
    record: Sequence[str] = RECORDED,
) -> dict[str, NDArray[np.generic]]:
    """Run ``days`` daily steps; return each of ``RECORDED`` as an array ``(days, ...)``.

    ``inputs_fn(day, state)`` gives the inputs of day ``day`` (0-based) from the state before it.
    Without ``root_seed`` the run is noise-free (no diary noise, AE report or dropout draw).
    ``record`` narrows what is kept (any state field): recording all of ``RECORDED`` for 10 000
    patients over a year takes about 0.75 GB and dominates the run time.
    """
    state = initial_state(params, n_patients) if state is None else state
    noise = draw_noise(days, n_patients, root_seed) if root_seed is not None else None
    out: dict[str, NDArray[np.generic]] = {}
    for d in range(days):
        state = step(state, inputs_fn(d, state), params, None if noise is None else noise[d])
        for k in record:
            value = getattr(state, k)
            if d == 0:
                out[k] = np.empty((days, *value.shape), dtype=value.dtype)
            out[k][d] = value
    return out
