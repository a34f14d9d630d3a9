"""Helpers shared by the diary, outcome and demo tests: patients with their own accounts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy.orm import Session

from openvns.clinic.auth.models import Role, User
from openvns.clinic.db.session import transaction
from openvns.clinic.patients.models import Patient
from tests.clinic.conftest import UserFactory


@dataclass
class DiaryPatient:
    """A patient record, its user and that user's bearer headers."""

    patient: Patient
    user: User
    headers: dict[str, str]

    @property
    def id(self) -> int:
        return self.patient.id


PatientFactory = Callable[[], DiaryPatient]


@pytest.fixture
def make_patient(
    db: Session, make_user: UserFactory, headers_for: Callable[[User], dict[str, str]]
) -> PatientFactory:
    """Create a patient record linked to a new patient account."""
    counter = iter(range(1, 10_000))

    def make() -> DiaryPatient:
        user = make_user(Role.PATIENT)
        n = next(counter)
        with transaction(db):
            patient = Patient(
                mrn=f"DIARY-{n:04d}", full_name=f"Diary Patient {n}",
                date_of_birth=date(1970, 1, 1), sex="female", user_id=user.id,
            )  # fmt: skip
            db.add(patient)
            db.flush()
        return DiaryPatient(patient, user, headers_for(user))

    return make
