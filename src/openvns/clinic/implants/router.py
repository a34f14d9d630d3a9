"""JSON API of implants (``/api/v1/patients/{id}/implants``, ``/api/v1/implants``).

Clinicians register, explant and replace; clinicians and nurses read; a patient reads only the
summary of their own implants (others: 404).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status

from openvns.clinic.auth.dependencies import ClinicianUser, CurrentUser
from openvns.clinic.db.session import SessionDep
from openvns.clinic.implants import service
from openvns.clinic.implants.clock import NowDep
from openvns.clinic.implants.device import from_device
from openvns.clinic.implants.models import Implant
from openvns.clinic.implants.schemas import (
    ImplantCreate,
    ImplantExplant,
    ImplantRead,
    ImplantReplace,
    StimulationSettingsBody,
)
from openvns.clinic.schemas import Limit, Offset, Page, PathId, error_responses

router = APIRouter(tags=["implants"])


def implant_read(implant: Implant, now: datetime) -> ImplantRead:
    """The summary of an implant with its program and battery at ``now``."""
    generator = service.load(implant, now)
    return ImplantRead(
        id=implant.id,
        patient_id=implant.patient_id,
        generator_model=implant.generator_model,
        generator_serial=implant.generator_serial,
        lead_model=implant.lead_model,
        implanted_at=implant.implanted_at,
        status=implant.status,
        ended_at=implant.ended_at,
        end_reason=implant.end_reason,
        replaces_id=implant.replaces_id,
        version=implant.version,
        created_at=implant.created_at,
        updated_at=implant.updated_at,
        device_time=from_device(generator.now),
        settings=StimulationSettingsBody.of(generator.settings),
        battery_percent=generator.battery_percent,
        battery_indicator=generator.battery_indicator,
    )


@router.post(
    "/patients/{patient_id}/implants",
    response_model=ImplantRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 404, 409),
)
def register_implant(
    patient_id: PathId, body: ImplantCreate, user: ClinicianUser, session: SessionDep, now: NowDep
) -> ImplantRead:
    """Register a generator and lead implanted in a patient (clinician only)."""
    implant = service.register_implant(session, user, patient_id, body.model_dump(), now)
    return implant_read(implant, now)


@router.get(
    "/patients/{patient_id}/implants",
    response_model=Page[ImplantRead],
    responses=error_responses(401, 403, 404),
)
def list_implants(
    patient_id: PathId,
    user: CurrentUser,
    session: SessionDep,
    now: NowDep,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[ImplantRead]:
    """A patient's implants, oldest first (care team; a patient only their own)."""
    rows, total = service.list_implants(session, user, patient_id, limit=limit, offset=offset)
    items = [implant_read(i, now) for i in rows]
    return Page[ImplantRead](items=items, total=total, limit=limit, offset=offset)


@router.get(
    "/implants/{implant_id}", response_model=ImplantRead, responses=error_responses(401, 403, 404)
)
def read_implant(
    implant_id: PathId, user: CurrentUser, session: SessionDep, now: NowDep
) -> ImplantRead:
    """One implant's summary (care team; a patient only their own, others 404)."""
    return implant_read(service.get_implant(session, user, implant_id), now)


@router.post(
    "/implants/{implant_id}/explant",
    response_model=ImplantRead,
    responses=error_responses(401, 403, 404, 409),
)
def explant(
    implant_id: PathId, body: ImplantExplant, user: ClinicianUser, session: SessionDep, now: NowDep
) -> ImplantRead:
    """Record the removal of the generator and lead (clinician only; send the version read)."""
    implant = service.explant(
        session, user, implant_id, body.version, body.reason, body.explanted_at, now
    )
    return implant_read(implant, now)


@router.post(
    "/implants/{implant_id}/replace",
    response_model=ImplantRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 404, 409),
)
def replace(
    implant_id: PathId, body: ImplantReplace, user: ClinicianUser, session: SessionDep, now: NowDep
) -> ImplantRead:
    """Replace the generator; answers the new implant (clinician only; send the version read)."""
    values = body.model_dump(exclude={"version"})
    implant = service.replace(session, user, implant_id, body.version, values, now)
    return implant_read(implant, now)
