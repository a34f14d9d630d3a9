"""Nerve cross-section, fibre positions and electrodes.

Coordinates are in µm. The nerve is a cylinder along ``z`` (the fibre axis), its cross-section
centred on the origin of the ``(x, y)`` plane. A :class:`Fascicle` is an ellipse (a circle by
default) of endoneurium wrapped in perineurium whose thickness follows the species fit of
``data/anatomy.yaml`` (human: ``t = 0.03702 d + 10.50`` µm, ASCENT/Pelot 2020); the space
between the fascicles and the nerve's outer circle is epineurium. A :class:`Nerve` refuses a
fascicle that leaves it or overlaps another; :func:`check_fibres_inside` refuses a fibre that is
not inside its fascicle's endoneurium with a margin.

Electrodes are described by the point sources that carry their current, per 1 mA of programmed
current (:meth:`PointSource.sources`, :meth:`HelicalCuff.sources`); the field is computed from
them in :mod:`openvns.nerve.field`. :meth:`HelicalCuff.from_lead` builds the bipolar helical cuff
of the catalogue leads (2 mm and 3 mm) from the catalogue's lead geometry and ``data/cuff.yaml``.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from openvns.device.catalogue import LeadModel
from openvns.device.catalogue import lead as catalogue_lead
from openvns.errors import ValidationError
from openvns.nerve import data_files

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Points on an ellipse outline used for containment and overlap checks.
_OUTLINE_POINTS = 720


def _finite(name: str, x: Any, allowed: str = "a finite number") -> float:
    if isinstance(x, bool) or not isinstance(x, int | float | np.floating | np.integer):
        raise ValidationError(name, x, allowed)
    if not math.isfinite(float(x)):
        raise ValidationError(name, x, allowed)
    return float(x)


def _positive(name: str, x: Any) -> float:
    if _finite(name, x, "a finite number > 0") <= 0:
        raise ValidationError(name, x, "a finite number > 0")
    return float(x)


def perineurium_thickness_um(diameter_um: float, species: str = "human") -> float:
    """Perineurium thickness of a fascicle of endoneurial diameter ``diameter_um``, in µm.

    ``t = slope * d + intercept`` with the fits of ``data/anatomy.yaml`` (human
    ``0.03702 d + 10.50``; pig, rat and the somatic rule also available).
    """
    fits = data_files.load("anatomy.yaml")["perineurium_thickness_fit"]
    if species not in fits:
        raise ValidationError("species", species, "one of " + ", ".join(fits))
    d = _positive("diameter_um", diameter_um)
    fit = fits[species]
    return float(fit["slope"]) * d + float(fit["intercept_um"])


# ----------------------------------------------------------------------------- fascicles
@dataclass(frozen=True)
class Fascicle:
    """A fascicle: an ellipse of endoneurium inside a perineurium of uniform thickness.

    Attributes
    ----------
    x_um, y_um
        Centre, in µm.
    rx_um, ry_um
        Semi-axes of the endoneurium, in µm (equal for a circle).
    angle_deg
        Rotation of the ``rx`` axis from ``x``, in degrees.
    perineurium_um
        Thickness of the perineurium, in µm. The outer boundary is taken as the ellipse of
        semi-axes ``rx + t``, ``ry + t`` (the exact offset curve of an ellipse is not an
        ellipse; the difference is second order in ``t / r``).
    """

    x_um: float
    y_um: float
    rx_um: float
    ry_um: float
    perineurium_um: float
    angle_deg: float = 0.0

    def __post_init__(self) -> None:
        _finite("x_um", self.x_um)
        _finite("y_um", self.y_um)
        _positive("rx_um", self.rx_um)
        _positive("ry_um", self.ry_um)
        _finite("angle_deg", self.angle_deg)
        if _finite("perineurium_um", self.perineurium_um, "a finite number ≥ 0") < 0:
            raise ValidationError("perineurium_um", self.perineurium_um, "a finite number ≥ 0")

    @classmethod
    def circle(
        cls,
        x_um: float,
        y_um: float,
        diameter_um: float,
        *,
        perineurium_um: float | None = None,
        species: str = "human",
    ) -> Fascicle:
        """A circular fascicle of endoneurial diameter ``diameter_um``.

        The perineurium thickness defaults to the species fit
        (:func:`perineurium_thickness_um`).
        """
        d = _positive("diameter_um", diameter_um)
        t = perineurium_thickness_um(d, species) if perineurium_um is None else perineurium_um
        return cls(x_um, y_um, d / 2.0, d / 2.0, t)

    @property
    def diameter_um(self) -> float:
        """Diameter of the circle with the same endoneurial area, in µm."""
        return 2.0 * math.sqrt(self.rx_um * self.ry_um)

    @property
    def area_um2(self) -> float:
        """Endoneurial area, in µm²."""
        return math.pi * self.rx_um * self.ry_um

    def _to_local(self, x_um: FloatArray, y_um: FloatArray) -> tuple[FloatArray, FloatArray]:
        c, s = math.cos(math.radians(self.angle_deg)), math.sin(math.radians(self.angle_deg))
        dx, dy = np.asarray(x_um) - self.x_um, np.asarray(y_um) - self.y_um
        return c * dx + s * dy, -s * dx + c * dy

    def from_unit(self, u_r: FloatArray, u_theta: FloatArray, margin_um: float) -> FloatArray:
        """Map points of the unit square onto the endoneurium shrunk by ``margin_um``.

        Uniform ``(u_r, u_theta)`` give points uniform over the area (``r = sqrt(u_r)``);
        returns an ``(n, 2)`` array of ``(x, y)`` in µm.
        """
        ax, ay = self.rx_um - margin_um, self.ry_um - margin_um
        if ax <= 0 or ay <= 0:
            allowed = f"< {min(self.rx_um, self.ry_um):g} µm (the fascicle's smaller semi-axis)"
            raise ValidationError("margin_um", margin_um, allowed)
        r = np.sqrt(np.asarray(u_r, dtype=np.float64))
        th = 2.0 * np.pi * np.asarray(u_theta, dtype=np.float64)
        lx, ly = ax * r * np.cos(th), ay * r * np.sin(th)
        c, s = math.cos(math.radians(self.angle_deg)), math.sin(math.radians(self.angle_deg))
        return np.column_stack((self.x_um + c * lx - s * ly, self.y_um + s * lx + c * ly))

    def contains(
        self, x_um: FloatArray, y_um: FloatArray, margin_um: float | FloatArray = 0.0
    ) -> NDArray[np.bool_]:
        """Whether points lie inside the endoneurium shrunk by ``margin_um`` (scalar or per
        point)."""
        lx, ly = self._to_local(x_um, y_um)
        ax = self.rx_um - np.asarray(margin_um, dtype=np.float64)
        ay = self.ry_um - np.asarray(margin_um, dtype=np.float64)
        ok = (ax > 0) & (ay > 0)
        sx, sy = np.where(ok, ax, 1.0), np.where(ok, ay, 1.0)
        return np.asarray(ok & ((lx / sx) ** 2 + (ly / sy) ** 2 <= 1.0))

    def outline(self, outer: bool = True, n: int = _OUTLINE_POINTS) -> FloatArray:
        """``(n, 2)`` points on the outer (perineurium) or inner (endoneurium) boundary."""
        t = self.perineurium_um if outer else 0.0
        th = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
        lx, ly = (self.rx_um + t) * np.cos(th), (self.ry_um + t) * np.sin(th)
        c, s = math.cos(math.radians(self.angle_deg)), math.sin(math.radians(self.angle_deg))
        return np.column_stack((self.x_um + c * lx - s * ly, self.y_um + s * lx + c * ly))

    def contains_outer(self, x_um: FloatArray, y_um: FloatArray) -> NDArray[np.bool_]:
        """Whether points lie inside the outer (perineurium) boundary."""
        lx, ly = self._to_local(x_um, y_um)
        ax, ay = self.rx_um + self.perineurium_um, self.ry_um + self.perineurium_um
        return np.asarray((lx / ax) ** 2 + (ly / ay) ** 2 < 1.0)


@dataclass(frozen=True)
class Nerve:
    """A nerve cross-section: a circle of epineurium holding fascicles.

    Attributes
    ----------
    diameter_um
        Outer diameter of the nerve (epineurium), in µm; centred on the origin.
    fascicles
        The fascicles; each must lie entirely inside the nerve and not overlap another.

    Raises
    ------
    ValidationError
        For a non-positive diameter, no fascicles, a fascicle whose perineurium leaves the
        nerve, or two overlapping fascicles; the message names the fascicle and the limit.
    """

    diameter_um: float
    fascicles: tuple[Fascicle, ...]

    def __post_init__(self) -> None:
        radius = _positive("diameter_um", self.diameter_um) / 2.0
        if not self.fascicles:
            raise ValidationError("fascicles", self.fascicles, "at least one fascicle")
        for i, fas in enumerate(self.fascicles):
            pts = fas.outline(outer=True)
            reach = float(np.max(np.hypot(pts[:, 0], pts[:, 1])))
            if reach > radius * (1.0 + 1e-9):
                raise ValidationError(
                    f"fascicles[{i}]",
                    f"centre ({fas.x_um:g}, {fas.y_um:g}) µm reaching {reach:.1f} µm from the "
                    "nerve centre",
                    f"a fascicle (with its perineurium) within the nerve radius {radius:g} µm",
                )
        for i, a in enumerate(self.fascicles):
            pa = a.outline(outer=True)
            for j in range(i + 1, len(self.fascicles)):
                b = self.fascicles[j]
                pb = b.outline(outer=True)
                if np.any(b.contains_outer(pa[:, 0], pa[:, 1])) or np.any(
                    a.contains_outer(pb[:, 0], pb[:, 1])
                ):
                    raise ValidationError(
                        f"fascicles[{j}]",
                        f"centre ({b.x_um:g}, {b.y_um:g}) µm",
                        f"a fascicle that does not overlap fascicles[{i}]",
                    )

    @property
    def radius_um(self) -> float:
        return self.diameter_um / 2.0

    @property
    def endoneurial_area_um2(self) -> float:
        """Total endoneurial area, in µm²."""
        return float(sum(f.area_um2 for f in self.fascicles))

    def digest(self) -> str:
        """SHA-256 of the cross-section (diameter and every fascicle's values), for cache keys."""
        fascicles = [(f.x_um, f.y_um, f.rx_um, f.ry_um, f.perineurium_um, f.angle_deg)
                     for f in self.fascicles]  # fmt: skip
        text = json.dumps({"d": self.diameter_um, "f": fascicles}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def check_fibres_inside(
    nerve: Nerve,
    x_um: FloatArray,
    y_um: FloatArray,
    fascicle_index: IntArray,
    margin_um: float | FloatArray = 0.0,
) -> None:
    """Raise :class:`ValidationError` unless every fibre lies in its fascicle's endoneurium.

    Parameters
    ----------
    nerve
        The nerve.
    x_um, y_um
        Fibre positions, in µm.
    fascicle_index
        Index of each fibre's fascicle in ``nerve.fascicles``.
    margin_um
        Distance the fibre must keep from the perineurium, in µm (scalar or per fibre).
    """
    x, y = np.asarray(x_um, dtype=np.float64), np.asarray(y_um, dtype=np.float64)
    idx = np.asarray(fascicle_index)
    if not (x.shape == y.shape == idx.shape) or x.ndim != 1:
        shapes = f"x {x.shape}, y {y.shape}, fascicle_index {idx.shape}"
        raise ValidationError("fibre positions", shapes, "three 1-D arrays of the same length")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        bad = int(np.flatnonzero(~(np.isfinite(x) & np.isfinite(y)))[0])
        raise ValidationError(f"fibre[{bad}] position_um", (x[bad], y[bad]), "finite numbers")
    n_fas = len(nerve.fascicles)
    if idx.size and (idx.min() < 0 or idx.max() >= n_fas):
        bad = int(np.flatnonzero((idx < 0) | (idx >= n_fas))[0])
        raise ValidationError(f"fibre[{bad}] fascicle", int(idx[bad]), f"0 … {n_fas - 1}")
    margin = np.broadcast_to(np.asarray(margin_um, dtype=np.float64), x.shape)
    r = np.hypot(x, y)
    outside_nerve = r > nerve.radius_um
    inside = np.zeros(x.shape, dtype=bool)
    for k, fas in enumerate(nerve.fascicles):
        sel = idx == k
        inside[sel] = fas.contains(x[sel], y[sel], margin[sel])
    if np.all(inside):
        return
    bad = int(np.flatnonzero(~inside)[0])
    fas = nerve.fascicles[int(idx[bad])]
    where = "outside the nerve" if outside_nerve[bad] else f"not inside fascicle {int(idx[bad])}"
    raise ValidationError(
        f"fibre[{bad}] position_um",
        f"({x[bad]:.1f}, {y[bad]:.1f}) ({where})",
        f"a point of fascicle {int(idx[bad])}'s endoneurium (centre ({fas.x_um:g}, "
        f"{fas.y_um:g}) µm, semi-axes {fas.rx_um:g} × {fas.ry_um:g} µm) at least "
        f"{float(margin[bad]):g} µm from its perineurium, inside the nerve radius "
        f"{nerve.radius_um:g} µm",
    )


def layout_fascicles(
    diameters_um: FloatArray,
    nerve_diameter_um: float,
    rng: np.random.Generator,
    *,
    epineurium_min_um: float,
    gap_min_um: float,
    species: str = "human",
    restarts: int = 50,
    iterations: int = 3000,
) -> tuple[Fascicle, ...]:
    """Place circular fascicles in a nerve without overlap, reproducibly from ``rng``.

    Random start positions are relaxed (overlapping pairs pushed apart, fascicles pulled back
    inside the nerve) until no constraint is violated. Each fascicle keeps at least
    ``epineurium_min_um`` of epineurium to the nerve's edge and ``gap_min_um`` to its
    neighbours (outer perineurium boundaries).

    Raises
    ------
    ValidationError
        If the fascicles do not fit after ``restarts`` attempts.
    """
    d = np.asarray(diameters_um, dtype=np.float64)
    r_out = d / 2.0 + np.array([perineurium_thickness_um(float(x), species) for x in d])
    avail = nerve_diameter_um / 2.0 - epineurium_min_um
    if np.any(r_out > avail):
        raise ValidationError(
            "fascicle diameters_um",
            d.tolist(),
            f"fascicles (with perineurium) narrower than {2 * avail:g} µm to fit the nerve",
        )
    n = d.size
    for _ in range(restarts):
        rr = (avail - r_out) * np.sqrt(rng.random(n))
        th = 2.0 * np.pi * rng.random(n)
        p = np.column_stack((rr * np.cos(th), rr * np.sin(th)))
        for _ in range(iterations):
            diff = p[:, None, :] - p[None, :, :]
            dist = np.hypot(diff[..., 0], diff[..., 1])
            need = r_out[:, None] + r_out[None, :] + gap_min_um
            np.fill_diagonal(need, 0.0)
            over = np.clip(need - dist, 0.0, None)
            np.fill_diagonal(over, 0.0)
            rad = np.hypot(p[:, 0], p[:, 1])
            out = np.clip(rad - (avail - r_out), 0.0, None)
            if not over.any() and not out.any():
                fascicles = tuple(
                    Fascicle.circle(float(x), float(y), float(di), species=species)
                    for (x, y), di in zip(p, d, strict=True)
                )
                return fascicles
            safe = np.where(dist > 0, dist, 1.0)
            unit = diff / safe[..., None]
            p = p + 0.5 * np.sum(over[..., None] * unit, axis=1) * 1.01
            rad = np.hypot(p[:, 0], p[:, 1])
            lim = avail - r_out
            scale = np.where(rad > lim, lim / np.where(rad > 0, rad, 1.0), 1.0)
            p = p * scale[:, None]
    raise ValidationError(
        "fascicle diameters_um",
        np.round(d, 1).tolist(),
        f"fascicles that can be packed into a {nerve_diameter_um:g} µm nerve",
    )


# ----------------------------------------------------------------------------- electrodes
class Electrode(Protocol):
    """Anything that can say which point sources carry its current."""

    def sources(self) -> tuple[FloatArray, FloatArray]:
        """``(xyz_um (m, 3), weight (m,))``: positions and current per mA of programmed current.

        A weight of +1 carries the programmed (signed) waveform current itself: negative,
        cathodic, in the stimulating phase.
        """
        ...

    def key(self) -> dict[str, Any]:
        """A JSON-able description that identifies the electrode (for cache keys)."""
        ...


@dataclass(frozen=True)
class PointSource:
    """A monopolar point source at ``(x_um, y_um, z_um)`` carrying the programmed current."""

    x_um: float
    y_um: float
    z_um: float = 0.0

    def __post_init__(self) -> None:
        for name in ("x_um", "y_um", "z_um"):
            _finite(name, getattr(self, name))

    def sources(self) -> tuple[FloatArray, FloatArray]:
        xyz = np.array([[self.x_um, self.y_um, self.z_um]], dtype=np.float64)
        return xyz, np.ones(1, dtype=np.float64)

    def key(self) -> dict[str, Any]:
        return {"kind": "point", "xyz_um": [self.x_um, self.y_um, self.z_um]}


CathodeSide = Literal["cranial", "caudal"]


@dataclass(frozen=True)
class HelicalCuff:
    """The bipolar helical cuff: two helical ribbon contacts on a cylinder.

    Each contact is a ribbon of width ``contact_width_um`` wound along a helix of pitch
    ``pitch_um`` over ``contact_arc_deg`` on the cuff's inner surface (radius
    ``inner_diameter_um / 2``); the contact centres are ``separation_um`` apart along ``z``,
    symmetric about ``z_center_um``. The ribbon is discretised into point sources on a grid no
    coarser than ``source_spacing_um`` that share the contact current equally (a uniform current
    density: the edge concentration of a real equipotential contact is not modelled). The
    cathode (weight ``+1/m`` per point, i.e. carrying the programmed waveform) is on the
    ``cathode_side`` of the cuff, the anode (``-1/m``) on the other: bipolar, net zero.

    Attributes
    ----------
    inner_diameter_um, contact_width_um, contact_arc_deg, pitch_um, separation_um
        Geometry (µm, degrees).
    cathode_side
        ``"cranial"`` (+z) or ``"caudal"`` (-z).
    z_center_um, rotation_deg
        Axial position of the midpoint between the contacts and rotation of the contacts about
        the nerve axis (start angle of the helices).
    source_spacing_um
        Largest spacing of the point sources on a ribbon.
    """

    inner_diameter_um: float
    contact_width_um: float
    contact_arc_deg: float
    pitch_um: float
    separation_um: float
    cathode_side: CathodeSide = "cranial"
    z_center_um: float = 0.0
    rotation_deg: float = 0.0
    source_spacing_um: float = 50.0
    _points: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in (
            "inner_diameter_um",
            "contact_width_um",
            "contact_arc_deg",
            "pitch_um",
            "separation_um",
            "source_spacing_um",
        ):
            _positive(name, getattr(self, name))
        _finite("z_center_um", self.z_center_um)
        _finite("rotation_deg", self.rotation_deg)
        if self.cathode_side not in ("cranial", "caudal"):
            raise ValidationError("cathode_side", self.cathode_side, "'cranial' or 'caudal'")
        if self.contact_arc_deg > 720:
            raise ValidationError("contact_arc_deg", self.contact_arc_deg, "0 < arc ≤ 720°")
        extent = self.pitch_um * self.contact_arc_deg / 360.0 + self.contact_width_um
        if extent >= self.separation_um:
            raise ValidationError(
                "separation_um",
                self.separation_um,
                f"> {extent:g} µm, the axial extent of one contact (contacts must not overlap)",
            )

    @classmethod
    def from_lead(cls, lead: str | LeadModel = "2mm", **overrides: Any) -> HelicalCuff:
        """The cuff of a catalogue helical lead (``"2mm"``, ``"3mm"``, ``"304-20"``, ...).

        Contact width, separation and inner diameter come from the device catalogue; the contact
        arc, helix pitch, cathode side and source spacing from ``data/cuff.yaml``. Keyword
        ``overrides`` replace any attribute.
        """
        model = catalogue_lead(lead) if isinstance(lead, str) else lead
        if model.kind != "helical" or model.geometry is None or model.inner_diameter_mm is None:
            raise ValidationError("lead", model.id, "a helical cuff lead (2 mm or 3 mm)")
        cfg = data_files.load("cuff.yaml")["helical_cuff"]
        inner_mm = float(model.inner_diameter_mm.value)
        arcs = cfg["contact_arc_deg"]
        key = f"{inner_mm:.1f}"
        if key not in arcs:
            raise ValidationError("lead inner_diameter_mm", inner_mm, "one of " + ", ".join(arcs))
        geo = model.geometry
        params: dict[str, Any] = {
            "inner_diameter_um": inner_mm * 1000.0,
            "contact_width_um": float(geo.contact_width_mm.value) * 1000.0,
            "contact_arc_deg": float(data_files.value(arcs[key])),
            "pitch_um": float(data_files.value(cfg["helix_pitch_mm"])) * 1000.0,
            "separation_um": float(geo.contact_separation_mm.value) * 1000.0,
            "cathode_side": str(data_files.value(cfg["cathode_side"])),
            "source_spacing_um": float(data_files.value(cfg["source_spacing_um"])),
        }
        params.update(overrides)
        return cls(**params)

    @property
    def radius_um(self) -> float:
        return self.inner_diameter_um / 2.0

    def contact_points(self, contact: Literal["cathode", "anode"]) -> FloatArray:
        """``(m, 3)`` point sources (cell centres) discretising one contact ribbon, in µm."""
        if contact in self._points:
            return np.asarray(self._points[contact])
        a = self.radius_um
        sign = 1.0 if (contact == "cathode") == (self.cathode_side == "cranial") else -1.0
        zc = self.z_center_um + sign * self.separation_um / 2.0
        arc = math.radians(self.contact_arc_deg)
        rise = self.pitch_um / (2.0 * math.pi)  # dz per radian
        length = arc * math.hypot(a, rise)  # centreline length of the ribbon
        n_s = max(1, math.ceil(length / self.source_spacing_um))
        n_w = max(1, math.ceil(self.contact_width_um / self.source_spacing_um))
        s = (np.arange(n_s) + 0.5) / n_s  # fraction along the ribbon
        u = ((np.arange(n_w) + 0.5) / n_w - 0.5) * self.contact_width_um  # across the ribbon
        phi = (s - 0.5) * arc  # centreline angle relative to the contact's middle
        # Unrolled surface (arc length a*phi, z): tangent ∝ (a, rise), in-surface normal below.
        norm = math.hypot(a, rise)
        n_arc, n_z = -rise / norm, a / norm
        arc_pos = a * phi[:, None] + u[None, :] * n_arc
        z_pos = zc + rise * phi[:, None] + u[None, :] * n_z
        ang = arc_pos / a + math.radians(self.rotation_deg)
        pts = np.column_stack(
            (a * np.cos(ang).ravel(), a * np.sin(ang).ravel(), z_pos.ravel())
        ).astype(np.float64)
        self._points[contact] = pts
        return pts

    def sources(self) -> tuple[FloatArray, FloatArray]:
        cat, an = self.contact_points("cathode"), self.contact_points("anode")
        w = np.concatenate((np.full(len(cat), 1.0 / len(cat)), np.full(len(an), -1.0 / len(an))))
        return np.vstack((cat, an)), w

    def key(self) -> dict[str, Any]:
        return {
            "kind": "helical_cuff",
            "inner_diameter_um": self.inner_diameter_um,
            "contact_width_um": self.contact_width_um,
            "contact_arc_deg": self.contact_arc_deg,
            "pitch_um": self.pitch_um,
            "separation_um": self.separation_um,
            "cathode_side": self.cathode_side,
            "z_center_um": self.z_center_um,
            "rotation_deg": self.rotation_deg,
            "source_spacing_um": self.source_spacing_um,
        }

    def check_nerve_fits(self, nerve: Nerve) -> None:
        """Raise :class:`ValidationError` if ``nerve`` is wider than the cuff's inside."""
        if nerve.diameter_um > self.inner_diameter_um * (1.0 + 1e-9):
            raise ValidationError(
                "nerve diameter_um",
                nerve.diameter_um,
                f"≤ {self.inner_diameter_um:g} µm, the cuff's inner diameter",
            )
