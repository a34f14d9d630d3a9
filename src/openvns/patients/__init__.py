"""Virtual patients: conditions, named reproducible cohorts, the daily pain diary, the outcomes
beyond pain (PGIC, BPI interference, FIQR, sleep), headache attacks and the daily worst pain."""

from openvns.patients.attack_parameters import (
    AttackParameters,
    headache_conditions,
    load_attack_parameters,
)
from openvns.patients.attacks import TIMES_MIN, AttackDiary, TreatedAttacks, simulate_attacks
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
from openvns.patients.diary import Diary, simulate_diary
from openvns.patients.outcomes import (
    Mcid,
    OutcomeParameters,
    Outcomes,
    load_outcome_parameters,
    mcid,
    mcid_table,
    simulate_outcomes,
)
from openvns.patients.worst_pain import (
    WorstPainDiary,
    load_worst_pain_parameters,
    worst_pain,
)

__all__ = [
    "DIARY_TRAITS",
    "LATENT",
    "TIMES_MIN",
    "AttackDiary",
    "AttackParameters",
    "Cohort",
    "Condition",
    "Diary",
    "DiaryParameters",
    "Mcid",
    "OutcomeParameters",
    "Outcomes",
    "TreatedAttacks",
    "WorstPainDiary",
    "condition_names",
    "conditions_version",
    "headache_conditions",
    "load_attack_parameters",
    "load_condition",
    "load_diary_parameters",
    "load_outcome_parameters",
    "load_worst_pain_parameters",
    "mcid",
    "mcid_table",
    "parse_patient_name",
    "patient_name",
    "provenance",
    "sample_cohort",
    "sample_patients",
    "simulate_attacks",
    "simulate_diary",
    "simulate_outcomes",
    "typical_traits",
    "worst_pain",
]
