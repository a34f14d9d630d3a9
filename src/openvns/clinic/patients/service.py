"""Patient records: plain functions over a ``Session``; every change is audited.

Who may see what is decided here, not in the router, so pages and the API agree: clinicians and
nurses see every record; a patient sees only the record linked to their own account, and any
other id is reported as not found (so its existence is not leaked).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from openvns.clinic.audit import service as audit
from openvns.clinic.auth.models import Role, User
from openvns.clinic.db.base import utcnow
from openvns.clinic.errors import ConflictError, NotFoundError, PermissionDeniedError
from openvns.clinic.patients.models import Patient
from openvns.errors import ValidationError

log = logging.getLogger(__name__)

ENTITY = "patient"
_CARE_TEAM = frozenset({Role.CLINICIAN.value, Role.NURSE.value})


def _check_values(session: Session, values: dict[str, Any], patient_id: int | None) -> None:
    dob = values.get("date_of_birth")
    if isinstance(dob, date) and dob > utcnow().date():
        raise ValidationError("date_of_birth", dob.isoformat(), "a date not in the future")
    mrn = values.get("mrn")
    if mrn is not None:
        other = session.scalar(select(Patient.id).where(Patient.mrn == mrn))
        if other is not None and other != patient_id:
            raise ConflictError(f"a patient with MRN {mrn!r} exists")
    user_id = values.get("user_id")
    if user_id is not None:
        user = session.get(User, user_id)
        if user is None or user.role != Role.PATIENT.value:
            raise ValidationError("user_id", user_id, "the id of a user with role 'patient'")
        other = session.scalar(select(Patient.id).where(Patient.user_id == user_id))
        if other is not None and other != patient_id:
            raise ConflictError(f"user {user_id} is already linked to another patient")


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.value if hasattr(v, "value") else v) for k, v in values.items()}


def create_patient(session: Session, actor: User, values: dict[str, Any]) -> Patient:
    """Create a record from validated ``values`` (the fields of ``PatientCreate``)."""
    values = _plain(values)
    _check_values(session, values, None)
    patient = Patient(**values)
    session.add(patient)
    session.flush()
    audit.record(session, actor, "create", ENTITY, patient.id, None, audit.snapshot(patient))
    log.info("user %d created patient %d", actor.id, patient.id)
    return patient


def get_patient(session: Session, viewer: User, patient_id: int) -> Patient:
    """The record ``patient_id`` as ``viewer`` may see it.

    Raises
    ------
    NotFoundError
        No such record, or ``viewer`` is a patient and it is not their own.
    PermissionDeniedError
        ``viewer``'s role may not read patient records.
    """
    patient = session.get(Patient, patient_id)
    if viewer.role == Role.PATIENT.value:
        if patient is None or patient.user_id != viewer.id:
            raise NotFoundError(ENTITY, patient_id)
        return patient
    if viewer.role not in _CARE_TEAM:
        raise PermissionDeniedError(f"role {viewer.role!r} may not read patient records")
    if patient is None:
        raise NotFoundError(ENTITY, patient_id)
    return patient


def own_patient(session: Session, user: User) -> Patient:
    """The record linked to the patient ``user`` (:class:`NotFoundError` when none is)."""
    patient = session.scalar(select(Patient).where(Patient.user_id == user.id))
    if patient is None:
        raise NotFoundError(ENTITY, "me")
    return patient


def list_patients(
    session: Session, *, search: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[Patient], int]:
    """Records ordered by id (``search``: part of the name or MRN), and how many match."""
    query = select(Patient)
    if search:
        like = f"%{search.lower()}%"
        query = query.where(
            func.lower(Patient.full_name).like(like) | func.lower(Patient.mrn).like(like)
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Patient.id).limit(limit).offset(offset)).all()
    return list(rows), total


def update_patient(
    session: Session, actor: User, patient_id: int, version: int, changes: dict[str, Any]
) -> Patient:
    """Apply ``changes`` if ``version`` is the stored version; audited with before and after.

    Raises
    ------
    ConflictError
        The record changed since it was read (stale ``version``), or a duplicate MRN/link.
    """
    patient = get_patient(session, actor, patient_id)
    if patient.version != version:
        raise ConflictError(
            f"patient {patient_id} is at version {patient.version}, not {version}; reload it"
        )
    changes = _plain(changes)
    _check_values(session, changes, patient.id)
    before = audit.snapshot(patient)
    for key, value in changes.items():
        setattr(patient, key, value)
    if session.is_modified(patient):
        _flush_versioned(session, patient_id)
        audit.record(session, actor, "update", ENTITY, patient.id, before, audit.snapshot(patient))
    return patient


def _flush_versioned(session: Session, patient_id: int) -> None:
    """Flush; a concurrent change (the stored version moved on) becomes a conflict."""
    try:
        session.flush()
    except StaleDataError as exc:
        raise ConflictError(f"patient {patient_id} was changed meanwhile; reload it") from exc


def delete_patient(session: Session, actor: User, patient_id: int) -> None:
    """Delete a record (audited: the entry keeps what was deleted)."""
    patient = get_patient(session, actor, patient_id)
    before = audit.snapshot(patient)
    session.delete(patient)
    _flush_versioned(session, patient_id)
    audit.record(session, actor, "delete", ENTITY, patient_id, before, None)
