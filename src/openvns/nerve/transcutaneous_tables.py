"""Recruitment tables of the transcutaneous leads, built like the cuff's and cached the same way.

:func:`build_transcutaneous_table` samples the site's fibres
(:func:`~openvns.nerve.transcutaneous.sample_site_population`), builds the layered field once and
gets every fibre's threshold at each pulse width by the cuff's method: the solver on a small
design sample (same site and seed), a surrogate of log threshold per fibre model and pulse width
from features of each fibre's own field (:mod:`openvns.nerve.surrogate`), applied to the
population. The surrogate is fitted per *band* (vagus, skin, muscle), because the fields of fibres
36 mm deep and 1 mm deep differ by orders of magnitude. A model whose design fibres never fire
within the solver's range (``max_amplitude_mA``, 100 mA) gets ``inf`` thresholds for the whole
band; predictions above that range are ``inf`` as well (the solver would not have found them);
where too few design fibres fire to fit a surrogate, each population fibre takes the threshold of
its nearest design fibre in feature space (counted in the report).

The table (:class:`~openvns.nerve.recruitment.RecruitmentTable`) carries the anatomical groups of
the site with weight 1 per fibre; ``table.metadata["inputs"]["lead"]`` names the lead, through
which :func:`openvns.nerve.transcutaneous.physiology_map` maps it onto the physiology. Cached
under ``<cache_dir>/<sha256>.npz`` (key: every input), shipped prebuilt in ``data/prebuilt``.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from openvns import __version__
from openvns.errors import ValidationError
from openvns.nerve import data_files
from openvns.nerve.fibres.parameters import load as load_fibre_data
from openvns.nerve.layered import LAYERED_SCHEME, LayeredField
from openvns.nerve.population import SAMPLING_SCHEME, PopulationParameters
from openvns.nerve.population_thresholds import _grid, _population_spacing, solver_thresholds
from openvns.nerve.recruitment import (
    CACHE_FORMAT,
    FiberBuilder,
    Progress,
    RecruitmentTable,
    ThresholdFn,
    _canonical,
    _default_fiber_builder,
    _default_threshold_fn,
    _fibre_data_digests,
    _name,
    default_cache_dir,
    load_table,
    prebuilt_table,
    save_table,
)
from openvns.nerve.surrogate import _TINY, SURROGATE_SCHEME, fibre_features, fit_surrogate
from openvns.nerve.transcutaneous import (
    DATA_FILE,
    SITE_SAMPLING_SCHEME,
    LeadGeometry,
    SitePopulation,
    lead_geometry,
    sample_site_population,
    with_vagus_depth,
)
from openvns.parameters.ranges import without_ranges

log = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Identifies the band-wise threshold scheme in cache keys; bump when it changes.
BAND_SCHEME = "band-surrogate/inf-above-max/nearest-design-fallback/1"


def _design_sample(geom: LeadGeometry, seed: int, n_design: dict[str, int]) -> SitePopulation:
    """``n_design[model]`` fibres per group of each model, same site and seed."""
    parts = []
    for model, k in sorted(n_design.items()):
        s = sample_site_population(geom, k, seed, models=(model,))
        if len(s):
            parts.append(s)
    cat = {name: np.concatenate([getattr(p, name) for p in parts])
           for name in ("x_um", "y_um", "diameter_um", "model", "group", "band", "weight",
                        "z_offset_frac")}  # fmt: skip
    return SitePopulation(**cat, groups=geom.groups, seed=seed)


@dataclass(frozen=True)
class LongFibreBuilder:
    """A fibre builder whose myelinated fibres are at least ``length_um`` long.

    MRG and small-fibre MRG fibres get an odd number of nodes, at least the one asked for
    (101) and enough to span ``length_um``; unmyelinated fibres are built as asked. Under skin
    electrodes centimetres apart, 101 nodes of a 2–3 µm fibre (16–30 mm) would end under the
    contacts and fire at their sealed ends.
    """

    base: FiberBuilder
    length_um: float

    def n_nodes(self, delta_z_um: FloatArray | float, asked: int = 101) -> NDArray[np.int64]:
        """Node count for node spacing(s) ``delta_z_um`` (µm): odd, ≥ ``asked``."""
        need = np.ceil(self.length_um / np.asarray(delta_z_um, dtype=np.float64)).astype(np.int64)
        need += 1 + need % 2  # one more node than spans, and odd
        return np.maximum(need, asked + 1 - asked % 2)

    def __call__(self, model: str, **kwargs: Any) -> Any:
        if model not in ("MRG", "PENA"):
            return self.base(model, **kwargs)
        asked = int(kwargs.pop("n_nodes", None) or 101)
        probe = self.base(model, n_nodes=asked, **kwargs)
        n = int(self.n_nodes(float(probe.delta_z_um), asked))
        return probe if n == asked else self.base(model, n_nodes=n, **kwargs)


def _features(fld: LayeredField, pop: SitePopulation, idx: IntArray, model: str,
              spacing: FloatArray | float, diameter: FloatArray, cfg: dict[str, Any],
              builder: LongFibreBuilder, chunk: int = 1024) -> FloatArray:  # fmt: skip
    """Surrogate features of fibres ``idx``: as :func:`~openvns.nerve.surrogate.fibre_features`,
    but for myelinated fibres over each fibre's own nodes (its length varies with its spacing,
    :class:`LongFibreBuilder`), points beyond its ends left out."""
    g = _grid(model, cfg)
    if g["grid_um"] is not None:  # unmyelinated: the cuff's uniform grid
        return fibre_features(
            fld, pop.x_um[idx], pop.y_um[idx], diameter, np.zeros(idx.size),
            spacing_um=spacing, n_points=g["n_points"], scales=g["scales"],
        )  # fmt: skip
    h = np.broadcast_to(np.asarray(spacing, dtype=np.float64), (idx.size,))
    half = (builder.n_nodes(h) - 1) // 2
    n_pts = 2 * int(half.max()) + 1
    k = np.arange(n_pts, dtype=np.float64) - (n_pts - 1) / 2.0
    scales = [int(v) for v in g["scales"]]
    out = np.empty((idx.size, len(scales) + 2))
    for a in range(0, idx.size, chunk):
        b = min(idx.size, a + chunk)
        inside = np.abs(k)[None, :] <= half[a:b, None]
        z = np.where(inside, (k[None, :] + pop.z_offset_frac[idx[a:b], None]) * h[a:b, None], 0.0)
        ve = fld.potentials(pop.x_um[idx[a:b]], pop.y_um[idx[a:b]], z)
        ve[~inside] = np.nan
        for j, st in enumerate(scales):
            af = -(ve[:, : -2 * st] - 2.0 * ve[:, st:-st] + ve[:, 2 * st :]) / float(st * st)
            out[a:b, j] = np.log(np.maximum(np.nanmax(af, axis=1), _TINY))
        out[a:b, len(scales)] = np.log(np.maximum(np.nanmax(np.abs(ve), axis=1), _TINY))
    out[:, -1] = np.log(np.asarray(diameter, dtype=np.float64))
    return out


def band_thresholds(
    design: SitePopulation,
    pop: SitePopulation,
    pulse_widths_us: tuple[float, ...],
    geom: LeadGeometry,
    threshold_fn: ThresholdFn,
    fiber_builder: LongFibreBuilder,
    fld: LayeredField,
    cfg: dict[str, Any],
    max_mA: float,
    progress: Progress | None = None,
) -> tuple[FloatArray, dict[str, Any]]:
    """Thresholds (mA) of every fibre of ``pop`` (one band) from the design's solver runs."""
    out = np.full((len(pop), len(pulse_widths_us)), np.inf)
    report: dict[str, Any] = {}
    d_thr, d_dsim, d_spacing = solver_thresholds(
        design, np.arange(len(design), dtype=np.int64), pulse_widths_us, geom.waveform,
        threshold_fn, fiber_builder, fld, cfg, progress,
    )  # fmt: skip
    for model in sorted(set(pop.model.tolist())):
        g = _grid(model, cfg)
        di = np.flatnonzero(design.model == model)
        pi = np.flatnonzero(pop.model == model)
        d_sp = d_spacing[di] if g["grid_um"] is None else float(g["grid_um"])
        fd = _features(fld, design, di, model, d_sp, d_dsim[di], cfg, fiber_builder)
        p_sp = _population_spacing(model, pop.diameter_um[pi], fiber_builder, cfg)
        fp = _features(fld, pop, pi, model, p_sp, pop.diameter_um[pi], cfg, fiber_builder)
        report[model] = {}
        for j, pw in enumerate(pulse_widths_us):
            t = d_thr[di, j]
            ok = np.isfinite(t)
            entry: dict[str, Any] = {
                "n_design": int(di.size),
                "design_not_activated": int((~ok).sum()),
            }
            if ok.sum() >= fd.shape[1] + 2:
                sur = fit_surrogate(fd, t)
                pred = sur.predict(fp)
                entry.update(sur.summary())
            elif ok.any():  # too few to fit: nearest design fibre in (standardised) features
                z = (fd - fd.mean(axis=0)) / np.where(fd.std(axis=0) > 0, fd.std(axis=0), 1.0)
                zp = (fp - fd.mean(axis=0)) / np.where(fd.std(axis=0) > 0, fd.std(axis=0), 1.0)
                near = np.argmin(((zp[:, None, :] - z[None, :, :]) ** 2).sum(axis=2), axis=1)
                pred = t[near]
                entry["method"] = "nearest-design"
            else:
                pred = np.full(pi.size, np.inf)
                entry["method"] = f"none fire below {max_mA:g} mA"
            pred = np.where(np.isfinite(pred) & (pred <= max_mA), pred, np.inf)
            out[pi, j] = pred
            entry["population_not_activated"] = int(np.sum(~np.isfinite(pred)))
            report[model][f"{pw:g}"] = entry
    return out, report


def table_inputs(
    geom: LeadGeometry,
    seed: int,
    n_per_group: int,
    pulse_widths_us: Sequence[float],
    threshold_fn: ThresholdFn,
    fiber_builder: FiberBuilder,
    fld: LayeredField,
    n_design: dict[str, int],
) -> dict[str, Any]:
    """Every input of a transcutaneous table, JSON-able: what its cache key hashes. Counts,
    the physiology mapping and the perception criterion are not inputs (they act on use), nor are
    the plausible ranges of the settings (they document the values)."""
    rec = without_ranges(data_files.load("recruitment.yaml"))
    vagus: dict[str, Any] | None = None
    if geom.vagus_depth_um is not None:
        params = PopulationParameters.default()
        vagus = {"params": params.model_dump(), "digest": params.digest()}
    return {
        "kind": "transcutaneous",
        "format": CACHE_FORMAT,
        "package_version": __version__,
        "lead": geom.lead,
        "geometry": geom.key(),
        "vagus_population": vagus,
        "seed": seed,
        "n_per_group": n_per_group,
        "sampling": [SITE_SAMPLING_SCHEME, SAMPLING_SCHEME],
        "field": fld.key(),
        "pulse_widths_us": [float(x) for x in pulse_widths_us],
        "waveforms": [repr(geom.waveform(float(pw))) for pw in pulse_widths_us],
        "thresholds": {
            "scheme": BAND_SCHEME,
            "surrogate": SURROGATE_SCHEME,
            "design_per_group": n_design,
            "settings": rec["surrogate"],
        },
        "solver": rec["solver"],
        "fibre": rec["fibre"],
        "diameter_bin_um": rec["diameter_bin_um"],
        "max_amplitude_mA": float(load_fibre_data("solver").get("max_amplitude_mA")),
        "fibre_parameter_files": _fibre_data_digests(),
        "threshold_fn": _name(threshold_fn),
        "fiber_builder": _name(fiber_builder),
        "layered_scheme": LAYERED_SCHEME,
        "nerve_data": {n: data_files.digest(n) for n in ("anatomy.yaml",)},
    }


def build_transcutaneous_table(
    lead: str,
    *,
    seed: int | None = None,
    n_per_group: int | None = None,
    pulse_widths_us: Sequence[float] | None = None,
    threshold_fn: ThresholdFn | None = None,
    fiber_builder: FiberBuilder | None = None,
    cache_dir: Path | str | None = None,
    use_cache: bool = True,
    progress: Progress | None = None,
    design_per_group: dict[str, int] | None = None,
    vagus_depth_um: float | None = None,
) -> RecruitmentTable:
    """Build (or read from cache or the shipped tables) the recruitment table of a skin lead.

    Parameters
    ----------
    lead
        ``"gammacore-contacts"``, ``"ear-cymba-conchae"``, ``"ear-tragus"`` (``"ear-clip"``) or
        ``"ear-lobe"``.
    seed, n_per_group, design_per_group
        Sampling (defaults: ``data/transcutaneous.yaml`` ``table``).
    pulse_widths_us
        Pulse widths to tabulate (default: the lead's; gammaCore: its 1000 µs burst).
    threshold_fn, fiber_builder
        ``find_thresholds``-like and ``build_fiber``-like callables (defaults: the package's).
    cache_dir, use_cache, progress
        As :func:`openvns.nerve.recruitment.build_recruitment_table`.
    vagus_depth_um
        Depth of the cervical vagus's centre (µm; neck only), instead of the published mean
        36.2 mm: tables at several depths describe patients whose vagus lies shallower or
        deeper (Hammer 2018: SD 9.4 mm; :func:`openvns.nerve.transcutaneous.vagus_depth_um`).
    """
    geom = lead_geometry(lead)
    if vagus_depth_um is not None:
        geom = with_vagus_depth(geom, vagus_depth_um)
    cfg = data_files.load(DATA_FILE)["table"]
    seed = int(data_files.value(cfg["seed"])) if seed is None else seed
    n = int(data_files.value(cfg["n_per_group"])) if n_per_group is None else n_per_group
    pws = tuple(sorted({float(x) for x in (pulse_widths_us or geom.pulse_widths_us)}))
    if not pws or any(not (np.isfinite(x) and x > 0) for x in pws):
        raise ValidationError("pulse_widths_us", pws, "pulse widths > 0 µs")
    n_design = {m: int(data_files.value(v)) for m, v in cfg["design_per_group"].items()}
    n_design.update(design_per_group or {})
    for m, k in n_design.items():
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValidationError(f"design_per_group[{m}]", k, "an integer ≥ 1")
    thr_fn = threshold_fn or _default_threshold_fn()
    base_builder = fiber_builder or _default_fiber_builder()
    builder = LongFibreBuilder(base_builder, geom.fibre_length_um)
    fld = geom.field()
    inputs = table_inputs(geom, seed, n, pws, thr_fn, base_builder, fld, n_design)
    key = hashlib.sha256(_canonical(inputs).encode("utf-8")).hexdigest()
    where = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if use_cache:
        cached = load_table(key, where)
        if cached is not None:
            return cached
        shipped = prebuilt_table(inputs, key)
        if shipped is not None:
            save_table(shipped, where)
            return shipped

    t0 = time.perf_counter()
    rec = data_files.load("recruitment.yaml")
    max_mA = float(inputs["max_amplitude_mA"])
    pop = sample_site_population(geom, n, seed)
    design = _design_sample(geom, seed, n_design)
    thresholds = np.full((len(pop), len(pws)), np.inf)
    report: dict[str, Any] = {}
    for band in sorted(set(pop.band.tolist())):
        pi = np.flatnonzero(pop.band == band).astype(np.int64)
        di = np.flatnonzero(design.band == band).astype(np.int64)
        thr, rep = band_thresholds(design.subset(di), pop.subset(pi), pws, geom, thr_fn,
                                   builder, fld, rec, max_mA, progress)  # fmt: skip
        thresholds[pi] = thr
        report[band] = rep
    build_s = time.perf_counter() - t0
    group_index = np.array([geom.groups.index(g) for g in pop.group], dtype=np.int64)
    table = RecruitmentTable(
        groups=geom.groups,
        pulse_widths_us=np.array(pws),
        thresholds_mA=thresholds,
        group_index=group_index,
        weight=pop.weight,
        key=key,
        metadata={"inputs": inputs, "build_seconds": build_s, "surrogate": report},
    )
    log.info("transcutaneous table %s (%s) built in %.1f s", key[:12], geom.lead, build_s)
    if use_cache:
        save_table(table, where)
    return table
