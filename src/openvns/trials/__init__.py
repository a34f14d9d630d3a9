"""In-silico trials: protocols, titration policies, trial designs, the runner and endpoints."""

from openvns.trials.design import ARM_KINDS, Arm, InclusionCriteria, TrialDesign
from openvns.trials.protocol import (
    ConstantCurrent,
    Protocol,
    ProtocolSyntaxError,
    Stimulation,
    Titration,
)
from openvns.trials.runner import TrialResult, run_trial
from openvns.trials.titration import (
    DeviceScheduled,
    FixedSchedule,
    TitrationPolicy,
    ToTolerance,
    available_policies,
    get_policy,
    policy_for,
    register_policy,
)

__all__ = [
    "ARM_KINDS",
    "Arm",
    "ConstantCurrent",
    "DeviceScheduled",
    "FixedSchedule",
    "InclusionCriteria",
    "Protocol",
    "ProtocolSyntaxError",
    "Stimulation",
    "Titration",
    "TitrationPolicy",
    "ToTolerance",
    "TrialDesign",
    "TrialResult",
    "available_policies",
    "get_policy",
    "policy_for",
    "register_policy",
    "run_trial",
]
