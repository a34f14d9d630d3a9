"""Saved state of the virtual implant: value types, a versioned JSON format, atomic files.

A state file is one JSON object::

    {"format": "openvns.pulse-generator", "version": 1, "catalogue_version": "2026.11.1",
     "saved_at": "2026-...Z", "state": {...}}

``state`` is a :class:`GeneratorState`: everything needed to resume the implant exactly (clock,
settings and cycle anchor, battery energy used, true impedance and fault, counters, history,
pending titration steps, day/night program, on-demand trains and magnet holds still to come,
safety limits). Times inside the implant are seconds since implantation, stored as JSON floats so
that a reloaded implant continues bit for bit.

:func:`write_state` writes atomically (:func:`openvns.files.atomic_write`: temporary file in the
same directory, fsync, ``os.replace``, fsync of the directory): a crash or a serialisation error
leaves the previous file intact. :func:`read_state` checks everything before returning and raises
:class:`~openvns.errors.StateFileError` with a clear message otherwise.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pydantic
from pydantic import Field, model_validator

from openvns.base import FrozenModel
from openvns.device import safety
from openvns.device.battery import BatteryModel
from openvns.device.catalogue import default_catalogue
from openvns.device.events import Counters, Event
from openvns.device.programs import DayNightProgram, ScheduledStep
from openvns.device.safety import SafetyLimits
from openvns.device.schedule import TrainKind, TrainSchedule
from openvns.device.settings import StimulationSettings
from openvns.errors import StateFileError
from openvns.files import atomic_write_text

logger = logging.getLogger(__name__)

FORMAT = "openvns.pulse-generator"
VERSION = 1

TrainKindName = Literal["normal", "magnet", "autostim"]
_KIND_NAMES: dict[TrainKind, TrainKindName] = {
    TrainKind.NORMAL: "normal",
    TrainKind.MAGNET: "magnet",
    TrainKind.AUTOSTIM: "autostim",
}


class TrainRecord(FrozenModel):
    """One train that is running or still to come (times in s since implantation)."""

    start_s: float = Field(allow_inf_nan=False)
    ramp_s: float = Field(ge=0, allow_inf_nan=False)
    on_time_s: float = Field(ge=0, allow_inf_nan=False)
    current_mA: float = Field(ge=0, allow_inf_nan=False)
    frequency_Hz: float = Field(ge=0, allow_inf_nan=False)
    pulse_width_us: float = Field(ge=0, allow_inf_nan=False)
    kind: TrainKindName
    stop_s: float | None = Field(default=None, allow_inf_nan=False)


class GeneratorState(FrozenModel):
    """Everything a :class:`~openvns.device.generator.PulseGenerator` needs to resume.

    Times ending in ``_s`` are seconds since ``implanted_at`` on the device clock.
    """

    model_id: str
    lead_id: str
    serial: str = Field(min_length=1)
    implanted_at: datetime
    clock_s: float = Field(ge=0, allow_inf_nan=False)
    settings: StimulationSettings
    cycle_anchor_s: float = Field(allow_inf_nan=False)
    battery_used_J: float = Field(ge=0, allow_inf_nan=False)
    eos_at_s: float | None = Field(default=None, allow_inf_nan=False)
    nominal_impedance_ohm: float = Field(gt=0, allow_inf_nan=False)
    lead_fault: Literal["break", "short"] | None = None
    measured_impedance_ohm: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    measured_impedance_status: Literal["OK", "HIGH", "LOW"] | None = None
    limits: SafetyLimits
    counters: Counters
    events: tuple[Event, ...]
    pending_steps: tuple[ScheduledStep, ...] = ()
    day_night: DayNightProgram | None = None
    trains: tuple[TrainRecord, ...] = ()
    holds_s: tuple[tuple[float, float], ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> GeneratorState:
        times = [s.time for s in self.pending_steps]
        for name, value in [
            ("implanted_at", self.implanted_at),
            *(("pending_steps", t) for t in times),
        ]:
            if value.tzinfo is not None:
                raise ValueError(f"{name} must be a naive datetime (device clock)")
        if any(b <= a for a, b in itertools.pairwise(times)):
            raise ValueError("pending_steps must be in strictly increasing time order")
        for a, b in self.holds_s:
            if not b > a:
                raise ValueError(f"magnet hold [{a}, {b}) must end after it starts")
        if self.eos_at_s is not None and self.eos_at_s > self.clock_s:
            raise ValueError("eos_at_s lies after the device clock")
        if (self.measured_impedance_ohm is None) != (self.measured_impedance_status is None):
            raise ValueError("measured impedance and its status go together")
        return self


def trains_to_records(sched: TrainSchedule) -> tuple[TrainRecord, ...]:
    """Rows of a train schedule as state-file records."""
    return tuple(
        TrainRecord(
            start_s=float(sched.start_s[i]),
            ramp_s=float(sched.ramp_s[i]),
            on_time_s=float(sched.on_time_s[i]),
            current_mA=float(sched.current_mA[i]),
            frequency_Hz=float(sched.frequency_Hz[i]),
            pulse_width_us=float(sched.pulse_width_us[i]),
            kind=_KIND_NAMES[TrainKind(int(sched.kind[i]))],
            stop_s=float(sched.stops[i]) if np.isfinite(sched.stops[i]) else None,
        )
        for i in range(len(sched))
    )


def trains_from_records(records: Iterable[TrainRecord]) -> TrainSchedule:
    """A train schedule from state-file records."""
    rows = list(records)
    if not rows:
        return TrainSchedule.empty()
    return TrainSchedule.from_columns(
        [r.start_s for r in rows],
        ramp_s=np.array([r.ramp_s for r in rows]),
        on_time_s=np.array([r.on_time_s for r in rows]),
        current_mA=np.array([r.current_mA for r in rows]),
        frequency_Hz=np.array([r.frequency_Hz for r in rows]),
        pulse_width_us=np.array([r.pulse_width_us for r in rows]),
        kind=np.array([TrainKind[r.kind.upper()] for r in rows], dtype=np.int8),
        stop_s=np.array([np.inf if r.stop_s is None else r.stop_s for r in rows]),
    )


def check_state(st: GeneratorState) -> None:
    """Check a state against the catalogue, the safety rules and the battery.

    Raises
    ------
    ValueError or OpenVNSError
        Unknown or non-implanted model, unknown lead, stored settings that the safety check
        blocks, a feature the model lacks, a pending step before the clock, or a battery state
        that cannot be.
    """
    cat = default_catalogue()
    gen = cat.generator(st.model_id)
    lead = cat.lead(st.lead_id)
    if not gen.implanted or gen.battery is None:
        raise ValueError(f"generator {gen.id} is not an implanted generator")
    stored = [st.settings, *(s.settings for s in st.pending_steps)]
    if st.day_night is not None:
        if not gen.has("day_night"):
            raise ValueError(f"generator {gen.id} has no day/night programming")
        stored += [st.day_night.day, st.day_night.night]
    for settings in stored:
        report = safety.check(settings, gen, lead, limits=st.limits)
        if not report.ok:
            raise ValueError(f"stored settings are blocked: {report.errors[0].message}")
    if st.pending_steps:
        if not gen.has("scheduled_programming"):
            raise ValueError(f"generator {gen.id} has no scheduled programming")
        if st.day_night is not None:
            raise ValueError("titration steps and a day/night program cannot both be pending")
        if (st.pending_steps[0].time - st.implanted_at).total_seconds() < st.clock_s:
            raise ValueError("a pending titration step lies before the device clock")
    battery = BatteryModel.for_generator(gen)
    if st.battery_used_J > battery.total_energy_J * (1 + 1e-9):
        raise ValueError("battery_used_J exceeds the energy of the battery")
    if st.eos_at_s is None and battery.indicator(battery.percent(st.battery_used_J)) == "EOS":
        raise ValueError("the battery is at EOS but no EOS time is recorded")


def dump_state(state: GeneratorState, *, catalogue_version: str) -> str:
    """The JSON text of a state file for ``state``."""
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "catalogue_version": catalogue_version,
        "saved_at": datetime.now(UTC).isoformat(),
        "state": state.model_dump(mode="json"),
    }
    return json.dumps(doc, indent=1, allow_nan=False)


def write_state(path: str | Path, state: GeneratorState, *, catalogue_version: str) -> None:
    """Serialise ``state`` first, then write it atomically to ``path``."""
    text = dump_state(state, catalogue_version=catalogue_version)
    atomic_write_text(path, text)
    logger.info("saved generator %s to %s", state.serial, path)


def _pydantic_problem(exc: pydantic.ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(x) for x in err["loc"]) or "state"
        parts.append(f"{loc}: {str(err['msg']).removeprefix('Value error, ')}")
    more = exc.error_count() - len(parts)
    return "invalid state: " + "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def read_state(path: str | Path) -> tuple[GeneratorState, dict[str, Any]]:
    """Read and validate a state file.

    Returns
    -------
    (GeneratorState, dict)
        The validated state and the file's header (``format``, ``version``,
        ``catalogue_version``, ``saved_at``).

    Raises
    ------
    StateFileError
        Missing or unreadable file, invalid JSON, a foreign ``format``, an unsupported
        ``version`` or an invalid state.
    """
    p = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise StateFileError(p, "no such file") from None
    except OSError as exc:
        raise StateFileError(p, f"cannot read the file ({exc.strerror or exc})") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StateFileError(p, f"not a valid JSON file ({exc})") from exc
    return parse_state(text, source=p)


def parse_state(text: str, *, source: str = "<text>") -> tuple[GeneratorState, dict[str, Any]]:
    """Validate the JSON text of a state file (what :func:`dump_state` writes).

    Used by :func:`read_state` and by stores that keep the text elsewhere (the clinic keeps it
    in its database). ``source`` names the origin in error messages.

    Raises
    ------
    StateFileError
        Invalid JSON, a foreign ``format``, an unsupported ``version`` or an invalid state.
    """
    p = source
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateFileError(p, f"not a valid JSON file ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise StateFileError(p, f"not an OpenVNS pulse-generator state (format {found!r})")
    version = doc.get("version")
    if version != VERSION or isinstance(version, bool):
        raise StateFileError(
            p, f"unsupported state version {version!r}; this OpenVNS reads version {VERSION}"
        )
    if not isinstance(doc.get("state"), dict):
        raise StateFileError(p, "the file has no 'state' object")
    try:
        state = GeneratorState.model_validate(doc["state"])
    except pydantic.ValidationError as exc:
        raise StateFileError(p, _pydantic_problem(exc)) from exc
    header = {k: doc.get(k) for k in ("format", "version", "catalogue_version", "saved_at")}
    return state, header


__all__ = [
    "FORMAT",
    "VERSION",
    "DayNightProgram",
    "GeneratorState",
    "ScheduledStep",
    "TrainRecord",
    "check_state",
    "dump_state",
    "parse_state",
    "read_state",
    "trains_from_records",
    "trains_to_records",
    "write_state",
]
