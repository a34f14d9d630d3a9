"""Layer 4 of reference §5.4: slow plasticity ("retraining") with an inverted-U gain."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from openvns.physiology.drive import BoolArray, FloatArray, hill
from openvns.physiology.parameters import PhysiologyParameters


@lru_cache(maxsize=64)
def _drive_mode_norm(ratio: float, n: float) -> float:
    grid = np.geomspace(0.05, 20.0 * ratio, 4001)
    return float(np.max(hill(grid, 1.0, n) * (1.0 - hill(grid, ratio, n))))


def plasticity_gain(
    drive: FloatArray | float, params: PhysiologyParameters, small_fibre: FloatArray | float = 0.0
) -> FloatArray:
    """Inverted-U gain ``G`` of §5.4, normalised to a maximum of 1 in ``drive`` mode."""
    n = params.n_G
    up = hill(drive, params.D50_up, n)
    if params.descending_limb_input == "small_fibre":
        return np.asarray(up * (1.0 - hill(small_fibre, params.c_down_small_fibre, n)))
    ratio = params.D50_down_over_D50_up
    norm = _drive_mode_norm(float(ratio), float(n))
    down = hill(drive, params.D50_up * ratio, n)
    return np.asarray(up * (1.0 - down) / norm, dtype=np.float64)


def update_sensitisation(
    C: FloatArray,
    D_on: FloatArray,
    small_fibre: FloatArray,
    R: FloatArray,
    stimulation_on: BoolArray,
    hours_per_day: FloatArray,
    k_ret_per_d: FloatArray,
    tau_relapse_d: FloatArray,
    alpha: FloatArray,
    params: PhysiologyParameters,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """One day of ``dC/dt = −k G R C h/24 + (1 − C)/τ_relapse``, exact for constant ``G``, ``R``.

    Returns ``G``, the new ``C`` and ``E_slow = α (1 − C)``.
    """
    on = stimulation_on
    G = np.where(on, plasticity_gain(D_on, params, small_fibre), 0.0)
    k = k_ret_per_d * G * R * np.where(on, hours_per_day / 24.0, 0.0)
    b = 1.0 / tau_relapse_d
    C_inf = b / (k + b)
    C_new = C_inf + (C - C_inf) * np.exp(-(k + b))
    return G, C_new, alpha * (1.0 - C_new)
