"""Soft-deleted patients; at most one active implant per patient, enforced by the database.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

**Patients** get ``deleted_at`` (when the record was deleted) and ``deleted_by_id`` (the id of
the user who deleted it; a plain integer, see below). Deleting a patient no longer
removes the row, nor (through ``ON DELETE CASCADE``) the diary and evaluations: the services
treat a record with ``deleted_at`` as not found, and the audit log keeps the record before and
after the deletion.

**Implants** get the partial unique index ``uq_implants_active_patient_id`` on ``patient_id``
where ``status = 'active'`` (SQLite and PostgreSQL both have partial indexes): two registrations
that pass the service's check at the same time can no longer both commit. A database in which
such a race already left a patient with several active implants cannot take the index as it is;
the upgrade keeps the oldest of them (the lowest id, the first registered) active and records
each later one as ``explanted`` at the time of the upgrade, with the reason "duplicate active
registration …" naming the implant that stays, and writes each change to the audit log by the
system (``actor_id`` NULL, action ``migrate``, the row before and after without the device
state). The clinician then corrects the record if the wrong one stayed active.

**Downgrade** drops the index and the two columns. Revision 0005 cannot tell a deleted record
from a live one, so the downgrade refuses to run while any patient is soft-deleted (it would
bring deleted records back into every list); erasing them is not something a migration should
decide. It reads the rows, so it cannot run in offline (``--sql``) mode.

On SQLite both directions alter the table in place (``ADD COLUMN`` and, SQLite 3.35 or later,
``DROP COLUMN``), never with Alembic's batch copy: copying ``patients`` means dropping the old
table, and with foreign keys on, SQLite first deletes its rows, which would cascade to the
diaries and evaluations. That is why ``deleted_by_id`` has no foreign key: SQLite can add a
column's ``REFERENCES`` in place but cannot name it or read it back as the model would declare
it (users are deactivated, never deleted, and the audit entry of the deletion names the actor
too).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEX = "uq_implants_active_patient_id"
_ACTIVE = "status = 'active'"

_implants = sa.table(
    "implants",
    sa.column("id", sa.Integer()),
    sa.column("patient_id", sa.Integer()),
    sa.column("generator_model", sa.String()),
    sa.column("generator_serial", sa.String()),
    sa.column("lead_model", sa.String()),
    sa.column("implanted_at", sa.DateTime()),
    sa.column("status", sa.String()),
    sa.column("ended_at", sa.DateTime()),
    sa.column("end_reason", sa.String()),
    sa.column("replaces_id", sa.Integer()),
    sa.column("updated_at", sa.DateTime()),
    sa.column("version", sa.Integer()),
)
_patients = sa.table("patients", sa.column("id", sa.Integer()), sa.column("deleted_at"))
_audit = sa.table(
    "audit_log",
    sa.column("at", sa.DateTime()),
    sa.column("actor_id", sa.Integer()),
    sa.column("action", sa.String()),
    sa.column("entity", sa.String()),
    sa.column("entity_id", sa.Integer()),
    sa.column("before", sa.JSON()),
    sa.column("after", sa.JSON()),
)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _snapshot(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _jsonable(v) for k, v in row.items()}


def _end_duplicate_active_implants(bind: sa.Connection) -> None:
    """Keep the oldest active implant of each patient active, record the others as explanted."""
    now = datetime.now(UTC)
    stamp = now.replace(tzinfo=None) if bind.dialect.name == "sqlite" else now
    active = _implants.c.status == "active"
    patients = (
        sa.select(_implants.c.patient_id)
        .where(active)
        .group_by(_implants.c.patient_id)
        .having(sa.func.count() > 1)
    )
    audit: list[dict[str, Any]] = []
    for patient_id in bind.execute(patients).scalars().all():
        rows = bind.execute(
            sa.select(_implants)
            .where(active, _implants.c.patient_id == patient_id)
            .order_by(_implants.c.id)
        ).mappings()
        keep, *extra = [dict(r) for r in rows]
        for row in extra:
            values = {
                "status": "explanted",
                "ended_at": stamp,
                "end_reason": f"duplicate active registration: implant {keep['id']} of patient "
                f"{patient_id} was registered first and stays active (revision 0006)",
                "updated_at": stamp,
                "version": row["version"] + 1,
            }
            bind.execute(sa.update(_implants).where(_implants.c.id == row["id"]).values(**values))
            audit.append({"at": stamp, "actor_id": None, "action": "migrate",
                          "entity": "implant", "entity_id": row["id"],
                          "before": _snapshot(row),
                          "after": _snapshot({**row, **values})})  # fmt: skip
    if audit:
        bind.execute(sa.insert(_audit), audit)


def _sqlite() -> bool:
    return op.get_context().dialect.name == "sqlite"


def upgrade() -> None:
    """Add the soft-delete columns and the one-active-implant index."""
    # In place (ALTER TABLE … ADD COLUMN) on both backends: no batch copy of ``patients``.
    op.add_column("patients", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("patients", sa.Column("deleted_by_id", sa.Integer(), nullable=True))
    if not context.is_offline_mode():
        _end_duplicate_active_implants(op.get_bind())
    op.create_index(
        _INDEX,
        "implants",
        ["patient_id"],
        unique=True,
        sqlite_where=sa.text(_ACTIVE),
        postgresql_where=sa.text(_ACTIVE),
    )


def downgrade() -> None:
    """Drop the index and the columns; refused while any patient is soft-deleted."""
    if context.is_offline_mode():
        raise RuntimeError("revision 0006's downgrade checks for deleted patients; run it online")
    deleted = op.get_bind().scalar(
        sa.select(sa.func.count()).select_from(_patients).where(_patients.c.deleted_at.is_not(None))
    )
    if deleted:
        raise RuntimeError(
            f"revision 0006's downgrade would bring {deleted} deleted patient record(s) back into "
            "every list (revision 0005 has no soft delete); it is refused"
        )
    op.drop_index(_INDEX, table_name="implants")
    if _sqlite():
        # ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch copy of the table (see upgrade).
        op.execute("ALTER TABLE patients DROP COLUMN deleted_by_id")
        op.execute("ALTER TABLE patients DROP COLUMN deleted_at")
        return
    op.drop_column("patients", "deleted_by_id")
    op.drop_column("patients", "deleted_at")
