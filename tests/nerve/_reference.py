"""Shared helpers of the fibre-solver tests: PyFibers reference cases and a point source."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from openvns.nerve.fibres import Fiber, build_fiber

DATA = Path(__file__).resolve().parents[1] / "data" / "pyfibers"


def load_json(*parts: str) -> Any:
    """Load reference JSON; large files are stored gzip-compressed as ``<name>.json.gz``."""
    path = DATA.joinpath(*parts)
    if not path.exists() and path.with_name(path.name + ".gz").exists():
        return json.loads(gzip.decompress(path.with_name(path.name + ".gz").read_bytes()))
    return json.loads(path.read_text())


def stems(folder: str) -> list[str]:
    """Names (without ``.json``/``.json.gz``) of the reference files in ``folder``."""
    names = {
        p.name.removesuffix(".gz").removesuffix(".json") for p in (DATA / folder).glob("*.json*")
    }
    return sorted(names)


def point_source_ve(
    fiber: Fiber, distance_mm: float, sigma: float | list[float], z_offset_frac: float = 0.0
) -> NDArray[np.float64]:
    """PyFibers' point-source potential (mV per mA) over the centre node (+ offset along z)."""
    z = fiber.z_um
    zc = z[fiber.node_indices[fiber.node_indices.size // 2]] + z_offset_frac * fiber.delta_z_um
    x = distance_mm * 1e-3
    dz = (z - zc) * 1e-6
    if isinstance(sigma, int | float):
        return 1.0 / (4 * np.pi * sigma * np.sqrt(x**2 + dz**2))
    sx, sy, sz = sigma
    return 1.0 / (4 * np.pi * np.sqrt(sy * sz * x**2 + sx * sy * dz**2))


def case_inputs(case: dict[str, Any]) -> tuple[Fiber, NDArray[np.float64], NDArray[np.float64]]:
    """Fibre, potentials and waveform samples (per mA, at ``dt_ms``) of a reference case."""
    model = "C" if case["model"] == "SUNDT" else case["model"]
    fiber = build_fiber(
        model, case["diameter_um"], n_nodes=case.get("n_nodes"), length_um=case.get("length_um")
    )
    ve = point_source_ve(fiber, case["distance_mm"], case["sigma"], case.get("z_offset_frac", 0.0))
    dt = case["dt_ms"]
    n = round(case["tstop_ms"] / dt)
    d0 = round(case.get("delay_ms", 0.0) / dt)
    npw = round(case["pw_ms"] / dt)
    sign = -1.0 if case.get("polarity", "cathodic") == "cathodic" else 1.0
    wave = np.zeros(n)
    wave[d0 : d0 + npw] = sign
    if case["waveform"] == "biphasic":
        gap = round(case.get("ipg_ms", 0.0) / dt)
        wave[d0 + npw + gap : d0 + 2 * npw + gap] = -sign
    return fiber, ve, wave


def bracket_error(ours: float, ref: float, ref_rel_width: float) -> float:
    """Relative distance of ``ours`` from the reference bracket ``[ref (1 - w), ref]``."""
    lo = ref * (1.0 - ref_rel_width)
    if lo <= ours <= ref:
        return 0.0
    return ours / ref - 1.0 if ours > ref else ours / lo - 1.0
