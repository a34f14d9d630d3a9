"""JSON API of candidate evaluations (``/api/v1/patients/{id}/evaluations``, ``/evaluations``)."""

from __future__ import annotations

from fastapi import APIRouter, status

from openvns.clinic.auth.dependencies import CareTeamUser
from openvns.clinic.db.session import SessionDep
from openvns.clinic.evaluation import service
from openvns.clinic.evaluation.schemas import (
    AssessmentRead,
    EvaluationCreate,
    EvaluationRead,
    EvaluationUpdate,
    ReasonRead,
)
from openvns.clinic.schemas import Limit, Offset, Page, PathId, error_responses

router = APIRouter(tags=["evaluations"])


@router.post(
    "/patients/{patient_id}/evaluations",
    response_model=EvaluationRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 404),
)
def create_evaluation(
    patient_id: PathId, body: EvaluationCreate, user: CareTeamUser, session: SessionDep
) -> EvaluationRead:
    """Record a candidate evaluation of a patient (clinician or nurse)."""
    evaluation = service.create_evaluation(session, user, patient_id, body.model_dump())
    return EvaluationRead.model_validate(evaluation)


@router.get(
    "/patients/{patient_id}/evaluations",
    response_model=Page[EvaluationRead],
    responses=error_responses(401, 403, 404),
)
def list_evaluations(
    patient_id: PathId,
    user: CareTeamUser,
    session: SessionDep,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[EvaluationRead]:
    """The evaluations of a patient, oldest first (clinician or nurse)."""
    rows, total = service.list_evaluations(session, user, patient_id, limit=limit, offset=offset)
    items = [EvaluationRead.model_validate(e) for e in rows]
    return Page[EvaluationRead](items=items, total=total, limit=limit, offset=offset)


@router.get(
    "/evaluations/{evaluation_id}",
    response_model=EvaluationRead,
    responses=error_responses(401, 403, 404),
)
def read_evaluation(
    evaluation_id: PathId, user: CareTeamUser, session: SessionDep
) -> EvaluationRead:
    """One evaluation (clinician or nurse)."""
    return EvaluationRead.model_validate(service.get_evaluation(session, user, evaluation_id))


@router.patch(
    "/evaluations/{evaluation_id}",
    response_model=EvaluationRead,
    responses=error_responses(401, 403, 404, 409),
)
def update_evaluation(
    evaluation_id: PathId, body: EvaluationUpdate, user: CareTeamUser, session: SessionDep
) -> EvaluationRead:
    """Change the given fields (clinician or nurse); send the ``version`` you read."""
    evaluation = service.update_evaluation(
        session, user, evaluation_id, body.version, body.changes()
    )
    return EvaluationRead.model_validate(evaluation)


@router.get(
    "/evaluations/{evaluation_id}/assessment",
    response_model=AssessmentRead,
    responses=error_responses(401, 403, 404),
)
def read_assessment(
    evaluation_id: PathId, user: CareTeamUser, session: SessionDep
) -> AssessmentRead:
    """Eligible, eligible with precautions or not eligible, with every reason and its source."""
    evaluation, age, result = service.assessment(session, user, evaluation_id)
    return AssessmentRead(
        evaluation_id=evaluation.id,
        evaluation_version=evaluation.version,
        age_years=age,
        outcome=result.outcome,
        reasons=[ReasonRead(**r.model_dump()) for r in result.reasons],
        rules_version=result.rules_version,
    )
