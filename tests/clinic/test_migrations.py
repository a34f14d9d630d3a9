"""Migrations up and down, the schema they build, and the SQLite connection settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from openvns.clinic.db.migrations import current_revision, downgrade, head_revision, upgrade
from openvns.clinic.db.session import create_engine_for
from openvns.clinic.models import metadata

TABLES = {"users", "auth_tokens", "patients", "audit_log"}


def _tables(url: str) -> set[str]:
    engine = create_engine_for(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _triggers(url: str) -> set[str]:
    engine = create_engine_for(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
            return {r[0] for r in rows}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    assert current_revision(url) is None
    upgrade(url)
    assert current_revision(url) == head_revision()
    assert _tables(url) >= TABLES
    assert _triggers(url) == {"audit_log_no_update", "audit_log_no_delete"}

    downgrade(url, "base")
    assert current_revision(url) is None
    assert _tables(url) & TABLES == set()
    assert _triggers(url) == set()

    upgrade(url, "head")
    assert current_revision(url) == head_revision()
    assert _tables(url) >= TABLES


def test_upgrade_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twice.sqlite3'}"
    upgrade(url)
    upgrade(url)
    assert current_revision(url) == head_revision()


def test_schema_after_upgrade_equals_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_sqlite_connection_settings(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
