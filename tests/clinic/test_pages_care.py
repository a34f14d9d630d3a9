"""Pages of the care domains (without a browser): evaluation, implants and programming."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from openvns.clinic.auth.models import Role
from tests.clinic.conftest import UserFactory
from tests.clinic.test_pages import HTML, HTMX, PatientFactory, _login, make_patient

__all__ = ["make_patient"]  # the fixture, re-used

SAFE = {
    "output_current_mA": "1.0",
    "frequency_Hz": "20",
    "pulse_width_us": "250",
    "on_time_s": "30",
    "off_time_min": "5",
}
UNSAFE = {**SAFE, "output_current_mA": "2.5", "frequency_Hz": "30", "pulse_width_us": "1000"}


def _hidden(text: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', text)
    assert match, text
    return match.group(1)


def test_evaluation_form_errors_then_assessment(
    client: TestClient, make_user: UserFactory, make_patient: PatientFactory
) -> None:
    patient = make_patient("Eva Candidate")
    csrf = _login(client, make_user(Role.NURSE))
    url = f"/patients/{patient.id}/evaluations/new"
    assert client.get(url, headers=HTML).status_code == 200
    r = client.post(url, data={"csrf_token": csrf, "baseline_nrs": "12"}, headers=HTMX)
    assert r.status_code == 422
    assert 'id="e-diagnosis"' in r.text
    assert 'id="e-baseline_nrs"' in r.text
    data = {
        "csrf_token": csrf,
        "diagnosis": "fibromyalgia",
        "pain_duration_months": "48",
        "baseline_nrs": "7",
        "treatments_tried": ["snris", "anticonvulsants", "physiotherapy"],
        "obstructive_sleep_apnoea": "true",
    }
    r = client.post(url, data=data, headers=HTML)
    assert r.status_code == 200
    assert "Evaluation saved" in r.text
    assert 'id="outcome"' in r.text
    assert "Obstructive sleep apnoea" in r.text
    listing = client.get(f"/patients/{patient.id}/evaluations", headers=HTML)
    assert "fibromyalgia" in listing.text


def test_patient_may_not_open_evaluations(
    client: TestClient, make_user: UserFactory, make_patient: PatientFactory
) -> None:
    account = make_user(Role.PATIENT)
    own = make_patient("Pat Own", user=account)
    _login(client, account)
    assert client.get(f"/patients/{own.id}/evaluations", headers=HTML).status_code == 403


def test_register_program_blocked_confirm_and_conflict(
    client: TestClient, make_user: UserFactory, make_patient: PatientFactory
) -> None:
    patient = make_patient("Ivy Implant")
    csrf = _login(client, make_user(Role.CLINICIAN))
    reg = {"csrf_token": csrf, "generator_model": "1000", "lead_model": "304-20"}
    r = client.post(f"/patients/{patient.id}/implants", data=reg, headers=HTMX)
    assert r.status_code == 422
    assert 'id="e-generator_serial"' in r.text
    r = client.post(
        f"/patients/{patient.id}/implants", data={**reg, "generator_serial": "SN-42"}, headers=HTML
    )
    assert "Implant SN-42 registered." in r.text
    start = re.search(r'action="(/implants/\d+/sessions)"', r.text)
    assert start
    page = client.post(start.group(1), data={"csrf_token": csrf}, headers=HTML)
    assert page.status_code == 200
    session_url = str(page.url).removeprefix("http://testserver")
    version = _hidden(page.text, "implant_version")

    blocked = client.post(
        f"{session_url}/proposals",
        data={**UNSAFE, "csrf_token": csrf, "implant_version": version},
        headers=HTMX,
    )
    assert blocked.status_code == 422
    assert "Blocked" in blocked.text
    assert "confirm-form" not in blocked.text

    ok = client.post(
        f"{session_url}/proposals",
        data={**SAFE, "csrf_token": csrf, "implant_version": version},
        headers=HTMX,
    )
    assert ok.status_code == 200
    assert "confirm-form" in ok.text
    proposal_id = _hidden(ok.text, "proposal_id")
    assert _hidden(ok.text, "implant_version") == version

    # Diagnostics in between move the implant's version on: the confirmation is stale.
    client.post(f"{session_url}/diagnostics", data={"csrf_token": csrf}, headers=HTML)
    confirm = {"csrf_token": csrf, "proposal_id": proposal_id, "implant_version": version}
    stale = client.post(f"{session_url}/program", data=confirm, headers=HTMX)
    assert stale.status_code == 409
    assert "the implant changed after you interrogated it" in stale.text

    fresh = client.get(session_url, headers=HTML)
    version = _hidden(fresh.text, "implant_version")
    ok = client.post(
        f"{session_url}/proposals",
        data={**SAFE, "csrf_token": csrf, "implant_version": version},
        headers=HTMX,
    )
    confirm = {
        "csrf_token": csrf,
        "proposal_id": _hidden(ok.text, "proposal_id"),
        "implant_version": version,
    }
    done = client.post(f"{session_url}/program", data=confirm, headers=HTML)
    assert done.status_code == 200
    assert "Programmed and verified: 0.0 → 1.0 mA" in done.text
    outcomes = client.get(f"/patients/{patient.id}/outcomes", headers=HTML)
    assert "implant create" in outcomes.text  # the settings history, from the audit log
    assert "implant program" in outcomes.text  # programming is audited on the implant


def test_nurse_interrogates_but_cannot_program(
    client: TestClient, make_user: UserFactory, make_patient: PatientFactory
) -> None:
    patient = make_patient("Nia Nurse-Visit")
    csrf = _login(client, make_user(Role.CLINICIAN))
    reg = {"csrf_token": csrf, "generator_model": "106", "lead_model": "304-20"}
    client.post(
        f"/patients/{patient.id}/implants", data={**reg, "generator_serial": "SN-7"}, headers=HTML
    )
    client.post("/auth/logout", data={"csrf_token": csrf}, headers=HTML)
    csrf = _login(client, make_user(Role.NURSE))
    listing = client.get(f"/patients/{patient.id}/implants", headers=HTML)
    assert "Register an implant" not in listing.text
    implant_url = re.search(r'href="(/implants/\d+)"', listing.text)
    assert implant_url
    page = client.get(implant_url.group(1), headers=HTML)
    session = client.post(
        f"{implant_url.group(1)}/sessions", data={"csrf_token": csrf}, headers=HTML
    )
    assert session.status_code == 200, page.text
    assert "propose-form" not in session.text
    session_url = str(session.url).removeprefix("http://testserver")
    data = {**SAFE, "csrf_token": csrf, "implant_version": "1"}
    assert client.post(f"{session_url}/proposals", data=data, headers=HTML).status_code == 403


def test_outcome_page_for_the_patient_and_the_care_team(
    client: TestClient, make_user: UserFactory, make_patient: PatientFactory
) -> None:
    account = make_user(Role.PATIENT)
    own = make_patient("Olive Outcome", user=account)
    csrf = _login(client, account)
    empty = client.get(f"/patients/{own.id}/outcomes", headers=HTML)
    assert empty.status_code == 200
    assert "Not assessable yet" in empty.text
    for day in range(1, 29):
        data = {"entry_date": f"2026-02-{day:02d}", "pain_nrs": "8", "csrf_token": csrf}
        client.post(f"/patients/{own.id}/diary", data=data, headers=HTMX)
    for day in range(1, 29):
        data = {"entry_date": f"2026-03-{day:02d}", "pain_nrs": "3", "csrf_token": csrf}
        if day % 7 == 0:
            data["se_throat_pain"] = "moderate"
        client.post(f"/patients/{own.id}/diary", data=data, headers=HTMX)
    page = client.get(f"/patients/{own.id}/outcomes", headers=HTML)
    assert "Substantial improvement" in page.text
    assert "<polyline" in page.text
    assert "Sore throat or throat pain" in page.text
    assert f"/api/v1/patients/{own.id}/outcomes/report" in page.text
    report = client.get(f"/api/v1/patients/{own.id}/outcomes/report", headers=HTML)
    assert report.status_code == 200
    client.post("/auth/logout", data={"csrf_token": csrf}, headers=HTML)
    _login(client, make_user(Role.CLINICIAN))
    assert "Substantial improvement" in client.get(f"/patients/{own.id}/outcomes").text


def test_titration_plan_from_the_session_page(
    client: TestClient, make_user: UserFactory, make_patient: PatientFactory
) -> None:
    patient = make_patient("Tim Titrate")
    csrf = _login(client, make_user(Role.CLINICIAN))
    reg = {"csrf_token": csrf, "generator_model": "1000", "generator_serial": "SN-T1"}
    implant_page = client.post(f"/patients/{patient.id}/implants", data=reg, headers=HTML)
    start = re.search(r'action="(/implants/\d+/sessions)"', implant_page.text)
    assert start
    page = client.post(start.group(1), data={"csrf_token": csrf}, headers=HTML)
    session_url = str(page.url).removeprefix("http://testserver")
    version = _hidden(page.text, "implant_version")
    bad = {"csrf_token": csrf, "implant_version": version, "protocol": "go up slowly"}
    r = client.post(f"{session_url}/titration-plans", data=bad, headers=HTMX)
    assert r.status_code == 422
    assert 'id="e-protocol"' in r.text
    good = {
        **bad,
        "protocol": "titrate from 0.25 mA by 0.25 mA every 14 days to 1.0 mA; 20 Hz; 250 us; "
        "30 s on / 5 min off",
    }
    # no one-click plan: the preview lists the steps, its confirmation form programs them
    preview = client.post(f"{session_url}/titration-plans/preview", data=good, headers=HTML)
    assert preview.status_code == 200, preview.text
    assert "Titration plan programmed" not in preview.text
    assert 'id="plan-confirm-form"' in preview.text
    confirm = {
        "csrf_token": csrf,
        "protocol": _hidden(preview.text, "protocol"),
        "implant_version": _hidden(preview.text, "implant_version"),
        "preview_digest": _hidden(preview.text, "preview_digest"),
    }
    r = client.post(f"{session_url}/titration-plans", data=confirm, headers=HTML)
    assert "Titration plan programmed: 4 steps." in r.text
    implant = client.get(start.group(1).removesuffix("/sessions"), headers=HTML)
    assert "Titration plans" in implant.text
