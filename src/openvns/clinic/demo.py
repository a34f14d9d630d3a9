"""Demonstration data: a care team, candidates and implanted virtual patients.

:func:`seed_demo` runs in the caller's transaction and is idempotent: users whose e-mail exists
and patients whose MRN exists are left as they are (and reported as existing). The clinic it
builds is described in ``docs/clinic-outcomes.md`` (Demonstration data):

* the simulator (:class:`openvns.simulation.Simulation`, ``fibromyalgia#0000`` …, the standard
  titration to tolerance after a 28-day baseline, 84 days of stimulation, the last simulated day
  being ``today``) runs a pool of patients; :func:`choose` implants those whose screening
  baseline (:func:`evaluation_baseline`) passes the clinic's pain-severity rule and makes the
  next ones candidates (:func:`split_counts`: a quarter candidates);
* implanted patients: an evaluation (eligible by :mod:`openvns.clinic.evaluation.rules`), an
  implant registered on :data:`IMPLANT_DAY`, a programming visit through
  :mod:`openvns.clinic.programming.service` on every day the simulated settings change
  (:func:`programming_days`), the clinicians in turn; the simulator's diary (pain, side effects
  from the implantation on, PGIC, BPI) and the baseline window;
* candidates: the screening pain diary ending today and the nurse's evaluation, with the
  profiles of :data:`CANDIDATE_PROFILES` in turn (some not eligible).

The mapping to diary rows: a pain entry per observed simulated day (NRS as simulated); a
side-effect report per observed day and side effect the simulator reports (``ae_reported``), of
the kind of the same name (:func:`side_effect_kind`; ``throat_cough`` is stored as ``cough``),
with the simulated severity (:func:`side_effect_severity`); PGIC every 28 days of stimulation and
BPI interference at the end of the baseline and every 28 days of stimulation, the patient's own
latent outcomes (:func:`openvns.patients.outcomes.simulate_outcomes`), the interference score
spread over the seven integer items so that their mean is the score.

The MRN is the virtual patient's name in capitals with ``-`` for ``#`` (``FIBROMYALGIA-0007``).
Everything is audited through the services, each entry dated at the simulated time it happened
(:func:`_dated`); the diary rows of a patient are summarised in one ``demo_import`` entry.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import argon2
import numpy as np
import numpy.typing as npt
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from openvns.analysis.endpoints import window_mean_NRS
from openvns.clinic.audit import service as audit
from openvns.clinic.audit.models import AuditEntry
from openvns.clinic.auth import service as auth
from openvns.clinic.auth.models import Role, User
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
from openvns.clinic.evaluation import service as evaluations
from openvns.clinic.evaluation.models import Diagnosis, Evaluation, Treatment
from openvns.clinic.evaluation.rules import default_rules
from openvns.clinic.evaluation.schemas import EvaluationCreate
from openvns.clinic.implants import service as implants
from openvns.clinic.implants.models import Implant
from openvns.clinic.outcomes.models import BaselineWindow
from openvns.clinic.patients.models import Patient
from openvns.clinic.programming import service as programming
from openvns.device.settings import StimulationSettings
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
#: Diary days before the screening evaluation; its baseline pain is their mean.
SCREENING_DAYS = 14
#: Day of the implantation (stimulation starts on day BASELINE_DAYS, two weeks later).
IMPLANT_DAY = 14
GENERATOR_MODEL = "1000"
LEAD_MODEL = "304-20"
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
    implanted: list[str] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)


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


def evaluation_baseline(sim: dict[str, npt.NDArray[Any]], p: int) -> float:
    """The baseline pain a screening evaluation records: the mean of the first
    :data:`SCREENING_DAYS` diary days, to the nearest 0.5 (``nan`` if none was kept)."""
    nrs = np.where(sim["observed"][p, :SCREENING_DAYS], sim["nrs"][p, :SCREENING_DAYS], np.nan)
    if np.isnan(nrs).all():
        return float("nan")
    return float(np.round(np.nanmean(nrs) * 2) / 2)


@dataclass(frozen=True)
class Cast:
    """Who is who in the demo: pool indices of the implanted patients and of the candidates."""

    implanted: tuple[int, ...]
    candidates: tuple[int, ...]


def choose(sim: dict[str, npt.NDArray[Any]], n_implanted: int, n_candidates: int) -> Cast:
    """Implant the first ``n_implanted`` virtual patients whose screening baseline passes the
    clinic's pain-severity criterion; the next ``n_candidates`` (passing or not) are candidates
    in screening."""
    threshold = next(r.threshold for r in default_rules().rules if r.code == "pain_severity")
    assert threshold is not None
    implanted: list[int] = []
    candidates: list[int] = []
    for p in range(sim["nrs"].shape[0]):
        baseline = evaluation_baseline(sim, p)
        if len(implanted) < n_implanted and baseline >= threshold:
            implanted.append(p)
        elif len(candidates) < n_candidates:
            candidates.append(p)
    return Cast(tuple(implanted), tuple(candidates))


def _at(first: date, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(first + timedelta(days=day), time(hour, minute), tzinfo=UTC)


@contextmanager
def _dated(session: Session, at: datetime) -> Iterator[None]:
    """Date the audit entries written in ``session`` inside the block at ``at`` (the simulated
    time). The audit stamps an entry with the wall clock when it is added and is append-only
    afterwards, so the time is set as the entry is flushed (a listener on this session only)."""

    def stamp(flushing: Session, _context: Any, _instances: Any) -> None:
        for obj in flushing.new:
            if isinstance(obj, AuditEntry):
                obj.at = at

    event.listen(session, "before_flush", stamp)
    try:
        yield
        session.flush()
    finally:
        event.remove(session, "before_flush", stamp)


#: Treatments tried by the demo's fibromyalgia patients (drawn 2-4 of them).
_TRIED = (
    Treatment.NSAIDS,
    Treatment.TRICYCLICS,
    Treatment.SNRIS,
    Treatment.ANTICONVULSANTS,
    Treatment.PHYSIOTHERAPY,
    Treatment.PSYCHOLOGICAL_THERAPY,
)
#: Candidates' profiles in turn: what, besides the baseline, the evaluation records.
CANDIDATE_PROFILES: tuple[dict[str, Any], ...] = (
    {},
    {"obstructive_sleep_apnoea": True, "notes": "Sleep study booked."},
    {"pain_duration_months": 18, "notes": "Diagnosed 18 months ago."},
    {"treatments_tried": [Treatment.NSAIDS], "notes": "Only NSAIDs tried so far."},
)


def _evaluate(
    session: Session,
    actor: User,
    patient: Patient,
    rng: np.random.Generator,
    baseline: float,
    at: datetime,
    extra: dict[str, Any],
) -> Evaluation:
    k = int(rng.integers(2, 5))
    tried = [_TRIED[i] for i in sorted(rng.choice(len(_TRIED), size=k, replace=False))]
    values: dict[str, Any] = {
        "diagnosis": Diagnosis.FIBROMYALGIA,
        "pain_duration_months": patient.pain_duration_months,
        "treatments_tried": tried,
        "baseline_nrs": baseline,
        **extra,
    }
    body = EvaluationCreate.model_validate(values)
    with _dated(session, at):
        evaluation = evaluations.create_evaluation(session, actor, patient.id, body.model_dump())
    evaluation.created_at = at
    return evaluation


def settings_on(sim: dict[str, npt.NDArray[Any]], p: int, d: int) -> StimulationSettings:
    """The settings the simulated patient ``p`` was programmed with on day ``d``."""
    return StimulationSettings(
        output_current_mA=float(sim["programmed_current_mA"][p, d]),
        frequency_Hz=float(sim["frequency_Hz"][p, d]),
        pulse_width_us=float(sim["pulse_width_us"][p, d]),
        on_time_s=float(sim["on_time_s"][p, d]),
        off_time_min=float(sim["off_time_min"][p, d]),
    )


def programming_days(sim: dict[str, npt.NDArray[Any]], p: int) -> list[int]:
    """Days on which the simulated settings of ``p`` change (the clinic's programming visits)."""
    keys = ("programmed_current_mA", "frequency_Hz", "pulse_width_us", "on_time_s", "off_time_min")
    rows = np.stack([np.asarray(sim[k][p], dtype=np.float64) for k in keys])
    changed = np.any(rows[:, 1:] != rows[:, :-1], axis=0)
    return [int(d) + 1 for d in np.flatnonzero(changed) if int(d) + 1 >= BASELINE_DAYS]


def _implant_and_program(
    session: Session,
    team: list[User],
    patient: Patient,
    sim: dict[str, npt.NDArray[Any]],
    p: int,
    first: date,
) -> Implant:
    """Register the implant on :data:`IMPLANT_DAY` and program, in a session per visit, every
    change of the simulated settings, by the demo clinicians in turn."""
    surgeon = team[0]
    values = {
        "generator_model": GENERATOR_MODEL,
        "generator_serial": f"DEMO-{patient.mrn}",
        "lead_model": LEAD_MODEL,
        "implanted_at": _at(first, IMPLANT_DAY, 8),
    }
    registered = _at(first, IMPLANT_DAY, 14)
    with _dated(session, registered):
        implant = implants.register_implant(session, surgeon, patient.id, values, now=registered)
    for visit, day in enumerate(programming_days(sim, p)):
        actor = team[visit % len(team)]
        now = _at(first, day, 9 + visit % 6, 15)
        settings = settings_on(sim, p, day)
        with _dated(session, now):
            row, _, _ = programming.start_session(session, actor, implant.id, now=now)
            programming.run_diagnostics(session, actor, row.id, now=now)
            proposal, report = programming.propose(session, actor, row.id, settings, now=now)
        if not report.ok:
            raise ValueError(f"demo settings {settings} are unsafe for {patient.mrn}")
        done = now + timedelta(minutes=10)
        with _dated(session, done):
            programming.program(session, actor, row.id, proposal.id, implant.version, now=done)
            programming.close_session(session, actor, row.id, now=done)
    return implant


def _new_patient(
    session: Session,
    result: DemoResult,
    name: str,
    seed: int,
    p: int,
    last: date,
    password: str | None,
    hasher: argon2.PasswordHasher,
    created: datetime,
) -> Patient:
    mrn = mrn_for(name)
    email = f"{mrn.lower()}@{EMAIL_DOMAIN}"
    user_id = _user(session, result, email, f"Virtual patient {name}", Role.PATIENT,
                    password, hasher)  # fmt: skip
    rng = rng_for(seed, "demo", CONDITION, p)
    patient = Patient(
        mrn=mrn, full_name=f"Virtual patient {name}",
        date_of_birth=date(int(last.year - rng.integers(30, 70)), 1 + int(rng.integers(12)), 1),
        sex="female" if rng.random() < 0.85 else "male",
        diagnosis=f"{CONDITION} (simulated: {name}, root seed {seed})",
        pain_duration_months=int(rng.integers(30, 240)), user_id=user_id,
    )  # fmt: skip
    session.add(patient)
    session.flush()
    with _dated(session, created):
        audit.record(session, None, "create", "patient", patient.id, None, audit.snapshot(patient))
    return patient


def _import(
    session: Session, patient: Patient, rows: list[Any], at: datetime, summary: dict[str, Any]
) -> None:
    for row in rows:
        row.patient_id = patient.id
    session.add_all(rows)
    session.flush()
    for model in (PainEntry, SideEffectReport, PGICEntry, BPIEntry):
        summary[model.__tablename__] = sum(isinstance(r, model) for r in rows)
    with _dated(session, at):
        audit.record(session, None, "demo_import", "patient", patient.id, None, summary)


def split_counts(n_patients: int) -> tuple[int, int]:
    """``n_patients`` as (implanted, candidates): a quarter candidates (at least one of two or
    more patients), the rest implanted."""
    candidates = max(1, n_patients // 4) if n_patients >= 2 else 0
    return n_patients - candidates, candidates


def seed_demo(
    session: Session,
    *,
    hasher: argon2.PasswordHasher,
    n_patients: int = 12,
    seed: int = 0,
    today: date | None = None,
    password: str | None = None,
) -> DemoResult:
    """Create the demo team and ``n_patients`` virtual patients: implanted ones with simulated
    diaries and programming history, and candidates in screening (:func:`split_counts`).

    Parameters
    ----------
    hasher
        Password hasher for the new accounts.
    n_patients, seed
        How many virtual patients (implanted and candidates) and the simulator's root seed.
    today
        Date of the last simulated day (default: today, UTC).
    password
        Password of every new account; ``None``: a random one per account (returned).
    """
    result = DemoResult()
    for local, name, role in TEAM:
        _user(session, result, f"{local}@{EMAIL_DOMAIN}", name, role, password, hasher)
    staff = {
        local: auth.find_user_by_email(session, f"{local}@{EMAIL_DOMAIN}") for local, *_ in TEAM
    }
    clinicians = [u for k in ("clinician1", "clinician2") if (u := staff[k]) is not None]
    nurse = staff["nurse"] or clinicians[0]
    last = today or utcnow().date()
    first = last - timedelta(days=BASELINE_DAYS + STIMULATION_DAYS - 1)
    n_implanted, n_candidates = split_counts(n_patients)
    sim = simulate_demo(pool_size(n_patients), seed)
    cast = choose(sim, n_implanted, n_candidates)
    if len(cast.implanted) < n_implanted:
        log.warning("demo: only %d of %d virtual patients pass screening", len(cast.implanted),
                    n_implanted)  # fmt: skip
    outcomes = simulate_demo_outcomes(sim, sim["nrs"].shape[0], seed)
    for p in sorted(cast.implanted + cast.candidates):
        name = patient_name(CONDITION, p)
        mrn = mrn_for(name)
        if session.scalar(select(Patient.id).where(Patient.mrn == mrn)) is not None:
            result.patients_existing.append(mrn)
            continue
        implanted = p in cast.implanted
        # a candidate's screening diary ends today; an implanted patient's began 16 weeks ago
        start = first if implanted else last - timedelta(days=SCREENING_DAYS - 1)
        patient = _new_patient(session, result, name, seed, p, last, password, hasher,
                               _at(start, -7, 11))  # fmt: skip
        rng = rng_for(seed, "demo", "evaluation", p)
        summary: dict[str, Any] = {"source": name, "root_seed": seed}
        baseline = evaluation_baseline(sim, p)
        if not implanted:
            rows = [r for r in _diary_rows(sim, outcomes, p, start) if isinstance(r, PainEntry)]
            rows = [r for r in rows if r.entry_date <= last]
            _import(session, patient, rows, _at(last, 0, 18), summary)
            profile = CANDIDATE_PROFILES[cast.candidates.index(p) % len(CANDIDATE_PROFILES)]
            _evaluate(session, nurse, patient, rng, baseline, _at(last, 0, 16), profile)
            result.candidates.append(mrn)
            result.patients_created.append(mrn)
            continue
        window = [first.isoformat(), (first + timedelta(days=BASELINE_DAYS - 1)).isoformat()]
        summary["baseline_window"] = window
        _evaluate(session, clinicians[0], patient, rng, baseline,
                  _at(first, SCREENING_DAYS - 1, 16), {})  # fmt: skip
        _implant_and_program(session, clinicians, patient, sim, p, first)
        rows = _diary_rows(sim, outcomes, p, first)
        implant_date = first + timedelta(days=IMPLANT_DAY)
        rows = [
            r for r in rows if not (isinstance(r, SideEffectReport) and r.entry_date < implant_date)
        ]
        _import(session, patient, rows, _at(last, 0, 18), summary)
        session.add(
            BaselineWindow(
                patient_id=patient.id,
                start_date=first,
                end_date=first + timedelta(days=BASELINE_DAYS - 1),
                set_by=clinicians[0].id if clinicians else None,
            )
        )
        session.flush()
        result.implanted.append(mrn)
        result.patients_created.append(mrn)
    log.info(
        "demo: %d patients created (%d implanted, %d candidates), %d existing",
        len(result.patients_created),
        len(result.implanted),
        len(result.candidates),
        len(result.patients_existing),
    )
    return result


def pool_size(n_patients: int) -> int:
    """How many virtual patients to simulate to find ``n_patients`` (about half pass the
    screening baseline)."""
    return 3 * n_patients + 4
