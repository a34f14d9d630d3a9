"""Benchmark: a whole trial, 10 000 patients for one year, on every executor.

Runs :func:`openvns.trials.run_trial` (diary, titration to tolerance, the real default
recruitment table, the daily physiology) for a two-arm design of 28 baseline days, 84 blinded
days and the rest of ``--days`` open label, with a fixed root seed, and prints patient-days per
second for the serial executor (one core), the process pool and a Dask ``LocalCluster`` with 1
and 2 workers, and each parallel executor's 1 → 2 worker scaling. Every parallel run is checked to
give arrays identical to the serial run's. The parallel figures include starting the pool or
cluster, as ``run_trial`` does; "dask (running cluster)" submits to a cluster started beforehand.
Issue 4 target: ≥ 1 000 000 patient-days/s per core. ``--chunk-sizes`` adds a sweep over chunk
sizes (serial and process pool ×2); ``--repeat`` takes the best of several runs of each.

The reference: the same serial trial through the runner before the one engine (issue 9; commit
``--old-ref``, default d6fa918, extracted with ``git archive`` and run in a subprocess on its own
sources), timed right after the serial run here; the ratio new / old is printed. ``--only-old``
skips the parallel executors.

    .venv/bin/python benchmarks/trial_throughput.py [--patients 10000] [--days 365]
        [--chunk-size 2048] [--chunk-sizes 512,1024,2048,5000] [--repeat 1] [--old-ref d6fa918]
        [--only-old]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import logging
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

ACTIVE = (
    "titrate from 0.25 mA by 0.25 mA every 14 days to tolerance, max 2.0 mA; "
    "20 Hz; 250 us; 30 s on / 5 min off"
)
SHAM = "0.0 mA; 20 Hz; 250 us; 30 s on / 5 min off"
ROOT_SEED = 20260401
ARRAYS = ("nrs", "observed", "current_mA", "ae_reported", "dropout_day", "eligible", "coupling")
TARGET = 1_000_000


def design(days: int) -> Any:
    """Active (titration to tolerance) vs sham; 28 + 84 + rest days, scaled when ``days`` < 365."""
    from openvns.protocol import Protocol
    from openvns.trials import Arm, TrialDesign

    base = round(28 * min(days, 365) / 365)
    blind = max(1, round(84 * min(days, 365) / 365))
    return TrialDesign(
        arms=(
            Arm(name="active", kind="active", protocol=Protocol.parse(ACTIVE)),
            Arm(name="sham", kind="sham", protocol=Protocol.parse(SHAM)),
        ),
        baseline_days=base,
        blinded_days=blind,
        open_label_days=max(days - base - blind, 0),
        open_label_arm="active",
    )


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, float, Any]:
    """Best wall time (s) and best CPU time of this process (s) of ``repeat`` calls; a result."""
    wall, cpu, out = float("inf"), float("inf"), None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--chunk-size", type=int, default=2048)
    ap.add_argument("--chunk-sizes", default="", help="comma-separated sweep, e.g. 512,1024")
    ap.add_argument("--repeat", type=int, default=1, help="best of this many runs each")
    ap.add_argument("--old-ref", default="d6fa918", help="commit of the runner to compare with")
    ap.add_argument("--only-old", action="store_true", help="serial vs old runner only")
    args = ap.parse_args()

    import distributed

    from openvns.simulation.recruitment import default_recruitment
    from openvns.trials.executors import DaskExecutor, ProcessPool
    from openvns.trials.runner import run_trial

    d = design(args.days)
    rec = default_recruitment()
    n_per_arm = args.patients // 2
    n = 2 * n_per_arm
    days = d.baseline_days + d.blinded_days + d.open_label_days
    patient_days = n * days

    def run(executor: Any, chunk_size: int = args.chunk_size) -> Any:
        return run_trial(
            d, n_per_arm=n_per_arm, root_seed=ROOT_SEED, recruitment=rec, executor=executor,
            chunk_size=chunk_size,
        )  # fmt: skip

    print(f"{n} patients × {days} days ({d.baseline_days} baseline + {d.blinded_days} blinded + "
          f"{d.open_label_days} open label) = {patient_days:,} patient-days; "
          f"chunk size {args.chunk_size}; {os.cpu_count()} CPUs; "
          f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    run_trial(d, n_per_arm=16, root_seed=ROOT_SEED, recruitment=rec)  # warm-up: tables, imports

    rep = args.repeat
    # CPU time of the serial run: a per-core figure robust to other jobs on the machine
    t_serial, cpu_serial, ref = timed(lambda: run("serial"), rep)
    t_old = old_runner_seconds(args.old_ref, args.days, n_per_arm, args.chunk_size, rep)
    print(f"  serial, this runner: {patient_days / t_serial:,.0f} patient-days/s; runner of "
          f"{args.old_ref}: {patient_days / t_old:,.0f} patient-days/s; "
          f"ratio new / old: {t_old / t_serial:.2f}")  # fmt: skip
    if args.only_old:
        return
    rows: list[tuple[str, int, float]] = [("serial", 1, t_serial)]
    for workers in (1, 2):
        t, _, r = timed(lambda w=workers: run(ProcessPool(w)), rep)  # type: ignore[misc]
        rows.append(("process pool", workers, t))
        check(ref, r, f"process pool ×{workers}")
    for workers in (1, 2):
        t, _, r = timed(lambda w=workers: run(DaskExecutor(workers=w)), rep)  # type: ignore[misc]
        rows.append(("dask LocalCluster", workers, t))
        check(ref, r, f"dask ×{workers}")
    for workers in (1, 2):
        with distributed.LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
            silence_logs=logging.ERROR,
        ) as cluster:  # fmt: skip
            address = cluster.scheduler_address
            run(DaskExecutor(address), chunk_size=min(args.chunk_size, 64))  # warm the workers
            t, _, r = timed(lambda a=address: run(DaskExecutor(a)), rep)  # type: ignore[misc]
        rows.append(("dask (running cluster)", workers, t))
        check(ref, r, f"dask running cluster ×{workers}")

    print(f"  {'executor':<24}{'workers':>8}{'time (s)':>11}{'patient-days/s':>17}{'per core':>14}")
    for name, workers, t in rows:
        rate = patient_days / t
        print(f"  {name:<24}{workers:>8}{t:>11.2f}{rate:>17,.0f}{rate / workers:>14,.0f}")
    by = {(name, w): t for name, w, t in rows}
    for name in ("process pool", "dask LocalCluster", "dask (running cluster)"):
        print(f"  {name}: 1 → 2 workers speed-up ×{by[(name, 1)] / by[(name, 2)]:.2f}")
    serial_rate = patient_days / t_serial
    print(f"  serial per core: {serial_rate:,.0f} patient-days/s wall, "
          f"{patient_days / cpu_serial:,.0f} per CPU-second; "
          f"ratio to the target ({TARGET:,}/s per core): {serial_rate / TARGET:.2f}")  # fmt: skip
    print("  all runs identical to the serial run: yes")

    if args.chunk_sizes:
        print("  chunk-size sweep (patient-days/s):       serial   process pool ×2")
        for cs in (int(x) for x in args.chunk_sizes.split(",")):
            t, _, r = timed(lambda c=cs: run("serial", chunk_size=c), rep)  # type: ignore[misc]
            check(ref, r, f"serial chunk {cs}")
            t2, _, r = timed(lambda c=cs: run(ProcessPool(2), chunk_size=c), rep)  # type: ignore[misc]
            check(ref, r, f"process pool ×2 chunk {cs}")
            print(f"    chunk {cs:>6} ({-(-n // cs):>3} chunks): "
                  f"{patient_days / t:12,.0f} {patient_days / t2:17,.0f}")  # fmt: skip
    print(f"  load average at the end: {os.getloadavg()[0]:.2f}")


_OLD_SCRIPT = """
import time
from openvns.trials import Arm, Protocol, TrialDesign, default_recruitment, run_trial
d = TrialDesign(
    arms=(Arm(name="active", kind="active", protocol=Protocol.parse({active!r})),
          Arm(name="sham", kind="sham", protocol=Protocol.parse({sham!r}))),
    baseline_days={base}, blinded_days={blind}, open_label_days={ol}, open_label_arm="active",
)
rec = default_recruitment()
run_trial(d, n_per_arm=16, root_seed={seed}, recruitment=rec)
best = float("inf")
for _ in range({repeat}):
    t0 = time.perf_counter()
    run_trial(d, n_per_arm={n_per_arm}, root_seed={seed}, recruitment=rec, chunk_size={chunk})
    best = min(best, time.perf_counter() - t0)
print(best)
"""


def old_runner_seconds(ref: str, days: int, n_per_arm: int, chunk: int, repeat: int) -> float:
    """Best serial wall time of the same trial through the runner of commit ``ref``."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", ref, "src"], check=True, capture_output=True
        ).stdout
        with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        d = design(days)
        script = _OLD_SCRIPT.format(
            active=ACTIVE, sham=SHAM, base=d.baseline_days, blind=d.blinded_days,
            ol=d.open_label_days, seed=ROOT_SEED, n_per_arm=n_per_arm, chunk=chunk, repeat=repeat,
        )  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(Path(tmp) / "src")}
        out = subprocess.run(
            [sys.executable, "-c", script], check=True, capture_output=True, text=True, env=env,
            cwd=tmp,
        )  # fmt: skip
        return float(out.stdout.strip().splitlines()[-1])


def check(ref: Any, other: Any, label: str) -> None:
    """Every array field and the configuration hash equal the serial run's."""
    for f in ARRAYS:
        np.testing.assert_array_equal(getattr(other, f), getattr(ref, f), err_msg=f"{label}: {f}")
    assert other.config_hash == ref.config_hash, label


if __name__ == "__main__":
    main()
