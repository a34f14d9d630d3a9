"""From recruitment to effect: the daily-step VNS → pain model of reference §5."""

from openvns.physiology.model import (
    GROUPS,
    DailyInputs,
    DailyNoise,
    PhysiologyState,
    initial_state,
    simulate,
    step,
)
from openvns.physiology.parameters import PhysiologyParameters, load_parameters, provenance

__all__ = [
    "GROUPS",
    "DailyInputs",
    "DailyNoise",
    "PhysiologyParameters",
    "PhysiologyState",
    "initial_state",
    "load_parameters",
    "provenance",
    "simulate",
    "step",
]
