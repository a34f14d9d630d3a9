#!/usr/bin/env python3
"""Record PyFibers/NEURON voltage and gating traces for solver debugging (data, JSON).

REFERENCE TOOL ONLY.  This script lives outside the ``openvns`` package and is never imported
by it or by its tests.  It imports ``pyfibers`` and ``neuron`` and must run only in the
separate PyFibers environment (see tools/reference/README.md).  It contains no PyFibers code.

The fibre, the electrode and the stimulus are set up exactly as in
``tools/reference/pyfibers_reference.py`` (copy of ``shared/tools/pyfibers_reference.py``),
which produced the threshold cases: ``build_fiber`` (37 C, 1 passive end node each side),
``Fiber.point_source_potentials`` for a 1 mA source at (distance, 0, z of the centre node),
and a ``ScaledStim`` with the same rectangular unit waveform, scaled by the signed amplitude
(negative = cathodic).  The run is PyFibers' own ``ScaledStim.run_sim`` (pre_run_setup =
finitialize + 200 ms steady state at dt 5 ms; then per step: set e_extracellular, fadvance),
without early exit, to tstop.

Every quantity is recorded at every time step with NEURON ``Vector.record`` and written every
``--every`` steps (default 10 = 0.01 ms), rounded to 6 significant digits.

Usage (PyFibers venv)::

    python tools/reference/trace_pyfibers.py --outdir tests/data/pyfibers/traces
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

TRACE_SPECS = [
    # MRG 10 um, 101 nodes, 1 mm, 0.1 ms; threshold ~0.183 mA
    {
        "file": "mrg10_r1_pw0.1_0.15.json",
        "model": "MRG_INTERPOLATION",
        "diameter_um": 10.0,
        "n_nodes": 101,
        "distance_mm": 1.0,
        "pw_ms": 0.1,
        "amp_mA": 0.15,
        "tstop_ms": 3.0,
    },
    {
        "file": "mrg10_r1_pw0.1_0.25.json",
        "model": "MRG_INTERPOLATION",
        "diameter_um": 10.0,
        "n_nodes": 101,
        "distance_mm": 1.0,
        "pw_ms": 0.1,
        "amp_mA": 0.25,
        "tstop_ms": 3.0,
    },
    # Sundt 1 um, 10 mm, 0.5 mm, 0.5 ms; threshold ~0.698 mA
    {
        "file": "sundt1_r0.5_pw0.5_0.6.json",
        "model": "SUNDT",
        "diameter_um": 1.0,
        "length_um": 10000.0,
        "distance_mm": 0.5,
        "pw_ms": 0.5,
        "amp_mA": 0.6,
        "tstop_ms": 10.0,
    },
    {
        "file": "sundt1_r0.5_pw0.5_0.8.json",
        "model": "SUNDT",
        "diameter_um": 1.0,
        "length_um": 10000.0,
        "distance_mm": 0.5,
        "pw_ms": 0.5,
        "amp_mA": 0.8,
        "tstop_ms": 10.0,
    },
]


def _g6(x: float) -> float:
    return float(f"{float(x):.6g}")


def _l6(vec, every: int) -> list[float]:
    return [_g6(x) for x in list(vec)[::every]]


def run_trace(spec: dict, every: int) -> dict:
    import numpy as np
    import pyfibers
    from neuron import h
    from pyfibers import FiberModel, ScaledStim, build_fiber
    from pyfibers_reference import _fill_defaults, _make_waveform

    pyfibers.logger.setLevel("WARNING")
    warnings.simplefilter("ignore")
    case = {k: v for k, v in spec.items() if k not in ("file", "amp_mA")}
    c = _fill_defaults(case)
    model = getattr(FiberModel, c["model"])
    kw = {"temperature": c["temperature_C"], "passive_end_nodes": c["passive_end_nodes"]}
    if c["length_um"] is not None:
        fiber = build_fiber(model, diameter=c["diameter_um"], length=c["length_um"], **kw)
    else:
        fiber = build_fiber(model, diameter=c["diameter_um"], n_nodes=int(c["n_nodes"]), **kw)
    secs = list(fiber.sections)
    node_ids = {id(n) for n in fiber.nodes}
    node_sec = [i for i, s in enumerate(secs) if id(s) in node_ids]
    k_mid = len(fiber.nodes) // 2
    sec_mid = node_sec[k_mid]
    z_node = float(fiber.coordinates[sec_mid, 2])
    z_el = z_node + float(c["z_offset_frac"]) * float(fiber.delta_z)
    x_el = float(c["distance_mm"]) * 1000.0
    sigma = c["sigma"]
    sigma_arg = float(sigma) if isinstance(sigma, (int, float)) else tuple(map(float, sigma))
    ve = fiber.point_source_potentials(x_el, 0.0, z_el, 1.0, sigma_arg)
    fiber.potentials = ve

    sign = -1.0 if c["polarity"].lower().startswith("cath") else 1.0
    stimamp = sign * abs(float(spec["amp_mA"]))
    stim = ScaledStim(waveform=_make_waveform(c), dt=c["dt_ms"], tstop=c["tstop_ms"])

    myelinated = c["model"].startswith("MRG")
    if myelinated:
        rec_nodes = list(range(len(fiber.nodes)))  # every node
        near = list(range(sec_mid - 11, sec_mid + 12))  # two full internodes around centre
    else:
        rec_nodes = sorted(
            set(range(0, len(fiber.nodes), 10))
            | {len(fiber.nodes) - 1}
            | set(range(k_mid - 10, k_mid + 11))
        )
        near = list(range(sec_mid - 5, sec_mid + 6))

    tvec = h.Vector().record(h._ref_t, sec=secs[0])
    v_nodes = [h.Vector().record(fiber.nodes[k](0.5)._ref_v) for k in rec_nodes]
    v_near = [h.Vector().record(secs[i](0.5)._ref_v) for i in near]
    vext0_near = [h.Vector().record(secs[i](0.5)._ref_vext[0]) for i in near]
    vext1_mid = h.Vector().record(secs[sec_mid](0.5)._ref_vext[1])
    gates = {}
    for gname, var in fiber.gating_variables.items():
        gates[gname] = h.Vector().record(getattr(fiber.nodes[k_mid](0.5), f"_ref_{var}"))

    t0 = time.perf_counter()
    n_ap, ap_time = stim.run_sim(
        stimamp, fiber, ap_detect_location=c["ap_detect_location"], fail_on_end_excitation=None
    )
    wall = time.perf_counter() - t0
    apc_n = [int(a.n) for a in fiber.apc]
    apc_t = [(_g6(a.time) if a.n > 0 else None) for a in fiber.apc]

    t = np.array(tvec)
    # sanity: one sample per step, starting at t = 0
    n_expected = stim.n_timesteps + 1
    assert len(t) == n_expected, (len(t), n_expected)
    assert abs(t[0]) < 1e-12
    assert abs(t[every] - every * c["dt_ms"]) < 1e-9

    names = [secs[i].name() for i in near]
    return {
        "meta": {
            "what": "PyFibers/NEURON traces, extracellular point-source stimulation",
            "tool": "tools/reference/trace_pyfibers.py",
            "pyfibers": md.version("pyfibers"),
            "neuron": md.version("neuron"),
            "sampling": f"every {every} steps of dt={c['dt_ms']} ms, 6 significant digits",
            "units": {
                "t": "ms",
                "v": "mV (membrane potential = vi - vext[0])",
                "vext": "mV",
                "amp": "mA",
                "ve_per_mA": "mV per 1 mA source",
            },
            "stimulus": "e_extracellular(section, step k) = stimamp * waveform(k*dt) * "
            "ve_per_mA(section), set before the fadvance from k*dt to (k+1)*dt; "
            "waveform = 1 for 0 <= k < pw/dt (monophasic)",
            "wall_s_run_sim": wall,
        },
        "case": c,
        "amp_mA": abs(stimamp),
        "stimamp_signed": stimamp,
        "n_aps_at_detector": int(n_ap),
        "ap_time_at_detector_ms": None if ap_time is None else float(ap_time),
        "detector_node_index": int(fiber.loc_index(c["ap_detect_location"])),
        "apcount_n_per_node": apc_n,
        "apcount_last_time_per_node_ms": apc_t,
        "n_sections": len(secs),
        "n_nodes": len(fiber.nodes),
        "node_section_indices": node_sec,
        "center_node_index": k_mid,
        "center_section_index": sec_mid,
        "delta_z_um": float(fiber.delta_z),
        "ve_per_mA_mV": [float(x) for x in ve],
        "t_ms": _l6(t, every),
        "v_nodes": {"node_indices": rec_nodes, "v": [_l6(vv, every) for vv in v_nodes]},
        "near_center": {
            "section_indices": near,
            "section_names": names,
            "v": [_l6(vv, every) for vv in v_near],
            "vext0": [_l6(vv, every) for vv in vext0_near],
        },
        "vext1_center_node": _l6(vext1_mid, every),
        "gating_center_node": {g: _l6(vv, every) for g, vv in gates.items()},
    }


def _child(spec, every, path):
    out = run_trace(spec, every)
    with open(path, "w") as fh:
        json.dump(out, fh, separators=(",", ":"))
    print(
        f"wrote {path}: n_aps={out['n_aps_at_detector']} "
        f"t_ap={out['ap_time_at_detector_ms']} wall={out['meta']['wall_s_run_sim']:.1f}s",
        file=sys.stderr,
        flush=True,
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--outdir", default="tests/data/pyfibers/traces")
    ap.add_argument("--every", type=int, default=10)
    ap.add_argument("--only", help="substring filter on output file names")
    args = ap.parse_args(argv)
    os.makedirs(args.outdir, exist_ok=True)
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    for spec in TRACE_SPECS:
        if args.only and args.only not in spec["file"]:
            continue
        path = os.path.join(args.outdir, spec["file"])
        p = ctx.Process(target=_child, args=(spec, args.every, path))
        p.start()
        p.join()
        if p.exitcode != 0:
            print(f"FAILED {spec['file']}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
