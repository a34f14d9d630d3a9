# ruff: noqa: F811 (the team and clock fixtures are imported from implant_helpers)
"""The programming workflow as a pain clinician meets it (issue 12).

Titration plans are previewed (every step with its safety report), confirmed with the implant
version seen, and audited; a "to tolerance" plan pauses at review points until a clinician
confirms the next step (or stops when the diary reports a severe side effect); a plan that
would lower the output says so and needs confirming; a session belongs to whoever opened it;
the settings history names who, when, and the values before and after.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from openvns.clinic.audit.models import AuditEntry
from openvns.clinic.auth.models import Role
from openvns.clinic.programming import history, plans
from tests.clinic.conftest import UserFactory
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
from tests.clinic.test_pages import HTML, HTMX, _login, make_patient  # noqa: F401

Json = dict[str, Any]

TOLERANCE = (
    "titrate from 0.25 mA by 0.25 mA every 14 days to tolerance, max 1.0 mA; 20 Hz; 250 us; "
    "30 s on / 5 min off"
)
FIXED = (
    "titrate from 0.25 mA by 0.25 mA every 14 days to 1.0 mA; 20 Hz; 250 us; 30 s on / 5 min off"
)


def _session(client: TestClient, team: Team) -> tuple[int, int]:
    implant = register(client, team.as_clinician, team.patient.id)
    return implant["id"], start(client, team.as_clinician, implant["id"])["session"]["id"]


def _preview(client: TestClient, team: Team, sid: int, protocol: str, version: int) -> Any:
    body = {"protocol": protocol, "implant_version": version}
    url = f"{API}/programming-sessions/{sid}/titration-plans/preview"
    return client.post(url, json=body, headers=team.as_clinician)


def _plan(client: TestClient, team: Team, sid: int, **body: Any) -> Any:
    url = f"{API}/programming-sessions/{sid}/titration-plans"
    return client.post(url, json=body, headers=team.as_clinician)


def _interrogate(client: TestClient, team: Team, sid: int) -> Json:
    url = f"{API}/programming-sessions/{sid}/interrogation"
    out: Json = client.get(url, headers=team.as_clinician).json()
    return out


def test_a_preview_lists_every_step_with_its_safety_report(
    client: TestClient, team: Team, db: Session, clock: dict
) -> None:
    implant_id, sid = _session(client, team)
    before = stored(db, implant_id)
    r = _preview(client, team, sid, FIXED, 1)
    assert r.status_code == 200, r.text
    preview = r.json()
    assert [s["settings"]["output_current_mA"] for s in preview["steps"]] == [0.25, 0.5, 0.75, 1.0]
    for step in preview["steps"]:
        assert step["safety"]["ok"] is True
        assert {"errors", "warnings", "notes"} <= set(step["safety"])
    assert preview["ok"] is True
    assert preview["rule"] == "fixed"
    assert preview["change"] == {"old_output_current_mA": 0.0, "new_output_current_mA": 0.25}
    assert preview["lowers_current"] is False
    assert stored(db, implant_id) == before  # a preview changes nothing


def test_a_tolerance_plan_pauses_at_each_review_point(
    client: TestClient, team: Team, db: Session, clock: dict
) -> None:
    """The implant cannot know tolerance: no step after the first reaches it unconfirmed."""
    implant_id, sid = _session(client, team)
    preview = _preview(client, team, sid, TOLERANCE, 1).json()
    assert preview["rule"] == "tolerance"
    assert [s["review"] for s in preview["steps"]] == [False, True, True, True]
    assert [s["status"] for s in preview["steps"]][1:] == ["awaiting_review"] * 3
    assert "review" in preview["message"]
    assert "tolerance" in preview["message"]
    r = _plan(client, team, sid, protocol=TOLERANCE, implant_version=1)
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["state"] == "awaiting_review"
    seen = _interrogate(client, team, sid)
    assert seen["settings"]["output_current_mA"] == 0.25
    assert seen["scheduled_steps"] == []  # no blind ramp in the implant

    clock["now"] = T0 + timedelta(days=30)
    assert _interrogate(client, team, sid)["settings"]["output_current_mA"] == 0.25
    version = stored(db, implant_id)[1]
    url = f"{API}/programming-sessions/{sid}/titration-plans/{plan['id']}/next-step"
    stale = client.post(url, json={"implant_version": version - 1}, headers=team.as_clinician)
    assert stale.status_code == 409
    r = client.post(url, json={"implant_version": version}, headers=team.as_clinician)
    assert r.status_code == 200, r.text
    assert r.json()["applied"] is True
    assert [s["status"] for s in r.json()["plan"]["steps"]] == [
        "programmed",
        "programmed",
        "awaiting_review",
        "awaiting_review",
    ]
    assert _interrogate(client, team, sid)["settings"]["output_current_mA"] == 0.5
    db.expire_all()
    actions = [e.action for e in db.query(AuditEntry).filter_by(entity="implant")]
    assert actions[-1] == "titration_step"


def test_a_step_not_yet_due_is_not_confirmed(
    client: TestClient, team: Team, db: Session, clock: dict
) -> None:
    implant_id, sid = _session(client, team)
    plan = _plan(client, team, sid, protocol=TOLERANCE, implant_version=1).json()
    url = f"{API}/programming-sessions/{sid}/titration-plans/{plan['id']}/next-step"
    r = client.post(
        url, json={"implant_version": stored(db, implant_id)[1]}, headers=team.as_clinician
    )
    assert r.status_code == 409
    assert "due" in r.json()["detail"]


def test_intolerance_in_the_diary_stops_the_plan(
    client: TestClient, team: Team, db: Session, clock: dict
) -> None:
    implant_id, sid = _session(client, team)
    plan = _plan(client, team, sid, protocol=TOLERANCE, implant_version=1).json()
    clock["now"] = T0 + timedelta(days=15)
    report = {
        "entry_date": (T0 + timedelta(days=10)).date().isoformat(),
        "kind": "dyspnoea",
        "severity": "severe",
    }
    url = f"{API}/patients/{team.patient.id}/diary/side-effects"
    r = client.post(url, json=report, headers=team.headers(team.patient_user))
    assert r.status_code == 201, r.text
    url = f"{API}/programming-sessions/{sid}/titration-plans/{plan['id']}/next-step"
    r = client.post(
        url, json={"implant_version": stored(db, implant_id)[1]}, headers=team.as_clinician
    )
    assert r.status_code == 200, r.text
    assert r.json()["applied"] is False
    assert "severe" in r.json()["message"]
    assert r.json()["plan"]["state"] == "stopped"
    assert [s["status"] for s in r.json()["plan"]["steps"]][1:] == ["not_applied"] * 3
    assert _interrogate(client, team, sid)["settings"]["output_current_mA"] == 0.25
    listed = client.get(f"{API}/implants/{implant_id}/titration-plans", headers=team.as_clinician)
    assert [p["state"] for p in listed.json()] == ["stopped"]  # stored
    again = client.post(
        url, json={"implant_version": stored(db, implant_id)[1]}, headers=team.as_clinician
    )
    assert again.status_code == 409


def test_a_plan_that_lowers_the_output_says_so_and_needs_confirming(
    client: TestClient, team: Team, db: Session, clock: dict
) -> None:
    implant_id, sid = _session(client, team)
    proposal = client.post(
        f"{API}/programming-sessions/{sid}/proposals",
        json={"settings": {**TYPICAL, "output_current_mA": 0.5}},
        headers=team.as_clinician,
    ).json()
    r = client.post(
        f"{API}/programming-sessions/{sid}/program",
        json={"proposal_id": proposal["id"], "implant_version": 1},
        headers=team.as_clinician,
    )
    assert r.status_code == 200, r.text
    version = stored(db, implant_id)[1]
    preview = _preview(client, team, sid, FIXED, version).json()
    assert preview["lowers_current"] is True
    assert preview["change"] == {"old_output_current_mA": 0.5, "new_output_current_mA": 0.25}
    refused = _plan(client, team, sid, protocol=FIXED, implant_version=version)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["field"] == "accept_lower_current"
    assert "0.5" in refused.json()["detail"][0]["allowed"]
    assert _interrogate(client, team, sid)["settings"]["output_current_mA"] == 0.5
    r = _plan(client, team, sid, protocol=FIXED, implant_version=version, accept_lower_current=True)
    assert r.status_code == 201, r.text
    assert _interrogate(client, team, sid)["settings"]["output_current_mA"] == 0.25


def test_a_confirmation_names_the_plan_previewed(
    client: TestClient, team: Team, clock: dict
) -> None:
    _, sid = _session(client, team)
    preview = _preview(client, team, sid, FIXED, 1).json()
    other = FIXED.replace("to 1.0 mA", "to 1.5 mA")
    r = _plan(
        client, team, sid, protocol=other, implant_version=1, preview_digest=preview["digest"]
    )
    assert r.status_code == 409
    r = _plan(
        client, team, sid, protocol=FIXED, implant_version=1, preview_digest=preview["digest"]
    )
    assert r.status_code == 201, r.text


# --- the page: preview, then confirm ------------------------------------------------------------


def _hidden(text: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', text)
    assert found, name
    return html.unescape(found.group(1))


def _page_session(client: TestClient, make_user: UserFactory, make_patient: Any) -> tuple[str, str]:
    """Sign in as a clinician, register a Model 1000 and open a session: (csrf, session url)."""
    patient = make_patient("Tess Tolerance")
    csrf = _login(client, make_user(Role.CLINICIAN))
    reg = {"csrf_token": csrf, "generator_model": "1000", "generator_serial": "SN-TT1"}
    implant_page = client.post(f"/patients/{patient.id}/implants", data=reg, headers=HTML)
    started = re.search(r'action="(/implants/\d+/sessions)"', implant_page.text)
    assert started
    page = client.post(started.group(1), data={"csrf_token": csrf}, headers=HTML)
    return csrf, str(page.url).removeprefix("http://testserver")


def test_the_page_programs_a_plan_only_from_its_preview(
    client: TestClient, make_user: UserFactory, make_patient: Any
) -> None:
    csrf, url = _page_session(client, make_user, make_patient)
    page = client.get(url, headers=HTML)
    assert "Preview the plan" in page.text
    version = _hidden(page.text, "implant_version")
    one_click = {"csrf_token": csrf, "implant_version": version, "protocol": TOLERANCE}
    r = client.post(f"{url}/titration-plans", data=one_click, headers=HTMX)
    assert r.status_code == 200
    assert "Titration plan programmed" not in r.text
    assert 'id="plan-steps"' in r.text  # the preview instead
    assert 'id="e-protocol"' not in r.text
    assert client.get(url, headers=HTML).text.count("programmed now") == 0
    preview = client.post(f"{url}/titration-plans/preview", data=one_click, headers=HTMX)
    assert preview.status_code == 200
    assert preview.text.count(">review point<") == 3
    assert "0.0 mA → 0.25 mA" in preview.text
    assert "the implant cannot know tolerance" in preview.text
    assert 'id="plan-confirm-form"' in preview.text
    confirm = {
        "csrf_token": csrf,
        "implant_version": _hidden(preview.text, "implant_version"),
        "protocol": _hidden(preview.text, "protocol"),
        "preview_digest": _hidden(preview.text, "preview_digest"),
    }
    done = client.post(f"{url}/titration-plans", data=confirm, headers=HTML)
    assert done.status_code == 200, re.findall(r"form-errors[\s\S]{0,600}", done.text)
    assert "Titration plan programmed: 4 steps (paused at a review point" in done.text
    assert "Confirm the next step" in done.text
    history_html = done.text.split('id="settings-history"')[1]
    assert "titration plan" in history_html  # who, when, and old → new
    assert "Output current: 0.0 → 0.25 mA" in history_html
    again = client.post(f"{url}/titration-plans", data=confirm, headers=HTML)
    assert again.status_code == 409  # the version moved on: the old preview is stale


# --- a session belongs to whoever opened it ------------------------------------------------------


def test_another_clinician_cannot_act_in_an_open_session(
    client: TestClient, team: Team, db: Session, clock: dict
) -> None:
    implant_id, sid = _session(client, team)
    other = team.headers(team.clinician2)
    base = f"{API}/programming-sessions/{sid}"
    proposal = client.post(f"{base}/proposals", json={"settings": TYPICAL}, headers=other)
    assert proposal.status_code == 409, proposal.text
    assert team.clinician.full_name in proposal.json()["detail"]
    own = client.post(f"{base}/proposals", json={"settings": TYPICAL}, headers=team.as_clinician)
    assert own.status_code == 201
    confirm = {"proposal_id": own.json()["id"], "implant_version": 1}
    refused = [
        client.post(f"{base}/program", json=confirm, headers=other),
        client.post(f"{base}/diagnostics", headers=other),
        client.post(
            f"{base}/titration-plans", json={"protocol": FIXED, "implant_version": 1}, headers=other
        ),
        client.post(f"{base}/close", headers=other),
    ]
    assert [r.status_code for r in refused] == [409] * 4
    assert all(team.clinician.full_name in r.json()["detail"] for r in refused)
    assert stored(db, implant_id)[1] == 1  # nothing reached the implant
    assert client.get(f"{base}/interrogation", headers=other).status_code == 200  # reading is fine

    clock["now"] = T0 + timedelta(hours=3)  # the hold has expired
    r = client.post(f"{base}/diagnostics", headers=other)
    assert r.status_code == 200, r.text


# --- the settings history: who, when, old → new ---------------------------------------------


def _program(client: TestClient, headers: dict[str, str], sid: int, current: float, v: int) -> None:
    base = f"{API}/programming-sessions/{sid}"
    settings = {**TYPICAL, "output_current_mA": current}
    proposal = client.post(f"{base}/proposals", json={"settings": settings}, headers=headers)
    confirm = {"proposal_id": proposal.json()["id"], "implant_version": v}
    assert client.post(f"{base}/program", json=confirm, headers=headers).status_code == 200


def test_the_settings_history_names_who_when_and_the_values(
    client: TestClient, team: Team, db: Session, clock: dict, make_user: UserFactory
) -> None:
    implant_id, sid = _session(client, team)
    _program(client, team.as_clinician, sid, 0.5, 1)
    client.post(f"{API}/programming-sessions/{sid}/close", headers=team.as_clinician)
    other = team.headers(team.clinician2)
    sid2 = start(client, other, implant_id)["session"]["id"]
    _program(client, other, sid2, 0.75, 2)
    # another patient's implant, programmed too: not in this patient's history
    stranger = new_patient(db, team.nurse, "IMP-OTHER")
    other_implant = register(client, team.as_clinician, stranger.id, generator_serial="SN-9")
    sid3 = start(client, team.as_clinician, other_implant["id"])["session"]["id"]
    _program(client, team.as_clinician, sid3, 1.0, 1)

    statements: list[str] = []
    engine = db.get_bind()

    def capture(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        changes = history.patient_settings_changes(db, team.patient.id)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    audit_reads = [s for s in statements if "audit_log" in s]
    assert len(audit_reads) == 1
    assert "implants.patient_id = " in audit_reads[0]  # the patient is chosen in SQL
    assert [c.action for c in changes] == ["create", "program", "program"]
    assert [c.actor_name for c in changes] == [
        team.clinician.full_name,
        team.clinician.full_name,
        team.clinician2.full_name,
    ]
    last = changes[-1]
    assert [(f.field, f.old, f.new) for f in last.changes] == [("output_current_mA", 0.5, 0.75)]
    assert last.at is not None

    r = client.get(f"{API}/patients/{team.patient.id}/settings-history", headers=other)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [e["who"]["name"] for e in body][-1] == team.clinician2.full_name
    assert body[-1]["changes"] == [
        {"field": "output_current_mA", "unit": "mA", "old": 0.5, "new": 0.75}
    ]
    patient = team.headers(team.patient_user)
    r = client.get(f"{API}/patients/{team.patient.id}/settings-history", headers=patient)
    assert r.status_code == 403


# --- pick-lists and old → new ---------------------------------------------------------------


def test_a_proposal_compares_old_and_new(client: TestClient, team: Team, clock: dict) -> None:
    _, sid = _session(client, team)
    _program(client, team.as_clinician, sid, 1.0, 1)
    settings = {**TYPICAL, "output_current_mA": 1.5}
    r = client.post(
        f"{API}/programming-sessions/{sid}/proposals",
        json={"settings": settings},
        headers=team.as_clinician,
    )
    assert r.status_code == 201, r.text
    rows = {row["name"]: row for row in r.json()["comparison"]}
    assert set(rows) >= {
        "output_current_mA",
        "duty_cycle_pct",
        "charge_per_phase_uC",
        "charge_density_uC_per_cm2",
        "shannon_k",
        "longevity_years",
    }
    assert rows["output_current_mA"]["old"] == 1.0
    assert rows["output_current_mA"]["new"] == 1.5
    assert rows["charge_per_phase_uC"]["old"] == 0.25  # 1.0 mA × 250 µs
    assert rows["charge_per_phase_uC"]["new"] == 0.375
    assert rows["shannon_k"]["new"] > rows["shannon_k"]["old"]
    assert rows["longevity_years"]["new"] < rows["longevity_years"]["old"]  # more current
    assert rows["longevity_years"]["change"] < 0


def test_the_page_offers_the_models_values_and_shows_old_to_new(
    client: TestClient, make_user: UserFactory, make_patient: Any
) -> None:
    csrf, url = _page_session(client, make_user, make_patient)
    page = client.get(url, headers=HTML)
    current = re.search(r'<select id="f-output_current_mA"[\s\S]*?</select>', page.text)
    assert current, "output current is a pick-list"
    assert 'value="1.125"' in current.group(0)  # Model 1000: 0.125 mA steps
    assert 'value="3.5"' in current.group(0)
    assert 'value="3.625"' not in current.group(0)
    frequency = re.search(r'<select id="f-frequency_Hz"[\s\S]*?</select>', page.text)
    assert frequency
    assert 'value="20"' in frequency.group(0)
    assert 'value="21"' not in frequency.group(0)
    for name in ("pulse_width_us", "on_time_s", "off_time_min"):
        assert f'<select id="f-{name}"' in page.text
    data = {
        "csrf_token": csrf,
        "implant_version": _hidden(page.text, "implant_version"),
        "output_current_mA": "1.125",
        "frequency_Hz": "20.0",
        "pulse_width_us": "250.0",
        "on_time_s": "30.0",
        "off_time_min": "5.0",
    }
    r = client.post(f"{url}/proposals", data=data, headers=HTMX)
    assert r.status_code == 200, r.text
    table = r.text.split('id="comparison"')[1]
    for label in ("Duty cycle", "Charge per phase", "Charge density", "Shannon k", "Battery"):
        assert label in table
    assert "0.0 → 1.125" in table


def test_the_page_of_a_session_held_by_another_clinician_says_who_holds_it(
    client: TestClient, make_user: UserFactory, make_patient: Any
) -> None:
    csrf, url = _page_session(client, make_user, make_patient)
    client.post("/auth/logout", data={"csrf_token": csrf}, headers=HTML)
    _login(client, make_user(Role.CLINICIAN))
    page = client.get(url, headers=HTML)
    assert page.status_code == 200
    assert 'id="session-held"' in page.text
    assert "held by" in page.text
    assert 'id="propose-form"' not in page.text
    assert 'id="plan-form"' not in page.text


def test_steps_awaiting_review_are_listed_for_the_worklist(
    client: TestClient, team: Team, db: Session, clock: dict
) -> None:
    implant_id, sid = _session(client, team)
    plan = _plan(client, team, sid, protocol=TOLERANCE, implant_version=1).json()
    (waiting,) = plans.steps_awaiting_review(db, T0)
    assert (waiting.patient_id, waiting.implant_id, waiting.plan_id) == (
        team.patient.id,
        implant_id,
        plan["id"],
    )
    assert (waiting.step, waiting.output_current_mA, waiting.is_due) == (2, 0.5, False)
    assert plans.steps_awaiting_review(db, T0 + timedelta(days=14))[0].is_due
    assert plans.steps_awaiting_review(db, T0, patient_id=team.patient.id + 1) == []


def test_an_off_step_value_offers_the_nearest_step(
    client: TestClient, team: Team, clock: dict
) -> None:
    _, sid = _session(client, team)
    settings = {**TYPICAL, "output_current_mA": 1.1}
    r = client.post(
        f"{API}/programming-sessions/{sid}/proposals",
        json={"settings": settings},
        headers=team.as_clinician,
    )
    (error,) = r.json()["errors"]
    assert error["code"] == "not_selectable"
    assert error["nearest"] == 1.125


def test_the_page_offers_the_nearest_step_of_an_off_step_value(
    client: TestClient, make_user: UserFactory, make_patient: Any
) -> None:
    csrf, url = _page_session(client, make_user, make_patient)
    page = client.get(url, headers=HTML)
    data = {
        "csrf_token": csrf,
        "implant_version": _hidden(page.text, "implant_version"),
        "output_current_mA": "1.1",
        "frequency_Hz": "20",
        "pulse_width_us": "250",
        "on_time_s": "30",
        "off_time_min": "5",
    }
    r = client.post(f"{url}/proposals", data=data, headers=HTMX)
    assert r.status_code == 422
    offer = r.text.split('class="use-nearest"')[1].split("</form>")[0]
    assert 'name="output_current_mA" value="1.125"' in offer
    assert 'name="frequency_Hz" value="20.0"' in offer
    assert "Check with the nearest value, 1.125" in offer


def test_a_due_review_point_is_on_the_worklist(
    client: TestClient, team: Team, db: Session, clock: dict
) -> None:
    """The paused plan's next step shows on the care team's worklist once it is due (not before),
    linked to the implant, and leaves it when a clinician has confirmed it."""
    from openvns.clinic.worklist import service as worklist

    implant_id, sid = _session(client, team)
    plan = _plan(client, team, sid, protocol=TOLERANCE, implant_version=1).json()

    def review_rows(now: datetime) -> list[Any]:
        db.expire_all()
        rows = worklist.worklist(db, team.clinician, now)
        return [r for r in rows if r.kind == worklist.WorkKind.REVIEW_DUE]

    assert review_rows(T0 + timedelta(days=1)) == []  # the next step is due on day 14
    due = review_rows(T0 + timedelta(days=30))
    assert len(due) == 1
    assert due[0].patient_id == team.patient.id
    assert due[0].link == f"/implants/{implant_id}"
    assert "step 2" in due[0].summary
    clock["now"] = T0 + timedelta(days=30)
    version = stored(db, implant_id)[1]
    url = f"{API}/programming-sessions/{sid}/titration-plans/{plan['id']}/next-step"
    r = client.post(url, json={"implant_version": version}, headers=team.as_clinician)
    assert r.status_code == 200, r.text
    # step 2 confirmed late (day 30): step 3 (planned for day 28) is due the plan's 14 days on
    assert review_rows(T0 + timedelta(days=30)) == []
    rows = review_rows(T0 + timedelta(days=44))
    assert len(rows) == 1
    assert "step 3" in rows[0].summary


def test_a_late_review_moves_the_rest_of_the_plan(
    client: TestClient, team: Team, db: Session, clock: dict
) -> None:
    """Confirming a step late never lets the next one follow at once: two steps are at least the
    plan's interval apart (step 3, planned for day 28, waits until 14 days after step 2)."""
    implant_id, sid = _session(client, team)
    plan = _plan(client, team, sid, protocol=TOLERANCE, implant_version=1).json()
    url = f"{API}/programming-sessions/{sid}/titration-plans/{plan['id']}/next-step"
    clock["now"] = T0 + timedelta(days=30)
    r = client.post(url, json={"implant_version": stored(db, implant_id)[1]},
                    headers=team.as_clinician)  # fmt: skip
    assert r.status_code == 200, r.text
    again = client.post(url, json={"implant_version": stored(db, implant_id)[1]},
                        headers=team.as_clinician)  # fmt: skip
    assert again.status_code == 409, again.text
    assert "not due until" in again.text
    assert _interrogate(client, team, sid)["settings"]["output_current_mA"] == 0.5
    clock["now"] = T0 + timedelta(days=44)
    later = client.post(url, json={"implant_version": stored(db, implant_id)[1]},
                        headers=team.as_clinician)  # fmt: skip
    assert later.status_code == 200, later.text
    assert _interrogate(client, team, sid)["settings"]["output_current_mA"] == 0.75


def test_every_worklist_kind_has_a_tone_on_the_home_page() -> None:
    """The home page colours each kind (a kind without a tone made the page a 500)."""
    from openvns.clinic.ui.pages.home import WORKLIST_TONE
    from openvns.clinic.worklist.service import WorkKind

    assert set(WORKLIST_TONE) == set(WorkKind)


def test_the_home_page_shows_a_due_review_point(
    client: TestClient, team: Team, clock: dict
) -> None:
    """A clinician's home page lists the paused plan's due step (it answered 500 before)."""
    implant_id, sid = _session(client, team)
    assert _plan(client, team, sid, protocol=TOLERANCE, implant_version=1).status_code == 201
    clock["now"] = T0 + timedelta(days=30)
    page = client.get("/", headers={**team.as_clinician, "Accept": "text/html"})
    assert page.status_code == 200, page.text
    assert "Titration step to review" in page.text
    assert f"/implants/{implant_id}" in page.text


def test_the_session_page_title_is_text(client: TestClient, team: Team) -> None:
    """The page's <title> is the patient's name, not markup (the settings history once sat in
    the title block as well as on the page)."""
    _, sid = _session(client, team)
    page = client.get(f"/programming/{sid}", headers={**team.as_clinician, "Accept": "text/html"})
    assert page.status_code == 200, page.text
    title = re.search(r"<title>(.*?)</title>", page.text, re.S)
    assert title
    assert "<" not in title.group(1)
    assert page.text.count('id="settings-history"') == 1
