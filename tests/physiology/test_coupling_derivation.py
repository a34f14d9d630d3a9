"""The physiology's median coupling θ is derived from the default recruitment table.

``coupling_median`` = the human laryngeal EMG50 (0.49 mA at 250 µs, P12 of the physiology set)
over the default 2 mm table's laryngeal-motor I50 at 250 µs (``tools/calibrate_coupling.py``).
A new default table (field, mesh, population) without the re-derived value fails here.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from openvns.nerve.recruitment import RecruitmentTable
from openvns.physiology.parameters import load_parameters
from openvns.simulation.recruitment import default_recruitment

#: P12: human laryngeal EMG50 (mA) at 250 µs.
EMG50_MA = 0.49


def test_coupling_median_is_emg50_over_the_default_tables_laryngeal_i50() -> None:
    table = default_recruitment().table
    i50 = table.i50_mA("laryngeal_motor", 250.0)
    theta = load_parameters().coupling_median
    # the file holds θ to three significant digits
    assert abs(theta * i50 / EMG50_MA - 1.0) < 0.005, (theta, i50, EMG50_MA / i50)
    # the median patient's laryngeal recruitment at the EMG50 is then one half
    assert table.fraction("laryngeal_motor", EMG50_MA, 250.0, coupling=theta) >= 0.495


@settings(max_examples=60, deadline=None)
@given(
    thr=st.lists(st.floats(0.01, 10.0), min_size=1, max_size=40),
    seed=st.integers(0, 2**32 - 1),
    coupling=st.floats(0.5, 20.0),
)
def test_i50_is_the_current_that_first_recruits_half(
    thr: list[float], seed: int, coupling: float
) -> None:
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.1, 2.0, len(thr))
    table = RecruitmentTable(
        groups=("g",),
        pulse_widths_us=np.array([250.0]),
        thresholds_mA=np.array(thr)[:, None],
        group_index=np.zeros(len(thr), dtype=np.int64),
        weight=w,
    )
    i50 = table.i50_mA("g", 250.0, coupling=coupling)
    assert table.fraction("g", i50, 250.0, coupling=coupling) >= 0.5 - 1e-12
    assert table.fraction("g", i50 * (1 - 1e-9), 250.0, coupling=coupling) < 0.5 + 1e-12
    assert np.isclose(i50 / coupling, thr, rtol=1e-12).any()
