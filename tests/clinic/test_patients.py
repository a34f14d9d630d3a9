"""Patient records over the API: CRUD, validation, optimistic locking and the role rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import String, text
from sqlalchemy.orm import Session

from openvns.clinic.auth.models import Role, User
from openvns.clinic.auth.schemas import UserCreate
from openvns.clinic.errors import ConflictError
from openvns.clinic.models import Patient
from openvns.clinic.models import User as UserModel
from openvns.clinic.patients import service
from openvns.clinic.patients.schemas import PatientCreate
from tests.clinic.conftest import HeadersFactory, UserFactory

API = "/api/v1/patients"
HeadersFor = Callable[[User], dict[str, str]]


def patient_body(**overrides: Any) -> dict[str, Any]:
    """A valid create body."""
    body: dict[str, Any] = {
        "mrn": "MRN-0001",
        "full_name": "Ada Lovelace",
        "date_of_birth": "1975-12-10",
        "sex": "female",
        "diagnosis": "fibromyalgia",
        "pain_duration_months": 48,
    }
    return {**body, **overrides}


def create(client: TestClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    """Create a patient and return the body."""
    r = client.post(API, json=patient_body(**overrides), headers=headers)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def test_create_read_list(client: TestClient, as_role: HeadersFactory) -> None:
    nurse = as_role(Role.NURSE)
    created = create(client, nurse)
    assert created["version"] == 1
    assert created["created_at"].endswith(("Z", "+00:00"))
    r = client.get(f"{API}/{created['id']}", headers=nurse)
    assert r.status_code == 200
    assert r.json() == created
    create(client, nurse, mrn="MRN-0002", full_name="Grace Hopper")
    page = client.get(API, headers=nurse, params={"search": "hopper"}).json()
    assert [p["mrn"] for p in page["items"]] == ["MRN-0002"]
    assert page["total"] == 1


def test_update_with_optimistic_locking(client: TestClient, as_role: HeadersFactory) -> None:
    clinician = as_role(Role.CLINICIAN)
    p = create(client, clinician)
    r = client.patch(
        f"{API}/{p['id']}", json={"version": 1, "diagnosis": "CRPS"}, headers=clinician
    )
    assert r.status_code == 200, r.text
    assert r.json()["diagnosis"] == "CRPS"
    assert r.json()["version"] == 2
    stale = client.patch(
        f"{API}/{p['id']}", json={"version": 1, "diagnosis": "x"}, headers=clinician
    )
    assert stale.status_code == 409
    cleared = client.patch(
        f"{API}/{p['id']}", json={"version": 2, "diagnosis": None}, headers=clinician
    )
    assert cleared.status_code == 200
    assert cleared.json()["diagnosis"] is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"mrn": "M" * 33}, "mrn"),
        ({"mrn": "has space"}, "mrn"),
        ({"sex": "robot"}, "sex"),
        ({"pain_duration_months": -1}, "pain_duration_months"),
        ({"pain_duration_months": 1201}, "pain_duration_months"),
        ({"full_name": ""}, "full_name"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_create_rejects_bad_values(
    client: TestClient, as_role: HeadersFactory, overrides: dict[str, Any], field: str
) -> None:
    r = client.post(API, json=patient_body(**overrides), headers=as_role(Role.NURSE))
    assert r.status_code == 422
    assert field in str(r.json()["detail"][0]["loc"])


def test_domain_errors_name_field_value_and_allowed(
    client: TestClient, as_role: HeadersFactory, make_user: UserFactory
) -> None:
    nurse = as_role(Role.NURSE)
    r = client.post(API, json=patient_body(date_of_birth="2999-01-01"), headers=nurse)
    assert r.status_code == 422
    detail = r.json()["detail"][0]
    assert (detail["field"], detail["value"]) == ("date_of_birth", "2999-01-01")
    assert "future" in detail["allowed"]
    not_a_patient = make_user(Role.NURSE)
    r = client.post(API, json=patient_body(user_id=not_a_patient.id), headers=nurse)
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "user_id"


def test_required_fields_cannot_be_nulled(client: TestClient, as_role: HeadersFactory) -> None:
    nurse = as_role(Role.NURSE)
    p = create(client, nurse)
    r = client.patch(f"{API}/{p['id']}", json={"version": 1, "full_name": None}, headers=nurse)
    assert r.status_code == 422


def test_duplicates_conflict(
    client: TestClient, as_role: HeadersFactory, make_user: UserFactory
) -> None:
    nurse = as_role(Role.NURSE)
    account = make_user(Role.PATIENT)
    create(client, nurse, user_id=account.id)
    assert client.post(API, json=patient_body(), headers=nurse).status_code == 409
    other = patient_body(mrn="MRN-9", user_id=account.id)
    assert client.post(API, json=other, headers=nurse).status_code == 409


def test_delete_is_for_clinicians(client: TestClient, as_role: HeadersFactory) -> None:
    nurse, clinician = as_role(Role.NURSE), as_role(Role.CLINICIAN)
    p = create(client, nurse)
    assert client.delete(f"{API}/{p['id']}", headers=nurse).status_code == 403
    assert client.delete(f"{API}/{p['id']}", headers=clinician).status_code == 204
    assert client.get(f"{API}/{p['id']}", headers=clinician).status_code == 404


# --- role rules -------------------------------------------------------------------------------


def test_patient_sees_only_their_own_record(
    client: TestClient, as_role: HeadersFactory, make_user: UserFactory, headers_for: HeadersFor
) -> None:
    nurse = as_role(Role.NURSE)
    alice, bob = make_user(Role.PATIENT), make_user(Role.PATIENT)
    own = create(client, nurse, mrn="A-1", user_id=alice.id)
    other = create(client, nurse, mrn="B-1", user_id=bob.id)
    as_alice = headers_for(alice)

    assert client.get(f"{API}/me", headers=as_alice).json()["id"] == own["id"]
    assert client.get(f"{API}/{own['id']}", headers=as_alice).status_code == 200

    theirs = client.get(f"{API}/{other['id']}", headers=as_alice)
    missing = client.get(f"{API}/999999", headers=as_alice)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["detail"].replace(str(other["id"]), "N") == missing.json()[
        "detail"
    ].replace("999999", "N")

    assert client.get(API, headers=as_alice).status_code == 403
    patch = {"version": 1, "full_name": "Mallory"}
    assert client.patch(f"{API}/{own['id']}", json=patch, headers=as_alice).status_code == 403


def test_patient_without_a_record_gets_404_for_me(
    client: TestClient, as_role: HeadersFactory
) -> None:
    assert client.get(f"{API}/me", headers=as_role(Role.PATIENT)).status_code == 404


@pytest.mark.parametrize("role", [Role.CLINICIAN, Role.NURSE, Role.ADMIN])
def test_me_is_for_patients(client: TestClient, as_role: HeadersFactory, role: Role) -> None:
    assert client.get(f"{API}/me", headers=as_role(role)).status_code == 403


def test_admin_does_not_read_clinical_records(client: TestClient, as_role: HeadersFactory) -> None:
    p = create(client, as_role(Role.NURSE))
    admin = as_role(Role.ADMIN)
    assert client.get(API, headers=admin).status_code == 403
    assert client.get(f"{API}/{p['id']}", headers=admin).status_code == 403


def test_unauthenticated_is_401(client: TestClient) -> None:
    assert client.get(API).status_code == 401
    assert client.post(API, json=patient_body()).status_code == 401


# --- the OpenAPI schema states what the endpoints and the tables accept -------------------------


@pytest.mark.parametrize(
    ("schema", "model", "table"),
    [("PatientCreate", PatientCreate, Patient), ("UserCreate", UserCreate, UserModel)],
)
def test_openapi_limits_match_the_columns(
    client: TestClient, schema: str, model: type, table: type
) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    props = spec["components"]["schemas"][schema]["properties"]
    checked = 0
    for column in table.__table__.columns:  # type: ignore[attr-defined]
        if column.name not in props or not isinstance(column.type, String):
            continue
        prop = props[column.name]
        if "anyOf" in prop:
            prop = next(p for p in prop["anyOf"] if p.get("type") == "string")
        if "maxLength" in prop:
            assert prop["maxLength"] == column.type.length, column.name
            checked += 1
    assert checked >= 2


def test_openapi_documents_patient_constraints(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    props = spec["components"]["schemas"]["PatientCreate"]["properties"]
    months = next(p for p in props["pain_duration_months"]["anyOf"] if p["type"] == "integer")
    assert (months["minimum"], months["maximum"]) == (0, 1200)
    assert props["mrn"]["pattern"] == "^[A-Za-z0-9-]+$"
    assert spec["components"]["schemas"]["Sex"]["enum"] == ["female", "male", "other", "unknown"]
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


# --- races that the services' own checks cannot see ---------------------------------------------


def test_concurrent_change_is_a_conflict(db: Session, make_user: UserFactory) -> None:
    nurse = make_user(Role.NURSE)
    values = {"mrn": "R-1", "full_name": "R", "date_of_birth": date(1970, 1, 1), "sex": "male"}
    patient = service.create_patient(db, nurse, values)
    # Another request moves the stored version on behind this session's back.
    db.execute(text("UPDATE patients SET version = 7 WHERE id = :id"), {"id": patient.id})
    with pytest.raises(ConflictError, match="changed meanwhile"):
        service.update_patient(db, nurse, patient.id, 1, {"diagnosis": "x"})


def test_database_unique_rule_is_a_409(
    client: TestClient, as_role: HeadersFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    nurse = as_role(Role.NURSE)
    create(client, nurse)
    monkeypatch.setattr(service, "_check_values", lambda *args: None)  # as if a race won
    r = client.post(API, json=patient_body(), headers=nurse)
    assert r.status_code == 409
    assert client.get(API, headers=nurse).json()["total"] == 1
