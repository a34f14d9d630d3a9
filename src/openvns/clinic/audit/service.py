"""Writing and reading the audit log.

:func:`record` adds the entry to the caller's session, so it is committed (or rolled back) in
the same transaction as the change it describes: there is never a change without its entry, nor
an entry for a change that did not happen.

Who may read what (:func:`list_entries_for`): every entry's *metadata* (who, when, which action
on which entity and id) is shown to admins, clinicians and nurses; its *content* (the ``before``
and ``after`` snapshots) only to the roles that may read that kind of record elsewhere in the
clinic. Clinical kinds (:data:`CLINICAL_ENTITIES`: patient records, diaries, evaluations,
implants and their settings, outcome baselines) are shown in full to clinicians and nurses and
withheld from admins, who may not read patient data anywhere (``/patients`` is 403 to them).
User accounts (:data:`ADMIN_ENTITIES`) are shown to admins, who manage them, and withheld from
the care team. A kind in neither set is withheld from everyone until it is classified. Patients
do not read the audit log.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from openvns.clinic.audit.models import AuditEntry
from openvns.clinic.auth.models import Role, User
from openvns.clinic.db.base import Base
from openvns.clinic.errors import PermissionDeniedError


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def snapshot(obj: Base, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The column values of ``obj`` as a JSON-able dict (dates as ISO text)."""
    return {
        attr.key: _jsonable(getattr(obj, attr.key))
        for attr in inspect(obj).mapper.column_attrs
        if attr.key not in exclude
    }


def record(
    session: Session,
    actor: User | None,
    action: str,
    entity: str,
    entity_id: int,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> AuditEntry:
    """Append an entry to the audit log in ``session``'s transaction.

    Parameters
    ----------
    session
        The session that holds the change; the entry is flushed with it.
    actor
        Who made the change; ``None`` for the system (CLI, migrations).
    action
        ``"create"``, ``"update"``, ``"delete"`` or a domain verb (``"program"``).
    entity, entity_id
        What changed: the table-level name (``"patient"``) and its id.
    before, after
        JSON-able snapshots; ``None`` before a create and after a delete.
    """
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
    )
    session.add(entry)
    session.flush()
    return entry


#: Entity kinds whose snapshots carry patient data: shown to the care team, never to admins.
CLINICAL_ENTITIES = frozenset(
    {
        "patient",
        "evaluation",
        "implant",
        "programming",
        "pain_entry",
        "pgic_entry",
        "bpi_entry",
        "side_effect_report",
        "outcome_baseline",
    }
)
#: Entity kinds of the clinic's administration (user accounts): shown to admins only.
ADMIN_ENTITIES = frozenset({"user"})
#: The entity kinds whose content each role may read.
_CONTENT_BY_ROLE: dict[str, frozenset[str]] = {
    Role.ADMIN.value: ADMIN_ENTITIES,
    Role.CLINICIAN.value: CLINICAL_ENTITIES,
    Role.NURSE.value: CLINICAL_ENTITIES,
}
#: Roles that may read the audit log at all.
READER_ROLES = frozenset(_CONTENT_BY_ROLE)


def content_visible(viewer: User, entity: str) -> bool:
    """Whether ``viewer`` may read the snapshots of entries about ``entity``."""
    return entity in _CONTENT_BY_ROLE.get(viewer.role, frozenset())


def list_entries_for(
    session: Session,
    viewer: User,
    *,
    entity: str | None = None,
    entity_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Entries as ``viewer`` may see them: every field, with ``before`` and ``after`` set to
    ``None`` and ``content_withheld`` true where the kind is not the viewer's to read.

    Raises
    ------
    PermissionDeniedError
        ``viewer``'s role may not read the audit log (patients).
    """
    if viewer.role not in READER_ROLES:
        raise PermissionDeniedError(f"role {viewer.role!r} may not read the audit log")
    rows, total = list_entries(
        session, entity=entity, entity_id=entity_id, limit=limit, offset=offset
    )
    items = []
    for row in rows:
        visible = content_visible(viewer, row.entity)
        items.append(
            {
                "id": row.id,
                "at": row.at,
                "actor_id": row.actor_id,
                "action": row.action,
                "entity": row.entity,
                "entity_id": row.entity_id,
                "before": row.before if visible else None,
                "after": row.after if visible else None,
                "content_withheld": not visible,
            }
        )
    return items, total


def list_entries(
    session: Session,
    *,
    entity: str | None = None,
    entity_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AuditEntry], int]:
    """Entries (oldest first) matching the filters, and how many match in all."""
    query = select(AuditEntry)
    if entity is not None:
        query = query.where(AuditEntry.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == entity_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(AuditEntry.id).limit(limit).offset(offset)).all()
    return list(rows), total
