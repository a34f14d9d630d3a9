"""Calibration of episodic migraine's expectation fraction against PREMIUM (issue 11).

One declared calibration parameter, ``placebo_fraction`` of ``episodic_migraine``
(``patients/data/conditions.yaml``): the median fraction of the attack rate a patient's
expectation removes (times the device's ``sham_device_placebo_multiplier``). Its anchors are
PREMIUM's three calibration targets (Diener 2019): the change in migraine days per 28 days on
nVNS and on the sham device, and their difference.

Why one parameter fits both arms: under the shipped nerve tables the gammaCore contacts recruit
no cervical vagal fibre (the vagus lies 36 mm deep), and PREMIUM's dose (two 120-s stimulations
three times a day, 0.2 h of exposure a day) drives the physiology's slow states too little to
prevent attacks even if it did: ``--vagal-check`` forces a share of the A afferents (and of the
Aδ and B fibres) to fire under the contacts at every dose and prints how PREMIUM's nVNS arm
moves. Both arms then change by the natural course of the attacks and the expectation, so both
measure the same response; the fit is the value minimising
``Σ ((simulated − published) / half-width)²`` over the three targets, on a grid of 0.005.

Run it before ``tools/calibrate_acute_headache.py``: PRESTO's patients have episodic migraine,
so its sham anchor depends on this value (PREMIUM does not depend on the acute parameters).
The held-out targets (PREMIUM's adherent subgroup and responders, EVENT, Straube) are not
looked at.

Usage: ``.venv/bin/python tools/calibrate_migraine_prevention.py [--vagal-check]
[patients_per_arm] [root_seed]`` (defaults 4000, the validation's size, and its root seed;
about 2 minutes).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from calibrate_acute_headache import objective  # the same criterion (tools/ is on the path)

from openvns.patients import conditions as conditions_module
from openvns.physiology.drive import GROUPS
from openvns.simulation import recruitment as recruitment_module
from openvns.trials.validation.cohorts import ValidationSizes
from openvns.trials.validation.run import run_validation

CONDITION = "episodic_migraine"
TARGETS = ("premium_mmd_change_active", "premium_mmd_change_sham", "premium_mmd_difference_itt")
GRID = tuple(float(x) for x in np.round(np.arange(0.04, 0.2001, 0.005), 3))
#: Shares of the vagal groups forced to fire under the gammaCore contacts by ``--vagal-check``.
VAGAL_SHARES = (0.0, 0.1, 0.3, 1.0)


@contextmanager
def placebo_fraction(value: float) -> Iterator[None]:
    """``episodic_migraine.placebo_fraction`` set to ``value`` for every loader of the process."""
    raw = conditions_module._raw(conditions_module.DATA_FILE)  # the cached file every loader reads
    entry = raw["conditions"][CONDITION]["placebo_fraction"]
    original = entry["value"]
    entry["value"] = value
    conditions_module.load_condition.cache_clear()
    try:
        yield
    finally:
        entry["value"] = original
        conditions_module.load_condition.cache_clear()


@contextmanager
def forced_vagal_share(share: float) -> Iterator[None]:
    """Under the gammaCore contacts, at least ``share`` of the A and Aδ afferents and of the
    cardiac B fibres fire whenever the device delivers more than 1 mA."""
    cls = recruitment_module.TableRecruitment
    original = cls.__call__
    cols = [GROUPS.index(g) for g in ("A_afferent", "Adelta_afferent", "cardiac_B")]

    def patched(self: Any, current_mA: Any, pulse_width_us: float) -> Any:
        out = original(self, current_mA, pulse_width_us)
        if recruitment_module.table_lead_of(self.table) == "gammacore-contacts":
            on = np.asarray(current_mA, dtype=np.float64).reshape(-1) > 1.0
            for c in cols:
                out[on, c] = np.maximum(out[on, c], share)
        return out

    cls.__call__ = patched  # type: ignore[method-assign]
    try:
        yield
    finally:
        cls.__call__ = original  # type: ignore[method-assign]


def run(n: int, seed: int, keys: tuple[str, ...] = TARGETS) -> list[Any]:
    return run_validation(sizes=ValidationSizes(noninvasive=n), root_seed=seed, only=keys)


def line(r: Any) -> str:
    lo, hi = r.interval
    return (f"  {r.key:28s} {r.simulated:6.2f} (published {r.reference:5.2f}, "
            f"[{lo:5.2f}, {hi:5.2f}]) {'pass' if r.passed else 'FAIL'}")  # fmt: skip


def vagal_check(n: int, seed: int) -> None:
    print("PREMIUM with a share of the vagal A, Adelta and B fibres forced to fire at every dose:")
    for share in VAGAL_SHARES:
        with forced_vagal_share(share):
            a, s = run(n, seed, TARGETS[:2])
        print(f"  share {share:4.2f}: nVNS {a.simulated:6.3f}, sham {s.simulated:6.3f} days/28 d")


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 4000
    seed = int(args[1]) if len(args) > 1 else 20261125
    if "--vagal-check" in sys.argv:
        vagal_check(n, seed)
        return
    best: tuple[float, float] | None = None
    for x in GRID:
        with placebo_fraction(x):
            results = run(n, seed)
        total = objective(results)
        sims = ", ".join(f"{r.simulated:6.3f}" for r in results)
        print(f"placebo_fraction {x:5.3f}: objective {total:6.3f} ({sims})", flush=True)
        if best is None or total < best[0]:
            best = (total, x)
    assert best is not None
    print(f"\n{CONDITION}.placebo_fraction {best[1]}:")
    with placebo_fraction(best[1]):
        for r in run(n, seed):
            print(line(r))


if __name__ == "__main__":
    main()
