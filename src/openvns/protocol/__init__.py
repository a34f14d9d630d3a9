"""Stimulation protocols and titration policies, below the simulation, the trials and the clinic.

A :class:`Protocol` (typed steps with a text form that round-trips) says what is programmed; a
:class:`TitrationPolicy` (a plug-in per stop rule) says how its current plan becomes a current
per patient per day.
"""

from openvns.protocol.text import (
    CLAUSE_FORMS,
    STANDARD_TITRATION,
    ConstantCurrent,
    CurrentPlan,
    Protocol,
    ProtocolSyntaxError,
    Stimulation,
    StopRule,
    Titration,
)
from openvns.protocol.titration import (
    DeviceScheduled,
    FixedSchedule,
    TitrationPolicy,
    ToleranceState,
    ToTolerance,
    available_policies,
    get_policy,
    policy_for,
    register_policy,
    scheduled_currents_mA,
)

__all__ = [
    "CLAUSE_FORMS",
    "STANDARD_TITRATION",
    "ConstantCurrent",
    "CurrentPlan",
    "DeviceScheduled",
    "FixedSchedule",
    "Protocol",
    "ProtocolSyntaxError",
    "Stimulation",
    "StopRule",
    "Titration",
    "TitrationPolicy",
    "ToTolerance",
    "ToleranceState",
    "available_policies",
    "get_policy",
    "policy_for",
    "register_policy",
    "scheduled_currents_mA",
]
