"""Request and response bodies of the implants API, and the stimulation settings bodies.

The settings bodies bound every number by the widest programmable range of any implanted
catalogue generator (read from the catalogue), so the OpenAPI schema states the outer limits;
whether a value is selectable on a given model (steps, lists, modes, Shannon k) is decided by
:func:`openvns.device.safety.check`, which reports every finding with field, value and allowed.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from openvns.clinic.implants.models import REASON_MAX, SERIAL_MAX, ImplantStatus
from openvns.clinic.schemas import Number, PlainText, Version
from openvns.device.catalogue import default_catalogue
from openvns.device.settings import StimulationSettings


class GeneratorModelId(enum.StrEnum):
    """Implanted generators of the catalogue (``openvns device models``)."""

    PULSE_102 = "102"
    DEMIPULSE_103 = "103"
    ASPIRE_HC_105 = "105"
    ASPIRE_SR_106 = "106"
    SENTIVA_1000 = "1000"


class LeadModelId(enum.StrEnum):
    """Helical leads of the catalogue (2 mm ``-20`` and 3 mm ``-30``)."""

    L302_20 = "302-20"
    L302_30 = "302-30"
    L303_20 = "303-20"
    L303_30 = "303-30"
    L304_20 = "304-20"
    L304_30 = "304-30"


def _bounds(parameter: str) -> tuple[float, float]:
    ranges = [
        g.parameters[parameter]
        for g in default_catalogue().generators.values()
        if g.implanted and parameter in g.parameters
    ]
    return min(r.min for r in ranges), max(r.max for r in ranges)


def _number(parameter: str, description: str) -> Any:
    low, high = _bounds(parameter)
    return Field(ge=low, le=high, allow_inf_nan=False, description=description)


class MagnetSettingsBody(BaseModel):
    """Magnet mode: one train per swipe (normal-mode frequency, no ramp)."""

    model_config = ConfigDict(extra="forbid")

    output_current_mA: Number = _number("magnet_output_current_mA", "Magnet output, mA.")
    pulse_width_us: Number = _number("magnet_pulse_width_us", "Magnet pulse width, µs.")
    on_time_s: Number = _number("magnet_on_time_s", "Magnet ON time, s.")


class AutoStimSettingsBody(BaseModel):
    """AutoStim (Models 106 and 1000): a train when the heart rate rises by the threshold."""

    model_config = ConfigDict(extra="forbid")

    threshold_pct: Number = _number("autostim_threshold_pct", "Heart-rate rise, %.")
    output_current_mA: Number = _number("autostim_output_current_mA", "AutoStim output, mA.")
    pulse_width_us: Number = _number("autostim_pulse_width_us", "AutoStim pulse width, µs.")
    on_time_s: Number = _number("autostim_on_time_s", "AutoStim ON time, s.")
    heartbeat_sensitivity: Number = Field(
        default=3, ge=_bounds("heartbeat_sensitivity")[0], le=_bounds("heartbeat_sensitivity")[1]
    )


class StimulationSettingsBody(BaseModel):
    """Programmed parameters (normal mode, optional magnet and AutoStim modes)."""

    model_config = ConfigDict(extra="forbid")

    output_current_mA: Number = _number("output_current_mA", "Output current, mA.")
    frequency_Hz: Number = _number("frequency_Hz", "Signal frequency, Hz.")
    pulse_width_us: Number = _number("pulse_width_us", "Pulse width, µs.")
    on_time_s: Number = _number("on_time_s", "Signal ON time, s.")
    off_time_min: Number = _number("off_time_min", "Signal OFF time, min.")
    magnet: MagnetSettingsBody | None = None
    autostim: AutoStimSettingsBody | None = None

    def to_device(self) -> StimulationSettings:
        """The device layer's settings value."""
        return StimulationSettings.model_validate(self.model_dump())

    @classmethod
    def of(cls, settings: StimulationSettings) -> StimulationSettingsBody:
        """The body of a device settings value."""
        return cls.model_validate(settings.model_dump())


Serial = Annotated[str, Field(min_length=1, max_length=SERIAL_MAX, pattern=r"^[A-Za-z0-9-]+$")]
Reason = Annotated[str, Field(min_length=1, max_length=REASON_MAX), PlainText()]


class ImplantCreate(BaseModel):
    """Register a generator and lead implanted in a patient."""

    model_config = ConfigDict(extra="forbid")

    generator_model: GeneratorModelId
    generator_serial: Serial
    lead_model: LeadModelId = LeadModelId.L304_20
    implanted_at: AwareDatetime | None = Field(
        default=None, description="Implantation time (not in the future); default: now."
    )


class ImplantExplant(BaseModel):
    """Record that the generator and lead were removed."""

    model_config = ConfigDict(extra="forbid")

    version: Version
    reason: Reason
    explanted_at: AwareDatetime | None = None


class ImplantReplace(BaseModel):
    """Replace the generator (end of service, malfunction): the lead stays unless named."""

    model_config = ConfigDict(extra="forbid")

    version: Version
    reason: Reason
    generator_model: GeneratorModelId
    generator_serial: Serial
    lead_model: LeadModelId | None = None
    replaced_at: AwareDatetime | None = None


class ImplantRead(BaseModel):
    """An implant as the API shows it (also the summary a patient sees of their own)."""

    id: int
    patient_id: int
    generator_model: str
    generator_serial: str
    lead_model: str
    implanted_at: datetime
    status: ImplantStatus
    ended_at: datetime | None
    end_reason: str | None
    replaces_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime
    device_time: datetime = Field(description="The implant's clock for the values below.")
    settings: StimulationSettingsBody
    battery_percent: float
    battery_indicator: str
