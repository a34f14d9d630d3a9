"""JSON API of patient records (``/api/v1/patients``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from openvns.clinic.auth.dependencies import (
    CareTeamUser,
    ClinicianUser,
    CurrentUser,
    PatientRoleUser,
)
from openvns.clinic.db.session import SessionDep
from openvns.clinic.patients import service
from openvns.clinic.patients.schemas import PatientCreate, PatientRead, PatientUpdate, Search
from openvns.clinic.schemas import Limit, Offset, Page, PathId, error_responses

router = APIRouter(prefix="/patients", tags=["patients"])


@router.post(
    "",
    response_model=PatientRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 409),
)
def create_patient(body: PatientCreate, user: CareTeamUser, session: SessionDep) -> PatientRead:
    """Create a patient record (clinician or nurse)."""
    patient = service.create_patient(session, user, body.model_dump())
    return PatientRead.model_validate(patient)


@router.get("", response_model=Page[PatientRead], responses=error_responses(401, 403))
def list_patients(
    user: CareTeamUser,
    session: SessionDep,
    search: Annotated[Search | None, Query()] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[PatientRead]:
    """List patient records (clinician or nurse); ``search`` matches name or MRN."""
    rows, total = service.list_patients(session, search=search, limit=limit, offset=offset)
    items = [PatientRead.model_validate(p) for p in rows]
    return Page[PatientRead](items=items, total=total, limit=limit, offset=offset)


@router.get("/me", response_model=PatientRead, responses=error_responses(401, 403, 404))
def read_own(user: PatientRoleUser, session: SessionDep) -> PatientRead:
    """The record linked to the signed-in patient."""
    return PatientRead.model_validate(service.own_patient(session, user))


@router.get("/{patient_id}", response_model=PatientRead, responses=error_responses(401, 403, 404))
def read_patient(patient_id: PathId, user: CurrentUser, session: SessionDep) -> PatientRead:
    """One record: any for the care team, only their own for a patient (others: 404)."""
    return PatientRead.model_validate(service.get_patient(session, user, patient_id))


@router.patch(
    "/{patient_id}",
    response_model=PatientRead,
    responses=error_responses(401, 403, 404, 409),
)
def update_patient(
    patient_id: PathId, body: PatientUpdate, user: CareTeamUser, session: SessionDep
) -> PatientRead:
    """Change the given fields (clinician or nurse); send the ``version`` you read."""
    patient = service.update_patient(session, user, patient_id, body.version, body.changes())
    return PatientRead.model_validate(patient)


@router.delete(
    "/{patient_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 409),
)
def delete_patient(patient_id: PathId, user: ClinicianUser, session: SessionDep) -> Response:
    """Delete a record (clinician only): a soft delete. Nothing is erased; the record, its
    diary, evaluations, implants and outcomes then answer 404, and the audit log keeps the
    record before and after. A patient with an active implant is not deleted (409)."""
    service.delete_patient(session, user, patient_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
