"""Exact ring sources in an insulating tube: the yardstick of the cuff approximation.

:class:`~openvns.nerve.field.AnalyticField` represents the insulating wall of the helical cuff by
the image of each contact element in the wall's tangent plane (``image_factor = 2``). For an
axisymmetric stand-in of the cuff — ring contacts on the wall of an *infinitely long*
insulating tube — the potential is known exactly as a Fourier–Bessel integral, which this module
evaluates (:func:`tube_ring_potential_mV`). :class:`RingElectrode` puts the same rings into the
point-source machinery, so the two can be compared point by point (``tests/nerve/test_cuff.py``,
``docs/nerve.md``).

Derivation (uniaxial medium, σr across, σz along the axis; a ring of current ``I`` at ``z_i`` on
the wall ``ρ = a``; Neumann condition ``σr ∂V/∂ρ = I δ(z - z_i) / (2π a)`` at the wall, no other
boundary): with ``ζ = z sqrt(σr/σz)`` the problem is isotropic and::

    V(ρ, z) = 1 / (2π² a sqrt(σr σz)) · Σ_i I_i ∫_0^∞ I0(kρ) cos(k (ζ - ζ_i)) / (k I1(ka)) dk

The integral diverges at ``k → 0`` unless ``Σ I_i = 0``: a closed tube cannot take net current,
so only balanced (bipolar) ring sets are accepted. In mV for mA, µm and S/m the prefactor is
``1e6 / (2π² a sqrt(σr σz))``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import integrate, special  # type: ignore[import-untyped]

from openvns.errors import ValidationError
from openvns.nerve.field import Medium

FloatArray = NDArray[np.float64]


def _check_rings(
    ring_z_um: tuple[float, ...], currents_mA: tuple[float, ...]
) -> tuple[FloatArray, FloatArray]:
    z = np.asarray(ring_z_um, dtype=np.float64)
    c = np.asarray(currents_mA, dtype=np.float64)
    if z.ndim != 1 or z.shape != c.shape or z.size < 2:
        raise ValidationError("rings", (ring_z_um, currents_mA), "≥ 2 rings, one current each")
    if not (np.all(np.isfinite(z)) and np.all(np.isfinite(c))):
        raise ValidationError("rings", (ring_z_um, currents_mA), "finite positions and currents")
    if abs(float(c.sum())) > 1e-12 * float(np.abs(c).sum()):
        raise ValidationError(
            "currents_mA",
            currents_mA,
            "currents that sum to zero (a closed tube takes no net current)",
        )
    return z, c


def tube_ring_potential_mV(
    rho_um: float,
    z_um: float,
    radius_um: float,
    medium: Medium,
    ring_z_um: tuple[float, ...] = (-4000.0, 4000.0),
    currents_mA: tuple[float, ...] = (1.0, -1.0),
) -> float:
    """Exact potential (mV) inside an infinite insulating tube driven by wall rings.

    Parameters
    ----------
    rho_um, z_um
        Field point (radius ``< radius_um`` and axial position), in µm.
    radius_um
        Inner radius of the tube (where the rings sit), in µm.
    medium
        Uniaxial medium (``σx == σy``); ``σz`` along the tube.
    ring_z_um, currents_mA
        Axial positions (µm) and currents (mA, summing to zero) of the rings.
    """
    sx, sy, sz = medium.sigma_S_per_m
    if not math.isclose(sx, sy):
        raise ValidationError("sigma_S_per_m", medium.sigma_S_per_m, "a uniaxial medium (σx = σy)")
    a = float(radius_um)
    if not (0 <= rho_um < a):
        raise ValidationError("rho_um", rho_um, f"0 ≤ ρ < {a:g} µm (inside the tube)")
    zr, cur = _check_rings(ring_z_um, currents_mA)
    stretch = math.sqrt(sx / sz)
    zeta = (z_um - zr) * stretch
    gap = a - rho_um

    def integrand(k: float) -> float:
        if k == 0.0:  # limit: I0/(k I1) -> 2/(k² a); Σ I cos(k ζ) -> -k² Σ I ζ² / 2
            return float(-np.sum(cur * zeta**2) / a)
        ratio = special.i0e(k * rho_um) / special.i1e(k * a) * math.exp(-k * gap)
        return float(ratio / k * np.sum(cur * np.cos(k * zeta)))

    # The integrand decays like exp(-k (a - rho)); integrate to where it is ~1e-12.
    k_max = 28.0 / max(gap, 1e-3 * a)
    breaks = np.linspace(0.0, k_max, 41)
    total = 0.0
    for k0, k1 in itertools.pairwise(breaks):
        part, _err = integrate.quad(integrand, k0, k1, limit=200)
        total += part
    prefactor = 1e6 / (2.0 * math.pi**2 * a * math.sqrt(sx * sz))
    return float(prefactor * total)


@dataclass(frozen=True)
class RingElectrode:
    """Ring contacts on a cylinder of radius ``radius_um``, each a ring of point sources.

    The point-source counterpart of :func:`tube_ring_potential_mV`, usable with
    :class:`~openvns.nerve.field.AnalyticField` (``image_factor`` 1 or 2).
    """

    radius_um: float
    ring_z_um: tuple[float, ...] = (-4000.0, 4000.0)
    currents_mA: tuple[float, ...] = (1.0, -1.0)
    points_per_ring: int = 720

    def __post_init__(self) -> None:
        if not (math.isfinite(self.radius_um) and self.radius_um > 0):
            raise ValidationError("radius_um", self.radius_um, "a finite number > 0")
        _check_rings(self.ring_z_um, self.currents_mA)
        if self.points_per_ring < 3:
            raise ValidationError("points_per_ring", self.points_per_ring, "an integer ≥ 3")

    def sources(self) -> tuple[FloatArray, FloatArray]:
        n = self.points_per_ring
        th = 2.0 * np.pi * (np.arange(n) + 0.5) / n
        xy = self.radius_um * np.column_stack((np.cos(th), np.sin(th)))
        pts = [np.column_stack((xy, np.full(n, z))) for z in self.ring_z_um]
        w = [np.full(n, c / n) for c in self.currents_mA]
        return np.vstack(pts), np.concatenate(w)

    def key(self) -> dict[str, Any]:
        return {
            "kind": "rings",
            "radius_um": self.radius_um,
            "ring_z_um": list(self.ring_z_um),
            "currents_mA": list(self.currents_mA),
            "points_per_ring": self.points_per_ring,
        }
