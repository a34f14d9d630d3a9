"""Three side-effect kinds of the non-invasive devices: application site, dizziness, twitch.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05

The simulator reports three more side effects for the transcutaneous (cervical and auricular)
devices, so a report may now also have the kind ``application_site`` (tingling, pain or redness
of the skin where the device is applied), ``dizziness`` or ``muscle_twitch`` (a muscle twitch at
the stimulation site: lip pulling, a neck muscle). ``application_site`` is 16 characters, the
width of the ``kind`` column, which is therefore left as it is.

**Upgrade** only widens the ``kind`` check; no row changes.

**Downgrade** maps the three kinds onto ``other``, the only 0004 kind that holds them: a row
whose kind changes gets its former kind in words as its ``description`` (what ``other``
requires), so no report's content is lost. Revision 0004 allows one report per patient, date
and kind; where several rows fall on the same patient and date as ``other`` (dizziness and a
muscle twitch on one day, or dizziness and an ``other`` report), they are merged into one row,
the pre-existing ``other`` row if there is one, else the oldest: its severity is the worst of
them and its description lists each report with its severity (cut at 200 characters with "…"
in the rare case that they do not fit). Every change is written to the audit log by the system
(``actor_id`` NULL): ``migrate`` with the row before and after for a changed row,
``migrate_merge`` with the row before and ``{"merged_into": id}`` for a row merged into
another. This is revision 0004's downgrade, step for step, with this revision's kinds. A later
upgrade does not split the rows again. The downgrade reads the rows, so it cannot run in
offline (``--sql``) mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "side_effect_reports"
_CHECK = "ck_side_effect_reports_kind"
#: Frozen here (the models may change later): the kinds of each revision, in check order.
_KINDS_0004 = (
    "voice",
    "cough",
    "throat_pain",
    "dyspnoea",
    "laryngismus",
    "dysphagia",
    "neck_pain",
    "headache",
    "paraesthesia",
    "nausea",
    "heart_rate",
    "other",
    "throat_cough",
)
_KINDS_0005 = (
    "voice",
    "cough",
    "throat_pain",
    "dyspnoea",
    "laryngismus",
    "dysphagia",
    "neck_pain",
    "headache",
    "paraesthesia",
    "nausea",
    "heart_rate",
    "application_site",
    "dizziness",
    "muscle_twitch",
    "other",
    "throat_cough",
)
#: Downgrade: the 0004 kind of each kind that 0004 does not have.
_DOWN = dict.fromkeys(("application_site", "dizziness", "muscle_twitch"), "other")
#: Downgrade: a kind in words (the description of a row whose kind changes).
_WORDS = {
    "application_site": "application-site tingling, pain or redness",
    "dizziness": "dizziness",
    "muscle_twitch": "muscle twitch at the stimulation site (lip pulling, neck muscle)",
}
_SEVERITY_RANK = {"mild": 0, "moderate": 1, "severe": 2}
_DESCRIPTION_MAX = 200

_reports = sa.table(
    _TABLE,
    sa.column("id", sa.Integer()),
    sa.column("patient_id", sa.Integer()),
    sa.column("entry_date", sa.Date()),
    sa.column("kind", sa.String()),
    sa.column("severity", sa.String()),
    sa.column("description", sa.String()),
    sa.column("created_at", sa.DateTime()),
    sa.column("updated_at", sa.DateTime()),
)
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


def _kind_check(kinds: Sequence[str]) -> None:
    """Replace the ``kind`` check (batch mode: SQLite copies the table, PostgreSQL alters)."""
    with op.batch_alter_table(_TABLE) as batch:
        batch.drop_constraint(op.f(_CHECK), type_="check")
        batch.create_check_constraint(
            op.f(_CHECK), f"kind IN ({', '.join(repr(k) for k in kinds)})"
        )


def upgrade() -> None:
    """Allow the three kinds of the non-invasive devices."""
    _kind_check(_KINDS_0005)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _snapshot(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _jsonable(v) for k, v in row.items()}


def _words(row: dict[str, Any]) -> str:
    """The report in words: its kind (or its own text for ``other``), with its severity."""
    what = row["description"] if row["kind"] == "other" else _WORDS[row["kind"]]
    return f"{what} ({row['severity']})"


def _fit(text: str) -> str:
    return text if len(text) <= _DESCRIPTION_MAX else text[: _DESCRIPTION_MAX - 1] + "…"


def _map_rows_down(bind: sa.Connection) -> None:
    """Give every row of a new kind its 0004 kind, merging rows that would share a key."""
    now = datetime.now(UTC)
    stamp = now.replace(tzinfo=None) if bind.dialect.name == "sqlite" else now
    new_kinds = sorted(_DOWN)
    keys = (
        sa.select(_reports.c.patient_id, _reports.c.entry_date)
        .where(_reports.c.kind.in_(new_kinds))
        .distinct()
    )
    groups: dict[tuple[int, date, str], list[dict[str, Any]]] = {}
    for patient_id, entry_date in bind.execute(keys).all():
        same_day = bind.execute(
            sa.select(_reports)
            .where(_reports.c.patient_id == patient_id, _reports.c.entry_date == entry_date)
            .order_by(_reports.c.id)
        ).mappings()
        for found in same_day:
            target = _DOWN.get(found["kind"], found["kind"])
            groups.setdefault((patient_id, entry_date, target), []).append(dict(found))
    audit: list[dict[str, Any]] = []

    def log(action: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        audit.append({"at": stamp, "actor_id": None, "action": action,
                      "entity": "side_effect_report", "entity_id": before["id"],
                      "before": _snapshot(before), "after": after})  # fmt: skip

    for (_, _, target), rows in groups.items():
        if all(r["kind"] == target for r in rows):
            continue  # no row of a new kind maps here
        if len(rows) == 1:
            row = rows[0]
            values = {"kind": target, "description": _WORDS[row["kind"]], "updated_at": stamp}
        else:
            row = next((r for r in rows if r["kind"] == target), rows[0])
            others = [r for r in rows if r is not row]
            worst = max(rows, key=lambda r: _SEVERITY_RANK[r["severity"]])["severity"]
            text = "; ".join(_words(r) for r in [row, *others])
            values = {"kind": target, "severity": worst, "description": _fit(text),
                      "updated_at": stamp}  # fmt: skip
            for other in others:
                bind.execute(sa.delete(_reports).where(_reports.c.id == other["id"]))
                log("migrate_merge", other, {"merged_into": row["id"]})
        bind.execute(sa.update(_reports).where(_reports.c.id == row["id"]).values(**values))
        log("migrate", row, _snapshot({**row, **values}))
    if audit:
        bind.execute(sa.insert(_audit), audit)


def downgrade() -> None:
    """Map the three kinds onto ``other`` (see the module docstring), then narrow the check."""
    if context.is_offline_mode():
        raise RuntimeError(
            "revision 0005's downgrade reads and merges side-effect reports; run it online"
        )
    _map_rows_down(op.get_bind())
    _kind_check(_KINDS_0004)
