"""The start page: what each role starts from.

Clinicians and nurses get the worklist (what needs attention, most urgent first:
:mod:`openvns.clinic.worklist`), the patient search and the newest records; a patient goes straight
to their own record; an admin sees the users and creates them (as ``POST /api/v1/users``).
"""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter, Request, Response, status
from sqlalchemy.orm import Session

from openvns.clinic.auth import service as auth_service
from openvns.clinic.auth.dependencies import AdminUser, CurrentUser, HasherDep
from openvns.clinic.auth.models import Role, User
from openvns.clinic.auth.schemas import UserCreate
from openvns.clinic.db.session import SessionDep, reads_first, write_transaction
from openvns.clinic.errors import NotFoundError
from openvns.clinic.implants.clock import NowDep
from openvns.clinic.patients import service as patients
from openvns.clinic.ui.forms import FORM, FieldErrors, PostedForm, attempt, validate
from openvns.clinic.ui.templating import flash, is_htmx, redirect, render
from openvns.clinic.worklist import service as worklist
from openvns.clinic.worklist.service import WorkKind

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

#: How many of the newest records the care team's start page lists.
RECENT = 8
USER_FIELDS = ("email", "full_name", "role", "password")
#: The badge of each kind of worklist row (clinic.css: ``.badge.err``, ``.badge.warn``).
WORKLIST_TONE: dict[WorkKind, str] = {
    WorkKind.SIDE_EFFECT: "err",
    WorkKind.IMPEDANCE: "err",
    WorkKind.BATTERY_EOS: "err",
    WorkKind.BATTERY_NEOS: "warn",
    WorkKind.REVIEW_DUE: "warn",
    WorkKind.BATTERY_IFI: "warn",
    WorkKind.STALE_DIARY: "",
}


@router.get("/")
def home(request: Request, user: CurrentUser, session: SessionDep, now: NowDep) -> Response:
    """The start page of ``user``'s role (a patient: their own record)."""
    context: dict[str, object] = {}
    if user.role == Role.PATIENT.value:
        try:
            own = patients.own_patient(session, user)
        except NotFoundError:
            return render(request, "home.html", user=user)
        return redirect(request, f"/patients/{own.id}")
    if user.role == Role.ADMIN.value:
        return _admin_page(request, user, session, {"role": Role.PATIENT.value}, {})
    else:
        _, total = patients.list_patients(session, limit=1)
        newest, _ = patients.list_patients(session, limit=RECENT, offset=max(0, total - RECENT))
        context["patient_total"] = total
        context["recent"] = list(reversed(newest))
        context["worklist"] = worklist.worklist(session, user, now)
        context["worklist_tone"] = WORKLIST_TONE
    return render(request, "home.html", context, user=user)


ROLE_OPTIONS = [(r.value, r.value.title()) for r in Role]


def _admin_page(
    request: Request,
    user: User,
    session: Session,
    values: dict[str, str],
    errors: FieldErrors,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    users, _ = auth_service.list_users(session, limit=500)
    context = {"users": users, "values": values, "errors": errors, "roles": ROLE_OPTIONS}
    name = "admin/_user_form.html" if is_htmx(request) else "home.html"
    return render(request, name, context, user=user, status_code=status_code)


@router.post("/admin/users")
@reads_first
def create_user(
    request: Request, admin: AdminUser, session: SessionDep, hasher: HasherDep, form: PostedForm
) -> Response:
    """Create a user (admin only, as ``POST /api/v1/users``); the password is never shown. The
    password is hashed before the write transaction, so the write lock is not held while it is."""
    body, errors = validate(UserCreate, {k: form.get(k, "") for k in USER_FIELDS})
    if body is not None:
        password_hash = hasher.hash(body.password)
        with write_transaction(session):
            created, errors = attempt(
                session,
                lambda: auth_service.create_user(
                    session, email=body.email, full_name=body.full_name, role=body.role,
                    password=body.password, hasher=hasher, actor=admin,
                    password_hash=password_hash,
                ),
            )  # fmt: skip
        if created is not None:
            response = redirect(request, "/")
            flash(request, response, f"User {created.email} ({created.role}) created.", "success")
            return response
    values = {k: v for k, v in form.items() if k != "password"}
    code = status.HTTP_409_CONFLICT if FORM in errors else status.HTTP_422_UNPROCESSABLE_CONTENT
    return _admin_page(request, admin, session, values, errors, status_code=code)


@router.get("/me/{section}")
def own_section(
    request: Request,
    section: Literal["diary", "outcomes", "implants"],
    user: CurrentUser,
    session: SessionDep,
) -> Response:
    """A patient's shortcut to a section of their own record (404 without a linked record)."""
    own = patients.own_patient(session, user)
    return redirect(request, f"/patients/{own.id}/{section}")
