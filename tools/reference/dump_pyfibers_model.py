#!/usr/bin/env python3
"""Dump the NEURON model that PyFibers builds, as numbers (JSON), for solver validation.

REFERENCE TOOL ONLY.  This script lives outside the ``openvns`` package and is never imported
by it or by its tests.  It imports ``pyfibers`` and ``neuron`` and must run only in the
separate PyFibers environment (see tools/reference/README.md).  It contains no PyFibers code;
it only reads back, through NEURON's public API, the parameter values of the sections that
PyFibers' ``build_fiber`` creates, and writes them as data.

For every requested (model, diameter) it writes ``<outdir>/<MODEL>_<diameter>.json`` with

* ``fiber``: model, diameter, delta_z, length, number of sections and nodes, section indices
  of the nodes (``node_section_indices``), passive node indices, centre-of-section arc
  coordinates (``z_um``), temperature, v_rest, the geometric parameter set (MRG only);
* ``neuron``: NEURON globals (celsius, secondorder, cvode active, dt at build time, the dt and
  steady-state settings a ``ScaledStim`` uses) and the GLOBAL parameters of every density
  mechanism used (e.g. ``vtraub_axnode_myel``);
* ``sections``: for EVERY section its name, kind, L, diam, nseg, Ra, cm, each inserted
  mechanism with all its range values (parameters, states, assigned), ion variables
  (ena, ek, concentrations) where present, and extracellular xraxial/xg/xc[0..1],
  e_extracellular;
* ``state_after_finitialize``: v, vext[0..1] and gating states of every section right after
  ``build_fiber`` (which calls ``h.finitialize(v_rest)`` at the fibre temperature);
* ``state_t0``: the same after ``ScaledStim.pre_run_setup`` (finitialize + the 200 ms
  steady-state run at dt 5 ms with zero extracellular potential), i.e. the exact initial
  condition from which every stimulation run of a threshold search starts at t = 0.

Usage (PyFibers venv)::

    python tools/reference/dump_pyfibers_model.py --outdir tests/data/pyfibers/models
    python tools/reference/dump_pyfibers_model.py --outdir tests/data/pyfibers/models \\
        --set small_mrg      # Pena 2024 small-fibre MRG (PENA) 1.5/2/3/4/5.7 um
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import math
import os
import sys
import warnings

DEFAULT_SPECS = [
    ("MRG_INTERPOLATION", 2.0, {"n_nodes": 101}),
    ("MRG_INTERPOLATION", 5.7, {"n_nodes": 101}),
    ("MRG_INTERPOLATION", 8.7, {"n_nodes": 101}),
    ("MRG_INTERPOLATION", 10.0, {"n_nodes": 101}),
    ("MRG_INTERPOLATION", 14.0, {"n_nodes": 101}),
    ("MRG_DISCRETE", 5.7, {"n_nodes": 101}),
    ("SUNDT", 0.8, {"length": 10000.0}),
    ("SUNDT", 1.0, {"length": 10000.0}),
]

# Pena, Pelot & Grill 2024 small-fibre MRG interpolation (doi 10.1371/journal.pcbi.1011833).
# PyFibers 0.13.0 registers it as FiberModel.PENA and as the deprecated alias
# FiberModel.SMALL_MRG_INTERPOLATION.  Only the name "PENA" also sets the node conductances of
# the paper (gnabar 2.333333, gkbar 0.115556 S/cm2); the alias builds the same geometry with the
# MRG 2002 node conductances (3.0, 0.08), so the dumps use PENA.
SMALL_MRG_SPECS = [
    ("PENA", 1.5, {"n_nodes": 101}),
    ("PENA", 2.0, {"n_nodes": 101}),
    ("PENA", 3.0, {"n_nodes": 101}),
    ("PENA", 4.0, {"n_nodes": 101}),
    ("PENA", 5.7, {"n_nodes": 101}),
]
SPEC_SETS = {
    "default": DEFAULT_SPECS,
    "small_mrg": SMALL_MRG_SPECS,
    "all": DEFAULT_SPECS + SMALL_MRG_SPECS,
}

# state variables (NEURON STATE blocks) of the mechanisms used by these models
STATE_VARS = {
    "axnode_myel": ["mp", "m", "h", "s"],
    "nahh": ["m", "h"],
    "borgkdr": ["n", "l"],
}
# GLOBAL (non-RANGE) parameters of those mechanisms, read back as h.<name>_<suffix>
MECH_GLOBALS = {
    "axnode_myel": [
        "vtraub",
        "ampA",
        "ampB",
        "ampC",
        "bmpA",
        "bmpB",
        "bmpC",
        "amA",
        "amB",
        "amC",
        "bmA",
        "bmB",
        "bmC",
        "ahA",
        "ahB",
        "ahC",
        "bhA",
        "bhB",
        "bhC",
        "asA",
        "asB",
        "asC",
        "bsA",
        "bsB",
        "bsC",
    ],
    "borgkdr": ["vhalfn", "vhalfl", "a0l", "a0n", "zetan", "zetal", "gmn", "gml"],
    "nahh": [],
}


def _f(x):
    """JSON-safe float (keeps full precision)."""
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return str(x)
    return x


def _flat(v):
    """psection values are lists (one per segment; nested for extracellular layers)."""
    if isinstance(v, (list, tuple)):
        if len(v) == 1:
            return _flat(v[0])
        return [_flat(u) for u in v]
    if isinstance(v, (int, float)):
        return _f(v)
    return v


def _kind(name: str) -> str:
    for k in ("passive node", "active node", "mysa", "flut", "stin"):
        if name.startswith(k):
            return k.replace(" ", "_")
    return name.split()[0]


def _section_state(sec) -> dict:
    seg = sec(0.5)
    out = {"v": _f(seg.v), "vext": [_f(seg.vext[0]), _f(seg.vext[1])]}
    for mech, names in STATE_VARS.items():
        if hasattr(seg, mech):
            out[mech] = {n: _f(getattr(seg, f"{n}_{mech}")) for n in names}
    return out


def dump_one(model_name: str, diameter: float, size_kw: dict, temperature: float = 37.0):
    import numpy as np  # noqa: F401  (PyFibers imports numpy before NEURON)
    import pyfibers
    from neuron import h
    from pyfibers import FiberModel, ScaledStim, build_fiber

    pyfibers.logger.setLevel("WARNING")
    warnings.simplefilter("ignore")
    model = getattr(FiberModel, model_name)
    fiber = build_fiber(
        model, diameter=diameter, temperature=temperature, passive_end_nodes=True, **size_kw
    )
    dt_at_build = float(h.dt)

    secs = list(fiber.sections)
    node_set = {id(n): i for i, n in enumerate(fiber.nodes)}
    node_sec_idx = [i for i, s in enumerate(secs) if id(s) in node_set]
    passive_node_idx = [k for k, i in enumerate(node_sec_idx) if "passive" in secs[i].name()]

    name_to_idx = {s.name(): i for i, s in enumerate(secs)}
    sections = []
    mechs_used: set[str] = set()
    for i, sec in enumerate(secs):
        p = sec.psection()
        dm = {m: {k: _flat(v) for k, v in vals.items()} for m, vals in p["density_mechs"].items()}
        mechs_used.update(dm)
        ext = dm.get("extracellular", {})
        entry = {
            "index": i,
            "name": sec.name(),
            "kind": _kind(sec.name()),
            "L": _f(sec.L),
            "diam": _f(sec.diam),
            "nseg": int(sec.nseg),
            "Ra": _f(sec.Ra),
            "cm": _f(sec.cm),
            "area_um2": _f(sec(0.5).area()),
            "ri_Mohm": _f(sec(0.5).ri()),
            "parent_index": (
                None if sec.parentseg() is None else name_to_idx[sec.parentseg().sec.name()]
            ),
            "parent_x": (None if sec.parentseg() is None else _f(sec.parentseg().x)),
            "z_um": _f(fiber.longitudinal_coordinates[i]),
            "mechanisms": {m: v for m, v in dm.items() if m != "extracellular"},
            "ions": {
                ion: {k: _flat(v) for k, v in vals.items()} for ion, vals in p["ions"].items()
            },
            "extracellular": {
                "xraxial": ext.get("xraxial"),
                "xg": ext.get("xg"),
                "xc": ext.get("xc"),
                "e_extracellular": ext.get("e"),
            },
        }
        sections.append(entry)

    state_fin = [_section_state(s) for s in secs]

    mech_globals = {}
    for mech, names in MECH_GLOBALS.items():
        if mech in mechs_used:
            mech_globals[mech] = {n: _f(getattr(h, f"{n}_{mech}")) for n in names}

    # initial condition of every stimulation run: pre_run_setup = finitialize + steady state
    stim = ScaledStim(waveform=lambda t: 0.0, dt=0.001, tstop=1.0)
    stim.pre_run_setup(fiber)
    state_t0 = [_section_state(s) for s in secs]
    after = {"t": _f(h.t), "dt": _f(h.dt), "celsius": _f(h.celsius)}

    fib = {
        "model": model_name,
        "diameter_um": diameter,
        "size_kwargs": size_kw,
        "temperature_C": _f(fiber.temperature),
        "v_rest_mV": _f(fiber.v_rest),
        "passive_end_nodes": int(fiber.passive_end_nodes),
        "delta_z_um": _f(fiber.delta_z),
        "length_um": _f(fiber.length),
        "n_sections": len(secs),
        "n_nodes": len(fiber.nodes),
        "node_section_indices": node_sec_idx,
        "passive_node_indices": passive_node_idx,
        "center_node_index": len(fiber.nodes) // 2,
        "center_node_section_index": node_sec_idx[len(fiber.nodes) // 2],
        "z_um": [_f(z) for z in fiber.longitudinal_coordinates],
        "coordinates_note": "z_um = arc-length coordinate of each section centre (x = y = 0); "
        "first section centre at L0/2",
        "gating_variables": dict(getattr(fiber, "gating_variables", {}) or {}),
    }
    if getattr(fiber, "mrg_params", None):
        fib["mrg_params"] = {k: _f(v) for k, v in fiber.mrg_params.items()}

    return {
        "meta": {
            "what": "PyFibers-built NEURON model, read back section by section",
            "tool": "tools/reference/dump_pyfibers_model.py",
            "pyfibers": md.version("pyfibers"),
            "neuron": md.version("neuron"),
            "numpy": md.version("numpy"),
            "units": {
                "L": "um",
                "diam": "um",
                "Ra": "ohm cm",
                "cm": "uF/cm2",
                "g_pas": "S/cm2",
                "e": "mV",
                "xraxial": "Mohm/cm",
                "xg": "S/cm2",
                "xc": "uF/cm2",
                "area_um2": "um2",
                "ri_Mohm": "NEURON seg.ri(): axial resistance (Mohm) between this "
                "segment centre and the preceding node",
                "gbar": "S/cm2",
            },
        },
        "fiber": fib,
        "neuron": {
            "celsius": _f(h.celsius),
            "secondorder": int(h.secondorder),
            "cvode_active": bool(h.cvode.active()),
            "dt_at_build_ms": dt_at_build,
            "scaledstim_dt_ms": 0.001,
            "steady_state": {
                "t_init_ss_ms": -200.0,
                "dt_init_ss_ms": 5.0,
                "note": "pre_run_setup: finitialize(v_rest), e_extracellular=0, "
                "fadvance from t=-200 to 0 at dt=5, then t=0, fcurrent, "
                "frecord_init, dt=stim dt",
            },
            "after_pre_run_setup": after,
            "mechanism_globals": mech_globals,
            "q10_axnode_myel_note": "q10_1/2/3 are computed in INITIAL from celsius "
            "(not readable from Python)",
        },
        "sections": sections,
        "state_after_finitialize": state_fin,
        "state_t0": state_t0,
    }


def _run_child(model_name, diameter, size_kw, path):
    out = dump_one(model_name, diameter, size_kw)
    with open(path, "w") as fh:
        json.dump(out, fh, separators=(",", ":"))
    print(f"wrote {path} ({out['fiber']['n_sections']} sections)", file=sys.stderr)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--outdir", default="tests/data/pyfibers/models")
    ap.add_argument(
        "--set",
        choices=sorted(SPEC_SETS),
        default="default",
        help="which fibres: default (MRG/SUNDT, as before), small_mrg (PENA) or all",
    )
    args = ap.parse_args(argv)
    os.makedirs(args.outdir, exist_ok=True)
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    for model_name, diameter, size_kw in SPEC_SETS[args.set]:
        path = os.path.join(args.outdir, f"{model_name}_{diameter}.json")
        # one fresh process per fibre so NEURON sections never accumulate
        p = ctx.Process(target=_run_child, args=(model_name, diameter, size_kw, path))
        p.start()
        p.join()
        if p.exitcode != 0:
            print(f"FAILED {model_name} {diameter}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
