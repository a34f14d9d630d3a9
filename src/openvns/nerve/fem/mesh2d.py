"""A conforming triangulation of a nerve cross-section made of circles (own mesher, BSD scipy).

The cross-section is a set of nested or disjoint circles — the domain's outer boundary, the cuff's
walls, the nerve, the fascicles (which may be ellipses) — each an interface the mesh must follow.
:func:`triangulate` places nodes on every circle at the local spacing (an ellipse's at equal arc
length), fills the regions with a hexagonal lattice whose spacing grows away from the nerve, drops
lattice points closer to a circle than half a spacing (so that the circle's chords are Delaunay
edges), triangulates with :class:`scipy.spatial.Delaunay` and checks that every chord of every
circle is an edge of the triangulation, refining a circle where one is not. Each triangle gets the
label of the innermost circle its centroid lies in.

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


#: Points per node of the dense outline an ellipse's nodes are spaced along (equal arc length).
_ARC_SAMPLES = 64
#: Points of an outline tested against another curve (crossing check of ellipses).
_OUTLINE_TEST_POINTS = 256


@dataclass(frozen=True)
class Circle:
    """An interface circle, or an ellipse.

    Attributes
    ----------
    x_um, y_um, r_um
        Centre and radius (an ellipse: the semi-axis along ``angle_deg``).
    label
        Region label of the inside of the circle (the innermost circle containing a point
        labels it; innermost by the radius of equal area).
    h_um
        Node spacing along the circle.
    ry_um, angle_deg
        An ellipse's other semi-axis and the direction of ``r_um``'s axis from ``+x`` (degrees);
        ``None`` (default): a circle.
    """

    x_um: float
    y_um: float
    r_um: float
    label: int
    h_um: float
    ry_um: float | None = None
    angle_deg: float = 0.0

    @property
    def ry(self) -> float:
        """The other semi-axis (the radius for a circle)."""
        return self.r_um if self.ry_um is None else self.ry_um

    @property
    def is_circle(self) -> bool:
        return self.ry_um is None or self.ry_um == self.r_um

    @property
    def r_equal_area_um(self) -> float:
        """Radius of the circle of the same area."""
        return self.r_um if self.is_circle else math.sqrt(self.r_um * self.ry)

    def _local(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        c, s = math.cos(math.radians(self.angle_deg)), math.sin(math.radians(self.angle_deg))
        dx, dy = np.asarray(x) - self.x_um, np.asarray(y) - self.y_um
        return c * dx + s * dy, -s * dx + c * dy

    def inside(self, x: FloatArray, y: FloatArray) -> npt.NDArray[np.bool_]:
        """Whether points lie strictly inside."""
        if self.is_circle:
            return np.asarray(np.hypot(x - self.x_um, y - self.y_um) < self.r_um)
        u, v = self._local(x, y)
        return np.asarray((u / self.r_um) ** 2 + (v / self.ry) ** 2 < 1.0)

    def distance(self, x: FloatArray, y: FloatArray) -> FloatArray:
        """Distance of points from the curve (an ellipse's first-order estimate
        ``|F| / |∇F|``, exact on the curve and for a circle)."""
        if self.is_circle:
            return np.asarray(np.abs(np.hypot(x - self.x_um, y - self.y_um) - self.r_um))
        a, b = self.r_um, self.ry
        u, v = self._local(x, y)
        f = (u / a) ** 2 + (v / b) ** 2 - 1.0
        grad = 2.0 * np.hypot(u / a**2, v / b**2)
        return np.asarray(np.abs(f) / np.maximum(grad, 1e-300))

    def outline(self, n: int) -> FloatArray:
        """``n`` points on the curve at equal arc length (a circle: equal angles)."""
        if self.is_circle:
            t = 2 * math.pi * np.arange(n) / n
            return np.column_stack([self.x_um + self.r_um * np.cos(t),
                                    self.y_um + self.r_um * np.sin(t)])  # fmt: skip
        a, b = self.r_um, self.ry
        dense = np.linspace(0.0, 2 * math.pi, _ARC_SAMPLES * n + 1)
        seg = np.hypot(np.diff(a * np.cos(dense)), np.diff(b * np.sin(dense)))
        arc = np.concatenate([[0.0], np.cumsum(seg)])
        t = np.interp(arc[-1] * np.arange(n) / n, arc, dense)
        u, v = a * np.cos(t), b * np.sin(t)
        c, s = math.cos(math.radians(self.angle_deg)), math.sin(math.radians(self.angle_deg))
        return np.column_stack([self.x_um + c * u - s * v, self.y_um + s * u + c * v])

    def perimeter_um(self) -> float:
        """Length of the curve (Ramanujan's approximation for an ellipse)."""
        if self.is_circle:
            return 2 * math.pi * self.r_um
        a, b = self.r_um, self.ry
        return math.pi * (3 * (a + b) - math.sqrt((3 * a + b) * (a + 3 * b)))


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
    n = max(12, math.ceil(c.perimeter_um() / c.h_um)) * 2**refine
    return c.outline(n)


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
            chord = c.perimeter_um() / len(ring)
            d = c.distance(fill[:, 0], fill[:, 1])
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
    for c in sorted(circles, key=lambda c: -c.r_equal_area_um):  # innermost wins
        labels[c.inside(centroid[:, 0], centroid[:, 1])] = c.label
    return CrossSection(points, simplices, labels, nodes, tri)


def _check_disjoint(circles: list[Circle]) -> None:
    """Every two circles are nested or apart, never crossing (ellipses: by their outlines)."""
    for i, a in enumerate(circles):
        for b in circles[i + 1 :]:
            if a.is_circle and b.is_circle:
                d = math.hypot(a.x_um - b.x_um, a.y_um - b.y_um)
                nested = d + min(a.r_um, b.r_um) < max(a.r_um, b.r_um)
                apart = d > a.r_um + b.r_um
            else:
                pa, pb = a.outline(_OUTLINE_TEST_POINTS), b.outline(_OUTLINE_TEST_POINTS)
                a_in_b, b_in_a = b.inside(pa[:, 0], pa[:, 1]), a.inside(pb[:, 0], pb[:, 1])
                nested = bool(a_in_b.all() and not b_in_a.any()) or bool(
                    b_in_a.all() and not a_in_b.any()
                )
                apart = not a_in_b.any() and not b_in_a.any()
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
