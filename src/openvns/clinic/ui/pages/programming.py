"""The programming session page: interrogate, run diagnostics, propose, confirm to program.

Every step calls ``programming.service`` (the same functions as ``/api/v1/programming-sessions``):

1. the session page interrogates the implant and shows its settings, battery and impedance;
2. *Run diagnostics* stores a measurement (the implant's version moves on);
3. *Check settings* runs ``device.check`` through ``service.propose``: every blocking error and
   warning is shown, and only a proposal without errors gets a confirmation form;
4. *Program* sends the proposal and the implant version the clinician saw (a hidden field);
   a stale version is a conflict with a clear message, unsafe settings never reach the implant;
5. a titration protocol is previewed (every step with its safety check, the output old → new,
   review points of a "to tolerance" plan) and programmed only by the preview's confirmation
   form, which repeats the protocol, the implant version and the preview's digest
   (``plans.preview_plan`` / ``plans.create_plan``); a plan paused at a review point gets a
   *Confirm the next step* button (``plans.confirm_next_step``).
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response, status

from openvns.clinic.auth.dependencies import CurrentUser
from openvns.clinic.auth.models import Role, User
from openvns.clinic.db.session import SessionDep
from openvns.clinic.errors import ConflictError
from openvns.clinic.implants.clock import NowDep
from openvns.clinic.implants.schemas import StimulationSettingsBody
from openvns.clinic.patients import service as patients
from openvns.clinic.programming import history, plans, service
from openvns.clinic.programming.models import PlanStatus, SessionStatus
from openvns.clinic.programming.router import (
    interrogation_read,
    plan_read,
    preview_read,
    proposal_read,
)
from openvns.clinic.programming.schemas import (
    ProposalRead,
    TitrationPlanCreate,
    TitrationPlanPreview,
    TitrationPlanPreviewCreate,
)
from openvns.clinic.ui.forms import FORM, FieldErrors, PostedForm, service_error, validate
from openvns.clinic.ui.templating import FlashKind, flash, is_htmx, redirect, render
from openvns.device.catalogue import GeneratorModel, default_catalogue
from openvns.device.safety import UnsafeSettingsError
from openvns.errors import ValidationError

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

#: How many of the latest settings changes the session page lists.
HISTORY_SHOWN = 20
PLAN_FIELDS = ("protocol", "implant_version", "preview_digest", "accept_lower_current")
#: The normal-mode parameters the page edits (magnet and AutoStim are kept as programmed):
#: field, label, unit. The input step of each comes from the implant's generator model.
NORMAL = (
    ("output_current_mA", "Output current", "mA"),
    ("frequency_Hz", "Frequency", "Hz"),
    ("pulse_width_us", "Pulse width", "µs"),
    ("on_time_s", "Signal ON time", "s"),
    ("off_time_min", "Signal OFF time", "min"),
)


def input_step(generator: GeneratorModel, field: str) -> str:
    """The ``step`` of the number input of ``field`` (fields without a pick-list).

    ``"any"`` where the catalogue gives a list of values or a continuous range.
    """
    allowed = generator.parameters.get(field)
    if allowed is None or allowed.values is not None or allowed.step is None:
        return "any"
    return f"{allowed.step:g}"


def pick_list(generator: GeneratorModel, field: str, unit: str) -> list[tuple[str, str]] | None:
    """The model's selectable values of ``field`` as (value, text) options, or ``None``.

    From the implant's generator model in the device catalogue: a list of values, or a grid
    (SenTiva, Model 1000, programs the output current in 0.125 mA steps, earlier models in
    0.25 mA steps). ``None`` for a continuous range (a number input then).
    """
    allowed = generator.parameters.get(field)
    if allowed is None or (allowed.values is None and allowed.step is None):
        return None
    return [(f"{v:g}", f"{v:g} {unit}") for v in allowed.selectable()]


def normal_fields(generator_model: str) -> tuple[tuple[str, str, str, str], ...]:
    """:data:`NORMAL` with the input step of each field on ``generator_model``."""
    generator = default_catalogue().generator(generator_model)
    return tuple((name, label, unit, input_step(generator, name)) for name, label, unit in NORMAL)


def pick_lists(generator_model: str) -> dict[str, list[tuple[str, str]]]:
    """The pick-list of each :data:`NORMAL` field that has one on ``generator_model``."""
    generator = default_catalogue().generator(generator_model)
    lists = {name: pick_list(generator, name, unit) for name, _, unit in NORMAL}
    return {name: options for name, options in lists.items() if options is not None}


def _is_selected(current: Any, option: str) -> bool:
    """Whether ``current`` (a number, or the posted text) is the option ``option``."""
    try:
        return current is not None and float(current) == float(option)
    except (TypeError, ValueError):
        return False


#: What the titration form starts with (the protocol grammar of ``openvns.protocol.text``).
EXAMPLE_PROTOCOL = (
    "titrate from 0.25 mA by 0.25 mA every 14 days to 1.5 mA; 20 Hz; 250 us; 30 s on / 5 min off"
)


def _session_page(
    request: Request,
    session: SessionDep,
    user: User,
    session_id: int,
    now: datetime,
    *,
    values: dict[str, Any] | None = None,
    errors: FieldErrors | None = None,
    proposal: ProposalRead | None = None,
    version: int | None = None,
    problem: str = "",
    plan: dict[str, Any] | None = None,
    plan_errors: FieldErrors | None = None,
    plan_preview: TitrationPlanPreview | None = None,
    status_code: int = status.HTTP_200_OK,
) -> Response:
    row, implant = service.get_session(session, user, session_id)
    patient = patients.get_patient(session, user, implant.patient_id)
    is_open = row.status == SessionStatus.OPEN.value
    state = None
    if is_open:
        state = interrogation_read(implant, service.interrogate(session, user, session_id, now)[1])
    current = state.settings.model_dump() if state is not None else {}
    held = ""
    try:
        service.require_holder(session, row, user, now)
    except ConflictError as exc:
        held = str(exc)
    context = {
        "row": row,
        "implant": implant,
        "patient": patient,
        "state": state,
        "is_open": is_open,
        "can_program": user.role == Role.CLINICIAN.value and is_open and not held,
        "held": held,
        "normal": normal_fields(implant.generator_model),
        "values": values if values is not None else current,
        "errors": errors or {},
        "proposal": proposal,
        "version": version if version is not None else implant.version,
        "problem": problem,
        "plan": plan or {"protocol": EXAMPLE_PROTOCOL},
        "plan_errors": plan_errors or {},
        "plan_preview": plan_preview,
        "field_labels": {name: label for name, label, _ in NORMAL},
        "is_selected": _is_selected,
        "pick_lists": pick_lists(implant.generator_model),
        "history": history.settings_changes(session, user, patient.id, limit=HISTORY_SHOWN),
        "active_plans": [
            plan_read(p)
            for p in service.list_plans(session, user, implant.id)
            if p.status == PlanStatus.ACTIVE.value
        ],
    }
    is_plan = plan_errors or plan_preview is not None
    fragment = "programming/_plan.html" if is_plan else "programming/_proposal.html"
    name = fragment if is_htmx(request) else "programming/page.html"
    return render(request, name, context, user=user, status_code=status_code)


@router.post("/implants/{implant_id}/sessions")
def start_session(
    request: Request, implant_id: int, user: CurrentUser, session: SessionDep, now: NowDep
) -> Response:
    """Open a programming session (care team) and go to it."""
    row, _, _ = service.start_session(session, user, implant_id, now)
    return redirect(request, f"/programming/{row.id}")


@router.get("/programming/{session_id}")
def session_page(
    request: Request, session_id: int, user: CurrentUser, session: SessionDep, now: NowDep
) -> Response:
    """The session: the implant interrogated now, diagnostics, and the settings form."""
    row, implant = service.get_session(session, user, session_id)
    if row.status != SessionStatus.OPEN.value:
        return redirect(request, f"/implants/{implant.id}")
    return _session_page(request, session, user, session_id, now)


@router.post("/programming/{session_id}/diagnostics")
def diagnostics(
    request: Request, session_id: int, user: CurrentUser, session: SessionDep, now: NowDep
) -> Response:
    """Run System Diagnostics; the result shows on the session page."""
    _, result = service.run_diagnostics(session, user, session_id, now)
    response = redirect(request, f"/programming/{session_id}")
    good = result.impedance_status == "OK" and result.output_status == "OK"
    kind: FlashKind = "success" if good else "warning"
    flash(
        request,
        response,
        f"Diagnostics: lead impedance {result.lead_impedance_ohm:.0f} Ω "
        f"({result.impedance_status}), output {result.output_status}.",
        kind,
    )
    return response


@router.post("/programming/{session_id}/proposals")
def propose(
    request: Request,
    session_id: int,
    user: CurrentUser,
    session: SessionDep,
    form: PostedForm,
    now: NowDep,
) -> Response:
    """Check the settings with ``device.check``; show every error and warning."""
    _, generator = service.interrogate(session, user, session_id, now)
    kept = generator.settings.model_dump(mode="json", include={"magnet", "autostim"})
    data = {name: form.get(name) or None for name, *_ in NORMAL}
    body, errors = validate(StimulationSettingsBody, {**kept, **data})
    version_text = form.get("implant_version", "")
    version = int(version_text) if version_text.isdigit() else None
    if body is None:
        return _session_page(
            request, session, user, session_id, now, values=form, errors=errors,
            version=version, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )  # fmt: skip
    settings = body.to_device()
    proposal, report = service.propose(session, user, session_id, settings, now)
    rows = service.compare(session, user, session_id, settings, now)
    code = status.HTTP_200_OK if report.ok else status.HTTP_422_UNPROCESSABLE_CONTENT
    return _session_page(
        request, session, user, session_id, now, values=form,
        proposal=proposal_read(proposal, rows), version=version, status_code=code,
    )  # fmt: skip


@router.post("/programming/{session_id}/program")
def program(
    request: Request,
    session_id: int,
    user: CurrentUser,
    session: SessionDep,
    form: PostedForm,
    now: NowDep,
) -> Response:
    """Program the confirmed proposal at the implant version that was shown, then verify."""
    proposal_text, version_text = form.get("proposal_id", ""), form.get("implant_version", "")
    if not (proposal_text.isdigit() and version_text.isdigit()):
        raise ValidationError("proposal_id", proposal_text, "the id of a checked proposal")
    proposal_id, version = int(proposal_text), int(version_text)
    try:
        with session.begin_nested():
            _, before, verified, report = service.program(
                session, user, session_id, proposal_id, version, None, now
            )
    except ConflictError as exc:
        log.info("programming refused: %s", exc)
        problem = (
            "Not programmed: the implant changed after you interrogated it (another "
            "programming or a diagnostics run), or this proposal was used already. Interrogate "
            f"again and check the settings against the implant as it is now. ({exc})"
        )
        return _session_page(
            request, session, user, session_id, now, problem=problem,
            status_code=status.HTTP_409_CONFLICT,
        )  # fmt: skip
    except UnsafeSettingsError as exc:
        problem = f"Not programmed: the safety check blocks these settings. {exc}"
        return _session_page(
            request, session, user, session_id, now, problem=problem,
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )  # fmt: skip
    response = redirect(request, f"/programming/{session_id}")
    after = verified.settings
    verified_ok = after == report.settings
    flash(
        request,
        response,
        f"Programmed{' and verified' if verified_ok else ''}: "
        f"{before.output_current_mA} → {after.output_current_mA} mA, {after.frequency_Hz} Hz, "
        f"{after.pulse_width_us} µs, {after.on_time_s} s ON / {after.off_time_min} min OFF.",
        "success" if verified_ok else "warning",
    )
    return response


@router.post("/programming/{session_id}/close")
def close(
    request: Request, session_id: int, user: CurrentUser, session: SessionDep, now: NowDep
) -> Response:
    """Close the session and go back to the implant."""
    row = service.close_session(session, user, session_id, now)
    response = redirect(request, f"/implants/{row.implant_id}")
    flash(request, response, "Programming session closed.", "info")
    return response


def _plan_form(form: PostedForm) -> dict[str, Any]:
    """The plan fields of a posted form (an unchecked box is absent: false)."""
    data: dict[str, Any] = {k: form.get(k) or None for k in PLAN_FIELDS}
    data["accept_lower_current"] = form.get("accept_lower_current") == "true"
    return data


@router.post("/programming/{session_id}/titration-plans/preview")
def preview_plan(
    request: Request,
    session_id: int,
    user: CurrentUser,
    session: SessionDep,
    form: PostedForm,
    now: NowDep,
) -> Response:
    """Every step of a plan with its safety check, and the confirmation form (clinicians)."""
    data = {k: form.get(k) or None for k in ("protocol", "implant_version")}
    body, errors = validate(TitrationPlanPreviewCreate, data)
    page = partial(_session_page, request, session, user, session_id, now, plan=form)
    if body is None:
        return page(plan_errors=errors, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    try:
        preview = plans.preview_plan(session, user, session_id, body.protocol, None, now)
    except ValidationError as exc:
        return page(plan_errors=service_error(exc), status_code=422)
    except ConflictError as exc:
        return page(plan_errors={FORM: str(exc)}, status_code=409)
    return page(plan_preview=preview_read(preview))


@router.post("/programming/{session_id}/titration-plans")
def create_plan(
    request: Request,
    session_id: int,
    user: CurrentUser,
    session: SessionDep,
    form: PostedForm,
    now: NowDep,
) -> Response:
    """Program a previewed plan: only the preview's confirmation form (with its digest) does."""
    body, errors = validate(TitrationPlanCreate, _plan_form(form))
    page = partial(_session_page, request, session, user, session_id, now, plan=form)
    if body is None:
        return page(plan_errors=errors, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
    if body.preview_digest is None:  # no one-click plans: show the preview to confirm
        return preview_plan(request, session_id, user, session, form, now)
    try:
        with session.begin_nested():
            plan, _ = plans.create_plan(
                session, user, session_id, body.protocol, body.implant_version, None, now,
                preview_digest=body.preview_digest,
                accept_lower_current=body.accept_lower_current,
            )  # fmt: skip
    except (ConflictError, UnsafeSettingsError) as exc:
        code = 409 if isinstance(exc, ConflictError) else 422
        return page(plan_errors={FORM: str(exc)}, status_code=code)
    except ValidationError as exc:
        return page(plan_errors=service_error(exc), status_code=422)
    response = redirect(request, f"/programming/{session_id}")
    paused = (
        " (paused at a review point before each later step)"
        if plans.plan_state(plan) == "awaiting_review"
        else ""
    )
    flash(
        request, response, f"Titration plan programmed: {len(plan.steps)} steps{paused}.",
        "success",
    )  # fmt: skip
    return response


@router.post("/programming/{session_id}/titration-plans/{plan_id}/next-step")
def confirm_next_step(
    request: Request,
    session_id: int,
    plan_id: int,
    user: CurrentUser,
    session: SessionDep,
    form: PostedForm,
    now: NowDep,
) -> Response:
    """Confirm the next step of a plan paused at a review point (clinicians)."""
    version_text = form.get("implant_version", "")
    if not version_text.isdigit():
        raise ValidationError("implant_version", version_text, "the version from the page")
    response = redirect(request, f"/programming/{session_id}")
    try:
        with session.begin_nested():
            outcome = plans.confirm_next_step(
                session, user, session_id, plan_id, int(version_text), now
            )
    except ConflictError as exc:
        flash(request, response, f"Not programmed: {exc}", "warning")
        return response
    except UnsafeSettingsError as exc:
        flash(
            request, response, f"Not programmed: the safety check blocks this step. {exc}", "error"
        )
        return response
    kind: FlashKind = "success" if outcome.applied else "warning"
    flash(request, response, outcome.message, kind)
    return response
