"""Request and response bodies of the patients API. Limits match the table columns."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from openvns.clinic.patients.models import (
    DIAGNOSIS_MAX,
    MRN_MAX,
    NAME_MAX,
    PAIN_DURATION_MAX_MONTHS,
    Sex,
)
from openvns.clinic.schemas import BodyId, NotBoolean, PlainText, Version

#: Medical record number: letters, digits and hyphens.
MRN_PATTERN = r"^[A-Za-z0-9-]+$"

Mrn = Annotated[str, Field(min_length=1, max_length=MRN_MAX, pattern=MRN_PATTERN)]
FullName = Annotated[str, Field(min_length=1, max_length=NAME_MAX), PlainText()]
Diagnosis = Annotated[str, Field(max_length=DIAGNOSIS_MAX), PlainText()]
#: A search of the patient list: part of a name or an MRN.
Search = Annotated[str, Field(max_length=200), PlainText()]
PainMonths = Annotated[int, Field(ge=0, le=PAIN_DURATION_MAX_MONTHS), NotBoolean()]
UserId = BodyId


class PatientCreate(BaseModel):
    """A new patient record."""

    model_config = ConfigDict(extra="forbid")

    mrn: Mrn
    full_name: FullName
    date_of_birth: date
    sex: Sex
    diagnosis: Diagnosis | None = None
    pain_duration_months: PainMonths | None = None
    user_id: UserId | None = Field(
        default=None, description="The patient's own user account (role patient), if any."
    )


#: Fields of a record that may not be set to null.
_REQUIRED = ("mrn", "full_name", "date_of_birth", "sex")


class PatientUpdate(BaseModel):
    """A partial update: only the fields given change. ``version`` must be the stored one."""

    model_config = ConfigDict(extra="forbid")

    version: Version
    mrn: Mrn | SkipJsonSchema[None] = None
    full_name: FullName | SkipJsonSchema[None] = None
    date_of_birth: date | SkipJsonSchema[None] = None
    sex: Sex | SkipJsonSchema[None] = None
    diagnosis: Diagnosis | None = None
    pain_duration_months: PainMonths | None = None
    user_id: UserId | None = None

    @field_validator(*_REQUIRED)
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be left out but not set to null")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields that were given, without ``version``."""
        return self.model_dump(exclude_unset=True, exclude={"version"})


class PatientRead(BaseModel):
    """A patient record as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    mrn: str
    full_name: str
    date_of_birth: date
    sex: Sex
    diagnosis: str | None
    pain_duration_months: int | None
    user_id: int | None
    created_at: datetime
    updated_at: datetime
    version: int
