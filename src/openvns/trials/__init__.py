"""In-silico trials: protocols, titration policies, trial designs, the runner and endpoints."""

from openvns.trials.config import TrialConfig, load_config
from openvns.trials.design import ARM_KINDS, Arm, InclusionCriteria, TrialDesign
from openvns.trials.export import export_tidy, read_tidy
from openvns.trials.protocol import (
    ConstantCurrent,
    Protocol,
    ProtocolSyntaxError,
    Stimulation,
    Titration,
)
from openvns.trials.recruitment import TableRecruitment, default_recruitment
from openvns.trials.report import write_report
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
    "TableRecruitment",
    "Titration",
    "TitrationPolicy",
    "ToTolerance",
    "TrialConfig",
    "TrialDesign",
    "TrialResult",
    "available_policies",
    "default_recruitment",
    "export_tidy",
    "get_policy",
    "load_config",
    "policy_for",
    "read_tidy",
    "register_policy",
    "run_trial",
    "write_report",
]
