"""The demo's PGIC and BPI rows are the patients' latent outcomes (openvns.patients.outcomes)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import argon2
import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from openvns.clinic.auth.models import Role, User
from openvns.clinic.db.session import transaction
from openvns.clinic.demo import (
    BASELINE_DAYS,
    STIMULATION_DAYS,
    choose,
    mrn_for,
    pool_size,
    seed_demo,
    simulate_demo,
    simulate_demo_outcomes,
    split_counts,
)
from openvns.clinic.diaries.models import BPI_INTERFERENCE_ITEMS, BPIEntry, PGICEntry
from openvns.clinic.outcomes import service as outcomes_service
from openvns.clinic.patients.models import Patient

TODAY = date.today() - timedelta(days=3)
SEED, N = 8, 3


def test_demo_questionnaires_are_the_latent_outcomes(
    db: Session, hasher: argon2.PasswordHasher
) -> None:
    with transaction(db):
        seed_demo(db, hasher=hasher, n_patients=N, seed=SEED, today=TODAY)
    pool = pool_size(N)
    outcomes = simulate_demo_outcomes(simulate_demo(pool, SEED), pool, SEED)
    start = TODAY - timedelta(days=BASELINE_DAYS + STIMULATION_DAYS - 1)
    seen_pgic = 0
    cast = choose(simulate_demo(pool_size(N), SEED), *split_counts(N))
    for p in cast.implanted:
        patient = db.scalar(select(Patient).where(Patient.mrn == mrn_for(f"fibromyalgia#{p:04d}")))
        assert patient is not None
        for e in db.scalars(select(PGICEntry).where(PGICEntry.patient_id == patient.id)):
            assert e.score == outcomes.pgic[p, (e.entry_date - start).days]
            seen_pgic += 1
        for b in db.scalars(select(BPIEntry).where(BPIEntry.patient_id == patient.id)):
            items = [getattr(b, item) for item in BPI_INTERFERENCE_ITEMS]
            expected = outcomes.bpi_interference[p, (b.entry_date - start).days]
            assert abs(np.mean(items) - expected) < 1e-9
            assert max(items) - min(items) <= 1
    assert seen_pgic >= 1


def test_demo_outcome_pages_are_not_all_stale(db: Session, hasher: argon2.PasswordHasher) -> None:
    """Seen on the demo's today, most implanted patients' diaries are current."""
    with transaction(db):
        result = seed_demo(db, hasher=hasher, n_patients=N, seed=SEED, today=TODAY)
    clinician = db.scalar(select(User).where(User.role == Role.CLINICIAN.value))
    assert clinician is not None
    now = datetime.combine(TODAY, time(12), tzinfo=UTC)
    current = 0
    for mrn in result.implanted:
        patient = db.scalar(select(Patient).where(Patient.mrn == mrn))
        assert patient is not None
        page = outcomes_service.patient_outcomes(db, clinician, patient.id, now=now)
        current += not page.responder.diary.stale
    assert current >= 1
    assert current * 2 >= len(result.implanted)
