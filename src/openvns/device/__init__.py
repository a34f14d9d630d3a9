"""The stimulator: catalogue, settings, safety check, waveforms, schedules and a virtual implant.

Examples
--------
>>> from openvns.device import StimulationSettings, check
>>> s = StimulationSettings(output_current_mA=1.5, frequency_Hz=20, pulse_width_us=250,
...                         on_time_s=30, off_time_min=5)
>>> report = check(s, "1000", "2mm")
>>> report.ok, round(report.dose.duty_cycle, 3), report.normal.charge_per_phase_uC
(True, 0.103, 0.375)
"""

from openvns.device.battery import BatteryModel
from openvns.device.catalogue import (
    Catalogue,
    GeneratorModel,
    LeadModel,
    ParameterRange,
    default_catalogue,
    generator,
    lead,
)
from openvns.device.diagnostics import DiagnosticsResult
from openvns.device.events import Counters, Event
from openvns.device.generator import PulseGenerator
from openvns.device.programs import DayNightProgram, ScheduledStep
from openvns.device.reports import AdvanceSummary, Interrogation
from openvns.device.safety import (
    Issue,
    SafetyLimits,
    SafetyReport,
    UnsafeSettingsError,
    check,
)
from openvns.device.schedule import (
    ScheduleTotals,
    TrainKind,
    TrainSchedule,
    autostim_trains,
    dose_sessions,
    duty_cycle_trains,
    magnet_train,
)
from openvns.device.settings import (
    FACTORY_SETTINGS,
    TYPICAL_SETTINGS,
    AutoStimSettings,
    MagnetSettings,
    StimulationSettings,
)
from openvns.device.waveforms import (
    PulseShape,
    biphasic,
    monophasic,
    pulse_train,
    sine_burst,
    waveform_for,
)

__all__ = [
    "FACTORY_SETTINGS",
    "TYPICAL_SETTINGS",
    "AdvanceSummary",
    "AutoStimSettings",
    "BatteryModel",
    "Catalogue",
    "Counters",
    "DayNightProgram",
    "DiagnosticsResult",
    "Event",
    "GeneratorModel",
    "Interrogation",
    "Issue",
    "LeadModel",
    "MagnetSettings",
    "ParameterRange",
    "PulseGenerator",
    "PulseShape",
    "SafetyLimits",
    "SafetyReport",
    "ScheduleTotals",
    "ScheduledStep",
    "StimulationSettings",
    "TrainKind",
    "TrainSchedule",
    "UnsafeSettingsError",
    "autostim_trains",
    "biphasic",
    "check",
    "default_catalogue",
    "dose_sessions",
    "duty_cycle_trains",
    "generator",
    "lead",
    "magnet_train",
    "monophasic",
    "pulse_train",
    "sine_burst",
    "waveform_for",
]
