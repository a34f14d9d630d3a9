"""Layer 3 of reference §5.3: descending modulation, inhibition minus facilitation."""

from __future__ import annotations

import numpy as np

from openvns.physiology.drive import FloatArray, hill
from openvns.physiology.parameters import PhysiologyParameters


def modulation_terms(
    X: FloatArray, F_ratio: FloatArray, params: PhysiologyParameters
) -> tuple[FloatArray, FloatArray]:
    """Inhibition ``I(X)`` and facilitation ``F(X)`` of §5.3 at brainstem output ``X``."""
    inhibition = params.I_max * hill(X, params.X50_I, params.n_I)
    x50_f = params.X50_I * params.X50_F_over_X50_I
    facilitation = F_ratio * params.I_max * hill(X, x50_f, params.n_F)
    return np.asarray(inhibition, dtype=np.float64), np.asarray(facilitation, dtype=np.float64)


def net_modulation(X: FloatArray, F_ratio: FloatArray, params: PhysiologyParameters) -> FloatArray:
    """``M = I(X) − F(X)`` (§5.3): > 0 analgesic, < 0 pro-nociceptive."""
    inhibition, facilitation = modulation_terms(X, F_ratio, params)
    return np.asarray(inhibition - facilitation, dtype=np.float64)


def day_modulation(
    N_on: FloatArray,
    R: FloatArray,
    exposure: FloatArray,
    F_ratio: FloatArray,
    E_acute_max: FloatArray,
    params: PhysiologyParameters,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Day-averaged ``M`` over the ON and OFF phases, ``E_acute = E_acute_max · M``, and the
    day-averaged inhibition and facilitation (``M`` is their difference up to rounding)."""
    p = params
    I_on, F_on = modulation_terms(p.a_N * N_on + p.a_R * R, F_ratio, p)
    I_off, F_off = modulation_terms(p.a_R * R, F_ratio, p)
    M = exposure * (I_on - F_on) + (1.0 - exposure) * (I_off - F_off)
    inhibition = exposure * I_on + (1.0 - exposure) * I_off
    facilitation = exposure * F_on + (1.0 - exposure) * F_off
    return M, E_acute_max * M, inhibition, facilitation
