"""Adherence to a home-use (non-invasive) device: the fraction of the prescribed doses or hours
each patient actually takes.

Each patient's adherence is drawn once from a Beta distribution with mean ``adherence_mean`` and
concentration ``adherence_concentration`` (the ``diary`` section of ``data/conditions.yaml``:
``openvns params show fibromyalgia``), from the patient's own stream ``rng_for(root_seed,
"adherence", condition, index)``, so it depends on nobody else and shifts none of the patient's
other draws. The engine scales a home-use course's daily exposure by it; an implant needs no
adherence (it stimulates by itself).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from openvns.patients.cohort import Cohort
from openvns.patients.conditions import DiaryParameters
from openvns.random import rngs_for

__all__ = ["adherence"]


def adherence(cohort: Cohort, root_seed: int, params: DiaryParameters) -> NDArray[np.float64]:
    """``(n,)`` fraction of the prescribed doses each patient takes, in ``(0, 1)``."""
    m, k = params.adherence_mean, params.adherence_concentration
    if m >= 1.0:
        return np.ones(cohort.n)
    a, b = m * k, (1.0 - m) * k
    out = np.empty(cohort.n)
    gens = rngs_for(root_seed, ("adherence", cohort.condition.name), cohort.indices)
    for row, g in enumerate(gens):
        out[row] = g.beta(a, b)
    return out
