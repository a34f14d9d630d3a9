"""Benchmark: MRG/C activation thresholds, OpenVNS batched solver vs PyFibers/NEURON.

Runs the PyFibers reference cases (tests/data/pyfibers/thresholds_1pct.json: MRG-interpolation
101 nodes, point source, dt 1 µs) through :func:`openvns.nerve.threshold.find_thresholds` and
prints thresholds per second, the errors against the references and the throughput ratio to
PyFibers at its default settings (tstop 50 ms, 1 % bisection). With ``--pyfibers`` and the
PyFibers environment present (``$PYFIBERS_PYTHON``, default /tmp/pyfibers-venv/bin/python) a few
cases also run through ``pyfibers_reference.py`` in a subprocess in the same run; otherwise the
committed reference timings are used. With ``--jaxon PYTHON`` (the interpreter of an environment
with ``jaxon-nerve`` installed) the same MRG cases also run through
``tools/reference/jaxon_reference.py`` in a subprocess, at a set-up matched to PyFibers' (101
nodes, passive end nodes, detection at 0.9) and at jaxon's own (21 nodes, all active, centre
detection); its thresholds per second, our ratio to it and its errors are printed.

    .venv/bin/python benchmarks/nerve_thresholds.py [--tol 0.01] [--cases N] [--pyfibers]
        [--jaxon "${TMPDIR:-/tmp}"/jaxon-venv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numba
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from nerve._reference import bracket_error, case_inputs  # noqa: E402
from openvns.nerve.threshold import find_thresholds  # noqa: E402

REF = ROOT / "tests" / "data" / "pyfibers" / "thresholds_1pct.json"
TIGHT_RUNS = ROOT / "tools" / "reference" / "runs" / "tight.jsonl"
JAXON_TOOL = ROOT / "tools" / "reference" / "jaxon_reference.py"
CASE_KEYS = ("id", "model", "diameter_um", "n_nodes", "distance_mm", "sigma", "waveform", "pw_ms",
             "ipg_ms", "polarity", "delay_ms", "dt_ms", "tstop_ms", "find_threshold",
             "z_offset_frac", "ap_detect_location", "temperature_C")  # fmt: skip
PYFIBERS_TOOLS = [ROOT / "tools" / "reference" / "pyfibers_reference.py",
                  ROOT.parent / "shared" / "tools" / "pyfibers_reference.py"]  # fmt: skip


def _ours(cases: list[dict[str, Any]], tol: float, tstop_ms: float | None) -> list[dict[str, Any]]:
    out = []
    for c in cases:
        fiber, ve, wave = case_inputs(c)
        tstop = c["tstop_ms"] if tstop_ms is None else tstop_ms
        if wave.size < round(tstop / c["dt_ms"]):
            wave = np.concatenate([wave, np.zeros(round(tstop / c["dt_ms"]) - wave.size)])
        t0 = time.perf_counter()
        res = find_thresholds(fiber, ve, wave, dt_us=c["dt_ms"] * 1e3, tstop_ms=tstop, rel_tol=tol)
        wall = time.perf_counter() - t0
        thr = float(res.threshold_mA[0])
        out.append({"id": c["id"], "ref": c["threshold_mA"], "ours": thr, "wall_s": wall,
                    "err": bracket_error(thr, c["threshold_mA"], 0.01),
                    "raw": thr / c["threshold_mA"] - 1, "n_sim": res.n_simulations})  # fmt: skip
    return out


def _batched(cases: list[dict[str, Any]], tol: float) -> tuple[float, int]:
    """All cases of one fibre and waveform in one call (rows = electrode positions)."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for c in cases:
        key = (c["model"], c["diameter_um"], c["waveform"], c["pw_ms"], c["tstop_ms"], c["dt_ms"])
        groups.setdefault(key, []).append(c)
    t0 = time.perf_counter()
    n = 0
    for group in groups.values():
        fiber, _, wave = case_inputs(group[0])
        ve = np.stack([case_inputs(c)[1] for c in group])
        find_thresholds(fiber, ve, wave, dt_us=group[0]["dt_ms"] * 1e3,
                        tstop_ms=group[0]["tstop_ms"], rel_tol=tol)  # fmt: skip
        n += len(group)
    return time.perf_counter() - t0, n


def _pyfibers_default_wall(ref: list[dict[str, Any]]) -> tuple[float, str]:
    """PyFibers' wall time per threshold at its default settings (s, one worker) and its source:
    the measured default-settings runs of tools/reference/runs/tight.jsonl when present, else
    the committed reference case ``defaults_tstop50*``."""
    walls = []
    if TIGHT_RUNS.exists():
        for line in TIGHT_RUNS.read_text().splitlines():
            try:
                run = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "default" in str(run.get("id", "")) and run.get("wall_s_threshold"):
                walls.append(float(run["wall_s_threshold"]))
    if walls:
        return float(np.mean(walls)), f"{len(walls)} default-settings runs in {TIGHT_RUNS.name}"
    case = next(c for c in ref if c["id"].startswith("defaults_tstop50"))
    return float(case["wall_s_threshold"]), f"committed case {case['id']}"


def _pyfibers_live(cases: list[dict[str, Any]]) -> float | None:
    python = os.environ.get("PYFIBERS_PYTHON", "/tmp/pyfibers-venv/bin/python")
    tool = next((p for p in PYFIBERS_TOOLS if p.exists()), None)
    if tool is None or not Path(python).exists():
        print("PyFibers not available: using the committed reference timings")
        return None
    spec = [{k: c[k] for k in CASE_KEYS if k in c} | {"tstop_ms": 50.0} for c in cases]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(spec, fh)
    t0 = time.perf_counter()
    proc = subprocess.run([python, str(tool), fh.name, "--workers", "2"], capture_output=True,
                          text=True, check=False)  # fmt: skip
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        print("PyFibers run failed:", proc.stderr[-2000:])
        return None
    return len(cases) / wall


def _jaxon(python: str, cases: list[dict[str, Any]], tol: float) -> dict[str, Any] | None:
    """Run ``cases`` through jaxon-nerve (its own environment) in a subprocess."""
    if not Path(python).exists():
        print(f"jaxon: no interpreter at {python}")
        return None
    spec = [{k: c[k] for k in CASE_KEYS if k in c and k != "find_threshold"} for c in cases]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(spec, fh)
    t0 = time.perf_counter()
    proc = subprocess.run([python, str(JAXON_TOOL), fh.name, "--mode", "both", "--tol", str(tol)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    wall = time.perf_counter() - t0
    os.unlink(fh.name)
    if proc.returncode != 0:
        print("jaxon run failed:", proc.stderr[-2000:])
        return None
    out: dict[str, Any] = json.loads(proc.stdout)
    out["meta"]["wall_s_subprocess"] = wall
    return out


def _report_jaxon(out: dict[str, Any], cases: list[dict[str, Any]], ours: list[dict[str, Any]],
                  per_case: float, batched: float) -> None:  # fmt: skip
    meta = out["meta"]
    print(f"jaxon-nerve {meta.get('jaxon-nerve')} (jax {meta.get('jax')}, "
          f"{', '.join(meta.get('jax_devices', []))}); subprocess wall "
          f"{meta['wall_s_subprocess']:.0f} s incl. import and compilation")  # fmt: skip
    ref = {c["id"]: c["threshold_mA"] for c in cases}
    mine = {r["id"]: r["ours"] for r in ours}
    for info in meta["groups"]:
        mode = info["mode"]
        rows = [r for r in out["results"] if r["mode"] == mode and r["threshold_mA"] is not None]
        failed = sum(1 for r in out["results"] if r["mode"] == mode and r["threshold_mA"] is None)
        rate = info["n_cases"] / info["wall_s_search"]
        err = np.array([abs(bracket_error(r["threshold_mA"], ref[r["id"]], 0.01)) for r in rows])
        vs_ours = np.array([abs(r["threshold_mA"] / mine[r["id"]] - 1) for r in rows])
        label = {"matched": "101 nodes, passive ends, AP at 0.9",
                 "own": "21 nodes, all active, AP at centre"}.get(mode, mode)  # fmt: skip
        each = info["wall_s_search"] / info["n_cases"]
        print(
            f"jaxon [{mode}: {label}]: {rate:.4f} thresholds/s ({each:.1f} s"
            f" each; {info['rounds']} rounds of {info['batch_rows']} vmapped rows; compile "
            f"{info['compile_s']:.1f} s not counted); OpenVNS ratio {per_case / rate:.0f}x one per "
            f"call, {batched / rate:.0f}x batched"
        )
        if rows:
            print(
                f"  |error| outside the PyFibers 1 % bracket: median {100 * np.median(err):.3f} %, "
                f"max {100 * err.max():.3f} %; vs OpenVNS: median {100 * np.median(vs_ours):.3f} %,"
                f" max {100 * vs_ours.max():.3f} %" + (f"; {failed} failed" if failed else "")
            )
        for r in rows:
            print(f"    {r['id']:<32} jaxon {r['threshold_mA']:.5f}  PyFibers {ref[r['id']]:.5f}  "
                  f"OpenVNS {mine[r['id']]:.5f} mA")  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--tol", type=float, default=0.01, help="relative bracket width (PyFibers: 0.01)"
    )
    ap.add_argument("--cases", type=int, default=0, help="only the first N MRG cases (0 = all)")
    ap.add_argument("--pyfibers", action="store_true", help="also run a few cases through PyFibers")
    ap.add_argument("--jaxon", metavar="PYTHON", help="interpreter with jaxon-nerve: run it too")
    args = ap.parse_args()
    ref = json.loads(REF.read_text())["cases"]
    mrg = [c for c in ref if c["model"] == "MRG_INTERPOLATION" and c.get("n_nodes") == 101
           and c["dt_ms"] == 0.001 and c["tstop_ms"] == 5.0]  # fmt: skip
    if args.cases:
        mrg = mrg[: args.cases]
    print(f"numba threads: {numba.get_num_threads()}, cases: {len(mrg)}, tolerance {args.tol:g}")
    _ours(mrg[:1], args.tol, None)  # compile / load the cached kernels

    rows = _ours(mrg, args.tol, 50.0)  # PyFibers' default tstop; early exit makes it cheap
    errs = np.array([abs(r["err"]) for r in rows])
    raw = np.array([abs(r["raw"]) for r in rows])
    wall = sum(r["wall_s"] for r in rows)
    per_case = len(rows) / wall
    print(
        f"OpenVNS, one case per call (tstop 50 ms): {per_case:.2f} thresholds/s "
        f"({wall / len(rows):.3f} s each, {np.mean([r['n_sim'] for r in rows]):.1f} sims)"
    )
    print(
        f"  |error| outside the PyFibers 1 % bracket: median {100 * np.median(errs):.3f} %, "
        f"max {100 * errs.max():.3f} %; vs its upper end: median {100 * np.median(raw):.3f} %, "
        f"max {100 * raw.max():.3f} %"
    )
    bwall, bn = _batched(mrg, args.tol)
    batched = bn / bwall
    print(
        f"OpenVNS, batched by fibre and waveform: {batched:.2f} thresholds/s "
        f"({bwall / bn:.3f} s each)"
    )

    c_cases = [c for c in ref if c["model"] == "SUNDT"]
    if c_cases and not args.cases:
        c_rows = _ours(c_cases, args.tol, None)
        c_wall = sum(r["wall_s"] for r in c_rows) / len(c_rows)
        c_py = float(np.median([c["wall_s_threshold"] for c in c_cases]))
        c_err = max(abs(r["err"]) for r in c_rows)
        print(
            f"OpenVNS, Sundt C fibre (tstop {c_cases[0]['tstop_ms']:g} ms, one per call): "
            f"{1 / c_wall:.2f} thresholds/s ({c_wall:.3f} s each); PyFibers {c_py:.0f} s per "
            f"threshold per core -> {2.0 / c_wall / (2.0 / c_py):.0f}x (2 cores each); max "
            f"|error| outside the bracket {100 * c_err:.3f} %"
        )
    wall_default, source = _pyfibers_default_wall(ref)
    print(f"PyFibers default settings: {wall_default:.0f} s per threshold per core ({source})")
    py_default = 2.0 / wall_default  # 2 cores, perfect scaling assumed
    py_5ms = 2.0 / float(np.median([c["wall_s_threshold"] for c in mrg]))
    live = _pyfibers_live(mrg[:2]) if args.pyfibers else None
    if live is not None:
        print(f"PyFibers live (tstop 50 ms, 2 workers): {live:.4f} thresholds/s")
        py_default = live
    print(f"PyFibers at default settings (tstop 50 ms, 2 cores): {py_default:.4f} thresholds/s")
    print(f"PyFibers at tstop 5 ms (reference grid, 2 cores):   {py_5ms:.4f} thresholds/s")
    print(
        f"ratio vs PyFibers defaults: {per_case / py_default:.0f}x one per call, "
        f"{batched / py_default:.0f}x batched; vs tstop 5 ms: {per_case / py_5ms:.0f}x / "
        f"{batched / py_5ms:.0f}x"
    )
    if args.jaxon:
        out = _jaxon(args.jaxon, mrg, args.tol)
        if out is not None:
            _report_jaxon(out, mrg, rows, per_case, batched)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
