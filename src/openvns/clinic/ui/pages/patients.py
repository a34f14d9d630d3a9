"""Patient pages: list and search, create, edit, detail.

The same rules as ``/api/v1/patients``: the care team (clinician, nurse) lists, creates and
edits; a patient sees only their own record (any other id is 404); the services decide.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy import select

from openvns.clinic.auth import service as auth_service
from openvns.clinic.auth.dependencies import CareTeamUser, CurrentUser
from openvns.clinic.auth.models import Role, User
from openvns.clinic.db.session import SessionDep
from openvns.clinic.patients import service
from openvns.clinic.patients.models import Patient, Sex
from openvns.clinic.patients.schemas import PatientCreate, Search
from openvns.clinic.ui.forms import FORM, FieldErrors, PostedForm, attempt, validate
from openvns.clinic.ui.links import patient_links
from openvns.clinic.ui.templating import flash, is_htmx, redirect, render

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

#: Patients shown per page of the list.
PAGE_SIZE = 25
FIELDS = (
    "mrn",
    "full_name",
    "date_of_birth",
    "sex",
    "diagnosis",
    "pain_duration_months",
    "user_id",
)
_OPTIONAL = ("diagnosis", "pain_duration_months", "user_id")
SEX_OPTIONS = [(s.value, s.value.title()) for s in Sex]


def _values_of(patient: Patient) -> dict[str, Any]:
    return {f: getattr(patient, f) for f in FIELDS}


def _account_options(session: SessionDep, keep: int | None) -> list[tuple[int, str]]:
    """Patient-role accounts that are not linked to a record (plus ``keep``, the current one)."""
    users, _ = auth_service.list_users(session, limit=1000)
    linked = set(session.scalars(select(Patient.user_id).where(Patient.user_id.is_not(None))))
    return [
        (u.id, f"{u.full_name} <{u.email}>")
        for u in users
        if u.role == Role.PATIENT.value and (u.id not in linked or u.id == keep)
    ]


def _form_data(form: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {f: form.get(f, "") for f in FIELDS}
    for name in _OPTIONAL:
        if data[name] == "":
            data[name] = None
    return {k: v for k, v in data.items() if v != ""}


def _form_page(
    request: Request,
    user: User,
    session: SessionDep,
    *,
    patient: Patient | None,
    values: dict[str, Any],
    errors: FieldErrors,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    context = {
        "patient": patient,
        "values": values,
        "errors": errors,
        "sex_options": SEX_OPTIONS,
        "accounts": _account_options(session, patient.user_id if patient else None),
        "action": f"/patients/{patient.id}/edit" if patient else "/patients/new",
    }
    name = "patients/_form.html" if is_htmx(request) else "patients/form.html"
    return render(request, name, context, user=user, status_code=status_code)


@router.get("/patients")
def patient_list(
    request: Request,
    user: CareTeamUser,
    session: SessionDep,
    q: Annotated[Search, Query()] = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """The patient list; ``q`` searches name and MRN (htmx refreshes only the rows)."""
    rows, total = service.list_patients(
        session, search=q or None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    pages = max(1, -(-total // PAGE_SIZE))
    context = {"patients": rows, "total": total, "q": q, "page": page, "pages": pages}
    partial = is_htmx(request) and request.headers.get("HX-Target") == "patient-results"
    name = "patients/_results.html" if partial else "patients/list.html"
    return render(request, name, context, user=user)


@router.get("/patients/new")
def new_patient_form(request: Request, user: CareTeamUser, session: SessionDep) -> Response:
    """An empty patient form."""
    return _form_page(request, user, session, patient=None, values={}, errors={})


@router.post("/patients/new")
def create_patient(
    request: Request, user: CareTeamUser, session: SessionDep, form: PostedForm
) -> Response:
    """Create the record (validated by the API's schema and the service) or show the errors."""
    body, errors = validate(PatientCreate, _form_data(form))
    if body is not None:
        created, errors = attempt(
            session, lambda: service.create_patient(session, user, body.model_dump())
        )
        if created is not None:
            response = redirect(request, f"/patients/{created.id}")
            flash(request, response, f"Patient {created.full_name} created.", "success")
            return response
    code = status.HTTP_409_CONFLICT if FORM in errors else status.HTTP_422_UNPROCESSABLE_CONTENT
    return _form_page(
        request, user, session, patient=None, values=form, errors=errors, status_code=code
    )


@router.get("/patients/{patient_id}")
def patient_detail(
    request: Request, patient_id: int, user: CurrentUser, session: SessionDep
) -> Response:
    """One record: any for the care team; a patient only their own (others: 404)."""
    patient = service.get_patient(session, user, patient_id)
    context = {"patient": patient, "links": patient_links(patient, user)}
    return render(request, "patients/detail.html", context, user=user)


@router.get("/patients/{patient_id}/edit")
def edit_patient_form(
    request: Request, patient_id: int, user: CareTeamUser, session: SessionDep
) -> Response:
    """The record's form, with its version in a hidden field."""
    patient = service.get_patient(session, user, patient_id)
    values = {**_values_of(patient), "version": patient.version}
    return _form_page(request, user, session, patient=patient, values=values, errors={})


@router.post("/patients/{patient_id}/edit")
def update_patient(
    request: Request, patient_id: int, user: CareTeamUser, session: SessionDep, form: PostedForm
) -> Response:
    """Save the changed fields if the record is still at the version that was read."""
    patient = service.get_patient(session, user, patient_id)
    body, errors = validate(PatientCreate, _form_data(form))
    version_text = form.get("version", "")
    if body is not None and not version_text.isdigit():
        errors = {FORM: "The form has no record version; reload the page."}
    elif body is not None:
        new = body.model_dump()
        changes = {k: v for k, v in new.items() if getattr(patient, k) != v}
        updated, errors = attempt(
            session,
            lambda: service.update_patient(session, user, patient_id, int(version_text), changes),
        )
        if updated is not None:
            response = redirect(request, f"/patients/{patient_id}")
            flash(request, response, "Changes saved." if changes else "Nothing changed.", "success")
            return response
    code = status.HTTP_409_CONFLICT if FORM in errors else status.HTTP_422_UNPROCESSABLE_CONTENT
    return _form_page(
        request, user, session, patient=patient, values=form, errors=errors, status_code=code
    )
