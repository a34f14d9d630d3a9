"""Implants: registration against the device catalogue, reads, explant and replacement.

Roles (an assumption of the clinic, stated here and in the API): clinicians register, explant
and replace implants; clinicians and nurses read every implant; a patient reads only the summary
of their own implants (any other id answers 404, as for patient records); admins read none.

Every change is audited (``entity="implant"``) with the settings before and after. The virtual
implant's state lives in the row (:mod:`openvns.clinic.implants.device`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from openvns.clinic.audit import service as audit
from openvns.clinic.auth.models import Role, User
from openvns.clinic.db.base import utcnow
from openvns.clinic.errors import ConflictError, NotFoundError, PermissionDeniedError
from openvns.clinic.implants import device
from openvns.clinic.implants.models import ACTIVE_INDEX, Implant, ImplantStatus
from openvns.clinic.patients import service as patients
from openvns.clinic.patients.models import Patient
from openvns.clinic.schemas import MAX_ID, in_id_range
from openvns.device.catalogue import GeneratorModel, LeadModel, default_catalogue
from openvns.device.generator import PulseGenerator
from openvns.errors import UnknownModelError, ValidationError

log = logging.getLogger(__name__)

ENTITY = "implant"
#: Oldest implantation date accepted: the implant is simulated from then to now.
MAX_IMPLANT_AGE = timedelta(days=20 * 365)
_CARE_TEAM = frozenset({Role.CLINICIAN.value, Role.NURSE.value})


def require_clinician(user: User, what: str) -> None:
    """Only clinicians change implants (:class:`PermissionDeniedError` otherwise)."""
    if user.role != Role.CLINICIAN.value:
        raise PermissionDeniedError(f"role {user.role!r} may not {what}; clinicians only")


def require_care_team(user: User, what: str) -> None:
    """Clinicians and nurses (:class:`PermissionDeniedError` otherwise)."""
    if user.role not in _CARE_TEAM:
        raise PermissionDeniedError(f"role {user.role!r} may not {what}")


def catalogue_models(generator_model: str, lead_model: str) -> tuple[GeneratorModel, LeadModel]:
    """The catalogue generator and lead; errors name the field, the value and what is allowed.

    Raises
    ------
    ValidationError
        ``generator_model`` is not an implanted generator of the catalogue, or ``lead_model`` is
        not a lead that generator takes.
    """
    cat = default_catalogue()
    implanted = ", ".join(g.id for g in cat.generators.values() if g.implanted)
    try:
        gen = cat.generator(generator_model)
    except UnknownModelError:
        raise ValidationError("generator_model", generator_model, f"one of {implanted}") from None
    if not gen.implanted:
        allowed = f"an implanted generator: one of {implanted}"
        raise ValidationError("generator_model", generator_model, allowed)
    try:
        lead = cat.lead(lead_model)
    except UnknownModelError:
        lead = None
    if lead is None or lead.id not in gen.leads:
        allowed = f"a lead generator {gen.id} takes: one of {', '.join(gen.leads)}"
        raise ValidationError("lead_model", lead_model, allowed)
    return gen, lead


def require_version(implant: Implant, version: int) -> None:
    """:class:`ConflictError` unless ``version`` is the implant's stored version."""
    if implant.version != version:
        raise ConflictError(
            f"implant {implant.id} is at version {implant.version}, not {version}: it was "
            "changed since you read it (another clinician programmed it, or diagnostics ran); "
            "interrogate it again and confirm with the new version"
        )


def require_active(implant: Implant) -> None:
    """:class:`ConflictError` unless the implant is in the patient."""
    if implant.status != ImplantStatus.ACTIVE.value:
        raise ConflictError(f"implant {implant.id} is {implant.status}, not active")


def flush_versioned(session: Session, implant_id: int) -> None:
    """Flush; a concurrent change (the stored version moved on) becomes a conflict."""
    try:
        session.flush()
    except StaleDataError as exc:
        raise ConflictError(
            f"implant {implant_id} was changed by someone else meanwhile; interrogate it again"
        ) from exc


def audit_view(implant: Implant, generator: PulseGenerator) -> dict[str, Any]:
    """What the audit log keeps of an implant: the row (without the state) and its program."""
    view = audit.snapshot(implant, exclude=frozenset({"state_json"}))
    view["settings"] = generator.settings.model_dump(mode="json")
    view["scheduled_steps"] = [
        s.model_dump(mode="json") for s in generator.interrogate().scheduled_steps
    ]
    return view


def load(implant: Implant, now: datetime | None = None) -> PulseGenerator:
    """The virtual implant now (an implant no longer in the patient keeps its last state)."""
    if implant.status != ImplantStatus.ACTIVE.value:
        return PulseGenerator.from_json(implant.state_json, source=f"implant {implant.id}")
    return device.load(implant, now)


def _check_time(field: str, when: datetime, now: datetime, not_before: datetime) -> None:
    if when > now:
        raise ValidationError(field, when.isoformat(), f"a time not after now ({now.isoformat()})")
    if when < not_before:
        raise ValidationError(field, when.isoformat(), f"a time from {not_before.isoformat()} on")


def _new_implant(
    session: Session,
    actor: User,
    patient_id: int,
    values: dict[str, Any],
    now: datetime,
    replaces_id: int | None = None,
) -> tuple[Implant, PulseGenerator]:
    gen_model, lead = catalogue_models(str(values["generator_model"]), str(values["lead_model"]))
    serial = str(values["generator_serial"])
    implanted_at: datetime = values.get("implanted_at") or now
    _check_time("implanted_at", implanted_at, now, now - MAX_IMPLANT_AGE)
    if session.scalar(select(Implant.id).where(Implant.generator_serial == serial)) is not None:
        raise ConflictError(f"a generator with serial {serial!r} is already registered")
    active = select(Implant.id).where(
        Implant.patient_id == patient_id, Implant.status == ImplantStatus.ACTIVE.value
    )
    if session.scalar(active) is not None:
        raise ConflictError(_already_active(patient_id))
    generator = PulseGenerator(
        gen_model, lead, serial=serial, implanted_at=device.to_device(implanted_at)
    )
    device.sync_to(generator, now)
    implant = Implant(
        patient_id=patient_id,
        generator_model=gen_model.id,
        generator_serial=serial,
        lead_model=lead.id,
        implanted_at=implanted_at,
        replaces_id=replaces_id,
        created_by_id=actor.id,
        state_json="",
        device_time=now,
    )
    device.store(implant, generator)
    session.add(implant)
    _flush_new(session, patient_id, serial)
    return implant, generator


def _already_active(patient_id: int) -> str:
    return f"patient {patient_id} already has an active implant; explant or replace it first"


def _flush_new(session: Session, patient_id: int, serial: str) -> None:
    """Flush a new implant; a registration that a concurrent one beat to the database's unique
    rules (one active implant per patient, one row per serial) becomes a conflict."""
    try:
        session.flush()
    except IntegrityError as exc:
        message = str(exc.orig)
        if ACTIVE_INDEX in message or "implants.patient_id" in message:
            raise ConflictError(_already_active(patient_id)) from exc
        if "generator_serial" in message:
            raise ConflictError(
                f"a generator with serial {serial!r} is already registered"
            ) from exc
        raise


def register_implant(
    session: Session,
    actor: User,
    patient_id: int,
    values: dict[str, Any],
    now: datetime | None = None,
) -> Implant:
    """Register a generator and lead implanted in ``patient_id`` (clinicians; audited).

    ``values`` are the fields of ``ImplantCreate``: ``generator_model``, ``generator_serial``,
    ``lead_model`` and optionally ``implanted_at`` (default ``now``). The virtual implant starts
    with the factory settings (output 0 mA) at ``implanted_at`` and runs to ``now``.

    Raises
    ------
    ValidationError
        A model or lead not in the catalogue (or not compatible), an implantation time in the
        future or more than 20 years back.
    ConflictError
        The serial is registered already, or the patient has an active implant.
    """
    require_clinician(actor, "register implants")
    patients.lock_row(session, patient_id)  # against a concurrent deletion (PostgreSQL)
    patients.get_patient(session, actor, patient_id)
    implant, generator = _new_implant(session, actor, patient_id, values, now or utcnow())
    after = audit_view(implant, generator)
    audit.record(session, actor, "create", ENTITY, implant.id, None, after)
    log.info("user %d registered implant %d for patient %d", actor.id, implant.id, patient_id)
    return implant


def get_implant(session: Session, viewer: User, implant_id: int) -> Implant:
    """The implant as ``viewer`` may see it (a patient: only their own; others 404)."""
    implant = session.get(Implant, implant_id) if in_id_range(implant_id) else None
    if viewer.role == Role.PATIENT.value:
        own = None
        if implant is not None:
            own = session.scalar(
                select(Patient.id).where(
                    Patient.id == implant.patient_id,
                    Patient.user_id == viewer.id,
                    Patient.deleted_at.is_(None),
                )
            )
        if own is None or implant is None:
            raise NotFoundError(ENTITY, implant_id)
        return implant
    require_care_team(viewer, "read implants")
    if implant is None or patients.is_deleted(session, implant.patient_id):
        raise NotFoundError(ENTITY, implant_id)  # a deleted patient's implants too
    return implant


def list_implants(
    session: Session, viewer: User, patient_id: int, *, limit: int = 50, offset: int = 0
) -> tuple[list[Implant], int]:
    """Implants of a patient, oldest first (a patient: only their own record's)."""
    patients.get_patient(session, viewer, patient_id)
    query = select(Implant).where(Implant.patient_id == patient_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Implant.id).limit(limit).offset(min(offset, MAX_ID)))
    return list(rows), total


def _end(
    session: Session,
    actor: User,
    implant_id: int,
    version: int,
    status: ImplantStatus,
    reason: str,
    field: str,
    at: datetime | None,
    now: datetime,
) -> tuple[Implant, dict[str, Any]]:
    require_clinician(actor, f"record an implant as {status.value}")
    implant = get_implant(session, actor, implant_id)
    require_active(implant)
    require_version(implant, version)
    ended_at = at or now
    _check_time(field, ended_at, now, implant.implanted_at)
    generator = device.load(implant, ended_at)
    before = audit_view(implant, generator)
    implant.status = status.value
    implant.ended_at = ended_at
    implant.end_reason = reason
    device.store(implant, generator)
    flush_versioned(session, implant_id)
    return implant, before


def explant(
    session: Session,
    actor: User,
    implant_id: int,
    version: int,
    reason: str,
    at: datetime | None = None,
    now: datetime | None = None,
) -> Implant:
    """Record that the generator and lead were removed (clinicians; audited)."""
    now = now or utcnow()
    implant, before = _end(
        session,
        actor,
        implant_id,
        version,
        ImplantStatus.EXPLANTED,
        reason,
        "explanted_at",
        at,
        now,
    )
    after = audit_view(implant, load(implant))
    audit.record(session, actor, "explant", ENTITY, implant.id, before, after)
    return implant


def replace(
    session: Session,
    actor: User,
    implant_id: int,
    version: int,
    values: dict[str, Any],
    now: datetime | None = None,
) -> Implant:
    """Replace the generator: the old implant becomes ``replaced``, a new one is registered.

    ``values``: ``reason``, ``generator_model``, ``generator_serial``, optional ``lead_model``
    (default: the lead in place) and ``replaced_at`` (default ``now``). Returns the new implant.
    """
    now = now or utcnow()
    at = values.get("replaced_at")
    reason = str(values["reason"])
    old, before = _end(
        session, actor, implant_id, version, ImplantStatus.REPLACED, reason, "replaced_at", at, now
    )
    audit.record(session, actor, "replace", ENTITY, old.id, before, audit_view(old, load(old)))
    new_values = {
        "generator_model": values["generator_model"],
        "generator_serial": values["generator_serial"],
        "lead_model": values.get("lead_model") or old.lead_model,
        "implanted_at": at or now,
    }
    implant, generator = _new_implant(session, actor, old.patient_id, new_values, now, old.id)
    audit.record(session, actor, "create", ENTITY, implant.id, None, audit_view(implant, generator))
    return implant
