"""The diary page: the patient enters a day (pain NRS, PGIC, BPI, side effects); the care team
reads it.

One form saves the day: the pain score is required, PGIC, BPI and side effects are optional.
Each part is validated by the diary API's schema and saved through the diary service, all in
one savepoint (nothing is saved unless everything is). A day that already has an entry is
corrected (``service.correct_entry``, audited as a correction) rather than refused.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import pydantic
from fastapi import APIRouter, Request, Response, status
from sqlalchemy.orm import Session

from openvns.clinic.auth.dependencies import CurrentUser
from openvns.clinic.auth.models import Role, User
from openvns.clinic.db.base import utcnow
from openvns.clinic.db.session import SessionDep
from openvns.clinic.diaries import service
from openvns.clinic.diaries.models import (
    BPI_INTERFERENCE_ITEMS,
    BPI_SEVERITY_ITEMS,
    NAMED_KINDS,
    SIDE_EFFECT_LABELS,
    BPIEntry,
    PainEntry,
    PGICEntry,
    Severity,
    SideEffectKind,
    SideEffectReport,
)
from openvns.clinic.diaries.schemas import (
    PGIC_LABELS,
    BPICreate,
    NamedSideEffectCreate,
    OtherSideEffectCreate,
    PainCreate,
    PGICCreate,
)
from openvns.clinic.patients.models import Patient
from openvns.clinic.ui.forms import FORM, FieldErrors, PostedForm, attempt, pydantic_errors
from openvns.clinic.ui.links import PatientLink, register
from openvns.clinic.ui.templating import flash, is_htmx, redirect, render

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)
register(
    PatientLink(
        "Diary",
        "/patients/{id}/diary",
        frozenset({Role.PATIENT.value, Role.CLINICIAN.value, Role.NURSE.value}),
        "daily pain, change since the start, BPI, side effects",
    )
)

#: Days of entries shown under the form.
RECENT_DAYS = 14
BPI_LABELS = {
    "worst": "Worst pain in the last 24 hours",
    "least": "Least pain in the last 24 hours",
    "average": "Pain on average",
    "now": "Pain right now",
    "general_activity": "General activity",
    "mood": "Mood",
    "walking": "Walking ability",
    "work": "Normal work",
    "relations": "Relations with other people",
    "sleep": "Sleep",
    "enjoyment": "Enjoyment of life",
}
#: The named side effects of the form (``se_<kind>``), with the patient-facing label.
NAMED_SIDE_EFFECTS = {k.value: SIDE_EFFECT_LABELS[k] for k in NAMED_KINDS}
#: Every kind's label by value, the legacy ``throat_cough`` included (the recent entries).
KIND_LABELS = {k.value: text for k, text in SIDE_EFFECT_LABELS.items()}
SEVERITY_OPTIONS = [(s.value, s.value.title()) for s in Severity]
BPI_ITEMS = BPI_SEVERITY_ITEMS + BPI_INTERFERENCE_ITEMS

Model = type[PainEntry] | type[PGICEntry] | type[BPIEntry] | type[SideEffectReport]
Part = tuple[Model, pydantic.BaseModel]


def _check(
    model: type[pydantic.BaseModel], data: dict[str, Any], names: dict[str, str]
) -> tuple[pydantic.BaseModel | None, FieldErrors]:
    """Validate ``data``; the errors are keyed by form field (``names`` maps schema → form)."""
    try:
        return model.model_validate(data), {}
    except pydantic.ValidationError as exc:
        errors = pydantic_errors(exc)
        return None, {names.get(k, k): v for k, v in errors.items()}


def _parts(form: dict[str, str]) -> tuple[list[Part], FieldErrors]:
    """The entries the form asks for, validated by the API's schemas, or the errors."""
    day = form.get("entry_date", "")
    parts: list[Part] = []
    errors: FieldErrors = {}

    def add(model: Model, schema: type[pydantic.BaseModel], data: dict[str, Any],
            names: dict[str, str]) -> None:  # fmt: skip
        body, errs = _check(schema, {"entry_date": day, **data}, names)
        errors.update(errs)
        if body is not None:
            parts.append((model, body))

    add(PainEntry, PainCreate, {"pain_nrs": form.get("pain_nrs") or None}, {})
    if form.get("pgic"):
        add(PGICEntry, PGICCreate, {"score": form["pgic"]}, {"score": "pgic"})
    if any(form.get(f"bpi_{item}") for item in BPI_ITEMS):
        data = {item: form.get(f"bpi_{item}") or None for item in BPI_ITEMS}
        add(BPIEntry, BPICreate, data, {item: f"bpi_{item}" for item in BPI_ITEMS})
    for kind in NAMED_SIDE_EFFECTS:
        if form.get(f"se_{kind}"):
            data = {"kind": kind, "severity": form[f"se_{kind}"]}
            add(SideEffectReport, NamedSideEffectCreate, data, {"severity": f"se_{kind}"})
    if form.get("se_other") or form.get("se_other_description"):
        data = {
            "kind": SideEffectKind.OTHER.value,
            "severity": form.get("se_other") or None,
            "description": form.get("se_other_description", ""),
        }
        names = {"severity": "se_other", "description": "se_other_description"}
        add(SideEffectReport, OtherSideEffectCreate, data, names)
    if errors.get("pain_nrs") == "Required.":
        errors["pain_nrs"] = "Choose a number from 0 (no pain) to 10."
    return parts, errors


def _exists(session: Session, user: User, patient_id: int, model: Model, body: Any) -> bool:
    rows, _ = service.list_entries(
        session, user, patient_id, model, date_from=body.entry_date, date_to=body.entry_date
    )
    kind = getattr(body, "kind", None)
    return any(getattr(r, "kind", None) == kind for r in rows) if kind else bool(rows)


def _save(session: Session, user: User, patient_id: int, parts: list[Part]) -> int:
    """Create each entry, or correct it when the date already has one; how many corrected."""
    corrected = 0
    for model, body in parts:
        values = body.model_dump()
        if _exists(session, user, patient_id, model, body):
            day: date = values.pop("entry_date")
            service.correct_entry(session, user, patient_id, model, day, values)
            corrected += 1
        else:
            service.create_entry(session, user, patient_id, model, values)
    return corrected


def _recent(session: Session, user: User, patient: Patient) -> dict[str, list[Any]]:
    def last(model: Model) -> list[Any]:
        _, total = service.list_entries(session, user, patient.id, model, limit=1)
        rows, _ = service.list_entries(
            session, user, patient.id, model, limit=RECENT_DAYS * 4,
            offset=max(0, total - RECENT_DAYS * 4),
        )  # fmt: skip
        return list(reversed(rows))

    return {
        "pain": last(PainEntry)[:RECENT_DAYS],
        "pgic": last(PGICEntry)[:RECENT_DAYS],
        "bpi": last(BPIEntry)[:RECENT_DAYS],
        "side_effects": last(SideEffectReport)[: RECENT_DAYS * 2],
    }


def _page(
    request: Request,
    session: Session,
    user: User,
    patient: Patient,
    values: dict[str, Any],
    errors: FieldErrors,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    context = {
        "patient": patient,
        "values": values,
        "errors": errors,
        "can_write": user.role == Role.PATIENT.value,
        "today": utcnow().date().isoformat(),
        "latest": service.latest_entry_date().isoformat(),
        "pgic_options": [(k, f"{k} — {v}") for k, v in PGIC_LABELS.items()],
        "pgic_labels": PGIC_LABELS,
        "bpi_severity": [(i, BPI_LABELS[i]) for i in BPI_SEVERITY_ITEMS],
        "bpi_interference": [(i, BPI_LABELS[i]) for i in BPI_INTERFERENCE_ITEMS],
        "side_effects": list(NAMED_SIDE_EFFECTS.items()),
        "kind_labels": KIND_LABELS,
        "severity_options": SEVERITY_OPTIONS,
        "recent": _recent(session, user, patient),
        "bpi_open": any(k.startswith("bpi_") and v for k, v in {**values, **errors}.items()),
    }
    name = "diaries/_form.html" if is_htmx(request) else "diaries/page.html"
    return render(request, name, context, user=user, status_code=status_code)


@router.get("/patients/{patient_id}/diary")
def diary_page(
    request: Request, patient_id: int, user: CurrentUser, session: SessionDep
) -> Response:
    """The diary: the day's form for the patient, the recent entries for everyone allowed."""
    patient = service.readable_patient(session, user, patient_id)
    values = {"entry_date": utcnow().date().isoformat()}
    return _page(request, session, user, patient, values, {})


@router.post("/patients/{patient_id}/diary")
def save_day(
    request: Request, patient_id: int, user: CurrentUser, session: SessionDep, form: PostedForm
) -> Response:
    """Save the day's entries (only the patient; the care team gets 403 as from the API)."""
    patient = service.writable_patient(session, user, patient_id)
    parts, errors = _parts(form)
    if not errors:
        corrected, errors = attempt(session, lambda: _save(session, user, patient_id, parts))
        if corrected is not None:
            response = redirect(request, f"/patients/{patient_id}/diary")
            what = "updated" if corrected else "saved"
            flash(request, response, f"Your diary for {form['entry_date']} is {what}.", "success")
            return response
    code = status.HTTP_409_CONFLICT if FORM in errors else status.HTTP_422_UNPROCESSABLE_CONTENT
    return _page(request, session, user, patient, form, errors, status_code=code)
