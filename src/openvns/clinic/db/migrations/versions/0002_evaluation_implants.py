"""Candidate evaluation, implants (generator, lead, virtual implant state), programming, plans.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create this domain's tables (written with the domain's models)."""


def downgrade() -> None:
    """Drop this domain's tables."""
