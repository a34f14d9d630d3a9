"""The baseline discontinuation hazard relaxes from the trial-like h0 to the long-term h0_late."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from openvns.physiology import GROUPS, DailyInputs, initial_state, load_parameters, step
from openvns.physiology.model import SIDE_EFFECTS, DailyNoise
from tests.physiology.typical import TYPICAL


def _dropped(day: float, u: float) -> bool:
    p = load_parameters().with_(b_AE_per_d=0.0, b_ineffective_per_d=0.0)
    state = replace(initial_state(p, 1, **TYPICAL), day=np.array([day]))
    z = np.zeros(1)
    inputs = DailyInputs(np.zeros((1, len(GROUPS))), z, z, np.full(1, 24.0), np.zeros(1, bool))
    noise = DailyNoise(np.ones((len(SIDE_EFFECTS), 1)), np.array([u]))
    return bool(step(state, inputs, p, noise).dropped_out[0])


def test_baseline_hazard_decays_from_h0_to_h0_late() -> None:
    p = load_parameters()
    assert p.h0_per_d > p.h0_late_per_d > 0
    early = 1.0 - np.exp(-p.h0_per_d)
    late = 1.0 - np.exp(-p.h0_late_per_d)
    assert _dropped(0.0, early * 0.999)
    assert not _dropped(0.0, early * 1.001)
    middle = 0.5 * (early + late)
    assert not _dropped(20 * p.h0_decay_d, middle)  # long after the start: h0_late only
    assert _dropped(20 * p.h0_decay_d, late * 0.999)
    assert not _dropped(20 * p.h0_decay_d, late * 1.001)
