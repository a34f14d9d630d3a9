"""Benchmark: a power curve of the default design, 4 sizes × 200 replicates (issue 13: ≤ 2 min
on the 2-core machine).

Runs :func:`openvns.trials.power.power_curve` on the default design (fibromyalgia, VNS titrated
to tolerance vs sham, 1:1) and prints the wall time, the patient-days simulated per second and
the power table with the n per arm for 80 % and 90 % power. The curve simulates one cohort of
``max(n) · 2 · R`` patients over the baseline and blinded phase (112 days; the smaller sizes are
the prefixes of each replicate's block); "as separate trials" is what running every size's
replicates as whole default trials (393 days) would have simulated, for comparison.

    .venv/bin/python benchmarks/trial_power.py [--sizes 50,100,200,400] [--replicates 200]
        [--executor process] [--workers 2] [--seed 2026] [--chunk-size 2048]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    from openvns.trials import TrialDesign
    from openvns.trials.power import power_curve, recruitment_warm_up

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="50,100,200,400")
    ap.add_argument("--replicates", type=int, default=200)
    ap.add_argument("--executor", default="process", choices=("serial", "process", "dask"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--chunk-size", type=int, default=2048)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    design = TrialDesign.default()
    recruitment_warm_up(design)  # the lead's recruitment table is built or read once, untimed
    t0 = time.perf_counter()
    curve = power_curve(
        design,
        sizes,
        replicates=args.replicates,
        root_seed=args.seed,
        executor=args.executor,
        workers=args.workers,
        chunk_size=args.chunk_size,
    )
    wall = time.perf_counter() - t0
    days_full = design.baseline_days + design.blinded_days + design.open_label_days
    separate = sum(sizes) * sum(design.ratio) * args.replicates * days_full
    print(
        f"power curve: sizes {sizes} per arm × {args.replicates} replicates, "
        f"{args.executor} ×{args.workers}, os.cpu_count() = {os.cpu_count()}"
    )
    print(f"wall time {wall:.1f} s (target ≤ 120 s)")
    print(
        f"simulated {curve.simulated_patient_days:,} patient-days: "
        f"{curve.simulated_patient_days / wall:,.0f} patient-days/s"
    )
    print(
        f"as separate whole trials: {separate:,} patient-days, {separate / wall:,.0f} /s equivalent"
    )
    n80, n90 = curve.n_for(0.8), curve.n_for(0.9)
    for e in curve.endpoints:
        row = "  ".join(
            f"{100 * p:5.1f}±{100 * s:.1f}" for p, s in zip(e.power, e.mc_se, strict=True)
        )
        key = (e.comparison, e.endpoint)
        print(f"{e.comparison} {e.label:34s} {row}   n80 {n80[key].text()}, n90 {n90[key].text()}")


if __name__ == "__main__":
    main()
