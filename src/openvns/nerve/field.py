"""Extracellular potential along every fibre, per mA of electrode current (mV/mA).

The field is linear in the electrode current, so it is computed once per geometry and scaled by
the waveform: ``Ve(t) = ve_mV_per_mA * I(t)``. Three sources of potentials share one interface
(``potentials(x_um, y_um, z_um) -> (n_fibres, n_sections)`` and ``key()`` for cache keys):

:class:`AnalyticField`
    Point sources in an unbounded homogeneous medium, summed over the electrode's sources.
    For one source of current ``I`` at the origin in a medium of conductivities
    ``(σx, σy, σz)`` (``z`` = fibre axis)::

        V = I / (4π · sqrt(σy σz x² + σx σz y² + σx σy z²))

    which is the formula PyFibers uses and is also the *exact* solution of the anisotropic
    homogeneous medium (it equals ``I / (4π sqrt(σx σy σz) sqrt(x²/σx + y²/σy + z²/σz))``);
    for equal conductivities it is ``I / (4π σ r)``. Units: mA, S/m and µm give
    ``V[mV] = 1e6 · I[mA] / (4π · sqrt(...)[S/m · µm])``.

:class:`AnalyticField` with a :class:`~openvns.nerve.geometry.HelicalCuff`
    The contacts as distributed sources (point sources on the ribbons, on the cuff's inner
    surface), bipolar, in the anisotropic endoneurium, with the insulating cuff represented by
    ``image_factor``: the **method of images for the tangent plane of the cuff wall**. A point
    source on an insulating plane drives current into one half-space only and its potential is
    twice the free-space value, exactly; each contact element is on the wall, so its image
    coincides with it and the whole cuff field is multiplied by ``image_factor = 2``.

    Limits of this approximation (quantified with the exact solution of a ring source in an
    infinitely long insulating tube, :func:`openvns.nerve.cuff.tube_ring_potential_mV`, and
    tested in ``tests/nerve/test_cuff.py``; numbers in ``docs/nerve.md``):

    * it is exact where the wall is locally flat, i.e. at distances from a contact small
      compared with the cuff radius (the region of the lowest thresholds);
    * across the lumen and along the cuff, a closed insulating tube confines the current more
      than a plane does: the true tube field between the contacts is larger and flatter (the
      current flows axially), so activating functions far from the contacts are misestimated;
    * the real lead is an open helix 4 mm long per contact, open at both ends and between the
      contacts, in tissue: it confines current *less* than an infinite tube, so the truth lies
      between the free-space (``image_factor = 1``) and the closed-tube solutions;
    * the medium is homogeneous: the resistive perineurium (σ ≈ 8.7e-4 S/m), the epineurium and
      the tissue around the cuff are not represented (use :class:`ExternalPotentials` with an
      FEM field for that).

:class:`ExternalPotentials`
    Arrays computed elsewhere (e.g. by an FEM tool), one row per fibre, validated for shape and
    finiteness.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from openvns.errors import ValidationError
from openvns.nerve import data_files
from openvns.nerve.geometry import Electrode

FloatArray = NDArray[np.float64]

#: 1 mA over 4π S/m · µm, in mV: V[mV] = MV_PER_MA_UM_S * I[mA] / (σ[S/m] r[µm]).
MV_PER_MA_UM_S = 1e6 / (4.0 * math.pi)
#: Fewest entries kept in a geometry's field cache before the oldest are dropped.
_CACHE_SIZE = 32


@dataclass(frozen=True)
class Medium:
    """A homogeneous, possibly anisotropic conductor; ``z`` is the fibre axis.

    Attributes
    ----------
    sigma_S_per_m
        ``(σx, σy, σz)`` in S/m, each finite and > 0.
    """

    sigma_S_per_m: tuple[float, float, float]

    def __post_init__(self) -> None:
        s = self.sigma_S_per_m
        if not isinstance(s, tuple | list) or len(s) != 3:
            raise ValidationError("sigma_S_per_m", s, "three conductivities (σx, σy, σz) in S/m")
        for name, x in zip(("sigma_x", "sigma_y", "sigma_z"), s, strict=True):
            ok = isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
            if not ok or x <= 0:
                raise ValidationError(f"{name}_S_per_m", x, "a finite conductivity > 0 S/m")
        object.__setattr__(self, "sigma_S_per_m", tuple(float(x) for x in s))

    @classmethod
    def isotropic(cls, sigma_S_per_m: float) -> Medium:
        """The same conductivity in every direction."""
        return cls((sigma_S_per_m, sigma_S_per_m, sigma_S_per_m))

    @classmethod
    def endoneurium(cls) -> Medium:
        """ASCENT's endoneurium: 0.167 S/m transverse, 0.571 S/m along the fibres."""
        c = data_files.load("cuff.yaml")["conductivity_S_per_m"]
        t = float(data_files.value(c["endoneurium_transverse"]))
        return cls((t, t, float(data_files.value(c["endoneurium_longitudinal"]))))

    @property
    def is_isotropic(self) -> bool:
        sx, sy, sz = self.sigma_S_per_m
        return sx == sy == sz


def point_source_mV(
    dx_um: FloatArray, dy_um: FloatArray, dz_um: FloatArray, medium: Medium, current_mA: float = 1.0
) -> FloatArray:
    """Closed-form potential (mV) of a point source at offsets ``(dx, dy, dz)`` µm.

    ``V = I / (4π sqrt(σy σz dx² + σx σz dy² + σx σy dz²))`` (PyFibers' formula, exact for a
    homogeneous anisotropic medium).
    """
    sx, sy, sz = medium.sigma_S_per_m
    dx, dy, dz = (np.asarray(a, dtype=np.float64) for a in (dx_um, dy_um, dz_um))
    denom = np.sqrt(sy * sz * dx**2 + sx * sz * dy**2 + sx * sy * dz**2)
    return np.asarray(MV_PER_MA_UM_S * current_mA / denom, dtype=np.float64)


class FieldModel(Protocol):
    """Potentials along fibres, per mA of programmed current."""

    def potentials(self, x_um: FloatArray, y_um: FloatArray, z_um: FloatArray) -> FloatArray:
        """``(n_fibres, n_sections)`` mV/mA for fibres at ``(x, y)`` with sections at ``z``."""
        ...

    def key(self) -> dict[str, Any]:
        """JSON-able description identifying the field (for cache keys)."""
        ...


def _fibre_arrays(
    x_um: FloatArray, y_um: FloatArray, z_um: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    x = np.ascontiguousarray(x_um, dtype=np.float64).reshape(-1)
    y = np.ascontiguousarray(y_um, dtype=np.float64).reshape(-1)
    if x.shape != y.shape:
        raise ValidationError("fibre y_um", f"shape {y.shape}", f"shape {x.shape}, as x_um")
    z = np.asarray(z_um, dtype=np.float64)
    if z.ndim == 1:
        z = np.broadcast_to(z, (x.size, z.size))
    if z.ndim != 2 or z.shape[0] != x.size:
        allowed = f"(n_sections,) or ({x.size}, n_sections)"
        raise ValidationError("z_um", f"shape {np.shape(z_um)}", allowed)
    for name, arr in (("x_um", x), ("y_um", y), ("z_um", z)):
        if not np.all(np.isfinite(arr)):
            raise ValidationError(name, "non-finite values", "finite positions in µm")
    return x, y, np.ascontiguousarray(z)


def _array_digest(*arrays: FloatArray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        c = np.ascontiguousarray(a, dtype=np.float64)
        h.update(str(c.shape).encode())
        h.update(c.tobytes())
    return h.hexdigest()


@dataclass(frozen=True)
class AnalyticField:
    """Superposition of the electrode's point sources in a homogeneous medium.

    Attributes
    ----------
    electrode
        A :class:`~openvns.nerve.geometry.PointSource`, a
        :class:`~openvns.nerve.geometry.HelicalCuff` or any :class:`Electrode`.
    medium
        The conductor.
    image_factor
        Multiplier for an insulating wall through the sources (1: none; 2: the tangent-plane
        image of a cuff wall, see the module docstring). Default 1.

    Results of :meth:`potentials` are cached on the object (keyed by a hash of the fibre
    coordinates), so a geometry's field is computed once.
    """

    electrode: Electrode
    medium: Medium
    image_factor: float = 1.0
    _cache: dict[str, FloatArray] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        f = self.image_factor
        if isinstance(f, bool) or not isinstance(f, int | float) or not math.isfinite(f) or f <= 0:
            raise ValidationError("image_factor", f, "a finite number > 0 (1 or 2)")

    @classmethod
    def cuff(cls, electrode: Electrode, medium: Medium | None = None) -> AnalyticField:
        """The cuff field: endoneurium medium and the image factor of ``data/cuff.yaml``."""
        cfg = data_files.load("cuff.yaml")["helical_cuff"]
        factor = float(data_files.value(cfg["image_factor"]))
        return cls(electrode, medium or Medium.endoneurium(), factor)

    def potentials(self, x_um: FloatArray, y_um: FloatArray, z_um: FloatArray) -> FloatArray:
        x, y, z = _fibre_arrays(x_um, y_um, z_um)
        digest = _array_digest(x, y, z)
        hit = self._cache.get(digest)
        if hit is not None:
            return hit.copy()
        src, w = self.electrode.sources()
        sx, sy, sz = self.medium.sigma_S_per_m
        from openvns.nerve.kernels.superpose import superpose  # numba: loaded on first use

        out = superpose(
            x,
            y,
            z,
            np.ascontiguousarray(src),
            np.ascontiguousarray(w),
            sy * sz,
            sx * sz,
            sx * sy,
            MV_PER_MA_UM_S * self.image_factor,
        )
        if not np.all(np.isfinite(out)):
            bad = int(np.flatnonzero(~np.all(np.isfinite(out), axis=1))[0])
            raise ValidationError(
                f"fibre[{bad}] position_um",
                (float(x[bad]), float(y[bad])),
                "a position that does not coincide with a source of the electrode",
            )
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))
        self._cache[digest] = out
        return out.copy()

    def key(self) -> dict[str, Any]:
        return {
            "method": "analytic-point-superposition/1",
            "electrode": self.electrode.key(),
            "sigma_S_per_m": list(self.medium.sigma_S_per_m),
            "image_factor": self.image_factor,
        }


@dataclass(frozen=True)
class ExternalPotentials:
    """Potentials computed elsewhere (e.g. FEM), one row per fibre, in mV per mA.

    Attributes
    ----------
    ve_mV_per_mA
        ``(n_fibres, n_sections)`` array of finite values: the potential at each section of
        each fibre for 1 mA of electrode current.
    """

    ve_mV_per_mA: FloatArray

    def __post_init__(self) -> None:
        arr = np.asarray(self.ve_mV_per_mA, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
            raise ValidationError(
                "ve_mV_per_mA", f"shape {arr.shape}", "a 2-D array (n_fibres, n_sections)"
            )
        finite = np.isfinite(arr)
        if not finite.all():
            i, j = (int(v) for v in np.argwhere(~finite)[0])
            raise ValidationError(
                f"ve_mV_per_mA[{i}, {j}]", float(arr[i, j]), "finite potentials (mV/mA)"
            )
        arr = arr.copy()
        arr.setflags(write=False)
        object.__setattr__(self, "ve_mV_per_mA", arr)

    @property
    def shape(self) -> tuple[int, int]:
        n, m = self.ve_mV_per_mA.shape
        return int(n), int(m)

    def check(self, n_fibres: int, n_sections: int) -> None:
        """Raise :class:`ValidationError` unless the array is ``(n_fibres, n_sections)``."""
        if self.shape != (n_fibres, n_sections):
            raise ValidationError(
                "ve_mV_per_mA",
                f"shape {self.shape}",
                f"shape ({n_fibres}, {n_sections}): one row per fibre, one column per section",
            )

    def potentials(self, x_um: FloatArray, y_um: FloatArray, z_um: FloatArray) -> FloatArray:
        """The stored rows, after checking that they match the fibres asked for."""
        x, _y, z = _fibre_arrays(x_um, y_um, z_um)
        self.check(x.size, z.shape[1])
        return np.array(self.ve_mV_per_mA)

    def key(self) -> dict[str, Any]:
        return {"method": "external/1", "sha256": _array_digest(self.ve_mV_per_mA)}


def field_digest(model: FieldModel) -> str:
    """SHA-256 of a field's :meth:`FieldModel.key` (canonical JSON)."""
    text = json.dumps(model.key(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
