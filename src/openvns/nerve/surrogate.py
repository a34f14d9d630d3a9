"""A threshold surrogate: log-threshold from cheap features of each fibre's own field.

For one electrode, waveform and fibre model, a fibre's activation threshold is a smooth function
of its diameter and of the shape of the potential along it. :func:`fibre_features` reduces the
potential along a fibre to a few numbers (log of the peak depolarising second difference at
several length scales — Rattay's activating function, the drive of the membrane under a cathodic
pulse —, log of the peak |Ve| and log of the diameter); :func:`fit_surrogate` fits
``log(threshold)`` as a polynomial (degree 1 or 2, chosen by exact leave-one-out
cross-validation) of those features on a *design* sample whose thresholds come from the real
solver, and :meth:`Surrogate.predict` applies it to a large population, where only the field
(cheap) has to be evaluated.

Features are evaluated on a grid along each fibre: the nodes of Ranvier for myelinated models
(node spacing of the fibre's own diameter, nodes shifted by its ``z_offset_frac``) and a uniform
grid of ``grid_um`` for unmyelinated ones (``data/recruitment.yaml``: ``surrogate``). Second
differences at step ``s`` grid points are divided by ``s²`` so every scale is in mV per grid
step squared, per mA.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations_with_replacement
from typing import Any

import numpy as np
from numpy.typing import NDArray

from openvns.errors import ValidationError
from openvns.nerve.field import FieldModel

FloatArray = NDArray[np.float64]

#: Identifies the feature and fitting scheme in cache keys; bump when it changes.
SURROGATE_SCHEME = "af-multiscale+peak+logd/poly-loo/1"
#: Floor of a drive (mV per mA) before taking its log: no depolarisation at all.
_TINY = 1e-12


def second_difference_features(ve: FloatArray, scales: Sequence[int]) -> FloatArray:
    """``(n, len(scales) + 1)`` log features of potentials ``ve`` ``(n, n_points)`` (mV/mA).

    Columns: ``log max_i(-(V[i-s] - 2 V[i] + V[i+s]) / s²)`` for each scale ``s`` (grid
    points), then ``log max_i |V[i]|``. A non-depolarised fibre gets ``log(1e-12)``.
    """
    v = np.asarray(ve, dtype=np.float64)
    cols = []
    for s in scales:
        if not 1 <= s < v.shape[1] // 2:
            raise ValidationError("scale", s, f"1 … {v.shape[1] // 2 - 1} grid points")
        af = -(v[:, : -2 * s] - 2.0 * v[:, s:-s] + v[:, 2 * s :]) / float(s * s)
        cols.append(np.log(np.maximum(af.max(axis=1), _TINY)))
    cols.append(np.log(np.maximum(np.abs(v).max(axis=1), _TINY)))
    return np.stack(cols, axis=1)


def fibre_features(
    fld: FieldModel,
    x_um: FloatArray,
    y_um: FloatArray,
    diameter_um: FloatArray,
    z_offset_frac: FloatArray,
    *,
    spacing_um: FloatArray | float,
    n_points: int,
    scales: Sequence[int],
    chunk: int = 2048,
) -> FloatArray:
    """Log features of fibres under ``fld``: ``(n, len(scales) + 2)``.

    Parameters
    ----------
    fld
        The field (potentials per mA).
    x_um, y_um, diameter_um, z_offset_frac
        ``(n,)`` fibre positions (µm), diameters (µm) and node alignment (fraction of a step).
    spacing_um
        Grid step along each fibre (µm): the internodal length of each fibre (array) or one
        step for all (unmyelinated).
    n_points
        Grid points per fibre, centred on the electrode's mid-plane (odd: one on it).
    scales
        Second-difference steps in grid points.
    chunk
        Fibres per field evaluation (bounds memory).

    Returns
    -------
    numpy.ndarray
        Columns: the second-difference features, log peak |Ve|, log diameter.
    """
    x = np.asarray(x_um, dtype=np.float64)
    n = x.size
    h = np.broadcast_to(np.asarray(spacing_um, dtype=np.float64), (n,))
    k = np.arange(n_points, dtype=np.float64) - (n_points - 1) / 2.0
    zoff = np.asarray(z_offset_frac, dtype=np.float64)
    out = np.empty((n, len(scales) + 2))
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        z = (k[None, :] + zoff[a:b, None]) * h[a:b, None]
        ve = fld.potentials(x[a:b], np.asarray(y_um, dtype=np.float64)[a:b], z)
        out[a:b, :-1] = second_difference_features(ve, scales)
    out[:, -1] = np.log(np.asarray(diameter_um, dtype=np.float64))
    return out


def _poly(x: FloatArray, degree: int) -> FloatArray:
    cols = [np.ones(x.shape[0])]
    for d in range(1, degree + 1):
        for idx in combinations_with_replacement(range(x.shape[1]), d):
            cols.append(np.prod(x[:, list(idx)], axis=1))
    return np.stack(cols, axis=1)


@dataclass(frozen=True)
class Surrogate:
    """``log threshold ≈ poly(standardised features) · coef``.

    Attributes
    ----------
    degree
        Polynomial degree (1 or 2).
    mean, scale
        Feature standardisation.
    coef
        Polynomial coefficients (natural log of mA).
    loo_rms
        Leave-one-out RMS error of ``log(threshold)`` on the design sample (≈ relative error).
    loo_max
        Largest leave-one-out |error| of ``log(threshold)``.
    n_design
        Design fibres fitted.
    """

    degree: int
    mean: FloatArray
    scale: FloatArray
    coef: FloatArray
    loo_rms: float
    loo_max: float
    n_design: int

    def predict(self, features: FloatArray) -> FloatArray:
        """Predicted thresholds (mA) for ``(n, k)`` features."""
        z = (np.asarray(features, dtype=np.float64) - self.mean) / self.scale
        return np.asarray(np.exp(_poly(z, self.degree) @ self.coef), dtype=np.float64)

    def summary(self) -> dict[str, Any]:
        """JSON-able fit statistics."""
        return {
            "degree": self.degree,
            "n_design": self.n_design,
            "loo_rms_log": self.loo_rms,
            "loo_max_log": self.loo_max,
        }


def _loo(a: FloatArray, y: FloatArray, ridge: float) -> tuple[FloatArray, FloatArray]:
    """Coefficients and exact leave-one-out residuals of ridge least squares."""
    pen = ridge * np.eye(a.shape[1])
    pen[0, 0] = 0.0
    inv = np.linalg.pinv(a.T @ a + pen)
    coef = inv @ a.T @ y
    hat = np.einsum("ij,jk,ik->i", a, inv, a)
    resid = (y - a @ coef) / np.maximum(1.0 - hat, 1e-6)
    return coef, resid


def fit_surrogate(
    features: FloatArray, thresholds_mA: FloatArray, *, ridge: float = 1e-6
) -> Surrogate:
    """Fit a :class:`Surrogate` to design fibres (non-finite thresholds are left out).

    Degree 2 is used only when it has fewer coefficients than half the design points and its
    leave-one-out error is lower than degree 1's.
    """
    f = np.asarray(features, dtype=np.float64)
    t = np.asarray(thresholds_mA, dtype=np.float64)
    ok = np.isfinite(t) & (t > 0) & np.all(np.isfinite(f), axis=1)
    f, y = f[ok], np.log(t[ok])
    if y.size < f.shape[1] + 2:
        raise ValidationError("design sample", f"{y.size} finite thresholds", f"≥ {f.shape[1] + 2}")
    mean = f.mean(axis=0)
    scale = np.where(f.std(axis=0) > 0, f.std(axis=0), 1.0)
    z = (f - mean) / scale
    best: tuple[float, int, FloatArray, FloatArray] | None = None
    for degree in (1, 2):
        a = _poly(z, degree)
        if degree > 1 and a.shape[1] > y.size / 2:
            break
        coef, resid = _loo(a, y, ridge)
        rms = float(np.sqrt(np.mean(resid**2)))
        if best is None or rms < best[0]:
            best = (rms, degree, coef, resid)
    assert best is not None
    rms, degree, coef, resid = best
    return Surrogate(degree, mean, scale, coef, rms, float(np.max(np.abs(resid))), int(y.size))
