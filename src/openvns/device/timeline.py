"""Helpers of the virtual implant's time stepping on train schedules.

Small vectorised operations that :class:`~openvns.device.generator.PulseGenerator` needs on top
of the schedule module: cutting the trains running at an instant, limiting the current to what
the output stage can drive, and totals per train kind.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from openvns.device.schedule import ScheduleTotals, TrainKind, TrainSchedule

#: Names of the train kinds a pulse generator delivers, as reported by ``trains_by_kind``.
GENERATOR_KINDS: tuple[TrainKind, ...] = (TrainKind.NORMAL, TrainKind.MAGNET, TrainKind.AUTOSTIM)


def cut_running(sched: TrainSchedule, at_s: float) -> TrainSchedule:
    """Stop every train that started before ``at_s`` and is still running then."""
    running = np.flatnonzero((sched.start_s < at_s) & (sched.end_s > at_s))
    if len(running) == 0:
        return sched
    return sched.truncate(running, np.full(len(running), at_s))


def split(sched: TrainSchedule, mask: NDArray[np.bool_]) -> tuple[TrainSchedule, TrainSchedule]:
    """The rows where ``mask`` is true and the rest."""
    return rows(sched, np.flatnonzero(mask)), rows(sched, np.flatnonzero(~mask))


def rows(sched: TrainSchedule, index: NDArray[np.intp]) -> TrainSchedule:
    """The rows ``index`` of ``sched`` (in that order, which must keep starts sorted)."""
    return TrainSchedule(
        sched.start_s[index],
        sched.ramp_s[index],
        sched.on_time_s[index],
        sched.current_mA[index],
        sched.frequency_Hz[index],
        sched.pulse_width_us[index],
        sched.kind[index],
        sched.stops[index],
    )


def limit_current(sched: TrainSchedule, max_current_mA: float) -> TrainSchedule:
    """The schedule with every current limited to ``max_current_mA`` (compliance limit)."""
    if len(sched) == 0 or float(np.max(sched.current_mA)) <= max_current_mA:
        return sched
    return TrainSchedule(
        sched.start_s,
        sched.ramp_s,
        sched.on_time_s,
        np.minimum(sched.current_mA, max_current_mA),
        sched.frequency_Hz,
        sched.pulse_width_us,
        sched.kind,
        sched.stops,
    )


@dataclass(frozen=True)
class KindTotals:
    """Totals over a window, overall and trains started per kind."""

    total: ScheduleTotals
    trains_by_kind: dict[TrainKind, int]


def totals_by_kind(
    sched: TrainSchedule, t0_s: float, t1_s: float, *, impedance_ohm: float
) -> KindTotals:
    """Totals of ``sched`` over ``[t0_s, t1_s)`` and the trains started there per kind."""
    total = sched.totals(t0_s, t1_s, impedance_ohm=impedance_ohm)
    by_kind = {k: 0 for k in GENERATOR_KINDS}
    if total.trains:
        started = sched.kind[(sched.start_s >= t0_s) & (sched.start_s < t1_s)]
        kinds, counts = np.unique(started, return_counts=True)
        for k, c in zip(kinds, counts, strict=True):
            by_kind[TrainKind(int(k))] = int(c)
    return KindTotals(total, by_kind)


__all__ = [
    "GENERATOR_KINDS",
    "KindTotals",
    "cut_running",
    "limit_current",
    "rows",
    "split",
    "totals_by_kind",
]
