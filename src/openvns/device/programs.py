"""What the virtual implant is programmed to do over time.

:class:`ProgramTrack` holds the active settings, the anchor of the ON/OFF cycle, the titration
steps still to be applied (Scheduled Programming) and an optional day/night program (Day & Night
Programming), and builds the normal-mode trains over a window, applying every program change on
the way. A change of program ends the normal train running at that moment and restarts the
cycle there (an OpenVNS choice; the reference is silent).

Times are seconds since implantation on the device clock (:class:`Clock`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from pydantic import model_validator

from openvns.base import FrozenModel
from openvns.device import timeline
from openvns.device.schedule import TrainSchedule, duty_cycle_trains
from openvns.device.settings import StimulationSettings
from openvns.errors import ValidationError

SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class Clock:
    """Conversion between device datetimes (naive) and seconds since ``epoch``."""

    epoch: datetime

    def dt(self, t_s: float) -> datetime:
        """The device datetime ``t_s`` seconds after the epoch (rounded to 1 µs)."""
        return self.epoch + timedelta(seconds=t_s)

    def sec(self, when: datetime, field: str = "time") -> float:
        """Seconds from the epoch to ``when``; refuses anything but a naive datetime."""
        if not isinstance(when, datetime) or when.tzinfo is not None:
            raise ValidationError(field, when, "a naive datetime (device clock)")
        return (when - self.epoch).total_seconds()

    def next_midnight(self, t_s: float) -> float:
        """Seconds to the first midnight after ``t_s``."""
        day = self.dt(t_s).date() + timedelta(days=1)
        return self.sec(datetime.combine(day, time()))


class ScheduledStep(FrozenModel):
    """A titration step the generator applies by itself (Scheduled Programming, SenTiva).

    Attributes
    ----------
    time
        Device time at which the settings are applied.
    settings
        The settings programmed at that time.
    """

    time: datetime
    settings: StimulationSettings


class DayNightProgram(FrozenModel):
    """Two programs by time of day (Day & Night Programming, SenTiva).

    Attributes
    ----------
    day, night
        Settings active by day and by night.
    day_starts, night_starts
        Times of day at which the day and the night program start (device clock).
    """

    day: StimulationSettings
    night: StimulationSettings
    day_starts: time
    night_starts: time

    @model_validator(mode="after")
    def _distinct(self) -> DayNightProgram:
        if self.day_starts == self.night_starts:
            raise ValueError("day_starts and night_starts must differ")
        return self

    def is_day(self, t: datetime) -> bool:
        """Whether the day program is active at ``t`` (day start inclusive)."""
        tod = t.time()
        if self.day_starts < self.night_starts:
            return self.day_starts <= tod < self.night_starts
        return not (self.night_starts <= tod < self.day_starts)

    def at(self, t: datetime) -> StimulationSettings:
        """The settings active at ``t``."""
        return self.day if self.is_day(t) else self.night

    @property
    def day_fraction(self) -> float:
        """Fraction of each 24 h under the day program (0–1)."""
        ref = datetime(2000, 1, 1)
        a = datetime.combine(ref.date(), self.day_starts)
        b = datetime.combine(ref.date(), self.night_starts)
        return ((b - a).total_seconds() % SECONDS_PER_DAY) / SECONDS_PER_DAY


class ProgramTrack:
    """Active settings, cycle anchor, pending titration steps and day/night program.

    Parameters
    ----------
    clock
        Device clock.
    settings
        Settings active at ``anchor_s``.
    anchor_s
        Start of the ON/OFF cycle (a train starts there), in s.
    """

    def __init__(self, clock: Clock, settings: StimulationSettings, anchor_s: float = 0.0) -> None:
        self.clock = clock
        self.settings = settings
        self.anchor_s = anchor_s
        self.steps: list[ScheduledStep] = []
        self.day_night: DayNightProgram | None = None

    def set(self, settings: StimulationSettings, at_s: float) -> None:
        """Make ``settings`` active from ``at_s``, with a new cycle starting there."""
        self.settings = settings
        self.anchor_s = at_s

    def settings_at(self, t_s: float) -> StimulationSettings:
        """Settings that will be active at ``t_s`` (≥ now), given the pending changes."""
        if self.day_night is not None:
            return self.day_night.at(self.clock.dt(t_s))
        settings = self.settings
        for step in self.steps:
            if self.clock.sec(step.time) <= t_s:
                settings = step.settings
        return settings

    def apply_due(self, t_s: float) -> tuple[list[tuple[float, ScheduledStep]], bool]:
        """Apply the changes due at ``t_s`` (the end of an advance): steps and a day/night switch.

        Returns the steps applied and whether the program changed.
        """
        applied: list[tuple[float, ScheduledStep]] = []
        while self.steps and self.clock.sec(self.steps[0].time) <= t_s:
            step = self.steps.pop(0)
            self.set(step.settings, t_s)
            applied.append((t_s, step))
        changed = bool(applied)
        if self.day_night is not None and (new := self.day_night.at(self.clock.dt(t_s))) != (
            self.settings
        ):
            self.set(new, t_s)
            changed = True
        return applied, changed

    def _changes(self, t0: float, t1: float) -> list[tuple[float, ScheduledStep | None]]:
        """Titration steps and day/night switch times in ``[t0, t1)``, in time order."""
        out: list[tuple[float, ScheduledStep | None]] = [
            (ts, s) for s in self.steps if t0 <= (ts := self.clock.sec(s.time)) < t1
        ]
        dn = self.day_night
        if dn is not None:
            d, last = self.clock.dt(t0).date() - timedelta(days=1), self.clock.dt(t1).date()
            while d <= last:
                for tod in (dn.day_starts, dn.night_starts):
                    ts = self.clock.sec(datetime.combine(d, tod))
                    if t0 <= ts < t1:
                        out.append((ts, None))
                d += timedelta(days=1)
        return sorted(out, key=lambda x: x[0])

    def normal_trains(
        self,
        running: TrainSchedule,
        t0: float,
        t1: float,
        *,
        ramp_s: float,
        enabled: bool,
    ) -> tuple[TrainSchedule, list[tuple[float, ScheduledStep]]]:
        """Normal-mode trains over ``[t0, t1)`` and the titration steps applied there.

        Parameters
        ----------
        running
            Normal trains started before ``t0`` and still running.
        t0, t1
            Window, in s.
        ramp_s
            Ramp of each train, in s.
        enabled
            False once the output is disabled: program changes still apply, no trains.

        Returns
        -------
        (TrainSchedule, list of (time_s, ScheduledStep))
            Trains overlapping the window (running ones first) and the steps that were applied.
        """
        base, a = running, t0
        applied: list[tuple[float, ScheduledStep]] = []
        for b, step in self._changes(t0, t1):
            new = step.settings if step is not None else self.settings_at(b)
            if step is None and new == self.settings:
                continue
            if enabled:
                seg = duty_cycle_trains(self.settings, a, b, ramp_s=ramp_s, phase_s=self.anchor_s)
                base = TrainSchedule.concat([base, seg])
            base = timeline.cut_running(base, b)
            self.set(new, b)
            a = b
            if step is not None:
                self.steps.remove(step)
                applied.append((b, step))
        if not enabled:
            return TrainSchedule.empty(), applied
        seg = duty_cycle_trains(self.settings, a, t1, ramp_s=ramp_s, phase_s=self.anchor_s)
        return TrainSchedule.concat([base, seg]), applied


#: Decimals a titration current is rounded to (1 nA: far below any generator's current step; it
#: keeps ``0.1 + 2 × 0.1`` from becoming 0.30000000000000004 mA).
TITRATION_CURRENT_DECIMALS = 6


def titration_currents_mA(
    start_current_mA: float, step_mA: float, target_mA: float
) -> tuple[float, ...]:
    """Currents of a titration, in order: the start, raised by ``step_mA`` up to the target.

    The last step lands exactly on the target (it may be smaller than ``step_mA``). A start at
    or above the target is a single step at the target. This is the one step-list rule of
    OpenVNS: protocols (:meth:`openvns.protocol.Protocol.step_currents_mA`), the scheduled
    titration of the virtual implant and the ``openvns device simulate`` job all use it.

    >>> titration_currents_mA(0.25, 0.25, 1.0)
    (0.25, 0.5, 0.75, 1.0)
    >>> titration_currents_mA(0.5, 0.5, 1.75)
    (0.5, 1.0, 1.5, 1.75)
    """
    for name, x in (("start_current_mA", start_current_mA), ("target_mA", target_mA)):
        if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x) or x < 0:
            raise ValidationError(name, x, "a finite current ≥ 0 mA")
    ok = isinstance(step_mA, int | float) and not isinstance(step_mA, bool)
    if not ok or not math.isfinite(step_mA) or step_mA <= 0:
        raise ValidationError("step_mA", step_mA, "a finite step > 0 mA")
    if start_current_mA >= target_mA:
        return (float(target_mA),)
    n = math.ceil((target_mA - start_current_mA) / step_mA - 1e-9)
    return tuple(
        round(min(start_current_mA + k * step_mA, target_mA), TITRATION_CURRENT_DECIMALS)
        for k in range(n + 1)
    )


def titration_steps(
    target: StimulationSettings,
    start_current_mA: float,
    step_mA: float,
    every_days: int,
    start: datetime,
) -> list[tuple[datetime, StimulationSettings]]:
    """Dated titration steps from ``start``: ``target`` at each of :func:`titration_currents_mA`.

    Step ``k`` is at ``start + k × every_days``; every setting other than the current is the
    target's. The list is what :meth:`openvns.device.PulseGenerator.schedule_titration` takes
    (all of it, or the steps after the first once that one is programmed by hand).

    >>> from openvns.device.settings import TYPICAL_SETTINGS
    >>> steps = titration_steps(TYPICAL_SETTINGS.with_(output_current_mA=0.75), 0.25, 0.25, 14,
    ...                         datetime(2026, 1, 5))
    >>> [(t.date().isoformat(), s.output_current_mA) for t, s in steps]
    [('2026-01-05', 0.25), ('2026-01-19', 0.5), ('2026-02-02', 0.75)]
    """
    if isinstance(every_days, bool) or not isinstance(every_days, int) or every_days < 1:
        raise ValidationError("every_days", every_days, "a whole number of days ≥ 1")
    currents = titration_currents_mA(start_current_mA, step_mA, target.output_current_mA)
    return [
        (start + timedelta(days=k * every_days), target.with_(output_current_mA=current))
        for k, current in enumerate(currents)
    ]


__all__ = [
    "TITRATION_CURRENT_DECIMALS",
    "Clock",
    "DayNightProgram",
    "ProgramTrack",
    "ScheduledStep",
    "titration_currents_mA",
    "titration_steps",
]
