"""Patient records: plain functions over a ``Session``; every change is audited.

Who may see what is decided here, not in the router, so pages and the API agree: clinicians and
nurses see every record; a patient sees only the record linked to their own account, and any
other id is reported as not found (so its existence is not leaked).

Deleting a record is a soft delete (:func:`delete_patient`): the row keeps everything and gets
``deleted_at`` and ``deleted_by_id``; from then on it is "not found" for every role, in lists and
searches too, and so are its diary, evaluations, implants and outcomes (their services read the
patient through :func:`get_patient`). The audit log keeps the record before and after.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from openvns.clinic.audit import service as audit
from openvns.clinic.auth.models import Role, User
from openvns.clinic.db.base import utcnow
from openvns.clinic.errors import ConflictError, NotFoundError, PermissionDeniedError
from openvns.clinic.implants.models import Implant, ImplantStatus
from openvns.clinic.patients.models import Patient
from openvns.clinic.schemas import LIKE_ESCAPE, MAX_ID, escape_like, in_id_range
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
        other = session.scalar(select(Patient).where(Patient.mrn == mrn))
        if other is not None and other.id != patient_id:
            deleted = " (a deleted record, kept in the clinic's record)" if other.deleted_at else ""
            raise ConflictError(f"a patient with MRN {mrn!r} exists{deleted}")
    user_id = values.get("user_id")
    if user_id is not None:
        user = session.get(User, user_id)
        if user is None or user.role != Role.PATIENT.value:
            raise ValidationError("user_id", user_id, "the id of a user with role 'patient'")
        other = session.scalar(select(Patient).where(Patient.user_id == user_id))
        if other is not None and other.id != patient_id:
            deleted = " (a deleted record)" if other.deleted_at else ""
            raise ConflictError(f"user {user_id} is already linked to another patient{deleted}")


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
        No such record, a deleted one, or ``viewer`` is a patient and it is not their own.
    PermissionDeniedError
        ``viewer``'s role may not read patient records.
    """
    patient = session.get(Patient, patient_id) if in_id_range(patient_id) else None
    if patient is not None and patient.deleted_at is not None:
        patient = None  # a deleted record is not found, for every role
    if viewer.role == Role.PATIENT.value:
        if patient is None or patient.user_id != viewer.id:
            raise NotFoundError(ENTITY, patient_id)
        return patient
    if viewer.role not in _CARE_TEAM:
        raise PermissionDeniedError(f"role {viewer.role!r} may not read patient records")
    if patient is None:
        raise NotFoundError(ENTITY, patient_id)
    return patient


def lock_query(patient_id: int) -> Select[int]:
    """``SELECT id FROM patients WHERE id = … FOR UPDATE`` (see :func:`lock_row`)."""
    return select(Patient.id).where(Patient.id == patient_id).with_for_update()


def lock_row(session: Session, patient_id: int) -> None:
    """Lock the patient's row until the transaction ends (``SELECT … FOR UPDATE``; SQLite's
    write transaction already serialises writers). Deleting a patient and registering an
    implant both take it first, so on PostgreSQL they cannot both commit: each sees the other's
    result (a deleted patient, or an active implant) once it has the lock."""
    if in_id_range(patient_id):
        session.execute(lock_query(patient_id))


def is_deleted(session: Session, patient_id: int) -> bool:
    """Whether the record ``patient_id`` was deleted: what hangs off it (an implant, an
    evaluation read by its own id) is then not found either."""
    deleted = select(Patient.deleted_at).where(Patient.id == patient_id)
    return session.scalar(deleted) is not None


def own_patient(session: Session, user: User) -> Patient:
    """The record linked to the patient ``user`` (:class:`NotFoundError` when none is)."""
    patient = session.scalar(
        select(Patient).where(Patient.user_id == user.id, Patient.deleted_at.is_(None))
    )
    if patient is None:
        raise NotFoundError(ENTITY, "me")
    return patient


def list_patients(
    session: Session, *, search: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[Patient], int]:
    """Records ordered by id (``search``: part of the name or MRN), and how many match; deleted
    records are left out."""
    query = select(Patient).where(Patient.deleted_at.is_(None))
    if search:
        like = f"%{escape_like(search.lower())}%"  # '%' and '_' match themselves
        query = query.where(
            func.lower(Patient.full_name).like(like, escape=LIKE_ESCAPE)
            | func.lower(Patient.mrn).like(like, escape=LIKE_ESCAPE)
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    offset = min(offset, MAX_ID)  # past every row; the driver cannot send beyond 64 bits
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
    """Soft-delete a record: nothing is erased (audited with the record before and after).

    Raises
    ------
    ConflictError
        The patient has an active implant (explant or replace it first: a device in a person
        must stay on record), or the record changed meanwhile.
    """
    lock_row(session, patient_id)  # against a concurrent implant registration (PostgreSQL)
    patient = get_patient(session, actor, patient_id)
    active = select(Implant.id).where(
        Implant.patient_id == patient.id, Implant.status == ImplantStatus.ACTIVE.value
    )
    implant_id = session.scalar(active)
    if implant_id is not None:
        raise ConflictError(
            f"patient {patient_id} has an active implant ({implant_id}); record its explant first"
        )
    before = audit.snapshot(patient)
    patient.deleted_at = utcnow()
    patient.deleted_by_id = actor.id
    _flush_versioned(session, patient_id)
    audit.record(session, actor, "delete", ENTITY, patient_id, before, audit.snapshot(patient))
    log.info("user %d deleted patient %d (soft delete)", actor.id, patient_id)
