"""Titration plans in the programming workflow: preview, confirm, review points.

A plan follows the same workflow as a single setting (§1.4):

* :func:`preview_plan` lists every step the plan would program, each with the safety report of
  :func:`openvns.device.safety.check` (with the magnet and AutoStim settings the implant keeps),
  the change of the output it makes now (old → new, flagged when it lowers the current) and a
  ``digest`` naming exactly this plan at this implant version. Nothing is stored.
* :func:`create_plan` is the confirmation: it needs the implant version the clinician saw (a
  stale one is a :class:`~openvns.clinic.errors.ConflictError`), optionally the preview's
  ``digest`` (another plan or version is a conflict), and ``accept_lower_current`` when the plan
  lowers the output. It is audited on the implant with the steps.
* A ``to tolerance`` plan is not a ramp the implant runs by itself: the implant cannot know
  tolerance. Its first step is programmed (or scheduled at ``start_at``); every later step is a
  *review point*, kept in the plan as ``awaiting_review`` and never scheduled in the implant.
  :func:`confirm_next_step` programs the next one once it is due and a clinician confirms it,
  unless the patient's diary reports a severe side effect since the last step: then the plan
  stops and no further step is applied.

Plans of the other rules (``to 1.5 mA``, ``device-scheduled``) are scheduled in the implant's
Scheduled Programming as before, after the same preview and confirmation.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from openvns.clinic.audit import service as audit
from openvns.clinic.auth.models import User
from openvns.clinic.db.base import utcnow
from openvns.clinic.diaries.models import Severity, SideEffectReport
from openvns.clinic.errors import ConflictError, NotFoundError
from openvns.clinic.implants import device
from openvns.clinic.implants import service as implants
from openvns.clinic.implants.models import Implant, ImplantStatus
from openvns.clinic.patients.models import Patient
from openvns.clinic.programming import service
from openvns.clinic.programming.limits import check_plan
from openvns.clinic.programming.models import PlanStatus, TitrationPlan
from openvns.clinic.schemas import in_id_range
from openvns.device.generator import PulseGenerator
from openvns.device.safety import SafetyReport
from openvns.device.settings import StimulationSettings
from openvns.errors import ValidationError
from openvns.protocol.plans import Titration
from openvns.protocol.text import Protocol
from openvns.protocol.titration import DeviceScheduled

log = logging.getLogger(__name__)

#: A step's status in a plan.
PROGRAMMED, SCHEDULED, AWAITING_REVIEW, NOT_APPLIED = (
    "programmed",
    "scheduled",
    "awaiting_review",
    "not_applied",
)
#: What the page and the preview say about a "to tolerance" plan.
TOLERANCE_MESSAGE = (
    "To tolerance: the implant cannot know tolerance, so only the first step is programmed. "
    "Each later step is a review point: it waits until it is due and a clinician confirms it "
    "after reviewing the patient; a severe side effect in the diary since the last step stops "
    "the plan and the step is not applied."
)
SCHEDULED_MESSAGE = (
    "Scheduled Programming: the implant applies every step on its date by itself; a new plan "
    "replaces pending steps."
)


@dataclass(frozen=True)
class PlanStep:
    """One step of a previewed plan: when, the settings, the safety report, what happens."""

    time: datetime
    settings: StimulationSettings
    report: SafetyReport
    review: bool
    status: str


@dataclass(frozen=True)
class PlanPreview:
    """A plan as it would be programmed, and what it changes now."""

    protocol: Protocol
    rule: str
    start: datetime
    steps: list[PlanStep]
    old_current_mA: float
    implant_version: int
    generator: PulseGenerator
    requested_start: datetime | None = None

    @property
    def ok(self) -> bool:
        """No step is blocked by the safety check."""
        return all(s.report.ok for s in self.steps)

    @property
    def new_current_mA(self) -> float:
        """The output the first step programs."""
        return self.steps[0].settings.output_current_mA

    @property
    def lowers_current(self) -> bool:
        """The first step lowers the output the implant has now."""
        return self.new_current_mA < self.old_current_mA

    @property
    def message(self) -> str:
        """What the implant will do with this plan, in words."""
        return TOLERANCE_MESSAGE if self.rule == "tolerance" else SCHEDULED_MESSAGE

    @property
    def digest(self) -> str:
        """Names this plan at this implant version (the confirmation repeats it).

        A plan that starts "now" is named by its steps' offsets from its start, so that the
        confirmation a minute after the preview names the same plan.
        """
        start = self.requested_start.isoformat() if self.requested_start else "now"
        content = {
            "protocol": str(self.protocol),
            "start": start,
            "version": self.implant_version,
            "steps": [
                [(s.time - self.start).total_seconds(), s.settings.model_dump(mode="json")]
                for s in self.steps
            ],
        }
        text = json.dumps(content, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def rule_of(protocol: Protocol) -> str:
    """``tolerance``, ``fixed`` or ``device`` (a plan of one constant current is ``fixed``)."""
    current = protocol.current
    return current.rule if isinstance(current, Titration) else "fixed"


def _parse(protocol_text: str) -> Protocol:
    try:
        return Protocol.parse(protocol_text)
    except ValidationError as exc:  # name the request's field; keep the parser's explanation
        raise ValidationError("protocol", protocol_text, f"{exc.field}: {exc.allowed}") from exc


def build_preview(
    implant: Implant, protocol_text: str, start_at: datetime | None, now: datetime
) -> PlanPreview:
    """Every step of the plan with its safety report (nothing is stored)."""
    protocol = _parse(protocol_text)
    start = start_at or now
    if start < now:
        raise ValidationError("start_at", start.isoformat(), f"not before now ({now.isoformat()})")
    check_plan(protocol, protocol_text, start, now)  # before any step is listed
    generator = device.load(implant, now)
    policy, keep, rule = DeviceScheduled(), generator.settings, rule_of(protocol)
    dated = [(start, policy.initial_settings(protocol))]
    dated += [
        (device.from_device(t), s) for t, s in policy.steps(protocol, device.to_device(start))
    ]
    steps = []
    for i, (t, s) in enumerate(dated):
        settings = s.with_(magnet=keep.magnet, autostim=keep.autostim)
        review = rule == "tolerance" and i > 0
        if review:
            status = AWAITING_REVIEW
        elif i == 0 and device.to_device(t) <= generator.now:
            status = PROGRAMMED
        else:
            status = SCHEDULED
        steps.append(PlanStep(t, settings, service.check(generator, settings), review, status))
    return PlanPreview(
        protocol, rule, start, steps, keep.output_current_mA, implant.version, generator, start_at
    )


def preview_plan(
    session: Session,
    actor: User,
    session_id: int,
    protocol_text: str,
    start_at: datetime | None = None,
    now: datetime | None = None,
) -> PlanPreview:
    """The plan's steps, their safety reports and the change it makes now (clinicians)."""
    implants.require_clinician(actor, "preview titration plans")
    _, implant = service.get_session(session, actor, session_id, open_only=True)
    return build_preview(implant, protocol_text, start_at, now or utcnow())


def _step_rows(preview: PlanPreview) -> list[dict[str, Any]]:
    return [
        {
            "time": s.time.isoformat(),
            "output_current_mA": s.settings.output_current_mA,
            "settings": s.settings.model_dump(mode="json"),
            "review": s.review,
            "status": s.status,
        }
        for s in preview.steps
    ]


def create_plan(
    session: Session,
    actor: User,
    session_id: int,
    protocol_text: str,
    implant_version: int,
    start_at: datetime | None = None,
    now: datetime | None = None,
    *,
    preview_digest: str | None = None,
    accept_lower_current: bool = False,
) -> tuple[TitrationPlan, PulseGenerator]:
    """Program a previewed titration plan (clinicians): the confirmation of :func:`preview_plan`.

    Raises
    ------
    ConflictError
        A stale ``implant_version``, or a ``preview_digest`` of another plan or version.
    ValidationError
        A protocol that cannot be read or is out of bounds, a start in the past, a plan that
        lowers the output without ``accept_lower_current``, a generator without Scheduled
        Programming (only Model 1000).
    UnsafeSettingsError
        A step blocked by the safety check; nothing reaches the implant.
    """
    implants.require_clinician(actor, "program titration plans")
    now = now or utcnow()
    row, implant = service.get_session(
        session, actor, session_id, open_only=True, acting=True, now=now
    )
    implants.require_version(implant, implant_version)
    preview = build_preview(implant, protocol_text, start_at, now)
    generator = preview.generator
    preview.protocol.require_safe(generator.model, generator.lead, limits=generator.limits)
    if preview_digest is not None and preview_digest != preview.digest:
        raise ConflictError(
            "this is not the plan that was previewed (another protocol, start or implant "
            "version); preview it again"
        )
    if preview.lowers_current and not accept_lower_current:
        raise ValidationError(
            "accept_lower_current",
            accept_lower_current,
            f"true to confirm that the plan lowers the output from {preview.old_current_mA} mA "
            f"to {preview.new_current_mA} mA (shown in the preview)",
        )
    before = service.settings_view(generator)
    first, *later = preview.steps
    dated = [(device.to_device(s.time), s.settings) for s in later if s.status == SCHEDULED]
    if first.status == PROGRAMMED:
        generator.schedule_titration(dated)
        generator.program(first.settings, by=f"user {actor.id}")
    else:
        generator.schedule_titration([(device.to_device(first.time), first.settings), *dated])
    device.store(implant, generator)
    implants.flush_versioned(session, implant.id)
    session.execute(
        update(TitrationPlan)
        .where(TitrationPlan.implant_id == implant.id, TitrationPlan.status == "active")
        .values(status=PlanStatus.SUPERSEDED.value)
    )
    plan = TitrationPlan(
        implant_id=implant.id,
        session_id=row.id,
        protocol=str(preview.protocol),
        start_at=preview.start,
        steps=_step_rows(preview),
        created_by_id=actor.id,
        created_at=now,
    )
    session.add(plan)
    session.flush()
    after = {
        **service.settings_view(generator),
        "plan_id": plan.id,
        "protocol": plan.protocol,
        "rule": preview.rule,
        "plan_steps": plan.steps,
        "version": implant.version,
    }
    before["version"] = implant_version
    audit.record(session, actor, "titration_plan", implants.ENTITY, implant.id, before, after)
    log.info("user %d programmed plan %d on implant %d", actor.id, plan.id, implant.id)
    return plan, generator


def plan_state(plan: TitrationPlan) -> str:
    """``superseded``, ``stopped``, ``awaiting_review`` or ``running`` (the implant runs it)."""
    if plan.status == PlanStatus.SUPERSEDED.value:
        return "superseded"
    statuses = [s.get("status") for s in plan.steps]
    if NOT_APPLIED in statuses:
        return "stopped"
    if AWAITING_REVIEW in statuses:
        return "awaiting_review"
    return "running"


def get_plan(session: Session, implant: Implant, plan_id: int) -> TitrationPlan:
    """A plan of ``implant`` (404 otherwise)."""
    plan = session.get(TitrationPlan, plan_id) if in_id_range(plan_id) else None
    if plan is None or plan.implant_id != implant.id:
        raise NotFoundError("titration plan", plan_id)
    return plan


def intolerance_since(
    session: Session, patient_id: int, since: datetime
) -> SideEffectReport | None:
    """The first severe side effect the patient reported on or after ``since``'s day."""
    query = (
        select(SideEffectReport)
        .where(
            SideEffectReport.patient_id == patient_id,
            SideEffectReport.severity == Severity.SEVERE.value,
            SideEffectReport.entry_date >= since.date(),
        )
        .order_by(SideEffectReport.entry_date, SideEffectReport.id)
        .limit(1)
    )
    return session.scalars(query).first()


def step_due(steps: list[dict[str, Any]], index: int) -> datetime:
    """When step ``index`` (awaiting review) may be programmed: its planned time, or the plan's
    interval after the previous step was applied if that was later — a late review moves the
    rest of the plan, so two steps are never programmed closer than the plan's interval."""
    planned = datetime.fromisoformat(steps[index]["time"])
    if index == 0:
        return planned
    previous = steps[index - 1]
    applied = previous.get("applied_at")
    if not applied:
        return planned
    interval = planned - datetime.fromisoformat(previous["time"])
    return max(planned, datetime.fromisoformat(applied) + interval)


@dataclass(frozen=True)
class StepOutcome:
    """What :func:`confirm_next_step` did."""

    plan: TitrationPlan
    applied: bool
    message: str


def confirm_next_step(
    session: Session,
    actor: User,
    session_id: int,
    plan_id: int,
    implant_version: int,
    now: datetime | None = None,
) -> StepOutcome:
    """Program the next step of a plan paused at a review point (clinicians).

    Raises
    ------
    ConflictError
        A stale ``implant_version``, a plan that is superseded or stopped or has no step
        awaiting review, a step not yet due.
    UnsafeSettingsError
        The step is blocked by the safety check now.
    """
    implants.require_clinician(actor, "confirm titration steps")
    now = now or utcnow()
    _, implant = service.get_session(
        session, actor, session_id, open_only=True, acting=True, now=now
    )
    implants.require_version(implant, implant_version)
    plan = get_plan(session, implant, plan_id)
    state = plan_state(plan)
    if state != "awaiting_review":
        raise ConflictError(f"titration plan {plan_id} is {state}: no step awaits review")
    steps = [dict(s) for s in plan.steps]
    index = next(i for i, s in enumerate(steps) if s["status"] == AWAITING_REVIEW)
    due = step_due(steps, index)
    if due > now:
        raise ConflictError(
            f"step {index + 1} of titration plan {plan_id} ({steps[index]['output_current_mA']} "
            f"mA) is not due until {due.isoformat()}"
        )
    last = datetime.fromisoformat(steps[index - 1].get("applied_at") or steps[index - 1]["time"])
    generator = device.load(implant, now)
    before = service.settings_view(generator)
    report = intolerance_since(session, implant.patient_id, last)
    if report is not None:
        for s in steps[index:]:
            s["status"] = NOT_APPLIED
        plan.steps = steps
        message = (
            f"Plan stopped: the diary reports a severe side effect ({report.kind}) on "
            f"{report.entry_date.isoformat()}, after the last step; step {index + 1} "
            f"({steps[index]['output_current_mA']} mA) was not applied."
        )
        after = {**before, "plan_id": plan.id, "plan_steps": steps, "stopped": message}
        audit.record(session, actor, "titration_stop", implants.ENTITY, implant.id, before, after)
        session.flush()
        return StepOutcome(plan, False, message)
    keep = generator.settings
    settings = StimulationSettings.model_validate(steps[index]["settings"]).with_(
        magnet=keep.magnet, autostim=keep.autostim
    )
    service.check(generator, settings).raise_for_errors()
    generator.program(settings, by=f"user {actor.id}")
    device.store(implant, generator)
    implants.flush_versioned(session, implant.id)
    steps[index] = {**steps[index], "status": PROGRAMMED, "applied_at": now.isoformat()}
    steps[index]["applied_by_id"] = actor.id
    plan.steps = steps
    before["version"] = implant_version
    after = {**service.settings_view(generator), "plan_id": plan.id, "step": index + 1}
    after["version"] = implant.version
    audit.record(session, actor, "titration_step", implants.ENTITY, implant.id, before, after)
    session.flush()
    old, new = keep.output_current_mA, settings.output_current_mA
    message = f"Step {index + 1} programmed: {old} → {new} mA."
    return StepOutcome(plan, True, message)


@dataclass(frozen=True)
class ReviewDue:
    """The next step of a "to tolerance" plan that waits for a clinician (for the worklist)."""

    patient_id: int
    implant_id: int
    plan_id: int
    step: int
    output_current_mA: float
    due: datetime
    is_due: bool


def steps_awaiting_review(
    session: Session, now: datetime | None = None, *, patient_id: int | None = None
) -> list[ReviewDue]:
    """The next review point of every active "to tolerance" plan, soonest first.

    Active plans of active implants of patients not deleted, chosen in SQL (a plan "to
    tolerance" by its protocol text); ``is_due`` once the step's date has come. No access
    check: the caller shows it to the care team.
    """
    now = now or utcnow()
    query = (
        select(TitrationPlan, Implant.patient_id)
        .join(Implant, Implant.id == TitrationPlan.implant_id)
        .join(Patient, Patient.id == Implant.patient_id)
        .where(
            TitrationPlan.status == PlanStatus.ACTIVE.value,
            TitrationPlan.protocol.contains(" to tolerance"),
            Implant.status == ImplantStatus.ACTIVE.value,
            Patient.deleted_at.is_(None),
        )
    )
    if patient_id is not None:
        query = query.where(Implant.patient_id == patient_id)
    out = []
    for plan, owner in session.execute(query).all():
        waiting = [(i, s) for i, s in enumerate(plan.steps) if s.get("status") == AWAITING_REVIEW]
        if not waiting or plan_state(plan) != "awaiting_review":
            continue
        index, step = waiting[0]
        due = step_due([dict(x) for x in plan.steps], index)
        out.append(
            ReviewDue(
                owner, plan.implant_id, plan.id, index + 1, step["output_current_mA"], due,
                due <= now,
            )
        )  # fmt: skip
    return sorted(out, key=lambda r: r.due)
