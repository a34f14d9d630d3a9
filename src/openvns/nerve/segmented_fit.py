"""Fitting a segmented cross-section: region moments, ellipses of equal area and moments, the
perineurium's measured thickness, the nerve's circle, and their assembly into a :class:`Nerve`.

The file readers (masks, polygons) are :mod:`openvns.nerve.segmented`; the rules are described
there.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage  # type: ignore[import-untyped]
from scipy.spatial import ConvexHull  # type: ignore[import-untyped]

from openvns.errors import ValidationError
from openvns.nerve import data_files
from openvns.nerve.geometry import Fascicle, Nerve, perineurium_thickness_um

log = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: Variance of a unit square along an axis (a pixel's own second moment, in px²).
PIXEL_VARIANCE = 1.0 / 12.0
#: Relative tolerance of the enclosing-circle test.
CIRCLE_TOL = 1e-9
#: Relative difference of the principal moments under which a region is round (angle 0).
ROUND_TOL = 1e-9


def default_nerve_margin_um() -> float:
    """Epineurium added around the fascicles when no nerve outline is given, in µm.

    The population's least epineurium over a fascicle (``epineurium_min_um`` of
    ``data/human_cervical_vagus.yaml``, an assumption of OpenVNS).
    """
    raw = data_files.load("human_cervical_vagus.yaml")["nerve"]["epineurium_min_um"]
    return float(data_files.value(raw))


# ----------------------------------------------------------------------------- region moments
@dataclass(frozen=True)
class Region:
    """Area, centroid and central second moments of a planar region, in µm.

    ``cov`` is the area-normalised central inertia tensor ``[[σxx, σxy], [σxy, σyy]]`` in µm²;
    ``boundary`` holds points (µm) whose convex hull is the region's.
    """

    area_um2: float
    x_um: float
    y_um: float
    cov: FloatArray
    boundary: FloatArray

    def ellipse(self) -> tuple[float, float, float]:
        """``(rx_um, ry_um, angle_deg)``: the ellipse of equal area, axis ratio and orientation.

        ``rx`` is the major semi-axis; ``angle_deg`` in ``(-90, 90]`` its direction from ``+x``.
        The axis ratio is ``sqrt(λ_max/λ_min)`` of ``cov``; for an ellipse both area and second
        moments are the region's own.
        """
        evals, evecs = np.linalg.eigh(self.cov)
        lo, hi = max(float(evals[0]), 0.0), float(evals[1])
        ratio = math.sqrt(hi / lo) if lo > 0 else math.inf
        if not math.isfinite(ratio):
            where = f"centre ({self.x_um:g}, {self.y_um:g}) µm"
            raise ValidationError("region", where, "a 2-D region (not a line)")
        ab = self.area_um2 / math.pi
        angle = math.degrees(math.atan2(float(evecs[1, 1]), float(evecs[0, 1])))
        angle = 0.0 if hi - lo <= ROUND_TOL * hi else (angle + 90.0) % 180.0 - 90.0
        return math.sqrt(ab * ratio), math.sqrt(ab / ratio), 90.0 if angle == -90.0 else angle


def pixel_region(
    mask: BoolArray, scale_um_per_px: float, origin: tuple[int, int] = (0, 0)
) -> Region:
    """Moments of the pixels of ``mask`` (each a square of side ``scale_um_per_px``), in µm.

    Pixel ``(row, col)`` of the image (``mask`` starts at ``origin``) is centred at
    ``x = (col + ½) s``, ``y = -(row + ½) s``.
    """
    rows, cols = np.nonzero(mask)
    rows, cols = rows + origin[0], cols + origin[1]
    s = scale_um_per_px
    x, y = (cols + 0.5) * s, -(rows + 0.5) * s
    cov = np.cov(np.vstack((x, y)), bias=True).reshape(2, 2) + np.eye(2) * PIXEL_VARIANCE * s * s
    edge = mask & ~ndimage.binary_erosion(mask)
    er, ec = np.nonzero(edge)
    er, ec = er + origin[0], ec + origin[1]
    corners = [((ec + dx) * s, -(er + dy) * s) for dx in (0, 1) for dy in (0, 1)]
    boundary = np.vstack([np.column_stack(c) for c in corners])
    return Region(float(rows.size * s * s), float(x.mean()), float(y.mean()), cov, boundary)


def polygon_region(points: ArrayLike, name: str = "polygon") -> Region:
    """Moments of a simple polygon (vertices in µm, either orientation) by the shoelace formulas."""
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2 or p.shape[0] < 3 or not np.all(np.isfinite(p)):
        raise ValidationError(name, np.shape(p), "at least 3 finite (x, y) vertices in µm")
    x0, y0 = p.mean(axis=0)  # shift for accuracy
    x, y = p[:, 0] - x0, p[:, 1] - y0
    xn, yn = np.roll(x, -1), np.roll(y, -1)
    cross = x * yn - xn * y
    area = cross.sum() / 2.0
    if abs(area) <= 0.0:
        raise ValidationError(name, "zero area", "a polygon enclosing a non-zero area")
    cx = ((x + xn) * cross).sum() / (6.0 * area)
    cy = ((y + yn) * cross).sum() / (6.0 * area)
    ixx = ((x * x + x * xn + xn * xn) * cross).sum() / (12.0 * area)  # ∫x² dA / A
    iyy = ((y * y + y * yn + yn * yn) * cross).sum() / (12.0 * area)
    ixy = ((x * yn + 2 * x * y + 2 * xn * yn + xn * y) * cross).sum() / (24.0 * area)
    cov = np.array([[ixx - cx * cx, ixy - cx * cy], [ixy - cx * cy, iyy - cy * cy]])
    return Region(float(abs(area)), float(cx + x0), float(cy + y0), cov, p)


def measured_perineurium_um(outer_area_um2: float, inner_areas_um2: Sequence[float]) -> float:
    """Perineurium thickness from an outer and the inner(s) it holds, in µm.

    One inner: ``sqrt(A_o/π) − sqrt(A_i/π)``. Several inners in one outer (ASCENT's "peanut"
    fascicles, modelled here as separate fascicles): the ``t`` whose annuli around the inners'
    equal-area circles add up to the perineurium's area, ``Σ π((r_k + t)² − r_k²) = A_o − ΣA_k``.
    """
    r = np.sqrt(np.asarray(inner_areas_um2, dtype=np.float64) / math.pi)
    wall = outer_area_um2 - math.pi * float(np.sum(r * r))
    k, b = len(r), float(np.sum(r))
    return (-b + math.sqrt(b * b + k * wall / math.pi)) / k if wall > 0 else 0.0


def enclosing_circle(points: FloatArray) -> tuple[float, float, float]:
    """Smallest circle ``(x, y, r)`` enclosing ``points`` (Welzl's incremental algorithm)."""
    p = np.asarray(points, dtype=np.float64)
    if len(p) >= 3:
        p = p[ConvexHull(p).vertices]
    p = p[np.random.default_rng(0).permutation(len(p))]  # fixed order: reproducible

    def inside(c: tuple[float, float, float], q: FloatArray) -> bool:
        return math.hypot(q[0] - c[0], q[1] - c[1]) <= c[2] * (1 + CIRCLE_TOL) + CIRCLE_TOL

    def two(a: FloatArray, b: FloatArray) -> tuple[float, float, float]:
        return ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, math.hypot(a[0] - b[0], a[1] - b[1]) / 2)

    def three(a: FloatArray, b: FloatArray, c: FloatArray) -> tuple[float, float, float]:
        d = 2 * (a[0] * (b[1] - c[1]) + b[0] * (c[1] - a[1]) + c[0] * (a[1] - b[1]))
        if d == 0:  # collinear: the widest pair
            return max((two(a, b), two(a, c), two(b, c)), key=lambda t: t[2])
        sa, sb, sc = a @ a, b @ b, c @ c
        ux = (sa * (b[1] - c[1]) + sb * (c[1] - a[1]) + sc * (a[1] - b[1])) / d
        uy = (sa * (c[0] - b[0]) + sb * (a[0] - c[0]) + sc * (b[0] - a[0])) / d
        return float(ux), float(uy), math.hypot(a[0] - ux, a[1] - uy)

    circ = (float(p[0, 0]), float(p[0, 1]), 0.0)
    for i in range(1, len(p)):
        if inside(circ, p[i]):
            continue
        circ = (float(p[i, 0]), float(p[i, 1]), 0.0)
        for j in range(i):
            if inside(circ, p[j]):
                continue
            circ = two(p[i], p[j])
            for k in range(j):
                if not inside(circ, p[k]):
                    circ = three(p[i], p[j], p[k])
    return float(circ[0]), float(circ[1]), float(circ[2])


# ----------------------------------------------------------------------------- assembling a nerve
def build_nerve(
    inners: Sequence[Region],
    names: Sequence[str],
    *,
    nerve: Region | None = None,
    outers: Sequence[Region] = (),
    outer_of: Sequence[int] | None = None,
    species: str = "human",
    nerve_margin_um: float | None = None,
) -> Nerve:
    """The :class:`Nerve` of fitted inners (see the module's docstring for the rules).

    ``outer_of[k]`` is the index in ``outers`` of inner ``k``'s outer (``None``: no outers);
    ``names[k]`` names inner ``k`` in errors.
    """
    if not inners:
        raise ValidationError("inners", 0, "at least one fascicle (inner region)")
    held: dict[int, list[float]] = {}
    for k, m in enumerate(outer_of or ()):
        held.setdefault(m, []).append(inners[k].area_um2)
    absolute: list[Fascicle] = []
    for k, reg in enumerate(inners):
        rx, ry, ang = reg.ellipse()
        if outer_of is not None:
            m = outer_of[k]
            t = measured_perineurium_um(outers[m].area_um2, held[m])
            if t <= 0:
                area = f"outer area {outers[m].area_um2:g} µm²"
                raise ValidationError(names[k], area, "an outer larger than its inners")
        else:
            t = perineurium_thickness_um(2.0 * math.sqrt(rx * ry), species)
        absolute.append(Fascicle(reg.x_um, reg.y_um, rx, ry, t, ang))
    if nerve is not None:
        cx, cy, radius = nerve.x_um, nerve.y_um, math.sqrt(nerve.area_um2 / math.pi)
    else:
        margin = default_nerve_margin_um() if nerve_margin_um is None else nerve_margin_um
        margin = number_value("nerve_margin_um", margin)
        pts = [f.outline(outer=True) for f in absolute] + [o.boundary for o in outers]
        cx, cy, r0 = enclosing_circle(np.vstack(pts))
        radius = r0 + margin
    fascicles = tuple(
        Fascicle(f.x_um - cx, f.y_um - cy, f.rx_um, f.ry_um, f.perineurium_um, f.angle_deg)
        for f in absolute
    )
    try:
        section = Nerve(2.0 * radius, fascicles)
    except ValidationError as err:

        def rename(text: str) -> str:
            return re.sub(r"fascicles\[(\d+)\]", lambda m: names[int(m.group(1))], text)

        how = "enclosing circle" if nerve is None else "equal-area circle on the outline's centroid"
        raise ValidationError(
            rename(err.field),
            err.value,
            rename(err.allowed) + f" (the nerve is the {how}, diameter {2 * radius:.1f} µm; "
            "the fitted ellipses are not shrunk to fit)",
        ) from err
    log.info("segmented section: nerve %.1f µm, %d fascicles", section.diameter_um, len(fascicles))
    return section


def number_value(
    name: str, value: Any, low: float = 0.0, allowed: str = "a finite number ≥ 0"
) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < low:
        raise ValidationError(name, value, allowed)
    return float(value)


def scale_value(name: str, value: Any) -> float:
    return number_value(name, value, math.ulp(0.0), "a finite number > 0 (µm per pixel)")
