"""Expectation (placebo) and the bounded 0–10 report: the pieces of the pain course.

Expectation acts on the *fraction* of pain (reference §3.2, §5.4, restated so that it is bounded)::

    e_i         per-patient expectation fraction at a pill-like expectation (multiplier 1),
                logit-normal on (0, e_max): logit(e_i / e_max) = logit(placebo_fraction / e_max)
                + omega_placebo · z_i, e_max = placebo_fraction_max
    T_i(d)      = b · (1 − (1 − e_i/b)^m(d)) · w(t)  target fraction under the arm's multiplier
                m(d); b = e_max for e_i ≥ 0, e_min for e_i < 0 (nocebo)
    E_i(d)      the target seen through two equal first-order stages (rate k = c / t_half,
                c = 1.678…: half of a held target is reached after t_half days); from 0, a held
                target T gives E(t) = T · (1 − (1 + k t) e^(−k t)), which starts with zero slope
    reported    latent pain × (1 − E_i(d))

``m = 0`` is no expectation (baseline, an unblinded no-treatment arm), ``m = 1`` a pill placebo,
``sham_device_placebo_multiplier`` a device (Kaptchuk 2006). The form of ``T`` keeps every
multiplier inside ``(e_min, e_max)`` and is ``≈ m·e`` for small ``e``. Because ``E`` is a state that
follows ``T``, a multiplier that is switched on, raised or withdrawn moves the reported pain
smoothly; nothing changes at a phase boundary where the multiplier does not. ``w(t)`` is an
optional waning of the expectation ``t`` days after it began: ``w = f + (1 − f) · 2^(−t/t_w)``
(``placebo_persistent_fraction`` ``f``, ``placebo_waning_half_life_d`` ``t_w``; ``f = 1`` is no
waning).

The report is on a bounded scale: the latent pain (with expectation) ``μ`` is placed on the
interval ``(−0.5, 10.5)`` that rounds to 0…10, ``q = (μ + 0.5) / 11``, and the day's noise ``η``
(AR(1), NRS units) is added on the logit scale, divided by the slope of that scale at the
population's typical baseline ``P0`` (so a patient near the typical baseline keeps the
within-person SD ``sigma_w_NRS`` of Harris 2005, and the noise shrinks towards 0 and 10)::

    y = 11 · expit(logit(q) + η / (11 · q_ref (1 − q_ref))) − 0.5,   NRS = round(y)  (0 … 10)

Placebo effect size (:func:`placebo_effect_size`), as Chen et al. 2017 define it: the mean
within-arm improvement from baseline (baseline mean − end mean, per patient) divided by the SD of
that change.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit, logit  # type: ignore[import-untyped]

FloatArray = NDArray[np.float64]

#: ``(1 + c) e^(−c) = 1/2``: two equal first-order stages reach half a held target at
#: ``c / k``; with ``k = c / t_half`` they reach it at ``t_half``.
HALF_TIME_TWO_STAGES = 1.6783469900166608
#: Half-width of the band around 0 … 10 that rounds to the scale's end values.
_EDGE = 0.5
_SPAN = 10.0 + 2 * _EDGE
#: Latent pain closer than this to the open ends of ``(−0.5, 10.5)`` is held there (NRS).
_GUARD_NRS = 1e-3


def expectation_fraction(
    median: float, omega: float, z: FloatArray, maximum: float = 1.0, minimum: float = 0.0
) -> FloatArray:
    """Per-patient expectation fraction ``e_i ∈ (minimum, maximum)``, logit-normal on that range.

    ``e_i = lo + (hi − lo) · expit(logit((median − lo) / (hi − lo)) + omega · z_i)``: the median
    is ``median``; no patient's expectation removes more than ``maximum`` of the pain, and a
    negative ``minimum`` lets a patient expect to get worse (nocebo) by at most ``−minimum``.
    ``median = 0`` with ``minimum = 0`` gives 0 for every patient (no expectation, e.g.
    long-standing CRPS).
    """
    zz = np.asarray(z, dtype=np.float64)
    if not 0.0 < maximum <= 1.0 or not -1.0 < minimum <= 0.0:
        raise ValueError(f"placebo fraction range ({minimum}, {maximum}) must lie in (-1, 1]")
    if median == 0.0 and minimum == 0.0:
        return np.zeros_like(zz)
    if not minimum < median < maximum:
        raise ValueError(f"placebo fraction median {median} must be in ({minimum}, {maximum})")
    span = maximum - minimum
    # elementwise 1/(1 + exp(-x)), so that a patient's value does not depend on the array size
    x = float(logit((median - minimum) / span)) + omega * zz
    e = minimum + span / (1.0 + np.exp(-x))
    return np.clip(e, np.nextafter(minimum, 0.0), np.nextafter(maximum, 0.0))


def expectation_target(
    fraction: FloatArray, multiplier: FloatArray, maximum: float = 1.0, minimum: float = 0.0
) -> FloatArray:
    """The fraction an arm with multiplier ``m ≥ 0`` aims at, inside ``(minimum, maximum)``.

    ``b · (1 − (1 − e/b)^m)`` with ``b = maximum`` for ``e ≥ 0`` and ``b = minimum`` for
    ``e < 0``: 0 at ``m = 0``, ``e`` at ``m = 1``, ``≈ m·e`` for small ``e``, and never beyond
    the bound whatever the multiplier (a device raises the expectation, not its ceiling).
    """
    e = np.asarray(fraction, dtype=np.float64)
    m = np.maximum(np.asarray(multiplier, dtype=np.float64), 0.0)
    pos = e >= 0
    bound = np.where(pos, maximum, minimum if minimum < 0 else -1.0)
    ratio = np.clip(e / bound, 0.0, np.nextafter(1.0, 0.0))
    return np.asarray(-bound * np.expm1(m * np.log1p(-ratio)), dtype=np.float64)


def waning(days_since_onset: FloatArray, persistent: float, half_life_d: float) -> FloatArray:
    """``f + (1 − f) · 2^(−t / t_w)``: the share of the expectation left ``t`` days in."""
    t = np.maximum(np.asarray(days_since_onset, dtype=np.float64), 0.0)
    return np.asarray(persistent + (1.0 - persistent) * np.exp2(-t / half_life_d))


def expectation_course(
    fraction: FloatArray,
    multiplier: FloatArray,
    t_half_d: float,
    *,
    persistent: float = 1.0,
    waning_half_life_d: float = 180.0,
    maximum: float = 1.0,
    minimum: float = 0.0,
) -> FloatArray:
    """Expectation ``E (days, n)``: the target through two equal first-order stages.

    Parameters
    ----------
    fraction
        Per-patient expectation fraction ``(n,)`` (:func:`expectation_fraction`).
    multiplier
        ``(days, n)`` arm multiplier; 0 before the expectation starts. The first day it is
        non-zero counts as one day of exposure (exact update for a target held over the day).
    t_half_d
        Days to half of a held target from no expectation.
    persistent, waning_half_life_d
        Waning after the first day of expectation (see the module docstring; 1: none).
    maximum, minimum
        Bounds of the expectation fraction (:func:`expectation_target`).
    """
    m = np.asarray(multiplier, dtype=np.float64)
    days, n = m.shape
    onset = np.argmax(m > 0, axis=0)
    never = ~np.any(m > 0, axis=0)
    t = np.arange(1.0, days + 1.0)[:, None] - onset[None, :]
    target = expectation_target(np.asarray(fraction)[None, :], m, maximum, minimum)
    if persistent < 1.0:
        target = target * np.where(t > 0, waning(t, persistent, waning_half_life_d), 1.0)
    target[:, never] = 0.0
    k = HALF_TIME_TWO_STAGES / t_half_d
    a = np.exp(-k)
    b = k * a
    x1 = np.zeros(n)
    x2 = np.zeros(n)
    out = np.empty((days, n))
    for d in range(days):
        tgt = target[d]
        # exact solution over one day for a target held constant over it
        x2 = tgt + (x2 - tgt) * a + b * (x1 - tgt)
        x1 = tgt + (x1 - tgt) * a
        out[d] = x2
    return out


def reference_slope(P0_typical_NRS: float) -> float:
    """``11 · q (1 − q)`` at the typical baseline: NRS per logit unit of the report scale."""
    q = (np.clip(P0_typical_NRS, 0.0, 10.0) + _EDGE) / _SPAN
    return float(_SPAN * q * (1.0 - q))


def bounded_report(latent_NRS: FloatArray, noise_NRS: FloatArray, slope: float) -> FloatArray:
    """The continuous report on ``(−0.5, 10.5)``: latent pain plus noise on the logit scale.

    ``slope`` converts the noise from NRS to logit units (:func:`reference_slope`); for a
    latent near the typical baseline and small noise the result is ``≈ latent + noise``.
    """
    lo, hi = -_EDGE + _GUARD_NRS, 10.0 + _EDGE - _GUARD_NRS
    q = (np.clip(latent_NRS, lo, hi) + _EDGE) / _SPAN
    z = logit(q) + np.asarray(noise_NRS) / slope
    return np.asarray(_SPAN * expit(z) - _EDGE, dtype=np.float64)


def placebo_effect_size(baseline_NRS: FloatArray, end_NRS: FloatArray) -> float:
    """Chen 2017's placebo effect size: mean improvement from baseline / SD of the change.

    ``baseline_NRS`` and ``end_NRS`` are per-patient means (NaN where missing); patients with
    both are used. ``mean(b − e) / SD(b − e)`` (sample SD), the standardised response mean that
    Chen et al. 2017 pooled over 229 fibromyalgia RCTs: 0.53 (0.48–0.57) for pain.
    """
    b = np.asarray(baseline_NRS, dtype=np.float64)
    e = np.asarray(end_NRS, dtype=np.float64)
    ok = ~np.isnan(b) & ~np.isnan(e)
    if ok.sum() < 2:
        return float("nan")
    change = b[ok] - e[ok]
    sd = float(np.std(change, ddof=1))
    return float(np.mean(change) / sd) if sd > 0 else float("nan")
