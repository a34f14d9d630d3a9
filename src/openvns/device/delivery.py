"""What the virtual implant delivers: trains in flight, magnet holds and the battery.

:class:`Delivery` takes the normal-mode trains of a window (at most one day), lets the on-demand
trains (magnet, AutoStim) pre-empt them, removes what a held magnet inhibits, limits the current
to what the output stage can drive through the lead (``V_compliance / Z``: the generator delivers
only that current when ``I × Z`` exceeds the compliance voltage), totals the window exactly and
drains the battery. Battery indicator changes inside the window are timed by linear interpolation
of the energy used; at EOS every train is stopped and only the quiescent drain continues.

Trains still running at the end of a window are carried to the next one, so a train is counted
once (in the window where it starts) however the windows fall.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from openvns.device import timeline
from openvns.device.battery import BatteryModel, Indicator
from openvns.device.events import EventKind
from openvns.device.schedule import TrainKind, TrainSchedule


@dataclass(frozen=True)
class Window:
    """What one window delivered.

    Attributes
    ----------
    totals
        Exact totals of the delivered trains and the trains started per kind.
    used_J
        Battery energy used in the window, in J.
    transitions
        Battery indicator changes: (event kind, time in s, threshold in %).
    """

    totals: timeline.KindTotals
    used_J: float
    transitions: list[tuple[EventKind, float, float]] = field(default_factory=list)


@dataclass
class Tally:
    """Running totals over several windows (what an ``advance()`` reports)."""

    trains_by_kind: dict[str, int] = field(
        default_factory=lambda: {k.name.lower(): 0 for k in timeline.GENERATOR_KINDS}
    )
    pulses: float = 0.0
    charge_C: float = 0.0
    delivered_energy_J: float = 0.0
    stimulation_s: float = 0.0
    battery_used_J: float = 0.0

    def add(self, window: Window) -> None:
        tot = window.totals.total
        for kind, n in window.totals.trains_by_kind.items():
            self.trains_by_kind[kind.name.lower()] += n
        self.pulses += tot.pulses
        self.charge_C += tot.charge_C
        self.delivered_energy_J += tot.energy_J
        self.stimulation_s += tot.stimulation_s
        self.battery_used_J += window.used_J


class Delivery:
    """Trains in flight, magnet holds and battery state of one implant.

    Parameters
    ----------
    battery
        Calibrated battery of the generator.
    """

    def __init__(self, battery: BatteryModel) -> None:
        self.battery = battery
        self.used_J = 0.0
        self.eos_at_s: float | None = None
        self.normal = TrainSchedule.empty()  # normal trains running at the clock
        self.demand = TrainSchedule.empty()  # on-demand trains running or still to come
        self.holds: list[tuple[float, float]] = []

    @property
    def percent(self) -> float:
        """Battery percent (0–100)."""
        return self.battery.percent(self.used_J)

    @property
    def indicator(self) -> Indicator:
        """``OK``, ``IFI``, ``NEOS`` or ``EOS`` (EOS from the moment the output was disabled)."""
        return "EOS" if self.eos_at_s is not None else self.battery.indicator(self.percent)

    @property
    def enabled(self) -> bool:
        """Whether the output still delivers pulses (False from EOS on)."""
        return self.eos_at_s is None

    def held(self, t_s: float) -> bool:
        """Whether a magnet hold inhibits stimulation at ``t_s``."""
        return any(a <= t_s < b for a, b in self.holds)

    def add_hold(self, start_s: float, end_s: float) -> None:
        self.holds = sorted([*self.holds, (start_s, end_s)])

    def add_demand(self, trains: TrainSchedule) -> None:
        """Add on-demand trains; each pre-empts the on-demand trains already there."""
        self.demand = self.demand.overlay(trains)

    def reprogrammed(self, at_s: float) -> None:
        """A new program at ``at_s`` ends the normal train running then."""
        self.normal = timeline.cut_running(self.normal, at_s)

    def _totals(
        self, sched: TrainSchedule, t0: float, t1: float, z: float, i_max: float
    ) -> tuple[timeline.KindTotals, float]:
        limited = timeline.limit_current(sched, i_max)
        kt = timeline.totals_by_kind(limited, t0, t1, impedance_ohm=z)
        return kt, self.battery.drain_J(kt.total.energy_J, t1 - t0)

    def run(
        self,
        normal: TrainSchedule,
        t0: float,
        t1: float,
        *,
        impedance_ohm: float,
        max_current_mA: float,
    ) -> Window:
        """Deliver ``[t0, t1)`` given its normal-mode trains; update trains in flight and battery.

        Parameters
        ----------
        normal
            Normal-mode trains overlapping the window (including those carried from before).
        t0, t1
            Window, in s since implantation.
        impedance_ohm
            True lead impedance, in Ω.
        max_current_mA
            Largest current the output stage can drive through it, in mA.
        """
        sched = normal
        if self.enabled:
            demand = self.demand.window(t0, t1)
            if len(demand):
                sched = sched.overlay(demand)
        else:
            sched = TrainSchedule.empty()
        holds = [(a, b) for a, b in self.holds if a < t1 and b > t0]
        if holds and len(sched):
            sched = sched.inhibit(holds)
        bat = self.battery
        kt, used = self._totals(sched, t0, t1, impedance_ohm, max_current_mA)
        p0, p1 = bat.percent(self.used_J), bat.percent(self.used_J + used)
        transitions: list[tuple[EventKind, float, float]] = []
        thresholds: tuple[tuple[EventKind, float], ...] = (
            ("battery_ifi", bat.ifi_percent),
            ("battery_neos", bat.neos_percent),
            ("battery_eos", bat.eos_percent),
        )
        for kind, thr in thresholds if self.enabled else ():
            if p0 > thr >= p1:
                tx = t0 + (p0 - thr) / (p0 - p1) * (t1 - t0)
                transitions.append((kind, tx, thr))
                if kind == "battery_eos":
                    self.eos_at_s = tx
                    sched = sched.inhibit([(tx, math.inf)])
                    kt, used = self._totals(sched, t0, t1, impedance_ohm, max_current_mA)
        used = min(used, bat.total_energy_J - self.used_J)
        self.used_J += used
        # carry what still runs at t1; keep on-demand trains still to come
        running = timeline.rows(sched, np.flatnonzero(sched.end_s > t1))
        self.normal, demand_running = timeline.split(running, running.kind == TrainKind.NORMAL)
        if self.enabled:
            later = timeline.rows(self.demand, np.flatnonzero(self.demand.start_s >= t1))
            self.demand = TrainSchedule.concat([demand_running, later])
        else:
            self.normal = self.demand = TrainSchedule.empty()
        self.holds = [h for h in self.holds if h[1] > t1]
        return Window(kt, used, transitions)


__all__ = ["Delivery", "Tally", "Window"]
