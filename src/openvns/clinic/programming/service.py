"""Programming sessions: the programmer workflow of the reference (§1.4) over the virtual implant.

Interrogate → edit → check → program → verify by re-interrogation:

* :func:`start_session` opens a session at an active implant; :func:`interrogate` reads it as
  it is now (its clock runs to ``now`` first, so scheduled steps due are in force);
* :func:`run_diagnostics` runs System Diagnostics (§1.3) and stores the measurement;
* :func:`propose` runs :func:`openvns.device.safety.check` and keeps every error and warning;
* :func:`program` is the only way settings reach the implant: it needs the proposal and the
  implant version the clinician saw; a blocking error raises
  :class:`~openvns.device.safety.UnsafeSettingsError` before the implant is touched (422), a
  stale version raises :class:`~openvns.clinic.errors.ConflictError` (409); afterwards the
  implant is restored from the stored state and re-interrogated (verify);
* titration plans (§1.5) are previewed, confirmed and paused at review points in
  :mod:`openvns.clinic.programming.plans`.

Roles (an assumption of the clinic): clinicians do everything; nurses may start sessions,
interrogate and run diagnostics but not propose, program or plan; patients and admins none.
Every change is audited on the implant (``entity="implant"``) with the settings before and after.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openvns.clinic.audit import service as audit
from openvns.clinic.auth.models import Role, User
from openvns.clinic.db.base import utcnow
from openvns.clinic.errors import ConflictError, NotFoundError
from openvns.clinic.implants import device
from openvns.clinic.implants import service as implants
from openvns.clinic.implants.models import Implant
from openvns.clinic.programming import compare as comparison
from openvns.clinic.programming.models import (
    ProgrammingSession,
    Proposal,
    ProposalStatus,
    SessionStatus,
    TitrationPlan,
)
from openvns.clinic.schemas import in_id_range
from openvns.device import safety
from openvns.device.diagnostics import DiagnosticsResult
from openvns.device.generator import PulseGenerator
from openvns.device.safety import SafetyReport, UnsafeSettingsError
from openvns.device.settings import StimulationSettings
from openvns.errors import ValidationError

log = logging.getLogger(__name__)

#: How long a session belongs to whoever opened it (others get 409 naming them meanwhile).
SESSION_HOLD = timedelta(hours=2)


def start_session(
    session: Session, actor: User, implant_id: int, now: datetime | None = None
) -> tuple[ProgrammingSession, Implant, PulseGenerator]:
    """Open a session at an active implant and interrogate it (clinicians and nurses)."""
    implants.require_care_team(actor, "start programming sessions")
    implant = implants.get_implant(session, actor, implant_id)
    implants.require_active(implant)
    now = now or utcnow()
    row = ProgrammingSession(implant_id=implant.id, started_by_id=actor.id, started_at=now)
    session.add(row)
    session.flush()
    log.info("user %d opened programming session %d on implant %d", actor.id, row.id, implant_id)
    return row, implant, device.load(implant, now)


def hold_expires_at(row: ProgrammingSession) -> datetime:
    """When the opener's hold on a session ends (:data:`SESSION_HOLD`)."""
    started = row.started_at if row.started_at.tzinfo else row.started_at.replace(tzinfo=UTC)
    return started + SESSION_HOLD


def require_holder(
    session: Session, row: ProgrammingSession, actor: User, now: datetime | None = None
) -> None:
    """409 naming the holder unless ``actor`` may act in the open session ``row``.

    A session belongs to whoever opened it until it is closed or :data:`SESSION_HOLD` has
    passed since it opened. A clinician may act in a session a nurse opened (the nurse
    interrogates and runs diagnostics, the clinician programs); nobody else may act in another
    user's held session.
    """
    if row.status != SessionStatus.OPEN.value or row.started_by_id in (None, actor.id):
        return
    expires = hold_expires_at(row)
    if (now or utcnow()) >= expires:
        return
    holder = session.get(User, row.started_by_id)
    if holder is None:
        return
    if holder.role == Role.NURSE.value and actor.role == Role.CLINICIAN.value:
        return
    raise ConflictError(
        f"programming session {row.id} is held by {holder.full_name} ({holder.role}), who "
        f"opened it, until it is closed or expires at {expires.isoformat()}; open a session of "
        "your own (the implant's version tells you if it changes meanwhile)"
    )


def get_session(
    session: Session,
    actor: User,
    session_id: int,
    *,
    open_only: bool = False,
    acting: bool = False,
    now: datetime | None = None,
) -> tuple[ProgrammingSession, Implant]:
    """A session and its implant (care team; with ``open_only``, 409 once closed).

    With ``acting`` (any change: diagnostics, proposals, programming, plans, closing) the
    session must be ``actor``'s (:func:`require_holder`, 409 naming who holds it).
    """
    implants.require_care_team(actor, "use programming sessions")
    row = session.get(ProgrammingSession, session_id) if in_id_range(session_id) else None
    if row is None:
        raise NotFoundError("programming session", session_id)
    if open_only and row.status != SessionStatus.OPEN.value:
        raise ConflictError(f"programming session {session_id} is closed; start a new one")
    implant = implants.get_implant(session, actor, row.implant_id)
    if acting:
        require_holder(session, row, actor, now)
    if open_only:
        implants.require_active(implant)
    return row, implant


def close_session(
    session: Session, actor: User, session_id: int, now: datetime | None = None
) -> ProgrammingSession:
    """Close a session (idempotent; only its holder while held)."""
    row, _ = get_session(session, actor, session_id, acting=True, now=now)
    if row.status == SessionStatus.OPEN.value:
        row.status = SessionStatus.CLOSED.value
        row.closed_at = now or utcnow()
        session.flush()
    return row


def interrogate(
    session: Session, actor: User, session_id: int, now: datetime | None = None
) -> tuple[Implant, PulseGenerator]:
    """The implant as it is at ``now`` (read only: nothing is stored)."""
    _, implant = get_session(session, actor, session_id, open_only=True)
    return implant, device.load(implant, now or utcnow())


def run_diagnostics(
    session: Session, actor: User, session_id: int, now: datetime | None = None
) -> tuple[Implant, DiagnosticsResult]:
    """System Diagnostics; the measurement is stored (the implant's version increases)."""
    _, implant = get_session(session, actor, session_id, open_only=True, acting=True, now=now)
    generator = device.load(implant, now or utcnow())
    before = {"lead_impedance_ohm": generator.interrogate().lead_impedance_ohm}
    result = generator.run_diagnostics()
    device.store(implant, generator)
    implants.flush_versioned(session, implant.id)
    after = result.model_dump(mode="json", exclude={"notes"})
    audit.record(session, actor, "diagnostics", implants.ENTITY, implant.id, before, after)
    return implant, result


def _issues(report: SafetyReport, generator: PulseGenerator | None = None) -> list[dict[str, Any]]:
    """The issues as stored; a value off the model's steps gets the ``nearest`` selectable one."""
    out = []
    for issue in report.issues:
        row = issue.model_dump(mode="json")
        allowed = generator.model.parameters.get(issue.field) if generator is not None else None
        number = isinstance(issue.value, int | float)
        if issue.code == "not_selectable" and allowed is not None and number:
            row["nearest"] = allowed.nearest(float(issue.value))
        out.append(row)
    return out


def check(generator: PulseGenerator, settings: StimulationSettings) -> SafetyReport:
    """:func:`openvns.device.safety.check` for the implant's generator, lead and limits."""
    return safety.check(settings, generator.model, generator.lead, limits=generator.limits)


def propose(
    session: Session,
    actor: User,
    session_id: int,
    settings: StimulationSettings,
    now: datetime | None = None,
) -> tuple[Proposal, SafetyReport]:
    """Check ``settings`` for the implant and keep them as a proposal (clinicians)."""
    implants.require_clinician(actor, "propose settings")
    row, implant = get_session(session, actor, session_id, open_only=True, acting=True, now=now)
    generator = device.load(implant, now or utcnow())
    report = check(generator, settings)
    proposal = Proposal(
        session_id=row.id,
        settings=settings.model_dump(mode="json"),
        ok=report.ok,
        issues=_issues(report, generator),
        created_by_id=actor.id,
        created_at=now or utcnow(),
    )
    session.add(proposal)
    session.flush()
    return proposal, report


def compare(
    session: Session,
    actor: User,
    session_id: int,
    settings: StimulationSettings,
    now: datetime | None = None,
) -> list[comparison.Row]:
    """The implant's settings now → ``settings`` with the derived quantities (read only)."""
    _, implant = get_session(session, actor, session_id, open_only=True)
    return comparison.compare(device.load(implant, now or utcnow()), settings)


def get_proposal(session: Session, actor: User, session_id: int, proposal_id: int) -> Proposal:
    """A proposal of a session."""
    get_session(session, actor, session_id)
    proposal = session.get(Proposal, proposal_id) if in_id_range(proposal_id) else None
    if proposal is None or proposal.session_id != session_id:
        raise NotFoundError("proposal", proposal_id)
    return proposal


def settings_view(generator: PulseGenerator) -> dict[str, Any]:
    """The settings and pending steps of ``generator`` (what the audit keeps)."""
    return {
        "settings": generator.settings.model_dump(mode="json"),
        "scheduled_steps": [
            s.model_dump(mode="json") for s in generator.interrogate().scheduled_steps
        ],
    }


def program(
    session: Session,
    actor: User,
    session_id: int,
    proposal_id: int,
    implant_version: int,
    settings: StimulationSettings | None = None,
    now: datetime | None = None,
) -> tuple[Implant, StimulationSettings, PulseGenerator, SafetyReport]:
    """Program a proposal into the implant, then verify by re-interrogation (clinicians).

    Returns the implant, the settings before, the implant restored from the stored state (its
    settings are what the implant now has) and the safety report.

    Raises
    ------
    ConflictError
        ``implant_version`` is stale (another clinician programmed meanwhile, or diagnostics
        ran), the proposal was programmed already, or the session is closed.
    ValidationError
        ``settings`` were given and differ from the proposal's.
    UnsafeSettingsError
        The safety check blocks the settings; nothing reaches the implant.
    """
    implants.require_clinician(actor, "program implants")
    now = now or utcnow()
    proposal = get_proposal(session, actor, session_id, proposal_id)
    _, implant = get_session(session, actor, session_id, open_only=True, acting=True, now=now)
    implants.require_version(implant, implant_version)
    if proposal.status != ProposalStatus.CHECKED.value:
        raise ConflictError(f"proposal {proposal_id} was programmed already; propose again")
    proposed = StimulationSettings.model_validate(proposal.settings)
    if settings is not None and settings != proposed:
        allowed = f"the settings of proposal {proposal_id} exactly"
        raise ValidationError("settings", settings.model_dump(mode="json"), allowed)
    generator = device.load(implant, now)
    report = check(generator, proposed)
    if not report.ok:
        log.info("user %d: proposal %d refused: %s", actor.id, proposal_id, report.errors)
        raise UnsafeSettingsError(report)
    before_view, before = settings_view(generator), generator.settings
    generator.program(proposed, by=f"user {actor.id}")
    device.store(implant, generator)
    implants.flush_versioned(session, implant.id)
    proposal.status = ProposalStatus.PROGRAMMED.value
    proposal.programmed_at = now
    verified = device.load(implant, now)  # re-interrogate the stored implant
    after_view = {**settings_view(verified), "proposal_id": proposal_id}
    before_view["version"], after_view["version"] = implant_version, implant.version
    audit.record(session, actor, "program", implants.ENTITY, implant.id, before_view, after_view)
    log.info("user %d programmed implant %d (proposal %d)", actor.id, implant.id, proposal_id)
    return implant, before, verified, report


def list_plans(session: Session, actor: User, implant_id: int) -> list[TitrationPlan]:
    """Titration plans of an implant, oldest first (care team)."""
    implants.require_care_team(actor, "read titration plans")
    implants.get_implant(session, actor, implant_id)
    query = select(TitrationPlan).where(TitrationPlan.implant_id == implant_id)
    return list(session.scalars(query.order_by(TitrationPlan.id)).all())
