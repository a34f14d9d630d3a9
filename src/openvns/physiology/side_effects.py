"""Side effects as patient states (reference §5.5), and the heart-rate change during ON.

Each channel of :data:`SIDE_EFFECTS` is driven by the fibres the sources attribute it to
(laryngeal motor for voice alteration, airway Aδ afferents for cough, the heart-rate change for
palpitations …), habituates over months (tolerance ``T``), and is *present or absent over
stretches of days*: an episode starts with a daily hazard that grows with the patient's
susceptibility and the habituated burden (plus a post-operative and a background/nocebo rate
that every arm has, sham included) and resolves at ``1 / episode_d`` per day. The diary reports a
present effect with ``report_probability``; its intensity (a fraction of what the patient finds
intolerable) grades it mild, moderate or severe, and an intensity ≥ ``severe_at`` is intolerable:
titration to tolerance backs off and the dropout hazard rises. Parameters:
:mod:`openvns.physiology.side_effect_parameters` (``openvns params show side_effects``).

All arrays are ``(len(SIDE_EFFECTS), n_patients)`` unless stated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openvns.physiology.drive import (
    A_AFF,
    ADELTA_AFF,
    CARDIAC_B,
    CUT_ABETA,
    CUT_ADELTA,
    MOT,
    MUSCLE,
    BoolArray,
    FloatArray,
    hill,
)
from openvns.physiology.parameters import PhysiologyParameters
from openvns.physiology.side_effect_parameters import (
    SIDE_EFFECTS,
    SideEffectParameters,
)

__all__ = [
    "MILD",
    "MODERATE",
    "NONE",
    "SEVERE",
    "SIDE_EFFECTS",
    "SideEffectDay",
    "habituation_decay",
    "heart_rate_change_pct",
    "intolerance_severity",
    "side_effect_drive",
    "update_side_effects",
]

#: Severity codes of ``ae_severity``.
NONE, MILD, MODERATE, SEVERE = 0, 1, 2, 3
# order of side_effect_parameters.DRIVERS
_DRIVER_COLUMNS = (MOT, A_AFF, ADELTA_AFF, CARDIAC_B, CUT_ABETA, CUT_ADELTA, MUSCLE)


@dataclass(frozen=True)
class SideEffectDay:
    """One day of every channel for every patient.

    Attributes
    ----------
    T
        Tolerance (habituation) after the day.
    B
        Stimulation-attributable burden ``drive (1 − T)``.
    p_onset
        Probability that an absent effect starts today.
    present
        Whether the effect is present (an episode is running).
    intensity
        Intensity of a present effect as a fraction of the patient's intolerable level (0 when
        absent).
    reported
        Whether the diary reports it today.
    severity
        ``(channels, n)`` int8: :data:`NONE`, :data:`MILD`, :data:`MODERATE`, :data:`SEVERE` of
        the reported effect.
    """

    T: FloatArray
    B: FloatArray
    p_onset: FloatArray
    present: BoolArray
    intensity: FloatArray
    reported: BoolArray
    severity: np.ndarray


def side_effect_drive(
    recruited_fraction: FloatArray,
    frequency_Hz: FloatArray,
    exposure: FloatArray,
    HR_change_pct: FloatArray,
    se: SideEffectParameters,
) -> FloatArray:
    """Each channel's drive on a day: ``H(D; drive50, n) · H(f; f50, 2) · min(1, exposure/ref)``
    (``f50`` and ``ref``: the channel's ``f50_Hz`` and ``reference_duty``).

    ``D`` weighs the recruited fractions of :data:`~.side_effect_parameters.DRIVERS` and the
    absolute heart-rate change (%) by the channel's weights. ``exposure`` is the day's fraction
    of time stimulating (duty cycle × hours/24; 0 on days off).
    """
    c = se.common
    r = np.asarray(recruited_fraction, dtype=np.float64)[:, _DRIVER_COLUMNS]  # (n, drivers)
    D = se.weights @ r.T + se.column("w_heart_rate_per_pct") * np.abs(HR_change_pct)[None, :]
    scale = np.minimum(1.0, exposure[None, :] / se.column("reference_duty"))
    f = np.asarray(frequency_Hz, dtype=np.float64)[None, :]
    f50 = se.column("f50_Hz")
    scale *= f * f / (f * f + f50 * f50)  # H(f; f50, 2) per channel
    return np.asarray(hill(D, se.column("drive50"), c.n_drive) * scale, np.float64)


def update_side_effects(
    T: FloatArray,
    present: BoolArray,
    drive: FloatArray,
    day: FloatArray,
    implanted: BoolArray,
    hab_decay: FloatArray,
    susceptibility: FloatArray,
    nocebo: FloatArray,
    tolerance: FloatArray,
    u: FloatArray,
    se: SideEffectParameters,
    *,
    skin_electrode: BoolArray | None = None,
) -> SideEffectDay:
    """Advance every channel by one day.

    Parameters
    ----------
    T, present
        Tolerance and episode state before the day.
    drive
        :func:`side_effect_drive` of the day.
    day
        ``(n,)`` days since the start of treatment before this day (the post-operative rate
        decays from it).
    implanted
        ``(n,)`` whether the patient had an operation (post-operative complaints).
    hab_decay
        ``(channels, n)`` one day's decay of the tolerance towards its target,
        ``exp(−1 / (tau_hab_d · the patient's habituation scale))`` (:func:`habituation_decay`).
    susceptibility
        ``(channels, n)`` patient trait.
    nocebo, tolerance
        ``(n,)`` patient traits: background/nocebo propensity, tolerance multiplier of the
        intolerable level.
    u
        ``(channels, n)`` uniform draws, one per channel and day. An absent effect starts when
        ``u < p_onset``, a present one resolves when ``u < p_resolve``; given that outcome the
        rescaled draw (``u / p_onset`` or ``(u − p_resolve) / (1 − p_resolve)``) is again
        uniform and independent of it, and a present effect is reported when it is below
        ``report_probability`` — one draw per channel decides both.
    skin_electrode
        ``(n,)`` whether the patient wears a skin electrode: the skin's channels
        (``SKIN_ONLY``) start only then (``None``: no restriction).
    """
    c = se.common
    # tolerance: the habituated fraction of the burden tends to Tmax on days with stimulation and
    # is lost without it (the IDR form of §5.5 with the drive level normalised out)
    target = se.column("Tmax") * (drive > 0.0)
    T_new = (T - target) * hab_decay
    T_new += target
    B = drive * (1.0 - T_new)
    post_op = np.where(implanted, np.exp(-day / c.surgical_decay_d), 0.0)[None, :]
    hazard = se.column("onset_per_d") * B
    hazard += se.column("surgical_per_d") * post_op
    hazard *= susceptibility
    hazard += nocebo[None, :] * se.column("background_per_d")
    if skin_electrode is not None:  # only the skin's rows: no (channels, n) temporaries a day
        hazard[se.skin_rows] *= np.asarray(skin_electrode, dtype=bool)[None, :]
    p_onset = -np.expm1(-hazard)
    # one draw: an absent effect starts when u < p_onset and is then reported when u/p_onset < q;
    # a present one stays when u >= p_resolve and is reported when (u - p_resolve)/(1 - p_resolve)
    # < q. The same comparisons without the divisions (masks combined, not np.where: faster):
    absent = ~present
    stayed = present & (u >= se.resolve_probability)
    now = stayed | (absent & (u < p_onset))
    reported = stayed & (u < se.report_below_if_present)
    reported |= absent & (u < c.report_probability * p_onset)
    # how bad a present effect is: the burden against what the patient tolerates (the
    # susceptibility decides who gets it, the tolerance how much is too much)
    intensity = B / (se.column("intolerable") * tolerance[None, :])
    np.maximum(intensity, c.background_intensity, out=intensity)
    intensity *= now
    grade = (
        MILD + (intensity >= c.moderate_at).view(np.int8) + (intensity >= c.severe_at).view(np.int8)
    )
    severity = grade * reported.view(np.int8)
    return SideEffectDay(T_new, B, p_onset, now, intensity, reported, severity)


def habituation_decay(tau_hab_scale: FloatArray, se: SideEffectParameters) -> FloatArray:
    """``(channels, n)`` daily decay factor of each tolerance, ``exp(−1 / (tau_hab_d · scale))``."""
    return np.asarray(np.exp(-1.0 / (se.column("tau_hab_d") * tau_hab_scale[None, :])))


def intolerance_severity(intensity: FloatArray, se: SideEffectParameters) -> FloatArray:
    """``(n,)`` how intolerable the day's present side effects are, relative to ``severe_at``.

    The maximum over channels of ``intensity / severe_at``; ≥ 1 means an intolerable side
    effect (the titration threshold of :class:`~openvns.protocol.titration.ToTolerance`).
    """
    return np.asarray(np.max(intensity, axis=0) / se.common.severe_at, dtype=np.float64)


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
