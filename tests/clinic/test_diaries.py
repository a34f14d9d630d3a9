"""Diaries over the API: role rules, one entry per date, corrections, validation, audit."""

# ruff: noqa: F811 (the make_patient fixture is imported from diary_helpers)

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from openvns.clinic.audit.models import AuditEntry
from openvns.clinic.auth.models import Role
from openvns.clinic.db.session import transaction
from openvns.clinic.demo import side_effect_kind
from openvns.clinic.diaries.models import (
    NAMED_KINDS,
    REPORTABLE_KINDS,
    SIDE_EFFECT_LABELS,
    PainEntry,
    Severity,
    SideEffectKind,
    SideEffectReport,
)
from openvns.clinic.diaries.service import earliest_entry_date, latest_entry_date
from openvns.physiology.model import SIDE_EFFECTS
from tests.clinic.conftest import HeadersFactory
from tests.clinic.diary_helpers import PatientFactory, make_patient  # noqa: F401

TODAY = date.today()
BPI = {
    "worst": 8, "least": 2, "average": 5, "now": 4, "general_activity": 6, "mood": 5,
    "walking": 4, "work": 7, "relations": 3, "sleep": 6, "enjoyment": 4,
}  # fmt: skip


def url(patient_id: int, kind: str = "pain", suffix: str = "") -> str:
    return f"/api/v1/patients/{patient_id}/diary/{kind}{suffix}"


def audit_rows(db: Session, entity: str, entity_id: int) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.entity == entity, AuditEntry.entity_id == entity_id)
    return list(db.scalars(query.order_by(AuditEntry.id)).all())


def post(client: TestClient, headers: dict[str, str], path: str, body: dict[str, Any]) -> Any:
    r = client.post(path, json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_patient_writes_and_reads_own_pain_audited(
    client: TestClient, db: Session, make_patient: PatientFactory
) -> None:
    me = make_patient()
    entry = post(client, me.headers, url(me.id), {"entry_date": str(TODAY), "pain_nrs": 7})
    assert entry["pain_nrs"] == 7
    assert entry["patient_id"] == me.id
    page = client.get(url(me.id), headers=me.headers).json()
    assert [e["pain_nrs"] for e in page["items"]] == [7]
    assert page["total"] == 1
    rows = audit_rows(db, "pain_entry", entry["id"])
    assert [(r.action, r.actor_id) for r in rows] == [("create", me.user.id)]
    assert rows[0].after is not None
    assert rows[0].after["pain_nrs"] == 7


def test_one_entry_per_date_and_audited_correction(
    client: TestClient, db: Session, make_patient: PatientFactory
) -> None:
    me = make_patient()
    day = str(TODAY - timedelta(days=1))
    entry = post(client, me.headers, url(me.id), {"entry_date": day, "pain_nrs": 7})
    again = client.post(url(me.id), json={"entry_date": day, "pain_nrs": 3}, headers=me.headers)
    assert again.status_code == 409
    assert "PUT" in again.json()["detail"]
    fixed = client.put(url(me.id, suffix=f"/{day}"), json={"pain_nrs": 3}, headers=me.headers)
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["id"] == entry["id"]
    assert fixed.json()["pain_nrs"] == 3
    rows = audit_rows(db, "pain_entry", entry["id"])
    assert [r.action for r in rows] == ["create", "correct"]
    assert rows[1].before is not None
    assert rows[1].after is not None
    assert (rows[1].before["pain_nrs"], rows[1].after["pain_nrs"]) == (7, 3)
    # the same values again change nothing and add no audit row
    same = client.put(url(me.id, suffix=f"/{day}"), json={"pain_nrs": 3}, headers=me.headers)
    assert same.status_code == 200
    assert len(audit_rows(db, "pain_entry", entry["id"])) == 2
    missing = client.put(url(me.id, suffix="/2001-01-01"), json={"pain_nrs": 3}, headers=me.headers)
    assert missing.status_code == 404


def test_future_dates_are_rejected(client: TestClient, make_patient: PatientFactory) -> None:
    me = make_patient()
    future = latest_entry_date() + timedelta(days=1)
    for kind, body in (("pain", {"pain_nrs": 2}), ("pgic", {"score": 3}), ("bpi", BPI)):
        r = client.post(url(me.id, kind), json={**body, "entry_date": str(future)},
                        headers=me.headers)  # fmt: skip
        assert r.status_code == 422, r.text
        (detail,) = r.json()["detail"]
        assert detail["field"] == "entry_date"
        assert "future" in detail["allowed"]
    too_old = earliest_entry_date() - timedelta(days=1)
    r = client.post(
        url(me.id), json={"entry_date": str(too_old), "pain_nrs": 2}, headers=me.headers
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "entry_date"
    ok = client.post(url(me.id), json={"entry_date": str(TODAY), "pain_nrs": 2},
                     headers=me.headers)  # fmt: skip
    assert ok.status_code == 201
    assert latest_entry_date() >= TODAY


def _loc(response: Any) -> list[list[Any]]:
    assert response.status_code == 422, response.text
    return [d["loc"] for d in response.json()["detail"]]


def test_validation_messages_name_the_field(
    client: TestClient, make_patient: PatientFactory
) -> None:
    me = make_patient()
    day = str(TODAY)
    bad_pain = client.post(url(me.id), json={"entry_date": day, "pain_nrs": 11}, headers=me.headers)
    assert ["body", "pain_nrs"] in _loc(bad_pain)
    bad_pgic = client.post(url(me.id, "pgic"), json={"entry_date": day, "score": 0},
                           headers=me.headers)  # fmt: skip
    assert ["body", "score"] in _loc(bad_pgic)
    bpi = {k: v for k, v in BPI.items() if k != "sleep"}
    bad_bpi = client.post(url(me.id, "bpi"), json={**bpi, "entry_date": day}, headers=me.headers)
    assert ["body", "sleep"] in _loc(bad_bpi)
    other = {"entry_date": day, "kind": "other", "severity": "mild"}
    no_text = client.post(url(me.id, "side-effects"), json=other, headers=me.headers)
    assert any(loc[-1] == "description" for loc in _loc(no_text))
    bad_severity = {"entry_date": day, "kind": "voice", "severity": "awful"}
    r = client.post(url(me.id, "side-effects"), json=bad_severity, headers=me.headers)
    assert any(loc[-1] == "severity" for loc in _loc(r))
    text_on_named = {"entry_date": day, "kind": "voice", "severity": "mild", "description": "x"}
    r = client.post(url(me.id, "side-effects"), json=text_on_named, headers=me.headers)
    assert any(loc[-1] == "description" for loc in _loc(r))
    bad_date = client.post(url(me.id), json={"entry_date": "yesterday", "pain_nrs": 1},
                           headers=me.headers)  # fmt: skip
    assert ["body", "entry_date"] in _loc(bad_date)


def test_role_rules(
    client: TestClient, make_patient: PatientFactory, as_role: HeadersFactory
) -> None:
    me, other = make_patient(), make_patient()
    post(client, other.headers, url(other.id), {"entry_date": str(TODAY), "pain_nrs": 5})
    body = {"entry_date": str(TODAY), "pain_nrs": 1}
    # another patient's diary does not exist for me
    for kind in ("pain", "pgic", "bpi", "side-effects"):
        assert client.get(url(other.id, kind), headers=me.headers).status_code == 404
    assert client.post(url(other.id), json=body, headers=me.headers).status_code == 404
    put = client.put(url(other.id, suffix=f"/{TODAY}"), json={"pain_nrs": 1}, headers=me.headers)
    assert put.status_code == 404
    assert client.get(url(999_999), headers=me.headers).status_code == 404
    # the care team reads every diary and writes none
    for role in (Role.NURSE, Role.CLINICIAN):
        team = as_role(role)
        page = client.get(url(other.id), headers=team)
        assert page.status_code == 200
        assert [e["pain_nrs"] for e in page.json()["items"]] == [5]
        assert client.post(url(other.id), json=body, headers=team).status_code == 403
    assert client.get(url(other.id), headers=as_role(Role.ADMIN)).status_code == 403
    assert client.get(url(other.id)).status_code == 401
    assert client.get(url(999_999), headers=as_role(Role.NURSE)).status_code == 404


def test_pagination_and_date_range(client: TestClient, make_patient: PatientFactory) -> None:
    me = make_patient()
    start = TODAY - timedelta(days=9)
    for i in range(10):
        day = str(start + timedelta(days=i))
        post(client, me.headers, url(me.id), {"entry_date": day, "pain_nrs": i})
    page = client.get(url(me.id), params={"limit": 3, "offset": 3}, headers=me.headers).json()
    assert [e["pain_nrs"] for e in page["items"]] == [3, 4, 5]
    assert (page["total"], page["limit"], page["offset"]) == (10, 3, 3)
    window = {
        "date_from": str(start + timedelta(days=2)),
        "date_to": str(start + timedelta(days=4)),
    }
    page = client.get(url(me.id), params=window, headers=me.headers).json()
    assert [e["pain_nrs"] for e in page["items"]] == [2, 3, 4]
    assert page["total"] == 3
    backwards = {"date_from": window["date_to"], "date_to": window["date_from"]}
    r = client.get(url(me.id), params=backwards, headers=me.headers)
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "date_to"
    assert client.get(url(me.id), params={"limit": 0}, headers=me.headers).status_code == 422


def test_pgic_and_bpi(client: TestClient, db: Session, make_patient: PatientFactory) -> None:
    me = make_patient()
    pgic = post(client, me.headers, url(me.id, "pgic"), {"entry_date": str(TODAY), "score": 2})
    assert pgic["score"] == 2
    bpi = post(client, me.headers, url(me.id, "bpi"), {**BPI, "entry_date": str(TODAY)})
    assert bpi["interference"] == (6 + 5 + 4 + 7 + 3 + 6 + 4) / 7
    fixed = client.put(url(me.id, "bpi", f"/{TODAY}"), json={**BPI, "mood": 0}, headers=me.headers)
    assert fixed.status_code == 200
    assert fixed.json()["interference"] == (6 + 0 + 4 + 7 + 3 + 6 + 4) / 7
    assert [r.action for r in audit_rows(db, "bpi_entry", bpi["id"])] == ["create", "correct"]
    dup = client.post(url(me.id, "pgic"), json={"entry_date": str(TODAY), "score": 3},
                      headers=me.headers)  # fmt: skip
    assert dup.status_code == 409


def test_side_effects_one_per_kind_and_date(
    client: TestClient, db: Session, make_patient: PatientFactory
) -> None:
    me = make_patient()
    day = str(TODAY)
    path = url(me.id, "side-effects")
    voice = post(client, me.headers, path, {"entry_date": day, "kind": "voice", "severity": "mild"})
    other = {"entry_date": day, "kind": "other", "severity": "moderate", "description": "nausea"}
    assert post(client, me.headers, path, other)["description"] == "nausea"
    dup = client.post(path, json={"entry_date": day, "kind": "voice", "severity": "severe"},
                      headers=me.headers)  # fmt: skip
    assert dup.status_code == 409
    fixed = client.put(f"{path}/{day}", json={"kind": "voice", "severity": "severe"},
                       headers=me.headers)  # fmt: skip
    assert fixed.status_code == 200
    assert (fixed.json()["id"], fixed.json()["severity"]) == (voice["id"], "severe")
    rows = audit_rows(db, "side_effect_report", voice["id"])
    assert [r.action for r in rows] == ["create", "correct"]
    absent = client.put(f"{path}/{day}", json={"kind": "dyspnoea", "severity": "mild"},
                        headers=me.headers)  # fmt: skip
    assert absent.status_code == 404
    listed = client.get(path, headers=me.headers).json()
    assert sorted(e["kind"] for e in listed["items"]) == ["other", "voice"]


def test_side_effect_kinds_cover_the_simulator() -> None:
    kinds = [side_effect_kind(name) for name in SIDE_EFFECTS]  # a ValueError for a missing one
    assert all(k in NAMED_KINDS for k in kinds)
    assert len(set(kinds)) == len(kinds)
    fourteen = ("voice", "cough", "throat_pain", "dyspnoea", "laryngismus", "dysphagia",
                "neck_pain", "headache", "paraesthesia", "nausea", "heart_rate",
                "application_site", "dizziness", "muscle_twitch")  # fmt: skip
    assert [k.value for k in NAMED_KINDS] == list(fourteen)
    assert [k.value for k in REPORTABLE_KINDS] == [*fourteen, "other"]
    assert set(SIDE_EFFECT_LABELS) == set(SideEffectKind)
    assert len(set(SIDE_EFFECT_LABELS.values())) == len(SIDE_EFFECT_LABELS)  # told apart in words


def test_every_kind_fits_the_kind_column() -> None:
    width = SideEffectReport.__table__.c.kind.type.length
    assert max(len(k.value) for k in SideEffectKind) <= width
    assert len(SideEffectKind.APPLICATION_SITE.value) == width  # the longest: exactly full


def test_every_reportable_kind_is_accepted_with_its_label(
    client: TestClient, make_patient: PatientFactory
) -> None:
    me = make_patient()
    path = url(me.id, "side-effects")
    for n, kind in enumerate(NAMED_KINDS):
        severity = list(Severity)[n % 3].value
        body = {"entry_date": str(TODAY), "kind": kind.value, "severity": severity}
        made = post(client, me.headers, path, body)
        assert (made["kind"], made["severity"], made["label"]) == (
            kind.value, severity, SIDE_EFFECT_LABELS[kind]
        )  # fmt: skip
    other = {"entry_date": str(TODAY), "kind": "other", "severity": "mild", "description": "rash"}
    assert post(client, me.headers, path, other)["label"] == "Something else"
    listed = client.get(path, headers=me.headers).json()
    assert {e["kind"] for e in listed["items"]} == {k.value for k in REPORTABLE_KINDS}
    fixed = client.put(f"{path}/{TODAY}", json={"kind": "heart_rate", "severity": "severe"},
                       headers=me.headers)  # fmt: skip
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["severity"] == "severe"


def test_unknown_and_legacy_kinds_are_refused_naming_kind_and_the_allowed_values(
    client: TestClient, make_patient: PatientFactory
) -> None:
    me = make_patient()
    path = url(me.id, "side-effects")
    allowed = [k.value for k in REPORTABLE_KINDS]
    for kind in ("tinnitus", "throat_cough", "", 7):
        for r in (
            client.post(path, json={"entry_date": str(TODAY), "kind": kind, "severity": "mild"},
                        headers=me.headers),
            client.put(f"{path}/{TODAY}", json={"kind": kind, "severity": "mild"},
                       headers=me.headers),
        ):  # fmt: skip
            assert r.status_code == 422, r.text
            (error,) = r.json()["detail"]
            assert error["loc"][-1] == "kind"
            assert error["ctx"]["allowed"] == allowed
            assert error["msg"].startswith("kind must be one of 'voice', 'cough'")
            assert error["msg"].endswith("'muscle_twitch' or 'other'")


def test_legacy_throat_cough_reports_are_read_back(
    client: TestClient, db: Session, make_patient: PatientFactory
) -> None:
    me = make_patient()
    with transaction(db):
        db.add(SideEffectReport(patient_id=me.id, entry_date=TODAY, kind="throat_cough",
                                severity="moderate"))  # fmt: skip
        for days_back in range(35):
            db.add(PainEntry(patient_id=me.id, entry_date=TODAY - timedelta(days_back),
                             pain_nrs=6))  # fmt: skip
    (item,) = client.get(url(me.id, "side-effects"), headers=me.headers).json()["items"]
    assert (item["kind"], item["severity"]) == ("throat_cough", "moderate")
    assert item["label"] == "Throat pain or cough (earlier combined item)"
    out = client.get(f"/api/v1/patients/{me.id}/outcomes", headers=me.headers)
    assert out.status_code == 200
    courses = {c["kind"]: c for c in out.json()["side_effects"]}
    assert set(courses) == {k.value for k in SideEffectKind}  # the legacy kind: reported here
    assert any(w["worst_severity"] == "moderate" for w in courses["throat_cough"]["weeks"])


def test_openapi_carries_the_constraints(client: TestClient) -> None:
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    pain = schemas["PainCreate"]["properties"]["pain_nrs"]
    assert (pain["minimum"], pain["maximum"]) == (0, 10)
    score = schemas["PGICCreate"]["properties"]["score"]
    assert (score["minimum"], score["maximum"]) == (1, 7)
    assert set(schemas["Severity"]["enum"]) == {"mild", "moderate", "severe"}
    assert schemas["OtherSideEffectCreate"]["properties"]["description"]["minLength"] == 1
    assert "description" in schemas["OtherSideEffectCreate"]["required"]
    assert schemas["PainCreate"]["additionalProperties"] is False
