"""The point-source superposition kernel of :class:`openvns.nerve.field.AnalyticField`.

Its own module so that importing :mod:`openvns.nerve.field` (every trial run does, to read its
recruitment table) does not import numba: this one is imported where a field is evaluated.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@numba.njit(parallel=True, cache=True, fastmath=False)
def superpose(
    fx: FloatArray,
    fy: FloatArray,
    fz: FloatArray,
    src: FloatArray,
    w: FloatArray,
    cxx: float,
    cyy: float,
    czz: float,
    scale: float,
) -> FloatArray:  # pragma: no cover - compiled
    n, m = fz.shape
    out = np.zeros((n, m))
    ns = src.shape[0]
    for i in numba.prange(n):
        for k in range(ns):
            dx = fx[i] - src[k, 0]
            dy = fy[i] - src[k, 1]
            base = cxx * dx * dx + cyy * dy * dy
            wk = w[k] * scale
            sz = src[k, 2]
            for j in range(m):
                dz = fz[i, j] - sz
                out[i, j] += wk / math.sqrt(base + czz * dz * dz)
    return out
