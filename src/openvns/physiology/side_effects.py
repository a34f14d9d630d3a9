"""Side effects of reference §5.5: voice, throat/cough, dyspnoea with habituation; heart rate."""

from __future__ import annotations

import numpy as np

from openvns.physiology.drive import (
    ADELTA_AFF,
    CARDIAC_B,
    MOT,
    BoolArray,
    FloatArray,
    hill,
)
from openvns.physiology.parameters import PhysiologyParameters

SIDE_EFFECTS = ("voice", "throat_cough", "dyspnoea")


def update_side_effects(
    T: FloatArray,
    recruited_fraction: FloatArray,
    frequency_Hz: FloatArray,
    exposure: FloatArray,
    tau_hab_scale: FloatArray,
    u_ae: FloatArray,
    params: PhysiologyParameters,
) -> tuple[FloatArray, FloatArray, FloatArray, BoolArray]:
    """Drives × daily exposure, exact tolerance update, reported burden and AE draws.

    Arrays are ``(3, n)`` in the order of ``SIDE_EFFECTS``. Returns ``T``, ``B``, ``p_ae`` and
    ``ae_reported`` (``u_ae < p_ae``).
    """
    p, r, f = params, recruited_fraction, frequency_Hz
    V = hill(r[:, MOT], p.r50_voice, p.n_voice) * hill(f, p.f50_voice_Hz, 2.0)
    Y = hill(p.w_Y_Adelta * r[:, ADELTA_AFF] + p.w_L_laryngeal * r[:, MOT], p.r50_Y, p.n_Y)
    scale = np.minimum(1.0, exposure / p.reference_duty)
    drives = np.stack([V, Y, Y]) * scale
    t_max = np.array([p.Tmax_voice, p.Tmax_throat_cough, p.Tmax_dyspnoea])[:, None]
    tau = np.array([p.tau_hab_voice_d, p.tau_hab_throat_cough_d, p.tau_hab_dyspnoea_d])[:, None]
    target = t_max * drives
    T_new = target + (T - target) * np.exp(-1.0 / (tau * tau_hab_scale))
    B = drives * (1.0 - T_new)
    beta = np.array([p.beta_voice, p.beta_throat_cough, p.beta_dyspnoea])[:, None]
    p_ae = 1.0 - np.exp(-beta * B)
    return T_new, B, p_ae, u_ae < p_ae


def heart_rate_change_pct(
    D_on: FloatArray,
    recruited_fraction: FloatArray,
    frequency_Hz: FloatArray,
    stimulation_on: BoolArray,
    params: PhysiologyParameters,
) -> FloatArray:
    """Afferent tachycardia minus cardiac-B bradycardia with ganglionic filtering, in %."""
    p, f = params, frequency_Hz
    g_gang = 1.0 / (1.0 + (f / p.f_ganglion_Hz) ** 2)
    HR = p.c_aff_HR_pct * hill(D_on, p.D50_tachy, p.n_tachy)
    b = hill(recruited_fraction[:, CARDIAC_B] * g_gang, p.r50_B, p.n_B)
    return np.asarray(np.where(stimulation_on, HR - p.c_eff_HR_pct * b, 0.0), dtype=np.float64)


def intolerance_severity(
    B: FloatArray, tolerance: FloatArray | float, params: PhysiologyParameters
) -> FloatArray:
    """How intolerable the day's side effects are: ``max_k B_k / (B_intolerable,k · tol_i)``.

    Parameters
    ----------
    B
        ``(3, n)`` reported burden per side effect (order of ``SIDE_EFFECTS``).
    tolerance
        Each patient's tolerance multiplier ``(n,)`` (``Cohort.tolerance``, median 1).
    params
        Physiology parameters (``intolerable_burden_*``).

    Returns
    -------
    numpy.ndarray
        ``(n,)`` severity; ≥ 1 means an intolerable side effect (the titration threshold of
        :class:`~openvns.protocol.titration.ToTolerance`). Voice alteration during ON is expected
        and mostly tolerated, so its intolerable burden is high; throat, cough and dyspnoea grow
        with small-fibre recruitment and limit the current.
    """
    return np.asarray(intolerance_ratios(B, tolerance, params).max(axis=0), dtype=np.float64)


def intolerance_ratios(
    B: FloatArray, tolerance: FloatArray | float, params: PhysiologyParameters
) -> FloatArray:
    """``(3, n)`` per side effect ``B_k / (B_intolerable,k · tol_i)`` (order of SIDE_EFFECTS);
    their maximum is :func:`intolerance_severity`, their argmax the limiting side effect."""
    p = params
    limit = np.array(
        [
            p.intolerable_burden_voice,
            p.intolerable_burden_throat_cough,
            p.intolerable_burden_dyspnoea,
        ]
    )[:, None]
    ratio = np.asarray(B, dtype=np.float64) / (limit * np.asarray(tolerance, dtype=np.float64))
    return np.asarray(ratio, dtype=np.float64)
