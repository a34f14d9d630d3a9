"""Stimulation settings: what a clinician programs into a stimulator.

:class:`StimulationSettings` is frozen; a change of settings is a new value. It holds the
normal-mode parameters and, optionally, the magnet-mode and AutoStim (heart-rate triggered)
parameters. Whether a model offers a mode, and which values it can select, is the business of
:func:`openvns.device.safety.check`, not of this class: here only physically meaningless input
(negative or non-finite numbers) is refused.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import field_validator

from openvns.base import FrozenModel
from openvns.errors import ValidationError


def _finite_nonnegative(field: str, value: float) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValidationError(field, value, "a finite number ≥ 0")
    if not math.isfinite(value) or value < 0:
        raise ValidationError(field, value, "a finite number ≥ 0")
    return float(value)


class _Settings(FrozenModel):
    @field_validator("*", mode="before")
    @classmethod
    def _check_numbers(cls, value: Any, info: Any) -> Any:
        # bool is an int: refuse it here, before pydantic would coerce True to 1.0.
        if isinstance(value, int | float):
            return _finite_nonnegative(info.field_name, value)
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _check_coerced(cls, value: Any, info: Any) -> Any:
        # numbers given as text ("nan", "-1") are only floats after coercion.
        if isinstance(value, float):
            return _finite_nonnegative(info.field_name, value)
        return value


class MagnetSettings(_Settings):
    """Magnet mode: one on-demand train per swipe of the patient's magnet.

    Attributes
    ----------
    output_current_mA, pulse_width_us, on_time_s
        The train triggered by a swipe; it uses the normal-mode frequency and starts without a
        ramp.
    """

    output_current_mA: float
    pulse_width_us: float
    on_time_s: float


class AutoStimSettings(_Settings):
    """AutoStim (responsive) mode: a train when the heart rate rises by ``threshold_pct``.

    Attributes
    ----------
    threshold_pct
        Relative heart-rate increase over the background rate that triggers a train, in %.
    output_current_mA, pulse_width_us, on_time_s
        The triggered train (normal-mode frequency).
    heartbeat_sensitivity
        Heartbeat-detection sensitivity setting (1–5).
    """

    threshold_pct: float
    output_current_mA: float
    pulse_width_us: float
    on_time_s: float
    heartbeat_sensitivity: float = 3


class StimulationSettings(_Settings):
    """Programmed parameters of a stimulator.

    Attributes
    ----------
    output_current_mA
        Normal-mode output current (pulse amplitude), in mA.
    frequency_Hz
        Pulse (or burst) repetition frequency, in Hz.
    pulse_width_us
        Duration of the stimulating (cathodic) phase, in µs.
    on_time_s
        Signal ON time of a train, in s (ramps come on top of it).
    off_time_min
        Signal OFF time between trains, in min.
    magnet, autostim
        Optional magnet-mode and AutoStim settings.
    """

    output_current_mA: float
    frequency_Hz: float
    pulse_width_us: float
    on_time_s: float
    off_time_min: float
    magnet: MagnetSettings | None = None
    autostim: AutoStimSettings | None = None

    @property
    def off_time_s(self) -> float:
        return self.off_time_min * 60.0

    @property
    def period_s(self) -> float:
        """Cycle period ON + OFF, in s (the ramps lie inside the OFF time)."""
        return self.on_time_s + self.off_time_s

    def with_(self, **changes: Any) -> StimulationSettings:
        """A copy with ``changes`` applied (validated like a new value)."""
        return StimulationSettings.model_validate({**self.model_dump(), **changes})

    def flat(self) -> dict[str, float]:
        """Every set parameter keyed by its catalogue name (``magnet_on_time_s``, ...)."""
        out: dict[str, float] = {
            "output_current_mA": self.output_current_mA,
            "frequency_Hz": self.frequency_Hz,
            "pulse_width_us": self.pulse_width_us,
            "on_time_s": self.on_time_s,
            "off_time_min": self.off_time_min,
        }
        if self.magnet is not None:
            out |= {f"magnet_{k}": v for k, v in self.magnet.model_dump().items()}
        if self.autostim is not None:
            a = self.autostim
            out |= {
                "autostim_threshold_pct": a.threshold_pct,
                "autostim_output_current_mA": a.output_current_mA,
                "autostim_pulse_width_us": a.pulse_width_us,
                "autostim_on_time_s": a.on_time_s,
                "heartbeat_sensitivity": a.heartbeat_sensitivity,
            }
        return out


#: Settings a new implant ships with: output off, the typical parameters of S1 otherwise.
FACTORY_SETTINGS = StimulationSettings(
    output_current_mA=0.0,
    frequency_Hz=20.0,
    pulse_width_us=250.0,
    on_time_s=30.0,
    off_time_min=5.0,
)

#: A typical therapeutic dose (reference §1.2, S1): 1.5 mA, 20 Hz, 250 µs, 30 s ON / 5 min OFF.
TYPICAL_SETTINGS = StimulationSettings(
    output_current_mA=1.5,
    frequency_Hz=20.0,
    pulse_width_us=250.0,
    on_time_s=30.0,
    off_time_min=5.0,
)

__all__ = [
    "FACTORY_SETTINGS",
    "TYPICAL_SETTINGS",
    "AutoStimSettings",
    "MagnetSettings",
    "StimulationSettings",
]
