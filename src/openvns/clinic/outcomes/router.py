"""JSON API and printable report of a patient's outcomes (``/api/v1/patients/{id}/outcomes``).

Read access follows the diary: clinicians and nurses any patient, a patient their own (others:
404). Only clinicians set or clear the baseline window.
"""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from fastapi.responses import HTMLResponse

from openvns.clinic.auth.dependencies import ClinicianUser, CurrentUser
from openvns.clinic.db.session import SessionDep
from openvns.clinic.diaries import service as diaries
from openvns.clinic.implants.clock import NowDep
from openvns.clinic.outcomes import baseline, report, service
from openvns.clinic.outcomes.schemas import BaselineWindowSet, PatientOutcomes, Timeline
from openvns.clinic.schemas import PathId, error_responses

router = APIRouter(prefix="/patients/{patient_id}/outcomes", tags=["outcomes"])


@router.get("", response_model=PatientOutcomes, responses=error_responses(401, 403, 404))
def read_outcomes(
    patient_id: PathId, user: CurrentUser, session: SessionDep, now: NowDep
) -> PatientOutcomes:
    """Baseline, weekly pain, responder status (with the diary's currency), PGIC, BPI, side
    effects, settings history and the device now."""
    return service.patient_outcomes(session, user, patient_id, now)


@router.get("/timeline", response_model=Timeline, responses=error_responses(401, 403, 404))
def read_timeline(patient_id: PathId, user: CurrentUser, session: SessionDep) -> Timeline:
    """The diary day by day, merged with the settings history."""
    return service.timeline(session, user, patient_id)


@router.get(
    "/report",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}}, **error_responses(401, 403, 404)},
)
def read_report(
    patient_id: PathId, user: CurrentUser, session: SessionDep, now: NowDep
) -> HTMLResponse:
    """A printable, self-contained HTML report with the device and figures."""
    outcomes = service.patient_outcomes(session, user, patient_id, now)
    patient = diaries.readable_patient(session, user, patient_id)
    return HTMLResponse(report.render_patient_report(patient, outcomes))


@router.put("/baseline", response_model=PatientOutcomes, responses=error_responses(401, 403, 404))
def set_baseline(
    patient_id: PathId,
    body: BaselineWindowSet,
    user: ClinicianUser,
    session: SessionDep,
    now: NowDep,
) -> PatientOutcomes:
    """Set the baseline window (clinician); answers the outcomes computed with it."""
    baseline.set_baseline(session, user, patient_id, body.start_date, body.length_days)
    return service.patient_outcomes(session, user, patient_id, now)


@router.delete(
    "/baseline",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404),
)
def clear_baseline(patient_id: PathId, user: ClinicianUser, session: SessionDep) -> Response:
    """Remove the clinician-set window; the automatic baseline applies again."""
    baseline.clear_baseline(session, user, patient_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
