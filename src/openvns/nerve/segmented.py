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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage  # type: ignore[import-untyped]

from openvns.errors import ValidationError
from openvns.nerve.geometry import Nerve
from openvns.nerve.segmented_fit import (
    CIRCLE_TOL,
    Region,
    build_nerve,
    number_value,
    pixel_region,
    polygon_region,
    scale_value,
)

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
    s = scale_value("scale_um_per_px", scale_um_per_px)
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
        s = scale_value("scale_um_per_px", scale_um_per_px)
    elif modes.get("scale_input", "RATIO" if "scale_ratio" in scale_cfg else "MASK") == "RATIO":
        s = scale_value("sample.json scale.scale_ratio", scale_cfg.get("scale_ratio"))
    else:
        length = scale_value(
            "sample.json scale.scale_bar_length", scale_cfg.get("scale_bar_length")
        )
        if files["s"] is None:
            raise ValidationError("s mask", str(d / "s.tif"), "a scale-bar image")
        cols = np.flatnonzero(read_mask(files["s"]).any(axis=0))
        if cols.size == 0:
            raise ValidationError("s mask", "no white pixels", "a white horizontal scale bar")
        s = length / float(cols[-1] - cols[0] + 1)
    shrink = number_value("sample.json scale.shrinkage", scale_cfg.get("shrinkage", 0.0))
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
        min_object_px=int(number_value("object_removal_area", prep.get("object_removal_area", 0))),
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
    on = np.any(np.hypot(points[:, None, 0] - ax, points[:, None, 1] - ay) < CIRCLE_TOL, axis=1)
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
        nerve_margin_um=None if margin is None else number_value("nerve_margin_um", margin),
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
    s = scale_value("scale_um_per_px", scale_um_per_px)
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
