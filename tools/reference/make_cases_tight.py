#!/usr/bin/env python3
"""Write tools/reference/cases_tight.json: tight-tolerance (0.1 %) PyFibers threshold cases.

Plain Python (no PyFibers needed).  Each case gets a SAFE bracket that starts below threshold
(see shared/reference/nerve.md, "Default-bracket pitfall"):

    stimamp_top    = 0.8 x the 1 %-resolution reference threshold (pyfibers_thresholds.json)
                     (or 0.8 x a lower-bounding reference where the case has none, see below)
    stimamp_bottom = stimamp_top / 4
    bounds_search_mode "percent", bounds_search_step 50 (top grows x1.5 until suprathreshold)
    termination_tolerance 0.1  -> bisection until (top - bottom) / top < 0.1 %

Order: cheapest / most informative first (monophasic MRG at 1 mm), then biphasic, the two
PyFibers-DEFAULT-settings throughput cases (task: thresholds per hour at PyFibers defaults),
electrode offsets, anisotropic, 0.5 mm, 2 mm, Sundt last.

Usage:
    python tools/reference/make_cases_tight.py \
        --ref ../shared/reference/pyfibers_thresholds.json --out tools/reference/cases_tight.json
"""

from __future__ import annotations

import argparse
import json

DIAMS = [2.0, 5.7, 8.7, 10.0, 14.0]
PWS = [0.1, 0.25, 0.5]
ANISO = [0.083, 0.083, 0.571]
TOL = 0.1


def _key(c: dict) -> tuple:
    sig = c.get("sigma", 0.3)
    sig = tuple(sig) if isinstance(sig, list) else (float(sig),)
    return (
        c["model"],
        float(c["diameter_um"]),
        float(c.get("distance_mm", 1.0)),
        float(c.get("pw_ms", 0.1)),
        c.get("waveform", "monophasic"),
        sig,
        float(c.get("z_offset_frac", 0.0)),
        float(c.get("dt_ms", 0.001)),
        c.get("n_nodes", 101) if c.get("length_um") is None else None,
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", default="../shared/reference/pyfibers_thresholds.json")
    ap.add_argument("--out", default="tools/reference/cases_tight.json")
    args = ap.parse_args(argv)
    with open(args.ref) as fh:
        ref_cases = json.load(fh)["cases"]
    ref = {}
    for rc in ref_cases:
        if rc.get("threshold_mA") is None or rc.get("tstop_ms", 5.0) not in (5.0, 20, 20.0):
            continue
        ref.setdefault(_key(rc), rc)

    def mrg(d, r, pw, **kw):
        c = {
            "model": "MRG_INTERPOLATION",
            "diameter_um": d,
            "n_nodes": 101,
            "distance_mm": r,
            "sigma": 0.3,
            "waveform": "monophasic",
            "pw_ms": pw,
        }
        c.update(kw)
        return c

    def bracket(c, fallback_key=None, note=None):
        rc = ref.get(_key(c))
        if rc is not None:
            thr, src = rc["threshold_mA"], rc["id"]
        else:
            frc = ref[_key(fallback_key)]
            thr, src = (
                frc["threshold_mA"],
                f"lower-bounding reference {frc['id']}" + (f" ({note})" if note else ""),
            )
        top = 0.8 * thr
        c["find_threshold"] = {
            "stimamp_top": round(top, 6),
            "stimamp_bottom": round(top / 4, 6),
            "bounds_search_mode": "percent",
            "bounds_search_step": 50,
            "termination_tolerance": TOL,
        }
        c["ref_threshold_1pct_mA"] = thr if rc is not None else None
        c["bracket_source"] = src
        return c

    cases = []
    # 1) monophasic MRG at 1 mm (15)
    for d in DIAMS:
        for pw in PWS:
            c = bracket(mrg(d, 1.0, pw))
            c["id"] = f"iso_mrg{d}_r1.0_pw{pw}"
            cases.append(c)
    # 2) biphasic 10 um and 5.7 um at 1 mm (6); 5.7 um has no biphasic reference: its monophasic
    #    threshold bounds it from below (the anodic second phase can only raise threshold)
    for d in (10.0, 5.7):
        for pw in PWS:
            c = bracket(
                mrg(d, 1.0, pw, waveform="biphasic", ipg_ms=0.0),
                fallback_key=mrg(d, 1.0, pw),
                note="monophasic threshold",
            )
            c["id"] = f"biph_mrg{d}_r1.0_pw{pw}"
            cases.append(c)
    # 3) PyFibers DEFAULT settings, for throughput (tstop 50, top -1 / bottom -0.01 mA,
    #    10 % steps, 1 % tolerance): after ~20 tight cases
    for d, pw in ((10.0, 0.1), (5.7, 0.25)):
        c = mrg(d, 1.0, pw, tstop_ms=50.0, find_threshold={})
        c["id"] = f"defaults_tstop50_mrg{d}_r1.0_pw{pw}"
        c["ref_threshold_1pct_mA"] = ref[_key(mrg(d, 1.0, pw))]["threshold_mA"]
        c["bracket_source"] = "PyFibers defaults (throughput measurement, 1 % tolerance)"
        cases.append(c)
    # 4) electrode offsets along the fibre at 10 um, 1 mm, 0.1 ms (0.25: lower bound = over node)
    for zf in (0.25, 0.5):
        c = bracket(
            mrg(10.0, 1.0, 0.1, z_offset_frac=zf),
            fallback_key=mrg(10.0, 1.0, 0.1),
            note="electrode over the node",
        )
        c["id"] = f"zoff{zf}_mrg10.0_r1.0_pw0.1"
        cases.append(c)
    # 5) anisotropic sigma at 1 mm, 0.25 ms (5)
    for d in DIAMS:
        c = bracket(mrg(d, 1.0, 0.25, sigma=list(ANISO)))
        c["id"] = f"aniso_mrg{d}_r1.0_pw0.25"
        cases.append(c)
    # 6) monophasic 0.5 mm then 2 mm (30)
    for r in (0.5, 2.0):
        for d in DIAMS:
            for pw in PWS:
                c = bracket(mrg(d, r, pw))
                c["id"] = f"iso_mrg{d}_r{r}_pw{pw}"
                cases.append(c)
    # 7) Sundt C fibres, 10 mm, 0.5 mm, tstop 20 ms (4)
    for d in (0.8, 1.0):
        for pw in (0.25, 0.5):
            c = bracket(
                {
                    "model": "SUNDT",
                    "diameter_um": d,
                    "length_um": 10000.0,
                    "distance_mm": 0.5,
                    "sigma": 0.3,
                    "waveform": "monophasic",
                    "pw_ms": pw,
                    "tstop_ms": 20.0,
                }
            )
            c["id"] = f"c_sundt{d}_r0.5_pw{pw}"
            cases.append(c)
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids))
    with open(args.out, "w") as fh:
        json.dump(cases, fh, indent=1)
    print(f"wrote {args.out}: {len(cases)} cases")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
