"""Request and response bodies of the programming API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from openvns.clinic.implants.schemas import StimulationSettingsBody
from openvns.clinic.programming.models import (
    PROTOCOL_MAX,
    PlanStatus,
    ProposalStatus,
    SessionStatus,
)
from openvns.clinic.schemas import MAX_ID, BodyId, NotBoolean, PlainText

Id = BodyId
#: The implant version the clinician saw (from the interrogation).
ImplantVersion = Annotated[
    int,
    Field(ge=1, le=MAX_ID, description="From the interrogation; stale gives 409."),
    NotBoolean(),
]


class SessionRead(BaseModel):
    """A programming session."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    implant_id: int
    started_by_id: int | None
    status: SessionStatus
    started_at: datetime
    closed_at: datetime | None


class ScheduledStepRead(BaseModel):
    """A titration step the implant will apply by itself."""

    time: datetime
    settings: StimulationSettingsBody


class InterrogationRead(BaseModel):
    """What the programmer reads from the implant (§1.4: interrogate)."""

    implant_id: int
    implant_version: int = Field(description="Send it back when programming (409 if stale).")
    generator_model: str
    lead_model: str
    generator_serial: str
    device_time: datetime
    settings: StimulationSettingsBody
    battery_percent: float
    battery_indicator: str
    near_eos: bool
    output_enabled: bool
    lead_impedance_ohm: float | None = Field(description="Last measured; null before any test.")
    impedance_status: Literal["OK", "HIGH", "LOW"] | None
    last_diagnostics_at: datetime | None
    scheduled_steps: list[ScheduledStepRead]
    magnet_held: bool
    programming_count: int


class SessionStarted(BaseModel):
    """A new session and the first interrogation."""

    session: SessionRead
    interrogation: InterrogationRead


class DiagnosticsRead(BaseModel):
    """System Diagnostics (§1.3): lead impedance OK/HIGH/LOW and output OK/LIMIT."""

    implant_id: int
    implant_version: int
    time: datetime
    lead_impedance_ohm: float
    impedance_status: Literal["OK", "HIGH", "LOW"]
    output_status: Literal["OK", "LIMIT"]
    test_current_mA: float
    test_pulse_width_us: float
    test_frequency_Hz: float
    required_voltage_V: float
    compliance_voltage_V: float
    deliverable_current_mA: float
    notes: list[str]


class IssueRead(BaseModel):
    """One finding of the safety check: field, value, what is allowed, and the message."""

    severity: Literal["error", "warning", "note"]
    code: str
    field: str
    value: float | str
    allowed: str
    message: str
    nearest: float | None = Field(
        default=None, description="For a value off the model's steps: the nearest selectable one."
    )


class ProposalCreate(BaseModel):
    """Settings to check against the implant's generator and lead."""

    model_config = ConfigDict(extra="forbid")

    settings: StimulationSettingsBody


class ComparisonRow(BaseModel):
    """One quantity now (old) and with the proposal (new); null where it does not apply."""

    name: str
    label: str
    unit: str
    old: float | None
    new: float | None
    change: float | None


class ProposalRead(BaseModel):
    """A proposal with every blocking error and warning of the safety check."""

    id: int
    session_id: int
    status: ProposalStatus
    settings: StimulationSettingsBody
    ok: bool = Field(description="False when any blocking error was found.")
    errors: list[IssueRead]
    warnings: list[IssueRead]
    notes: list[IssueRead]
    created_at: datetime
    created_by_id: int | None
    comparison: list[ComparisonRow] | None = Field(
        default=None,
        description="The implant now → the proposal: settings, duty cycle, charge per phase and "
        "density, Shannon k, battery longevity (when the proposal is made).",
    )


class ProgramConfirm(BaseModel):
    """Explicit confirmation: the proposal, and the implant version the clinician saw."""

    model_config = ConfigDict(extra="forbid")

    proposal_id: Id
    implant_version: ImplantVersion
    settings: StimulationSettingsBody | None = Field(
        default=None, description="If given, must equal the proposal's settings exactly."
    )


class ProgramResult(BaseModel):
    """What the implant had before, what it has now (verified by re-interrogation)."""

    proposal_id: int
    before: StimulationSettingsBody
    after: StimulationSettingsBody
    verified: bool = Field(description="The re-interrogated settings equal the proposal.")
    warnings: list[IssueRead]
    interrogation: InterrogationRead


class TitrationPlanCreate(BaseModel):
    """A titration protocol to program into the implant's Scheduled Programming."""

    model_config = ConfigDict(extra="forbid")

    protocol: Annotated[
        str,
        Field(
            min_length=1,
            max_length=PROTOCOL_MAX,
            description="e.g. 'titrate from 0.25 mA by 0.25 mA every 14 days to 1.5 mA; 20 Hz; "
            "250 us; 30 s on / 5 min off'",
        ),
        PlainText(),
    ]
    implant_version: ImplantVersion
    start_at: AwareDatetime | None = Field(
        default=None, description="First step (not in the past); default: now."
    )
    preview_digest: Annotated[str, Field(max_length=64), PlainText()] | None = Field(
        default=None,
        description="The preview's digest: if given, the plan must be the one previewed (409).",
    )
    accept_lower_current: bool = Field(
        default=False,
        description="Must be true when the plan lowers the output (the preview says so).",
    )


class TitrationPlanPreviewCreate(BaseModel):
    """A titration protocol to preview: nothing is programmed."""

    model_config = ConfigDict(extra="forbid")

    protocol: Annotated[str, Field(min_length=1, max_length=PROTOCOL_MAX), PlainText()]
    implant_version: ImplantVersion | None = Field(
        default=None, description="The version seen; the preview answers the current one."
    )
    start_at: AwareDatetime | None = None


class SafetyRead(BaseModel):
    """The safety check of one step: every blocking error, warning and note."""

    ok: bool
    errors: list[IssueRead]
    warnings: list[IssueRead]
    notes: list[IssueRead]


PlanStepStatus = Literal["programmed", "scheduled", "awaiting_review", "not_applied"]


class PlanStepPreview(BaseModel):
    """A step as the plan would program it, with its safety report."""

    time: datetime
    settings: StimulationSettingsBody
    review: bool = Field(description="A review point: a clinician confirms this step.")
    status: PlanStepStatus
    safety: SafetyRead


class CurrentChange(BaseModel):
    """The output before and after the plan's first step."""

    old_output_current_mA: float
    new_output_current_mA: float


class TitrationPlanPreview(BaseModel):
    """Every step of a plan with its safety report, and what it changes now."""

    protocol: str
    rule: Literal["tolerance", "fixed", "device"]
    start_at: datetime
    implant_version: int = Field(description="Confirm with this version (409 if stale).")
    ok: bool = Field(description="False when any step is blocked.")
    steps: list[PlanStepPreview]
    change: CurrentChange
    lowers_current: bool = Field(description="Confirm with accept_lower_current: true.")
    message: str
    digest: str = Field(description="Send it back as preview_digest to confirm this plan.")


class NextStepConfirm(BaseModel):
    """Confirm the next step of a plan paused at a review point."""

    model_config = ConfigDict(extra="forbid")

    implant_version: ImplantVersion


class PlanStepRead(BaseModel):
    """One step of a plan."""

    time: datetime
    output_current_mA: float
    review: bool = False
    status: PlanStepStatus | None = Field(
        default=None, description="Null for plans programmed before review points existed."
    )
    applied_at: datetime | None = None


class TitrationPlanRead(BaseModel):
    """A titration plan programmed into the implant."""

    id: int
    implant_id: int
    session_id: int | None
    protocol: str
    start_at: datetime
    steps: list[PlanStepRead]
    status: PlanStatus
    rule: Literal["tolerance", "fixed", "device"]
    state: Literal["running", "awaiting_review", "stopped", "superseded"]
    created_by_id: int | None
    created_at: datetime


class NextStepResult(BaseModel):
    """Whether the next step was programmed, or the plan stopped (the message says why)."""

    applied: bool
    message: str
    plan: TitrationPlanRead


class ActorRead(BaseModel):
    """Who made a change (``null`` fields for the system)."""

    id: int | None
    name: str | None
    role: str | None


class FieldChangeRead(BaseModel):
    """One setting old → new (``old`` is null at registration)."""

    field: str
    unit: str
    old: float | None
    new: float | None


class SettingsChangeRead(BaseModel):
    """One audited change of an implant's settings: who, when, old → new."""

    at: datetime
    who: ActorRead
    action: str
    implant_id: int
    old: StimulationSettingsBody | None
    new: StimulationSettingsBody | None
    changes: list[FieldChangeRead]
