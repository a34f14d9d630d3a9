"""Pain diaries, questionnaires (PGIC, BPI), side-effect reports and outcomes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create this domain's tables (written with the domain's models)."""


def downgrade() -> None:
    """Drop this domain's tables."""
