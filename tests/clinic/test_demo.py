"""``openvns clinic demo``: idempotent, and its diaries are the simulator's for the same seed."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import argon2
import numpy as np
import numpy.typing as npt
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from openvns.analysis.endpoints import window_mean_NRS
from openvns.cli.main import app
from openvns.clinic import demo
from openvns.clinic.audit.models import AuditEntry
from openvns.clinic.auth.models import Role, User
from openvns.clinic.db.session import create_engine_for, transaction
from openvns.clinic.demo import (
    BASELINE_DAYS,
    EMAIL_DOMAIN,
    IMPLANT_DAY,
    SCREENING_DAYS,
    STIMULATION_DAYS,
    TEAM,
    choose,
    mrn_for,
    pool_size,
    programming_days,
    seed_demo,
    side_effect_kind,
    side_effect_severity,
    simulate_demo,
    split_counts,
)
from openvns.clinic.diaries.models import BPIEntry, PainEntry, PGICEntry, SideEffectReport
from openvns.clinic.evaluation import service as evaluations
from openvns.clinic.evaluation.rules import Outcome
from openvns.clinic.implants.models import Implant, ImplantStatus
from openvns.clinic.outcomes import service as outcomes
from openvns.clinic.patients.models import Patient
from openvns.physiology.model import SIDE_EFFECTS

TODAY = date.today() - timedelta(days=5)
SEED = 5
N = 3
PASSWORD = "demo password 123"


def _count(db: Session, model: type[object]) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_demo_is_idempotent_and_equals_the_simulator(
    db: Session, hasher: argon2.PasswordHasher
) -> None:
    with transaction(db):
        first = seed_demo(db, hasher=hasher, n_patients=N, seed=SEED, today=TODAY,
                          password=PASSWORD)  # fmt: skip
    assert len(first.passwords) == len(TEAM) + N
    assert set(first.passwords.values()) == {PASSWORD}
    sim = simulate_demo(pool_size(N), SEED)
    cast = choose(sim, *split_counts(N))
    assert len(cast.implanted) + len(cast.candidates) == N
    assert first.patients_created == [
        mrn_for(f"fibromyalgia#{p:04d}") for p in sorted(cast.implanted + cast.candidates)
    ]
    assert first.implanted == [mrn_for(f"fibromyalgia#{p:04d}") for p in cast.implanted]
    counts = {m: _count(db, m) for m in (User, Patient, PainEntry, SideEffectReport, PGICEntry)}
    with transaction(db):
        again = seed_demo(db, hasher=hasher, n_patients=N, seed=SEED, today=TODAY)
    assert again.passwords == {}
    assert again.patients_existing == first.patients_created
    assert {m: _count(db, m) for m in counts} == counts
    roles = {u.email: u.role for u in db.scalars(select(User)).all()}
    for local, _, role in TEAM:
        assert roles[f"{local}@{EMAIL_DOMAIN}"] == role.value

    days = BASELINE_DAYS + STIMULATION_DAYS
    start = TODAY - timedelta(days=days - 1)
    for p in cast.candidates:  # the screening diary, ending today, and no side effect
        patient = db.scalar(select(Patient).where(Patient.mrn == mrn_for(f"fibromyalgia#{p:04d}")))
        assert patient is not None
        pain = db.scalars(
            select(PainEntry)
            .where(PainEntry.patient_id == patient.id)
            .order_by(PainEntry.entry_date)
        ).all()
        screening = TODAY - timedelta(days=SCREENING_DAYS - 1)
        observed = np.flatnonzero(sim["observed"][p, :SCREENING_DAYS])
        assert [e.entry_date for e in pain] == [
            screening + timedelta(days=int(d)) for d in observed
        ]
        assert [e.pain_nrs for e in pain] == [int(sim["nrs"][p, d]) for d in observed]
    for p in cast.implanted:
        patient = db.scalar(select(Patient).where(Patient.mrn == mrn_for(f"fibromyalgia#{p:04d}")))
        assert patient is not None
        user = db.get(User, patient.user_id)
        assert user is not None
        assert user.role == Role.PATIENT.value
        pain = db.scalars(
            select(PainEntry)
            .where(PainEntry.patient_id == patient.id)
            .order_by(PainEntry.entry_date)
        ).all()
        observed = np.flatnonzero(sim["observed"][p])
        assert [e.entry_date for e in pain] == [start + timedelta(days=int(d)) for d in observed]
        assert [e.pain_nrs for e in pain] == [int(sim["nrs"][p, d]) for d in observed]
        effects = db.scalars(
            select(SideEffectReport).where(SideEffectReport.patient_id == patient.id)
        ).all()
        got = {((e.entry_date - start).days, e.kind, e.severity) for e in effects}
        graded = sim.get("ae_severity")
        want = {
            (int(d), side_effect_kind(SIDE_EFFECTS[k]).value,
             side_effect_severity(None if graded is None else int(graded[p, d, k])).value)
            for d in observed
            for k in range(len(SIDE_EFFECTS))
            if sim["ae_reported"][p, d, k]
        }  # fmt: skip
        assert got == want
        assert "throat_cough" not in {e.kind for e in effects}
        result = outcomes.patient_outcomes(db, user, patient.id)
        assert result.baseline is not None
        assert result.baseline.source == "clinician"
        nrs = np.where(sim["observed"][p : p + 1], sim["nrs"][p : p + 1], np.nan)
        expected = float(window_mean_NRS(nrs, None, slice(0, BASELINE_DAYS))[0])
        assert result.baseline.mean_NRS == expected
        assert len(result.pgic) >= 1
        assert all(1 <= q.score <= 7 for q in result.pgic)
    assert _count(db, BPIEntry) >= 1
    imports = db.scalars(select(AuditEntry).where(AuditEntry.action == "demo_import")).all()
    assert {e.at.date() for e in imports} == {TODAY}
    assert len(imports) == N
    assert all(e.actor_id is None and e.entity == "patient" for e in imports)


def test_demo_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    args = ["clinic", "demo", "--database-url", url, "--patients", "2", "--seed", "3"]
    runner = CliRunner()
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "created admin@" in result.output
    assert "patients: 2 created, 0 already present" in result.output  # one implanted, one candidate
    again = runner.invoke(app, [*args, "--password", "a long enough password"])
    assert again.exit_code == 0, again.output
    assert "patients: 0 created, 2 already present" in again.output
    assert "created" not in again.output.replace("0 created", "")
    engine = create_engine_for(url)
    try:
        with Session(engine) as session:
            assert _count(session, Patient) == 2
    finally:
        engine.dispose()
    short = runner.invoke(app, [*args, "--password", "short"])
    assert short.exit_code != 0


def test_side_effect_names_and_severities_map_to_diary_kinds() -> None:
    assert side_effect_kind("throat_cough").value == "cough"  # the three-channel simulator
    for name in ("voice", "cough", "throat_pain", "dyspnoea", "laryngismus", "dysphagia",
                 "neck_pain", "headache", "paraesthesia", "nausea", "heart_rate",
                 "application_site", "dizziness", "muscle_twitch"):  # fmt: skip
        assert side_effect_kind(name).value == name
    with pytest.raises(ValueError, match="'tinnitus' has no diary kind"):
        side_effect_kind("tinnitus")
    assert [side_effect_severity(c).value for c in (None, 0, 1, 2, 3)] == [
        "mild", "mild", "mild", "moderate", "severe"
    ]  # fmt: skip
    with pytest.raises(ValueError, match="ae_severity 4"):
        side_effect_severity(4)


def test_demo_stores_the_simulated_severity(
    db: Session, hasher: argon2.PasswordHasher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the simulation grades its side effects (``ae_severity``), the diary has that grade."""
    simulate = demo.simulate_demo

    def graded(n_patients: int, seed: int) -> dict[str, npt.NDArray[object]]:
        sim = simulate(n_patients, seed)
        if "ae_severity" not in sim:  # the three-channel simulator: grade it here, 1..3
            codes = np.arange(sim["ae_reported"].size).reshape(sim["ae_reported"].shape) % 3 + 1
            sim["ae_severity"] = np.where(sim["ae_reported"], codes, 0).astype(np.int8)
        return sim

    monkeypatch.setattr(demo, "simulate_demo", graded)
    n_patients = 3
    with transaction(db):
        seed_demo(db, hasher=hasher, n_patients=n_patients, seed=SEED, today=TODAY,
                  password=PASSWORD)  # fmt: skip
    sim = graded(pool_size(n_patients), SEED)
    cast = choose(sim, *split_counts(n_patients))
    start = TODAY - timedelta(days=BASELINE_DAYS + STIMULATION_DAYS - 1)
    names = {side_effect_kind(n).value: k for k, n in enumerate(SIDE_EFFECTS)}
    severities = {"mild": 1, "moderate": 2, "severe": 3}
    graded_seen: set[str] = set()
    for p in cast.implanted:
        patient = db.scalar(select(Patient).where(Patient.mrn == mrn_for(f"fibromyalgia#{p:04d}")))
        assert patient is not None
        effects = db.scalars(
            select(SideEffectReport).where(SideEffectReport.patient_id == patient.id)
        ).all()
        assert len(effects) == int(sim["ae_reported"][p][sim["observed"][p]].sum())
        for e in effects:
            d, k = (e.entry_date - start).days, names[e.kind]
            assert sim["ae_reported"][p, d, k]
            assert severities[e.severity] == max(int(sim["ae_severity"][p, d, k]), 1)
        graded_seen |= {e.severity for e in effects}
    assert len(graded_seen) > 1


@pytest.fixture
def demo_db(db: Session, hasher: argon2.PasswordHasher) -> Session:
    """A demo of :data:`N_CLINIC` patients (a quarter candidates), ending on ``TODAY``."""
    with transaction(db):
        seed_demo(db, hasher=hasher, n_patients=N_CLINIC, seed=SEED, today=TODAY,
                  password=PASSWORD)  # fmt: skip
    return db


N_CLINIC = 8


def _clinician(db: Session) -> User:
    user = db.scalar(select(User).where(User.email == f"clinician1@{EMAIL_DOMAIN}"))
    assert user is not None
    return user


def test_no_side_effect_report_without_an_active_implant(demo_db: Session) -> None:
    db = demo_db
    reports = db.scalars(select(SideEffectReport)).all()
    assert reports
    for report in reports:
        implant = db.scalar(
            select(Implant).where(
                Implant.patient_id == report.patient_id,
                Implant.status == ImplantStatus.ACTIVE.value,
            )
        )
        assert implant is not None, report.patient_id
        assert implant.implanted_at.date() <= report.entry_date


def test_every_implanted_patient_passes_the_rules_and_a_candidate_does_not(
    demo_db: Session,
) -> None:
    db = demo_db
    clinician = _clinician(db)
    implanted = set(db.scalars(select(Implant.patient_id)).all())
    demo_patients = db.scalars(select(Patient).where(Patient.mrn.like("FIBROMYALGIA-%"))).all()
    assert len(implanted) == split_counts(N_CLINIC)[0]
    ineligible_reasons: list[str] = []
    for patient in demo_patients:
        rows, _ = evaluations.list_evaluations(db, clinician, patient.id)
        assert rows, patient.mrn  # every demo patient was evaluated
        for row in rows:
            _, _, assessed = evaluations.assessment(db, clinician, row.id)
            if patient.id in implanted:
                assert assessed.outcome != Outcome.NOT_ELIGIBLE, (patient.mrn, assessed)
                assert row.baseline_nrs >= 5
            elif assessed.outcome == Outcome.NOT_ELIGIBLE:
                assert assessed.reasons
                ineligible_reasons += [
                    r.message for r in assessed.reasons if r.kind != "precaution"
                ]
    assert ineligible_reasons  # at least one candidate is not eligible, and says why
    assert all(message.strip() for message in ineligible_reasons)


def test_programming_history_spans_weeks_with_actors_at_the_simulated_dates(
    demo_db: Session,
) -> None:
    db = demo_db
    sim = simulate_demo(pool_size(N_CLINIC), SEED)
    cast = choose(sim, *split_counts(N_CLINIC))
    start = TODAY - timedelta(days=BASELINE_DAYS + STIMULATION_DAYS - 1)
    actors: set[int] = set()
    for p in cast.implanted:
        patient = db.scalar(select(Patient).where(Patient.mrn == mrn_for(f"fibromyalgia#{p:04d}")))
        assert patient is not None
        implant = db.scalar(select(Implant).where(Implant.patient_id == patient.id))
        assert implant is not None
        assert implant.implanted_at.date() == start + timedelta(days=IMPLANT_DAY)
        entries = db.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.entity == "implant",
                AuditEntry.entity_id == implant.id,
                AuditEntry.action == "program",
            )
            .order_by(AuditEntry.at)
        ).all()
        days = [start + timedelta(days=d) for d in programming_days(sim, p)]
        assert [e.at.date() for e in entries] == days
        assert len(days) >= 2
        assert (days[-1] - days[0]).days >= 7  # weeks of programming history
        assert all(e.actor_id is not None for e in entries)
        assert [e.after["settings"]["output_current_mA"] for e in entries] == [
            float(sim["programmed_current_mA"][p, d]) for d in programming_days(sim, p)
        ]
        actors |= {e.actor_id for e in entries if e.actor_id is not None}
    assert len(actors) >= 2  # the clinicians take turns
