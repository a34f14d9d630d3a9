"""Thresholds of a fibre population under an electrode: by the solver, or by a surrogate.

:func:`solver_thresholds` runs the threshold function on fibres grouped by model and diameter
bin (one fibre geometry per bin, simulated at the bin centre), one call per bin and pulse width.

:func:`surrogate_thresholds` is how a default recruitment table is built: the solver runs only
on a small *design* sample of the nerve; per fibre model and pulse width a
:class:`~openvns.nerve.surrogate.Surrogate` is fitted to the design thresholds (from cheap
features of each fibre's own field) and applied to a large weighted population, for which only
the field is evaluated. Design fibres are described by the diameter they were simulated at (the
bin centre) and that fibre's node spacing, so the fit sees exactly what the solver saw;
population fibres by their own diameter and a node spacing interpolated between bin fibres.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from openvns.device.waveforms import PulseShape
from openvns.nerve import data_files
from openvns.nerve.field import FieldModel
from openvns.nerve.surrogate import fibre_features, fit_surrogate

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
Progress = Callable[[int, int], None]


class FibreSample(Protocol):
    """What the threshold functions read of a fibre sample: a
    :class:`~openvns.nerve.population.FibrePopulation` or a transcutaneous
    :class:`~openvns.nerve.transcutaneous.SitePopulation`."""

    @property
    def x_um(self) -> FloatArray: ...
    @property
    def y_um(self) -> FloatArray: ...
    @property
    def diameter_um(self) -> FloatArray: ...
    @property
    def model(self) -> NDArray[np.str_]: ...
    @property
    def z_offset_frac(self) -> FloatArray: ...
    def __len__(self) -> int: ...


@dataclass(frozen=True)
class Bin:
    """Fibres of one model simulated with one geometry (diameter at the bin centre, µm)."""

    model: str
    diameter_um: float
    members: IntArray


def diameter_bins(
    pop: FibreSample, widths: dict[str, float], members: IntArray | None = None
) -> list[Bin]:
    """Group ``members`` (default: all fibres) by model and diameter bin of ``widths`` (µm)."""
    idx = np.arange(len(pop)) if members is None else np.asarray(members, dtype=np.int64)
    out: list[Bin] = []
    for model in sorted(set(pop.model[idx].tolist())):
        sel = idx[pop.model[idx] == model]
        w = widths[model]
        k = np.floor(pop.diameter_um[sel] / w).astype(np.int64)
        for b in np.unique(k):
            out.append(Bin(model, float((b + 0.5) * w), sel[k == b].astype(np.int64)))
    return out


def build_bin_fiber(builder: Callable[..., Any], model: str, diameter_um: float,
                    fibre_cfg: dict[str, Any]) -> Any:  # fmt: skip
    """The fibre of a bin: ``MRG_n_nodes`` nodes for the myelinated models (MRG, PENA), or
    ``C_length_um`` long (``recruitment.yaml``)."""
    if model in ("MRG", "PENA"):
        n_nodes = int(data_files.value(fibre_cfg["MRG_n_nodes"]))
        return builder(model, diameter_um=diameter_um, n_nodes=n_nodes)
    length = float(data_files.value(fibre_cfg["C_length_um"]))
    return builder(model, diameter_um=diameter_um, length_um=length)


def solver_thresholds(
    pop: FibreSample,
    members: IntArray,
    pulse_widths_us: tuple[float, ...],
    waveform: Callable[[float], PulseShape],
    threshold_fn: Callable[..., Any],
    fiber_builder: Callable[..., Any],
    fld: FieldModel,
    cfg: dict[str, Any],
    progress: Progress | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Solver thresholds of fibres ``members`` of ``pop`` at each pulse width.

    Returns
    -------
    thresholds_mA, diameter_um, spacing_um
        ``(n, n_pw)`` thresholds (``inf`` where none was found), and per fibre the diameter it
        was simulated at (bin centre, µm) and that fibre's node spacing ``delta_z_um`` (µm).
    """
    members = np.asarray(members, dtype=np.int64)
    pos = {int(m): i for i, m in enumerate(members)}
    widths = {m: float(data_files.value(v)) for m, v in cfg["diameter_bin_um"].items()}
    bins = diameter_bins(pop, widths, members)
    thr = np.full((members.size, len(pulse_widths_us)), np.inf)
    dsim, spacing = np.empty(members.size), np.empty(members.size)
    total, done = len(bins) * len(pulse_widths_us), 0
    if progress is not None:
        progress(done, total)  # the size of the job, before the first (slowest) batch
    for b in bins:
        fiber = build_bin_fiber(fiber_builder, b.model, b.diameter_um, cfg["fibre"])
        z = np.asarray(fiber.z_um, dtype=np.float64)
        nodes = np.asarray(fiber.node_indices)
        z_mid = z[int(nodes[len(nodes) // 2])]
        offsets = pop.z_offset_frac[b.members] * float(fiber.delta_z_um)
        z_fibres = (z - z_mid)[None, :] + offsets[:, None]
        ve = fld.potentials(pop.x_um[b.members], pop.y_um[b.members], z_fibres)
        rows = np.array([pos[int(m)] for m in b.members], dtype=np.int64)
        dsim[rows], spacing[rows] = b.diameter_um, float(fiber.delta_z_um)
        s = cfg["solver"][b.model]
        for j, pw in enumerate(pulse_widths_us):
            res = threshold_fn(
                fiber,
                ve,
                waveform(pw),
                dt_us=float(s["dt_us"]),
                tstop_ms=float(s["tstop_ms"]),
                rel_tol=float(s["rel_tol"]),
            )
            t = np.asarray(res.threshold_mA, dtype=np.float64)
            thr[rows, j] = np.where(np.isfinite(t) & (t > 0), t, np.inf)
            done += 1
            if progress is not None:
                progress(done, total)
    return thr, dsim, spacing


def _grid(model: str, cfg: dict[str, Any]) -> dict[str, Any]:
    g = cfg["surrogate"][model]
    return {"n_points": int(g["n_points"]), "scales": [int(s) for s in g["scales"]],
            "grid_um": g.get("grid_um")}  # fmt: skip


def _population_spacing(
    model: str, diameter_um: FloatArray, fiber_builder: Callable[..., Any], cfg: dict[str, Any]
) -> FloatArray | float:
    """Node spacing (µm) per fibre: interpolated between bin-centre fibres (nodes grid)."""
    g = _grid(model, cfg)
    if g["grid_um"] is not None:
        return float(g["grid_um"])
    w = float(data_files.value(cfg["diameter_bin_um"][model]))
    k = np.arange(np.floor(diameter_um.min() / w), np.floor(diameter_um.max() / w) + 1)
    centres = (k + 0.5) * w
    dz = [float(build_bin_fiber(fiber_builder, model, float(c), cfg["fibre"]).delta_z_um)
          for c in centres]  # fmt: skip
    return np.asarray(np.interp(diameter_um, centres, dz), dtype=np.float64)


def surrogate_thresholds(
    design: FibreSample,
    pop: FibreSample,
    pulse_widths_us: tuple[float, ...],
    waveform: Callable[[float], PulseShape],
    threshold_fn: Callable[..., Any],
    fiber_builder: Callable[..., Any],
    fld: FieldModel,
    cfg: dict[str, Any],
    progress: Progress | None = None,
) -> tuple[FloatArray, dict[str, Any]]:
    """Thresholds of every fibre of ``pop`` from surrogates fitted on ``design``.

    Parameters
    ----------
    design, pop
        Design sample (solver thresholds) and the population to predict, of the same nerve.
    pulse_widths_us, waveform, threshold_fn, fiber_builder, fld
        As for :func:`solver_thresholds`.
    cfg
        ``data/recruitment.yaml`` (``solver``, ``fibre``, ``diameter_bin_um``, ``surrogate``).
    progress
        Called as ``progress(done, total)``: first ``(0, total)``, then after each batch of
        solver thresholds and after each fibre model's features and surrogates; the last call
        is ``(total, total)``.

    Returns
    -------
    thresholds_mA, report
        ``(len(pop), n_pw)`` predicted thresholds (mA) and, per model and pulse width, the
        surrogate's fit statistics (leave-one-out error of log threshold).
    """
    out = np.full((len(pop), len(pulse_widths_us)), np.inf)
    report: dict[str, Any] = {}
    idx_all = np.arange(len(design), dtype=np.int64)
    models = sorted(set(pop.model.tolist()))
    # one step per solver batch, then one per fibre model: its population's field features
    # (tens of seconds for ~4096 fibres per group) and its surrogates
    solver_steps = [0]

    def solver_progress(done: int, total: int) -> None:
        solver_steps[0] = total
        if progress is not None:
            progress(done, total + len(models))

    d_thr, d_dsim, d_spacing = solver_thresholds(
        design, idx_all, pulse_widths_us, waveform, threshold_fn, fiber_builder, fld, cfg,
        solver_progress,
    )  # fmt: skip
    for k, model in enumerate(models):
        g = _grid(model, cfg)
        di = np.flatnonzero(design.model == model)
        pi = np.flatnonzero(pop.model == model)
        dz = d_spacing[di] if g["grid_um"] is None else float(g["grid_um"])
        zoff = design.z_offset_frac[di] if g["grid_um"] is None else np.zeros(di.size)
        fd = fibre_features(fld, design.x_um[di], design.y_um[di], d_dsim[di], zoff,
                            spacing_um=dz, n_points=g["n_points"], scales=g["scales"])  # fmt: skip
        sp = _population_spacing(model, pop.diameter_um[pi], fiber_builder, cfg)
        zoff = pop.z_offset_frac[pi] if g["grid_um"] is None else np.zeros(pi.size)
        fp = fibre_features(fld, pop.x_um[pi], pop.y_um[pi], pop.diameter_um[pi], zoff,
                            spacing_um=sp, n_points=g["n_points"], scales=g["scales"])  # fmt: skip
        report[model] = {}
        for j, pw in enumerate(pulse_widths_us):
            sur = fit_surrogate(fd, d_thr[di, j])
            out[pi, j] = sur.predict(fp)
            report[model][f"{pw:g}"] = {
                **sur.summary(),
                "design_not_activated": int(np.sum(~np.isfinite(d_thr[di, j]))),
            }
        if progress is not None:
            progress(solver_steps[0] + k + 1, solver_steps[0] + len(models))
    return out, report
