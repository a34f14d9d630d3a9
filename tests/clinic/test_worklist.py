"""The care team's worklist (``GET /api/v1/worklist`` and the home page): each source, the
urgency order, the roles, soft-deleted patients left out, and a number of SQL statements that
does not grow with the number of patients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from openvns.clinic.auth.models import Role, User
from openvns.clinic.db.session import transaction
from openvns.clinic.diaries.models import PainEntry, Severity, SideEffectReport
from openvns.clinic.diaries.staleness import STALE_AFTER_DAYS
from openvns.clinic.implants import device
from openvns.clinic.implants import service as implant_service
from openvns.clinic.implants.models import Implant
from openvns.clinic.patients import service as patient_service
from openvns.clinic.patients.models import Patient
from openvns.clinic.worklist import battery
from openvns.clinic.worklist import service as worklist
from openvns.clinic.worklist.service import URGENCY, WorkKind
from openvns.device.generator import LeadFault
from openvns.device.settings import StimulationSettings
from tests.clinic.conftest import UserFactory
from tests.clinic.implant_helpers import API, T0, TYPICAL, new_patient
from tests.clinic.implant_helpers import clock as clock

TODAY = T0.date()
HTML = {"Accept": "text/html"}
#: Implantation ages (at T0, factory settings: the quiescent drain only) that put the battery at
#: each indicator of the device layer (IFI <= 25 %, NEOS <= 12 %, EOS <= 2 %); checked below.
AGE_FOR_INDICATOR = {"IFI": 7.3, "NEOS": 8.3, "EOS": 9.5}


@dataclass
class Clinic:
    """A clinician, a nurse and helpers that make patients in each state."""

    db: Session
    clinician: User
    nurse: User
    serials: Iterator[int]
    mrns: Iterator[int]

    def patient(self, name: str | None = None) -> Patient:
        number = next(self.mrns)
        patient = new_patient(self.db, self.nurse, f"WL-{number}")
        if name is not None:
            patient.full_name = name
            with transaction(self.db):
                self.db.flush()
        return patient

    def implant(self, patient: Patient, years: float = 0.5) -> Implant:
        values = {
            "generator_model": "1000",
            "generator_serial": f"WL-SN-{next(self.serials)}",
            "lead_model": "304-20",
            "implanted_at": T0 - timedelta(days=365.25 * years),
        }
        with transaction(self.db):
            return implant_service.register_implant(
                self.db, self.clinician, patient.id, values, now=T0
            )

    def pain(self, patient: Patient, day: date, nrs: int = 5) -> None:
        with transaction(self.db):
            self.db.add(PainEntry(patient_id=patient.id, entry_date=day, pain_nrs=nrs))

    def side_effect(self, patient: Patient, day: date, severity: Severity, kind: str) -> None:
        with transaction(self.db):
            report = SideEffectReport(
                patient_id=patient.id, entry_date=day, kind=kind, severity=severity.value
            )
            self.db.add(report)

    def lead_fault(self, implant: Implant, kind: LeadFault) -> None:
        """A broken (or shorted) lead, then System Diagnostics that measure it."""
        with transaction(self.db):
            generator = device.load(implant, T0)
            generator.inject_lead_fault(kind)
            generator.run_diagnostics()
            device.store(implant, generator)

    def current(self, patient: Patient) -> None:
        """A pain entry today: the diary is current."""
        self.pain(patient, TODAY)


@pytest.fixture
def clinic(db: Session, make_user: UserFactory) -> Clinic:
    return Clinic(
        db,
        make_user(Role.CLINICIAN),
        make_user(Role.NURSE),
        iter(range(1, 10**6)),
        iter(range(1, 10**6)),
    )


def _items(clinic: Clinic) -> list[worklist.WorkItem]:
    return worklist.worklist(clinic.db, clinic.clinician, now=T0)


def _of(items: list[worklist.WorkItem], patient: Patient) -> list[worklist.WorkItem]:
    return [i for i in items if i.patient_id == patient.id]


# ------------------------------------------------------------------------------------ sources
@pytest.mark.parametrize("indicator", ["IFI", "NEOS", "EOS"])
def test_battery_indicators_from_the_implant(clinic: Clinic, indicator: str) -> None:
    patient = clinic.patient()
    implant = clinic.implant(patient, years=AGE_FOR_INDICATOR[indicator])
    clinic.current(patient)
    generator = device.load(implant, T0)
    assert generator.battery_indicator == indicator  # the setup reaches the indicator
    crossed = [e.time for e in generator.history if e.kind == f"battery_{indicator.lower()}"]

    (item,) = _of(_items(clinic), patient)
    assert item.kind == WorkKind(f"battery_{indicator.lower()}")
    assert item.since == crossed[-1].date()  # when the implant reached the indicator
    assert item.link == f"/implants/{implant.id}"
    assert item.implant_id == implant.id
    assert f"{generator.battery_percent:.0f} %" in item.summary


def test_a_battery_that_is_ok_needs_nothing(clinic: Clinic) -> None:
    patient = clinic.patient()
    clinic.implant(patient, years=1)
    clinic.current(patient)
    assert _of(_items(clinic), patient) == []


@pytest.mark.parametrize(("fault", "status"), [("break", "HIGH"), ("short", "LOW")])
def test_lead_impedance_out_of_range(clinic: Clinic, fault: LeadFault, status: str) -> None:
    patient = clinic.patient()
    implant = clinic.implant(patient)
    clinic.current(patient)
    clinic.lead_fault(implant, fault)

    (item,) = _of(_items(clinic), patient)
    assert item.kind is WorkKind.IMPEDANCE
    assert status in item.summary
    assert item.since == T0.date()  # the diagnostics that measured it
    assert item.link == f"/implants/{implant.id}"


def test_impedance_in_range_or_never_measured_needs_nothing(clinic: Clinic) -> None:
    measured, unmeasured = clinic.patient(), clinic.patient()
    implant = clinic.implant(measured)
    clinic.implant(unmeasured)
    for p in (measured, unmeasured):
        clinic.current(p)
    with transaction(clinic.db):
        generator = device.load(implant, T0)
        assert generator.run_diagnostics().impedance_status == "OK"
        device.store(implant, generator)
    items = _items(clinic)
    assert _of(items, measured) == []
    assert _of(items, unmeasured) == []


def test_stale_diaries_of_patients_with_an_active_implant(clinic: Clinic) -> None:
    stale, empty, current, edge = (clinic.patient() for _ in range(4))
    no_implant = clinic.patient()
    implants = {p.id: clinic.implant(p) for p in (stale, empty, current, edge)}
    last = TODAY - timedelta(days=STALE_AFTER_DAYS + 3)
    clinic.pain(stale, last - timedelta(days=1))
    clinic.pain(stale, last)
    clinic.pain(current, TODAY - timedelta(days=2))
    clinic.pain(edge, TODAY - timedelta(days=STALE_AFTER_DAYS))  # still current
    clinic.pain(no_implant, last)  # no implant: not chased

    items = _items(clinic)
    (item,) = _of(items, stale)
    assert item.kind is WorkKind.STALE_DIARY
    assert item.since == last
    assert f"{STALE_AFTER_DAYS + 3} days" in item.summary
    assert item.link == f"/patients/{stale.id}/diary"
    (item,) = _of(items, empty)
    assert item.kind is WorkKind.STALE_DIARY
    assert item.since == implants[empty.id].implanted_at.date()  # none since the implant
    assert _of(items, current) == []
    assert _of(items, edge) == []
    assert _of(items, no_implant) == []


def test_intolerable_side_effects_of_the_last_days(clinic: Clinic) -> None:
    implanted, candidate, old, mild = (clinic.patient() for _ in range(4))
    implant = clinic.implant(implanted)
    for p in (implanted, candidate, old, mild):
        clinic.current(p)
    first = TODAY - timedelta(days=STALE_AFTER_DAYS)  # the oldest day still counted
    clinic.side_effect(implanted, first, Severity.SEVERE, "cough")
    clinic.side_effect(implanted, TODAY - timedelta(days=1), Severity.SEVERE, "dyspnoea")
    clinic.side_effect(implanted, TODAY, Severity.MODERATE, "voice")
    clinic.side_effect(candidate, TODAY, Severity.SEVERE, "headache")
    clinic.side_effect(old, first - timedelta(days=1), Severity.SEVERE, "cough")  # too old
    clinic.side_effect(mild, TODAY, Severity.MODERATE, "cough")  # tolerable

    items = _items(clinic)
    (item,) = _of(items, implanted)
    assert item.kind is WorkKind.SIDE_EFFECT
    assert item.since == first
    assert "Cough" in item.summary
    assert "Shortness of breath" in item.summary
    assert "Voice" not in item.summary
    assert item.link == f"/implants/{implant.id}"  # handled by programming the implant
    (item,) = _of(items, candidate)
    assert item.kind is WorkKind.SIDE_EFFECT
    assert item.link == f"/patients/{candidate.id}/diary"  # no implant: the diary
    assert _of(items, old) == []
    assert _of(items, mild) == []


# ------------------------------------------------------- the battery now, without months of clock
def _programmed(clinic: Clinic, implant: Implant, steps: int = 0, day_night: bool = False) -> None:
    """Typical settings on the implant at T0, optionally with titration steps or day/night."""
    settings = StimulationSettings.model_validate(TYPICAL)
    with transaction(clinic.db):
        generator = device.load(implant, T0)
        generator.program(settings)
        if steps:
            dated = [
                (
                    generator.now + timedelta(days=14 * (k + 1)),
                    settings.with_(output_current_mA=1.5 + 0.25 * (k + 1)),
                )
                for k in range(steps)
            ]
            generator.schedule_titration(dated)
        if day_night:
            generator.set_day_night(settings, settings.with_(output_current_mA=0.5))
        device.store(implant, generator)


@pytest.mark.parametrize(
    ("years", "later_days", "steps", "day_night"),
    [
        (1.0, 45, 0, False),  # nothing can change: read as stored, projected
        (6.6, 120, 0, False),  # IFI reached in the gap: run to now
        (6.6, 2, 0, False),  # close to IFI, no crossing
        (8.0, 400, 0, False),  # NEOS then EOS in the gap
        (1.0, 60, 3, False),  # titration steps due in the gap: run to now
        (1.0, 30, 0, True),  # a day/night program: run to now
    ],
)
def test_battery_now_matches_the_implant_run_to_now(
    clinic: Clinic, years: float, later_days: int, steps: int, day_night: bool
) -> None:
    patient = clinic.patient()
    implant = clinic.implant(patient, years=years)
    _programmed(clinic, implant, steps, day_night)
    later = T0 + timedelta(days=later_days)

    generator, percent = battery.implant_now(implant, later)
    reference = device.load(implant, later)  # the implant's clock run to "later"
    assert generator.battery_indicator == reference.battery_indicator
    assert percent == pytest.approx(reference.battery_percent, abs=1e-3)
    events = [(e.kind, e.time) for e in reference.history if e.kind.startswith("battery_")]
    assert [(e.kind, e.time) for e in generator.history if e.kind.startswith("battery_")] == events
    assert generator.interrogate().impedance_status == reference.interrogate().impedance_status


def test_battery_now_reads_a_quiet_implant_without_running_its_clock(clinic: Clinic) -> None:
    patient = clinic.patient()
    implant = clinic.implant(patient, years=1.0)
    _programmed(clinic, implant)
    generator, _ = battery.implant_now(implant, T0 + timedelta(days=180))
    assert generator.now == device.to_device(implant.device_time)  # not run: months of clock


# ----------------------------------------------------------------------------------- ordering
def test_rows_sorted_by_urgency_then_longest_waiting(clinic: Clinic) -> None:
    assert URGENCY[0] is WorkKind.SIDE_EFFECT
    assert URGENCY[-1] is WorkKind.STALE_DIARY
    zoe = clinic.patient("Zoe Stale")  # stale diary, long ago
    implant = clinic.implant(zoe)
    clinic.pain(zoe, TODAY - timedelta(days=40))
    amy = clinic.patient("Amy Stale")  # stale diary, recently
    clinic.implant(amy)
    clinic.pain(amy, TODAY - timedelta(days=10))
    eve = clinic.patient("Eve Everything")  # NEOS battery, a broken lead, a severe side effect
    eve_implant = clinic.implant(eve, years=AGE_FOR_INDICATOR["NEOS"])
    clinic.current(eve)
    clinic.lead_fault(eve_implant, "break")
    clinic.side_effect(eve, TODAY, Severity.SEVERE, "cough")
    eos = clinic.patient("Eos Battery")
    clinic.implant(eos, years=AGE_FOR_INDICATOR["EOS"])
    clinic.current(eos)
    ifi = clinic.patient("Ifi Battery")
    clinic.implant(ifi, years=AGE_FOR_INDICATOR["IFI"])
    clinic.current(ifi)
    assert implant.id

    items = [i for i in _items(clinic) if i.patient_id in {p.id for p in (zoe, amy, eve, eos, ifi)}]
    got = [(i.kind, i.patient_name) for i in items]
    assert got == [
        (WorkKind.SIDE_EFFECT, "Eve Everything"),
        (WorkKind.IMPEDANCE, "Eve Everything"),
        (WorkKind.BATTERY_EOS, "Eos Battery"),
        (WorkKind.BATTERY_NEOS, "Eve Everything"),
        (WorkKind.BATTERY_IFI, "Ifi Battery"),
        (WorkKind.STALE_DIARY, "Zoe Stale"),  # waiting longest first
        (WorkKind.STALE_DIARY, "Amy Stale"),
    ]
    assert [i.urgency for i in items] == sorted(i.urgency for i in items)


# ---------------------------------------------------------------------------- deleted patients
def test_soft_deleted_patients_are_left_out(clinic: Clinic) -> None:
    gone = clinic.patient()  # a severe side effect, then the record was deleted (the service)
    clinic.side_effect(gone, TODAY, Severity.SEVERE, "cough")
    with transaction(clinic.db):
        patient_service.delete_patient(clinic.db, clinic.clinician, gone.id)
    # A deleted record that still has an active implant (the service refuses to delete one; a
    # record deleted before that rule, or by hand): its battery, lead and diary are not chased.
    hidden = clinic.patient()
    implant = clinic.implant(hidden, years=AGE_FOR_INDICATOR["EOS"])
    clinic.lead_fault(implant, "break")
    clinic.side_effect(hidden, TODAY, Severity.SEVERE, "cough")
    with transaction(clinic.db):
        hidden.deleted_at = T0
    kept = clinic.patient()
    clinic.side_effect(kept, TODAY, Severity.SEVERE, "cough")

    ids = {i.patient_id for i in _items(clinic)}
    assert kept.id in ids
    assert gone.id not in ids
    assert hidden.id not in ids


# ------------------------------------------------------------------------------ SQL statements
def _every_source(clinic: Clinic) -> None:
    """One patient with every kind of item, another with a current diary and nothing else."""
    patient = clinic.patient()
    implant = clinic.implant(patient, years=AGE_FOR_INDICATOR["NEOS"])
    clinic.lead_fault(implant, "break")
    clinic.pain(patient, TODAY - timedelta(days=30))
    clinic.side_effect(patient, TODAY, Severity.SEVERE, "cough")
    quiet = clinic.patient()
    clinic.implant(quiet)
    clinic.current(quiet)


@pytest.fixture
def statements(connection: Connection) -> Iterator[list[str]]:
    """The SQL statements the test's connection executes (from when the test resets it)."""
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(connection, "before_cursor_execute", count)
    yield seen
    event.remove(connection, "before_cursor_execute", count)


def test_statements_do_not_grow_with_the_patients(clinic: Clinic, statements: list[str]) -> None:
    def run() -> tuple[int, int]:
        clinic.db.expire_all()
        statements.clear()
        items = _items(clinic)
        return len(statements), len(items)

    _every_source(clinic)
    few, items_few = run()
    for _ in range(4):
        _every_source(clinic)
    many, items_many = run()
    assert items_many == 5 * items_few  # the items grow ...
    assert many == few, statements  # ... the statements do not


# -------------------------------------------------------------------------------- API and roles
@pytest.fixture
def as_user(headers_for: Callable[[User], dict[str, str]]) -> Callable[[User], dict[str, str]]:
    return headers_for


def test_api_lists_the_worklist_for_clinicians_and_nurses(
    client: TestClient, clinic: Clinic, as_user: Callable[[User], dict[str, str]], clock: Any
) -> None:
    patient = clinic.patient("Sam Severe")
    clinic.side_effect(patient, TODAY, Severity.SEVERE, "cough")
    for user in (clinic.clinician, clinic.nurse):
        r = client.get(f"{API}/worklist", headers=as_user(user))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["today"] == TODAY.isoformat()
        (row,) = [i for i in body["items"] if i["patient_id"] == patient.id]
        assert row["kind"] == "intolerable_side_effect"
        assert row["patient_name"] == "Sam Severe"
        assert row["since"] == TODAY.isoformat()
        assert row["link"] == f"/patients/{patient.id}/diary"
        assert row["urgency"] == 1


@pytest.mark.parametrize("role", [Role.ADMIN, Role.PATIENT])
def test_api_refuses_admins_and_patients(
    client: TestClient,
    make_user: UserFactory,
    as_user: Callable[[User], dict[str, str]],
    role: Role,
) -> None:
    r = client.get(f"{API}/worklist", headers=as_user(make_user(role)))
    assert r.status_code == 403, r.text


def test_api_needs_sign_in(client: TestClient) -> None:
    assert client.get(f"{API}/worklist").status_code == 401


@pytest.mark.parametrize("role", [Role.ADMIN, Role.PATIENT])
def test_service_refuses_admins_and_patients(
    db: Session, make_user: UserFactory, role: Role
) -> None:
    from openvns.clinic.errors import PermissionDeniedError

    with pytest.raises(PermissionDeniedError, match="worklist"):
        worklist.worklist(db, make_user(role), now=T0)


def test_home_page_shows_the_worklist_to_the_care_team(
    client: TestClient, clinic: Clinic, as_user: Callable[[User], dict[str, str]], clock: Any
) -> None:
    patient = clinic.patient("Sam Severe")
    clinic.side_effect(patient, TODAY, Severity.SEVERE, "cough")
    clinic.patient("Quinn Quiet")
    for user in (clinic.clinician, clinic.nurse):
        page = client.get("/", headers=HTML | as_user(user))
        assert page.status_code == 200
        section = page.text.split('id="worklist"', 1)[1].split("</section>", 1)[0]
        assert "Sam Severe" in section
        assert "Quinn Quiet" not in section
        assert f'href="/patients/{patient.id}/diary"' in section
        assert TODAY.isoformat() in section
