"""Virtual patients: conditions, named reproducible cohorts and the daily pain diary."""

from openvns.patients.cohort import (
    DIARY_TRAITS,
    LATENT,
    Cohort,
    parse_patient_name,
    patient_name,
    sample_cohort,
    sample_patients,
    typical_traits,
)
from openvns.patients.conditions import (
    Condition,
    DiaryParameters,
    condition_names,
    conditions_version,
    load_condition,
    load_diary_parameters,
    provenance,
)
from openvns.patients.diary import Diary, bpi_interference, pgic, simulate_diary

__all__ = [
    "DIARY_TRAITS",
    "LATENT",
    "Cohort",
    "Condition",
    "Diary",
    "DiaryParameters",
    "bpi_interference",
    "condition_names",
    "conditions_version",
    "load_condition",
    "load_diary_parameters",
    "parse_patient_name",
    "patient_name",
    "pgic",
    "provenance",
    "sample_cohort",
    "sample_patients",
    "simulate_diary",
    "typical_traits",
]
