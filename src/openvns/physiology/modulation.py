"""Layer 3 of reference §5.3: descending modulation, inhibition minus facilitation, in two parts.

The human and animal facts of reference §2.1 do not fit one ON/OFF-averaged term:

* **Phasic, ON-locked** (the nociceptive reflex and heat threshold *during* stimulation: Ren 1988
  tail flick, Ren 1991 STT cells, Ness 2000 heat threshold, Laqua 2014 thresholds). Facilitation is
  carried by the afferent drive of the low-threshold (myelinated A) afferents and inhibition by the
  drive of the *thin* (Aδ, C) afferents: neonatal capsaicin, which removes thin afferents, abolished
  the inhibition but not the facilitation (Ren, Zhuo, Randich, Gebhart 1993). So the net phasic
  effect is biphasic in current (facilitation band at low intensity, inhibition once thin fibres
  are recruited; Ren 1988 "0.2–0.6 T facilitates") and, in humans, where clinical currents recruit
  mostly A fibres, pro-nociceptive at clinical intensity and largest at an intermediate one (Ness
  2000). The patient's sign class (``F_max_over_I_max``: 0.3, or larger in the pro-nociceptive
  class) scales this facilitation. It acts only while ON (``exposure`` of the day).
* **Tonic** (centrally amplified pain: wind-up and tonic pressure pain, Kirchner 2000, *independent
  of the ON/OFF cycle*; hours of persistence after a session, Oshinsky 2014). Driven by the
  monoamine tone ``X = a_N N + a_R R``; the noradrenergic part persists after each train with time
  constant ``tonic_persistence_h``, so the day is a mixture of "persisting" (``X = a_N N_on + a_R
  R``) and "5-HT only" (``X = a_R R``) with weight ``coverage`` (:func:`persistence_coverage`).
  Its facilitation band at low drive (``F_max_over_I_max_tonic``) is the population's.

``M = M_tonic + exposure · M_phasic`` and ``E_acute = E_acute_max · M`` (§5.3).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from openvns.physiology.drive import FloatArray, hill
from openvns.physiology.parameters import PhysiologyParameters

SECONDS_PER_HOUR = 3600.0


def modulation_terms(
    X: FloatArray, F_ratio: FloatArray | float, params: PhysiologyParameters
) -> tuple[FloatArray, FloatArray]:
    """Tonic inhibition ``I(X)`` and facilitation ``F(X)`` of §5.3 at monoamine tone ``X``.

    ``F_ratio`` is the facilitation scale relative to ``I_max`` (the tonic component uses the
    population's ``F_max_over_I_max_tonic``).
    """
    inhibition = params.I_max * hill(X, params.X50_I, params.n_I)
    x50_f = params.X50_I * params.X50_F_over_X50_I
    facilitation = F_ratio * params.I_max * hill(X, x50_f, params.n_F)
    return np.asarray(inhibition, dtype=np.float64), np.asarray(facilitation, dtype=np.float64)


def net_modulation(
    X: FloatArray, F_ratio: FloatArray | float, params: PhysiologyParameters
) -> FloatArray:
    """``M = I(X) − F(X)`` (§5.3) of the tonic component: > 0 analgesic, < 0 pro-nociceptive."""
    inhibition, facilitation = modulation_terms(X, F_ratio, params)
    return np.asarray(inhibition - facilitation, dtype=np.float64)


def phasic_terms(
    D_on: FloatArray, D_thin: FloatArray, F_ratio: FloatArray, params: PhysiologyParameters
) -> tuple[FloatArray, FloatArray]:
    """ON-locked inhibition (thin-afferent drive ``D_thin``) and facilitation (afferent drive
    ``D_on``, scaled by the patient's sign class ``F_ratio``)."""
    p = params
    inhibition = p.I_max * hill(D_thin, p.X50_I_phasic, p.n_I)
    facilitation = F_ratio * p.I_max * hill(D_on, p.X50_F_phasic, p.n_F)
    return np.asarray(inhibition, dtype=np.float64), np.asarray(facilitation, dtype=np.float64)


def phasic_modulation(
    D_on: FloatArray, D_thin: FloatArray, F_ratio: FloatArray, params: PhysiologyParameters
) -> FloatArray:
    """Net ON-locked modulation (heat threshold / nociceptive reflex during a train)."""
    inhibition, facilitation = phasic_terms(D_on, D_thin, F_ratio, params)
    return np.asarray(inhibition - facilitation, dtype=np.float64)


def persistence_coverage(
    duty_cycle: FloatArray,
    hours_per_day: FloatArray,
    stimulation_on: FloatArray,
    params: PhysiologyParameters,
) -> FloatArray:
    """Day mean of the persisting tonic weight ``c(t) = exp(−t_since_ON / τ_p)`` (daily path).

    Within the stimulated hours, trains of the standard ON time (``standard_on_time_s``; the daily
    inputs carry only the duty cycle) repeat every ``T_on / duty``; over a cycle ``c`` averages
    ``(T_on + τ_p (1 − e^{−T_off/τ_p})) / period``. After the last train of the day it decays for
    the remaining ``24 − h`` hours. The minute path computes ``c`` exactly
    (:func:`persistence_coverage_minutes`).
    """
    duty = np.asarray(duty_cycle, dtype=np.float64)
    h = np.asarray(hours_per_day, dtype=np.float64)
    if duty.size and duty.min() == duty.max() and h.min() == h.max():  # one schedule for all
        duty, h = duty.reshape(-1)[:1], h.reshape(-1)[:1]
    tau = params.tonic_persistence_h * SECONDS_PER_HOUR
    duty = np.clip(duty, 1e-9, 1.0)
    t_on = params.standard_on_time_s
    t_off = t_on / duty - t_on
    within = (t_on + tau * -np.expm1(-t_off / tau)) * duty / t_on
    h = np.clip(h, 0.0, 24.0)
    tail = tau * -np.expm1(-(24.0 - h) * SECONDS_PER_HOUR / tau) / (24.0 * SECONDS_PER_HOUR)
    cov = np.where(h > 0, np.minimum((h / 24.0) * within + tail, 1.0), 0.0)
    return np.asarray(np.where(stimulation_on, cov, 0.0), dtype=np.float64)


def persistence_coverage_minutes(
    on_fraction: FloatArray, params: PhysiologyParameters
) -> FloatArray:
    """Persisting tonic weight per minute, ``(n, minutes)``: 1 in a minute with stimulation,
    ``exp(−t / τ_p)`` at ``t`` minutes after the last such minute, 0 before the day's first."""
    f = np.asarray(on_fraction, dtype=np.float64)
    idx = np.arange(f.shape[1], dtype=np.float64)
    last = np.maximum.accumulate(np.where(f > 0, idx, -np.inf), axis=1)
    tau_min = params.tonic_persistence_h * 60.0
    return np.asarray(np.exp(-(idx - last) / tau_min), dtype=np.float64)


class DayModulation(NamedTuple):
    """One day's descending modulation (each ``(n,)``)."""

    M: FloatArray  #: day-mean net modulation, ``M_tonic + exposure · M_phasic``
    E_acute: FloatArray  #: ``E_acute_max · M``
    inhibition: FloatArray  #: day-mean inhibition (tonic + ON-locked)
    facilitation: FloatArray  #: day-mean facilitation (tonic + ON-locked)
    M_phasic: FloatArray  #: net ON-locked modulation *during* ON (0 on days off)
    M_tonic: FloatArray  #: day-mean tonic modulation


def day_modulation(
    D_on: FloatArray,
    D_thin: FloatArray,
    N_on: FloatArray,
    R: FloatArray,
    exposure: FloatArray,
    coverage: FloatArray,
    F_ratio: FloatArray,
    E_acute_max: FloatArray,
    params: PhysiologyParameters,
) -> DayModulation:
    """The day's modulation: tonic (persisting mixture, ``coverage``) plus ON-locked
    (``exposure``); ``M`` is ``inhibition − facilitation`` up to rounding."""
    p = params
    I_p, F_p = modulation_terms(p.a_N * N_on + p.a_R * R, p.F_max_over_I_max_tonic, p)
    I_0, F_0 = modulation_terms(p.a_R * R, p.F_max_over_I_max_tonic, p)
    I_ph, F_ph = phasic_terms(D_on, D_thin, F_ratio, p)
    inhibition = coverage * I_p + (1.0 - coverage) * I_0 + exposure * I_ph
    facilitation = coverage * F_p + (1.0 - coverage) * F_0 + exposure * F_ph
    M_tonic = coverage * (I_p - F_p) + (1.0 - coverage) * (I_0 - F_0)
    M_phasic = I_ph - F_ph
    M = M_tonic + exposure * M_phasic
    return DayModulation(M, E_acute_max * M, inhibition, facilitation, M_phasic, M_tonic)


def dose_relief(
    N_on: FloatArray,
    R: FloatArray,
    M_phasic: FloatArray,
    E_acute_max: FloatArray,
    params: PhysiologyParameters,
) -> FloatArray:
    """Fraction of pain a dose relieves right after it (an attack treated at its onset), ``[0, 1]``.

    During and just after a dose its noradrenaline persists (the tonic term with coverage 1, at
    ``X = a_N N_on + a_R R`` instead of the serotonergic ``a_R R`` alone) and the ON-locked term
    acts in full (exposure 1), so the dose adds ``E_acute_max · (M(a_N N_on + a_R R) − M(a_R R)
    + M_phasic)`` to the relief the day already has, clipped to ``[0, 1]``: the day's
    modulation at the dose instead of averaged over the day, no new parameter. Without output
    (a 0 mA sham) it is 0. Its decay over the hours after the dose (``tonic_persistence_h``) is
    longer than an attack is rated.
    """
    p = params
    F = p.F_max_over_I_max_tonic
    M_dose = net_modulation(p.a_N * N_on + p.a_R * R, F, p) - net_modulation(p.a_R * R, F, p)
    relief = E_acute_max * (M_dose + M_phasic)
    return np.asarray(np.clip(relief, 0.0, 1.0), dtype=np.float64)
