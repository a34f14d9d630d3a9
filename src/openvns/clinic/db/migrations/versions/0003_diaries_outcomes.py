"""Pain diaries, questionnaires (PGIC, BPI), side-effect reports and outcomes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BPI_ITEMS = (
    "worst",
    "least",
    "average",
    "now",
    "general_activity",
    "mood",
    "walking",
    "work",
    "relations",
    "sleep",
    "enjoyment",
)


def _timestamp(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _range(table: str, column: str, low: int, high: int) -> sa.CheckConstraint:
    return sa.CheckConstraint(
        f"{column} >= {low} AND {column} <= {high}", name=op.f(f"ck_{table}_{column}")
    )


def _entry_table(table: str, *extra: sa.schema.SchemaItem, unique: tuple[str, ...] = ()) -> None:
    """A diary table: id, patient, date, the ``extra`` columns and constraints, timestamps."""
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("entry_date", sa.Date(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        *extra,
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f(f"fk_{table}_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint(
            "patient_id",
            "entry_date",
            *unique,
            name=op.f(f"uq_{table}_patient_date" + "".join(f"_{c}" for c in unique)),
        ),
    )


def upgrade() -> None:
    """Create the diary tables and the clinician-set baseline windows."""
    _entry_table(
        "pain_entries",
        sa.Column("pain_nrs", sa.Integer(), nullable=False),
        _range("pain_entries", "pain_nrs", 0, 10),
    )
    _entry_table(
        "pgic_entries",
        sa.Column("score", sa.Integer(), nullable=False),
        _range("pgic_entries", "score", 1, 7),
    )
    _entry_table(
        "bpi_entries",
        *(sa.Column(item, sa.Integer(), nullable=False) for item in _BPI_ITEMS),
        *(_range("bpi_entries", item, 0, 10) for item in _BPI_ITEMS),
    )
    _entry_table(
        "side_effect_reports",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "kind IN ('voice', 'throat_cough', 'dyspnoea', 'other')",
            name=op.f("ck_side_effect_reports_kind"),
        ),
        sa.CheckConstraint(
            "severity IN ('mild', 'moderate', 'severe')",
            name=op.f("ck_side_effect_reports_severity"),
        ),
        unique=("kind",),
    )
    op.create_table(
        "outcome_baselines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=True),
        _timestamp("updated_at"),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_outcome_baselines_window")),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_outcome_baselines_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["set_by"],
            ["users.id"],
            name=op.f("fk_outcome_baselines_set_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome_baselines")),
        sa.UniqueConstraint("patient_id", name=op.f("uq_outcome_baselines_patient_id")),
    )


def downgrade() -> None:
    """Drop this domain's tables."""
    op.drop_table("outcome_baselines")
    for table in ("side_effect_reports", "bpi_entries", "pgic_entries", "pain_entries"):
        op.drop_table(table)
