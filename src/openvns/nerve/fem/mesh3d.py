"""The cross-section extruded along the nerve into tetrahedra, with thin resistive layers.

Every triangle of the cross-section and every layer ``[z_k, z_{k+1}]`` make a prism, split into
three tetrahedra by the rule that each quadrilateral face's diagonal passes through its vertex
of lowest index (node ``k · n2 + i`` for 2-D node ``i`` at level ``k``), so neighbouring prisms
share their diagonals and the mesh is conforming.

A thin layer (the perineurium around a fascicle) is an interface circle whose nodes are doubled:
the triangles inside keep the original nodes, those outside use copies, numbered in the same
order so both sides split the interface's quadrilaterals alike. The layer's conductance per area
(``σ / t``, S/m²) couples the two sides (:mod:`openvns.nerve.fem.solve`); :attr:`Mesh3D.layers`
lists its triangles, inside and outside nodes paired.

The region of a tetrahedron comes from its triangle's label and the height of its layer
(``region_of(labels, z_mid)``), so a cuff's silicone can stop where the cuff ends; regions
listed as insulators are left out of the mesh (their boundary carries no current).

Lengths in µm.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from openvns.errors import ValidationError
from openvns.nerve.fem.mesh2d import CrossSection

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

__all__ = ["Mesh3D", "ThinLayer", "extrude", "graded_levels"]

#: Fixed-point rounds for a step towards a fine interval (the spacing at the step's far end).
_FIXED_POINT_ROUNDS = 30
#: Within this many spacings of a fine interval's edge, one step lands on it; within
#: ``_TWO_STEPS``, two even steps do.
_ONE_STEP = 1.5
_TWO_STEPS = 2.5
#: Within this many spacings of ``z_max`` the steps become even (at most one spacing, at least
#: 5/6 of one) and land on it.
_LAND = 3.5


@dataclass(frozen=True)
class ThinLayer:
    """A resistive layer on an interface circle.

    Attributes
    ----------
    circle
        Index of the circle in the cross-section's ``circle_nodes``.
    inside_label
        Label of the triangles inside it (they keep the circle's original nodes).
    conductance_S_per_m2
        ``σ / t`` of the layer.
    """

    circle: int
    inside_label: int
    conductance_S_per_m2: float


@dataclass(frozen=True)
class Mesh3D:
    """A tetrahedral mesh.

    Attributes
    ----------
    points_um
        ``(n, 3)`` node coordinates.
    tets
        ``(m, 4)`` node indices.
    regions
        ``(m,)`` region of each tetrahedron.
    layer_triangles
        ``(k, 2, 3)``: per interface triangle its three inside nodes and the three outside nodes
        at the same places.
    layer_conductance
        ``(k,)`` conductance per area of each interface triangle's layer, S/m².
    section
        The cross-section extruded.
    levels_um
        ``(L + 1,)`` the heights of the layers.
    node_of
        ``(n2_doubled, L + 1)`` node index (in this mesh, −1 where the node was dropped with an
        insulator) of each 2-D node (copies included) at each level.
    triangle_nodes
        ``(m2, 3)`` the 2-D nodes (copies included) of each cross-section triangle.
    """

    points_um: FloatArray
    tets: IntArray
    regions: IntArray
    layer_triangles: IntArray
    layer_conductance: FloatArray
    section: CrossSection
    levels_um: FloatArray
    node_of: IntArray
    triangle_nodes: IntArray


def graded_levels(
    fine: Sequence[tuple[float, float]], h_fine_um: float, z_min_um: float, z_max_um: float,
    growth: float = 1.3, h_max_um: float = 2000.0,
) -> FloatArray:  # fmt: skip
    """Heights from ``z_min`` to ``z_max``: spacing ``h_fine`` inside each ``fine`` interval
    ``(z0, z1)``, growing geometrically by ``growth`` away from them (on both sides) up to
    ``h_max``.

    The spacing at distance ``d`` from the nearest fine interval is
    ``min(h_max, h_fine + (growth − 1) d)``, so neighbouring layers differ by about ``growth``;
    a step towards a fine interval takes the spacing at its far end (a fixed point), and lands on
    the interval's edge.
    """
    if not z_min_um < z_max_um or h_fine_um <= 0 or growth < 1:
        raise ValidationError("levels", (z_min_um, z_max_um, h_fine_um), "z_min < z_max, h > 0")

    def dist(here: float) -> float:
        if not fine:
            return math.inf
        return min((0.0 if a <= here <= b else min(abs(here - a), abs(here - b)))
                   for a, b in fine)  # fmt: skip

    def size(here: float) -> float:
        return min(h_max_um, h_fine_um + (growth - 1.0) * dist(here))

    z = [z_min_um]
    while z[-1] < z_max_um:
        here = z[-1]
        h = size(here)
        for _ in range(_FIXED_POINT_ROUNDS):  # towards a fine interval: the smaller far end
            h = min(size(here), size(here + h))
        # land on the next fine interval's edge in one or two even steps, on z_max in even steps
        ahead = [a - here for a, _ in fine if a > here] if dist(here) > 0 else []
        if ahead and min(ahead) < _TWO_STEPS * h:
            h = min(ahead) / (1.0 if min(ahead) < _ONE_STEP * h else 2.0)
        rest = z_max_um - here
        if rest < _LAND * h:
            h = rest / math.ceil(rest / h - 1e-9)
        z.append(min(z_max_um, here + h))
    return np.asarray(z, dtype=np.float64)


def _doubled(section: CrossSection, layers: Sequence[ThinLayer]) -> tuple[IntArray, IntArray]:
    """2-D triangles with the outside of every layer on copied nodes, and the original of each
    2-D node (copies included)."""
    tri = section.triangles.copy()
    n = len(section.points_um)
    origin = [np.arange(n, dtype=np.int64)]
    for layer in layers:
        ring = np.sort(section.circle_nodes[layer.circle])
        copies = n + np.arange(len(ring), dtype=np.int64)  # monotone: same order as originals
        remap = np.full(n + 0, -1, dtype=np.int64)
        remap[ring] = copies
        outside = section.labels != layer.inside_label
        sub = tri[outside]
        on = np.isin(sub, ring)
        sub[on] = remap[sub[on]]
        tri[outside] = sub
        origin.append(ring)
        n += len(ring)
    return tri, np.concatenate(origin)


def extrude(
    section: CrossSection,
    levels_um: FloatArray,
    region_of: Callable[[IntArray, FloatArray], IntArray],
    *,
    layers: Sequence[ThinLayer] = (),
    insulators: Sequence[int] = (),
) -> Mesh3D:
    """Extrude ``section`` through ``levels_um`` (see the module documentation).

    Parameters
    ----------
    region_of
        ``region_of(labels (m2,), z_mid (L,)) -> (L, m2)`` region of each prism.
    layers
        Thin resistive layers on interface circles.
    insulators
        Regions left out of the mesh.
    """
    z = np.asarray(levels_um, dtype=np.float64)
    if z.ndim != 1 or len(z) < 2 or np.any(np.diff(z) <= 0):
        raise ValidationError("levels_um", z.shape, "increasing heights, at least two")
    tri2, origin = _doubled(section, layers)
    n2, n_lev = len(origin), len(z)
    mids = 0.5 * (z[1:] + z[:-1])
    region = np.asarray(region_of(section.labels, mids), dtype=np.int64)  # (L, m2)
    # prisms -> tets with the lowest-index rule: sort each triangle's nodes (a < b < c)
    abc = np.sort(tri2, axis=1)
    a, b, c = abc[:, 0], abc[:, 1], abc[:, 2]
    k = np.arange(n_lev - 1, dtype=np.int64)[:, None]
    lo, hi = k * n2, (k + 1) * n2
    tets = np.stack(
        [
            np.stack([a + lo, b + lo, c + lo, c + hi], axis=-1),
            np.stack([a + lo, b + lo, b + hi, c + hi], axis=-1),
            np.stack([a + lo, a + hi, b + hi, c + hi], axis=-1),
        ],
        axis=2,
    )  # (L, m2, 3, 4)
    regions = np.repeat(region[:, :, None], 3, axis=2)
    keep = ~np.isin(regions, np.asarray(insulators, dtype=np.int64))
    tets, regions = tets[keep], regions[keep]
    # interface triangles: each ring chord (both sides) × layer, quad split through min vertex
    lt, lg = [], []
    pos = len(section.points_um)
    for layer in layers:
        ring = section.circle_nodes[layer.circle]
        order = np.sort(ring)
        copy_of = dict(zip(order.tolist(), (pos + np.arange(len(order))).tolist(), strict=True))
        pos += len(order)
        p, q = ring, np.roll(ring, -1)
        u, v = np.minimum(p, q), np.maximum(p, q)
        cu = np.array([copy_of[int(x)] for x in u])
        cv = np.array([copy_of[int(x)] for x in v])
        for kk in range(n_lev - 1):
            b0, b1 = kk * n2, (kk + 1) * n2
            inside = np.stack([np.stack([u + b0, v + b0, v + b1], -1),
                               np.stack([u + b0, v + b1, u + b1], -1)], 1)  # fmt: skip
            outside = np.stack([np.stack([cu + b0, cv + b0, cv + b1], -1),
                                np.stack([cu + b0, cv + b1, cu + b1], -1)], 1)  # fmt: skip
            lt.append(np.stack([inside.reshape(-1, 3), outside.reshape(-1, 3)], axis=1))
            lg.append(np.full(2 * len(u), layer.conductance_S_per_m2))
    layer_tris = np.concatenate(lt) if lt else np.zeros((0, 2, 3), dtype=np.int64)
    layer_g = np.concatenate(lg) if lg else np.zeros(0)
    # nodes in use, renumbered
    used = np.zeros(n2 * n_lev, dtype=bool)
    used[tets.ravel()] = True
    new = np.full(n2 * n_lev, -1, dtype=np.int64)
    new[used] = np.arange(int(used.sum()), dtype=np.int64)
    xy = section.points_um[origin]
    pts = np.column_stack([np.tile(xy, (n_lev, 1)), np.repeat(z, n2)])[used]
    if len(layer_tris):
        layer_tris = new[layer_tris]
        ok = np.all(layer_tris >= 0, axis=(1, 2))
        layer_tris, layer_g = layer_tris[ok], layer_g[ok]
    return Mesh3D(
        points_um=pts,
        tets=new[tets],
        regions=regions,
        layer_triangles=layer_tris,
        layer_conductance=layer_g,
        section=section,
        levels_um=z,
        node_of=new.reshape(n_lev, n2).T,
        triangle_nodes=tri2,
    )
