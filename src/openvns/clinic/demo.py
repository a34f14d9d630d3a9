"""Demonstration data: a care team and virtual patients whose diaries come from the simulator.

:func:`seed_demo` runs in the caller's transaction and is idempotent: users whose e-mail exists
and patients whose MRN exists are left as they are (and reported as existing).

The patients are ``fibromyalgia#0000`` … of :class:`openvns.simulation.Simulation` (the same
patients as in any trial with the same root seed), all on the standard titration to tolerance
(:data:`openvns.protocol.STANDARD_TITRATION`), with a 28-day baseline and 84 days of
stimulation, dated so that the last simulated day is ``today``. The mapping to diary rows:

* pain: one entry per observed simulated day (NRS as simulated);
* side effects: a report per observed day and side effect the simulator reports
  (``ae_reported``), of the kind of the same name (:func:`side_effect_kind`; the three-channel
  simulator's ``throat_cough`` is stored as ``cough``), with the simulated severity
  (``ae_severity``: 1 mild, 2 moderate, 3 severe) where the simulation has one, else ``mild``
  (:func:`side_effect_severity`);
* PGIC every 28 days of stimulation and BPI interference at the end of the baseline and every
  28 days of stimulation: the patient's own latent outcomes
  (:func:`openvns.patients.outcomes.simulate_outcomes` of the simulated pain before rounding,
  ``reported_pain_NRS``), asked on that day; the interference score (a mean of seven items) is
  spread over the seven integer items so that their mean is the score; worst/least/average/now
  from the last 28 days' entries and the day's; no questionnaire once the diary has stopped;
* the baseline window (the 28 baseline days) is set as a clinician-set window.

The MRN is the virtual patient's name in capitals with ``-`` for ``#``
(``FIBROMYALGIA-0007``). Every created user and patient is audited (actor: the system); the
diary rows of a patient are summarised in one ``demo_import`` audit entry.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import argon2
import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from openvns.analysis.endpoints import window_mean_NRS
from openvns.clinic.audit import service as audit
from openvns.clinic.auth import service as auth
from openvns.clinic.auth.models import Role
from openvns.clinic.db.base import utcnow
from openvns.clinic.diaries.models import (
    BPI_INTERFERENCE_ITEMS,
    BPIEntry,
    PainEntry,
    PGICEntry,
    Severity,
    SideEffectKind,
    SideEffectReport,
)
from openvns.clinic.outcomes.models import BaselineWindow
from openvns.clinic.patients.models import Patient
from openvns.patients.cohort import patient_name, sample_patients
from openvns.patients.outcomes import Outcomes, simulate_outcomes
from openvns.physiology.model import SIDE_EFFECTS
from openvns.protocol import STANDARD_TITRATION, Protocol
from openvns.random import rng_for
from openvns.simulation import Simulation

log = logging.getLogger(__name__)

CONDITION = "fibromyalgia"
EMAIL_DOMAIN = "demo.openvns.example.org"
BASELINE_DAYS = 28
STIMULATION_DAYS = 84
#: Days between questionnaires (PGIC, BPI) during stimulation.
QUESTIONNAIRE_EVERY_DAYS = 28
#: The demonstration care team: (e-mail local part, full name, role).
TEAM: tuple[tuple[str, str, Role], ...] = (
    ("admin", "Demo Administrator", Role.ADMIN),
    ("clinician1", "Dr Ada Lovelace (demo)", Role.CLINICIAN),
    ("clinician2", "Dr Alan Turing (demo)", Role.CLINICIAN),
    ("nurse", "Grace Hopper (demo nurse)", Role.NURSE),
)


@dataclass
class DemoResult:
    """What :func:`seed_demo` did: users created (with their passwords) or found, patients."""

    passwords: dict[str, str] = field(default_factory=dict)
    existing_users: list[str] = field(default_factory=list)
    patients_created: list[str] = field(default_factory=list)
    patients_existing: list[str] = field(default_factory=list)


def demo_protocol() -> Protocol:
    """The standard titration to tolerance after a 28-day baseline."""
    return Protocol.parse(f"{STANDARD_TITRATION}; baseline {BASELINE_DAYS} days")


def simulate_demo(n_patients: int, seed: int) -> dict[str, npt.NDArray[Any]]:
    """The simulator's rows (``nrs``, ``observed``, ``ae_reported``…) for the demo patients."""
    names = [patient_name(CONDITION, i) for i in range(n_patients)]
    solution = Simulation(names, demo_protocol(), seed=seed).run(BASELINE_DAYS + STIMULATION_DAYS)
    return {name: solution[name] for name in solution.names()}


def mrn_for(name: str) -> str:
    """``fibromyalgia#0007`` → ``FIBROMYALGIA-0007``."""
    return name.replace("#", "-").upper()


def _user(
    session: Session,
    result: DemoResult,
    email: str,
    name: str,
    role: Role,
    password: str | None,
    hasher: argon2.PasswordHasher,
) -> int:
    found = auth.find_user_by_email(session, email)
    if found is not None:
        result.existing_users.append(email)
        return found.id
    secret = password or secrets.token_urlsafe(12)
    user = auth.create_user(
        session, email=email, full_name=name, role=role, password=secret, hasher=hasher
    )
    result.passwords[email] = secret
    return user.id


#: Simulator side effects whose diary kind has another name.
SIMULATOR_KINDS: dict[str, SideEffectKind] = {"throat_cough": SideEffectKind.COUGH}
#: ``ae_severity`` codes 1, 2, 3 (0: none).
SEVERITY_CODES: dict[int, Severity] = {1: Severity.MILD, 2: Severity.MODERATE, 3: Severity.SEVERE}


def side_effect_kind(name: str) -> SideEffectKind:
    """The diary kind of the simulator's side effect ``name`` (a ``ValueError`` if none)."""
    if name in SIMULATOR_KINDS:
        return SIMULATOR_KINDS[name]
    try:
        return SideEffectKind(name)
    except ValueError:
        raise ValueError(f"simulated side effect {name!r} has no diary kind") from None


def side_effect_severity(code: int | None) -> Severity:
    """The severity of a reported side effect: ``ae_severity``'s code, or ``mild`` when the
    simulation grades none (no ``ae_severity``, or 0 on a reported day)."""
    if code is None or code == 0:
        return Severity.MILD
    if code not in SEVERITY_CODES:
        raise ValueError(f"ae_severity {code} is not 0 (none), 1, 2 or 3")
    return SEVERITY_CODES[code]


def _questionnaire_days() -> list[int]:
    stop = BASELINE_DAYS + STIMULATION_DAYS
    return list(range(BASELINE_DAYS + QUESTIONNAIRE_EVERY_DAYS - 1, stop, QUESTIONNAIRE_EVERY_DAYS))


def _diary_rows(
    sim: dict[str, npt.NDArray[Any]], outcomes: Outcomes, p: int, first: date
) -> list[Any]:
    nrs = sim["nrs"][p].astype(np.float64)
    observed = sim["observed"][p]
    rows: list[Any] = []
    kinds = [side_effect_kind(name).value for name in SIDE_EFFECTS]
    graded = sim.get("ae_severity")
    for d in np.flatnonzero(observed).tolist():
        day = first + timedelta(days=d)
        rows.append(PainEntry(entry_date=day, pain_nrs=int(nrs[d])))
        for k, kind in enumerate(kinds):
            if sim["ae_reported"][p, d, k]:
                code = None if graded is None else int(graded[p, d, k])
                severity = side_effect_severity(code).value
                rows.append(SideEffectReport(entry_date=day, kind=kind, severity=severity))
    diary = np.where(observed, nrs, np.nan)[None, :]
    for j, q in enumerate([BASELINE_DAYS - 1, *_questionnaire_days()]):
        day = first + timedelta(days=q)
        window = slice(q + 1 - QUESTIONNAIRE_EVERY_DAYS, q + 1)
        in_study = not np.isnan(window_mean_NRS(diary, None, window)[0])
        score = float(outcomes.pgic[p, q])
        if j > 0 and in_study and not np.isnan(score):
            rows.append(PGICEntry(entry_date=day, score=int(score)))
        block = diary[0, window][~np.isnan(diary[0, window])]
        if not in_study or not observed[q] or block.size == 0:
            continue
        items = _bpi_items(float(outcomes.bpi_interference[p, q]))
        rows.append(
            BPIEntry(
                entry_date=day,
                worst=int(block.max()),
                least=int(block.min()),
                average=int(np.round(block.mean())),
                now=int(nrs[q]),
                **items,
            )
        )
    return rows


def _bpi_items(interference: float) -> dict[str, int]:
    """Seven integer items whose mean is ``interference`` (a multiple of 1/7 in 0–10)."""
    total = round(interference * len(BPI_INTERFERENCE_ITEMS))
    low, extra = divmod(total, len(BPI_INTERFERENCE_ITEMS))
    return {item: low + (k < extra) for k, item in enumerate(BPI_INTERFERENCE_ITEMS)}


def simulate_demo_outcomes(sim: dict[str, npt.NDArray[Any]], n: int, seed: int) -> Outcomes:
    """PGIC, BPI interference, FIQR and sleep of the demo patients, every day."""
    cohort = sample_patients(CONDITION, np.arange(n), seed)
    felt = np.asarray(sim["reported_pain_NRS"], dtype=np.float64)
    return simulate_outcomes(cohort, felt, baseline_days=BASELINE_DAYS, root_seed=seed)


def seed_demo(
    session: Session,
    *,
    hasher: argon2.PasswordHasher,
    n_patients: int = 12,
    seed: int = 0,
    today: date | None = None,
    password: str | None = None,
) -> DemoResult:
    """Create the demo team and ``n_patients`` virtual patients with simulated diaries.

    Parameters
    ----------
    hasher
        Password hasher for the new accounts.
    n_patients, seed
        Virtual patients ``fibromyalgia#0000`` … and the simulator's root seed.
    today
        Date of the last simulated day (default: today, UTC).
    password
        Password of every new account; ``None``: a random one per account (returned).
    """
    result = DemoResult()
    for local, name, role in TEAM:
        _user(session, result, f"{local}@{EMAIL_DOMAIN}", name, role, password, hasher)
    clinician = auth.find_user_by_email(session, f"clinician1@{EMAIL_DOMAIN}")
    last = today or utcnow().date()
    first = last - timedelta(days=BASELINE_DAYS + STIMULATION_DAYS - 1)
    sim = simulate_demo(n_patients, seed)
    outcomes = simulate_demo_outcomes(sim, n_patients, seed)
    for p in range(n_patients):
        name = patient_name(CONDITION, p)
        mrn = mrn_for(name)
        if session.scalar(select(Patient.id).where(Patient.mrn == mrn)) is not None:
            result.patients_existing.append(mrn)
            continue
        email = f"{mrn.lower()}@{EMAIL_DOMAIN}"
        user_id = _user(session, result, email, f"Virtual patient {name}", Role.PATIENT,
                        password, hasher)  # fmt: skip
        rng = rng_for(seed, "demo", CONDITION, p)
        patient = Patient(
            mrn=mrn, full_name=f"Virtual patient {name}",
            date_of_birth=date(int(last.year - rng.integers(30, 70)), 1 + int(rng.integers(12)), 1),
            sex="female" if rng.random() < 0.85 else "male",
            diagnosis=f"{CONDITION} (simulated: {name}, root seed {seed})",
            pain_duration_months=int(rng.integers(12, 240)), user_id=user_id,
        )  # fmt: skip
        session.add(patient)
        session.flush()
        audit.record(session, None, "create", "patient", patient.id, None, audit.snapshot(patient))
        rows = _diary_rows(sim, outcomes, p, first)
        for row in rows:
            row.patient_id = patient.id
        session.add_all(rows)
        session.add(
            BaselineWindow(
                patient_id=patient.id,
                start_date=first,
                end_date=first + timedelta(days=BASELINE_DAYS - 1),
                set_by=clinician.id if clinician else None,
            )
        )
        session.flush()
        counts: dict[str, Any] = {"source": name, "root_seed": seed, "baseline_window": [
            first.isoformat(), (first + timedelta(days=BASELINE_DAYS - 1)).isoformat()
        ]}  # fmt: skip
        for model in (PainEntry, SideEffectReport, PGICEntry, BPIEntry):
            counts[model.__tablename__] = sum(isinstance(r, model) for r in rows)
        audit.record(session, None, "demo_import", "patient", patient.id, None, counts)
        result.patients_created.append(mrn)
    log.info(
        "demo: %d patients created, %d existing",
        len(result.patients_created),
        len(result.patients_existing),
    )
    return result
