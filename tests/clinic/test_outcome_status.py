"""Outcome status (issue 12): stale diaries and dropouts, cheap repeated reads, the device.

* a diary that stopped weeks ago claims no responder class and names its window's real dates;
* repeated reads do not recompute (a cache keyed by the diary's version), any diary or baseline
  write invalidates it; ``norm.ppf`` is not called per interval; ``settings_history`` reads only
  the patient's audit rows;
* the outcome page and the printable report show the implant, lead, settings, battery and
  impedance.
"""

# ruff: noqa: F811 (the make_patient fixture is imported from diary_helpers)

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from scipy import stats
from sqlalchemy import event
from sqlalchemy.orm import Session

from openvns.clinic.audit import service as audit
from openvns.clinic.audit.models import AuditEntry
from openvns.clinic.auth.models import Role
from openvns.clinic.db.session import transaction
from openvns.clinic.implants import service as implant_service
from openvns.clinic.implants.schemas import StimulationSettingsBody
from openvns.clinic.outcomes import baseline, service
from openvns.clinic.programming import service as programming
from tests.clinic.conftest import HeadersFactory
from tests.clinic.diary_helpers import PatientFactory, make_patient  # noqa: F401
from tests.clinic.implant_helpers import T0, TYPICAL, Team, clock, register, team  # noqa: F401
from tests.clinic.test_outcomes import add_pain, url

TODAY = datetime.now(UTC).date()
#: 28 baseline days at 8, then 28 days of follow-up at 3 (−62.5 %: a substantial improvement).
IMPROVED = [8] * 28 + [3] * 28


def _ending(days_ago: int) -> tuple[date, date]:
    """First and last day of :data:`IMPROVED` when its last entry is ``days_ago`` days back."""
    last = TODAY - timedelta(days=days_ago)
    return last - timedelta(days=len(IMPROVED) - 1), last


@pytest.mark.parametrize(
    ("days_ago", "state", "category"),
    [(0, "current", "substantial"), (10, "stale", "diary_stale"), (45, "dropout", "dropout")],
)
def test_a_diary_that_stopped_weeks_ago_claims_no_responder_class(
    client: TestClient,
    db: Session,
    make_patient: PatientFactory,
    days_ago: int,
    state: str,
    category: str,
) -> None:
    me = make_patient()
    first, last = _ending(days_ago)
    add_pain(db, me.id, IMPROVED, start=first)
    r = client.get(url(me.id), headers=me.headers).json()["responder"]
    assert r["category"] == category
    assert r["window_category"] == "substantial"  # what the window showed, whatever its age
    assert (r["start_date"], r["end_date"]) == (str(last - timedelta(days=27)), str(last))
    diary = r["diary"]
    assert (diary["state"], diary["last_entry_date"]) == (state, str(last))
    assert diary["days_since_last_entry"] == days_ago
    assert diary["stale"] is (days_ago > 7)
    window = f"{last - timedelta(days=27)} to {last}"
    assert window in r["window_label"]
    if days_ago:
        assert (r["moderate"], r["substantial"]) == (False, False)  # no claim of a class now
        assert f"Diary stale since {last}" in r["summary"]
        assert f"{days_ago} days" in r["summary"]
        assert "substantial" not in r["summary"].split(".")[0].lower()
    else:
        assert (r["moderate"], r["substantial"]) == (True, True)
        assert "stale" not in r["summary"].lower()


def test_the_page_and_the_report_say_stale_and_date_the_window(
    client: TestClient, db: Session, make_patient: PatientFactory, as_role: HeadersFactory
) -> None:
    me = make_patient()
    first, last = _ending(45)
    add_pain(db, me.id, IMPROVED, start=first)
    page = client.get(f"/patients/{me.id}/outcomes", headers={**me.headers, "Accept": "text/html"})
    assert page.status_code == 200
    text = page.text
    badge = text.split('id="responder"', 1)[1].split("</span>", 1)[0]
    assert f"Diary stale since {last}" in badge
    assert "improvement" not in badge.lower()
    assert "Last 28 days" not in text  # the old label, wrong for a window that ended long ago
    assert f"{last - timedelta(days=27)} to {last}" in text
    report = client.get(url(me.id, "/report"), headers=as_role(Role.CLINICIAN)).text
    assert "data-category='dropout'" in report
    assert f"Diary stale since {last}" in report
    assert "Last 28 days" not in report
    assert f"{last - timedelta(days=27)} – {last}" in report


def test_no_entries_is_not_a_stale_claim_of_anything(
    client: TestClient, make_patient: PatientFactory
) -> None:
    me = make_patient()
    r = client.get(url(me.id), headers=me.headers).json()["responder"]
    assert r["category"] == "not_assessable"
    assert r["diary"]["state"] == "none"
    assert "No pain entries" in r["summary"]


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    compute = service.compute_diary_outcomes

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return compute(*args, **kwargs)

    monkeypatch.setattr(service, "compute_diary_outcomes", counted)
    return calls


def test_repeated_reads_reuse_the_numbers_until_a_write(
    client: TestClient,
    db: Session,
    make_patient: PatientFactory,
    as_role: HeadersFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _counting(monkeypatch)
    me = make_patient()
    first, _ = _ending(1)
    add_pain(db, me.id, IMPROVED, start=first)
    nurse = as_role(Role.NURSE)
    one = client.get(url(me.id), headers=nurse).json()
    for path in (url(me.id), f"/patients/{me.id}/outcomes", url(me.id, "/report")):
        assert client.get(path, headers=nurse).status_code == 200
    assert len(calls) == 1
    assert client.get(url(me.id), headers=nurse).json() == one

    # a new entry (through the API, as the patient)
    new = {"entry_date": str(TODAY), "pain_nrs": 9}
    assert client.post(f"/api/v1/patients/{me.id}/diary/pain", json=new, headers=me.headers)
    two = client.get(url(me.id), headers=nurse).json()
    assert len(calls) == 2
    assert two["last_entry_date"] == str(TODAY)
    assert two["responder"]["endpoint_mean_NRS"] != one["responder"]["endpoint_mean_NRS"]

    # a correction of an older entry changes no count and no id
    fix = f"/api/v1/patients/{me.id}/diary/pain/{first + timedelta(days=40)}"
    assert client.put(fix, json={"pain_nrs": 10}, headers=me.headers).status_code == 200
    three = client.get(url(me.id), headers=nurse).json()
    assert len(calls) == 3
    assert three["responder"]["endpoint_mean_NRS"] > two["responder"]["endpoint_mean_NRS"]

    # a clinician's baseline window
    window = {"start_date": str(first + timedelta(days=7)), "length_days": 21}
    clinician = as_role(Role.CLINICIAN)
    assert client.put(url(me.id, "/baseline"), json=window, headers=clinician).status_code == 200
    four = client.get(url(me.id), headers=nurse).json()
    assert four["baseline"]["source"] == "clinician"
    assert four["baseline"]["start_date"] == window["start_date"]

    # a settings change shows at once (the settings history is read on every request)
    with transaction(db):
        audit.record(db, None, "create", "implant", 77, None, {"patient_id": me.id})
    five = client.get(url(me.id), headers=nurse).json()
    assert [e["entity_id"] for e in five["settings_history"]] == [77]


def test_norm_ppf_is_not_called_per_interval(
    client: TestClient, db: Session, make_patient: PatientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = make_patient()
    add_pain(db, me.id, [8] * 28 + [5] * 200, start=TODAY - timedelta(days=227))
    calls: list[int] = []
    ppf = stats.norm.ppf

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return ppf(*args, **kwargs)

    monkeypatch.setattr(stats.norm, "ppf", counted)
    out = client.get(url(me.id), headers=me.headers).json()
    assert len(out["weekly_pain"]) > 30
    assert out["weekly_pain"][-2]["lower_NRS"] == 5.0
    assert len(calls) <= 1


def test_settings_history_reads_only_the_patients_rows(
    db: Session, make_patient: PatientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(baseline, "implants_provider", lambda: None)
    me, other = make_patient(), make_patient()
    with transaction(db):
        for n in range(20):
            for who in (me, other):
                snap = {"patient_id": who.id, "n": n}
                audit.record(db, None, "program", "programming", 1000 + n, None, snap)
    loaded: list[int] = []

    def on_load(target: AuditEntry, _context: object) -> None:
        loaded.append(target.id)

    event.listen(AuditEntry, "load", on_load)
    try:
        db.expunge_all()
        events = baseline.settings_history(db, me.id)
    finally:
        event.remove(AuditEntry, "load", on_load)
    assert [e.values["n"] for e in events if e.values] == list(range(20))
    assert len(loaded) == 20  # not the other patient's 20 as well


def test_the_page_and_the_report_show_the_device(
    client: TestClient, db: Session, team: Team
) -> None:
    implanted = datetime.now(UTC) - timedelta(days=30)
    values = {"generator_model": "1000", "generator_serial": "SN-DEV-1", "lead_model": "304-20",
              "implanted_at": implanted}  # fmt: skip
    with transaction(db):
        implant = implant_service.register_implant(db, team.clinician, team.patient.id, values)
        row, seen, _ = programming.start_session(db, team.clinician, implant.id)
        settings = StimulationSettingsBody.model_validate(TYPICAL).to_device()
        proposal, _ = programming.propose(db, team.clinician, row.id, settings)
        programming.program(db, team.clinician, row.id, proposal.id, seen.version)
        programming.run_diagnostics(db, team.clinician, row.id)
    add_pain(db, team.patient.id, IMPROVED, start=_ending(0)[0])
    headers = team.headers(team.nurse)
    device = client.get(url(team.patient.id), headers=headers).json()["device"]
    assert (device["generator_model"], device["generator_serial"]) == ("1000", "SN-DEV-1")
    assert device["lead_model"] == "304-20"
    assert device["implanted_at"] == str(implanted.date())
    assert device["status"] == "active"
    assert device["settings"]["output_current_mA"] == TYPICAL["output_current_mA"]
    assert device["settings"]["frequency_Hz"] == TYPICAL["frequency_Hz"]
    assert 0.0 < device["battery_percent"] <= 100.0
    assert device["battery_indicator"] == "OK"
    assert device["lead_impedance_ohm"] > 0
    assert device["impedance_status"] == "OK"
    page = client.get(f"/patients/{team.patient.id}/outcomes", headers={**headers,
                      "Accept": "text/html"}).text  # fmt: skip
    report = client.get(url(team.patient.id, "/report"), headers=headers).text
    for text in (page, report):
        assert "id='device'" in text or 'id="device"' in text
        for shown in ("SN-DEV-1", "304-20", str(implanted.date()), "1.5 mA", "20 Hz", "250 µs",
                      "30 s ON", "5 min OFF", "Battery", "OK", "Ω"):  # fmt: skip
            assert shown in text, shown


def test_without_an_implant_the_device_is_none(
    client: TestClient, make_patient: PatientFactory
) -> None:
    me = make_patient()
    assert client.get(url(me.id), headers=me.headers).json()["device"] is None
    page = client.get(f"/patients/{me.id}/outcomes", headers={**me.headers, "Accept": "text/html"})
    assert "No implant registered" in page.text


def test_the_device_reads_as_the_implants_api_while_time_passes(
    client: TestClient, team: Team, clock: dict[str, datetime]
) -> None:
    implant = register(client, team.as_clinician, team.patient.id)
    headers = team.headers(team.nurse)
    for days in (30, 400, 401, 5):  # the last one sets the clock back
        clock["now"] = T0 + timedelta(days=days)
        seen = client.get(f"/api/v1/implants/{implant['id']}", headers=headers).json()
        device = client.get(url(team.patient.id), headers=headers).json()["device"]
        assert device["device_time"] == seen["device_time"]
        assert device["battery_percent"] == pytest.approx(seen["battery_percent"], rel=1e-9)
        assert device["battery_indicator"] == seen["battery_indicator"]
