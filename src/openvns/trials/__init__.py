"""In-silico trials: trial designs, the runner over executors, endpoints, reports and exports.

Protocols and titration policies live below, in :mod:`openvns.protocol`."""

from openvns.simulation.recruitment import TableRecruitment, default_recruitment
from openvns.trials.config import TrialConfig, load_config
from openvns.trials.design import ARM_KINDS, Arm, InclusionCriteria, TrialDesign
from openvns.trials.export import export_tidy, read_tidy
from openvns.trials.report import write_report
from openvns.trials.runner import TrialResult, run_trial

__all__ = [
    "ARM_KINDS",
    "Arm",
    "InclusionCriteria",
    "TableRecruitment",
    "TrialConfig",
    "TrialDesign",
    "TrialResult",
    "default_recruitment",
    "export_tidy",
    "load_config",
    "read_tidy",
    "run_trial",
    "write_report",
]
