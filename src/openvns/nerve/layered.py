"""The field of surface electrodes on horizontally layered tissue (skin, fat, muscle, cartilage).

A stack of isotropic layers (thicknesses ``t_i``, conductivities ``σ_i``) lies over a half-space
(``σ_n``); air above the surface is an insulator. A current ``I`` enters through a disc (or a
point) on the surface. With the surface current density ``J(r)`` and its Hankel transform
``Ĵ(k) = ∫ J(r) J0(kr) r dr`` the potential at radial distance ``ρ`` and depth ``z`` is::

    V(ρ, z) = ∫_0^∞ Ĵ(k) H(k, z) J0(kρ) dk

where ``H = k V̂ / Ĵ`` follows from recursive layer reflection coefficients. In layer ``i`` (top
at depth ``d_i``, ``ζ = z - d_i``), ``V̂ = a_i (exp(-kζ) + R_i exp(-k(2t_i - ζ)))``. From the
bottom up (``s``: the effective conductivity seen from the top of a layer; ``E_i = exp(-2kt_i)``)::

    s_n = σ_n;  R_i = (σ_i - s_{i+1}) / (σ_i + s_{i+1});  s_i = σ_i (1 - R_i E_i) / (1 + R_i E_i)

and from the top down (the flux ``-σ_0 ∂V/∂z = J`` at the surface, continuity of ``V`` at each
interface; ``R_n = 0`` in the half-space)::

    k a_0 = 1 / (σ_0 (1 - R_0 E_0));  a_{i+1} = a_i exp(-k t_i) (1 + R_i) / (1 + R_{i+1} E_{i+1})

Every factor is bounded (``|R| < 1``, all exponentials decay), so the recursion is stable for
any ``k``. For one layer over a half-space ``R_0 = (σ_0 - σ_1)/(σ_0 + σ_1)`` and the expansion of
``1 / (1 - R_0 E_0)`` is the classical image series (tested). Source profiles (total current
``I``): a point, ``Ĵ = I / 2π``; a disc of radius ``a`` with uniform current density,
``Ĵ = I/2π · 2 J1(ka) / (ka)``; an equipotential disc on a homogeneous half-space (current
density ``∝ 1/sqrt(a² - r²)``), ``Ĵ = I/2π · sin(ka) / (ka)``.

Numerics: the integral is evaluated by composite Gauss–Legendre quadrature on panels no wider
than ``π / max(ρ, a)`` (the oscillation of the Bessel functions), ``2 / z`` (the decay) and
``1 / D`` (``D``: depth of the deepest interface; the reflections vary on that scale), up to
``k = 30 / z`` (``exp(-30)``: the integrand is below 1e-13 of its start there), in blocks of
radii and depths so each block gets the panels it needs. :func:`surface_potential_mV` does this
at arbitrary points; :class:`LayeredField` tabulates ``V(ρ, z)`` once per contact radius on a
grid fitted to the fibres' depth range (nodes on every interface, separate bicubic splines per
layer, ``V`` mirrored to negative ``ρ`` so the spline is even about the disc axis) and
interpolates; the table agrees with the quadrature to ~1e-5 (``tests/nerve/test_layered.py``).

Coordinates of :class:`LayeredField` follow :class:`~openvns.nerve.field.FieldModel`: fibres run
along ``z``, parallel to the skin; ``x`` is the lateral position across them and ``y`` the depth
below the skin surface (µm, > 0). Contacts sit on the surface at ``(x, z)``.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy import special  # type: ignore[import-untyped]
from scipy.interpolate import RectBivariateSpline  # type: ignore[import-untyped]

from openvns.errors import ValidationError

FloatArray = NDArray[np.float64]
Profile = Literal["point", "uniform", "equipotential"]

#: 1 mA over 2π S/m · µm, in mV: the prefactor of the Hankel integral.
MV_PER_MA_2PI = 1e6 / (2.0 * math.pi)
#: Identifies the quadrature and tabulation scheme in cache keys; bump when it changes.
LAYERED_SCHEME = "hankel-gl10-blocks/kz30/1+table-bicubic-per-layer/1"
#: Gauss–Legendre nodes per panel.
_GL_NODES = 10
#: Upper limit of the integral in units of 1/z (exp(-30) ≈ 1e-13).
_KZ_MAX = 30.0
#: Widest panel in units of 1/z (decay) and of π/max(ρ, a) (oscillation).
_DECAY_WIDTH = 2.0
_CACHE_SIZE = 32


def _finite(name: str, x: Any, allowed: str) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float | np.floating | np.integer):
        raise ValidationError(name, x, allowed)
    if not math.isfinite(float(x)):
        raise ValidationError(name, x, allowed)
    return float(x)


# ------------------------------------------------------------------------------------ medium
@dataclass(frozen=True)
class LayeredMedium:
    """Isotropic layers over a half-space, the surface at depth 0.

    Attributes
    ----------
    thickness_um
        Thickness of each layer from the surface down (µm, each > 0); empty for a homogeneous
        half-space.
    sigma_S_per_m
        Conductivity of each layer and, last, of the half-space below (S/m, each > 0):
        ``len(thickness_um) + 1`` values.
    names
        Optional labels of the layers and the half-space (same length as ``sigma_S_per_m``).
    """

    thickness_um: tuple[float, ...]
    sigma_S_per_m: tuple[float, ...]
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        t, s = tuple(self.thickness_um), tuple(self.sigma_S_per_m)
        if len(s) != len(t) + 1:
            allowed = f"{len(t) + 1} conductivities (one per layer and one for the half-space)"
            raise ValidationError("sigma_S_per_m", list(s), allowed)
        for i, x in enumerate(t):
            if _finite(f"thickness_um[{i}]", x, "a finite thickness > 0 µm") <= 0:
                raise ValidationError(f"thickness_um[{i}]", x, "a finite thickness > 0 µm")
        for i, x in enumerate(s):
            if _finite(f"sigma_S_per_m[{i}]", x, "a finite conductivity > 0 S/m") <= 0:
                raise ValidationError(f"sigma_S_per_m[{i}]", x, "a finite conductivity > 0 S/m")
        if self.names and len(self.names) != len(s):
            raise ValidationError("names", list(self.names), f"{len(s)} names or none")
        object.__setattr__(self, "thickness_um", tuple(float(x) for x in t))
        object.__setattr__(self, "sigma_S_per_m", tuple(float(x) for x in s))
        object.__setattr__(self, "names", tuple(str(n) for n in self.names))

    @classmethod
    def homogeneous(cls, sigma_S_per_m: float) -> LayeredMedium:
        """A homogeneous half-space."""
        return cls((), (sigma_S_per_m,))

    @property
    def interfaces_um(self) -> FloatArray:
        """Depths of the layer bottoms (µm), increasing."""
        return np.cumsum(np.asarray(self.thickness_um, dtype=np.float64))

    def layer_index(self, depth_um: FloatArray) -> NDArray[np.int64]:
        """Index of the layer each depth lies in (a depth on an interface: the layer above)."""
        d = np.asarray(depth_um, dtype=np.float64)
        return np.searchsorted(self.interfaces_um, d, side="left").astype(np.int64)

    def key(self) -> dict[str, Any]:
        return {
            "thickness_um": list(self.thickness_um),
            "sigma_S_per_m": list(self.sigma_S_per_m),
            "names": list(self.names),
        }

    def kernel(self, k_per_um: FloatArray, depth_um: FloatArray) -> FloatArray:
        """``H(k, z) = k V̂ / Ĵ`` (1/(S/m)) on the grid ``(len(k), len(depth))``; ``k > 0``."""
        k = np.asarray(k_per_um, dtype=np.float64).reshape(-1, 1)
        z = np.asarray(depth_um, dtype=np.float64).reshape(1, -1)
        t = self.thickness_um
        sig = self.sigma_S_per_m
        n = len(t)
        # bottom-up: reflection coefficient at the bottom of each layer
        refl = [np.zeros_like(k) for _ in range(n + 1)]
        e2 = [np.exp(-2.0 * k * ti) for ti in t] + [np.zeros_like(k)]
        s_below = np.full_like(k, sig[n])
        for i in range(n - 1, -1, -1):
            r = (sig[i] - s_below) / (sig[i] + s_below)
            refl[i] = r
            s_below = sig[i] * (1.0 - r * e2[i]) / (1.0 + r * e2[i])
        # top-down: amplitudes k·a_i
        amp = [1.0 / (sig[0] * (1.0 - refl[0] * e2[0]))]
        for i in range(n):
            down_i = np.exp(-k * t[i]) * (1.0 + refl[i]) / (1.0 + refl[i + 1] * e2[i + 1])
            amp.append(amp[i] * down_i)
        tops = np.concatenate(([0.0], self.interfaces_um))
        layer = self.layer_index(z.reshape(-1))
        out = np.empty((k.shape[0], z.shape[1]))
        for i in np.unique(layer):
            cols = np.flatnonzero(layer == i)
            zeta = z[:, cols] - tops[i]
            down = np.exp(-k * zeta)
            if i < n:
                down = down + refl[i] * np.exp(-k * (2.0 * t[i] - zeta))
            out[:, cols] = amp[i] * down
        return out


# -------------------------------------------------------------------------------- quadrature
def source_transform(k_per_um: FloatArray, radius_um: float, profile: Profile) -> FloatArray:
    """``2π Ĵ(k) / I``: the Hankel transform of the surface current of a unit source."""
    k = np.asarray(k_per_um, dtype=np.float64)
    if profile == "point" or radius_um == 0.0:
        return np.ones_like(k)
    ka = k * radius_um
    if profile == "uniform":
        return np.asarray(2.0 * special.j1(ka) / ka, dtype=np.float64)
    if profile == "equipotential":
        return np.asarray(np.sinc(ka / math.pi), dtype=np.float64)
    raise ValidationError("profile", profile, "'point', 'uniform' or 'equipotential'")


def _gauss_panels(
    k_max: float, width: float, near_zero: float = math.inf
) -> tuple[FloatArray, FloatArray]:
    """Nodes and weights of composite Gauss–Legendre quadrature on ``[0, k_max]``.

    Panels are at most ``width`` wide; near ``k = 0`` they start at ``near_zero`` and double
    (a panel no wider than its distance from a singularity ``near_zero`` left of the origin).
    """
    if not (width > 0 and near_zero > 0):
        raise ValidationError("panel width", (width, near_zero), "widths > 0 (1/µm)")
    edges = [0.0]
    while edges[-1] < k_max:
        w = min(width, max(near_zero, edges[-1]))
        edges.append(min(k_max, edges[-1] + w))
    e = np.asarray(edges, dtype=np.float64)
    x, wts = np.polynomial.legendre.leggauss(_GL_NODES)
    half = 0.5 * np.diff(e)
    mid = 0.5 * (e[:-1] + e[1:])
    nodes = (mid[:, None] + half[:, None] * x[None, :]).reshape(-1)
    weights = (half[:, None] * wts[None, :]).reshape(-1)
    return nodes, weights


def _singularity_distance(medium: LayeredMedium) -> float:
    """Distance (1/µm) from ``k = 0`` to the nearest pole of the kernel, roughly:
    ``ln(1/|R_i|) / (2 D_i)`` with the reflection ``R_i`` of layer ``i`` at ``k = 0`` and its
    bottom depth ``D_i``. Strong contrasts (``|R| → 1``) bring the poles close to the origin
    (the many images of the image series)."""
    if not medium.thickness_um:
        return math.inf
    s_n = medium.sigma_S_per_m[-1]
    out = math.inf
    for sig, depth in zip(medium.sigma_S_per_m[:-1], medium.interfaces_um, strict=True):
        r = abs(sig - s_n) / (sig + s_n)
        out = min(out, math.log(1.0 / max(r, 1e-3)) / (2.0 * float(depth)))
    return out


def _geometric_blocks(values: FloatArray, ratio: float) -> list[NDArray[np.int64]]:
    """Indices of sorted ``values`` (> 0 where it matters) split where they grow by ``ratio``."""
    order = np.argsort(values, kind="stable")
    blocks: list[NDArray[np.int64]] = []
    start = 0
    while start < order.size:
        lo = max(float(values[order[start]]), 1e-9)
        stop = start + 1
        while stop < order.size and float(values[order[stop]]) <= lo * ratio:
            stop += 1
        blocks.append(order[start:stop].astype(np.int64))
        start = stop
    return blocks


def potential_grid_mV(
    rho_um: FloatArray,
    depth_um: FloatArray,
    medium: LayeredMedium,
    radius_um: float = 0.0,
    profile: Profile = "uniform",
) -> FloatArray:
    """Potential (mV per mA) on the grid ``(len(rho_um), len(depth_um))`` by quadrature.

    Parameters
    ----------
    rho_um
        Radial distances from the contact's centre along the surface (µm, ≥ 0).
    depth_um
        Depths below the surface (µm, > 0).
    medium
        The layers.
    radius_um, profile
        Contact radius (µm; 0: a point) and current distribution (``"uniform"`` or
        ``"equipotential"``).
    """
    rho = np.abs(np.asarray(rho_um, dtype=np.float64).reshape(-1))
    z = np.asarray(depth_um, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(rho)):
        raise ValidationError("rho_um", "non-finite values", "finite distances (µm)")
    if not np.all(np.isfinite(z)) or np.any(z <= 0):
        raise ValidationError("depth_um", "values ≤ 0 or non-finite", "depths > 0 µm")
    a = _finite("radius_um", radius_um, "a finite radius ≥ 0 µm")
    if a < 0:
        raise ValidationError("radius_um", radius_um, "a finite radius ≥ 0 µm")
    out = np.empty((rho.size, z.size))
    scale_rho = np.maximum(rho, a)
    # the layers make the kernel vary on the scale 1/(2 × depth of the deepest interface)
    deepest = float(medium.interfaces_um[-1]) if medium.thickness_um else 0.0
    layer_width = _DECAY_WIDTH / (2.0 * deepest) if deepest > 0 else math.inf
    near_zero = _singularity_distance(medium)
    for zb in _geometric_blocks(z, 2.0):
        z_lo, z_hi = float(z[zb].min()), float(z[zb].max())
        k_max = _KZ_MAX / z_lo
        for rb in _geometric_blocks(np.maximum(scale_rho, 1.0), 4.0):
            r_hi = float(scale_rho[rb].max())
            width = min(_DECAY_WIDTH / z_hi, math.pi / r_hi if r_hi > 0 else math.inf, layer_width)
            k, w = _gauss_panels(k_max, width, near_zero)
            src = source_transform(k, a, profile) * w
            hk = medium.kernel(k, z[zb]) * src[:, None]
            j0 = special.j0(rho[rb][:, None] * k[None, :])
            out[np.ix_(rb, zb)] = MV_PER_MA_2PI * (j0 @ hk)
    return out


def surface_potential_mV(
    rho_um: FloatArray,
    depth_um: FloatArray,
    medium: LayeredMedium,
    radius_um: float = 0.0,
    profile: Profile = "uniform",
) -> FloatArray:
    """Potential (mV per mA) at points ``(rho_um[i], depth_um[i])`` by quadrature (exact to
    ~1e-10; the reference :class:`LayeredField` is tested against)."""
    rho = np.asarray(rho_um, dtype=np.float64).reshape(-1)
    z = np.asarray(depth_um, dtype=np.float64).reshape(-1)
    rho, z = np.broadcast_arrays(rho, z)
    out = np.empty(rho.size)
    for dz in np.unique(z):
        sel = np.flatnonzero(z == dz)
        out[sel] = potential_grid_mV(rho[sel], np.array([dz]), medium, radius_um, profile)[:, 0]
    return out


# --------------------------------------------------------------------------------- electrode
@dataclass(frozen=True)
class SurfaceContact:
    """A disc contact on the skin.

    Attributes
    ----------
    x_um, z_um
        Centre on the surface: lateral position and position along the fibres (µm).
    radius_um
        Radius (µm, ≥ 0; 0 = a point).
    weight
        Current it carries per mA of programmed current (+1: the contact that carries the
        waveform, cathodic in its first phase; -1: the return).
    """

    x_um: float
    z_um: float
    radius_um: float
    weight: float = 1.0

    def __post_init__(self) -> None:
        for name in ("x_um", "z_um", "weight"):
            _finite(name, getattr(self, name), "a finite number")
        if _finite("radius_um", self.radius_um, "a finite radius ≥ 0 µm") < 0:
            raise ValidationError("radius_um", self.radius_um, "a finite radius ≥ 0 µm")


@dataclass(frozen=True)
class SurfaceElectrode:
    """Contacts on the skin (bipolar: weights +1 and -1), by superposition.

    Attributes
    ----------
    contacts
        The contacts.
    profile
        Current distribution under each disc: ``"uniform"`` (a resistive skin interface spreads
        the current evenly) or ``"equipotential"`` (a metal disc on a homogeneous half-space).
    """

    contacts: tuple[SurfaceContact, ...]
    profile: Profile = "uniform"

    def __post_init__(self) -> None:
        if not self.contacts:
            raise ValidationError("contacts", list(self.contacts), "at least one contact")
        if self.profile not in ("point", "uniform", "equipotential"):
            raise ValidationError("profile", self.profile, "'point', 'uniform' or 'equipotential'")
        object.__setattr__(self, "contacts", tuple(self.contacts))

    def key(self) -> dict[str, Any]:
        return {
            "kind": "surface",
            "profile": self.profile,
            "contacts": [[c.x_um, c.z_um, c.radius_um, c.weight] for c in self.contacts],
        }


# ------------------------------------------------------------------------------------ table
def _rho_grid(radius_um: float, rho_max_um: float, step_um: float, growth: float) -> FloatArray:
    """Uniform steps ``step_um`` to past the disc edge, then growing by ``growth``; mirrored."""
    near = radius_um + 20.0 * step_um
    grid = list(np.arange(0.0, near + step_um / 2, step_um))
    while grid[-1] < rho_max_um:
        grid.append(grid[-1] * growth)
    pos = np.asarray(grid, dtype=np.float64)
    return np.concatenate((-pos[1:4][::-1], pos))


def _depth_grid(lo: float, hi: float, growth: float) -> FloatArray:
    """Nodes from ``lo`` to ``hi`` (µm) growing by ``growth`` (at least 5)."""
    n = max(5, math.ceil(math.log(hi / lo) / math.log(growth)) + 1)
    return np.geomspace(lo, hi, n) if hi > lo else np.array([lo])


@dataclass(frozen=True)
class _RadialTable:
    """``V(ρ, z)`` of one contact radius: a bicubic spline per layer segment."""

    bounds_um: FloatArray  # segment edges in depth
    splines: tuple[Any, ...]

    def evaluate(self, rho_um: FloatArray, depth_um: FloatArray) -> FloatArray:
        seg = np.clip(np.searchsorted(self.bounds_um, depth_um, side="right") - 1, 0,
                      len(self.splines) - 1)  # fmt: skip
        out = np.empty(rho_um.shape)
        for s in np.unique(seg):
            sel = seg == s
            out[sel] = self.splines[s].ev(rho_um[sel], depth_um[sel])
        return out


@dataclass(frozen=True)
class LayeredField:
    """The field of a :class:`SurfaceElectrode` on a :class:`LayeredMedium` (a FieldModel).

    ``y`` is the depth below the skin (µm); fibres run along ``z``. The potential of each contact
    is tabulated once (per distinct radius) over ``depth_range_um`` and radial distances up to
    ``rho_max_um``, then interpolated; points outside raise
    :class:`~openvns.errors.ValidationError`.

    Attributes
    ----------
    electrode, medium
        The contacts and the layers.
    depth_range_um
        ``(shallowest, deepest)`` fibre depth the table covers (µm, > 0).
    rho_max_um
        Largest distance along the surface from a contact's centre to a fibre point (µm).
    rho_step_um
        Radial table step near the contacts (default: a quarter of the shallowest depth, at
        most 100 µm and at least 10 µm).
    """

    electrode: SurfaceElectrode
    medium: LayeredMedium
    depth_range_um: tuple[float, float]
    rho_max_um: float = 120_000.0
    rho_step_um: float | None = None
    _tables: dict[float, _RadialTable] = field(default_factory=dict, compare=False, repr=False)
    _cache: dict[str, FloatArray] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        lo, hi = (float(v) for v in self.depth_range_um)
        if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo <= hi):
            raise ValidationError("depth_range_um", self.depth_range_um, "0 < shallowest ≤ deepest")
        if _finite("rho_max_um", self.rho_max_um, "a finite distance > 0 µm") <= 0:
            raise ValidationError("rho_max_um", self.rho_max_um, "a finite distance > 0 µm")
        object.__setattr__(self, "depth_range_um", (lo, hi))

    @property
    def step_um(self) -> float:
        if self.rho_step_um is not None:
            return float(self.rho_step_um)
        return float(min(100.0, max(10.0, self.depth_range_um[0] / 4.0)))

    def _table(self, radius_um: float) -> _RadialTable:
        hit = self._tables.get(radius_um)
        if hit is not None:
            return hit
        lo, hi = self.depth_range_um
        rho = _rho_grid(radius_um, self.rho_max_um * 1.02, self.step_um, 1.04)
        edges = [e for e in self.medium.interfaces_um if lo < e < hi]
        bounds = np.array([lo, *edges, hi])
        depths = [_depth_grid(bounds[i], bounds[i + 1], 1.06) for i in range(bounds.size - 1)]
        all_z = np.unique(np.concatenate(depths))
        pos = rho[rho >= 0]
        vals = potential_grid_mV(pos, all_z, self.medium, radius_um, self.electrode.profile)
        full = np.vstack((vals[1:4][::-1], vals))
        splines = []
        for zs in depths:
            cols = np.searchsorted(all_z, zs)
            kz = min(3, zs.size - 1)
            splines.append(RectBivariateSpline(rho, zs, full[:, cols], kx=3, ky=kz, s=0))
        table = _RadialTable(bounds, tuple(splines))
        self._tables[radius_um] = table
        return table

    def potentials(self, x_um: FloatArray, y_um: FloatArray, z_um: FloatArray) -> FloatArray:
        """``(n_fibres, n_sections)`` mV/mA for fibres at lateral ``x``, depth ``y`` (µm)."""
        x = np.ascontiguousarray(x_um, dtype=np.float64).reshape(-1)
        y = np.ascontiguousarray(y_um, dtype=np.float64).reshape(-1)
        if x.shape != y.shape:
            raise ValidationError("fibre y_um", f"shape {y.shape}", f"shape {x.shape}, as x_um")
        z = np.asarray(z_um, dtype=np.float64)
        if z.ndim == 1:
            z = np.broadcast_to(z, (x.size, z.size))
        if z.ndim != 2 or z.shape[0] != x.size:
            raise ValidationError("z_um", f"shape {np.shape(z_um)}", f"({x.size}, n_sections)")
        for name, arr in (("x_um", x), ("y_um", y), ("z_um", z)):
            if not np.all(np.isfinite(arr)):
                raise ValidationError(name, "non-finite values", "finite positions in µm")
        lo, hi = self.depth_range_um
        bad = np.flatnonzero((y < lo * (1 - 1e-9)) | (y > hi * (1 + 1e-9)))
        if bad.size:
            i = int(bad[0])
            raise ValidationError(
                f"fibre[{i}] y_um", float(y[i]), f"a depth within {lo:g}–{hi:g} µm (the table)"
            )
        digest = _digest(x, y, z)
        hit = self._cache.get(digest)
        if hit is not None:
            return hit.copy()
        depth = np.broadcast_to(np.clip(y, lo, hi)[:, None], z.shape)
        out = np.zeros(z.shape)
        for c in self.electrode.contacts:
            rho = np.hypot(x[:, None] - c.x_um, z - c.z_um)
            if float(rho.max()) > self.rho_max_um:
                raise ValidationError(
                    "z_um", f"a point {float(rho.max()):g} µm from a contact",
                    f"≤ {self.rho_max_um:g} µm (rho_max_um of the field)",
                )  # fmt: skip
            table = self._table(float(c.radius_um))
            out += c.weight * table.evaluate(rho.ravel(), depth.ravel()).reshape(z.shape)
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))
        self._cache[digest] = out
        return out.copy()

    def key(self) -> dict[str, Any]:
        return {
            "method": LAYERED_SCHEME,
            "electrode": self.electrode.key(),
            "medium": self.medium.key(),
            "depth_range_um": list(self.depth_range_um),
            "rho_max_um": self.rho_max_um,
            "rho_step_um": self.step_um,
        }


def _digest(*arrays: FloatArray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        c = np.ascontiguousarray(a, dtype=np.float64)
        h.update(str(c.shape).encode())
        h.update(c.tobytes())
    return h.hexdigest()


def field_key_digest(fld: LayeredField) -> str:
    """SHA-256 of the field's key (canonical JSON)."""
    return hashlib.sha256(json.dumps(fld.key(), sort_keys=True).encode("utf-8")).hexdigest()
