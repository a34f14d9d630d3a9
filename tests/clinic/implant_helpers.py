"""Helpers shared by the evaluation, implant and programming tests: a care team and patients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from openvns.clinic.auth.models import Role, User
from openvns.clinic.db.session import transaction
from openvns.clinic.implants.clock import get_now
from openvns.clinic.implants.models import Implant
from openvns.clinic.patients import service as patient_service
from openvns.clinic.patients.models import Patient
from tests.clinic.conftest import UserFactory

API = "/api/v1"
#: A fixed "now" for the tests that let simulated time pass.
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

TYPICAL: dict[str, Any] = {
    "output_current_mA": 1.5,
    "frequency_Hz": 20.0,
    "pulse_width_us": 250.0,
    "on_time_s": 30.0,
    "off_time_min": 5.0,
}


@dataclass
class Team:
    """A clinician, a second clinician, a nurse, a patient with a record, and their headers."""

    clinician: User
    clinician2: User
    nurse: User
    patient_user: User
    patient: Patient
    headers: Callable[[User], dict[str, str]]

    @property
    def as_clinician(self) -> dict[str, str]:
        return self.headers(self.clinician)


@pytest.fixture
def team(
    db: Session, make_user: UserFactory, headers_for: Callable[[User], dict[str, str]]
) -> Team:
    """A care team and one patient (with their own account)."""
    clinician, clinician2 = make_user(Role.CLINICIAN), make_user(Role.CLINICIAN)
    nurse, patient_user = make_user(Role.NURSE), make_user(Role.PATIENT)
    patient = new_patient(db, nurse, "IMP-1", patient_user.id)
    return Team(clinician, clinician2, nurse, patient_user, patient, headers_for)


def new_patient(
    db: Session, nurse: User, mrn: str, user_id: int | None = None, born: date | None = None
) -> Patient:
    """A patient record created through the service."""
    values = {
        "mrn": mrn,
        "full_name": f"Patient {mrn}",
        "date_of_birth": born or date(1975, 3, 1),
        "sex": "female",
        "user_id": user_id,
    }
    with transaction(db):
        return patient_service.create_patient(db, nurse, values)


@pytest.fixture
def clock(app: FastAPI, client: TestClient) -> Iterator[dict[str, datetime]]:
    """The app's "now" fixed at :data:`T0`; set ``clock["now"]`` to let time pass."""
    state = {"now": T0}
    app.dependency_overrides[get_now] = lambda: state["now"]
    yield state
    app.dependency_overrides.pop(get_now, None)


def register(
    client: TestClient, headers: dict[str, str], patient_id: int, **overrides: Any
) -> dict[str, Any]:
    """Register an implant (SenTiva 1000 with a 2 mm lead by default) and return the body."""
    body = {"generator_model": "1000", "generator_serial": "SN-0001", "lead_model": "304-20"}
    r = client.post(
        f"{API}/patients/{patient_id}/implants", json={**body, **overrides}, headers=headers
    )
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def start(client: TestClient, headers: dict[str, str], implant_id: int) -> dict[str, Any]:
    """Start a programming session; the body holds ``session`` and ``interrogation``."""
    r = client.post(f"{API}/implants/{implant_id}/programming-sessions", headers=headers)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def stored(db: Session, implant_id: int) -> tuple[str, int]:
    """The implant's stored state and version, read fresh from the database."""
    db.expire_all()
    implant = db.get(Implant, implant_id)
    assert implant is not None
    return implant.state_json, implant.version
