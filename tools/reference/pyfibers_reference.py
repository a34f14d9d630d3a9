#!/usr/bin/env python3
# ruff: noqa
# Verbatim copy of shared/tools/pyfibers_reference.py (project tool, not PyFibers code), kept
# here so that tools/reference/ regenerates everything on its own.
"""Reference activation-threshold runner built on PyFibers (NEURON).

Purpose: produce anchor thresholds + wall-clock timings that a new (fast/batched)
fiber solver can be compared against, case by case, in the same run.

Usage
-----
    python pyfibers_reference.py cases.json            # cases from a file
    cat cases.json | python pyfibers_reference.py -    # cases from stdin
    python pyfibers_reference.py cases.json --workers 2 --out results.json --jsonl partial.jsonl
    python pyfibers_reference.py --example             # print an example case list

Input: a JSON list of case objects (or {"cases": [...]}) .  Output (stdout, and
--out if given): a JSON object {"meta": {...}, "results": [...]}, one result per
case, in input order.  Progress/diagnostics go to stderr only.

Case schema (all keys optional except model and diameter_um)
------------------------------------------------------------
  id                 str    free label
  model              str    PyFibers FiberModel name: MRG_INTERPOLATION, MRG_DISCRETE,
                            PENA, SUNDT, TIGERHOLM, RATTAY, SCHILD97, SCHILD94,
                            SWEENEY, THIO_AUTONOMIC, THIO_CUTANEOUS
  diameter_um        float  fiber diameter (um)
  n_nodes            int    number of nodes (default 101); OR
  length_um          float  fiber length (um) (used if given, overrides n_nodes)
  passive_end_nodes  int|bool  PyFibers default True (=1 passive node each end)
  temperature_C      float  default 37
  distance_mm        float  perpendicular electrode-to-fiber-axis distance (default 1.0)
  z_offset_frac      float  electrode longitudinal offset from the CENTER NODE as a
                            fraction of delta_z (0 = over a node, 0.5 = mid-internode)
                            (default 0)
  sigma              float | [sx, sy, sz]  S/m; isotropic or anisotropic (fiber axis = z)
                            default 0.3.  Point-source formula of PyFibers
                            Fiber.point_source_potentials (anisotropic = approximate form
                            V = I / (4 pi sqrt(sy sz x^2 + sx sz y^2 + sx sy z^2))).
  waveform           "monophasic" | "biphasic"  (default monophasic).  Rectangular.
                            Biphasic = symmetric charge-balanced: phase 1 (pw) then
                            optional interphase gap (ipg_ms) then phase 2 (pw) of
                            opposite sign and equal amplitude.
  polarity           "cathodic" | "anodic"  polarity of (first) phase (default cathodic)
  pw_ms              float  (per-phase) pulse width, ms (default 0.1)
  ipg_ms             float  interphase gap for biphasic, ms (default 0)
  delay_ms           float  pulse onset time, ms (default 0)
  dt_ms              float  NEURON time step (default 0.001 = PyFibers default)
  tstop_ms           float  simulation stop time (default 5 for myelinated, 20 for
                            unmyelinated; PyFibers' own default is 50)
  ap_detect_location float  normalized location of AP detection node (default 0.9)
  find_threshold     dict   extra kwargs for ScaledStim.find_threshold. PyFibers defaults:
                            stimamp_top=-1, stimamp_bottom=-0.01 (scaling of a 1 mA
                            source, sign = polarity), bounds_search_mode='percent',
                            bounds_search_step=10, termination_mode='percent',
                            termination_tolerance=1, bisection_mean='arithmetic',
                            exit_t_shift=5, max_iterations=50.  If you pass
                            stimamp_top/bottom give them as POSITIVE magnitudes in mA;
                            the sign is applied from `polarity`.

Result fields: everything in the case (with defaults filled), plus
  threshold_mA (positive magnitude of the first-phase current at threshold),
  threshold_signed_mA, n_aps, ap_time_ms, n_run_sim, simulated_ms_total,
  wall_s_build, wall_s_threshold, wall_s_total, cpu_s_threshold (process CPU time of
  the search; robust to other load on the machine), n_sections, n_nodes_actual,
  length_um_actual, delta_z_um, error (null if OK), pid.

Threshold definition = PyFibers find_threshold(condition='activation'): smallest
amplitude (upper bracket after bisection to `termination_tolerance` %) that produces
>=1 AP (Vm crossing -30 mV, APCount) at the node nearest ap_detect_location.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import platform
import sys
import time
import traceback

EXAMPLE_CASES = [
    {
        "id": "mrg10_d1_pw0.1",
        "model": "MRG_INTERPOLATION",
        "diameter_um": 10.0,
        "n_nodes": 101,
        "distance_mm": 1.0,
        "sigma": 0.3,
        "waveform": "monophasic",
        "pw_ms": 0.1,
    },
    {
        "id": "mrg5.7_d1_pw0.25_aniso",
        "model": "MRG_INTERPOLATION",
        "diameter_um": 5.7,
        "n_nodes": 101,
        "distance_mm": 1.0,
        "sigma": [0.083, 0.083, 0.571],
        "waveform": "monophasic",
        "pw_ms": 0.25,
    },
    {
        "id": "mrg10_d1_bi0.1",
        "model": "MRG_INTERPOLATION",
        "diameter_um": 10.0,
        "n_nodes": 101,
        "distance_mm": 1.0,
        "sigma": 0.3,
        "waveform": "biphasic",
        "pw_ms": 0.1,
        "ipg_ms": 0.0,
    },
    {
        "id": "sundt1_d0.5_pw0.5",
        "model": "SUNDT",
        "diameter_um": 1.0,
        "length_um": 10000,
        "distance_mm": 0.5,
        "sigma": 0.3,
        "waveform": "monophasic",
        "pw_ms": 0.5,
        "tstop_ms": 20,
    },
]


def _versions() -> dict:
    out = {"python": platform.python_version(), "platform": platform.platform()}
    try:
        import importlib.metadata as md

        out["pyfibers"] = md.version("pyfibers")
        out["neuron"] = md.version("neuron")
        out["numpy"] = md.version("numpy")
    except Exception as e:  # noqa: BLE001
        out["version_error"] = repr(e)
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    out["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    out["cpu_count"] = os.cpu_count()
    return out


def _fill_defaults(case: dict) -> dict:
    c = dict(case)
    c.setdefault("id", None)
    c.setdefault("model", "MRG_INTERPOLATION")
    if "length_um" not in c or c["length_um"] is None:
        c.setdefault("n_nodes", 101)
        c["length_um"] = None
    else:
        c["n_nodes"] = None
    c.setdefault("passive_end_nodes", True)
    c.setdefault("temperature_C", 37.0)
    c.setdefault("distance_mm", 1.0)
    c.setdefault("z_offset_frac", 0.0)
    c.setdefault("sigma", 0.3)
    c.setdefault("waveform", "monophasic")
    c.setdefault("polarity", "cathodic")
    c.setdefault("pw_ms", 0.1)
    c.setdefault("ipg_ms", 0.0)
    c.setdefault("delay_ms", 0.0)
    c.setdefault("dt_ms", 0.001)
    myelinated = c["model"].upper() in (
        "MRG_INTERPOLATION",
        "MRG_DISCRETE",
        "PENA",
        "SMALL_MRG_INTERPOLATION",
        "SWEENEY",
    )
    c.setdefault("tstop_ms", 5.0 if myelinated else 20.0)
    c.setdefault("ap_detect_location", 0.9)
    c.setdefault("find_threshold", {})
    return c


def _make_waveform(c: dict):
    """Unit rectangular waveform as a callable of t (ms), evaluated on the dt grid."""
    dt = c["dt_ms"]
    d0 = int(round(c["delay_ms"] / dt))
    npw = int(round(c["pw_ms"] / dt))
    nipg = int(round(c["ipg_ms"] / dt))
    if npw < 1:
        raise ValueError("pw_ms must be >= dt_ms")
    biphasic = c["waveform"].lower().startswith("bi")
    if not biphasic and not c["waveform"].lower().startswith("mono"):
        raise ValueError(f"unknown waveform {c['waveform']!r}")

    def wf(t: float) -> float:
        k = int(round(t / dt)) - d0
        if 0 <= k < npw:
            return 1.0
        if biphasic and npw + nipg <= k < 2 * npw + nipg:
            return -1.0
        return 0.0

    return wf


def run_case(case: dict) -> dict:
    """Build one fiber, compute its activation threshold with PyFibers, time it."""
    c = _fill_defaults(case)
    res = dict(c)
    res.update(
        {
            "threshold_mA": None,
            "threshold_signed_mA": None,
            "n_aps": None,
            "ap_time_ms": None,
            "n_run_sim": 0,
            "simulated_ms_total": 0.0,
            "wall_s_build": None,
            "wall_s_threshold": None,
            "wall_s_total": None,
            "cpu_s_threshold": None,
            "n_sections": None,
            "n_nodes_actual": None,
            "length_um_actual": None,
            "delta_z_um": None,
            "error": None,
            "pid": os.getpid(),
        }
    )
    t_start = time.perf_counter()
    try:
        import warnings

        import numpy as np  # noqa: F401  (PyFibers imports numpy before NEURON)
        import pyfibers
        from neuron import h
        from pyfibers import FiberModel, ScaledStim, build_fiber

        pyfibers.logger.setLevel("WARNING")
        warnings.simplefilter("ignore")

        model = getattr(FiberModel, c["model"].upper())
        kw = {"temperature": c["temperature_C"], "passive_end_nodes": c["passive_end_nodes"]}
        t0 = time.perf_counter()
        if c["length_um"] is not None:
            fiber = build_fiber(model, diameter=c["diameter_um"], length=c["length_um"], **kw)
        else:
            fiber = build_fiber(model, diameter=c["diameter_um"], n_nodes=int(c["n_nodes"]), **kw)

        # locate the center node and put the point source over it (+ optional offset)
        k_mid = len(fiber.nodes) // 2
        mid_node = fiber.nodes[k_mid]
        sec_idx = next(i for i, s in enumerate(fiber.sections) if s == mid_node)
        z_node = float(fiber.coordinates[sec_idx, 2])
        z_el = z_node + float(c["z_offset_frac"]) * float(fiber.delta_z)
        x_el = float(c["distance_mm"]) * 1000.0
        sigma = c["sigma"]
        sigma_arg = (
            float(sigma) if isinstance(sigma, (int, float)) else tuple(float(s) for s in sigma)
        )
        fiber.potentials = fiber.point_source_potentials(
            x_el, 0.0, z_el, 1.0, sigma_arg
        )  # 1 mA source
        res["wall_s_build"] = time.perf_counter() - t0
        res["n_sections"] = len(fiber.sections)
        res["n_nodes_actual"] = len(fiber.nodes)
        res["length_um_actual"] = float(fiber.length)
        res["delta_z_um"] = float(fiber.delta_z)

        stim = ScaledStim(waveform=_make_waveform(c), dt=c["dt_ms"], tstop=c["tstop_ms"])

        # count simulations + simulated time (instance-level wrapper; threshsim calls self.run_sim)
        orig_run_sim = stim.run_sim

        def counted_run_sim(*a, **k):
            out = orig_run_sim(*a, **k)
            res["n_run_sim"] += 1
            res["simulated_ms_total"] += float(h.t)
            return out

        stim.run_sim = counted_run_sim

        ft = dict(c["find_threshold"])
        sign = -1.0 if c["polarity"].lower().startswith("cath") else 1.0
        for key in ("stimamp_top", "stimamp_bottom"):
            if key in ft:
                ft[key] = sign * abs(float(ft[key]))
        ft.setdefault("stimamp_top", sign * 1.0)
        ft.setdefault("stimamp_bottom", sign * 0.01)
        t1 = time.perf_counter()
        c1 = time.process_time()
        amp, (n_aps, ap_time) = stim.find_threshold(
            fiber, condition="activation", ap_detect_location=c["ap_detect_location"], **ft
        )
        res["wall_s_threshold"] = time.perf_counter() - t1
        res["cpu_s_threshold"] = time.process_time() - c1
        res["threshold_signed_mA"] = float(amp)
        res["threshold_mA"] = abs(float(amp))
        res["n_aps"] = int(n_aps)
        res["ap_time_ms"] = None if ap_time is None else float(ap_time)
        res["find_threshold_effective"] = {
            k: (float(v) if isinstance(v, (int, float)) else str(v)) for k, v in ft.items()
        }
    except Exception as e:  # noqa: BLE001
        res["error"] = f"{type(e).__name__}: {e}"
        res["traceback"] = traceback.format_exc(limit=3)
    res["wall_s_total"] = time.perf_counter() - t_start
    print(
        f"[pyfibers_reference] {res.get('id')}: thr={res['threshold_mA']} mA "
        f"t={res['wall_s_total']:.1f}s sims={res['n_run_sim']} err={res['error']}",
        file=sys.stderr,
        flush=True,
    )
    return res


def _run_indexed(item):
    i, case = item
    return i, run_case(case)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("cases", nargs="?", help="JSON file with a list of cases, or '-' for stdin")
    ap.add_argument(
        "--workers",
        type=int,
        default=1,
        help="process-level parallelism (one fresh process per case); default 1 = serial",
    )
    ap.add_argument("--out", help="also write the JSON output to this file")
    ap.add_argument(
        "--jsonl", help="append each result to this JSON-lines file as soon as it finishes"
    )
    ap.add_argument("--example", action="store_true", help="print an example case list and exit")
    args = ap.parse_args(argv)
    if args.example:
        print(json.dumps(EXAMPLE_CASES, indent=1))
        return 0
    if not args.cases:
        ap.error("cases file required (or --example)")
    raw = sys.stdin.read() if args.cases == "-" else open(args.cases).read()
    cases = json.loads(raw)
    if isinstance(cases, dict):
        cases = cases["cases"]

    t0 = time.perf_counter()
    # one fresh process per case (maxtasksperchild=1) so NEURON state never leaks between
    # cases; --workers 1 = serial.  Results are streamed to --jsonl as they finish.
    ctx = mp.get_context("fork")
    results = [None] * len(cases)
    jsonl = open(args.jsonl, "a") if args.jsonl else None
    with ctx.Pool(max(1, args.workers), maxtasksperchild=1) as pool:
        for i, r in pool.imap_unordered(_run_indexed, list(enumerate(cases)), chunksize=1):
            r["index"] = i
            results[i] = r
            if jsonl:
                jsonl.write(json.dumps(r) + "\n")
                jsonl.flush()
    if jsonl:
        jsonl.close()
    wall = time.perf_counter() - t0
    meta = _versions()
    meta.update(
        {
            "workers": args.workers,
            "n_cases": len(cases),
            "wall_s_all_cases": wall,
            "script": os.path.basename(__file__),
            "point_source_current_mA": 1.0,
            "threshold_definition": "PyFibers ScaledStim.find_threshold(condition='activation'); "
            "AP = APCount Vm>-30 mV at node nearest ap_detect_location",
        }
    )
    out = {"meta": meta, "results": results}
    txt = json.dumps(out, indent=1)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(txt)
    print(txt)
    return 0


if __name__ == "__main__":
    sys.exit(main())
