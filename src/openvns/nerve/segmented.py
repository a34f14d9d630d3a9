"""Import of a segmented nerve cross-section: ASCENT-style mask images or polygons → :class:`Nerve`.

Two inputs, one fit:

- **Masks** (:func:`read_masks`, :func:`from_masks`), following the file conventions of ASCENT's
  samples (Musselman 2021): binary images of the same size, white (non-zero) for the tissue,
  ``n`` (nerve: the outer boundary of the epineurium), ``i`` (inners: each fascicle's
  endoneurium), ``o`` (outers: the outer boundary of each fascicle's perineurium) or ``c``
  (combined: the perineurium rings white, the inners black holes in them), and ``s`` (a
  horizontal scale bar), as ``.tif``/``.tiff``/``.png``. The scale (µm per pixel) is given, or
  read from an ASCENT ``sample.json`` next to the masks (``scale.scale_ratio``, or
  ``scale.scale_bar_length`` with ``s.tif``). Regions are the 4-connected components
  (``scipy.ndimage.label``) with their holes filled. The image is read as it is seen: ``+x``
  to the right, ``+y`` up (row 0 is the top).
- **Polygons** (:func:`read_polygons`, :func:`from_polygons`) in µm, ``+y`` up, any origin: the
  nerve outline, each fascicle's inner outline and optionally its outer outline; the JSON file
  format is described in :func:`read_polygons`.

Each inner becomes one :class:`Fascicle`: its centre is the region's centroid and its ellipse has
the region's area and the orientation and axis ratio of its second moments (inertia tensor);
for an elliptical region this is the region itself. The perineurium thickness is measured from
the paired outer as the difference of the radii of the circles of equal area,
``sqrt(A_outer/π) − sqrt(A_inner/π)`` (ASCENT's ``"MEASURED"`` mode), or without outers taken from
the species fit :func:`~openvns.nerve.geometry.perineurium_thickness_um` of the inner's
equal-area diameter. (The radii of equal area are how the FEM meshes a fascicle; for an
elongated fascicle with a wall of uniform thickness ``t`` they differ by about
``t (a + b) / (2 sqrt(a b))``, slightly more than ``t``.) The model's nerve is a circle: with a
nerve outline it is centred on the outline's centroid with the diameter of the circle of equal
area; without one it is the smallest circle enclosing every outer (measured and fitted) widened
by ``nerve_margin_um``. Nothing is shrunk or moved to make the section fit: a fascicle that
leaves the nerve or overlaps another raises :class:`ValidationError` naming it.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
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

#: ASCENT's mask names: nerve, inners, outers, combined, scale bar.
MASK_NAMES = ("n", "i", "o", "c", "s")
#: Image suffixes looked for, in this order.
MASK_SUFFIXES = (".tif", ".tiff", ".png")
#: ASCENT's sample configuration, read for the scale and modes when it sits next to the masks.
SAMPLE_JSON = "sample.json"
#: ASCENT's ``modes.mask_input`` and the masks each needs.
_MASK_INPUTS = {
    "INNERS": ("i",),
    "INNER_AND_OUTER_SEPARATE": ("i", "o"),
    "INNER_AND_OUTER_COMPILED": ("c",),
}
#: Value of ``"format"`` in a polygon file.
POLYGON_FORMAT = "openvns.section/1"
#: Variance of a unit square along an axis (a pixel's own second moment, in px²).
_PIXEL_VARIANCE = 1.0 / 12.0
#: Relative tolerance of the enclosing-circle test.
_CIRCLE_TOL = 1e-9
#: Relative difference of the principal moments under which a region is round (angle 0).
_ROUND_TOL = 1e-9


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
        angle = 0.0 if hi - lo <= _ROUND_TOL * hi else (angle + 90.0) % 180.0 - 90.0
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
    cov = np.cov(np.vstack((x, y)), bias=True).reshape(2, 2) + np.eye(2) * _PIXEL_VARIANCE * s * s
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
        return math.hypot(q[0] - c[0], q[1] - c[1]) <= c[2] * (1 + _CIRCLE_TOL) + _CIRCLE_TOL

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
        margin = _number("nerve_margin_um", margin)
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


def _number(name: str, value: Any, low: float = 0.0, allowed: str = "a finite number ≥ 0") -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < low:
        raise ValidationError(name, value, allowed)
    return float(value)


def _scale(name: str, value: Any) -> float:
    return _number(name, value, math.ulp(0.0), "a finite number > 0 (µm per pixel)")


def _load_json(path: Path, what: str) -> dict[str, Any]:
    try:
        raw = json.loads(path.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ValidationError(str(path), str(err), f"a readable JSON file ({what})") from err
    if not isinstance(raw, dict):
        raise ValidationError(str(path), type(raw).__name__, f"a JSON object ({what})")
    return raw


# ----------------------------------------------------------------------------- masks
def _components(mask: BoolArray, name: str, min_object_px: int) -> tuple[NDArray[np.int32], int]:
    lab, n = ndimage.label(ndimage.binary_fill_holes(mask))
    if min_object_px > 0 and n:
        sizes = np.bincount(lab.ravel())
        small = np.flatnonzero(sizes <= min_object_px)
        small = small[small > 0]
        if small.size:
            log.info("%s: %d regions of ≤ %d px dropped", name, small.size, min_object_px)
            lab, n = ndimage.label(np.isin(lab, small, invert=True) & (lab > 0))
    if n == 0:
        raise ValidationError(name, "no white pixels", "a mask with at least one region")
    return lab.astype(np.int32), int(n)


def _regions(lab: NDArray[np.int32], s: float) -> list[Region]:
    """The :class:`Region` of each label ``1 … n`` of ``lab`` (cropped to its bounding box)."""
    boxes = ndimage.find_objects(lab)
    return [pixel_region(lab[b] == k + 1, s, (b[0].start, b[1].start)) for k, b in enumerate(boxes)]


def _where(reg: Region, s: float) -> str:
    return f"at row {-reg.y_um / s - 0.5:.0f}, column {reg.x_um / s - 0.5:.0f} px"


def split_combined(combined: BoolArray) -> tuple[BoolArray, BoolArray]:
    """``(inners, outers)`` of an ASCENT combined mask (perineurium white, inners its holes)."""
    c = np.asarray(combined, dtype=bool)
    outers = np.asarray(ndimage.binary_fill_holes(c), dtype=bool)
    return outers & ~c, outers


def from_masks(
    inners: BoolArray,
    *,
    scale_um_per_px: float,
    nerve: BoolArray | None = None,
    outers: BoolArray | None = None,
    species: str = "human",
    nerve_margin_um: float | None = None,
    min_object_px: int = 0,
) -> Nerve:
    """The :class:`Nerve` of boolean masks (``True`` = tissue; row 0 at the top, ``+y`` up).

    Parameters
    ----------
    inners, nerve, outers
        Masks of the same shape: endoneurium of each fascicle (``i``), the nerve (``n``,
        optional) and the perineurium's outer boundaries (``o``, optional). Regions are the
        4-connected components with their holes filled; inners are numbered in raster order
        (``"i inner 0"`` is the first met from the top-left) in the errors.
    scale_um_per_px
        Pixel size, in µm.
    species
        Perineurium fit used when ``outers`` is ``None``.
    nerve_margin_um
        Epineurium around the enclosing circle of the outers when ``nerve`` is ``None``, in µm
        (default :func:`default_nerve_margin_um`).
    min_object_px
        Regions of at most this many pixels are dropped (ASCENT's ``object_removal_area``).
    """
    s = _scale("scale_um_per_px", scale_um_per_px)
    named = {"i": inners, "n": nerve, "o": outers}
    arrays = {k: np.asarray(v) for k, v in named.items() if v is not None}
    shapes = {k: a.shape for k, a in arrays.items()}
    if len(set(shapes.values())) != 1 or arrays["i"].ndim != 2:
        raise ValidationError("mask shapes", shapes, "2-D masks of the same size (rows, columns)")
    masks = {k: a.astype(bool) for k, a in arrays.items()}
    lab_i, n_i = _components(masks["i"], "i (inners)", min_object_px)
    inner_regions = _regions(lab_i, s)
    names = [f"i inner {k} ({_where(r, s)})" for k, r in enumerate(inner_regions)]
    nerve_region = None
    filled = np.ones(lab_i.shape, dtype=bool)
    if "n" in masks:
        lab_n, n_n = _components(masks["n"], "n (nerve)", min_object_px)
        if n_n != 1:
            raise ValidationError("n (nerve)", f"{n_n} separate regions", "one connected region")
        filled = lab_n > 0
        nerve_region = pixel_region(filled, s)
    outer_regions: list[Region] = []
    outer_of: list[int] | None = None
    lab_o = np.zeros_like(lab_i)
    if "o" in masks:
        lab_o, n_o = _components(masks["o"], "o (outers)", min_object_px)
        outer_regions = _regions(lab_o, s)
        outer_of = []
        for k in range(n_i):  # the outer holding most of the inner's pixels
            counts = np.bincount(lab_o[lab_i == k + 1], minlength=n_o + 1)[1:]
            if counts.sum() == 0:
                raise ValidationError(names[k], "not inside any outer", "an inner inside an outer")
            outer_of.append(int(np.argmax(counts)))
        for m in sorted(set(range(n_o)) - set(outer_of)):
            where = _where(outer_regions[m], s)
            raise ValidationError(f"o outer {m} ({where})", "no inner", "an outer holding an inner")
    for k in range(n_i):
        own = (lab_i == k + 1) | ((lab_o == outer_of[k] + 1) if outer_of else False)
        if out := int(np.count_nonzero(own & ~filled)):
            raise ValidationError(names[k], f"{out} px outside n", "a fascicle inside the nerve")
    return build_nerve(
        inner_regions,
        names,
        nerve=nerve_region,
        outers=outer_regions,
        outer_of=outer_of,
        species=species,
        nerve_margin_um=nerve_margin_um,
    )


def read_mask(path: Path) -> BoolArray:
    """A binary mask image: pixels above half the image's maximum (RGB: any channel) are tissue."""
    from PIL import Image

    with Image.open(path) as img:
        a = np.asarray(img)
    if a.ndim == 3:
        a = a[..., :3].max(axis=2)  # drop alpha
    top = float(a.max()) if a.size else 0.0
    return np.asarray(a > top / 2.0) if top > 0 else np.zeros(a.shape[:2], dtype=bool)


def _find(directory: Path, name: str) -> Path | None:
    found = [directory / f"{name}{x}" for x in MASK_SUFFIXES]
    return next((p for p in found if p.is_file()), None)


def read_masks(
    directory: str | Path,
    *,
    scale_um_per_px: float | None = None,
    species: str = "human",
    nerve_margin_um: float | None = None,
) -> Nerve:
    """The :class:`Nerve` of a folder of ASCENT-style masks (``n``, ``i``, ``o`` or ``c``, ``s``).

    The scale is ``scale_um_per_px`` when given, else from ``sample.json``: ``scale.scale_ratio``
    (µm/px, ``modes.scale_input = "RATIO"``) or ``scale.scale_bar_length`` (µm) over the width in
    pixels of the white bar of ``s`` (``"MASK"``). ``sample.json`` may also give
    ``modes.mask_input`` (``"INNERS"``, ``"INNER_AND_OUTER_SEPARATE"``,
    ``"INNER_AND_OUTER_COMPILED"``), ``modes.nerve`` (``"PRESENT"``/``"NOT_PRESENT"``),
    ``image_preprocessing.object_removal_area`` (px) and ``scale.shrinkage`` (applied to either
    scale as ASCENT's default ``"LENGTH_FORWARDS"``: lengths × (1 + shrinkage); other shrinkage
    modes are refused). Without ``sample.json`` the masks present decide: ``i`` (with ``o`` if
    present), else ``c``; ``n`` if present (``"NOT_PRESENT"`` ignores an ``n`` that is there).

    Raises
    ------
    ValidationError
        For a missing mask or scale, masks of different sizes, an empty mask, an inner without an
        outer or an outer without an inner, a fascicle outside ``n``, or fitted fascicles that
        leave the nerve's circle or overlap (naming the inner by number and pixel position).
    """
    d = Path(directory)
    cfg = _load_json(d / SAMPLE_JSON, "ASCENT sample") if (d / SAMPLE_JSON).is_file() else {}
    modes, scale_cfg = cfg.get("modes") or {}, cfg.get("scale") or {}
    files = {k: _find(d, k) for k in MASK_NAMES}
    mode = modes.get("mask_input") or (
        "INNERS" if files["o"] is None else "INNER_AND_OUTER_SEPARATE"
    )
    if files["i"] is None and "mask_input" not in modes and files["c"] is not None:
        mode = "INNER_AND_OUTER_COMPILED"
    if mode not in _MASK_INPUTS:
        raise ValidationError(
            "sample.json modes.mask_input", mode, "one of " + ", ".join(_MASK_INPUTS)
        )
    nerve_mode = modes.get("nerve", "PRESENT" if files["n"] is not None else "NOT_PRESENT")
    if nerve_mode not in ("PRESENT", "NOT_PRESENT"):
        raise ValidationError("sample.json modes.nerve", nerve_mode, "'PRESENT' or 'NOT_PRESENT'")
    wanted = _MASK_INPUTS[mode] + (("n",) if nerve_mode == "PRESENT" else ())
    for k in wanted:
        if files[k] is None:
            raise ValidationError(f"{k} mask", str(d / f"{k}.tif"), f"{k}.tif/.tiff/.png ({mode})")
    masks = {k: read_mask(files[k]) for k in wanted}  # type: ignore[arg-type]
    if mode == "INNER_AND_OUTER_COMPILED":
        masks["i"], masks["o"] = split_combined(masks.pop("c"))
    if scale_um_per_px is not None:
        s = _scale("scale_um_per_px", scale_um_per_px)
    elif modes.get("scale_input", "RATIO" if "scale_ratio" in scale_cfg else "MASK") == "RATIO":
        s = _scale("sample.json scale.scale_ratio", scale_cfg.get("scale_ratio"))
    else:
        length = _scale("sample.json scale.scale_bar_length", scale_cfg.get("scale_bar_length"))
        if files["s"] is None:
            raise ValidationError("s mask", str(d / "s.tif"), "a scale-bar image")
        cols = np.flatnonzero(read_mask(files["s"]).any(axis=0))
        if cols.size == 0:
            raise ValidationError("s mask", "no white pixels", "a white horizontal scale bar")
        s = length / float(cols[-1] - cols[0] + 1)
    shrink = _number("sample.json scale.shrinkage", scale_cfg.get("shrinkage", 0.0))
    how = modes.get("shrinkage_definition", "LENGTH_FORWARDS")
    if shrink and how != "LENGTH_FORWARDS":
        raise ValidationError("sample.json modes.shrinkage_definition", how, "'LENGTH_FORWARDS'")
    s *= 1.0 + shrink
    log.info("masks %s (%s, nerve %s) at %.4g µm/px", d, mode, nerve_mode, s)
    prep = cfg.get("image_preprocessing") or {}
    return from_masks(
        masks["i"],
        scale_um_per_px=s,
        nerve=masks.get("n"),
        outers=masks.get("o"),
        species=species,
        nerve_margin_um=nerve_margin_um,
        min_object_px=int(_number("object_removal_area", prep.get("object_removal_area", 0))),
    )


# ----------------------------------------------------------------------------- polygons
def from_polygons(
    inners: Sequence[ArrayLike],
    *,
    nerve: ArrayLike | None = None,
    outers: Sequence[ArrayLike] | None = None,
    species: str = "human",
    nerve_margin_um: float | None = None,
) -> Nerve:
    """The :class:`Nerve` of polygon outlines in µm (``+y`` up, any origin).

    ``outers[k]``, when given, is the outer boundary of ``inners[k]``'s perineurium; every
    inner needs one then. ``nerve`` is the epineurium's outline (optional).
    """
    names = [f"fascicles[{k}] inner" for k in range(len(inners))]
    regions = [polygon_region(p, n) for p, n in zip(inners, names, strict=True)]
    nerve_region = None if nerve is None else polygon_region(nerve, "nerve")
    outer_regions: list[Region] = []
    if outers is not None:
        if len(outers) != len(inners):
            raise ValidationError("outers", len(outers), f"one outer per inner ({len(inners)})")
        outer_regions = [polygon_region(p, f"fascicles[{k}] outer") for k, p in enumerate(outers)]
        for k, (reg, out) in enumerate(zip(regions, outer_regions, strict=True)):
            if not _inside(reg.boundary, out.boundary).all():
                raise ValidationError(names[k], "outside its outer", "an inner inside its outer")
    if nerve_region is not None:
        for k, reg in enumerate(outer_regions or regions):
            if not _inside(reg.boundary, nerve_region.boundary).all():
                raise ValidationError(names[k], "outside the nerve", "a fascicle inside the nerve")
    return build_nerve(
        regions,
        names,
        nerve=nerve_region,
        outers=outer_regions,
        outer_of=None if outers is None else list(range(len(inners))),
        species=species,
        nerve_margin_um=nerve_margin_um,
    )


def _inside(points: FloatArray, poly: FloatArray) -> BoolArray:
    """Whether each point lies inside (or on) the polygon ``poly`` (even-odd ray casting)."""
    x, y = points[:, :1], points[:, 1:]
    ax, ay = poly[:, 0], poly[:, 1]
    bx, by = np.roll(ax, -1), np.roll(ay, -1)
    crosses = (ay > y) != (by > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        xint = ax + (y - ay) * (bx - ax) / (by - ay)
    odd = (np.count_nonzero(crosses & (x < xint), axis=1) % 2) == 1
    on = np.any(np.hypot(points[:, None, 0] - ax, points[:, None, 1] - ay) < _CIRCLE_TOL, axis=1)
    return np.asarray(odd | on)


def read_polygons(
    path: str | Path, *, species: str = "human", nerve_margin_um: float | None = None
) -> Nerve:
    """The :class:`Nerve` of a polygon file (JSON, µm, ``+y`` up, any origin)::

    {"format": "openvns.section/1",            # optional; checked when present
     "units": "um",                            # optional; only "um"
     "nerve": [[x, y], ...],                   # optional epineurium outline
     "nerve_margin_um": 30,                    # optional; used only without "nerve"
     "fascicles": [{"inner": [[x, y], ...],    # endoneurium outline (required)
                    "outer": [[x, y], ...]},   # perineurium outer outline (all or none)
                   ...]}
    """
    p = Path(path)
    raw = _load_json(p, "polygon section")
    if not isinstance(raw.get("fascicles"), list):
        raise ValidationError(f"{p.name} fascicles", raw.get("fascicles"), "a list of fascicles")
    if raw.get("format", POLYGON_FORMAT) != POLYGON_FORMAT:
        raise ValidationError(f"{p.name} format", raw["format"], repr(POLYGON_FORMAT))
    if raw.get("units", "um") != "um":
        raise ValidationError(f"{p.name} units", raw["units"], "'um' (micrometres)")
    fas = raw["fascicles"]
    for k, f in enumerate(fas):
        if not isinstance(f, Mapping) or "inner" not in f:
            raise ValidationError(f"{p.name} fascicles[{k}]", f, 'an object with an "inner"')
    with_outer = [("outer" in f) for f in fas]
    if any(with_outer) and not all(with_outer):
        k = with_outer.index(False)
        raise ValidationError(f"{p.name} fascicles[{k}] outer", None, "outers for all or none")
    margin = raw.get("nerve_margin_um") if nerve_margin_um is None else nerve_margin_um
    return from_polygons(
        [f["inner"] for f in fas],
        nerve=raw.get("nerve"),
        outers=[f["outer"] for f in fas] if any(with_outer) else None,
        species=species,
        nerve_margin_um=None if margin is None else _number("nerve_margin_um", margin),
    )


def load_section(
    path_or_dir: str | Path, *, scale_um_per_px: float | None = None, species: str = "human"
) -> Nerve:
    """A segmented cross-section as a :class:`Nerve`: a folder of masks or a ``.json`` polygon file.

    A folder goes to :func:`read_masks` (with ``scale_um_per_px`` or its ``sample.json``), a
    ``.json`` file to :func:`read_polygons` (in µm: ``scale_um_per_px`` must not be given).
    ``species`` picks the perineurium fit used where no outers are given.
    """
    p = Path(path_or_dir)
    if p.is_dir():
        return read_masks(p, scale_um_per_px=scale_um_per_px, species=species)
    if p.is_file() and p.suffix.lower() == ".json":
        if scale_um_per_px is not None:
            raise ValidationError("scale_um_per_px", scale_um_per_px, "None for polygons (µm)")
        return read_polygons(p, species=species)
    raise ValidationError("path_or_dir", str(p), "a folder of mask images or a .json polygon file")


# ----------------------------------------------------------------------------- nerve → masks
def section_masks(nerve: Nerve, scale_um_per_px: float, *, pad_px: int = 2) -> dict[str, BoolArray]:
    """Rasterise ``nerve`` into ASCENT masks ``{"n", "i", "o"}`` (pixel centres sampled).

    The image spans the nerve plus ``pad_px`` pixels on every side, the nerve centred.
    """
    s = _scale("scale_um_per_px", scale_um_per_px)
    half = math.ceil(nerve.radius_um / s) + pad_px
    c = (np.arange(2 * half) + 0.5 - half) * s
    x, y = np.meshgrid(c, -c)  # row 0 at the top: +y up
    inner = np.zeros(x.shape, dtype=bool)
    outer = np.zeros(x.shape, dtype=bool)
    for f in nerve.fascicles:
        inner |= f.contains(x, y)
        outer |= f.contains_outer(x, y)
    return {"n": np.hypot(x, y) <= nerve.radius_um, "i": inner, "o": outer | inner}


def write_masks(
    nerve: Nerve, directory: str | Path, scale_um_per_px: float, *, suffix: str = ".tif"
) -> Path:
    """Write ``nerve`` as ``n``, ``i``, ``o`` mask images and a ``sample.json`` (scale ratio)."""
    from PIL import Image

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    for name, mask in section_masks(nerve, scale_um_per_px).items():
        Image.fromarray(mask.astype(np.uint8) * np.uint8(255)).save(d / f"{name}{suffix}")
    cfg = {"scale": {"scale_ratio": scale_um_per_px}, "modes": {"scale_input": "RATIO"}}
    (d / SAMPLE_JSON).write_text(json.dumps(cfg, indent=2), "utf-8")
    return d
