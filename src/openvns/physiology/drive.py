"""Layer 1 of reference §5.1: afferent drive to the NTS from the recruited fibre groups.

Two drives per day, both during ON and band-passed by ``g(f)``: the afferent drive ``D_on`` of all
afferent groups (to the NTS/LC, §5.1) and the thin-afferent drive ``D_thin`` of the Aδ and C
afferents alone, which carries the ON-locked inhibition (Ren et al. 1993: neonatal capsaicin
abolishes the inhibition, not the facilitation; see :mod:`openvns.physiology.modulation`). The pulse
width acts through the recruited fractions (the nerve table at the patient's effective current).

Also holds the Hill function ``H(x; c, n)`` that every layer uses.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from openvns.physiology.parameters import PhysiologyParameters

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: Functional groups of the nerve layer, in the column order of ``DailyInputs.recruited_fraction``.
GROUPS = (
    "laryngeal_motor",
    "cardiac_B",
    "A_afferent",
    "Adelta_afferent",
    "C_afferent",
    "C_efferent",
    "cutaneous_Abeta",
    "cutaneous_Adelta",
    "muscle_motor",
)
MOT, CARDIAC_B, A_AFF, ADELTA_AFF, C_AFF = 0, 1, 2, 3, 4
CUT_ABETA, CUT_ADELTA, MUSCLE = 6, 7, 8
#: Groups outside the vagus that a skin electrode also excites (non-invasive devices): the skin's
#: Aβ (touch, tingling) and Aδ (pricking pain) fibres under the electrode and the motor axons of
#: the superficial muscle (twitch). A cuff's table has none of them: they are 0 there.
SKIN_GROUPS = ("cutaneous_Abeta", "cutaneous_Adelta", "muscle_motor")


def hill(x: FloatArray | float, c: FloatArray | float, n: float) -> FloatArray:
    """``x^n / (x^n + c^n)`` for ``x ≥ 0`` (0 at ``x = 0``)."""
    x = np.maximum(np.asarray(x, dtype=np.float64), 0.0)
    if n == 2.0:  # the common integer exponents by multiplication (np.power is ~5x slower)
        xn, cn = x * x, np.multiply(c, c)
    elif n == 3.0:
        xn, cn = x * x * x, np.multiply(np.multiply(c, c), c)
    elif n == 4.0:
        x2, c2 = x * x, np.multiply(c, c)
        xn, cn = x2 * x2, c2 * c2
    else:
        xn, cn = np.power(x, n), np.power(c, n)
    return np.asarray(xn / (xn + cn), dtype=np.float64)


def frequency_filter(frequency_Hz: FloatArray | float, params: PhysiologyParameters) -> FloatArray:
    """Band-pass ``g(f) = ((f/f_opt) exp(1 − f/f_opt))^k``, ``g(f_opt) = 1`` (§5.1)."""
    x = np.asarray(frequency_Hz, dtype=np.float64) / params.f_opt_Hz
    return np.asarray((x * np.exp(1.0 - x)) ** params.frequency_filter_exponent, dtype=np.float64)


def afferent_drive(
    recruited_fraction: FloatArray,
    frequency_Hz: FloatArray,
    stimulation_on: BoolArray,
    params: PhysiologyParameters,
) -> FloatArray:
    """Drive during ON, ``D_on = (w_A r_A + w_D r_Aδ + w_C r_C) g(f)``; 0 on days off."""
    p, r = params, recruited_fraction
    u = p.w_A_afferent * r[:, A_AFF] + p.w_Adelta_afferent * r[:, ADELTA_AFF]
    u = u + p.w_C_afferent * r[:, C_AFF]
    return np.asarray(
        np.where(stimulation_on, u * frequency_filter(frequency_Hz, p), 0.0), dtype=np.float64
    )


def thin_fibre_drive(
    recruited_fraction: FloatArray,
    frequency_Hz: FloatArray,
    stimulation_on: BoolArray,
    params: PhysiologyParameters,
) -> FloatArray:
    """Thin-afferent drive during ON, ``D_thin = (w_D r_Aδ + w_C r_C) g(f)``; 0 on days off."""
    p, r = params, recruited_fraction
    u = p.w_Adelta_afferent * r[:, ADELTA_AFF] + p.w_C_afferent * r[:, C_AFF]
    return np.asarray(
        np.where(stimulation_on, u * frequency_filter(frequency_Hz, p), 0.0), dtype=np.float64
    )


def afferent_drives(
    recruited_fraction: FloatArray,
    frequency_Hz: FloatArray,
    stimulation_on: BoolArray,
    params: PhysiologyParameters,
) -> tuple[FloatArray, FloatArray]:
    """``(D_on, D_thin)`` of :func:`afferent_drive` and :func:`thin_fibre_drive` at once."""
    p, r = params, recruited_fraction
    g = np.where(stimulation_on, frequency_filter(frequency_Hz, p), 0.0)
    thin = p.w_Adelta_afferent * r[:, ADELTA_AFF] + p.w_C_afferent * r[:, C_AFF]
    D_thin = thin * g
    D_on = (p.w_A_afferent * r[:, A_AFF] + thin) * g
    return np.asarray(D_on, dtype=np.float64), np.asarray(D_thin, dtype=np.float64)
