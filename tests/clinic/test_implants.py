"""Implants: registration against the catalogue, the stored virtual implant, roles, explant."""
# ruff: noqa: F811 (the team and clock fixtures are imported from implant_helpers)

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from openvns.clinic.audit.models import AuditEntry
from openvns.clinic.implants import service
from openvns.clinic.implants.models import Implant
from openvns.clinic.implants.schemas import GeneratorModelId, LeadModelId
from openvns.device.catalogue import default_catalogue
from openvns.device.generator import PulseGenerator
from openvns.errors import ValidationError
from tests.clinic.implant_helpers import API, T0, Team, new_patient, register, team  # noqa: F401
from tests.clinic.implant_helpers import clock as clock


def test_register_stores_the_virtual_implant(client: TestClient, team: Team, db: Session) -> None:
    body = register(client, team.as_clinician, team.patient.id)
    assert body["status"] == "active"
    assert body["version"] == 1
    assert body["generator_model"] == "1000"
    assert body["lead_model"] == "304-20"
    assert body["settings"]["output_current_mA"] == 0.0  # factory settings: output off
    assert body["battery_percent"] == pytest.approx(100, abs=0.1)
    implant = db.get(Implant, body["id"])
    assert implant is not None
    generator = PulseGenerator.from_json(implant.state_json)
    assert (generator.model.id, generator.lead.id, generator.serial) == (
        "1000",
        "304-20",
        "SN-0001",
    )
    entry = db.scalars(
        select(AuditEntry).where(AuditEntry.entity == "implant", AuditEntry.entity_id == body["id"])
    ).one()
    assert entry.action == "create"
    assert entry.before is None
    assert entry.after is not None
    assert entry.after["settings"]["output_current_mA"] == 0.0
    assert "state_json" not in entry.after


def test_an_old_implant_runs_to_now(client: TestClient, team: Team, clock: dict) -> None:
    implanted = (T0 - timedelta(days=400)).isoformat()
    body = register(client, team.as_clinician, team.patient.id, implanted_at=implanted)
    assert body["device_time"].startswith("2026-01-05T09:00")
    assert body["battery_percent"] < 100  # quiescent drain over 400 days


def test_enums_are_the_catalogue() -> None:
    cat = default_catalogue()
    implanted = {g.id for g in cat.generators.values() if g.implanted}
    assert {m.value for m in GeneratorModelId} == implanted
    helical = {ld.id for ld in cat.leads.values() if ld.kind == "helical"}
    assert {m.value for m in LeadModelId} == helical


@pytest.mark.parametrize(
    ("generator", "lead", "field", "allowed"),
    [
        ("gammacore-sapphire-cv", "304-20", "generator_model", "1000"),
        ("9999", "304-20", "generator_model", "106"),
        ("1000", "ear-clip", "lead_model", "304-20"),
        ("1000", "nope", "lead_model", "302-30"),
    ],
)
def test_catalogue_errors_name_field_value_and_allowed(
    generator: str, lead: str, field: str, allowed: str
) -> None:
    with pytest.raises(ValidationError) as info:
        service.catalogue_models(generator, lead)
    assert info.value.field == field
    assert info.value.value in (generator, lead)
    assert allowed in info.value.allowed


def test_lead_alias_is_accepted() -> None:
    gen, lead = service.catalogue_models("Model 106", "3mm")
    assert (gen.id, lead.id) == ("106", "304-30")


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"generator_model": "gammacore-sapphire-cv"}, "generator_model"),
        ({"lead_model": "ear-clip"}, "lead_model"),
        ({"generator_serial": "has space"}, "generator_serial"),
        ({"generator_serial": "S" * 33}, "generator_serial"),
        ({"implanted_at": "2025-01-01T00:00:00"}, "implanted_at"),  # naive: refused
        ({"extra": 1}, "extra"),
    ],
)
def test_register_rejects_bad_bodies(
    client: TestClient, team: Team, overrides: dict, loc: str
) -> None:
    body = {"generator_model": "1000", "generator_serial": "SN-1", **overrides}
    r = client.post(
        f"{API}/patients/{team.patient.id}/implants", json=body, headers=team.as_clinician
    )
    assert r.status_code == 422
    assert loc in str(r.json()["detail"][0]["loc"])


def test_register_rejects_a_future_implantation(
    client: TestClient, team: Team, clock: dict
) -> None:
    body = {"generator_model": "1000", "generator_serial": "SN-1"}
    body["implanted_at"] = (T0 + timedelta(days=1)).isoformat()
    r = client.post(
        f"{API}/patients/{team.patient.id}/implants", json=body, headers=team.as_clinician
    )
    assert r.status_code == 422
    detail = r.json()["detail"][0]
    assert detail["field"] == "implanted_at"
    assert "not after now" in detail["allowed"]


def test_duplicates_conflict(client: TestClient, team: Team, db: Session) -> None:
    register(client, team.as_clinician, team.patient.id)
    other = new_patient(db, team.nurse, "IMP-2")
    same_serial = {"generator_model": "106", "generator_serial": "SN-0001"}
    r = client.post(
        f"{API}/patients/{other.id}/implants", json=same_serial, headers=team.as_clinician
    )
    assert r.status_code == 409
    assert "serial" in r.json()["detail"]
    second = {"generator_model": "106", "generator_serial": "SN-0002"}
    r = client.post(
        f"{API}/patients/{team.patient.id}/implants", json=second, headers=team.as_clinician
    )
    assert r.status_code == 409
    assert "active implant" in r.json()["detail"]


def test_only_clinicians_register(client: TestClient, team: Team) -> None:
    body = {"generator_model": "1000", "generator_serial": "SN-1"}
    for user in (team.nurse, team.patient_user):
        r = client.post(
            f"{API}/patients/{team.patient.id}/implants", json=body, headers=team.headers(user)
        )
        assert r.status_code == 403


def test_patient_reads_only_their_own_implant(
    client: TestClient, team: Team, db: Session, make_user
) -> None:
    own = register(client, team.as_clinician, team.patient.id)
    other_patient = new_patient(db, team.nurse, "IMP-3", make_user("patient").id)
    theirs = register(client, team.as_clinician, other_patient.id, generator_serial="SN-9")
    me = team.headers(team.patient_user)
    r = client.get(f"{API}/implants/{own['id']}", headers=me)
    assert r.status_code == 200
    assert r.json()["settings"]["output_current_mA"] == 0.0
    listed = client.get(f"{API}/patients/{team.patient.id}/implants", headers=me).json()
    assert [i["id"] for i in listed["items"]] == [own["id"]]
    other = client.get(f"{API}/implants/{theirs['id']}", headers=me)
    missing = client.get(f"{API}/implants/999999", headers=me)
    assert other.status_code == missing.status_code == 404
    assert other.json()["detail"].replace(str(theirs["id"]), "N") == missing.json()[
        "detail"
    ].replace("999999", "N")
    assert client.get(f"{API}/patients/{other_patient.id}/implants", headers=me).status_code == 404
    # a patient has no programming access, even to their own implant
    r = client.post(f"{API}/implants/{own['id']}/programming-sessions", headers=me)
    assert r.status_code == 403


def test_admin_reads_no_implants(client: TestClient, team: Team, as_role) -> None:
    own = register(client, team.as_clinician, team.patient.id)
    assert client.get(f"{API}/implants/{own['id']}", headers=as_role("admin")).status_code == 403


def test_explant_and_replace(client: TestClient, team: Team, db: Session) -> None:
    first = register(client, team.as_clinician, team.patient.id)
    url = f"{API}/implants/{first['id']}"
    stale = {"version": 7, "reason": "end of service"}
    stale_body = {**stale, "generator_model": "1000", "generator_serial": "SN-2"}
    r = client.post(f"{url}/replace", json=stale_body, headers=team.as_clinician)
    assert r.status_code == 409
    new = client.post(
        f"{url}/replace",
        json={"version": 1, "reason": "battery at EOS", "generator_model": "106",
              "generator_serial": "SN-2"},
        headers=team.as_clinician,
    )  # fmt: skip
    assert new.status_code == 201, new.text
    replacement = new.json()
    assert replacement["replaces_id"] == first["id"]
    assert replacement["lead_model"] == "304-20"  # the lead stays
    old = client.get(url, headers=team.as_clinician).json()
    assert old["status"] == "replaced"
    assert old["end_reason"] == "battery at EOS"
    assert client.post(f"{url}/programming-sessions", headers=team.as_clinician).status_code == 409

    r = client.post(
        f"{API}/implants/{replacement['id']}/explant",
        json={"version": replacement["version"], "reason": "infection"},
        headers=team.as_clinician,
    )
    assert r.status_code == 200
    assert r.json()["status"] == "explanted"
    actions = db.scalars(
        select(AuditEntry.action).where(AuditEntry.entity == "implant").order_by(AuditEntry.id)
    ).all()
    assert actions == ["create", "replace", "create", "explant"]


def test_a_patient_with_an_implant_cannot_be_deleted(client: TestClient, team: Team) -> None:
    register(client, team.as_clinician, team.patient.id)
    r = client.delete(f"{API}/patients/{team.patient.id}", headers=team.as_clinician)
    assert r.status_code == 409
