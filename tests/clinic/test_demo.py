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
    STIMULATION_DAYS,
    TEAM,
    mrn_for,
    seed_demo,
    side_effect_kind,
    side_effect_severity,
    simulate_demo,
)
from openvns.clinic.diaries.models import BPIEntry, PainEntry, PGICEntry, SideEffectReport
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
    assert first.patients_created == [f"FIBROMYALGIA-{i:04d}" for i in range(N)]
    counts = {m: _count(db, m) for m in (User, Patient, PainEntry, SideEffectReport, PGICEntry)}
    with transaction(db):
        again = seed_demo(db, hasher=hasher, n_patients=N, seed=SEED, today=TODAY)
    assert again.passwords == {}
    assert again.patients_existing == first.patients_created
    assert {m: _count(db, m) for m in counts} == counts
    roles = {u.email: u.role for u in db.scalars(select(User)).all()}
    for local, _, role in TEAM:
        assert roles[f"{local}@{EMAIL_DOMAIN}"] == role.value

    sim = simulate_demo(N, SEED)
    days = BASELINE_DAYS + STIMULATION_DAYS
    start = TODAY - timedelta(days=days - 1)
    for p in range(N):
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
    assert len(imports) == N
    assert all(e.actor_id is None and e.entity == "patient" for e in imports)


def test_demo_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    args = ["clinic", "demo", "--database-url", url, "--patients", "2", "--seed", "3"]
    runner = CliRunner()
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "created admin@" in result.output
    assert "patients: 2 created, 0 already present" in result.output
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
    n_patients = 2  # fibromyalgia#0001 of SEED reports more than one grade
    with transaction(db):
        seed_demo(db, hasher=hasher, n_patients=n_patients, seed=SEED, today=TODAY,
                  password=PASSWORD)  # fmt: skip
    sim = graded(n_patients, SEED)
    start = TODAY - timedelta(days=BASELINE_DAYS + STIMULATION_DAYS - 1)
    names = {side_effect_kind(n).value: k for k, n in enumerate(SIDE_EFFECTS)}
    severities = {"mild": 1, "moderate": 2, "severe": 3}
    graded_seen: set[str] = set()
    for p in range(n_patients):
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
