"""Benchmark: one patient's outcome pages and printable report, in process, on SQLite.

Seeds a fresh SQLite database (in a temporary directory) with a clinician and one implanted
patient: a SenTiva 1000 registered ``--days`` − 28 days ago and programmed up in weekly steps,
System Diagnostics run once, and a diary of ``--days`` days (28 baseline days, then follow-up:
daily pain, side effects on some days, PGIC and BPI every 28 days). Then times, through the
clinic app (FastAPI's test client, no network), ``--repeat`` requests of each of

* ``GET /api/v1/patients/{id}/outcomes/report`` (the printable report),
* ``GET /api/v1/patients/{id}/outcomes`` (JSON) and ``GET /patients/{id}/outcomes`` (page),

the first request of each (cold) apart from the rest (warm), and once more after a diary
write (the cache must not serve the numbers from before it). Prints seconds per request.

    .venv/bin/python benchmarks/clinic_report.py [--days 112] [--repeat 5]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import argon2
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from openvns.clinic.app import create_app
from openvns.clinic.auth import service as auth_service
from openvns.clinic.auth.models import Role, TokenKind, User
from openvns.clinic.config import Settings
from openvns.clinic.db.migrations import upgrade
from openvns.clinic.db.session import create_engine_for, make_session_factory, transaction
from openvns.clinic.diaries.models import BPIEntry, PainEntry, PGICEntry, SideEffectReport
from openvns.clinic.implants import service as implant_service
from openvns.clinic.patients import service as patient_service
from openvns.clinic.programming import service as programming
from openvns.device.settings import StimulationSettings

log = logging.getLogger("clinic_report")

PASSWORD = "benchmark password 1234"
BASELINE_DAYS = 28
#: Output currents of the weekly programming steps, mA.
STEPS_MA = (0.25, 0.5, 0.75, 1.0, 1.25)
_ITEMS = ("general_activity", "mood", "walking", "work", "relations", "sleep", "enjoyment")


def _user(session: Session, role: Role, email: str) -> User:
    hasher = argon2.PasswordHasher.from_parameters(argon2.profiles.CHEAPEST)
    return auth_service.create_user(
        session, email=email, full_name=email.split("@")[0], role=role, password=PASSWORD,
        hasher=hasher,
    )  # fmt: skip


def _program(session: Session, clinician: User, implant_id: int, when: datetime, mA: float) -> None:
    row, implant, _ = programming.start_session(session, clinician, implant_id, when)
    settings = StimulationSettings(
        output_current_mA=mA, frequency_Hz=20.0, pulse_width_us=250.0, on_time_s=30.0,
        off_time_min=5.0,
    )  # fmt: skip
    proposal, _ = programming.propose(session, clinician, row.id, settings, when)
    programming.program(session, clinician, row.id, proposal.id, implant.version, None, when)
    programming.close_session(session, clinician, row.id)


def _diary(session: Session, patient_id: int, first: date, days: int) -> None:
    for i in range(days):
        day = first + timedelta(days=i)
        follow = i - BASELINE_DAYS
        pain = 7 if follow < 0 else max(2, 7 - follow // 14)
        session.add(PainEntry(patient_id=patient_id, entry_date=day, pain_nrs=pain + i % 2))
        if follow >= 0 and i % 3 == 0:
            kind = ("voice", "cough", "throat_pain")[i % 9 // 3]
            session.add(SideEffectReport(patient_id=patient_id, entry_date=day, kind=kind,
                                         severity="mild"))  # fmt: skip
        if follow >= 0 and follow % 28 == 27:
            session.add(PGICEntry(patient_id=patient_id, entry_date=day, score=3))
        if i % 28 == 27:
            score = max(2, 6 - max(follow, 0) // 28)
            items = dict.fromkeys(_ITEMS, score)
            session.add(BPIEntry(patient_id=patient_id, entry_date=day, worst=8, least=3,
                                 average=pain, now=pain, **items))  # fmt: skip


def seed(url: str, days: int) -> tuple[int, str]:
    """Migrate and seed; returns the patient id and a clinician's bearer token."""
    upgrade(url)
    engine = create_engine_for(url)
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    first = today.date() - timedelta(days=days - 1)
    implanted = today - timedelta(days=days - BASELINE_DAYS)
    try:
        with make_session_factory(engine)() as session, transaction(session):
            nurse = _user(session, Role.NURSE, "bench.nurse@example.org")
            clinician = _user(session, Role.CLINICIAN, "bench.clinician@example.org")
            values = {"mrn": "BENCH-1", "full_name": "Bench Patient", "sex": "female",
                      "date_of_birth": date(1970, 1, 1)}  # fmt: skip
            patient = patient_service.create_patient(session, nurse, values)
            body = {"generator_model": "1000", "generator_serial": "BENCH-0001",
                    "lead_model": "304-20", "implanted_at": implanted}  # fmt: skip
            implant = implant_service.register_implant(session, clinician, patient.id, body,
                                                       implanted)  # fmt: skip
            for week, mA in enumerate(STEPS_MA):
                _program(session, clinician, implant.id, implanted + timedelta(days=7 * week), mA)
            row, _, _ = programming.start_session(session, clinician, implant.id, today)
            programming.run_diagnostics(session, clinician, row.id, today)
            programming.close_session(session, clinician, row.id)
            _diary(session, patient.id, first, days)
            raw, _ = auth_service.issue_token(session, clinician, TokenKind.BEARER,
                                              timedelta(hours=1))  # fmt: skip
            return patient.id, raw
    finally:
        engine.dispose()


def _timed(call: Callable[[], int], repeat: int) -> tuple[float, list[float]]:
    def once() -> float:
        started = time.perf_counter()
        status = call()
        elapsed = time.perf_counter() - started
        if status != 200:
            raise SystemExit(f"answered {status}")
        return elapsed

    cold = once()
    return cold, [once() for _ in range(repeat)]


def main() -> None:
    """Seed, time, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=112, help="diary length (> 28 days)")
    parser.add_argument("--repeat", type=int, default=5, help="warm requests per endpoint")
    args = parser.parse_args()
    if args.days <= BASELINE_DAYS or args.repeat < 1:
        parser.error(f"--days must exceed {BASELINE_DAYS} and --repeat be at least 1")
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        started = time.perf_counter()
        patient_id, token = seed(url, args.days)
        print(f"seeded 1 implanted patient, {args.days} diary days in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        app = create_app(Settings(database_url=url, secret_key="benchmark-secret",
                                  argon2_parameters=argon2.profiles.CHEAPEST))  # fmt: skip
        headers = {"Authorization": f"Bearer {token}"}
        api = f"/api/v1/patients/{patient_id}/outcomes"
        targets = {
            "GET report": f"{api}/report",
            "GET api outcomes": api,
            "GET outcome page": f"/patients/{patient_id}/outcomes",
        }
        with TestClient(app) as client:
            print(f"{'endpoint':<22}{'cold s':>9}{'warm median s':>15}{'warm max s':>12}")
            for name, path in targets.items():
                cold, warm = _timed(lambda p=path: client.get(p, headers=headers).status_code,
                                    args.repeat)  # fmt: skip
                print(f"{name:<22}{cold:>9.3f}{statistics.median(warm):>15.3f}{max(warm):>12.3f}")
            # a diary correction must be seen by the next read (no stale numbers)
            engine = create_engine_for(url)
            with make_session_factory(engine)() as session, transaction(session):
                entry = session.query(PainEntry).order_by(PainEntry.entry_date.desc()).first()
                assert entry is not None
                entry.pain_nrs = 10 - entry.pain_nrs
            engine.dispose()
            after, _ = _timed(lambda: client.get(f"{api}/report", headers=headers).status_code, 0)
            print(f"{'GET report after write':<22}{after:>9.3f}")


if __name__ == "__main__":
    main()
