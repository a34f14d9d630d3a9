"""Writing and reading the audit log.

:func:`record` adds the entry to the caller's session, so it is committed (or rolled back) in
the same transaction as the change it describes: there is never a change without its entry, nor
an entry for a change that did not happen.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from openvns.clinic.audit.models import AuditEntry
from openvns.clinic.auth.models import User
from openvns.clinic.db.base import Base


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
