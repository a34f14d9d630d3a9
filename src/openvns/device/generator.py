"""The virtual implant: a stateful implanted pulse generator.

:class:`PulseGenerator` behaves like an implanted VNS generator seen through a programmer:
interrogate it, program it (every change goes through :func:`openvns.device.safety.check`), run
System Diagnostics, swipe or hold the magnet, feed it heart rate (AutoStim), schedule titration
steps or a day/night program (SenTiva), let time pass with ``advance()`` and save it to a file
that restores it exactly.

Time passes in chunks of at most one calendar day: :class:`~openvns.device.programs.ProgramTrack`
builds the normal-mode trains, applying program changes on the way, and
:class:`~openvns.device.delivery.Delivery` overlays on-demand trains, removes magnet holds,
totals the window at the true impedance, drains the battery and disables the output at EOS
("PULSE DISABLED", S4); battery indicator changes are logged at their time inside the chunk.

Choices of OpenVNS where the reference is silent: when ``I × Z`` exceeds the compliance voltage
the generator delivers ``V_compliance / Z`` (charge, energy, drain and longevity follow);
``program()`` ends a day/night program; titration steps and a day/night program cannot be pending
together; ``schedule_titration()`` replaces the pending steps; magnet and AutoStim trains use the
normal-mode frequency, and a later on-demand train pre-empts an earlier one.

Examples
--------
>>> from datetime import timedelta
>>> from openvns.device.settings import TYPICAL_SETTINGS
>>> g = PulseGenerator("1000")
>>> _ = g.program(TYPICAL_SETTINGS)
>>> g.advance(timedelta(days=1)).trains_by_kind["normal"]
262
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pydantic

from openvns.device import autostim, safety, timeline
from openvns.device.battery import SECONDS_PER_YEAR, BatteryModel, Indicator
from openvns.device.catalogue import Feature, GeneratorModel, LeadModel, default_catalogue
from openvns.device.delivery import Delivery, Tally
from openvns.device.diagnostics import (
    DiagnosticsResult,
    ImpedanceStatus,
    deliverable_current_mA,
    run_system_diagnostics,
)
from openvns.device.events import Counters, Event, EventKind, EventLog
from openvns.device.implant import implant_constants
from openvns.device.programs import Clock, DayNightProgram, ProgramTrack, ScheduledStep
from openvns.device.reports import AdvanceSummary, Interrogation
from openvns.device.safety import SafetyLimits, SafetyReport, UnsafeSettingsError
from openvns.device.schedule import TrainKind, TrainSchedule, autostim_trains, magnet_train
from openvns.device.settings import FACTORY_SETTINGS, StimulationSettings
from openvns.device.state import (
    GeneratorState,
    check_state,
    dump_state,
    parse_state,
    read_state,
    trains_from_records,
    trains_to_records,
    write_state,
)
from openvns.errors import OpenVNSError, StateFileError, ValidationError

logger = logging.getLogger(__name__)

LeadFault = Literal["break", "short"]


#: Diagnostics fields kept in the ``diagnostics`` event.
_DIAGNOSED = {"lead_impedance_ohm", "impedance_status", "output_status", "required_voltage_V"}


def _detail(s: StimulationSettings) -> dict[str, Any]:
    return s.model_dump(mode="json")


def _messages(issues: Sequence[safety.Issue]) -> list[str]:
    return [i.message for i in issues]


class PulseGenerator:
    """A virtual implanted VNS generator (see the module documentation).

    Parameters
    ----------
    model
        Implanted catalogue generator or its id (``"1000"``); other kinds are refused.
    lead
        Lead model or id/alias; ``None`` takes the catalogue default (2 mm PerenniaFLEX).
    serial
        Serial number.
    implanted_at
        Implantation time; the device clock starts there (naive datetime).
    lead_impedance_ohm
        Intact lead impedance, in Ω; ``None`` takes the lead's nominal impedance.
    limits
        Safety limits applied to every programming; ``None`` takes the defaults.

    Raises
    ------
    ValidationError
        A model that is not implanted, a lead it does not take, or an invalid argument.
    """

    def __init__(
        self,
        model: str | GeneratorModel,
        lead: str | LeadModel | None = None,
        *,
        serial: str = "OVNS-000001",
        implanted_at: datetime = datetime(2026, 1, 1, 9, 0),
        lead_impedance_ohm: float | None = None,
        limits: SafetyLimits | None = None,
    ) -> None:
        cat = default_catalogue()
        gen = cat.generator(model) if isinstance(model, str) else model
        if not gen.implanted or gen.battery is None or gen.diagnostics is None:
            ids = [g.id for g in cat.generators.values() if g.implanted]
            raise ValidationError("model", gen.id, "an implanted generator: " + ", ".join(ids))
        ld = cat.default_lead(gen) if lead is None else lead
        ld = cat.lead(ld) if isinstance(ld, str) else ld
        if ld.id not in gen.leads or ld.nominal_impedance_ohm is None:
            raise ValidationError("lead", ld.id, "one of " + ", ".join(gen.leads))
        if not isinstance(serial, str) or not serial.strip():
            raise ValidationError("serial", serial, "a non-empty text")
        z = ld.nominal_impedance_ohm if lead_impedance_ohm is None else lead_impedance_ohm
        if isinstance(z, bool) or not isinstance(z, int | float) or not math.isfinite(z) or z <= 0:
            raise ValidationError("lead_impedance_ohm", z, "a finite impedance > 0 Ω")
        self.model: GeneratorModel = gen
        self.lead: LeadModel = ld
        self.serial: str = serial
        self.limits: SafetyLimits = limits or SafetyLimits.default()
        self._clock = Clock(implanted_at)
        self._clock.sec(implanted_at, "implanted_at")  # naive datetimes only
        self._t = 0.0
        self._program = ProgramTrack(self._clock, FACTORY_SETTINGS)
        self._delivery = Delivery(BatteryModel.for_generator(gen))
        self._nominal_z = float(z)
        self._fault: LeadFault | None = None
        self._measured: tuple[float, ImpedanceStatus] | None = None
        self._counters = Counters()
        consts = implant_constants()
        self._log = EventLog(consts.history_max_events, consts.history_min_magnet_activations)
        self._collect: list[Event] | None = None
        self._record("implanted", 0.0, model=gen.id, lead=ld.id, serial=serial, impedance_ohm=z)

    # ------------------------------------------------------------------------------ views
    @property
    def now(self) -> datetime:
        """Device clock (naive datetime)."""
        return self._clock.dt(self._t)

    @property
    def implanted_at(self) -> datetime:
        return self._clock.epoch

    @property
    def settings(self) -> StimulationSettings:
        """Active settings (the day or night program when one is set)."""
        return self._program.settings

    @property
    def impedance_ohm(self) -> float:
        """True lead impedance now (intact, broken or shorted), in Ω."""
        geo = self.lead.geometry
        if self._fault is None or geo is None:
            return self._nominal_z
        fault = geo.fault_break_impedance_ohm if self._fault == "break" else None
        return float(fault.value if fault else geo.fault_short_impedance_ohm.value)

    @property
    def battery_percent(self) -> float:
        return self._delivery.percent

    @property
    def battery_indicator(self) -> Indicator:
        return self._delivery.indicator

    @property
    def output_enabled(self) -> bool:
        return self._delivery.enabled

    @property
    def counters(self) -> Counters:
        return self._counters

    @property
    def history(self) -> tuple[Event, ...]:
        return self._log.as_tuple()

    def _record(self, kind: EventKind, t_s: float, **detail: Any) -> Event:
        event = self._log.add(Event(time=self._clock.dt(t_s), kind=kind, detail=detail))
        if self._collect is not None:
            self._collect.append(event)
        logger.debug("%s %s %s %s", self.serial, event.time, kind, detail)
        return event

    def _not_past(self, when: datetime, field: str) -> float:
        t = self._clock.sec(when, field)
        if t < self._t:
            raise ValidationError(field, when, f"not before the device clock {self.now}")
        return t

    def _require(self, feature: Feature, what: str) -> None:
        if not self.model.has(feature):
            ids = [g.id for g in default_catalogue().generators.values() if g.has(feature)]
            allowed = f"a generator with {what}: " + ", ".join(ids)
            raise ValidationError(feature, self.model.id, allowed)

    def interrogate(self) -> Interrogation:
        """Read the implant: settings, battery, last measured impedance, counters, history."""
        indicator = self.battery_indicator
        measured = self._measured
        return Interrogation(
            model_id=self.model.id,
            lead_id=self.lead.id,
            serial=self.serial,
            implanted_at=self.implanted_at,
            time=self.now,
            settings=self.settings,
            battery_percent=self.battery_percent,
            battery_indicator=indicator,
            near_eos=indicator in ("NEOS", "EOS"),
            output_enabled=self.output_enabled,
            lead_impedance_ohm=None if measured is None else measured[0],
            impedance_status=None if measured is None else measured[1],
            counters=self._counters,
            history=self.history,
            scheduled_steps=tuple(self._program.steps),
            day_night=self._program.day_night,
            magnet_held=self._delivery.held(self._t),
        )

    # ------------------------------------------------------------------------------ programming
    def _check(self, settings: StimulationSettings, by: str, what: str) -> SafetyReport:
        if not isinstance(settings, StimulationSettings):
            raise ValidationError("settings", settings, "a StimulationSettings value")
        report = safety.check(settings, self.model, self.lead, limits=self.limits)
        if not report.ok:
            detail = {"by": by, "what": what, "settings": _detail(settings)}
            self._record("program_refused", self._t, **detail, errors=_messages(report.errors))
            raise UnsafeSettingsError(report)
        return report

    def _apply_now(self, settings: StimulationSettings) -> None:
        self._program.set(settings, self._t)
        self._delivery.reprogrammed(self._t)
        self._counters = self._counters.plus(programming_count=1)

    def program(self, settings: StimulationSettings, *, by: str = "clinician") -> SafetyReport:
        """Program ``settings`` now if :func:`~openvns.device.safety.check` allows them.

        Warnings do not block. The ON/OFF cycle restarts now; a day/night program ends; pending
        titration steps stay.

        Raises
        ------
        UnsafeSettingsError
            A blocking error: a ``program_refused`` event is logged, the settings stay.
        """
        report = self._check(settings, by, "program")
        cancelled = self._program.day_night is not None
        self._program.day_night = None
        self._apply_now(settings)
        detail = {"by": by, "settings": _detail(settings), "day_night_cancelled": cancelled}
        self._record("programmed", self._t, **detail, warnings=_messages(report.warnings))
        return report

    def schedule_titration(self, steps: Sequence[tuple[datetime, StimulationSettings]]) -> None:
        """Schedule titration steps that the generator applies by itself on their dates.

        All steps are checked first: one blocked step and nothing is scheduled. The plan
        replaces the steps still pending (an empty plan cancels them). SenTiva (1000) only.

        Raises
        ------
        ValidationError
            No Scheduled Programming on the model, a day/night program set, a step time before
            the clock or times not strictly increasing.
        UnsafeSettingsError
            A step blocked by the safety check.
        """
        self._require("scheduled_programming", "Scheduled Programming")
        if self._program.day_night is not None:
            raise ValidationError("day_night", "set", "no day/night program during titration")
        plan: list[ScheduledStep] = []
        last = -math.inf
        for i, (when, settings) in enumerate(steps):
            t = self._not_past(when, f"steps[{i}].time")
            if t <= last:
                raise ValidationError(f"steps[{i}].time", when, "strictly increasing step times")
            plan.append(ScheduledStep(time=when, settings=settings))
            last = t
        for i, step in enumerate(plan):
            self._check(step.settings, "scheduled_programming", f"titration step {i}")
        replaced = len(self._program.steps)
        self._program.steps = plan
        summary = [{"time": s.time.isoformat(), "settings": _detail(s.settings)} for s in plan]
        self._record("titration_scheduled", self._t, steps=summary, replaced=replaced)

    def set_day_night(
        self,
        day: StimulationSettings,
        night: StimulationSettings,
        *,
        day_starts: time = time(8, 0),
        night_starts: time = time(22, 0),
    ) -> None:
        """Program a day and a night setting switched by time of day (SenTiva only).

        Both are checked; the one for the current time of day applies now.
        """
        self._require("day_night", "Day & Night Programming")
        if self._program.steps:
            raise ValidationError("scheduled_steps", len(self._program.steps), "none pending")
        try:
            dn = DayNightProgram(
                day=day, night=night, day_starts=day_starts, night_starts=night_starts
            )
        except pydantic.ValidationError as exc:
            allowed = "a time of day other than day_starts"
            raise ValidationError("night_starts", night_starts, allowed) from exc
        self._check(day, "clinician", "day program")
        self._check(night, "clinician", "night program")
        self._program.day_night = dn
        self._apply_now(dn.at(self.now))
        self._record("day_night_set", self._t, **dn.model_dump(mode="json"))

    # ------------------------------------------------------------------------------ diagnostics
    def run_diagnostics(self) -> DiagnosticsResult:
        """System Diagnostics: measure the lead impedance and check the output (S4 p40)."""
        res = run_system_diagnostics(
            self.model, self.lead, self.settings, self.impedance_ohm, self.now
        )
        self._measured = (res.lead_impedance_ohm, res.impedance_status)
        self._record("diagnostics", self._t, **res.model_dump(mode="json", include=_DIAGNOSED))
        return res

    def inject_lead_fault(self, kind: LeadFault | None) -> None:
        """Break (``"break"``) or short (``"short"``) the lead, or repair it (``None``)."""
        if kind not in ("break", "short", None):
            raise ValidationError("kind", kind, "'break', 'short' or None (repaired)")
        self._fault = kind
        self._record("lead_fault", self._t, fault=kind, impedance_ohm=self.impedance_ohm)

    # ------------------------------------------------------------------------------ on demand
    def magnet_swipe(self, at: datetime | None = None) -> bool:
        """Swipe the magnet at ``at`` (default: now): one magnet-mode train without ramp.

        Returns False, starting nothing, while the magnet is held, after EOS, or without magnet
        settings or with a 0 mA magnet output.
        """
        t = self._t if at is None else self._not_past(at, "at")
        s = self._program.settings_at(t)
        magnet = s.magnet if self.model.has("magnet") else None
        reason = (
            "magnet held"
            if self._delivery.held(t)
            else "output disabled (EOS)"
            if not self.output_enabled
            else "no magnet settings programmed"
            if magnet is None
            else "magnet output 0 mA"
            if magnet.output_current_mA <= 0
            else None
        )
        if reason is not None or magnet is None:
            logger.info(
                "%s: magnet swipe at %s ignored: %s", self.serial, self._clock.dt(t), reason
            )
            return False
        ramp = self.model.ramp_s if self.model.output.magnet_ramp else 0.0
        self._delivery.add_demand(magnet_train(t, magnet, frequency_Hz=s.frequency_Hz, ramp_s=ramp))
        self._counters = self._counters.plus(magnet_activations=1)
        self._record("magnet_swipe", t, **magnet.model_dump(), frequency_Hz=s.frequency_Hz)
        return True

    def magnet_hold(self, start: datetime, end: datetime) -> None:
        """Hold the magnet over the generator: no stimulation of any kind in ``[start, end)``."""
        a = self._not_past(start, "start")
        b = self._clock.sec(end, "end")
        if b <= a:
            raise ValidationError("end", end, f"after start {start}")
        self._delivery.add_hold(a, b)
        self._record("magnet_hold", a, end=end.isoformat(), duration_s=b - a)

    def heart_rate(
        self, times: Sequence[datetime], bpm: Sequence[float] | np.ndarray
    ) -> list[datetime]:
        """Feed detected heart rate to AutoStim; return the trigger times (106 and 1000 only).

        Detection uses the AutoStim settings active now. Samples before the device clock only
        feed the background. Triggers in a magnet hold or after EOS start nothing and are not
        returned; with a 0 mA AutoStim output they are logged but start no train. See
        :mod:`openvns.device.autostim`.

        Raises
        ------
        ValidationError
            No AutoStim on the model (field ``autostim``), no AutoStim settings programmed, or an
            invalid series (lengths, order, non-finite or implausible heart rates).
        """
        self._require("autostim", "AutoStim")
        a = self.settings.autostim
        if a is None:
            raise ValidationError("autostim", None, "AutoStim settings programmed first")
        stamps = list(times)
        t_s = [self._clock.sec(t, "times") for t in stamps]
        ramp = self.model.ramp_s
        found = autostim.respond(t_s, bpm, a, ramp_s=ramp, start_s=self._t)
        if t_s and t_s[0] < self._t:
            logger.info("%s: heart rate before the clock only feeds the background", self.serial)
        if not self.output_enabled:
            return []
        found = [x for x in found if not self._delivery.held(x.time_s)]
        if found and a.output_current_mA > 0:
            freq = self.settings.frequency_Hz
            trains = autostim_trains([x.time_s for x in found], a, frequency_Hz=freq, ramp_s=ramp)
            self._delivery.add_demand(trains)
        for x in found:
            self._record("autostim", x.time_s, bpm=x.bpm, background_bpm=x.background_bpm)
        self._counters = self._counters.plus(autostim_activations=len(found))
        return [stamps[x.index] for x in found]

    # ------------------------------------------------------------------------------ time
    def advance(self, until: datetime | timedelta) -> AdvanceSummary:
        """Let the device run until ``until`` (a device time, or a duration from now).

        Raises
        ------
        ValidationError
            A time before the device clock or a negative duration.
        """
        if isinstance(until, timedelta):
            if until < timedelta(0):
                raise ValidationError("until", until, "a duration ≥ 0")
            t_end = self._t + until.total_seconds()
        else:
            t_end = self._not_past(until, "until")
        start, p_start, tally = self._t, self.battery_percent, Tally()
        self._collect = []
        try:
            while self._t < t_end:
                t0 = self._t
                t1 = t_end if not self.output_enabled else min(self._clock.next_midnight(t0), t_end)
                normal, applied = self._program.normal_trains(
                    self._delivery.normal, t0, t1, ramp_s=self.model.ramp_s,
                    enabled=self.output_enabled,
                )  # fmt: skip
                self._steps_applied(applied)
                z = self.impedance_ohm
                i_max = deliverable_current_mA(self.model, z)
                win = self._delivery.run(normal, t0, t1, impedance_ohm=z, max_current_mA=i_max)
                for kind, tx, threshold in win.transitions:
                    self._record(kind, tx, battery_percent=threshold)
                tally.add(win)
                tot = win.totals.total
                self._counters = self._counters.plus(
                    trains_delivered=tot.trains, pulses_delivered=tot.pulses,
                    charge_delivered_C=tot.charge_C, stimulation_s=tot.stimulation_s,
                )  # fmt: skip
                self._t = t1
            applied, changed = self._program.apply_due(self._t)  # changes due at the very end
            if changed:
                self._delivery.reprogrammed(self._t)
            self._steps_applied(applied)
        finally:
            events, self._collect = tuple(self._collect), None
        return AdvanceSummary(
            start=self._clock.dt(start), end=self.now, **vars(tally),
            battery_percent_start=p_start, battery_percent_end=self.battery_percent,
            battery_indicator_end=self.battery_indicator, events=events,
        )  # fmt: skip

    def _steps_applied(self, applied: list[tuple[float, ScheduledStep]]) -> None:
        for ts, step in applied:
            self._counters = self._counters.plus(programming_count=1)
            self._record("scheduled_step_applied", ts, settings=_detail(step.settings))

    def longevity_years(self) -> float:
        """Years from the current battery % to EOS at the current program and true impedance.

        Normal-mode stimulation only (on-demand trains are not predictable), with the output
        limited by the compliance voltage as in ``advance()``; a day/night program is weighted by
        its hours. Pending titration steps are not anticipated. 0 at EOS.
        """
        if not self.output_enabled:
            return 0.0
        z, bat, ramp = self.impedance_ohm, self._delivery.battery, self.model.ramp_s
        i_max = deliverable_current_mA(self.model, z)

        def power_W(s: StimulationSettings) -> float:
            limited = s.with_(output_current_mA=min(s.output_current_mA, i_max))
            return bat.power_W(limited, z, ramp_s=ramp)

        dn = self._program.day_night
        if dn is None:
            power = power_W(self.settings)
        else:
            power = dn.day_fraction * power_W(dn.day) + (1 - dn.day_fraction) * power_W(dn.night)
        remaining_J = bat.total_energy_J * max(0.0, self.battery_percent - bat.eos_percent) / 100
        return remaining_J / power / SECONDS_PER_YEAR

    # ------------------------------------------------------------------------------ persistence
    def _to_state(self) -> GeneratorState:
        d, p, m = self._delivery, self._program, self._measured
        return GeneratorState(
            model_id=self.model.id,
            lead_id=self.lead.id,
            serial=self.serial,
            implanted_at=self.implanted_at,
            clock_s=self._t,
            settings=p.settings,
            cycle_anchor_s=p.anchor_s,
            battery_used_J=d.used_J,
            eos_at_s=d.eos_at_s,
            nominal_impedance_ohm=self._nominal_z,
            lead_fault=self._fault,
            measured_impedance_ohm=None if m is None else m[0],
            measured_impedance_status=None if m is None else m[1],
            limits=self.limits,
            counters=self._counters,
            events=self._log.as_tuple(),
            pending_steps=tuple(p.steps),
            day_night=p.day_night,
            trains=trains_to_records(TrainSchedule.concat([d.normal, d.demand])),
            holds_s=tuple(d.holds),
        )

    def save(self, path: str | Path) -> None:
        """Save the complete state to ``path`` (versioned JSON, written atomically)."""
        write_state(path, self._to_state(), catalogue_version=default_catalogue().version)

    def to_json(self) -> str:
        """The complete state as the JSON text :meth:`save` writes (for stores other than files)."""
        return dump_state(self._to_state(), catalogue_version=default_catalogue().version)

    @classmethod
    def from_json(cls, text: str, *, source: str = "<text>") -> PulseGenerator:
        """Restore a generator from the text of :meth:`to_json` (checked as :meth:`load` does).

        Raises
        ------
        StateFileError
            Invalid JSON, foreign format, unsupported version or any invalid field; ``source``
            names the origin in the message.
        """
        state, _ = parse_state(text, source=source)
        try:
            return cls._from_state(state)
        except (OpenVNSError, ValueError) as exc:
            raise StateFileError(source, f"invalid state: {exc}") from exc

    @classmethod
    def load(cls, path: str | Path) -> PulseGenerator:
        """Restore a generator saved with :meth:`save`.

        Raises
        ------
        StateFileError
            Missing file, invalid JSON, foreign format, unsupported version, unknown model or
            any invalid field. Everything is checked before the generator is built.
        """
        state, header = read_state(path)
        version = default_catalogue().version
        if header["catalogue_version"] != version:
            logger.warning(
                "%s was saved with catalogue %s; this OpenVNS has %s",
                path,
                header["catalogue_version"],
                version,
            )
        try:
            return cls._from_state(state)
        except (OpenVNSError, ValueError) as exc:
            raise StateFileError(str(path), f"invalid state: {exc}") from exc

    @classmethod
    def _from_state(cls, st: GeneratorState) -> PulseGenerator:
        check_state(st)
        trains = trains_from_records(st.trains)
        consts = implant_constants()
        log = EventLog(consts.history_max_events, consts.history_min_magnet_activations, st.events)
        g = cls(st.model_id, st.lead_id, serial=st.serial, implanted_at=st.implanted_at,
                lead_impedance_ohm=st.nominal_impedance_ohm, limits=st.limits)  # fmt: skip
        g._t, g._fault, g._counters, g._log = st.clock_s, st.lead_fault, st.counters, log
        if st.measured_impedance_ohm is not None and st.measured_impedance_status is not None:
            g._measured = (st.measured_impedance_ohm, st.measured_impedance_status)
        g._program.set(st.settings, st.cycle_anchor_s)
        g._program.steps, g._program.day_night = list(st.pending_steps), st.day_night
        d = g._delivery
        d.used_J, d.eos_at_s, d.holds = st.battery_used_J, st.eos_at_s, [*st.holds_s]
        d.normal, d.demand = timeline.split(trains, trains.kind == TrainKind.NORMAL)
        return g


__all__ = ["AdvanceSummary", "Interrogation", "LeadFault", "PulseGenerator"]
