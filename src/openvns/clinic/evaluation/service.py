"""Candidate evaluations: plain functions over a ``Session``; every change is audited.

Evaluations are for the care team: clinicians and nurses create, read and update them (a nurse
often takes the history); patients and admins may not (403). The assessment is computed on
request by the pure :func:`openvns.clinic.evaluation.rules.assess`, with the patient's age on the
day it is asked for.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from openvns.clinic.audit import service as audit
from openvns.clinic.auth.models import Role, User
from openvns.clinic.db.base import utcnow
from openvns.clinic.errors import ConflictError, NotFoundError, PermissionDeniedError
from openvns.clinic.evaluation.models import Evaluation
from openvns.clinic.evaluation.rules import Assessment, EvaluationFacts, assess
from openvns.clinic.patients import service as patients
from openvns.clinic.schemas import MAX_ID, in_id_range

log = logging.getLogger(__name__)

ENTITY = "evaluation"
_CARE_TEAM = frozenset({Role.CLINICIAN.value, Role.NURSE.value})


def _require_care_team(user: User) -> None:
    if user.role not in _CARE_TEAM:
        raise PermissionDeniedError(f"role {user.role!r} may not read or change evaluations")


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    out = {k: (v.value if hasattr(v, "value") else v) for k, v in values.items()}
    if "treatments_tried" in out:
        out["treatments_tried"] = [getattr(t, "value", t) for t in out["treatments_tried"]]
    return out


def create_evaluation(
    session: Session, actor: User, patient_id: int, values: dict[str, Any]
) -> Evaluation:
    """Create an evaluation of ``patient_id`` from validated ``values`` (``EvaluationCreate``)."""
    _require_care_team(actor)
    patients.get_patient(session, actor, patient_id)
    evaluation = Evaluation(patient_id=patient_id, created_by_id=actor.id, **_plain(values))
    session.add(evaluation)
    session.flush()
    audit.record(session, actor, "create", ENTITY, evaluation.id, None, audit.snapshot(evaluation))
    log.info("user %d created evaluation %d of patient %d", actor.id, evaluation.id, patient_id)
    return evaluation


def get_evaluation(session: Session, viewer: User, evaluation_id: int) -> Evaluation:
    """The evaluation ``evaluation_id`` (care team only; :class:`NotFoundError` if none)."""
    _require_care_team(viewer)
    evaluation = session.get(Evaluation, evaluation_id) if in_id_range(evaluation_id) else None
    if evaluation is None or patients.is_deleted(session, evaluation.patient_id):
        raise NotFoundError(ENTITY, evaluation_id)  # a deleted patient's record is gone for all
    return evaluation


def list_evaluations(
    session: Session, viewer: User, patient_id: int, *, limit: int = 50, offset: int = 0
) -> tuple[list[Evaluation], int]:
    """Evaluations of a patient, oldest first, and how many there are."""
    _require_care_team(viewer)
    patients.get_patient(session, viewer, patient_id)
    query = select(Evaluation).where(Evaluation.patient_id == patient_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    window = query.order_by(Evaluation.id).limit(limit).offset(min(offset, MAX_ID))
    rows = session.scalars(window).all()
    return list(rows), total


def update_evaluation(
    session: Session, actor: User, evaluation_id: int, version: int, changes: dict[str, Any]
) -> Evaluation:
    """Apply ``changes`` if ``version`` is the stored version; audited with before and after.

    Raises
    ------
    ConflictError
        The evaluation changed since it was read (stale ``version``).
    """
    evaluation = get_evaluation(session, actor, evaluation_id)
    if evaluation.version != version:
        raise ConflictError(
            f"evaluation {evaluation_id} is at version {evaluation.version}, not {version}; "
            "reload it"
        )
    before = audit.snapshot(evaluation)
    for key, value in _plain(changes).items():
        setattr(evaluation, key, value)
    if session.is_modified(evaluation):
        try:
            session.flush()
        except StaleDataError as exc:
            raise ConflictError(f"evaluation {evaluation_id} was changed meanwhile") from exc
        after = audit.snapshot(evaluation)
        audit.record(session, actor, "update", ENTITY, evaluation.id, before, after)
    return evaluation


def age_on(date_of_birth: date, day: date) -> int:
    """Age in whole years on ``day``."""
    had_birthday = (day.month, day.day) >= (date_of_birth.month, date_of_birth.day)
    return day.year - date_of_birth.year - (0 if had_birthday else 1)


def facts_of(evaluation: Evaluation, age_years: int) -> EvaluationFacts:
    """The input of :func:`assess` for a stored evaluation."""
    return EvaluationFacts(
        diagnosis=evaluation.diagnosis,
        age_years=max(age_years, 0),
        pain_duration_months=evaluation.pain_duration_months,
        treatments_tried=tuple(evaluation.treatments_tried),
        baseline_nrs=evaluation.baseline_nrs,
        headache_days_per_month=evaluation.headache_days_per_month,
        prior_left_or_bilateral_cervical_vagotomy=evaluation.prior_left_or_bilateral_cervical_vagotomy,
        planned_diathermy=evaluation.planned_diathermy,
        obstructive_sleep_apnoea=evaluation.obstructive_sleep_apnoea,
        chronic_pulmonary_disease=evaluation.chronic_pulmonary_disease,
        swallowing_difficulty=evaluation.swallowing_difficulty,
        cardiac_arrhythmia_or_conduction_disorder=evaluation.cardiac_arrhythmia_or_conduction_disorder,
        heart_rate_altering_treatment=evaluation.heart_rate_altering_treatment,
        anticipated_mri=evaluation.anticipated_mri,
        pregnancy=evaluation.pregnancy,
        other_active_implanted_device=evaluation.other_active_implanted_device,
    )


def assessment(
    session: Session, viewer: User, evaluation_id: int, now: datetime | None = None
) -> tuple[Evaluation, int, Assessment]:
    """The evaluation, the patient's age on ``now`` (default: today, UTC) and its assessment."""
    evaluation = get_evaluation(session, viewer, evaluation_id)
    patient = patients.get_patient(session, viewer, evaluation.patient_id)
    age = age_on(patient.date_of_birth, (now or utcnow()).date())
    return evaluation, age, assess(facts_of(evaluation, age))
