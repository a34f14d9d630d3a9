"""The same migrations and rules on PostgreSQL (pg8000), when a server is given.

Set ``OPENVNS_TEST_POSTGRES_URL=postgresql+pg8000://user:pw@host:port/db`` to an empty
database the test may wipe; without it the test is skipped.
"""

from __future__ import annotations

import os
from datetime import date

import argon2
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from openvns.clinic.auth import service as auth_service
from openvns.clinic.auth.models import Role
from openvns.clinic.db.migrations import current_revision, downgrade, head_revision, upgrade
from openvns.clinic.db.session import create_engine_for, make_session_factory, transaction
from openvns.clinic.models import metadata
from openvns.clinic.patients import service as patient_service

URL = os.environ.get("OPENVNS_TEST_POSTGRES_URL")

pytestmark = pytest.mark.skipif(not URL, reason="OPENVNS_TEST_POSTGRES_URL is not set")


def test_postgres_migrations_schema_and_append_only() -> None:
    assert URL is not None
    downgrade(URL, "base")
    upgrade(URL)
    assert current_revision(URL) == head_revision()
    engine = create_engine_for(URL)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
        with make_session_factory(engine)() as session, transaction(session):
            hasher = argon2.PasswordHasher.from_parameters(argon2.profiles.CHEAPEST)
            nurse = auth_service.create_user(
                session,
                email="pg@example.org",
                full_name="PG Nurse",
                role=Role.NURSE,
                password="p" * 12,
                hasher=hasher,
            )
            values = {"mrn": "PG-1", "full_name": "P", "date_of_birth": date(1970, 1, 1)}
            patient = patient_service.create_patient(session, nurse, {**values, "sex": "male"})
            patient_service.update_patient(session, nurse, patient.id, 1, {"diagnosis": "CRPS"})
            assert patient.created_at.tzinfo is not None
        for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
            with engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
                conn.execute(text(statement))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar() == 3
    finally:
        engine.dispose()
    downgrade(URL, "base")
    assert current_revision(URL) is None
    engine = create_engine_for(URL)
    try:
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    finally:
        engine.dispose()
    upgrade(URL)
    downgrade(URL, "base")
