"""Device history of the virtual implant: events and counters.

An :class:`Event` is one entry of the implant's history (programming, diagnostics, magnet
activations, AutoStim triggers, battery indicator changes, lead faults). :class:`Counters` are
the lifetime totals a programmer reads on interrogation. :class:`EventLog` keeps the history
sorted by time and bounded in size, always keeping the most recent magnet activations (the
Model 250 software shows the last 15, S4 p45).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from openvns.base import FrozenModel

EventKind = Literal[
    "implanted",
    "programmed",
    "program_refused",
    "scheduled_step_applied",
    "titration_scheduled",
    "day_night_set",
    "diagnostics",
    "magnet_swipe",
    "magnet_hold",
    "autostim",
    "battery_ifi",
    "battery_neos",
    "battery_eos",
    "lead_fault",
]

#: Every event kind, in the order of :data:`EventKind`.
EVENT_KINDS: tuple[str, ...] = EventKind.__args__  # type: ignore[attr-defined]


class Event(FrozenModel):
    """One entry of the device history.

    Attributes
    ----------
    time
        Device time of the event (naive datetime).
    kind
        What happened (see :data:`EventKind`).
    detail
        JSON-able details (numbers, strings, lists and dicts only).
    """

    time: datetime
    kind: EventKind
    detail: dict[str, Any] = Field(default_factory=dict)


class Counters(FrozenModel):
    """Lifetime totals of the implant.

    Attributes
    ----------
    magnet_activations
        Magnet swipes that started a train.
    autostim_activations
        AutoStim triggers that started (or will start) a train.
    trains_delivered
        Trains of any kind that have started, up to the device clock.
    pulses_delivered
        Pulses delivered (ramps included; a fractional value is a pulse in progress).
    charge_delivered_C
        Cathodic charge delivered into the lead, in C.
    stimulation_s
        Time during which pulses were delivered, in s.
    programming_count
        Successful programming sessions plus applied scheduled titration steps.
    """

    magnet_activations: int = Field(default=0, ge=0)
    autostim_activations: int = Field(default=0, ge=0)
    trains_delivered: int = Field(default=0, ge=0)
    pulses_delivered: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    charge_delivered_C: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    stimulation_s: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    programming_count: int = Field(default=0, ge=0)

    def plus(self, **increments: float) -> Counters:
        """A copy with ``increments`` added to the named counters."""
        data = self.model_dump()
        for name, inc in increments.items():
            data[name] = data[name] + inc
        return Counters.model_validate(data)


class EventLog:
    """The device history: events sorted by time, bounded in size.

    Parameters
    ----------
    max_events
        Most events kept; the oldest are dropped first.
    keep_magnet
        Number of most recent ``magnet_swipe`` events that are never dropped.
    events
        Initial events (any order).
    """

    def __init__(self, max_events: int, keep_magnet: int, events: Iterable[Event] = ()) -> None:
        self.max_events = max_events
        self.keep_magnet = keep_magnet
        self._events: list[Event] = sorted(events, key=lambda e: e.time)
        self._trim()

    def add(self, event: Event) -> Event:
        """Insert ``event`` after every event at or before its time; return it."""
        bisect.insort_right(self._events, event, key=lambda e: e.time)
        self._trim()
        return event

    def _trim(self) -> None:
        excess = len(self._events) - self.max_events
        if excess <= 0:
            return
        magnets = [i for i, e in enumerate(self._events) if e.kind == "magnet_swipe"]
        protected = set(magnets[-self.keep_magnet :]) if self.keep_magnet else set()
        drop: set[int] = set()
        for i in range(len(self._events)):
            if len(drop) == excess:
                break
            if i not in protected:
                drop.add(i)
        self._events = [e for i, e in enumerate(self._events) if i not in drop]

    def __iter__(self) -> Iterator[Event]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)

    def as_tuple(self) -> tuple[Event, ...]:
        return tuple(self._events)


__all__ = ["EVENT_KINDS", "Counters", "Event", "EventKind", "EventLog"]
