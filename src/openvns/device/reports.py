"""Value types a :class:`~openvns.device.generator.PulseGenerator` reports.

:class:`Interrogation` is what a programmer reads from the implant; :class:`AdvanceSummary` is
what happened while the device clock ran.
"""

from __future__ import annotations

from datetime import datetime

from openvns.base import FrozenModel
from openvns.device.battery import Indicator
from openvns.device.diagnostics import ImpedanceStatus
from openvns.device.events import Counters, Event
from openvns.device.programs import DayNightProgram, ScheduledStep
from openvns.device.settings import StimulationSettings


class Interrogation(FrozenModel):
    """What a programmer reads from the implant.

    Attributes
    ----------
    model_id, lead_id, serial, implanted_at
        Identity of the implant.
    time
        Device clock.
    settings
        Active settings (the day or night program when one is set).
    battery_percent
        Remaining battery energy, in % of beginning of life.
    battery_indicator
        ``OK``, ``IFI``, ``NEOS`` or ``EOS``.
    near_eos
        Near-EOS flag (NEOS or EOS; the only battery display of Models 100-102).
    output_enabled
        False from EOS on ("PULSE DISABLED").
    lead_impedance_ohm, impedance_status
        Last measured impedance (Ω) and its status; ``None`` before any diagnostics.
    counters
        Lifetime totals.
    history
        Event log, oldest first.
    scheduled_steps
        Titration steps still to be applied.
    day_night
        Day/night program, if any.
    magnet_held
        Whether a magnet hold inhibits stimulation now.
    """

    model_id: str
    lead_id: str
    serial: str
    implanted_at: datetime
    time: datetime
    settings: StimulationSettings
    battery_percent: float
    battery_indicator: Indicator
    near_eos: bool
    output_enabled: bool
    lead_impedance_ohm: float | None
    impedance_status: ImpedanceStatus | None
    counters: Counters
    history: tuple[Event, ...]
    scheduled_steps: tuple[ScheduledStep, ...]
    day_night: DayNightProgram | None
    magnet_held: bool


class AdvanceSummary(FrozenModel):
    """What happened during one :meth:`PulseGenerator.advance`.

    Attributes
    ----------
    start, end
        Device clock before and after.
    trains_by_kind
        Trains started, keyed ``normal``, ``magnet``, ``autostim``.
    pulses, charge_C, delivered_energy_J, stimulation_s
        Pulses, cathodic charge (C), energy into the lead (J) and stimulation time (s).
    battery_used_J
        Battery energy used (stimulation through the output stage plus quiescent drain), J.
    battery_percent_start, battery_percent_end, battery_indicator_end
        Battery state before and after.
    events
        Events recorded during the advance.
    """

    start: datetime
    end: datetime
    trains_by_kind: dict[str, int]
    pulses: float
    charge_C: float
    delivered_energy_J: float
    stimulation_s: float
    battery_used_J: float
    battery_percent_start: float
    battery_percent_end: float
    battery_indicator_end: Indicator
    events: tuple[Event, ...]


__all__ = ["AdvanceSummary", "Interrogation"]
