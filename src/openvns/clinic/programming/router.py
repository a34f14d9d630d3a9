"""JSON API of programming sessions, proposals, programming and titration plans.

Clinicians do everything; nurses start sessions, interrogate and run diagnostics (403 for
proposals, programming and plans); patients and admins get 403.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from openvns.clinic.auth.dependencies import CareTeamUser, ClinicianUser
from openvns.clinic.db.session import SessionDep
from openvns.clinic.implants.clock import NowDep
from openvns.clinic.implants.device import from_device
from openvns.clinic.implants.models import Implant
from openvns.clinic.implants.schemas import StimulationSettingsBody
from openvns.clinic.programming import compare as comparison
from openvns.clinic.programming import history, plans, service
from openvns.clinic.programming.models import Proposal, TitrationPlan
from openvns.clinic.programming.schemas import (
    ActorRead,
    ComparisonRow,
    CurrentChange,
    DiagnosticsRead,
    FieldChangeRead,
    InterrogationRead,
    IssueRead,
    NextStepConfirm,
    NextStepResult,
    PlanStepPreview,
    ProgramConfirm,
    ProgramResult,
    ProposalCreate,
    ProposalRead,
    SafetyRead,
    ScheduledStepRead,
    SessionRead,
    SessionStarted,
    SettingsChangeRead,
    TitrationPlanCreate,
    TitrationPlanPreview,
    TitrationPlanPreviewCreate,
    TitrationPlanRead,
)
from openvns.clinic.schemas import PathId, error_responses
from openvns.device.generator import PulseGenerator
from openvns.device.safety import SafetyReport
from openvns.protocol.text import Protocol

router = APIRouter(tags=["programming"])
SESSION = "/programming-sessions/{session_id}"


def interrogation_read(implant: Implant, generator: PulseGenerator) -> InterrogationRead:
    """The interrogation of the virtual implant as the API shows it."""
    i = generator.interrogate()
    diagnosed = [e.time for e in i.history if e.kind == "diagnostics"]
    return InterrogationRead(
        implant_id=implant.id,
        implant_version=implant.version,
        generator_model=i.model_id,
        lead_model=i.lead_id,
        generator_serial=i.serial,
        device_time=from_device(i.time),
        settings=StimulationSettingsBody.of(i.settings),
        battery_percent=i.battery_percent,
        battery_indicator=i.battery_indicator,
        near_eos=i.near_eos,
        output_enabled=i.output_enabled,
        lead_impedance_ohm=i.lead_impedance_ohm,
        impedance_status=i.impedance_status,
        last_diagnostics_at=from_device(diagnosed[-1]) if diagnosed else None,
        scheduled_steps=[
            ScheduledStepRead(
                time=from_device(s.time), settings=StimulationSettingsBody.of(s.settings)
            )
            for s in i.scheduled_steps
        ],
        magnet_held=i.magnet_held,
        programming_count=i.counters.programming_count,
    )


def comparison_read(rows: list[comparison.Row]) -> list[ComparisonRow]:
    """Old → new rows as the API shows them."""
    return [
        ComparisonRow(
            name=r.name, label=r.label, unit=r.unit, old=r.old, new=r.new, change=r.change
        )
        for r in rows
    ]


def proposal_read(proposal: Proposal, rows: list[comparison.Row] | None = None) -> ProposalRead:
    """A stored proposal as the API shows it (with the old → new rows when given)."""
    issues = [IssueRead.model_validate(i) for i in proposal.issues]
    return ProposalRead(
        id=proposal.id,
        session_id=proposal.session_id,
        status=proposal.status,
        settings=StimulationSettingsBody.model_validate(proposal.settings),
        ok=proposal.ok,
        errors=[i for i in issues if i.severity == "error"],
        warnings=[i for i in issues if i.severity == "warning"],
        notes=[i for i in issues if i.severity == "note"],
        created_at=proposal.created_at,
        created_by_id=proposal.created_by_id,
        comparison=comparison_read(rows) if rows is not None else None,
    )


def plan_read(plan: TitrationPlan) -> TitrationPlanRead:
    """A stored plan as the API shows it (its rule and state derived)."""
    return TitrationPlanRead(
        id=plan.id,
        implant_id=plan.implant_id,
        session_id=plan.session_id,
        protocol=plan.protocol,
        start_at=plan.start_at,
        steps=plan.steps,
        status=plan.status,
        rule=plans.rule_of(Protocol.parse(plan.protocol)),
        state=plans.plan_state(plan),
        created_by_id=plan.created_by_id,
        created_at=plan.created_at,
    )


def safety_read(report: SafetyReport) -> SafetyRead:
    """A safety report's issues by severity."""
    issues = [IssueRead.model_validate(i.model_dump(mode="json")) for i in report.issues]
    return SafetyRead(
        ok=report.ok,
        errors=[i for i in issues if i.severity == "error"],
        warnings=[i for i in issues if i.severity == "warning"],
        notes=[i for i in issues if i.severity == "note"],
    )


def preview_read(preview: plans.PlanPreview) -> TitrationPlanPreview:
    """A plan preview as the API shows it."""
    return TitrationPlanPreview(
        protocol=str(preview.protocol),
        rule=preview.rule,
        start_at=preview.start,
        implant_version=preview.implant_version,
        ok=preview.ok,
        steps=[
            PlanStepPreview(
                time=s.time,
                settings=StimulationSettingsBody.of(s.settings),
                review=s.review,
                status=s.status,
                safety=safety_read(s.report),
            )
            for s in preview.steps
        ],
        change=CurrentChange(
            old_output_current_mA=preview.old_current_mA,
            new_output_current_mA=preview.new_current_mA,
        ),
        lowers_current=preview.lowers_current,
        message=preview.message,
        digest=preview.digest,
    )


@router.post(
    "/implants/{implant_id}/programming-sessions",
    response_model=SessionStarted,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 404, 409),
)
def start_session(
    implant_id: PathId, user: CareTeamUser, session: SessionDep, now: NowDep
) -> SessionStarted:
    """Open a programming session and interrogate the implant (clinician or nurse)."""
    row, implant, generator = service.start_session(session, user, implant_id, now)
    return SessionStarted(
        session=SessionRead.model_validate(row),
        interrogation=interrogation_read(implant, generator),
    )


@router.get(SESSION, response_model=SessionRead, responses=error_responses(401, 403, 404))
def read_session(session_id: PathId, user: CareTeamUser, session: SessionDep) -> SessionRead:
    """A programming session (clinician or nurse)."""
    row, _ = service.get_session(session, user, session_id)
    return SessionRead.model_validate(row)


@router.post(
    f"{SESSION}/close", response_model=SessionRead, responses=error_responses(401, 403, 404)
)
def close_session(
    session_id: PathId, user: CareTeamUser, session: SessionDep, now: NowDep
) -> SessionRead:
    """Close a programming session (clinician or nurse)."""
    return SessionRead.model_validate(service.close_session(session, user, session_id, now))


@router.get(
    f"{SESSION}/interrogation",
    response_model=InterrogationRead,
    responses=error_responses(401, 403, 404, 409),
)
def interrogate(
    session_id: PathId, user: CareTeamUser, session: SessionDep, now: NowDep
) -> InterrogationRead:
    """Interrogate the implant: settings, battery, last impedance, pending steps (care team)."""
    implant, generator = service.interrogate(session, user, session_id, now)
    return interrogation_read(implant, generator)


@router.post(
    f"{SESSION}/diagnostics",
    response_model=DiagnosticsRead,
    responses=error_responses(401, 403, 404, 409),
)
def run_diagnostics(
    session_id: PathId, user: CareTeamUser, session: SessionDep, now: NowDep
) -> DiagnosticsRead:
    """System Diagnostics: lead impedance OK/HIGH/LOW, output OK/LIMIT (clinician or nurse)."""
    implant, result = service.run_diagnostics(session, user, session_id, now)
    values = result.model_dump(exclude={"time", "notes", "output_current_mA"})
    return DiagnosticsRead(
        implant_id=implant.id,
        implant_version=implant.version,
        time=from_device(result.time),
        notes=list(result.notes),
        **values,
    )


@router.post(
    f"{SESSION}/proposals",
    response_model=ProposalRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 404, 409),
)
def propose(
    session_id: PathId, body: ProposalCreate, user: ClinicianUser, session: SessionDep, now: NowDep
) -> ProposalRead:
    """Check proposed settings: every blocking error and warning (clinician only)."""
    settings = body.settings.to_device()
    proposal, _ = service.propose(session, user, session_id, settings, now)
    return proposal_read(proposal, service.compare(session, user, session_id, settings, now))


@router.get(
    f"{SESSION}/proposals/{{proposal_id}}",
    response_model=ProposalRead,
    responses=error_responses(401, 403, 404),
)
def read_proposal(
    session_id: PathId, proposal_id: PathId, user: CareTeamUser, session: SessionDep
) -> ProposalRead:
    """A proposal and its safety check (clinician or nurse)."""
    return proposal_read(service.get_proposal(session, user, session_id, proposal_id))


@router.post(
    f"{SESSION}/program",
    response_model=ProgramResult,
    responses=error_responses(401, 403, 404, 409),
)
def program(
    session_id: PathId, body: ProgramConfirm, user: ClinicianUser, session: SessionDep, now: NowDep
) -> ProgramResult:
    """Program a proposal (clinician only): 422 if the check blocks it, 409 if the version is stale.

    Answers the settings before and after, verified by re-interrogating the stored implant.
    """
    given = body.settings.to_device() if body.settings is not None else None
    implant, before, verified, report = service.program(
        session, user, session_id, body.proposal_id, body.implant_version, given, now
    )
    return ProgramResult(
        proposal_id=body.proposal_id,
        before=StimulationSettingsBody.of(before),
        after=StimulationSettingsBody.of(verified.settings),
        verified=verified.settings == report.settings,
        warnings=[IssueRead.model_validate(i.model_dump()) for i in report.warnings],
        interrogation=interrogation_read(implant, verified),
    )


@router.post(
    f"{SESSION}/titration-plans",
    response_model=TitrationPlanRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 404, 409),
)
def create_plan(
    session_id: PathId,
    body: TitrationPlanCreate,
    user: ClinicianUser,
    session: SessionDep,
    now: NowDep,
) -> TitrationPlanRead:
    """Program a previewed titration plan (clinician only): the confirmation.

    409 if the version is stale or ``preview_digest`` names another plan; 422 if a step is
    blocked, or the plan lowers the output without ``accept_lower_current``. A "to tolerance"
    plan programs its first step only; later steps wait for ``…/next-step``.
    """
    plan, _ = plans.create_plan(
        session,
        user,
        session_id,
        body.protocol,
        body.implant_version,
        body.start_at,
        now,
        preview_digest=body.preview_digest,
        accept_lower_current=body.accept_lower_current,
    )
    return plan_read(plan)


@router.post(
    f"{SESSION}/titration-plans/preview",
    response_model=TitrationPlanPreview,
    responses=error_responses(401, 403, 404, 409),
)
def preview_plan(
    session_id: PathId,
    body: TitrationPlanPreviewCreate,
    user: ClinicianUser,
    session: SessionDep,
    now: NowDep,
) -> TitrationPlanPreview:
    """Every step of a plan with its safety report; nothing is programmed (clinician only)."""
    preview = plans.preview_plan(session, user, session_id, body.protocol, body.start_at, now)
    return preview_read(preview)


@router.post(
    f"{SESSION}/titration-plans/{{plan_id}}/next-step",
    response_model=NextStepResult,
    responses=error_responses(401, 403, 404, 409),
)
def confirm_next_step(
    session_id: PathId,
    plan_id: PathId,
    body: NextStepConfirm,
    user: ClinicianUser,
    session: SessionDep,
    now: NowDep,
) -> NextStepResult:
    """Program the next step of a plan paused at a review point (clinician only).

    409 if the version is stale or the step is not due; when the diary reports a severe side
    effect since the last step the plan stops instead (``applied: false``).
    """
    outcome = plans.confirm_next_step(session, user, session_id, plan_id, body.implant_version, now)
    return NextStepResult(
        applied=outcome.applied, message=outcome.message, plan=plan_read(outcome.plan)
    )


@router.get(
    "/implants/{implant_id}/titration-plans",
    response_model=list[TitrationPlanRead],
    responses=error_responses(401, 403, 404),
)
def list_plans(
    implant_id: PathId, user: CareTeamUser, session: SessionDep
) -> list[TitrationPlanRead]:
    """Titration plans of an implant, oldest first (clinician or nurse)."""
    return [plan_read(p) for p in service.list_plans(session, user, implant_id)]


def settings_change_read(change: history.SettingsChange) -> SettingsChangeRead:
    """A settings change as the API shows it."""
    return SettingsChangeRead(
        at=change.at,
        who=ActorRead(id=change.actor_id, name=change.actor_name, role=change.actor_role),
        action=change.action,
        implant_id=change.implant_id,
        old=StimulationSettingsBody.model_validate(change.old) if change.old else None,
        new=StimulationSettingsBody.model_validate(change.new) if change.new else None,
        changes=[
            FieldChangeRead(field=f.field, unit=f.unit, old=f.old, new=f.new)
            for f in change.changes
        ],
    )


@router.get(
    "/patients/{patient_id}/settings-history",
    response_model=list[SettingsChangeRead],
    responses=error_responses(401, 403, 404),
)
def settings_history(
    patient_id: PathId, user: CareTeamUser, session: SessionDep
) -> list[SettingsChangeRead]:
    """Who changed the patient's implant settings, when, old → new (clinician or nurse)."""
    changes = history.settings_changes(session, user, patient_id)
    return [settings_change_read(c) for c in changes]
