"""Candidate evaluation pages: the form, and the assessment with its reasons.

Care team only, as in ``/api/v1``: the evaluation service refuses other roles (403). The form is
validated by the API's ``EvaluationCreate`` and saved by ``evaluation.service``; the result page
shows ``service.assessment``: the outcome, every reason with its kind and source, and the rules'
version.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request, Response, status

from openvns.clinic.auth.dependencies import CurrentUser
from openvns.clinic.auth.models import Role, User
from openvns.clinic.db.session import SessionDep
from openvns.clinic.evaluation import service
from openvns.clinic.evaluation.models import FLAGS, Diagnosis, Treatment
from openvns.clinic.evaluation.rules import Outcome, citation
from openvns.clinic.evaluation.schemas import EvaluationCreate
from openvns.clinic.patients import service as patients
from openvns.clinic.patients.models import Patient
from openvns.clinic.ui.forms import (
    FORM,
    FieldErrors,
    PostedForm,
    PostedLists,
    attempt,
    blanks_as_none,
    labelled,
    register_labels,
    validate,
)
from openvns.clinic.ui.links import PatientLink, register
from openvns.clinic.ui.templating import flash, is_htmx, redirect, render

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)
register(
    PatientLink(
        "Candidate evaluations",
        "/patients/{id}/evaluations",
        frozenset({Role.CLINICIAN.value, Role.NURSE.value}),
        "is VNS suitable: criteria, contraindications, precautions",
    )
)

DIAGNOSIS_LABELS = {
    Diagnosis.FIBROMYALGIA: "Fibromyalgia",
    Diagnosis.NEUROPATHIC_PAIN: "Neuropathic pain",
    Diagnosis.CRPS: "Complex regional pain syndrome",
    Diagnosis.HEADACHE_MIGRAINE: "Headache / migraine",
    Diagnosis.OTHER: "Other",
}
OUTCOME_TEXT = {
    Outcome.ELIGIBLE: ("Eligible", "ok"),
    Outcome.ELIGIBLE_WITH_PRECAUTIONS: ("Eligible with precautions", "warn"),
    Outcome.NOT_ELIGIBLE: ("Not eligible", "err"),
}
#: Drug classes and other treatments as the pages write them.
TREATMENT_LABELS = {
    Treatment.NSAIDS: "NSAIDs",
    Treatment.TRICYCLICS: "Tricyclic antidepressants",
    Treatment.SNRIS: "SNRIs",
    Treatment.ANTICONVULSANTS: "Anticonvulsants",
    Treatment.OPIOIDS: "Opioids",
    Treatment.TRIPTANS: "Triptans",
    Treatment.CGRP_ANTIBODIES: "CGRP antibodies",
    Treatment.BOTULINUM_TOXIN: "Botulinum toxin",
    Treatment.NERVE_BLOCKS: "Nerve blocks",
    Treatment.PHYSIOTHERAPY: "Physiotherapy",
    Treatment.PSYCHOLOGICAL_THERAPY: "Psychological therapy",
    Treatment.SPINAL_CORD_STIMULATION: "Spinal cord stimulation",
    Treatment.OTHER: "Other",
}
#: The form's labels, shown next to the fields and in error messages.
LABELS = {
    "diagnosis": "Diagnosis",
    "diagnosis_detail": "Diagnosis detail",
    "pain_duration_months": "Pain duration (months)",
    "baseline_nrs": "Baseline pain (NRS 0–10)",
    "worst_nrs": "Worst pain (NRS 0–10)",
    "headache_days_per_month": "Headache days a month",
    "treatments_tried": "Treatments tried and failed or not tolerated",
    "notes": "Notes",
}
register_labels(LABELS)
register_labels({f: f.replace("_", " ").capitalize() for f in FLAGS})
_OPTIONAL = ("diagnosis_detail", "worst_nrs", "headache_days_per_month", "notes")
_TEXT = ("diagnosis", "pain_duration_months", "baseline_nrs")


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def treatment_text(value: str) -> str:
    """A treatment as the pages write it (``nsaids`` → ``NSAIDs``)."""
    try:
        return TREATMENT_LABELS[Treatment(value)]
    except ValueError:
        return value.replace("_", " ")


def _form_data(form: dict[str, str], lists: dict[str, list[str]]) -> dict[str, Any]:
    data: dict[str, Any] = {k: form[k] for k in _TEXT if form.get(k)}
    data.update(blanks_as_none(form, _OPTIONAL))
    data["treatments_tried"] = lists.get("treatments_tried", [])
    for flag in FLAGS:
        data[flag] = flag in form
    return data


def _form_page(
    request: Request,
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
        "labels": LABELS,
        "error_list": labelled(errors),
        "diagnoses": [(d.value, DIAGNOSIS_LABELS[d]) for d in Diagnosis],
        "treatments": [(t.value, TREATMENT_LABELS[t]) for t in Treatment],
        "chosen": set(values.get("treatments_tried", [])),
        "flags": [(f, _label(f), EvaluationCreate.model_fields[f].description) for f in FLAGS],
    }
    name = "evaluations/_form.html" if is_htmx(request) else "evaluations/form.html"
    return render(request, name, context, user=user, status_code=status_code)


@router.get("/patients/{patient_id}/evaluations")
def evaluation_list(
    request: Request, patient_id: int, user: CurrentUser, session: SessionDep
) -> Response:
    """The patient's evaluations, newest first, with a button for a new one."""
    rows, _ = service.list_evaluations(session, user, patient_id, limit=200)
    patient = patients.get_patient(session, user, patient_id)
    assessed = [(e, service.assessment(session, user, e.id)[2]) for e in reversed(rows)]
    context = {"patient": patient, "assessed": assessed, "outcomes": OUTCOME_TEXT}
    return render(request, "evaluations/list.html", context, user=user)


@router.get("/patients/{patient_id}/evaluations/new")
def new_evaluation_form(
    request: Request, patient_id: int, user: CurrentUser, session: SessionDep
) -> Response:
    """An empty evaluation, with the record's diagnosis and pain duration as a start."""
    service.list_evaluations(session, user, patient_id, limit=1)  # the service's role check
    patient = patients.get_patient(session, user, patient_id)
    values: dict[str, Any] = {"pain_duration_months": patient.pain_duration_months}
    return _form_page(request, user, patient, values, {})


@router.post("/patients/{patient_id}/evaluations/new")
def create_evaluation(
    request: Request,
    patient_id: int,
    user: CurrentUser,
    session: SessionDep,
    form: PostedForm,
    lists: PostedLists,
) -> Response:
    """Save the evaluation and show its assessment, or the form with the errors."""
    patient = patients.get_patient(session, user, patient_id)
    data = _form_data(form, lists)
    body, errors = validate(EvaluationCreate, data)
    if body is not None:
        created, errors = attempt(
            session,
            lambda: service.create_evaluation(session, user, patient_id, body.model_dump()),
        )
        if created is not None:
            response = redirect(request, f"/evaluations/{created.id}")
            flash(request, response, "Evaluation saved; its assessment is below.", "success")
            return response
    code = status.HTTP_409_CONFLICT if FORM in errors else status.HTTP_422_UNPROCESSABLE_CONTENT
    values = {**form, "treatments_tried": data["treatments_tried"]}
    return _form_page(request, user, patient, values, errors, status_code=code)


@router.get("/evaluations/{evaluation_id}")
def evaluation_result(
    request: Request, evaluation_id: int, user: CurrentUser, session: SessionDep
) -> Response:
    """The assessment: outcome, reasons (kind, message, source) and the facts it used."""
    evaluation, age, assessment = service.assessment(session, user, evaluation_id)
    patient = patients.get_patient(session, user, evaluation.patient_id)
    context = {
        "patient": patient,
        "evaluation": evaluation,
        "age": age,
        "assessment": assessment,
        "outcome": OUTCOME_TEXT[assessment.outcome],
        "diagnosis": DIAGNOSIS_LABELS.get(Diagnosis(evaluation.diagnosis), evaluation.diagnosis),
        "flags": [_label(f) for f in FLAGS if getattr(evaluation, f)],
        "treatments": [treatment_text(t) for t in evaluation.treatments_tried],
        "citations": [citation(r.source) for r in assessment.reasons],
    }
    return render(request, "evaluations/result.html", context, user=user)
