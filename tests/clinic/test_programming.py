"""Programming: interrogate, diagnose, propose, check, program, verify; conflicts; titration."""
# ruff: noqa: F811 (the team and clock fixtures are imported from implant_helpers)

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import hypothesis
import pytest
from fastapi.testclient import TestClient
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from openvns.clinic.audit.models import AuditEntry
from openvns.clinic.db.session import transaction
from openvns.clinic.errors import ConflictError
from openvns.clinic.implants.models import Implant
from openvns.clinic.implants.schemas import StimulationSettingsBody
from openvns.clinic.programming import service as programming
from openvns.device import UnsafeSettingsError, check
from tests.clinic.implant_helpers import (  # noqa: F401
    API,
    T0,
    TYPICAL,
    Team,
    clock,
    new_patient,
    register,
    start,
    stored,
    team,
)

Json = dict[str, Any]


def propose(client: TestClient, headers: dict[str, str], sid: int, settings: Json) -> Json:
    r = client.post(
        f"{API}/programming-sessions/{sid}/proposals", json={"settings": settings}, headers=headers
    )
    assert r.status_code == 201, r.text
    out: Json = r.json()
    return out


def confirm(
    client: TestClient,
    headers: dict[str, str],
    sid: int,
    proposal_id: int,
    version: int,
    **extra: Any,
) -> Any:
    body = {"proposal_id": proposal_id, "implant_version": version, **extra}
    return client.post(f"{API}/programming-sessions/{sid}/program", json=body, headers=headers)


def test_full_programming_flow(client: TestClient, team: Team, db: Session) -> None:
    implant = register(client, team.as_clinician, team.patient.id)
    started = start(client, team.as_clinician, implant["id"])
    sid, seen = started["session"]["id"], started["interrogation"]
    assert seen["implant_version"] == 1
    assert seen["settings"]["output_current_mA"] == 0.0
    assert seen["lead_impedance_ohm"] is None
    assert seen["battery_indicator"] == "OK"

    diag = client.post(f"{API}/programming-sessions/{sid}/diagnostics", headers=team.as_clinician)
    assert diag.status_code == 200, diag.text
    assert diag.json()["impedance_status"] == "OK"
    assert diag.json()["output_status"] == "OK"
    version = diag.json()["implant_version"]
    assert version == 2  # diagnostics are stored on the implant
    seen = client.get(f"{API}/programming-sessions/{sid}/interrogation", headers=team.as_clinician)
    assert seen.json()["impedance_status"] == "OK"
    assert seen.json()["last_diagnostics_at"]

    settings = {**TYPICAL, "magnet": {"output_current_mA": 1.75, "pulse_width_us": 500,
                                      "on_time_s": 60}}  # fmt: skip
    proposal = propose(client, team.as_clinician, sid, settings)
    assert proposal["ok"] is True
    assert proposal["errors"] == []
    assert proposal["status"] == "checked"
    r = confirm(client, team.as_clinician, sid, proposal["id"], version, settings=settings)
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["before"]["output_current_mA"] == 0.0
    assert result["after"] == StimulationSettingsBody.model_validate(settings).model_dump()
    assert result["verified"] is True
    assert result["interrogation"]["implant_version"] == 3
    assert result["interrogation"]["programming_count"] == 1

    again = confirm(client, team.as_clinician, sid, proposal["id"], 3)
    assert again.status_code == 409  # a proposal reaches the implant once

    entry = db.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "program", AuditEntry.entity_id == implant["id"]
        )
    ).one()
    assert entry.before is not None
    assert entry.after is not None
    assert entry.before["settings"]["output_current_mA"] == 0.0
    assert entry.after["settings"]["output_current_mA"] == 1.5
    assert entry.after["settings"]["magnet"]["on_time_s"] == 60
    assert (entry.before["version"], entry.after["version"]) == (2, 3)
    assert entry.actor_id == team.clinician.id


def test_blocked_settings_are_refused_with_every_error(
    client: TestClient, team: Team, db: Session
) -> None:
    implant = register(client, team.as_clinician, team.patient.id, generator_model="105")
    sid = start(client, team.as_clinician, implant["id"])["session"]["id"]
    unsafe = {**TYPICAL, "output_current_mA": 3.5, "pulse_width_us": 1000, "frequency_Hz": 30,
              "autostim": {"threshold_pct": 20, "output_current_mA": 1, "pulse_width_us": 250,
                           "on_time_s": 30}}  # fmt: skip
    proposal = propose(client, team.as_clinician, sid, unsafe)
    assert proposal["ok"] is False
    codes = {e["code"] for e in proposal["errors"]}
    assert codes == {"shannon_k_block", "feature_unavailable"}
    assert all(e["field"] and e["allowed"] for e in proposal["errors"])
    before = stored(db, implant["id"])
    r = confirm(client, team.as_clinician, sid, proposal["id"], 1)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert {d["field"] for d in detail} == {"output_current_mA", "autostim"}
    assert all({"field", "value", "allowed", "msg"} <= d.keys() for d in detail)
    assert stored(db, implant["id"]) == before
    refused = db.scalars(select(AuditEntry).where(AuditEntry.action == "program")).all()
    assert refused == []


def test_confirmation_must_carry_the_proposed_settings(client: TestClient, team: Team) -> None:
    implant = register(client, team.as_clinician, team.patient.id)
    sid = start(client, team.as_clinician, implant["id"])["session"]["id"]
    proposal = propose(client, team.as_clinician, sid, TYPICAL)
    other = {**TYPICAL, "output_current_mA": 2.0}
    r = confirm(client, team.as_clinician, sid, proposal["id"], 1, settings=other)
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "settings"
    assert confirm(client, team.as_clinician, sid, 99999, 1).status_code == 404


def test_concurrent_programming_conflict(client: TestClient, team: Team) -> None:
    implant = register(client, team.as_clinician, team.patient.id)
    first, second = team.headers(team.clinician), team.headers(team.clinician2)
    s1, s2 = start(client, first, implant["id"]), start(client, second, implant["id"])
    v = s1["interrogation"]["implant_version"]
    assert s2["interrogation"]["implant_version"] == v
    p1 = propose(client, first, s1["session"]["id"], {**TYPICAL, "output_current_mA": 1.0})
    p2 = propose(client, second, s2["session"]["id"], {**TYPICAL, "output_current_mA": 2.0})

    assert confirm(client, first, s1["session"]["id"], p1["id"], v).status_code == 200
    late = confirm(client, second, s2["session"]["id"], p2["id"], v)
    assert late.status_code == 409
    assert f"not {v}" in late.json()["detail"]
    assert "interrogate it again" in late.json()["detail"]

    now = client.get(
        f"{API}/programming-sessions/{s2['session']['id']}/interrogation", headers=second
    )
    assert now.json()["settings"]["output_current_mA"] == 1.0
    assert now.json()["implant_version"] == v + 1


def test_role_rules(client: TestClient, team: Team) -> None:
    implant = register(client, team.as_clinician, team.patient.id)
    nurse = team.headers(team.nurse)
    started = start(client, nurse, implant["id"])  # nurses may open a session ...
    sid = started["session"]["id"]
    assert (
        client.get(f"{API}/programming-sessions/{sid}/interrogation", headers=nurse).status_code
        == 200
    )
    assert (
        client.post(f"{API}/programming-sessions/{sid}/diagnostics", headers=nurse).status_code
        == 200
    )
    # ... but not propose, program or plan
    r = client.post(
        f"{API}/programming-sessions/{sid}/proposals", json={"settings": TYPICAL}, headers=nurse
    )
    assert r.status_code == 403
    proposal = propose(client, team.as_clinician, sid, TYPICAL)
    assert confirm(client, nurse, sid, proposal["id"], 2).status_code == 403
    plan = {"protocol": "1.0 mA; 20 Hz; 250 us; 30 s on / 5 min off", "implant_version": 2}
    r = client.post(f"{API}/programming-sessions/{sid}/titration-plans", json=plan, headers=nurse)
    assert r.status_code == 403
    patient = team.headers(team.patient_user)
    assert client.get(f"{API}/programming-sessions/{sid}", headers=patient).status_code == 403
    closed = client.post(f"{API}/programming-sessions/{sid}/close", headers=nurse)
    assert closed.json()["status"] == "closed"
    assert confirm(client, team.as_clinician, sid, proposal["id"], 2).status_code == 409


# --- unsafe settings never reach the implant ----------------------------------------------------

_CURRENT = st.sampled_from([0.0, 0.25, 0.3, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 1.125, 0.1])
_FREQ = st.sampled_from([1.0, 5.0, 20.0, 25.0, 30.0, 12.0])
_PW = st.sampled_from([130.0, 250.0, 500.0, 750.0, 1000.0, 300.0])
_ON = st.sampled_from([7.0, 30.0, 60.0, 45.0])
_OFF = st.sampled_from([0.2, 0.5, 3.0, 5.0, 180.0, 4.0])
_MAGNET = st.none() | st.fixed_dictionaries(
    {"output_current_mA": _CURRENT, "pulse_width_us": _PW, "on_time_s": _ON}
)
_SETTINGS = st.fixed_dictionaries(
    {"output_current_mA": _CURRENT, "frequency_Hz": _FREQ, "pulse_width_us": _PW,
     "on_time_s": _ON, "off_time_min": _OFF, "magnet": _MAGNET}
)  # fmt: skip


@hypothesis.settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)
@hypothesis.given(settings=_SETTINGS)
def test_unsafe_settings_never_reach_the_implant(
    client: TestClient, team: Team, db: Session, settings: Json
) -> None:
    implant_id = getattr(team, "_implant_id", None)
    if implant_id is None:  # one implant and session for every example of this test
        implant_id = register(client, team.as_clinician, team.patient.id, generator_model="106")[
            "id"
        ]
        team._implant_id = implant_id  # type: ignore[attr-defined]
        team._sid = start(client, team.as_clinician, implant_id)["session"]["id"]  # type: ignore[attr-defined]
    sid: int = team._sid  # type: ignore[attr-defined]
    state, version = stored(db, implant_id)
    report = check(StimulationSettingsBody.model_validate(settings).to_device(), "106", "304-20")
    hypothesis.event("allowed" if report.ok else "blocked")
    proposal = propose(client, team.as_clinician, sid, settings)
    assert proposal["ok"] is report.ok
    r = confirm(client, team.as_clinician, sid, proposal["id"], version)
    if report.ok:
        assert r.status_code == 200, r.text
        assert r.json()["after"] == StimulationSettingsBody.model_validate(settings).model_dump()
    else:
        assert r.status_code == 422
        assert stored(db, implant_id) == (state, version)  # nothing reached the implant
        assert {d["field"] for d in r.json()["detail"]} == {e.field for e in report.errors}


# --- titration plans applied by the implant over simulated time --------------------------------

PROTOCOL = (
    "titrate from 0.25 mA by 0.25 mA every 14 days to 1.0 mA; 20 Hz; 250 us; 30 s on / 5 min off"
)


def test_titration_plan_is_applied_by_the_implant(
    client: TestClient, team: Team, clock: dict, db: Session
) -> None:
    implant = register(client, team.as_clinician, team.patient.id)
    sid = start(client, team.as_clinician, implant["id"])["session"]["id"]
    body = {"protocol": PROTOCOL, "implant_version": 1}
    r = client.post(
        f"{API}/programming-sessions/{sid}/titration-plans", json=body, headers=team.as_clinician
    )
    assert r.status_code == 201, r.text
    plan = r.json()
    assert [s["output_current_mA"] for s in plan["steps"]] == [0.25, 0.5, 0.75, 1.0]
    assert plan["steps"][1]["time"].startswith("2026-01-19T09:00")
    version = stored(db, implant["id"])[1]
    interrogation = f"{API}/programming-sessions/{sid}/interrogation"

    def current_at(days: float) -> tuple[float, int]:
        clock["now"] = T0 + timedelta(days=days)
        seen = client.get(interrogation, headers=team.as_clinician).json()
        return seen["settings"]["output_current_mA"], len(seen["scheduled_steps"])

    assert current_at(0) == (0.25, 3)
    assert current_at(13.9) == (0.25, 3)
    assert current_at(14.01) == (0.5, 2)
    assert current_at(29) == (0.75, 1)
    assert current_at(60) == (1.0, 0)
    assert stored(db, implant["id"])[1] == version  # reading never changes the implant
    summary = client.get(f"{API}/implants/{implant['id']}", headers=team.headers(team.patient_user))
    assert summary.json()["settings"]["output_current_mA"] == 1.0
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "titration_plan")).one()
    assert entry.before is not None
    assert entry.after is not None
    assert entry.before["scheduled_steps"] == []
    assert len(entry.after["scheduled_steps"]) == 3
    listed = client.get(
        f"{API}/implants/{implant['id']}/titration-plans", headers=team.as_clinician
    )
    assert [p["status"] for p in listed.json()] == ["active"]


def test_a_later_start_schedules_every_step(client: TestClient, team: Team, clock: dict) -> None:
    implant = register(client, team.as_clinician, team.patient.id)
    sid = start(client, team.as_clinician, implant["id"])["session"]["id"]
    body = {
        "protocol": PROTOCOL,
        "implant_version": 1,
        "start_at": (T0 + timedelta(days=14)).isoformat(),
    }
    r = client.post(
        f"{API}/programming-sessions/{sid}/titration-plans", json=body, headers=team.as_clinician
    )
    assert r.status_code == 201, r.text
    seen = client.get(
        f"{API}/programming-sessions/{sid}/interrogation", headers=team.as_clinician
    ).json()
    assert seen["settings"]["output_current_mA"] == 0.0
    assert len(seen["scheduled_steps"]) == 4


@pytest.mark.parametrize(
    ("generator", "protocol", "field"),
    [
        ("105", PROTOCOL, "scheduled_programming"),  # only SenTiva has Scheduled Programming
        ("1000", "titrate slowly", "protocol"),
        ("1000", "titrate from 0.25 mA by 0.25 mA every 14 days to 3.5 mA; 30 Hz; 1000 us; "
                 "30 s on / 5 min off", "output_current_mA"),  # Shannon k blocks the top steps
        ("1000", "1.0 mA; 20 Hz; 250 us; 30 s on / 4 min off", "off_time_min"),  # not selectable
    ],
)  # fmt: skip
def test_plans_are_checked(
    client: TestClient, team: Team, db: Session, generator: str, protocol: str, field: str
) -> None:
    implant = register(client, team.as_clinician, team.patient.id, generator_model=generator)
    sid = start(client, team.as_clinician, implant["id"])["session"]["id"]
    before = stored(db, implant["id"])
    body = {"protocol": protocol, "implant_version": 1}
    r = client.post(
        f"{API}/programming-sessions/{sid}/titration-plans", json=body, headers=team.as_clinician
    )
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["field"] == field
    assert stored(db, implant["id"]) == before


def test_a_plan_needs_the_current_version(client: TestClient, team: Team) -> None:
    implant = register(client, team.as_clinician, team.patient.id)
    sid = start(client, team.as_clinician, implant["id"])["session"]["id"]
    client.post(f"{API}/programming-sessions/{sid}/diagnostics", headers=team.as_clinician)
    body = {"protocol": PROTOCOL, "implant_version": 1}
    r = client.post(
        f"{API}/programming-sessions/{sid}/titration-plans", json=body, headers=team.as_clinician
    )
    assert r.status_code == 409


def test_a_race_past_the_version_check_is_a_conflict(
    client: TestClient, team: Team, db: Session
) -> None:
    """Two requests that both pass the version check: the second flush finds the row moved on."""
    body = register(client, team.as_clinician, team.patient.id)
    sid = start(client, team.as_clinician, body["id"])["session"]["id"]
    proposal = propose(client, team.as_clinician, sid, TYPICAL)
    db.expire_all()
    implant = db.get(Implant, body["id"])
    assert implant is not None
    assert implant.version == 1
    with transaction(db):  # another request commits a change meanwhile (behind the ORM's back)
        stmt = update(Implant).where(Implant.id == body["id"]).values(version=2)
        db.execute(stmt, execution_options={"synchronize_session": False})
    with pytest.raises(ConflictError, match="changed by someone else"):
        programming.program(db, team.clinician, sid, proposal["id"], 1)
    db.rollback()
    assert stored(db, body["id"])[1] == 2


@hypothesis.settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)
@hypothesis.given(
    current=st.sampled_from([0.0, 0.25, 1.0, 1.5, 3.5]) | st.floats(0, 20, allow_nan=False),
    pulse_width=st.sampled_from([130.0, 250.0, 1000.0]) | st.floats(0, 2000, allow_nan=False),
    frequency=st.sampled_from([0.0, 1.0, 20.0, 30.0, 100.0]),
)
def test_the_service_never_programs_what_the_check_blocks(
    client: TestClient,
    team: Team,
    db: Session,
    current: float,
    pulse_width: float,
    frequency: float,
) -> None:
    """The same property through the service, beyond the API's outer bounds."""
    cache = team.__dict__.setdefault("_service_case", {})
    if not cache:
        cache["implant"] = register(client, team.as_clinician, team.patient.id)["id"]
        cache["sid"] = start(client, team.as_clinician, cache["implant"])["session"]["id"]
    settings = StimulationSettingsBody.model_construct(
        output_current_mA=current, frequency_Hz=frequency, pulse_width_us=pulse_width,
        on_time_s=30.0, off_time_min=5.0, magnet=None, autostim=None,
    ).to_device()  # fmt: skip
    state, version = stored(db, cache["implant"])
    with transaction(db):
        proposal, report = programming.propose(db, team.clinician, cache["sid"], settings)
    hypothesis.event("allowed" if report.ok else "blocked")
    if report.ok:
        with transaction(db):
            programming.program(db, team.clinician, cache["sid"], proposal.id, version)
        assert stored(db, cache["implant"])[1] == version + 1
    else:
        with pytest.raises(UnsafeSettingsError), transaction(db):
            programming.program(db, team.clinician, cache["sid"], proposal.id, version)
        assert stored(db, cache["implant"]) == (state, version)


def test_programming_appears_in_the_patients_settings_history(
    client: TestClient, team: Team, db: Session
) -> None:
    implant = register(client, team.as_clinician, team.patient.id)
    started = start(client, team.as_clinician, implant["id"])
    sid, version = started["session"]["id"], started["interrogation"]["implant_version"]
    proposal = propose(client, team.as_clinician, sid, TYPICAL)
    assert confirm(client, team.as_clinician, sid, proposal["id"], version).status_code == 200
    r = client.get(f"{API}/patients/{team.patient.id}/outcomes/timeline", headers=team.as_clinician)
    assert r.status_code == 200, r.text
    events = [(e["entity"], e["entity_id"], e["action"]) for e in r.json()["settings_history"]]
    assert events == [("implant", implant["id"], "create"), ("implant", implant["id"], "program")]
    # another patient's history does not show this implant
    other = new_patient(db, team.nurse, "IMP-OTHER")
    r = client.get(f"{API}/patients/{other.id}/outcomes/timeline", headers=team.as_clinician)
    assert r.status_code == 200
    assert r.json()["settings_history"] == []


def test_programmed_current_is_drawn_on_the_outcome_time_axis(
    client: TestClient, team: Team, db: Session
) -> None:
    from openvns.clinic.outcomes.figures import current_steps
    from openvns.clinic.outcomes.service import patient_outcomes
    from openvns.clinic.ui.pages.outcomes import trend_chart
    from tests.clinic.test_outcomes import add_pain

    # 28 diary days before today's programming (the baseline) and 14 after it
    today = datetime.now(UTC).date()
    add_pain(db, team.patient.id, [6] * 28 + [4] * 14, start=today - timedelta(days=28))
    implant = register(client, team.as_clinician, team.patient.id)
    started = start(client, team.as_clinician, implant["id"])
    sid, version = started["session"]["id"], started["interrogation"]["implant_version"]
    proposal = propose(client, team.as_clinician, sid, TYPICAL)
    assert confirm(client, team.as_clinician, sid, proposal["id"], version).status_code == 200
    outcomes = patient_outcomes(db, team.clinician, team.patient.id)
    steps = current_steps(outcomes)
    assert [mA for _, mA in steps] == [0.0, TYPICAL["output_current_mA"]]
    assert outcomes.baseline is not None
    assert outcomes.baseline.end_date == today - timedelta(days=1)
    # the page's trend chart marks the changes on the diary's week axis (week 1)
    chart = trend_chart(outcomes)
    assert chart is not None
    assert len(chart.settings_marks) == 2
    week1_x = next(x for x, label in chart.x_labels if label == "w1")
    assert all(x == week1_x for x, _ in chart.settings_marks)
    assert "1.5 mA" in chart.settings_marks[-1][1]


def test_autostim_is_programmed_where_the_model_has_it(
    client: TestClient, team: Team, db: Session
) -> None:
    implant = register(client, team.as_clinician, team.patient.id)  # SenTiva 1000: AutoStim
    started = start(client, team.as_clinician, implant["id"])
    sid, version = started["session"]["id"], started["interrogation"]["implant_version"]
    autostim = {"threshold_pct": 20, "output_current_mA": 1.0, "pulse_width_us": 250,
                "on_time_s": 30}  # fmt: skip
    proposal = propose(client, team.as_clinician, sid, {**TYPICAL, "autostim": autostim})
    assert proposal["ok"] is True, proposal["errors"]
    r = confirm(client, team.as_clinician, sid, proposal["id"], version)
    assert r.status_code == 200, r.text
    programmed = r.json()["interrogation"]["settings"]["autostim"]
    assert programmed["threshold_pct"] == 20
    assert programmed["output_current_mA"] == 1.0
    state, _ = stored(db, implant["id"])
    assert '"autostim"' in state


def test_the_current_input_steps_come_from_the_generator_model() -> None:
    from openvns.clinic.ui.pages.programming import normal_fields

    def steps(model: str) -> dict[str, str]:
        return {name: step for name, _, _, step in normal_fields(model)}

    assert steps("1000")["output_current_mA"] == "0.125"  # SenTiva
    assert steps("103")["output_current_mA"] == "0.25"
    # lists of values (frequency, pulse width, ...) cannot be a browser step
    assert steps("1000")["frequency_Hz"] == "any"
    assert steps("gammacore-sapphire-cv")["output_current_mA"] == "any"  # continuous
