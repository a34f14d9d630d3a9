"""Stimulation protocols and titration policies, below the simulation, the trials and the clinic.

A :class:`Protocol` (typed steps with a text form that round-trips) says what is programmed; a
:class:`TitrationPolicy` (a plug-in per stop rule) says how its current plan becomes a current
per patient per day.
"""

from openvns.protocol.plans import (
    CurrentPlan,
    RelativeCurrent,
    SensationMatchedSham,
    StopRule,
    dosing_defaults,
)
from openvns.protocol.stimulation import AcuteUse, Doses, Pattern, Stimulation
from openvns.protocol.syntax import ProtocolSyntaxError
from openvns.protocol.text import (
    CLAUSE_FORMS,
    STANDARD_TITRATION,
    ConstantCurrent,
    Protocol,
    Titration,
)
from openvns.protocol.titration import (
    DeviceScheduled,
    FixedSchedule,
    RelativeToThreshold,
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
    "AcuteUse",
    "ConstantCurrent",
    "CurrentPlan",
    "DeviceScheduled",
    "Doses",
    "FixedSchedule",
    "Pattern",
    "Protocol",
    "ProtocolSyntaxError",
    "RelativeCurrent",
    "RelativeToThreshold",
    "SensationMatchedSham",
    "Stimulation",
    "StopRule",
    "Titration",
    "TitrationPolicy",
    "ToTolerance",
    "ToleranceState",
    "available_policies",
    "dosing_defaults",
    "get_policy",
    "policy_for",
    "register_policy",
    "scheduled_currents_mA",
]
