"""A conforming triangulation of a nerve cross-section made of circles (own mesher, BSD scipy).

The cross-section is a set of nested or disjoint circles — the domain's outer boundary, the cuff's
walls, the nerve, the fascicles — each an interface the mesh must follow. :func:`triangulate`
places nodes on every circle at the local spacing, fills the regions with a hexagonal lattice whose
spacing grows away from the nerve, drops lattice points closer to a circle than half a spacing
(so that the circle's chords are Delaunay edges), triangulates with :class:`scipy.spatial.Delaunay`
and checks that every chord of every circle is an edge of the triangulation, refining a circle
where one is not. Each triangle gets the label of the innermost circle its centroid lies in.

Lengths are in µm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial import Delaunay, cKDTree  # type: ignore[import-untyped]

from openvns.errors import ValidationError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

__all__ = ["Circle", "CrossSection", "triangulate"]

#: Lattice points nearer than this many local spacings to a circle are dropped.
CLEARANCE = 0.55
#: Rounds of refinement of circles whose chords are missing before giving up.
MAX_ROUNDS = 6


@dataclass(frozen=True)
class Circle:
    """An interface circle.

    Attributes
    ----------
    x_um, y_um, r_um
        Centre and radius.
    label
        Region label of the inside of the circle (the innermost circle containing a point
        labels it).
    h_um
        Node spacing along the circle.
    """

    x_um: float
    y_um: float
    r_um: float
    label: int
    h_um: float


@dataclass(frozen=True)
class CrossSection:
    """A triangulated cross-section.

    Attributes
    ----------
    points_um
        ``(n, 2)`` node coordinates.
    triangles
        ``(m, 3)`` node indices, each the corresponding simplex of :attr:`delaunay` in its
        vertex order (point location and barycentric weights come from it).
    labels
        ``(m,)`` region label of each triangle.
    circle_nodes
        Per circle (in the order given), the indices of its nodes in order around it.
    delaunay
        The scipy triangulation (point location: ``find_simplex``).
    """

    points_um: FloatArray
    triangles: IntArray
    labels: IntArray
    circle_nodes: tuple[IntArray, ...]
    delaunay: Delaunay


def _circle_nodes(c: Circle, refine: int) -> FloatArray:
    n = max(12, math.ceil(2 * math.pi * c.r_um / c.h_um)) * 2**refine
    t = 2 * math.pi * np.arange(n) / n
    return np.column_stack([c.x_um + c.r_um * np.cos(t), c.y_um + c.r_um * np.sin(t)])


def _lattice(r_out: float, spacing: list[tuple[float, float]]) -> FloatArray:
    """Hexagonal lattice points in annuli ``[r_i, r_{i+1})`` around the origin, each at its own
    spacing: ``spacing`` is ``[(r_start, h), ...]`` sorted by radius."""
    parts = []
    bounds = [r for r, _ in spacing] + [r_out]
    for (r0, h), r1 in zip(spacing, bounds[1:], strict=True):
        ny = math.ceil(r1 / (h * math.sqrt(3) / 2))
        nx = math.ceil(r1 / h) + 1
        j = np.arange(-ny, ny + 1)
        i = np.arange(-nx, nx + 1)
        ii, jj = np.meshgrid(i, j)
        x = (ii + 0.5 * (jj % 2)) * h
        y = jj * h * math.sqrt(3) / 2
        r = np.hypot(x, y)
        keep = (r >= r0) & (r < r1)
        parts.append(np.column_stack([x[keep], y[keep]]))
    return np.concatenate(parts)


def _spacing_at(r: FloatArray, spacing: list[tuple[float, float]]) -> FloatArray:
    starts = np.array([s for s, _ in spacing])
    hs = np.array([h for _, h in spacing])
    return np.asarray(hs[np.clip(np.searchsorted(starts, r, side="right") - 1, 0, None)])


def triangulate(
    circles: list[Circle], outer_label: int, spacing: list[tuple[float, float]]
) -> CrossSection:
    """Triangulate the disc of the largest circle with every circle as an interface.

    Parameters
    ----------
    circles
        The interfaces; the largest is the domain's boundary (its ``label`` is that of the region
        just inside it unless a smaller circle covers the point).
    outer_label
        Unused region label outside every circle but the boundary (the label of the boundary
        circle's interior).
    spacing
        ``[(r_start_um, h_um), ...]``: lattice spacing of the fill from radius ``r_start`` (from
        the origin) outwards, sorted, starting at 0.

    Raises
    ------
    ValidationError
        ``circles`` that cross, or a triangulation whose chords cannot be recovered.
    """
    if not circles:
        raise ValidationError("circles", circles, "at least the domain's boundary circle")
    boundary = max(circles, key=lambda c: c.r_um)
    _check_disjoint(circles)
    refine = [0] * len(circles)
    for _ in range(MAX_ROUNDS):
        rings = [_circle_nodes(c, k) for c, k in zip(circles, refine, strict=True)]
        ring_pts = np.concatenate(rings)
        fill = _lattice(boundary.r_um, spacing)
        h_fill = _spacing_at(np.hypot(fill[:, 0], fill[:, 1]), spacing)
        keep = np.ones(len(fill), dtype=bool)
        for c, ring in zip(circles, rings, strict=True):
            chord = 2 * math.pi * c.r_um / len(ring)
            d = np.abs(np.hypot(fill[:, 0] - c.x_um, fill[:, 1] - c.y_um) - c.r_um)
            keep &= d >= CLEARANCE * np.maximum(h_fill, chord)
        fill = fill[keep]
        # a fill point too near a ring node (where the fill is finer than the ring) goes too
        tree = cKDTree(ring_pts)
        near, _ = tree.query(fill)
        fill = fill[near >= CLEARANCE * _spacing_at(np.hypot(fill[:, 0], fill[:, 1]), spacing)]
        points = np.concatenate([ring_pts, fill])
        tri = Delaunay(points)
        starts = np.cumsum([0] + [len(r) for r in rings])
        nodes = tuple(np.arange(starts[i], starts[i + 1], dtype=np.int64)
                      for i in range(len(rings)))  # fmt: skip
        missing = _missing_chords(tri.simplices, nodes)
        if not missing:
            break
        for i in missing:
            refine[i] += 1
    else:
        raise ValidationError(
            "circles", [circles[i] for i in missing], "interfaces the mesher can resolve"
        )
    simplices = np.asarray(tri.simplices, dtype=np.int64)  # the Delaunay's vertex order
    centroid = points[simplices].mean(axis=1)
    labels = np.full(len(simplices), outer_label, dtype=np.int64)
    for c in sorted(circles, key=lambda c: -c.r_um):  # innermost wins
        inside = np.hypot(centroid[:, 0] - c.x_um, centroid[:, 1] - c.y_um) < c.r_um
        labels[inside] = c.label
    return CrossSection(points, simplices, labels, nodes, tri)


def _check_disjoint(circles: list[Circle]) -> None:
    """Every two circles are nested or apart, never crossing."""
    for i, a in enumerate(circles):
        for b in circles[i + 1 :]:
            d = math.hypot(a.x_um - b.x_um, a.y_um - b.y_um)
            nested = d + min(a.r_um, b.r_um) < max(a.r_um, b.r_um)
            apart = d > a.r_um + b.r_um
            if not (nested or apart):
                raise ValidationError(
                    "circles", (a, b), "interfaces that are nested or apart, never touching"
                )


def _missing_chords(simplices: npt.NDArray[np.int32], nodes: tuple[IntArray, ...]) -> list[int]:
    """Indices of the circles with a chord that is not an edge of the triangulation."""
    s = np.asarray(simplices, dtype=np.int64)
    edges = np.concatenate([s[:, [0, 1]], s[:, [1, 2]], s[:, [2, 0]]])
    edges.sort(axis=1)
    n = int(s.max()) + 1
    have = set((edges[:, 0] * n + edges[:, 1]).tolist())
    out = []
    for i, ring in enumerate(nodes):
        a, b = ring, np.roll(ring, -1)
        keys = np.minimum(a, b) * n + np.maximum(a, b)
        if not all(int(k) in have for k in keys):
            out.append(i)
    return out
