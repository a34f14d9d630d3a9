"""First-order recursive filters along days, without ``scipy.signal``.

The outcomes' exponential averages, their AR(1) noise and the attack model's AR(1) rate
fluctuation are first-order recursions ``y[t] = b0 x[t] − a1 y[t−1]``. :func:`first_order`
computes them exactly as ``scipy.signal.lfilter([b0], [1, a1], x, axis=1, zi=zi)`` does (the
same operations in the same order: its transposed direct form II with ``b`` padded to
``[b0, 0]``), so results are bit for bit those of ``lfilter``; importing ``scipy.signal`` alone
costs about a third of a second of every command's start-up.
"""

from __future__ import annotations

import sys

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: Elements from which :func:`first_order` imports ``scipy.signal`` (its loop over days costs
#: about as much as the import at a few million values).
LFILTER_FROM = 2_000_000


def first_order(
    b0: float, a1: float, x: FloatArray, zi: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """``lfilter([b0], [1, a1], x, axis=1, zi=zi)`` for ``x`` ``(n, days)``, ``zi`` ``(n, 1)``.

    Returns the filtered ``(n, days)`` array and the final state ``(n, 1)``. Where
    ``scipy.signal`` is loaded already, or the array is large enough for its import to be paid
    back (:data:`LFILTER_FROM`), ``lfilter`` itself runs: the same numbers, in C.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.shape[1] and ("scipy.signal" in sys.modules or x.size >= LFILTER_FROM):
        from scipy.signal import lfilter  # type: ignore[import-untyped]

        y, zf = lfilter([b0], [1.0, a1], x, axis=1, zi=np.asarray(zi, dtype=np.float64))
        return np.asarray(y, dtype=np.float64), np.asarray(zf, dtype=np.float64)
    y = np.empty_like(x)
    z = np.array(np.asarray(zi, dtype=np.float64).reshape(x.shape[0]), copy=True)
    b0, a1 = float(b0), float(a1)
    for t in range(x.shape[1]):
        xt = x[:, t]
        yt = z + b0 * xt
        y[:, t] = yt
        z = xt * 0.0 - yt * a1  # lfilter's z = b[1] x − a[1] y with b[1] = 0
    return y, z[:, None]
