"""Calibration of ``dizziness.background_per_d`` (side_effects.yaml) to Redgrave 2018's 1.4 %.

In the typical taVNS trial (validation cohort ``tavns_typical``: 4 weeks at the cymba conchae)
the auricular electrode barely recruits the dizziness channel's drivers (vagal A afferents, the
heart-rate change), so the arm's dizziness reports are the background (nocebo) rate of the
channel: the calibration target ``redgrave_dizziness`` fixes that rate. Bisection on the rate;
PREVA's dizziness difference (held out) is printed at the result.

Usage: ``.venv/bin/python tools/calibrate_dizziness_background.py`` (about a minute).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from openvns.trials.validation import cohorts
from openvns.trials.validation.run import run_validation

NAME = "dizziness.background_per_d"


@contextmanager
def background(rate: float) -> Iterator[None]:
    """Every validation cohort run with the dizziness background ``rate`` (per day)."""
    original = cohorts.CohortRunner.parameters

    def patched(self: Any, spec: Any) -> Any:
        return original(self, spec).with_(**{NAME: rate})

    cohorts.CohortRunner.parameters = patched  # type: ignore[method-assign]
    try:
        yield
    finally:
        cohorts.CohortRunner.parameters = original  # type: ignore[method-assign]


def main() -> None:
    lo, hi = 0.0001, 0.001
    for _ in range(7):
        mid = 0.5 * (lo + hi)
        with background(mid):
            (r,) = run_validation(only=["redgrave_dizziness"])
        print(f"{NAME} {mid:.6f}: {r.simulated:.2f} % (published {r.reference})", flush=True)
        lo, hi = (mid, hi) if r.simulated < r.reference else (lo, mid)
    rate = round(0.5 * (lo + hi), 5)
    with background(rate):
        for r in run_validation(only=["redgrave_dizziness", "preva_dizziness_difference"]):
            lo_i, hi_i = r.interval
            print(f"{rate}: {r.key} {r.simulated:.2f} [{lo_i:.2f}, {hi_i:.2f}] {r.status}")


if __name__ == "__main__":
    main()
