"""Population-level validation of the VNS → pain model: a registry of published targets.

Every target is data (``data/targets.yaml``): a cohort or trial specification, a metric, the
published value with its interval and source, and whether it was used for calibration
(:mod:`~openvns.trials.validation.registry`). :func:`run_validation` simulates each cohort once
through the trial runner (:mod:`~openvns.trials.validation.cohorts`), measures every target
(:mod:`~openvns.trials.validation.metrics`, :mod:`~openvns.trials.validation.mechanism`) and
judges it; :mod:`~openvns.trials.validation.report` renders Markdown, JSON and HTML.
``openvns validate`` runs it from the command line; docs/validation.md shows the table.
"""

from openvns.trials.validation.cohorts import QUICK_SIZES, ValidationSizes
from openvns.trials.validation.mechanism import heart_rate_pct
from openvns.trials.validation.registry import Registry, Target, load_registry, parse_registry
from openvns.trials.validation.report import html_page, json_document, markdown_table
from openvns.trials.validation.run import TargetResult, run_validation
from openvns.trials.validation.stats import Measured, NotSimulated, clopper_pearson

#: Lange 2011 protocol of the ``lange`` cohort (2-week adjustment to the highest tolerated
#: current; parameters NF: 20 Hz, 250 µs, 30 s / 5 min and a 2.0 mA ceiling assumed).
LANGE_PROTOCOL = (
    "titrate from 0.25 mA by 0.25 mA every 2 days to tolerance, max 2.0 mA; "
    "20 Hz; 250 us; 30 s on / 5 min off"
)

__all__ = [
    "LANGE_PROTOCOL",
    "QUICK_SIZES",
    "Measured",
    "NotSimulated",
    "Registry",
    "Target",
    "TargetResult",
    "ValidationSizes",
    "clopper_pearson",
    "heart_rate_pct",
    "html_page",
    "json_document",
    "load_registry",
    "markdown_table",
    "parse_registry",
    "run_validation",
]
