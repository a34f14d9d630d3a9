"""Diary entries: plain functions over a ``Session``; every write is audited.

Who may do what is decided here (so pages and the API agree): a patient writes and reads only
their own diary (any other patient id is "not found"); clinicians and nurses read every diary
and write none (a diary is the patient's own report); other roles get a permission error.

One entry per patient, date (and, for side effects, kind): a second create for the same key is
a :class:`ConflictError` (409); a correction is :func:`correct_entry` (``PUT`` by date), audited
as ``"correct"`` with the values before and after. Dates later than
:func:`latest_entry_date` (today in the earliest time zone) or more than ten years back are
refused.

The API's writes (:func:`add_entry`, :func:`amend_entry`) hold the write lock only around the
insert or update: who may write, the date and the duplicate are checked first in the request's
read transaction (a refused write never waits for the lock), then again inside
:func:`~openvns.clinic.db.session.write_transaction`.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from openvns.clinic.audit import service as audit
from openvns.clinic.auth.models import Role, User
from openvns.clinic.db.base import utcnow
from openvns.clinic.db.session import write_transaction
from openvns.clinic.diaries.models import (
    BPIEntry,
    PainEntry,
    PGICEntry,
    SideEffectReport,
)
from openvns.clinic.errors import ConflictError, NotFoundError, PermissionDeniedError
from openvns.clinic.patients import service as patients
from openvns.clinic.patients.models import Patient
from openvns.clinic.schemas import MAX_ID
from openvns.errors import ValidationError

log = logging.getLogger(__name__)

Entry = PainEntry | PGICEntry | BPIEntry | SideEffectReport
E = TypeVar("E", bound=PainEntry | PGICEntry | BPIEntry | SideEffectReport)

#: Audit-log entity name of each diary table.
ENTITIES: dict[type[Any], str] = {
    PainEntry: "pain_entry",
    PGICEntry: "pgic_entry",
    BPIEntry: "bpi_entry",
    SideEffectReport: "side_effect_report",
}

#: The earliest time zone is UTC+14: its calendar date is the latest anywhere on Earth.
EARLIEST_UTC_OFFSET = timedelta(hours=14)


#: How far back an entry may be dated (ten years), days.
MAX_ENTRY_AGE_DAYS = 3653


def latest_entry_date(now: datetime | None = None) -> date:
    """The latest date an entry may have: today in UTC+14 (no patient's today is later)."""
    return ((now or utcnow()) + EARLIEST_UTC_OFFSET).date()


def earliest_entry_date(now: datetime | None = None) -> date:
    """The earliest date an entry may have: :data:`MAX_ENTRY_AGE_DAYS` before today (UTC)."""
    return (now or utcnow()).date() - timedelta(days=MAX_ENTRY_AGE_DAYS)


def check_entry_date(field: str, day: date) -> None:
    """Refuse a diary date in the future or more than ten years back (``ValidationError``)."""
    latest, earliest = latest_entry_date(), earliest_entry_date()
    if day > latest:
        raise ValidationError(field, day.isoformat(), "a date not in the future")
    if day < earliest:
        raise ValidationError(field, day.isoformat(), f"a date from {earliest.isoformat()} on")


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.value if hasattr(v, "value") else v) for k, v in values.items()}


def readable_patient(session: Session, viewer: User, patient_id: int) -> Patient:
    """The patient whose diary ``viewer`` may read (own record, or any for the care team)."""
    return patients.get_patient(session, viewer, patient_id)


def writable_patient(session: Session, actor: User, patient_id: int) -> Patient:
    """The patient whose diary ``actor`` may write: only a patient, only their own.

    Raises
    ------
    NotFoundError
        No such record, or not the patient's own.
    PermissionDeniedError
        ``actor`` is not a patient.
    """
    patient = patients.get_patient(session, actor, patient_id)
    if actor.role != Role.PATIENT.value:
        raise PermissionDeniedError("only the patient writes their diary")
    return patient


def _key(model: type[E], patient_id: int, entry_date: date, kind: str | None) -> Select[Any]:
    query = select(model).where(model.patient_id == patient_id, model.entry_date == entry_date)
    if model is SideEffectReport:
        query = query.where(SideEffectReport.kind == kind)
    return query


def _refuse_new_entry(
    session: Session, actor: User, patient_id: int, model: type[E], values: dict[str, Any]
) -> None:
    writable_patient(session, actor, patient_id)
    entry_date: date = values["entry_date"]
    check_entry_date("entry_date", entry_date)
    kind = values.get("kind")
    if session.scalar(_key(model, patient_id, entry_date, kind)) is not None:
        what = f"{ENTITIES[model]} for {entry_date.isoformat()}" + (f" ({kind})" if kind else "")
        raise ConflictError(f"a {what} exists; correct it with PUT")


def create_entry(
    session: Session, actor: User, patient_id: int, model: type[E], values: dict[str, Any]
) -> E:
    """Add an entry from validated ``values`` (the fields of the create body).

    Raises
    ------
    ValidationError
        ``entry_date`` is later than :func:`latest_entry_date` or earlier than
        :func:`earliest_entry_date`.
    ConflictError
        An entry for that date (and kind) exists: correct it instead.
    """
    values = _plain(values)
    _refuse_new_entry(session, actor, patient_id, model, values)
    entry = model(patient_id=patient_id, **values)
    session.add(entry)
    session.flush()
    audit.record(session, actor, "create", ENTITIES[model], entry.id, None, audit.snapshot(entry))
    log.info("user %d added %s %d", actor.id, ENTITIES[model], entry.id)
    return entry


def add_entry(
    session: Session, actor: User, patient_id: int, model: type[E], values: dict[str, Any]
) -> E:
    """:func:`create_entry` in its own write transaction, committed on return: the checks run
    first without the write lock, and again with it (for a session without pending changes,
    such as a :func:`~openvns.clinic.db.session.reads_first` route's)."""
    _refuse_new_entry(session, actor, patient_id, model, _plain(values))
    with write_transaction(session):
        return create_entry(session, actor, patient_id, model, values)


def correct_entry(
    session: Session,
    actor: User,
    patient_id: int,
    model: type[E],
    entry_date: date,
    values: dict[str, Any],
) -> E:
    """Replace the values of the entry of ``entry_date`` (and ``values["kind"]``), audited.

    Raises
    ------
    NotFoundError
        No entry for that date (and kind).
    """
    writable_patient(session, actor, patient_id)
    values = _plain(values)
    kind = values.get("kind")
    entry: E | None = session.scalar(_key(model, patient_id, entry_date, kind))
    if entry is None:
        suffix = f"/{kind}" if kind else ""
        raise NotFoundError(ENTITIES[model], f"{entry_date.isoformat()}{suffix}")
    if model is SideEffectReport:
        values.setdefault("description", None)
    before = audit.snapshot(entry)
    for key, value in values.items():
        setattr(entry, key, value)
    if session.is_modified(entry):
        session.flush()
        after = audit.snapshot(entry)
        audit.record(session, actor, "correct", ENTITIES[model], entry.id, before, after)
        log.info("user %d corrected %s %d", actor.id, ENTITIES[model], entry.id)
    return entry


def amend_entry(
    session: Session,
    actor: User,
    patient_id: int,
    model: type[E],
    entry_date: date,
    values: dict[str, Any],
) -> E:
    """:func:`correct_entry` in its own write transaction, committed on return: who may write
    and whether the entry exists are checked first without the write lock."""
    writable_patient(session, actor, patient_id)
    kind = _plain(values).get("kind")
    if session.scalar(_key(model, patient_id, entry_date, kind)) is None:
        suffix = f"/{kind}" if kind else ""
        raise NotFoundError(ENTITIES[model], f"{entry_date.isoformat()}{suffix}")
    with write_transaction(session):
        return correct_entry(session, actor, patient_id, model, entry_date, values)


def list_entries(
    session: Session,
    viewer: User,
    patient_id: int,
    model: type[E],
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[E], int]:
    """Entries of the patient's diary by date (then id) in ``[date_from, date_to]``, and how
    many match.

    Raises
    ------
    ValidationError
        ``date_from`` is after ``date_to``.
    """
    readable_patient(session, viewer, patient_id)
    if date_from is not None and date_to is not None and date_from > date_to:
        raise ValidationError("date_to", date_to.isoformat(), f"a date ≥ date_from ({date_from})")
    query = select(model).where(model.patient_id == patient_id)
    if date_from is not None:
        query = query.where(model.entry_date >= date_from)
    if date_to is not None:
        query = query.where(model.entry_date <= date_to)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    window = min(offset, MAX_ID)  # past every row; the driver cannot send beyond 64 bits
    ordered = query.order_by(model.entry_date, model.id).limit(limit).offset(window)
    return list(session.scalars(ordered).all()), total


def all_entries(session: Session, patient_id: int, model: type[E]) -> list[E]:
    """Every entry of one table for a patient, by date (no access check: callers check)."""
    query = select(model).where(model.patient_id == patient_id)
    return list(session.scalars(query.order_by(model.entry_date, model.id)).all())
