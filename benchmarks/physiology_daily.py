"""Benchmark: the daily physiology model, 10 000 patients for 365 days, on one core.

Prints patient-days per second (issue 4 target: ≥ 1 000 000 per core) for the model steps alone
(noise drawn beforehand) and for the whole seeded :func:`openvns.physiology.simulate` (per-patient
noise streams included). Pin to one core for a per-core figure (``OMP_NUM_THREADS=1`` is set
here; use ``taskset -c 0`` as well).

    .venv/bin/python benchmarks/physiology_daily.py [--patients 10000] [--days 365] [--repeat 3]
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

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from openvns.device.dose import duty_cycle
    from openvns.patients import typical_traits
    from openvns.physiology import GROUPS, DailyInputs, load_parameters, simulate
    from openvns.physiology.model import draw_noise, initial_state, step

    n, days = args.patients, args.days
    params = load_parameters()
    rng = np.random.default_rng(0)
    r = rng.uniform(0.0, 1.0, (n, len(GROUPS)))
    inputs = DailyInputs(
        recruited_fraction=r,
        frequency_Hz=np.full(n, 25.0),
        duty_cycle=np.full(n, duty_cycle(30, 5)),
        hours_per_day=np.full(n, 24.0),
        stimulation_on=np.ones(n, dtype=bool),
    )
    typical = typical_traits("fibromyalgia", params)
    patient_days = n * days

    t0 = time.perf_counter()
    noise = draw_noise(days, n, root_seed=1)
    t_noise = time.perf_counter() - t0

    best = float("inf")
    for _ in range(args.repeat):
        state = initial_state(params, n, **typical)
        t0 = time.perf_counter()
        for d in range(days):
            state = step(state, inputs, params, noise[d])
        best = min(best, time.perf_counter() - t0)

    t0 = time.perf_counter()
    simulate(days, lambda d, s: inputs, params, n, root_seed=1, record=("NRS", "dropped_out"),
             state=initial_state(params, n, **typical))  # fmt: skip
    t_lean = time.perf_counter() - t0

    t0 = time.perf_counter()
    simulate(
        days, lambda d, s: inputs, params, n, root_seed=1, state=initial_state(params, n, **typical)
    )
    t_sim = time.perf_counter() - t0

    print(f"{n} patients × {days} days = {patient_days:,} patient-days")
    print(f"  noise draw (per-patient streams): {t_noise:8.3f} s")
    print(f"  model steps only (best of {args.repeat}):    {best:8.3f} s "
          f"→ {patient_days / best:12,.0f} patient-days/s")  # fmt: skip
    print(f"  simulate(), seeded, NRS only:     {t_lean:8.3f} s "
          f"→ {patient_days / t_lean:12,.0f} patient-days/s")  # fmt: skip
    print(f"  simulate(), seeded, all recorded: {t_sim:8.3f} s "
          f"→ {patient_days / t_sim:12,.0f} patient-days/s")  # fmt: skip
    print("  target (issue 4): ≥ 1,000,000 patient-days/s per core")


if __name__ == "__main__":
    main()
