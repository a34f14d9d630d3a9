"""Benchmark: a Sobol analysis of the default trial over every ranged assumption (issue 13).

The issue's target: first-order and total Sobol indices of the default trial (fibromyalgia,
implanted VNS to tolerance vs sham, 200 per arm) over every assumption-tagged parameter with 256
base samples in ≤ 15 minutes on this 2-core machine. Saltelli's design needs ``N (D + 2)``
trials (``D`` ranged assumptions the endpoint can depend on), so the figure is the time of one
trial of the analysis times that count.

Measured here: ``--sets`` parameter sets of the real Sobol design (the first rows), run as
:func:`openvns.trials.sensitivity.run_sensitivity` runs them (:func:`~openvns.trials.
uncertainty.evaluate`: one trial per set, stopped at the end of the blinded phase), serially and
on a process pool of ``--workers``; the reference is the same sets through the whole design
(with the open-label extension, what a plain ``run_trial`` per set would cost). Printed: seconds
per trial, the projected time of the whole analysis on each executor, and its ratio to the
15-minute target. ``--full`` runs the whole analysis instead (on the pool) and prints its time.

    .venv/bin/python benchmarks/trial_sensitivity.py [--base-samples 256] [--sets 16]
        [--workers 2] [--endpoint active-sham.change_NRS] [--full]
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

TARGET_S = 15 * 60


def main() -> None:
    from openvns.trials.assumptions import ranged_assumptions
    from openvns.trials.config import TrialConfig
    from openvns.trials.executors import ProcessPool
    from openvns.trials.runner import run_trial
    from openvns.trials.sensitivity import run_sensitivity, sobol_design
    from openvns.trials.uncertainty import apply_values, evaluate

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base-samples", type=int, default=256)
    ap.add_argument("--sets", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--endpoint", default="active-sham.change_NRS")
    ap.add_argument("--full", action="store_true")
    args = ap.parse_args()

    cfg = TrialConfig()
    a = ranged_assumptions(cfg.design, cfg.run.condition, endpoint=args.endpoint)
    d = len(a)
    runs = args.base_samples * (d + 2)
    keys = [x.key for x in a]
    bounds = [[x.range.low, x.range.high] for x in a if x.range is not None]
    design = sobol_design(keys, bounds, args.base_samples, cfg.run.root_seed)[: args.sets]
    print(
        f"default trial: {cfg.run.n_per_arm} per arm, {cfg.design.baseline_days} + "
        f"{cfg.design.blinded_days} (+ {cfg.design.open_label_days} open-label) days; "
        f"{args.endpoint}: D = {d} ranged assumptions, N = {args.base_samples} -> "
        f"{runs} trials"
    )
    if args.full:
        t0 = time.perf_counter()
        res = run_sensitivity(cfg, endpoint=args.endpoint, base_samples=args.base_samples,
                              executor=ProcessPool(args.workers))  # fmt: skip
        t = time.perf_counter() - t0
        print(f"full analysis: {t:.0f} s ({t / 60:.1f} min), ratio to 15 min {t / TARGET_S:.2f}")
        print(res.ranked().head(10).to_string())
        return

    one = [args.endpoint]  # what run_sensitivity evaluates: the analysed endpoint only
    evaluate(cfg, a, design[:1], common_seed=True, executor="serial", endpoints=one)  # warm
    t0 = time.perf_counter()
    evaluate(cfg, a, design, common_seed=True, executor="serial", endpoints=one)
    serial = (time.perf_counter() - t0) / len(design)
    t0 = time.perf_counter()
    evaluate(cfg, a, design, common_seed=True, executor=ProcessPool(args.workers), endpoints=one)
    pool = (time.perf_counter() - t0) / len(design)
    mp = cfg.model_parameters()
    from openvns.patients.outcomes import load_outcome_parameters

    op = load_outcome_parameters()
    t0 = time.perf_counter()
    for row in design[: max(2, len(design) // 4)]:
        m, o = apply_values(mp, op, a, row)
        run_trial(cfg.design, n_per_arm=cfg.run.n_per_arm, root_seed=cfg.run.root_seed,
                  parameters=m, outcome_parameters=o)  # fmt: skip
    whole = (time.perf_counter() - t0) / max(2, len(design) // 4)
    patient_days = 2 * cfg.run.n_per_arm * (cfg.design.baseline_days + cfg.design.blinded_days)
    print(f"  one trial, whole design (reference): {whole:.3f} s")
    for label, s_per in (("serial", serial), (f"process pool ×{args.workers}", pool)):
        total = s_per * runs
        print(
            f"  {label}: {s_per:.3f} s per trial ({patient_days / s_per:,.0f} patient-days/s), "
            f"projected {total:.0f} s = {total / 60:.0f} min; "
            f"ratio to the 15-min target {total / TARGET_S:.1f}"
        )
    print(f"  blinded-only speed-up over the whole design: {whole / serial:.1f}x")
    need = serial * runs / TARGET_S
    print(
        f"  to meet 15 min serially a trial must take {TARGET_S / runs * 1000:.0f} ms "
        f"({need:.0f}x faster); on {args.workers} cores {need / args.workers:.0f}x"
    )


if __name__ == "__main__":
    main()
