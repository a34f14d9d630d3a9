#!/usr/bin/env python3
"""Convert streamed pyfibers_reference.py results (.jsonl) into thresholds_tight.json.

Plain Python (no PyFibers needed); safe to run while the background job is still writing.
Only finished cases are written; the tight (0.1 %) cases go to "cases" in the order of the case
list, the PyFibers-default-settings throughput runs go to meta["default_settings_throughput"].

    python tools/reference/collect_tight.py \
        --jsonl tools/reference/runs/tight.jsonl --cases tools/reference/cases_tight.json \
        --out tests/data/pyfibers/thresholds_tight.json
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import statistics

KEEP = [
    "id",
    "model",
    "diameter_um",
    "n_nodes",
    "length_um",
    "passive_end_nodes",
    "temperature_C",
    "distance_mm",
    "z_offset_frac",
    "sigma",
    "waveform",
    "polarity",
    "pw_ms",
    "ipg_ms",
    "delay_ms",
    "dt_ms",
    "tstop_ms",
    "ap_detect_location",
    "find_threshold",
    "threshold_mA",
    "n_aps",
    "ap_time_ms",
    "n_run_sim",
    "simulated_ms_total",
    "wall_s_threshold",
    "cpu_s_threshold",
    "n_sections",
    "delta_z_um",
    "length_um_actual",
    "ref_threshold_1pct_mA",
    "bracket_source",
]

COMMAND = (
    "python tools/reference/pyfibers_reference.py tools/reference/cases_tight.json "
    "--workers 1 --jsonl tools/reference/runs/tight.jsonl "
    "--out tools/reference/runs/tight_results.json   (PyFibers venv, see "
    "tools/reference/README.md)"
)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jsonl", nargs="+", default=["tools/reference/runs/tight.jsonl"])
    ap.add_argument("--cases", default="tools/reference/cases_tight.json")
    ap.add_argument("--out", default="tests/data/pyfibers/thresholds_tight.json")
    args = ap.parse_args(argv)

    with open(args.cases) as fh:
        order = [c["id"] for c in json.load(fh)]
    by_id: dict[str, dict] = {}
    for path in args.jsonl:
        with open(path) as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                r = json.loads(line)
                prev = by_id.get(r["id"])
                # a later successful run replaces an earlier one; never replace OK by an error
                if prev is None or prev.get("error") or not r.get("error"):
                    by_id[r["id"]] = r

    cases, errors, defaults = [], [], []
    for cid in order:
        r = by_id.get(cid)
        if r is None:
            continue
        if r.get("error"):
            errors.append({"id": cid, "error": r["error"]})
            continue
        out = {k: r.get(k) for k in KEEP}
        if out["length_um"] is None:
            out.pop("length_um")
        else:
            out.pop("n_nodes")
        ref = r.get("ref_threshold_1pct_mA")
        out["diff_vs_1pct_ref_pct"] = (
            None if not ref else round(100 * (r["threshold_mA"] / ref - 1), 4)
        )
        if cid.startswith("defaults_"):
            out["wall_s_total"] = r.get("wall_s_total")
            out["thresholds_per_hour_one_core"] = round(3600.0 / r["wall_s_total"], 2)
            defaults.append(out)
        else:
            cases.append(out)

    walls = [c["wall_s_threshold"] for c in cases if c["model"].startswith("MRG")]
    meta = {
        "what": "PyFibers/NEURON activation thresholds with a 0.1 % bisection tolerance and a "
        "safe (below-threshold) initial bracket",
        "command": COMMAND,
        "case_list": "tools/reference/cases_tight.json "
        "(made by tools/reference/make_cases_tight.py)",
        "collected_by": "tools/reference/collect_tight.py",
        "collected_at_utc": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "pyfibers": "0.13.0",
        "neuron": "9.0.2",
        "threshold": "threshold_mA = upper bound of the final bisection bracket: the true "
        "threshold lies in (threshold_mA * (1 - 0.001), threshold_mA]. Smallest "
        "amplitude with "
        ">=1 AP (APCount, -30 mV) at the node at 0.9 of the length",
        "tolerance_pct": 0.1,
        "bracket": "stimamp_top = 0.8 x 1 %-reference threshold (shared/reference/"
        "pyfibers_thresholds.json) or a lower bound of it, stimamp_bottom = top / 4, "
        "bounds_search_mode percent, step 50 %, termination_tolerance 0.1 %",
        "source_point": "1 mA point source, PyFibers Fiber.point_source_potentials, over the "
        "centre node (+ z_offset_frac * delta_z)",
        "workers": 1,
        "machine": "2-core AMD EPYC VM; the other core was in use by other work",
        "n_cases_listed": len([o for o in order if not o.startswith("defaults_")]),
        "n_cases_done": len(cases),
        "errors": errors,
        "median_wall_s_per_mrg_case": (round(statistics.median(walls), 1) if walls else None),
        "default_settings_throughput": defaults,
    }
    if defaults:
        meta["default_settings_note"] = (
            "PyFibers DEFAULT find_threshold settings (top -1 mA, bottom -0.01 mA, 10 % steps, "
            "1 % tolerance) and tstop 50 ms, serial, one core; thresholds_per_hour_one_core = "
            "3600 / wall_s_total (fibre build + search)"
        )
    with open(args.out, "w") as fh:
        json.dump({"meta": meta, "cases": cases}, fh, indent=1)
    print(
        f"wrote {args.out}: {len(cases)} tight cases, {len(defaults)} default-settings runs, "
        f"{len(errors)} errors"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
