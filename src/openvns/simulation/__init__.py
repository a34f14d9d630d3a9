"""One engine for one virtual patient and for a cohort: ``Simulation(patient, protocol).run(days)``.

The only place where the device, nerve (recruitment), physiology and patients layers are wired
together; the trials and the clinic call it.
"""

from openvns.simulation.courses import DECISIONS, Course, Recruitment, check_implanted
from openvns.simulation.engine import CohortTrajectory, simulate_cohort
from openvns.simulation.parameters import ModelParameters
from openvns.simulation.recruitment import TableRecruitment, default_recruitment, table_lead
from openvns.simulation.simulation import DEFAULT_GENERATOR, Simulation
from openvns.simulation.solution import Decision, Solution

__all__ = [
    "DECISIONS",
    "DEFAULT_GENERATOR",
    "CohortTrajectory",
    "Course",
    "Decision",
    "ModelParameters",
    "Recruitment",
    "Simulation",
    "Solution",
    "TableRecruitment",
    "check_implanted",
    "default_recruitment",
    "simulate_cohort",
    "table_lead",
]
