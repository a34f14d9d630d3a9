"""Request and response bodies of the evaluation API. Limits match the table columns."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from openvns.clinic.evaluation.models import (
    DIAGNOSIS_DETAIL_MAX,
    HEADACHE_DAYS_MAX,
    NOTES_MAX,
    NRS_MAX,
    PAIN_DURATION_MAX_MONTHS,
    Diagnosis,
    Treatment,
)
from openvns.clinic.evaluation.rules import Outcome, RuleKind
from openvns.clinic.schemas import NotBoolean, PlainText, Version

PainMonths = Annotated[int, Field(ge=0, le=PAIN_DURATION_MAX_MONTHS), NotBoolean()]
Nrs = Annotated[float, Field(ge=0, le=NRS_MAX, allow_inf_nan=False), NotBoolean()]
HeadacheDays = Annotated[int, Field(ge=0, le=HEADACHE_DAYS_MAX), NotBoolean()]
Treatments = Annotated[
    list[Treatment],
    Field(max_length=len(Treatment), json_schema_extra={"uniqueItems": True}),
]
Detail = Annotated[str, Field(max_length=DIAGNOSIS_DETAIL_MAX), PlainText()]
Notes = Annotated[str, Field(max_length=NOTES_MAX), PlainText()]

_FLAG_HELP = {
    "prior_left_or_bilateral_cervical_vagotomy": "Contraindication (§3.2).",
    "planned_diathermy": "Short-wave, microwave or therapeutic-ultrasound diathermy planned: "
    "contraindication (§3.2).",
    "obstructive_sleep_apnoea": "Precaution (§3.2).",
    "chronic_pulmonary_disease": "Including obstructive lung disease. Precaution (§3.2).",
    "swallowing_difficulty": "Dysphagia. Precaution (§3.2).",
    "cardiac_arrhythmia_or_conduction_disorder": "Precaution (§3.2).",
    "heart_rate_altering_treatment": "No AutoStim. Precaution (§3.2).",
    "anticipated_mri": "Precaution (§1.6).",
    "pregnancy": "Pregnant or planning pregnancy. Precaution (§3.2).",
    "other_active_implanted_device": "Pacemaker, defibrillator, other stimulator. Precaution.",
}


def _flag(name: str) -> Any:
    return Field(default=False, description=_FLAG_HELP[name])


def _unique(value: list[Treatment] | None) -> list[Treatment] | None:
    if value is not None and len(set(value)) != len(value):
        raise ValueError("each treatment may be listed once")
    return value


class EvaluationCreate(BaseModel):
    """A new evaluation of a patient."""

    model_config = ConfigDict(extra="forbid")

    diagnosis: Diagnosis
    diagnosis_detail: Detail | None = None
    pain_duration_months: PainMonths
    treatments_tried: Treatments = Field(default_factory=list)
    baseline_nrs: Nrs = Field(description="Baseline pain, 0-10 numeric rating scale.")
    worst_nrs: Nrs | None = None
    headache_days_per_month: HeadacheDays | None = None
    prior_left_or_bilateral_cervical_vagotomy: bool = _flag(
        "prior_left_or_bilateral_cervical_vagotomy"
    )
    planned_diathermy: bool = _flag("planned_diathermy")
    obstructive_sleep_apnoea: bool = _flag("obstructive_sleep_apnoea")
    chronic_pulmonary_disease: bool = _flag("chronic_pulmonary_disease")
    swallowing_difficulty: bool = _flag("swallowing_difficulty")
    cardiac_arrhythmia_or_conduction_disorder: bool = _flag(
        "cardiac_arrhythmia_or_conduction_disorder"
    )
    heart_rate_altering_treatment: bool = _flag("heart_rate_altering_treatment")
    anticipated_mri: bool = _flag("anticipated_mri")
    pregnancy: bool = _flag("pregnancy")
    other_active_implanted_device: bool = _flag("other_active_implanted_device")
    notes: Notes | None = None

    _check_unique = field_validator("treatments_tried")(_unique)


#: Fields of an evaluation that may be left out of an update but not set to null.
_REQUIRED = (
    "diagnosis",
    "pain_duration_months",
    "treatments_tried",
    "baseline_nrs",
    "prior_left_or_bilateral_cervical_vagotomy",
    "planned_diathermy",
    "obstructive_sleep_apnoea",
    "chronic_pulmonary_disease",
    "swallowing_difficulty",
    "cardiac_arrhythmia_or_conduction_disorder",
    "heart_rate_altering_treatment",
    "anticipated_mri",
    "pregnancy",
    "other_active_implanted_device",
)


class EvaluationUpdate(BaseModel):
    """A partial update: only the fields given change. ``version`` must be the stored one."""

    model_config = ConfigDict(extra="forbid")

    version: Version
    diagnosis: Diagnosis | SkipJsonSchema[None] = None
    diagnosis_detail: Detail | None = None
    pain_duration_months: PainMonths | SkipJsonSchema[None] = None
    treatments_tried: Treatments | SkipJsonSchema[None] = None
    baseline_nrs: Nrs | SkipJsonSchema[None] = None
    worst_nrs: Nrs | None = None
    headache_days_per_month: HeadacheDays | None = None
    prior_left_or_bilateral_cervical_vagotomy: bool | SkipJsonSchema[None] = None
    planned_diathermy: bool | SkipJsonSchema[None] = None
    obstructive_sleep_apnoea: bool | SkipJsonSchema[None] = None
    chronic_pulmonary_disease: bool | SkipJsonSchema[None] = None
    swallowing_difficulty: bool | SkipJsonSchema[None] = None
    cardiac_arrhythmia_or_conduction_disorder: bool | SkipJsonSchema[None] = None
    heart_rate_altering_treatment: bool | SkipJsonSchema[None] = None
    anticipated_mri: bool | SkipJsonSchema[None] = None
    pregnancy: bool | SkipJsonSchema[None] = None
    other_active_implanted_device: bool | SkipJsonSchema[None] = None
    notes: Notes | None = None

    @field_validator(*_REQUIRED)
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be left out but not set to null")
        return value

    _check_unique = field_validator("treatments_tried")(_unique)

    def changes(self) -> dict[str, Any]:
        """The fields that were given, without ``version``."""
        return self.model_dump(exclude_unset=True, exclude={"version"}, mode="json")


class EvaluationRead(BaseModel):
    """An evaluation as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    patient_id: int
    diagnosis: Diagnosis
    diagnosis_detail: str | None
    pain_duration_months: int
    treatments_tried: list[Treatment]
    baseline_nrs: float
    worst_nrs: float | None
    headache_days_per_month: int | None
    prior_left_or_bilateral_cervical_vagotomy: bool
    planned_diathermy: bool
    obstructive_sleep_apnoea: bool
    chronic_pulmonary_disease: bool
    swallowing_difficulty: bool
    cardiac_arrhythmia_or_conduction_disorder: bool
    heart_rate_altering_treatment: bool
    anticipated_mri: bool
    pregnancy: bool
    other_active_implanted_device: bool
    notes: str | None
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime
    version: int


class ReasonRead(BaseModel):
    """One reason of an assessment, citing the reference."""

    code: str
    kind: RuleKind
    message: str
    source: str


class AssessmentRead(BaseModel):
    """The assessment of an evaluation."""

    evaluation_id: int
    evaluation_version: int
    age_years: int
    outcome: Outcome
    reasons: list[ReasonRead]
    rules_version: str
