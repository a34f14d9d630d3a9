"""Old → new for proposed settings: the settings and what the device layer derives from them.

:func:`compare` puts the implant's current settings beside proposed ones: the five normal-mode
settings, the duty cycle, the charge per phase, the charge density and Shannon k at the lead
(:class:`openvns.device.safety.ChargeMetrics`), and the battery longevity from the implant's
present charge (:meth:`openvns.device.generator.PulseGenerator.longevity_years`, computed on a
copy of the implant programmed with the proposal; nothing is stored). A value that does not
apply (no helical lead, blocked settings) is ``None``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from openvns.device import safety
from openvns.device.generator import PulseGenerator
from openvns.device.settings import StimulationSettings
from openvns.errors import OpenVNSError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Row:
    """One compared quantity: its name, label, unit, old and new value, and the change."""

    name: str
    label: str
    unit: str
    old: float | None
    new: float | None

    @property
    def change(self) -> float | None:
        """``new - old`` (``None`` when either is missing)."""
        if self.old is None or self.new is None:
            return None
        return round(self.new - self.old, 6)


def _report(generator: PulseGenerator, settings: StimulationSettings) -> safety.SafetyReport:
    return safety.check(settings, generator.model, generator.lead, limits=generator.limits)


def longevity_with(generator: PulseGenerator, settings: StimulationSettings) -> float | None:
    """Years to end of service with ``settings`` (on a copy of the implant), or ``None``."""
    if settings == generator.settings:
        return generator.longevity_years()
    copy = PulseGenerator.from_json(generator.to_json(), source="comparison")
    try:
        copy.program(settings, by="comparison")
    except OpenVNSError as exc:  # blocked settings have no longevity
        log.debug("no longevity for blocked settings: %s", exc)
        return None
    return copy.longevity_years()


def _round(x: float | None, digits: int) -> float | None:
    return None if x is None else round(x, digits)


def compare(generator: PulseGenerator, settings: StimulationSettings) -> list[Row]:
    """The implant's settings now → ``settings``, with the derived quantities."""
    old_s, new_s = generator.settings, settings
    old, new = _report(generator, old_s), _report(generator, new_s)
    rows = [
        Row("output_current_mA", "Output current", "mA", old_s.output_current_mA,
            new_s.output_current_mA),
        Row("frequency_Hz", "Frequency", "Hz", old_s.frequency_Hz, new_s.frequency_Hz),
        Row("pulse_width_us", "Pulse width", "µs", old_s.pulse_width_us, new_s.pulse_width_us),
        Row("on_time_s", "Signal ON time", "s", old_s.on_time_s, new_s.on_time_s),
        Row("off_time_min", "Signal OFF time", "min", old_s.off_time_min, new_s.off_time_min),
        Row("duty_cycle_pct", "Duty cycle", "%", round(100 * old.dose.duty_cycle, 2),
            round(100 * new.dose.duty_cycle, 2)),
        Row("charge_per_phase_uC", "Charge per phase", "µC",
            _round(old.normal.charge_per_phase_uC, 4), _round(new.normal.charge_per_phase_uC, 4)),
        Row("charge_density_uC_per_cm2", "Charge density", "µC/cm²",
            _round(old.normal.charge_density_uC_per_cm2, 3),
            _round(new.normal.charge_density_uC_per_cm2, 3)),
        Row("shannon_k", "Shannon k", "", _round(old.normal.shannon_k, 3),
            _round(new.normal.shannon_k, 3)),
    ]  # fmt: skip
    old_years, new_years = longevity_with(generator, old_s), longevity_with(generator, new_s)
    rows.append(
        Row("longevity_years", "Battery longevity", "years", _round(old_years, 2),
            _round(new_years, 2))
    )  # fmt: skip
    return rows
