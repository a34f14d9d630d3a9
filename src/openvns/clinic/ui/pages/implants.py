"""Implant pages: a patient's implants, registering one, and the implant's page.

The same rules as ``/api/v1``, decided by ``implants.service``: clinicians register; the care
team reads every implant; a patient reads only the summary of their own (others: 404). From the
implant's page the care team opens a programming session (:mod:`.programming`).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time
from typing import Any

from fastapi import APIRouter, Request, Response, status

from openvns.clinic.auth.dependencies import CurrentUser
from openvns.clinic.auth.models import Role, User
from openvns.clinic.db.session import SessionDep
from openvns.clinic.implants import service
from openvns.clinic.implants.clock import NowDep
from openvns.clinic.implants.models import ImplantStatus
from openvns.clinic.implants.schemas import GeneratorModelId, ImplantCreate, LeadModelId
from openvns.clinic.patients import service as patients
from openvns.clinic.patients.models import Patient
from openvns.clinic.programming import service as programming
from openvns.clinic.programming.router import interrogation_read
from openvns.clinic.ui.forms import FORM, FieldErrors, PostedForm, attempt, validate
from openvns.clinic.ui.links import PatientLink, register
from openvns.clinic.ui.templating import flash, is_htmx, redirect, render
from openvns.device.catalogue import default_catalogue

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)
register(
    PatientLink(
        "Implants and programming",
        "/patients/{id}/implants",
        frozenset({Role.CLINICIAN.value, Role.NURSE.value, Role.PATIENT.value}),
        "generator, lead, interrogation, diagnostics, settings",
    )
)


def _generator_options() -> list[tuple[str, str]]:
    generators = default_catalogue().generators
    return [(g.value, f"{g.value} — {generators[g.value].name}") for g in GeneratorModelId]


def _implant_data(form: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {k: form[k] for k in ("generator_model", "generator_serial",
                                                  "lead_model") if form.get(k)}  # fmt: skip
    day = form.get("implanted_on", "")
    if day:
        try:
            data["implanted_at"] = datetime.combine(date.fromisoformat(day), time(0, 0), UTC)
        except ValueError:
            data["implanted_at"] = day  # the schema reports it
    return data


def _list_page(
    request: Request,
    user: User,
    patient: Patient,
    rows: list[Any],
    values: dict[str, Any],
    errors: FieldErrors,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    context = {
        "patient": patient,
        "implants": list(reversed(rows)),
        "values": values,
        "errors": errors,
        "generators": _generator_options(),
        "leads": [(lead.value, lead.value) for lead in LeadModelId],
        "can_register": user.role == Role.CLINICIAN.value
        and not any(r.status == ImplantStatus.ACTIVE.value for r in rows),
    }
    name = "implants/_register.html" if is_htmx(request) else "implants/list.html"
    return render(request, name, context, user=user, status_code=status_code)


@router.get("/patients/{patient_id}/implants")
def implant_list(
    request: Request, patient_id: int, user: CurrentUser, session: SessionDep
) -> Response:
    """The patient's implants (newest first) and, for a clinician, the registration form."""
    rows, _ = service.list_implants(session, user, patient_id, limit=100)
    patient = patients.get_patient(session, user, patient_id)
    values = {"lead_model": LeadModelId.L304_20.value}
    return _list_page(request, user, patient, rows, values, {})


@router.post("/patients/{patient_id}/implants")
def register_implant(
    request: Request,
    patient_id: int,
    user: CurrentUser,
    session: SessionDep,
    form: PostedForm,
    now: NowDep,
) -> Response:
    """Register a generator and lead (clinicians; the service checks the catalogue)."""
    patient = patients.get_patient(session, user, patient_id)
    service.require_clinician(user, "register implants")
    body, errors = validate(ImplantCreate, _implant_data(form))
    if "implanted_at" in errors:
        errors["implanted_on"] = errors.pop("implanted_at")
    if body is not None:
        values = body.model_dump()
        created, errors = attempt(
            session, lambda: service.register_implant(session, user, patient_id, values, now)
        )
        if "implanted_at" in errors:
            errors["implanted_on"] = errors.pop("implanted_at")
        if created is not None:
            response = redirect(request, f"/implants/{created.id}")
            flash(request, response, f"Implant {created.generator_serial} registered.", "success")
            return response
    rows, _ = service.list_implants(session, user, patient_id, limit=100)
    code = status.HTTP_409_CONFLICT if FORM in errors else status.HTTP_422_UNPROCESSABLE_CONTENT
    return _list_page(request, user, patient, rows, form, errors, status_code=code)


@router.get("/implants/{implant_id}")
def implant_page(
    request: Request, implant_id: int, user: CurrentUser, session: SessionDep, now: NowDep
) -> Response:
    """The implant: what it is, and (for the care team) its state now and a session button."""
    implant = service.get_implant(session, user, implant_id)
    patient = patients.get_patient(session, user, implant.patient_id)
    state, plans = None, []
    if user.role in (Role.CLINICIAN.value, Role.NURSE.value):
        state = interrogation_read(implant, service.load(implant, now))
        plans = list(reversed(programming.list_plans(session, user, implant_id)))
    context = {"implant": implant, "patient": patient, "state": state, "plans": plans}
    return render(request, "implants/page.html", context, user=user)
