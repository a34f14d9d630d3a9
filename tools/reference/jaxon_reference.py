#!/usr/bin/env python3
"""Activation thresholds with jaxon-nerve (JAX/Jaxley MRG double cable), as a second peer.

Runs ONLY in its own virtual environment with ``jaxon-nerve`` installed (it pins jax 0.6.2,
jaxley 0.13.0, numpy 2.2.6): it is never imported by ``openvns``, its tests or other tools
(``benchmarks/nerve_thresholds.py --jaxon`` runs it as a subprocess), and nothing of jaxon is
copied here — this is our own (MIT) driver that calls jaxon's solver::

    python3 -m venv "${TMPDIR:-/tmp}"/jaxon-venv
    "${TMPDIR:-/tmp}"/jaxon-venv/bin/pip install jaxon-nerve==1.0.1
    "${TMPDIR:-/tmp}"/jaxon-venv/bin/python tools/reference/jaxon_reference.py cases.json

Input: the case list of ``pyfibers_reference.py`` (a JSON list, or ``{"cases": [...]}``; keys
model, diameter_um, n_nodes, distance_mm, z_offset_frac, sigma, waveform, polarity, pw_ms,
ipg_ms, delay_ms, dt_ms, tstop_ms, ap_detect_location, temperature_C). MRG_INTERPOLATION and
MRG_DISCRETE only (jaxon's point-source/threshold path is the MRG double cable).
Output (stdout, and ``--out``): ``{"meta": {...}, "results": [...]}`` with ``threshold_mA``
(upper end of the final bracket, PyFibers' convention) per case and wall times.

How jaxon is used (its best use on a CPU): every case of a group (same n_nodes, dt, tstop) and
several trial amplitudes per case are stacked into one batch and integrated by one jitted
``jax.vmap`` of a ``lax.scan`` over time, with jaxon's own coupled (V_i, V_pax) backward-Euler
step (``jaxon.stim.extracellular_coupled._be_step``, the NEURON ``extracellular`` equivalent),
its MRG geometry (``jaxon.fibers.mrg``) and its MRG node channel (``AxnodeMyel``), gated as in
``jaxon.stim.batch_solve``. The search runs all cases in lockstep, ``--amps`` trials per case per
batched call: a ladder up from ``--lo`` mA (x ``--factor`` per trial) to the first firing
amplitude (so the lowest threshold is found, not the edge of a block window), then k-ary
refinement of the bracket below it until ``(hi - lo) / lo <= --tol``. Every call has the same
batch shape, so one compilation serves a group (reported as ``compile_s``, not in the search
time). On a CPU the cost is linear in rows x steps beyond ~20 rows (≈0.45 ms per 1111-section
row per step on this machine), so few trials per threshold beat wide amplitude batches: the
default is 2 trials per case per round (24 rows for 12 cases).

Modes (``--mode``):

* ``matched`` — as close to PyFibers' set-up as jaxon allows: the case's n_nodes (101), one
  passive node at each end as PyFibers builds it by default (pas 1e-4 S/cm², cm 1, Ra 1e10, the
  node's extracellular layer kept — jaxon has no passive end nodes, so this driver sets those
  arrays), AP = −30 mV upward crossing at the node at ``ap_detect_location`` (0.9).
* ``own`` — jaxon's own validation set-up: 21 nodes, every node active (PyFibers'
  ``passive_end_nodes=False``), AP detected at the centre node (jaxon's ``find_threshold`` and
  ``nrn_baseline`` use location 0.5). Thresholds then differ from the 101-node references by
  the model set-up, not by the solver.

A fired trial is one whose membrane potential at the detection node exceeds −30 mV at any time
step (from rest this is PyFibers' APCount crossing). No early exit: every trial runs to tstop.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata as md
import json
import math
import os
import platform
import sys
import time
from typing import Any

import numpy as np

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax
import jax.numpy as jnp
from jaxley.solver_gate import solve_gate_exponential
from jaxon.channels.mrg_axnode import AxnodeMyel
from jaxon.fibers import mrg as jmrg
from jaxon.stim.extracellular_coupled import _be_step, arrays_from_geometry

jax.config.update("jax_enable_x64", True)

# MRG node channel constants (jaxon.stim.batch_solve)
GNABAR, GNAPBAR, GKBAR, GL = 3.0, 0.01, 0.08, 0.007
ENA, EK, EL = 50.0, -90.0, -90.0
V_REST = jmrg.V_REST
G_PAS = {"node": 0.0, "mysa": jmrg.G_PAS_MYSA, "flut": jmrg.G_PAS_FLUT, "stin": jmrg.G_PAS_STIN}
PASSIVE_NODE = {"g": 1e-4, "cm": 1.0, "Ra": 1e10}  # PyFibers' passive end node


def _fill(case: dict[str, Any]) -> dict[str, Any]:
    c = dict(case)
    for key, val in (
        ("n_nodes", 101),
        ("distance_mm", 1.0),
        ("z_offset_frac", 0.0),
        ("sigma", 0.3),
        ("waveform", "monophasic"),
        ("polarity", "cathodic"),
        ("pw_ms", 0.1),
        ("ipg_ms", 0.0),
        ("delay_ms", 0.0),
        ("dt_ms", 0.001),
        ("tstop_ms", 5.0),
        ("ap_detect_location", 0.9),
        ("temperature_C", 37.0),
    ):
        c.setdefault(key, val)
    return c


def _geometry(c: dict[str, Any], n_nodes: int) -> Any:
    model = c["model"].upper()
    if model == "MRG_INTERPOLATION":
        return jmrg._mrg_interp_geometry(float(c["diameter_um"]), n_nodes)
    if model == "MRG_DISCRETE":
        return jmrg._mrg_geometry(float(c["diameter_um"]), n_nodes)
    raise ValueError(f"model {c['model']!r}: this driver runs MRG_INTERPOLATION/MRG_DISCRETE")


def _row(c: dict[str, Any], mode: str) -> dict[str, Any]:
    """Static arrays, unit potential (mV per mA) and detection compartment of one case."""
    n_nodes = 21 if mode == "own" else int(c["n_nodes"])
    geom = _geometry(c, n_nodes)
    n = geom.n_comp
    nodes = np.flatnonzero(np.asarray(geom.is_node))
    cm = [jmrg.CM_AXON] * n  # double cable: full axon-membrane capacitance everywhere
    ra = list(geom.Ra_ohm_cm)
    g_pas = np.array([G_PAS[s] for s in geom.section_type])
    active = np.asarray(geom.is_node, bool).copy()
    if mode == "matched":  # PyFibers' passive end nodes
        for k in (nodes[0], nodes[-1]):
            cm[k], ra[k], g_pas[k], active[k] = PASSIVE_NODE["cm"], PASSIVE_NODE["Ra"], 1e-4, False
    geom_c = dataclasses.replace(geom, cm_uF_cm2=cm, Ra_ohm_cm=ra)
    st = arrays_from_geometry(geom_c, float(c["dt_ms"]))
    centers = np.asarray(jmrg.section_centers_um(geom))
    z_el = centers[nodes[len(nodes) // 2]] + float(c["z_offset_frac"]) * geom.delta_z_um
    x = float(c["distance_mm"]) * 1e-3
    dz = (centers - z_el) * 1e-6
    sigma = c["sigma"]
    if isinstance(sigma, int | float):  # PyFibers' point_source_potentials (mV per mA)
        ve = 1.0 / (4 * math.pi * float(sigma) * np.sqrt(x**2 + dz**2))
    else:
        sx, sy, sz = (float(s) for s in sigma)
        ve = 1.0 / (4 * math.pi * np.sqrt(sy * sz * x**2 + sx * sy * dz**2))
    loc = 0.5 if mode == "own" else float(c["ap_detect_location"])
    det = int(nodes[int(loc * (len(nodes) - 1))])
    statics = {k: np.asarray(st[k]) for k in ("Cm_dt", "Cmy_dt", "gmy", "A_in_cm2", "is_node",
                                               "Gi_diag", "Gp_diag", "Up", "Low")}  # fmt: skip
    statics["g_pas"] = g_pas
    statics["active"] = active
    return {"statics": statics, "ve": ve, "det": det, "n_comp": n, "n_nodes": n_nodes,
            "delta_z_um": float(geom.delta_z_um)}  # fmt: skip


def _pulse(c: dict[str, Any], nsteps: int) -> np.ndarray:
    """Unit waveform (first phase = -1 for cathodic: potential per mA is multiplied by it)."""
    dt = float(c["dt_ms"])
    d0, npw = round(c["delay_ms"] / dt), round(c["pw_ms"] / dt)
    sign = -1.0 if str(c["polarity"]).lower().startswith("cath") else 1.0
    w = np.zeros(nsteps)
    w[d0 : d0 + npw] = sign
    if str(c["waveform"]).lower().startswith("bi"):
        gap = round(c["ipg_ms"] / dt)
        w[d0 + npw + gap : d0 + 2 * npw + gap] = -sign
    return w


def _make_sim(dt: float, celsius: float) -> Any:
    def one(fs: dict[str, Any], ve: Any, amp: Any, pulse: Any, det: Any) -> Any:
        n = ve.shape[0]
        shape = pulse * amp
        shape_prev = jnp.concatenate([jnp.zeros(1), shape[:-1]])
        ab = AxnodeMyel._alpha_beta(jnp.float64(V_REST), celsius)
        gates0 = tuple(jnp.where(fs["active"], a / (a + b), 0.0) for a, b in ab)
        area = fs["A_in_cm2"] * 1e6

        def step(carry: Any, s: Any) -> Any:
            vi, vp, (m, h, mp, sk), vmax = carry
            vm = vi - vp
            (am, bm), (ah, bh), (amp_, bmp), (as_, bs) = AxnodeMyel._alpha_beta(vm, celsius)
            m2 = solve_gate_exponential(m, dt, am, bm)
            h2 = solve_gate_exponential(h, dt, ah, bh)
            mp2 = solve_gate_exponential(mp, dt, amp_, bmp)
            s2 = solve_gate_exponential(sk, dt, as_, bs)
            g_na, g_nap, g_k = GNABAR * m2**3 * h2, GNAPBAR * mp2**3, GKBAR * s2
            g_node = (g_na + g_nap + g_k + GL) * area
            i_node = ((g_na + g_nap) * (vm - ENA) + g_k * (vm - EK) + GL * (vm - EL)) * area
            g_p = fs["g_pas"] * area
            g_eff = jnp.where(fs["active"], g_node, g_p)
            i_ion = jnp.where(fs["active"], i_node, g_p * (vm - V_REST))
            vi2, vp2 = _be_step(vi, vp, ve * shape[s], ve * shape_prev[s], g_eff, i_ion,
                                fs["Cm_dt"], fs["Cmy_dt"], fs["gmy"], fs["Gi_diag"],
                                fs["Gp_diag"], fs["Up"], fs["Low"], fs["is_node"])  # fmt: skip
            vmax = jnp.maximum(vmax, vi2[det] - vp2[det])
            return (vi2, vp2, (m2, h2, mp2, s2), vmax), None

        carry0 = (jnp.full(n, V_REST), jnp.zeros(n), gates0, jnp.float64(V_REST))
        (_, _, _, vmax), _ = jax.lax.scan(step, carry0, jnp.arange(pulse.shape[0]))
        return vmax

    return jax.jit(jax.vmap(one))


def run_group(
    cases: list[dict[str, Any]], mode: str, k: int, lo: float, hi: float, tol: float, factor: float
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    c0 = cases[0]
    dt = float(c0["dt_ms"])
    nsteps = round(float(c0["tstop_ms"]) / dt)
    t0 = time.perf_counter()
    rows = [_row(c, mode) for c in cases]
    build_s = time.perf_counter() - t0
    pulses = np.stack([_pulse(c, nsteps) for c in cases])
    n = len(cases)
    rep = np.repeat(np.arange(n), k)
    fs = {key: jnp.asarray(np.stack([rows[i]["statics"][key] for i in rep]))
          for key in rows[0]["statics"]}  # fmt: skip
    ve = jnp.asarray(np.stack([rows[i]["ve"] for i in rep]))
    pul = jnp.asarray(pulses[rep])
    det = jnp.asarray([rows[i]["det"] for i in rep])
    sim = _make_sim(dt, float(c0["temperature_C"]))

    def fire(amps: np.ndarray) -> np.ndarray:
        vmax = sim(fs, ve, jnp.asarray(amps.reshape(-1)), pul, det)
        return np.asarray(vmax).reshape(n, k) > -30.0

    t0 = time.perf_counter()
    sim.lower(fs, ve, jnp.zeros(n * k), pul, det).compile()
    compile_s = time.perf_counter() - t0
    fire(np.full((n, k), lo))  # warm the compiled executable (first call overhead)
    t0 = time.perf_counter()
    # per case: ladder up from `lo` (x `factor` per trial) to the first firing amplitude, then
    # k-ary refinement of the bracket below it; all cases advance one round per batched call
    cur = np.full(n, lo / factor)  # highest amplitude known not to fire (ladder phase)
    lo_b, hi_b = np.zeros(n), np.full(n, np.nan)
    state = np.zeros(n, int)  # 0 ladder, 1 refine, 2 done, 3 failed
    rounds = 0
    steps = np.arange(1, k + 1)
    while np.any(state < 2) and rounds < 200:
        ladder = cur[:, None] * factor ** steps[None, :]
        inner = lo_b[:, None] + (hi_b - lo_b)[:, None] * (steps / (k + 1))[None, :]
        amps = np.where((state == 0)[:, None], ladder,
                        np.where((state == 1)[:, None], inner, lo))  # fmt: skip
        fired = fire(amps)
        rounds += 1
        any_f = fired.any(axis=1)
        first = fired.argmax(axis=1)
        hit = amps[np.arange(n), first]
        below = np.where(first > 0, amps[np.arange(n), np.maximum(first - 1, 0)], np.nan)
        lad, ref = state == 0, state == 1
        # ladder rows
        up = lad & any_f
        lo_b = np.where(up, np.where(first > 0, below, cur), lo_b)
        hi_b = np.where(up, hit, hi_b)
        cur = np.where(lad & ~any_f, amps[:, -1], cur)
        state = np.where(up, 1, state)
        state = np.where(lad & ~any_f & (cur >= hi), 3, state)
        # refinement rows
        hi_b = np.where(ref & any_f, hit, hi_b)
        lo_b = np.where(ref & any_f & (first > 0), below, lo_b)
        lo_b = np.where(ref & ~any_f, amps[:, -1], lo_b)
        state = np.where((state == 1) & (hi_b - lo_b <= tol * lo_b), 2, state)
    ok = state == 2
    wall = time.perf_counter() - t0
    out = []
    for i, c in enumerate(cases):
        r = dict(c)
        r.update({"mode": mode, "n_nodes_jaxon": rows[i]["n_nodes"],
                  "n_sections": rows[i]["n_comp"], "delta_z_um": rows[i]["delta_z_um"],
                  "threshold_mA": float(hi_b[i]) if ok[i] else None,
                  "bracket_lo_mA": float(lo_b[i]) if ok[i] else None,
                  "n_sim_rows": rounds * k, "wall_s_threshold": wall / n,
                  "error": None if ok[i] else f"no AP up to {hi} mA"})  # fmt: skip
        out.append(r)
    info = {"mode": mode, "n_cases": n, "batch_rows": n * k, "rounds": rounds,
            "wall_s_search": wall, "compile_s": compile_s, "build_s": build_s,
            "thresholds_per_s": n / wall}  # fmt: skip
    return out, info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("cases", help="JSON case list (pyfibers_reference.py schema), '-' = stdin")
    ap.add_argument("--mode", choices=["matched", "own", "both"], default="both")
    ap.add_argument("--amps", type=int, default=2, help="trial amplitudes per case per round")
    ap.add_argument("--lo", type=float, default=0.01, help="first trial amplitude (mA)")
    ap.add_argument("--factor", type=float, default=2.0, help="ladder step between trials")
    ap.add_argument("--hi", type=float, default=10.0, help="highest trial amplitude (mA)")
    ap.add_argument("--tol", type=float, default=0.01, help="stop at (hi - lo) / lo <= tol")
    ap.add_argument("--out", help="also write the JSON output here")
    args = ap.parse_args(argv)
    if args.cases == "-":
        raw = json.loads(sys.stdin.read())
    else:
        with open(args.cases) as fh:
            raw = json.load(fh)
    cases = [_fill(c) for c in (raw["cases"] if isinstance(raw, dict) else raw)]
    modes = ["matched", "own"] if args.mode == "both" else [args.mode]
    results: list[dict[str, Any]] = []
    groups_info = []
    t_all = time.perf_counter()
    for mode in modes:
        groups: dict[tuple[Any, ...], list[int]] = {}
        for i, c in enumerate(cases):
            key = (21 if mode == "own" else c["n_nodes"], c["dt_ms"], c["tstop_ms"],
                   c["temperature_C"])  # fmt: skip
            groups.setdefault(key, []).append(i)
        for idx in groups.values():
            res, info = run_group([cases[i] for i in idx], mode, args.amps, args.lo, args.hi,
                                  args.tol, args.factor)  # fmt: skip
            for i, r in zip(idx, res, strict=True):
                r["index"] = i
            results.extend(res)
            groups_info.append(info)
            print(f"[jaxon_reference] {mode}: {info['n_cases']} cases, {info['rounds']} rounds of "
                  f"{info['batch_rows']} rows, search {info['wall_s_search']:.1f} s, compile "
                  f"{info['compile_s']:.1f} s", file=sys.stderr, flush=True)  # fmt: skip
    meta = {"python": platform.python_version(), "platform": platform.platform(),
            "cpu_count": os.cpu_count(), "jax_devices": [str(d) for d in jax.devices()],
            "wall_s_all": time.perf_counter() - t_all, "groups": groups_info,
            "search": {"amps_per_round": args.amps, "lo_mA": args.lo, "hi_mA": args.hi,
                       "tol": args.tol, "factor": args.factor}}  # fmt: skip
    for pkg in ("jaxon-nerve", "jax", "jaxlib", "jaxley", "numpy"):
        try:
            meta[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            meta[pkg] = None
    txt = json.dumps({"meta": meta, "results": results}, indent=1)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(txt)
    print(txt)
    return 0


if __name__ == "__main__":
    sys.exit(main())
