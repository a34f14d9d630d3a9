"""A fixed-seed run of the daily model is bit-identical to the stored fixture.

The fixture was written by :func:`run_fixture` from the single-file model before it was split
into drive / brainstem / modulation / plasticity / side_effects, rewritten once when pain noise
and placebo moved to the diary (issue 9: every deterministic state was unchanged, bit for bit;
the pain, the AE reports and the dropout draws changed with the noise streams) and once when the
dizziness background rate was calibrated to Redgrave 2018 (issue 11: only ``p_ae``, the AE
probability, changed). Regenerate it only for an intended change of results
(``python -m tests.physiology.test_regression``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from openvns.device.dose import duty_cycle
from openvns.physiology import GROUPS, DailyInputs, initial_state, load_parameters, simulate
from tests.physiology.typical import TYPICAL

FIXTURE = Path(__file__).parent / "data" / "simulate_seed2024.npz"


def run_fixture() -> dict[str, NDArray[np.generic]]:
    P = load_parameters()
    n = 4

    def fn(d: int, s: object) -> DailyInputs:
        r = np.zeros((n, len(GROUPS)))
        r[:, 0] = np.linspace(0.1, 0.9, n)
        r[:, 1] = 0.05 * np.arange(n)
        r[:, 2] = np.linspace(0.2, 1.0, n)
        r[:, 3] = 0.1
        r[:, 4] = 0.02
        duty = [duty_cycle(30, 5), duty_cycle(30, 5), duty_cycle(30, 15), duty_cycle(30, 30)]
        return DailyInputs(
            r,
            np.array([10.0, 20.0, 25.0, 30.0]),
            np.array(duty),
            np.array([24.0, 24.0, 12.0, 24.0]),
            np.array([True, True, d % 7 != 3, True]),
        )

    st = initial_state(
        P,
        n,
        **TYPICAL,
        D50_N=np.linspace(0.2, 0.5, n),
        F_max_over_I_max=np.array([0.0, 0.3, 0.6, 1.2]),
    )
    return simulate(60, fn, P, n, root_seed=2024, state=st)


def test_fixed_seed_simulation_is_bit_identical_to_fixture() -> None:
    stored = np.load(FIXTURE)
    out = run_fixture()
    assert set(stored.files) == set(out)
    for key in stored.files:
        np.testing.assert_array_equal(out[key], stored[key], err_msg=key, strict=True)


if __name__ == "__main__":  # pragma: no cover
    np.savez_compressed(FIXTURE, **run_fixture())  # type: ignore[arg-type]
