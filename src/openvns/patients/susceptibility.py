"""Each virtual patient's side-effect traits: susceptibility per channel and a nocebo propensity.

The standard normals behind them are the patient's own (``Cohort.side_effect_z``, drawn last from
the patient's stream ``rng_for(root_seed, condition, index)``, so they shift none of the other
traits); the side-effect parameter set gives their spread: susceptibility to channel ``k`` is
log-normal with median 1 and the channel's ``omega_susceptibility``, the background/nocebo
propensity log-normal with median 1 and ``omega_nocebo`` (``openvns params show side_effects``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from openvns.patients.cohort import Cohort
from openvns.physiology.side_effect_parameters import SIDE_EFFECTS, SideEffectParameters

__all__ = ["side_effect_traits"]


def side_effect_traits(
    cohort: Cohort, params: SideEffectParameters
) -> dict[str, NDArray[np.float64]]:
    """``susceptibility`` ``(len(SIDE_EFFECTS), n)``, ``nocebo`` and ``tolerance`` ``(n,)``.

    The keyword arguments :func:`openvns.physiology.initial_state` takes for the side effects
    (``tolerance`` is :attr:`Cohort.tolerance`).
    """
    k = len(SIDE_EFFECTS)
    z = cohort.side_effect_z.T
    susceptibility = np.exp(params.column("omega_susceptibility") * z[:k])
    nocebo = np.exp(params.common.omega_nocebo * z[k])
    return {"susceptibility": susceptibility, "nocebo": nocebo, "tolerance": cohort.tolerance}
