"""Migrations up and down, the schema they build, and the SQLite connection settings."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from openvns.clinic.db.migrations import current_revision, downgrade, head_revision, upgrade
from openvns.clinic.db.session import create_engine_for
from openvns.clinic.models import metadata
from tests.clinic.conftest import PostgresDatabaseFactory

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


def _fresh_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'kinds.sqlite3'}"
    factory: PostgresDatabaseFactory = request.getfixturevalue("postgres_database")
    return factory("kinds")


def _reports(conn: Connection) -> dict[int, tuple[str, str, str, str | None]]:
    query = "SELECT id, entry_date, kind, severity, description FROM side_effect_reports"
    return {r[0]: (str(r[1]), r[2], r[3], r[4]) for r in conn.execute(text(query)).all()}


def _add_reports(conn: Connection, rows: list[tuple[int, str, str, str, str | None]]) -> None:
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    stamp = now.replace(tzinfo=None) if conn.dialect.name == "sqlite" else now
    for id_, day, kind, severity, description in rows:
        conn.execute(
            text(
                "INSERT INTO side_effect_reports (id, patient_id, entry_date, kind, severity,"
                " description, created_at, updated_at) VALUES (:id, 1, :day, :kind, :severity,"
                " :description, :at, :at)"
            ),
            {"id": id_, "day": date.fromisoformat(day), "kind": kind, "severity": severity,
             "description": description, "at": stamp},
        )  # fmt: skip


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_side_effect_kinds_up_and_down_keep_every_report(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """0004 keeps ``throat_cough`` rows as they are; its downgrade maps the new kinds back,
    merging only rows that 0003's one-per-kind rule cannot hold apart, and audits each change."""
    url = _fresh_url(backend, tmp_path, request)
    upgrade(url, "0003")
    engine = create_engine_for(url)
    try:
        with engine.begin() as conn:
            at = datetime(2026, 1, 1, tzinfo=UTC)
            conn.execute(
                text(
                    "INSERT INTO patients (id, mrn, full_name, date_of_birth, sex, created_at,"
                    " updated_at, version) VALUES (1, 'MIG-1', 'M', :dob, 'female', :at, :at, 1)"
                ),
                {"dob": date(1970, 1, 1),
                 "at": at.replace(tzinfo=None) if backend == "sqlite" else at},
            )  # fmt: skip
            _add_reports(conn, [
                (1, "2026-01-01", "voice", "mild", None),
                (2, "2026-01-01", "throat_cough", "moderate", None),
                (3, "2026-01-02", "other", "mild", "rash"),
                (4, "2026-01-03", "dyspnoea", "severe", None),
            ])  # fmt: skip
            before = _reports(conn)
        upgrade(url, "0004")
        with engine.begin() as conn:
            assert _reports(conn) == before  # legacy rows kept as they were
            _add_reports(conn, [
                (5, "2026-01-01", "cough", "mild", None),
                (6, "2026-01-01", "throat_pain", "severe", None),
                (7, "2026-01-02", "headache", "severe", None),
                (8, "2026-01-02", "nausea", "mild", None),
                (9, "2026-01-04", "neck_pain", "moderate", None),
                (10, "2026-01-05", "heart_rate", "mild", None),
                (11, "2026-01-05", "laryngismus", "moderate", None),
            ])  # fmt: skip
        with engine.connect() as conn, pytest.raises(IntegrityError):
            _add_reports(conn, [(12, "2026-01-06", "tinnitus", "mild", None)])

        downgrade(url, "0003")
        assert current_revision(url) == "0003"
        with engine.begin() as conn:
            assert _reports(conn) == {
                1: ("2026-01-01", "voice", "mild", None),
                2: ("2026-01-01", "throat_cough", "severe",
                    "throat pain or cough (moderate); cough (mild); throat pain (severe)"),
                3: ("2026-01-02", "other", "severe",
                    "rash (mild); headache (severe); nausea or indigestion (mild)"),
                4: ("2026-01-03", "dyspnoea", "severe", None),
                9: ("2026-01-04", "other", "moderate", "neck pain"),
                10: ("2026-01-05", "other", "moderate",
                     "palpitations or heart-rate change (mild); laryngismus (throat tightness or"
                     " spasm) (moderate)"),
            }  # fmt: skip
            audit = conn.execute(
                text("SELECT action, entity_id, actor_id, before, after FROM audit_log"
                     " WHERE entity = 'side_effect_report' ORDER BY id")
            ).all()  # fmt: skip
        actions = {(a, e) for a, e, *_ in audit}
        assert actions == {("migrate", 2), ("migrate", 3), ("migrate", 9), ("migrate", 10)} | {
            ("migrate_merge", i) for i in (5, 6, 7, 8, 11)
        }
        assert all(actor is None for _, _, actor, _, _ in audit)
        merged = {e: (b, a) for act, e, _, b, a in audit if act == "migrate_merge"}
        before_6, after_6 = (json.loads(v) if isinstance(v, str) else v for v in merged[6])
        assert (before_6["kind"], before_6["severity"], after_6) == (
            "throat_pain", "severe", {"merged_into": 2}
        )  # fmt: skip
        with engine.connect() as conn, pytest.raises(IntegrityError):
            _add_reports(conn, [(13, "2026-01-07", "cough", "mild", None)])

        upgrade(url)
        with engine.connect() as conn:
            assert len(_reports(conn)) == 6  # a later upgrade does not split them again
    finally:
        engine.dispose()


def _add_patient(conn: Connection) -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    conn.execute(
        text(
            "INSERT INTO patients (id, mrn, full_name, date_of_birth, sex, created_at,"
            " updated_at, version) VALUES (1, 'MIG-1', 'M', :dob, 'female', :at, :at, 1)"
        ),
        {"dob": date(1970, 1, 1),
         "at": at.replace(tzinfo=None) if conn.dialect.name == "sqlite" else at},
    )  # fmt: skip


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _audit(conn: Connection) -> list[tuple[str, int, int | None, Any, Any]]:
    """The side-effect reports' audit entries: action, id, actor, before and after (decoded)."""
    rows = conn.execute(
        text("SELECT action, entity_id, actor_id, before, after FROM audit_log"
             " WHERE entity = 'side_effect_report' ORDER BY id")
    ).all()  # fmt: skip
    return [(a, e, actor, _json(b), _json(af)) for a, e, actor, b, af in rows]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_noninvasive_side_effect_kinds_up_and_down_keep_every_report(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """0005 allows application_site, dizziness and muscle_twitch; its downgrade turns them into
    ``other`` with the kind in words, merging rows that share a patient and date as ``other``
    (into the existing ``other`` row, else the oldest), and audits each change."""
    url = _fresh_url(backend, tmp_path, request)
    upgrade(url, "0004")
    engine = create_engine_for(url)
    long_text = "x" * 195
    try:
        with engine.begin() as conn:
            _add_patient(conn)
            _add_reports(conn, [
                (1, "2026-01-01", "other", "mild", "rash"),
                (2, "2026-01-01", "voice", "mild", None),
                (3, "2026-01-02", "headache", "moderate", None),
                (4, "2026-01-04", "other", "mild", long_text),
            ])  # fmt: skip
            before = _reports(conn)
        with engine.connect() as conn, pytest.raises(IntegrityError):
            _add_reports(conn, [(20, "2026-01-09", "dizziness", "mild", None)])
        upgrade(url, "0005")
        assert current_revision(url) == "0005"
        with engine.begin() as conn:
            assert _reports(conn) == before  # the upgrade changes no row
            _add_reports(conn, [
                (5, "2026-01-01", "dizziness", "severe", None),
                (6, "2026-01-02", "application_site", "mild", None),
                (7, "2026-01-03", "muscle_twitch", "moderate", None),
                (8, "2026-01-03", "dizziness", "mild", None),
                (9, "2026-01-03", "application_site", "mild", None),
                (10, "2026-01-04", "dizziness", "moderate", None),
            ])  # fmt: skip
        with engine.connect() as conn, pytest.raises(IntegrityError):
            _add_reports(conn, [(21, "2026-01-09", "tinnitus", "mild", None)])

        downgrade(url, "0004")
        assert current_revision(url) == "0004"
        twitch = "muscle twitch at the stimulation site (lip pulling, neck muscle)"
        site = "application-site tingling, pain or redness"
        with engine.begin() as conn:
            reports = _reports(conn)
            audit = _audit(conn)
        cut = f"{long_text} (mild); dizziness (moderate)"[:199] + "…"
        assert len(cut) == 200
        assert reports == {
            1: ("2026-01-01", "other", "severe", "rash (mild); dizziness (severe)"),
            2: ("2026-01-01", "voice", "mild", None),
            3: ("2026-01-02", "headache", "moderate", None),
            4: ("2026-01-04", "other", "moderate", cut),
            6: ("2026-01-02", "other", "mild", site),
            7: ("2026-01-03", "other", "moderate",
                f"{twitch} (moderate); dizziness (mild); {site} (mild)"),
        }  # fmt: skip
        assert {(a, e) for a, e, *_ in audit} == {
            ("migrate", 1), ("migrate", 4), ("migrate", 6), ("migrate", 7),
            ("migrate_merge", 5), ("migrate_merge", 8), ("migrate_merge", 9),
            ("migrate_merge", 10),
        }  # fmt: skip
        assert len(audit) == 8
        assert all(actor is None for _, _, actor, _, _ in audit)
        merged = {e: (b, a) for act, e, _, b, a in audit if act == "migrate_merge"}
        assert {e: a["merged_into"] for e, (_, a) in merged.items()} == {5: 1, 8: 7, 9: 7, 10: 4}
        assert (merged[5][0]["kind"], merged[5][0]["severity"]) == ("dizziness", "severe")
        changed = {e: (b, a) for act, e, _, b, a in audit if act == "migrate"}
        before_6, after_6 = changed[6]
        assert (before_6["kind"], before_6["description"]) == ("application_site", None)
        assert (after_6["kind"], after_6["description"]) == ("other", site)
        with engine.connect() as conn, pytest.raises(IntegrityError):
            _add_reports(conn, [(22, "2026-01-09", "muscle_twitch", "mild", None)])

        downgrade(url, "0003")  # 0004's downgrade then folds headache into day 2's other row
        with engine.connect() as conn:
            assert _reports(conn)[6] == (
                "2026-01-02", "other", "moderate", f"{site} (mild); headache (moderate)"
            )  # fmt: skip
        upgrade(url)
        assert current_revision(url) == head_revision()
        with engine.connect() as conn:
            assert len(_reports(conn)) == 5  # a later upgrade does not split them again
    finally:
        engine.dispose()
