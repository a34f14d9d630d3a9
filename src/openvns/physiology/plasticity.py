"""Layer 4 of reference §5.4: slow plasticity ("retraining") with an inverted-U gain.

``dC/dt = −k_ret G(D) R Q(e) C + (1 − C)/τ_relapse``:

* ``G`` — the inverted U over intensity (Borland 2016, Morrison 2019, Pruitt 2021: 0.4–0.8 mA
  works in the rat, 1.2–1.6 mA does not; high-intensity trains actively block, Morrison 2021).
  In the human nerve table the A-afferent recruitment saturates at ~1 mA (median patient, 250 µs),
  well below the currents patients tolerate, so an inverted U in the total drive would put every
  titrated patient on its descending limb. The rat currents map onto humans only through fibre
  fractions: the rising limb follows the afferent drive ``D_on`` (A fibres) and the descending
  limb the recruited thin-fibre fraction ``r_Aδ + r_C`` (``descending_limb_input: small_fibre``,
  the alternative reference §5.4 gives for exactly this case). Thin fibres are recruited from
  ~1 mA and reach half of the Aδ group at ~2.3 mA (median patient, 250 µs), so typical titrated
  currents (1.0–1.5 mA) sit at the top of the U and 2–2.75 mA on its descending limb.
* ``R`` — the serotonergic gate with the schedule threshold of Manta 2012 (brainstem).
* ``Q(e)`` — how much paired stimulation the day delivers: ``e = duty · h/24`` (ramps included),
  ``Q = e (e_std + e50) / (e_std (e + e50))`` with ``e_std`` the standard 30 s / 5 min schedule,
  so ``Q = 1`` there, graded (not saturated) around it: 30 s / 3 min and 7 s / 18 s give more,
  12 h/day less. Aaronson 2013: charge per day correlated with improvement; Loerwald 2018: the
  number of pairings matters.
"""

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
    """Inverted-U gain ``G`` of §5.4 (at most 1).

    ``small_fibre`` mode (default): ``H(D; D50_up, n) [1 − H(r_Aδ + r_C; c_down, n)]``;
    ``drive`` mode: ``H(D; D50_up, n) [1 − H(D; D50_up · ratio, n)]`` normalised to a maximum of 1.
    """
    n = params.n_G
    up = hill(drive, params.D50_up, n)
    if params.descending_limb_input == "small_fibre":
        return np.asarray(up * (1.0 - hill(small_fibre, params.c_down_small_fibre, n)))
    ratio = params.D50_down_over_D50_up
    norm = _drive_mode_norm(float(ratio), float(n))
    down = hill(drive, params.D50_up * ratio, n)
    return np.asarray(up * (1.0 - down) / norm, dtype=np.float64)


def standard_exposure(params: PhysiologyParameters) -> float:
    """Daily exposure (fraction of the day ON) of the standard 30 s / 5 min schedule, 24 h."""
    return params.standard_on_time_s / (
        params.standard_on_time_s + 60 * params.standard_off_time_min
    )


def dose_factor(exposure: FloatArray, params: PhysiologyParameters) -> FloatArray:
    """``Q(e)``: the day's amount of stimulation relative to the standard schedule (1 there)."""
    e_std = standard_exposure(params)
    e50 = params.exposure50_plasticity_over_standard * e_std
    e = np.asarray(exposure, dtype=np.float64)
    return np.asarray(e * (e_std + e50) / (e_std * (e + e50)), dtype=np.float64)


def update_sensitisation(
    C: FloatArray,
    D_on: FloatArray,
    small_fibre: FloatArray,
    R: FloatArray,
    stimulation_on: BoolArray,
    exposure: FloatArray,
    k_ret_per_d: FloatArray,
    tau_relapse_d: FloatArray,
    alpha: FloatArray,
    params: PhysiologyParameters,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """One day of ``dC/dt = −k G R Q(e) C + (1 − C)/τ_relapse``, exact for constant ``G``, ``R``.

    Returns ``G``, the new ``C`` and ``E_slow = α (1 − C)``.
    """
    on = stimulation_on
    G = np.where(on, plasticity_gain(D_on, params, small_fibre), 0.0)
    k = k_ret_per_d * G * R * np.where(on, dose_factor(exposure, params), 0.0)
    b = 1.0 / tau_relapse_d
    C_inf = b / (k + b)
    C_new = C_inf + (C - C_inf) * np.exp(-(k + b))
    return G, C_new, alpha * (1.0 - C_new)
