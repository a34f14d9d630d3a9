"""The population's typical fibromyalgia patient, the starting state the physiology tests use."""

from __future__ import annotations

from openvns.patients import typical_traits
from openvns.physiology import PhysiologyState, initial_state, load_parameters

#: Baseline pain and retraining benefit of the typical patient (the condition owns them).
TYPICAL = typical_traits("fibromyalgia")


def typical_start(n: int) -> PhysiologyState:
    """``n`` untreated typical patients."""
    return initial_state(load_parameters(), n, **TYPICAL)
