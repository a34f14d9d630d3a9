"""Stimulation over days and months as intervals, not sample arrays.

A :class:`TrainSchedule` is a table of trains (one row per train): start, ramp, plateau,
current, frequency, pulse width and kind (normal ON/OFF cycling, magnet, AutoStim, dose
session). A year of 30 s / 5 min cycling is ~96 000 rows; totals over any window (trains,
stimulation time, pulses, charge, energy) are computed exactly from the linear ramps in O(rows).

Builders: :func:`duty_cycle_trains` (ON/OFF with ramps), :func:`magnet_train`,
:func:`autostim_trains` (from trigger times) and :func:`dose_sessions` (non-invasive doses).
:meth:`TrainSchedule.overlay` lets on-demand trains pre-empt the normal cycle and
:meth:`TrainSchedule.inhibit` removes what a held magnet suppresses.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from openvns.device.settings import AutoStimSettings, MagnetSettings, StimulationSettings

FloatArray = NDArray[np.float64]


class TrainKind(enum.IntEnum):
    """Why a train was delivered."""

    NORMAL = 0
    MAGNET = 1
    AUTOSTIM = 2
    DOSE = 3


_COLUMNS = (
    "start_s",
    "ramp_s",
    "on_time_s",
    "current_mA",
    "frequency_Hz",
    "pulse_width_us",
    "stop_s",
)


@dataclass(frozen=True)
class ScheduleTotals:
    """Totals of a schedule over a window.

    Attributes
    ----------
    trains
        Trains that start in the window.
    stimulation_s
        Time during which pulses are delivered, in s.
    pulses
        Pulses delivered (bursts × pulses per burst for burst devices).
    charge_C
        Cathodic charge delivered (sum of charge per phase), in C.
    energy_J
        Energy delivered into the load, ``I² Z PW`` per pulse, in J (0 without an impedance).
    """

    trains: int
    stimulation_s: float
    pulses: float
    charge_C: float
    energy_J: float


def _envelope_cumulative(
    t: FloatArray, on_s: FloatArray, ramp_s: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Integrals of a trapezoidal envelope over ``[0, t)``: time, ∫a dt and ∫a² dt.

    ``t`` is measured from the train start and clipped to the train.
    """
    r = ramp_s
    total = on_s + 2 * r
    t = np.clip(t, 0.0, total)
    safe_r = np.where(r > 0, r, 1.0)
    x = np.minimum(t, r)
    a1 = np.where(r > 0, x * x / (2 * safe_r), 0.0)
    a2 = np.where(r > 0, x**3 / (3 * safe_r * safe_r), 0.0)
    p = np.clip(t - r, 0.0, on_s)
    a1 = a1 + p
    a2 = a2 + p
    y = np.clip(t - r - on_s, 0.0, r)
    a1 = a1 + np.where(r > 0, y - y * y / (2 * safe_r), 0.0)
    a2 = a2 + np.where(r > 0, safe_r / 3.0 * (1.0 - (1.0 - y / safe_r) ** 3), 0.0)
    return t, a1, a2


@dataclass(frozen=True)
class TrainSchedule:
    """A table of stimulation trains, sorted by start time.

    Every column is a 1-D array of the same length. A train ramps up linearly for ``ramp_s``,
    holds ``current_mA`` for ``on_time_s`` and ramps down for ``ramp_s``, unless it is stopped
    abruptly at ``stop_s`` (absolute time; ``inf`` for a train that runs its course), as when a
    magnet is held or an on-demand train pre-empts it.
    """

    start_s: FloatArray
    ramp_s: FloatArray
    on_time_s: FloatArray
    current_mA: FloatArray
    frequency_Hz: FloatArray
    pulse_width_us: FloatArray
    kind: NDArray[np.int8]
    stop_s: FloatArray | None = None

    def __post_init__(self) -> None:
        n = len(self.start_s)
        if self.stop_s is None:
            object.__setattr__(self, "stop_s", np.full(n, np.inf))
        for name in (*_COLUMNS, "kind"):
            col = getattr(self, name)
            if col.ndim != 1 or len(col) != n:
                raise ValueError(f"column {name} has shape {col.shape}; expected ({n},)")
        if n > 1 and np.any(np.diff(self.start_s) < 0):
            raise ValueError("start_s must be sorted")

    # ----------------------------------------------------------------------------- building
    @classmethod
    def empty(cls) -> TrainSchedule:
        z = np.zeros(0)
        return cls(z, z, z, z, z, z, np.zeros(0, dtype=np.int8), z)

    @classmethod
    def from_columns(
        cls,
        start_s: Sequence[float] | FloatArray,
        *,
        ramp_s: float | FloatArray,
        on_time_s: float | FloatArray,
        current_mA: float | FloatArray,
        frequency_Hz: float | FloatArray,
        pulse_width_us: float | FloatArray,
        kind: TrainKind | NDArray[np.int8],
        stop_s: float | FloatArray = np.inf,
    ) -> TrainSchedule:
        """Build a schedule, broadcasting scalars; rows are sorted by start."""
        start = np.asarray(start_s, dtype=np.float64).ravel()
        n = len(start)

        def col(v: float | FloatArray) -> FloatArray:
            return np.broadcast_to(np.asarray(v, dtype=np.float64), (n,)).copy()

        kinds = np.broadcast_to(np.asarray(kind, dtype=np.int8), (n,)).copy()
        order = np.argsort(start, kind="stable")
        return cls(
            start[order],
            col(ramp_s)[order],
            col(on_time_s)[order],
            col(current_mA)[order],
            col(frequency_Hz)[order],
            col(pulse_width_us)[order],
            kinds[order],
            col(stop_s)[order],
        )

    @staticmethod
    def concat(schedules: Iterable[TrainSchedule]) -> TrainSchedule:
        """All trains of ``schedules`` in one table, sorted by start."""
        parts = list(schedules)
        if not parts:
            return TrainSchedule.empty()
        cols = {c: np.concatenate([getattr(p, c) for p in parts]) for c in (*_COLUMNS, "kind")}
        order = np.argsort(cols["start_s"], kind="stable")
        return TrainSchedule(**{c: v[order] for c, v in cols.items()})

    def _take(self, mask_or_index: NDArray[np.bool_] | NDArray[np.intp]) -> TrainSchedule:
        return TrainSchedule(**{c: getattr(self, c)[mask_or_index] for c in (*_COLUMNS, "kind")})

    # ----------------------------------------------------------------------------- queries
    def __len__(self) -> int:
        return len(self.start_s)

    @property
    def stops(self) -> FloatArray:
        """Abrupt stop time of each train (``inf`` when it runs its course), in s."""
        assert self.stop_s is not None  # set in __post_init__
        return self.stop_s

    @property
    def end_s(self) -> FloatArray:
        """End of each train (after its ramp-down, or at its abrupt stop), in s."""
        return np.minimum(self.start_s + self.on_time_s + 2 * self.ramp_s, self.stops)

    @property
    def duration_s(self) -> FloatArray:
        return self.end_s - self.start_s

    def window(self, t0_s: float, t1_s: float) -> TrainSchedule:
        """Trains that overlap ``[t0_s, t1_s)`` (not clipped)."""
        mask = (self.start_s < t1_s) & (self.end_s > t0_s)
        return self._take(mask)

    def of_kind(self, kind: TrainKind) -> TrainSchedule:
        return self._take(self.kind == kind)

    def truncate(self, index: NDArray[np.intp], stop_s: FloatArray) -> TrainSchedule:
        """Stop trains ``index`` abruptly at absolute times ``stop_s``.

        What was delivered before the stop is unchanged (the stop is causal: the device does not
        know in advance); nothing is delivered after it.
        """
        stops = self.stops.copy()
        stops[index] = np.minimum(stops[index], np.maximum(stop_s, self.start_s[index]))
        return TrainSchedule(
            self.start_s,
            self.ramp_s,
            self.on_time_s,
            self.current_mA,
            self.frequency_Hz,
            self.pulse_width_us,
            self.kind,
            stops,
        )

    def inhibit(self, intervals: Iterable[tuple[float, float]]) -> TrainSchedule:
        """Remove what holding a magnet over the generator suppresses.

        Trains that start inside an interval are dropped; a train running when an interval begins
        is stopped at its beginning.
        """
        sched = self
        for a, b in intervals:
            starts_inside = (sched.start_s >= a) & (sched.start_s < b)
            sched = sched._take(~starts_inside)
            running = np.flatnonzero((sched.start_s < a) & (sched.end_s > a))
            if len(running):
                sched = sched.truncate(running, np.full(len(running), a))
        return sched

    def overlay(self, demand: TrainSchedule) -> TrainSchedule:
        """On-demand trains (magnet, AutoStim) pre-empt this schedule.

        A train of ``self`` that is running when a demand train starts is cut at that moment;
        one that would start while a demand train runs is dropped.
        """
        base = self
        for s, e in zip(demand.start_s, demand.end_s, strict=True):
            starts_inside = (base.start_s >= s) & (base.start_s < e)
            base = base._take(~starts_inside)
            running = np.flatnonzero((base.start_s < s) & (base.end_s > s))
            if len(running):
                base = base.truncate(running, np.full(len(running), s))
        return TrainSchedule.concat([base, demand])

    def totals(
        self,
        t0_s: float = -np.inf,
        t1_s: float = np.inf,
        *,
        impedance_ohm: float | None = None,
        pulses_per_burst: int = 1,
    ) -> ScheduleTotals:
        """Exact totals over ``[t0_s, t1_s)`` (trains are clipped to the window)."""
        w = self.window(t0_s, t1_s) if np.isfinite(t0_s) or np.isfinite(t1_s) else self
        if len(w) == 0:
            return ScheduleTotals(0, 0.0, 0.0, 0.0, 0.0)
        lo = np.maximum(t0_s - w.start_s, 0.0)
        hi = np.minimum(t1_s - w.start_s, w.duration_s)
        t_hi, a1_hi, a2_hi = _envelope_cumulative(hi, w.on_time_s, w.ramp_s)
        t_lo, a1_lo, a2_lo = _envelope_cumulative(lo, w.on_time_s, w.ramp_s)
        rate = w.frequency_Hz * pulses_per_burst
        active = t_hi - t_lo
        pulses = rate * active
        q_C = w.current_mA * 1e-3 * w.pulse_width_us * 1e-6
        charge = float(np.sum(rate * q_C * (a1_hi - a1_lo)))
        energy = 0.0
        if impedance_ohm is not None:
            per_pulse = (w.current_mA * 1e-3) ** 2 * impedance_ohm * w.pulse_width_us * 1e-6
            energy = float(np.sum(rate * per_pulse * (a2_hi - a2_lo)))
        started = int(np.count_nonzero((w.start_s >= t0_s) & (w.start_s < t1_s)))
        return ScheduleTotals(started, float(np.sum(active)), float(np.sum(pulses)), charge, energy)

    def daily(
        self,
        days: int,
        *,
        t0_s: float = 0.0,
        impedance_ohm: float | None = None,
        pulses_per_burst: int = 1,
    ) -> dict[str, FloatArray]:
        """Per-day totals for ``days`` days from ``t0_s``: arrays keyed like ScheduleTotals."""
        out: dict[str, list[float]] = {
            k: [] for k in ("trains", "stimulation_s", "pulses", "charge_C", "energy_J")
        }
        for d in range(days):
            tot = self.totals(
                t0_s + d * 86_400.0,
                t0_s + (d + 1) * 86_400.0,
                impedance_ohm=impedance_ohm,
                pulses_per_burst=pulses_per_burst,
            )
            for k in out:
                out[k].append(float(getattr(tot, k)))
        return {k: np.asarray(v) for k, v in out.items()}

    def to_records(self) -> list[dict[str, float | str | None]]:
        """One dict per train (for export and JSON; a train that runs its course has
        ``stop_s = None``)."""
        out: list[dict[str, float | str | None]] = []
        for i, k in enumerate(self.kind):
            row: dict[str, float | str | None] = {"kind": TrainKind(int(k)).name.lower()}
            for c in _COLUMNS:
                v = float(getattr(self, c)[i])
                row[c] = v if np.isfinite(v) else None
            out.append(row)
        return out


# --------------------------------------------------------------------------------- builders
def duty_cycle_trains(
    settings: StimulationSettings,
    start_s: float,
    stop_s: float,
    *,
    ramp_s: float,
    phase_s: float | None = None,
) -> TrainSchedule:
    """Normal-mode ON/OFF trains that start in ``[start_s, stop_s)``.

    Trains start at ``phase_s + n (ON + OFF)`` (``phase_s`` defaults to ``start_s``). With
    ``OFF = 0`` stimulation is continuous and is returned as one train over the window. An
    output of 0 mA gives an empty schedule.
    """
    if settings.output_current_mA <= 0 or settings.on_time_s <= 0 or stop_s <= start_s:
        return TrainSchedule.empty()
    common: dict[str, float] = {
        "current_mA": settings.output_current_mA,
        "frequency_Hz": settings.frequency_Hz,
        "pulse_width_us": settings.pulse_width_us,
    }
    if settings.off_time_min <= 0:
        return TrainSchedule.from_columns(
            [start_s], ramp_s=0.0, on_time_s=stop_s - start_s, kind=TrainKind.NORMAL, **common
        )
    period = settings.period_s
    phase = start_s if phase_s is None else phase_s
    n0 = int(np.ceil((start_s - phase) / period - 1e-12))
    n1 = int(np.ceil((stop_s - phase) / period - 1e-12))
    starts = phase + period * np.arange(n0, n1, dtype=np.float64)
    return TrainSchedule.from_columns(
        starts, ramp_s=ramp_s, on_time_s=settings.on_time_s, kind=TrainKind.NORMAL, **common
    )


def magnet_train(
    at_s: float, magnet: MagnetSettings, *, frequency_Hz: float, ramp_s: float = 0.0
) -> TrainSchedule:
    """The single on-demand train of a magnet swipe at ``at_s`` (no ramp by default)."""
    return TrainSchedule.from_columns(
        [at_s],
        ramp_s=ramp_s,
        on_time_s=magnet.on_time_s,
        current_mA=magnet.output_current_mA,
        frequency_Hz=frequency_Hz,
        pulse_width_us=magnet.pulse_width_us,
        kind=TrainKind.MAGNET,
    )


def autostim_trains(
    trigger_times_s: Sequence[float] | FloatArray,
    autostim: AutoStimSettings,
    *,
    frequency_Hz: float,
    ramp_s: float,
) -> TrainSchedule:
    """AutoStim trains at the given trigger times; a trigger during a running train is ignored."""
    kept: list[float] = []
    duration = autostim.on_time_s + 2 * ramp_s
    for t in np.sort(np.asarray(trigger_times_s, dtype=np.float64)):
        if not kept or t >= kept[-1] + duration:
            kept.append(float(t))
    return TrainSchedule.from_columns(
        kept,
        ramp_s=ramp_s,
        on_time_s=autostim.on_time_s,
        current_mA=autostim.output_current_mA,
        frequency_Hz=frequency_Hz,
        pulse_width_us=autostim.pulse_width_us,
        kind=TrainKind.AUTOSTIM,
    )


def dose_sessions(
    start_times_s: Sequence[float] | FloatArray,
    *,
    current_mA: float,
    duration_s: float,
    frequency_Hz: float,
    pulse_width_us: float,
) -> TrainSchedule:
    """Dose sessions of a non-invasive stimulator (e.g. 2-min doses) at the given times."""
    return TrainSchedule.from_columns(
        start_times_s,
        ramp_s=0.0,
        on_time_s=duration_s,
        current_mA=current_mA,
        frequency_Hz=frequency_Hz,
        pulse_width_us=pulse_width_us,
        kind=TrainKind.DOSE,
    )
