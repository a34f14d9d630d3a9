"""Each virtual patient's side-effect traits: susceptibility per channel and a nocebo propensity.

Drawn from the patient's own stream ``rng_for(root_seed, condition, index, "side_effects")``,
so they neither shift the patient's other traits nor depend on who else is in the cohort.
Susceptibility to channel ``k`` is log-normal with median 1 and ``omega_susceptibility`` of the
channel; the background/nocebo propensity is log-normal with median 1 and ``omega_nocebo``
(``openvns params show side_effects``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from openvns.patients.cohort import Cohort
from openvns.physiology.side_effect_parameters import SIDE_EFFECTS, SideEffectParameters
from openvns.random import rng_for

__all__ = ["side_effect_traits"]


def side_effect_traits(
    cohort: Cohort, params: SideEffectParameters
) -> dict[str, NDArray[np.float64]]:
    """``susceptibility`` ``(len(SIDE_EFFECTS), n)``, ``nocebo`` and ``tolerance`` ``(n,)``.

    The keyword arguments :func:`openvns.physiology.initial_state` takes for the side effects
    (``tolerance`` is :attr:`Cohort.tolerance`).
    """
    k = len(SIDE_EFFECTS)
    z = np.empty((k + 1, cohort.n))
    for col, i in enumerate(cohort.indices):
        rng = rng_for(cohort.root_seed, cohort.condition.name, int(i), "side_effects")
        z[:, col] = rng.standard_normal(k + 1)
    susceptibility = np.exp(params.column("omega_susceptibility") * z[:k])
    nocebo = np.exp(params.common.omega_nocebo * z[k])
    return {"susceptibility": susceptibility, "nocebo": nocebo, "tolerance": cohort.tolerance}
