"""The audit log: entries with before/after, append-only in the database, same transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import argon2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from openvns.clinic.app import create_app
from openvns.clinic.audit import service as audit_service
from openvns.clinic.audit.models import AuditEntry
from openvns.clinic.auth import service as auth_service
from openvns.clinic.auth.models import Role, TokenKind, User
from openvns.clinic.config import Settings
from openvns.clinic.db.migrations import upgrade
from openvns.clinic.db.session import create_engine_for, make_session_factory, transaction
from openvns.clinic.models import Patient
from tests.clinic.conftest import SECRET, HeadersFactory, UserFactory
from tests.clinic.test_patients import patient_body


def _entries(db: Session, entity: str, entity_id: int) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.entity == entity, AuditEntry.entity_id == entity_id)
    return list(db.scalars(query.order_by(AuditEntry.id)))


def test_create_and_update_are_audited(
    client: TestClient, db: Session, make_user: UserFactory, as_role: HeadersFactory
) -> None:
    nurse = make_user(Role.NURSE)
    headers = {"Authorization": f"Bearer {_token(db, nurse)}"}
    p = client.post("/api/v1/patients", json=patient_body(), headers=headers).json()
    patch = {"version": 1, "pain_duration_months": 60}
    client.patch(f"/api/v1/patients/{p['id']}", json=patch, headers=headers)

    create, change = _entries(db, "patient", p["id"])
    assert (create.action, create.actor_id, create.before) == ("create", nurse.id, None)
    assert create.after is not None
    assert create.after["mrn"] == "MRN-0001"
    assert create.after["pain_duration_months"] == 48
    assert (change.action, change.actor_id) == ("update", nurse.id)
    assert change.before is not None
    assert change.after is not None
    assert (change.before["pain_duration_months"], change.after["pain_duration_months"]) == (48, 60)
    assert (change.before["version"], change.after["version"]) == (1, 2)
    assert create.at.tzinfo is not None

    clinician = as_role(Role.CLINICIAN)
    page = client.get(
        "/api/v1/audit", params={"entity": "patient", "entity_id": p["id"]}, headers=clinician
    ).json()
    assert [e["action"] for e in page["items"]] == ["create", "update"]
    assert page["total"] == 2
    one = client.get(
        "/api/v1/audit",
        params={"entity": "patient", "entity_id": p["id"], "limit": 1, "offset": 1},
        headers=clinician,
    ).json()
    assert [e["action"] for e in one["items"]] == ["update"]


def _token(db: Session, user: User) -> str:
    from datetime import timedelta

    with transaction(db):
        raw, _ = auth_service.issue_token(db, user, TokenKind.BEARER, timedelta(hours=1))
    return raw


def test_user_creation_is_audited_without_the_hash(db: Session, make_user: UserFactory) -> None:
    user = make_user(Role.CLINICIAN)
    (entry,) = _entries(db, "user", user.id)
    assert entry.after is not None
    assert entry.after["email"] == user.email
    assert "password_hash" not in entry.after


def test_delete_keeps_the_record_in_the_log(
    client: TestClient, db: Session, as_role: HeadersFactory
) -> None:
    clinician = as_role(Role.CLINICIAN)
    p = client.post("/api/v1/patients", json=patient_body(), headers=clinician).json()
    client.delete(f"/api/v1/patients/{p['id']}", headers=clinician)
    last = _entries(db, "patient", p["id"])[-1]
    assert last.action == "delete"
    assert last.before is not None
    assert last.before["mrn"] == "MRN-0001"
    assert last.after is not None  # a soft delete: the record stays, marked deleted
    assert last.after["deleted_at"] is not None


def test_audit_api_is_for_staff_not_patients(client: TestClient, as_role: HeadersFactory) -> None:
    """Admins, clinicians and nurses read it (each the content their role may read elsewhere:
    tests/clinic/test_record.py); patients do not."""
    assert client.get("/api/v1/audit", headers=as_role(Role.PATIENT)).status_code == 403
    for role in (Role.ADMIN, Role.CLINICIAN, Role.NURSE):
        assert client.get("/api/v1/audit", headers=as_role(role)).status_code == 200


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log"]
)
def test_audit_log_is_append_only_in_the_database(
    db: Session, make_user: UserFactory, statement: str
) -> None:
    make_user(Role.ADMIN)  # writes one entry
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text(statement))
    assert (db.scalar(select(func.count()).select_from(AuditEntry)) or 0) >= 1


def _fail_after_recording(monkeypatch: pytest.MonkeyPatch) -> None:
    real = audit_service.record

    def record_then_fail(*args: Any, **kwargs: Any) -> AuditEntry:
        real(*args, **kwargs)
        raise RuntimeError("simulated failure after the change and its audit entry")

    monkeypatch.setattr(audit_service, "record", record_then_fail)


def test_failed_request_leaves_neither_change_nor_entry(
    client: TestClient, db: Session, as_role: HeadersFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    nurse = as_role(Role.NURSE)
    p = client.post("/api/v1/patients", json=patient_body(), headers=nurse).json()
    before = db.scalar(select(func.count()).select_from(AuditEntry))
    _fail_after_recording(monkeypatch)
    patch = {"version": 1, "full_name": "Changed"}
    r = client.patch(f"/api/v1/patients/{p['id']}", json=patch, headers=nurse)
    assert r.status_code == 500
    db.expire_all()
    assert db.get(Patient, p["id"]) is not None
    assert (
        db.scalars(select(Patient.full_name).where(Patient.id == p["id"])).one() == "Ada Lovelace"
    )
    assert db.scalar(select(func.count()).select_from(AuditEntry)) == before


def test_production_session_commits_or_rolls_back_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real ``get_session`` (no override) on its own database file."""
    url = f"sqlite:///{tmp_path / 'prod.sqlite3'}"
    upgrade(url)
    settings = Settings(url, SECRET, argon2_parameters=argon2.profiles.CHEAPEST)
    engine = create_engine_for(url)
    try:
        with make_session_factory(engine)() as session, transaction(session):
            nurse = auth_service.create_user(
                session,
                email="n@example.org",
                full_name="N",
                role=Role.NURSE,
                password="p" * 12,
                hasher=argon2.PasswordHasher.from_parameters(argon2.profiles.CHEAPEST),
            )
            raw, _ = auth_service.issue_token(session, nurse, TokenKind.BEARER, settings.token_ttl)
        headers = {"Authorization": f"Bearer {raw}"}
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            ok = client.post("/api/v1/patients", json=patient_body(), headers=headers)
            assert ok.status_code == 201
            _fail_after_recording(monkeypatch)
            body = patient_body(mrn="MRN-0002")
            assert client.post("/api/v1/patients", json=body, headers=headers).status_code == 500
        with engine.connect() as conn:
            mrns = conn.execute(select(Patient.mrn)).scalars().all()
            entities = conn.execute(select(AuditEntry.entity)).scalars().all()
        assert mrns == ["MRN-0001"]
        assert sorted(entities) == ["patient", "user"]
    finally:
        engine.dispose()
