"""The settings history of a patient: who changed the implant's settings, when, old → new.

Every change of an implant's settings is audited on the implant (``entity="implant"``) with the
settings before and after: its registration (``create``, no "before"), programming
(``program``), a titration plan (``titration_plan``), a plan's confirmed step
(``titration_step``) or its stop (``titration_stop``), and the end of an implant (``explant``,
``replace``). :func:`settings_changes` reads the patient's entries in one query: the patient is
chosen in SQL (a join of the audit row to the patient's implants), the actor's name and role
joined from ``users``; no other patient's row is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from openvns.clinic.audit.models import AuditEntry
from openvns.clinic.auth.models import User
from openvns.clinic.implants import service as implants
from openvns.clinic.implants.models import Implant
from openvns.clinic.patients import service as patients

#: Audited actions on an implant that set or change its settings.
SETTINGS_ACTIONS = (
    "create",
    "program",
    "titration_plan",
    "titration_step",
    "titration_stop",
    "explant",
    "replace",
)
#: The normal-mode settings compared old → new, with their units.
COMPARED = (
    ("output_current_mA", "mA"),
    ("frequency_Hz", "Hz"),
    ("pulse_width_us", "µs"),
    ("on_time_s", "s"),
    ("off_time_min", "min"),
)


@dataclass(frozen=True)
class FieldChange:
    """One setting old → new (``old`` is ``None`` at registration)."""

    field: str
    unit: str
    old: Any
    new: Any


@dataclass(frozen=True)
class SettingsChange:
    """One audited change of an implant's settings."""

    at: datetime
    actor_id: int | None
    actor_name: str | None
    actor_role: str | None
    action: str
    implant_id: int
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    changes: list[FieldChange]


def _settings(snapshot: dict[str, Any] | None) -> dict[str, Any] | None:
    if not snapshot:
        return None
    settings = snapshot.get("settings")
    return settings if isinstance(settings, dict) else None


def _changes(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[FieldChange]:
    if new is None:
        return []
    return [
        FieldChange(name, unit, (old or {}).get(name), new.get(name))
        for name, unit in COMPARED
        if old is None or old.get(name) != new.get(name)
    ]


def patient_settings_changes(
    session: Session, patient_id: int, *, limit: int | None = None
) -> list[SettingsChange]:
    """Settings changes of ``patient_id``'s implants, oldest first (no access check).

    One query: the audit rows joined to the patient's implants and to their actors. With
    ``limit``, the latest ``limit`` changes (still oldest first).
    """
    query = (
        select(AuditEntry, User.full_name, User.role)
        .join(
            Implant,
            and_(AuditEntry.entity == implants.ENTITY, AuditEntry.entity_id == Implant.id),
        )
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .where(Implant.patient_id == patient_id, AuditEntry.action.in_(SETTINGS_ACTIONS))
    )
    if limit is not None:
        query = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    else:
        query = query.order_by(AuditEntry.at, AuditEntry.id)
    rows = list(session.execute(query).all())
    if limit is not None:
        rows.reverse()
    out = []
    for entry, name, role in rows:
        old, new = _settings(entry.before), _settings(entry.after)
        out.append(
            SettingsChange(
                at=entry.at,
                actor_id=entry.actor_id,
                actor_name=name,
                actor_role=role,
                action=entry.action,
                implant_id=entry.entity_id,
                old=old,
                new=new,
                changes=_changes(old, new),
            )
        )
    return out


def settings_changes(
    session: Session, viewer: User, patient_id: int, *, limit: int | None = None
) -> list[SettingsChange]:
    """:func:`patient_settings_changes` for a viewer who may read the patient (care team)."""
    implants.require_care_team(viewer, "read the settings history")
    patients.get_patient(session, viewer, patient_id)
    return patient_settings_changes(session, patient_id, limit=limit)
