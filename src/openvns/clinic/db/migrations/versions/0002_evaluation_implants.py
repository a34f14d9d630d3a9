"""Candidate evaluation, implants (generator, lead, virtual implant state), programming, plans.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DIAGNOSES = ("fibromyalgia", "neuropathic_pain", "crps", "headache_migraine", "other")
_FLAGS = (
    "prior_left_or_bilateral_cervical_vagotomy",
    "planned_diathermy",
    "obstructive_sleep_apnoea",
    "chronic_pulmonary_disease",
    "swallowing_difficulty",
    "cardiac_arrhythmia_or_conduction_disorder",
    "heart_rate_altering_treatment",
    "anticipated_mri",
    "pregnancy",
    "other_active_implanted_device",
)


def _timestamp(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _user_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["users.id"], name=op.f(f"fk_{table}_{column}_users"), ondelete="SET NULL"
    )


def upgrade() -> None:
    """Create the tables of evaluation, implants and programming."""
    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("diagnosis", sa.String(length=32), nullable=False),
        sa.Column("diagnosis_detail", sa.String(length=500), nullable=True),
        sa.Column("pain_duration_months", sa.Integer(), nullable=False),
        sa.Column("treatments_tried", sa.JSON(), nullable=False),
        sa.Column("baseline_nrs", sa.Double(), nullable=False),
        sa.Column("worst_nrs", sa.Double(), nullable=True),
        sa.Column("headache_days_per_month", sa.Integer(), nullable=True),
        *(sa.Column(flag, sa.Boolean(), nullable=False) for flag in _FLAGS),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(_in("diagnosis", _DIAGNOSES), name=op.f("ck_evaluations_diagnosis")),
        sa.CheckConstraint(
            "pain_duration_months >= 0 AND pain_duration_months <= 1200",
            name=op.f("ck_evaluations_pain_duration_months"),
        ),
        sa.CheckConstraint(
            "baseline_nrs >= 0 AND baseline_nrs <= 10", name=op.f("ck_evaluations_baseline_nrs")
        ),
        sa.CheckConstraint(
            "worst_nrs >= 0 AND worst_nrs <= 10", name=op.f("ck_evaluations_worst_nrs")
        ),
        sa.CheckConstraint(
            "headache_days_per_month >= 0 AND headache_days_per_month <= 31",
            name=op.f("ck_evaluations_headache_days_per_month"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_evaluations_patient_id_patients"),
            ondelete="CASCADE",
        ),
        _user_fk("evaluations", "created_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluations")),
    )
    op.create_index("ix_evaluations_patient_id", "evaluations", ["patient_id"])

    op.create_table(
        "implants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("generator_model", sa.String(length=32), nullable=False),
        sa.Column("generator_serial", sa.String(length=32), nullable=False),
        sa.Column("lead_model", sa.String(length=32), nullable=False),
        _timestamp("implanted_at"),
        sa.Column("status", sa.String(length=16), nullable=False),
        _timestamp("ended_at", nullable=True),
        sa.Column("end_reason", sa.String(length=500), nullable=True),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.Column("state_json", sa.Text(), nullable=False),
        _timestamp("device_time"),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            _in("status", ("active", "explanted", "replaced")), name=op.f("ck_implants_status")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_implants_patient_id_patients"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"], ["implants.id"], name=op.f("fk_implants_replaces_id_implants")
        ),
        _user_fk("implants", "created_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_implants")),
        sa.UniqueConstraint("generator_serial", name=op.f("uq_implants_generator_serial")),
    )
    op.create_index("ix_implants_patient_id", "implants", ["patient_id"])

    op.create_table(
        "programming_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("implant_id", sa.Integer(), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        _timestamp("started_at"),
        _timestamp("closed_at", nullable=True),
        sa.CheckConstraint(
            _in("status", ("open", "closed")), name=op.f("ck_programming_sessions_status")
        ),
        sa.ForeignKeyConstraint(
            ["implant_id"],
            ["implants.id"],
            name=op.f("fk_programming_sessions_implant_id_implants"),
            ondelete="CASCADE",
        ),
        _user_fk("programming_sessions", "started_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programming_sessions")),
    )
    op.create_index("ix_programming_sessions_implant_id", "programming_sessions", ["implant_id"])

    op.create_table(
        "programming_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("issues", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        _timestamp("created_at"),
        _timestamp("programmed_at", nullable=True),
        sa.CheckConstraint(
            _in("status", ("checked", "programmed")),
            name=op.f("ck_programming_proposals_status"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["programming_sessions.id"],
            name=op.f("fk_programming_proposals_session_id_programming_sessions"),
            ondelete="CASCADE",
        ),
        _user_fk("programming_proposals", "created_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programming_proposals")),
    )
    op.create_index("ix_programming_proposals_session_id", "programming_proposals", ["session_id"])

    op.create_table(
        "titration_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("implant_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("protocol", sa.Text(), nullable=False),
        _timestamp("start_at"),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        _timestamp("created_at"),
        sa.CheckConstraint(
            _in("status", ("active", "superseded")), name=op.f("ck_titration_plans_status")
        ),
        sa.ForeignKeyConstraint(
            ["implant_id"],
            ["implants.id"],
            name=op.f("fk_titration_plans_implant_id_implants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["programming_sessions.id"],
            name=op.f("fk_titration_plans_session_id_programming_sessions"),
            ondelete="SET NULL",
        ),
        _user_fk("titration_plans", "created_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_titration_plans")),
    )
    op.create_index("ix_titration_plans_implant_id", "titration_plans", ["implant_id"])


def downgrade() -> None:
    """Drop the tables of evaluation, implants and programming."""
    op.drop_index("ix_titration_plans_implant_id", table_name="titration_plans")
    op.drop_table("titration_plans")
    op.drop_index("ix_programming_proposals_session_id", table_name="programming_proposals")
    op.drop_table("programming_proposals")
    op.drop_index("ix_programming_sessions_implant_id", table_name="programming_sessions")
    op.drop_table("programming_sessions")
    op.drop_index("ix_implants_patient_id", table_name="implants")
    op.drop_table("implants")
    op.drop_index("ix_evaluations_patient_id", table_name="evaluations")
    op.drop_table("evaluations")
