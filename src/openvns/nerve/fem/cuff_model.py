"""The helical cuff on the nerve in its tissues, solved by finite elements: a field for fibres.

Geometry (``data/fem.yaml`` and ``cuff.yaml``; lengths in µm), from the axis outwards:

* each fascicle's endoneurium (anisotropic: ``σ⊥``, ``σ∥`` along the nerve) inside its
  perineurium, a thin resistive layer of conductance ``σ_peri / t`` with ``t`` from the
  fascicle's own thickness (the anatomy fit); an elliptical fascicle is meshed as the circle of
  equal area;
* the epineurium, to the nerve's radius;
* saline between the nerve and the cuff's inner wall (at least ``saline_gap_um``: a helical cuff
  narrower than the nerve opens to it);
* the silicone of the two contact helices, closed insulating tubes ``wall_thickness_um`` thick
  over each helix's axial extent (``turns_per_helix`` × pitch), left out of the mesh; the
  contacts are the helical ribbons of :class:`~openvns.nerve.geometry.HelicalCuff` on the inner
  wall, each injecting its current uniformly over the wall faces it covers;
* encapsulation tissue ``encapsulation_um`` thick around the cuff (and the nerve beyond it),
  then muscle (anisotropic) to the domain's radius, whose surface and end caps are grounded.

Each contact is solved alone at 1 mA against the grounded boundary; the cuff's bipolar field
(cathode +1 mA, anode −1 mA, the convention of the analytic field) is their difference, exact by
superposition. :func:`cuff_field` builds and solves; the result is a
:class:`~openvns.nerve.field.FieldModel` (``potentials``, ``key``) for the threshold solvers.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from openvns.nerve import data_files
from openvns.nerve.fem.interpolate import interpolate
from openvns.nerve.fem.mesh2d import Circle, triangulate
from openvns.nerve.fem.mesh3d import Mesh3D, ThinLayer, extrude, graded_levels
from openvns.nerve.fem.solve import Source, StageCallback, boundary_faces, solve_sources
from openvns.nerve.field import Medium, _fibre_arrays
from openvns.nerve.geometry import HelicalCuff, Nerve

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

__all__ = [
    "METHOD",
    "REGIONS",
    "STAGES",
    "FEMCuffField",
    "LazyFEMField",
    "StageCallback",
    "Tissues",
    "build_mesh",
    "cuff_field",
    "fem_key",
]

log = logging.getLogger(__name__)

#: Region numbers of the mesh.
REGIONS = {"muscle": 0, "encapsulation": 1, "silicone": 2, "saline": 3, "epineurium": 4,
           "endoneurium": 5}  # fmt: skip
_FASCICLE_LABEL0 = 10  # 2-D label of fascicle j: 10 + j
#: Fewest nodes on a ring of the wall.
_MIN_RING_NODES = 12
#: The method's name in the cache keys: a new number whenever the mesh or the solve changes
#: the field (2: levels graded on both sides of the helices; rings through the wall and capsule).
METHOD = "fem-p1-extruded/2"


@dataclass(frozen=True)
class Tissues:
    """Conductivities (S/m), the cuff's and the domain's dimensions and the mesh sizes (µm)."""

    endoneurium: tuple[float, float]
    perineurium: float
    epineurium: float
    saline: float
    encapsulation: float
    muscle: tuple[float, float]
    saline_gap_um: float
    turns_per_helix: float
    helix_gap_um: float
    wall_thickness_um: float
    encapsulation_um: float
    domain_radius_um: float
    domain_half_length_um: float
    h_nerve_um: float
    h_fascicle_ring_um: float
    h_z_contact_um: float
    h_outer_um: float
    growth: float
    h_wall_um: float
    h_wall_arc_um: float
    h_z_max_um: float
    gap_fill: str = "saline"

    @classmethod
    def default(cls, **changes: Any) -> Tissues:
        """The values of ``data/fem.yaml`` and ``cuff.yaml``, with ``changes``."""
        fem = data_files.load("fem.yaml")
        c = data_files.load("cuff.yaml")["conductivity_S_per_m"]
        v = data_files.value
        s = fem["conductivity_S_per_m"]
        endo = Medium.endoneurium().sigma_S_per_m
        out = cls(
            endoneurium=(endo[0], endo[2]),
            perineurium=float(v(s["perineurium"])),
            epineurium=float(v(c["epineurium"])),
            saline=float(v(c["saline"])),
            encapsulation=float(v(s["encapsulation"])),
            muscle=(float(v(s["muscle_transverse"])), float(v(s["muscle_longitudinal"]))),
            **{k: float(v(e)) for k, e in fem["cuff"].items() if k != "gap_fill"},
            gap_fill=str(v(fem["cuff"]["gap_fill"])),
            domain_radius_um=float(v(fem["domain"]["radius_um"])),
            domain_half_length_um=float(v(fem["domain"]["half_length_um"])),
            **{k: float(v(e)) for k, e in fem["mesh"].items()},
        )
        return _replace(out, changes)

    def sigma(self) -> dict[int, tuple[float, float, float]]:
        """Conductivity tensor ``(σx, σy, σz)`` per region (silicone is left out)."""
        (et, el), (mt, ml) = self.endoneurium, self.muscle
        return {
            REGIONS["muscle"]: (mt, mt, ml),
            REGIONS["encapsulation"]: (self.encapsulation,) * 3,
            REGIONS["saline"]: (self.saline,) * 3,
            REGIONS["epineurium"]: (self.epineurium,) * 3,
            REGIONS["endoneurium"]: (et, et, el),
        }


def _replace(t: Tissues, changes: dict[str, Any]) -> Tissues:
    from dataclasses import replace

    return replace(t, **changes) if changes else t


def _fascicle_circles(nerve: Nerve, tissues: Tissues) -> list[tuple[Circle, float]]:
    """Each fascicle's endoneurium as a circle or an ellipse (its own shape) and its
    perineurium's conductance."""
    out = []
    for j, f in enumerate(nerve.fascicles):
        g = tissues.perineurium / max(f.perineurium_um, 1e-3) / 1e-6  # S/m over m -> S/m²
        if f.rx_um == f.ry_um:
            r = math.sqrt(f.rx_um * f.ry_um)
            h = min(tissues.h_fascicle_ring_um, r / 4.0)
            out.append((Circle(f.x_um, f.y_um, r, _FASCICLE_LABEL0 + j, h), g))
            continue
        h = min(tissues.h_fascicle_ring_um, min(f.rx_um, f.ry_um) / 4.0)
        ellipse = Circle(f.x_um, f.y_um, f.rx_um, _FASCICLE_LABEL0 + j, h, ry_um=f.ry_um,
                         angle_deg=f.angle_deg)  # fmt: skip
        out.append((ellipse, g))
    return out


def _helix_extents(cuff: HelicalCuff, tissues: Tissues) -> list[tuple[float, float]]:
    half = 0.5 * tissues.turns_per_helix * cuff.pitch_um
    z = cuff.z_center_um
    return [(z + s * cuff.separation_um / 2 - half, z + s * cuff.separation_um / 2 + half)
            for s in (-1.0, 1.0)]  # fmt: skip


def _wall_rings(r_in: float, r_wall: float, r_cap: float, tissues: Tissues) -> list[Circle]:
    """Concentric node rings through the silicone wall and the capsule, out to ``r_cap``.

    The gaps between the silicone's turns are helical slots through the wall: their mouths'
    edges run around the nerve, where the current crowds (the field is singular there), so the
    rings are ``h_wall_um`` apart radially but their nodes ``h_wall_arc_um`` apart along them
    (at ``r_cap``); every ring has the same number of nodes at the same angles, so neighbouring
    rings make quadrilaterals and their chords are Delaunay edges.
    """
    n = max(_MIN_RING_NODES, math.ceil(2 * math.pi * r_cap / tissues.h_wall_arc_um))
    out = []
    for r0, r1, label in ((r_in, r_wall, REGIONS["silicone"]),
                          (r_wall, r_cap, REGIONS["encapsulation"])):  # fmt: skip
        m = max(1, round((r1 - r0) / tissues.h_wall_um))
        for k in range(1, m + 1):
            rho = r0 + (r1 - r0) * k / m
            out.append(Circle(0, 0, rho, label, 2 * math.pi * rho / (n - 0.5)))
    return out


def build_mesh(nerve: Nerve, cuff: HelicalCuff, tissues: Tissues) -> tuple[Mesh3D, float]:
    """The mesh of the model and the cuff's inner radius used (µm)."""
    r_n = nerve.radius_um
    r_in = max(cuff.radius_um, r_n + tissues.saline_gap_um)
    r_wall = r_in + tissues.wall_thickness_um
    r_cap = r_wall + tissues.encapsulation_um
    big = tissues.domain_radius_um
    h = tissues.h_nerve_um
    gap_ring = min(h, max(5.0, tissues.saline_gap_um))
    fasc = _fascicle_circles(nerve, tissues)
    wall_rings = _wall_rings(r_in, r_wall, r_cap, tissues)
    circles = [
        Circle(0, 0, big, REGIONS["muscle"], tissues.h_outer_um),
        wall_rings[-1],  # r_cap
        next(c for c in wall_rings if c.r_um == r_wall),
        Circle(0, 0, r_in, REGIONS["saline"], min(h, 2 * gap_ring)),
        Circle(0, 0, r_n, REGIONS["epineurium"], min(h, 2 * gap_ring)),
        *(c for c, _ in fasc),  # circles 5 + j: the fascicles' thin layers below
        *(c for c in wall_rings if c.r_um not in (r_wall, r_cap)),
    ]
    # the rings alone fill the wall and the capsule (the lattice there falls within their
    # clearance); outside the capsule the spacing grows geometrically (by `growth` per ring of
    # elements) up to h_outer: O(log R) rings for the far field
    spacing = [(0.0, h), (r_in + min(tissues.h_wall_arc_um, 2 * h), tissues.h_wall_arc_um)]
    r, step = r_cap, tissues.h_wall_arc_um
    while r < big and step < tissues.h_outer_um:
        r += step
        step = min(tissues.h_outer_um, step * tissues.growth)
        spacing.append((r, step))
    section = triangulate(circles, REGIONS["muscle"], spacing)
    helices = _helix_extents(cuff, tissues)
    zc = cuff.z_center_um
    levels = graded_levels(helices, tissues.h_z_contact_um, zc - tissues.domain_half_length_um,
                           zc + tissues.domain_half_length_um, growth=tissues.growth,
                           h_max_um=tissues.h_z_max_um)  # fmt: skip
    levels = np.unique(np.concatenate([levels, [z for ab in helices for z in ab]]))

    # each triangle's angle from the helices' start (the contacts' rotation)
    centroid = section.points_um[section.triangles].mean(axis=1)
    theta = np.arctan2(centroid[:, 1], centroid[:, 0]) - math.radians(cuff.rotation_deg)
    rise = cuff.pitch_um / (2.0 * math.pi)
    fill = REGIONS[tissues.gap_fill]

    def region_of(labels: IntArray, z_mid: FloatArray) -> IntArray:
        in_cuff = np.zeros(len(z_mid), dtype=bool)
        for a, b in helices:
            in_cuff |= (z_mid > a) & (z_mid < b)
        base = np.asarray(labels).copy()
        base[base >= _FASCICLE_LABEL0] = REGIONS["endoneurium"]
        out = np.broadcast_to(base, (len(z_mid), len(base))).copy()
        cuff_only = (base == REGIONS["silicone"]) | (base == REGIONS["saline"])
        out[np.ix_(~in_cuff, cuff_only)] = REGIONS["encapsulation"]
        # the gaps between the silicone's turns: a helical band half a pitch from the ribbon's
        # centreline (the contacts sit on the ribbon), filled with gap_fill
        silicone = base == REGIONS["silicone"]
        if tissues.helix_gap_um > 0 and silicone.any():
            zc = cuff.z_center_um + np.where(z_mid > cuff.z_center_um, 1.0, -1.0)[:, None] * (
                cuff.separation_um / 2.0
            )
            phase = np.mod(z_mid[:, None] - zc - rise * theta[None, :], cuff.pitch_um)
            gap = np.abs(phase - cuff.pitch_um / 2.0) < tissues.helix_gap_um / 2.0
            out[in_cuff[:, None] & silicone[None, :] & gap] = fill
        return out

    layers = [ThinLayer(5 + j, c.label, g) for j, (c, g) in enumerate(fasc)]
    mesh = extrude(section, levels, region_of, layers=layers, insulators=[REGIONS["silicone"]])
    return mesh, r_in


def _contact_faces(
    mesh: Mesh3D, cuff: HelicalCuff, r_in: float, which: str, faces: IntArray | None = None
) -> IntArray:
    """Faces of the cuff's inner wall under one contact ribbon (by their centroids), among the
    mesh's boundary ``faces`` (found when not given)."""
    faces = boundary_faces(mesh) if faces is None else faces
    c = mesh.points_um[faces].mean(axis=1)
    p = mesh.points_um[faces]
    r_vertex = np.hypot(p[:, :, 0], p[:, :, 1])
    # every vertex on the wall's circle (its nodes lie on it to rounding): never a fascicle's
    # perineurium faces, however close a fascicle comes to the wall
    on_wall = np.all(np.abs(r_vertex - r_in) < 1e-6 * r_in, axis=1)
    sign = 1.0 if (which == "cathode") == (cuff.cathode_side == "cranial") else -1.0
    zc = cuff.z_center_um + sign * cuff.separation_um / 2.0
    arc = math.radians(cuff.contact_arc_deg)
    rise = cuff.pitch_um / (2.0 * math.pi)
    phi = np.angle(np.exp(1j * (np.arctan2(c[:, 1], c[:, 0]) - math.radians(cuff.rotation_deg))))
    across = np.abs(c[:, 2] - zc - rise * phi) * r_in / math.hypot(r_in, rise)
    hit = on_wall & (np.abs(phi) <= arc / 2) & (across <= cuff.contact_width_um / 2)
    return np.asarray(faces[hit], dtype=np.int64)


@dataclass(frozen=True)
class FEMCuffField:
    """The bipolar field of a helical cuff from the finite-element model (mV per mA)."""

    nerve: Nerve
    cuff: HelicalCuff
    tissues: Tissues
    mesh: Mesh3D = field(repr=False)
    cathode_mV: FloatArray = field(repr=False)
    anode_mV: FloatArray = field(repr=False)

    def potentials(self, x_um: FloatArray, y_um: FloatArray, z_um: FloatArray) -> FloatArray:
        """``(n_fibres, n_sections)`` mV per mA of the cuff's bipolar current."""
        x, y, z = _fibre_arrays(x_um, y_um, z_um)
        xx = np.broadcast_to(x[:, None], z.shape)
        yy = np.broadcast_to(y[:, None], z.shape)
        bipolar = self.cathode_mV - self.anode_mV
        return interpolate(self.mesh, bipolar, xx, yy, z)

    def key(self) -> dict[str, Any]:
        return fem_key(self.nerve, self.cuff, self.tissues)


def fem_key(nerve: Nerve, cuff: HelicalCuff, tissues: Tissues) -> dict[str, Any]:
    """What identifies a finite-element field (for cache keys): method, electrode, the nerve's
    cross-section (digest) and every tissue, domain and mesh value."""
    circles = all(f.rx_um == f.ry_um for f in nerve.fascicles)
    return {
        # elliptical fascicles are meshed as ellipses since "+ellipses/1" (before: the circle
        # of equal area); circular ones as before, so their keys are unchanged
        "method": METHOD if circles else f"{METHOD}+ellipses/1",
        "electrode": cuff.key(),
        "nerve": nerve.digest(),
        "tissues": dict(tissues.__dict__),
    }


@dataclass
class LazyFEMField:
    """A finite-element field solved on the first call of :meth:`potentials` (a table read from
    the cache never pays for it); its :meth:`key` needs no solve.

    ``progress(done, total)`` is called after each contact's solve, ``stage(name, done,
    total)`` as each stage starts (see :func:`cuff_field`); neither is part of the key.
    """

    nerve: Nerve
    cuff: HelicalCuff
    tissues: Tissues
    progress: Callable[[int, int], None] | None = None
    _solved: FEMCuffField | None = None
    stage: StageCallback | None = None

    def potentials(self, x_um: FloatArray, y_um: FloatArray, z_um: FloatArray) -> FloatArray:
        """As :meth:`FEMCuffField.potentials` (meshing and solving first, once)."""
        if self._solved is None:
            self._solved = cuff_field(self.nerve, self.cuff, self.tissues,
                                      progress=self.progress, stage=self.stage)  # fmt: skip
        return self._solved.potentials(x_um, y_um, z_um)

    def key(self) -> dict[str, Any]:
        return fem_key(self.nerve, self.cuff, self.tissues)


#: The stages :func:`cuff_field` reports, in order (then ``"done"``).
STAGES = ("meshing", "assembling", "solving cathode", "solving anode")


def cuff_field(
    nerve: Nerve,
    cuff: HelicalCuff,
    tissues: Tissues | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    stage: StageCallback | None = None,
) -> FEMCuffField:
    """Mesh and solve the model of ``nerve`` in ``cuff`` (see the module documentation).

    Parameters
    ----------
    progress
        ``progress(done, total)`` after each contact's solve (``total`` 2).
    stage
        ``stage(name, done, total)`` as each of :data:`STAGES` starts (``done`` of ``total``
        = 4 finished), then ``stage("done", 4, 4)``: for a progress display (the same stages
        are logged at INFO on this module's logger). The whole takes about a minute and a half
        with the default mesh on two cores; the two solves are most of it.
    """
    t = tissues or Tissues.default()
    total = len(STAGES)

    def tell(name: str, done: int) -> None:
        log.info("fem: %s (%d/%d)", name, done + 1, total)
        if stage is not None:
            stage(name, done, total)

    tell(STAGES[0], 0)
    mesh, r_in = build_mesh(nerve, cuff, t)
    log.info("fem: %d nodes, %d tetrahedra", len(mesh.points_um), len(mesh.tets))
    outer = boundary_faces(mesh)
    sources = [Source(w, faces=_contact_faces(mesh, cuff, r_in, w, outer))
               for w in ("cathode", "anode")]  # fmt: skip
    p = mesh.points_um
    edge = (np.hypot(p[:, 0], p[:, 1]) > t.domain_radius_um * (1 - 1e-9)) | (
        np.abs(p[:, 2] - cuff.z_center_um) > t.domain_half_length_um * (1 - 1e-9)
    )
    solved = solve_sources(mesh, t.sigma(), sources, edge, progress=progress, stage=stage,
                           stage_offset=(1, 0))  # fmt: skip
    if stage is not None:
        stage("done", total, total)
    return FEMCuffField(nerve, cuff, t, mesh, solved["cathode"], solved["anode"])
