"""Layer 2 of reference §5.2: LC/noradrenaline tone, LC sensitisation ``S`` and two-stage 5-HT.

Two paths, both vectorised over patients:

* daily (default): the day's mean LC output ``Nbar = exposure · H(D_on)`` held over the day and
  ``S``, ``R1``, ``R`` updated exactly with ``dt = 1 d`` (:func:`update_daily`);
* minute resolution, for duty-cycle questions: the ON/OFF schedule as the fraction of each
  minute that stimulates (:func:`periodic_on_fraction`, :func:`train_on_fraction`), the LC tone
  held per minute, and the same exact exponential updates with ``dt = 1 min``
  (:func:`update_minutes`). Only here does the threshold ``H(S; S50, nS)`` see the ripple of
  ``S`` between trains, so 30 s / 5 min and 30 s / 30 min differ beyond their mean.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from openvns.device.schedule import TrainSchedule
from openvns.physiology.drive import FloatArray, hill
from openvns.physiology.parameters import PhysiologyParameters

MINUTES_PER_DAY = 1440


def lc_tone(D_on: FloatArray, D50_N: FloatArray, params: PhysiologyParameters) -> FloatArray:
    """Acute LC/NE tone during ON, ``N_on = H(D_on; D50_N, nN)`` (0 during OFF)."""
    return hill(D_on, D50_N, params.n_N)


def update_daily(
    S: FloatArray, R1: FloatArray, R: FloatArray, Nbar: FloatArray, params: PhysiologyParameters
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Exact one-day update of ``S``, ``R1``, ``R`` (``Nbar``, ``H(S_new)`` held)."""
    p = params
    S_new = Nbar + (S - Nbar) * np.exp(-1.0 / p.tau_S_d)
    drive_5ht = hill(S_new, p.S50, p.n_S)
    a = 1.0 / p.tau_5HT_d
    e = np.exp(-a)
    R1_new = drive_5ht + (R1 - drive_5ht) * e
    R_new = drive_5ht + (R - drive_5ht) * e + (R1 - drive_5ht) * a * e
    return S_new, R1_new, R_new


def update_minutes(
    S: FloatArray,
    R1: FloatArray,
    R: FloatArray,
    N_on: FloatArray,
    on_fraction: FloatArray,
    params: PhysiologyParameters,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Advance ``S``, ``R1``, ``R`` through the minutes of ``on_fraction`` (``(n, minutes)``).

    Minute ``m`` holds ``N = on_fraction[:, m] · N_on`` and, for the 5-HT stages, ``H(S)`` at the
    minute's end, exactly as the daily path does per day. The recurrences are linear given their
    inputs and run as IIR filters along the minute axis. Returns ``S``, ``R1``, ``R`` at the end
    and the minute trajectory of ``S`` (``(n, minutes)``).
    """
    p = params
    dt = 1.0 / MINUTES_PER_DAY
    f = np.asarray(on_fraction, dtype=np.float64)
    if f.ndim != 2 or f.shape[0] != np.shape(S)[0]:
        raise ValueError(f"on_fraction has shape {f.shape}; expected ({np.shape(S)[0]}, minutes)")
    # scipy.signal only here (the minute path): importing it costs a third of a second
    from scipy.signal import lfilter  # type: ignore[import-untyped]

    N = f * np.asarray(N_on, dtype=np.float64)[:, None]
    eS = np.exp(-dt / p.tau_S_d)
    S_m, _ = lfilter([1.0 - eS], [1.0, -eS], N, axis=1, zi=(eS * S)[:, None])
    h = hill(S_m, p.S50, p.n_S)
    a = dt / p.tau_5HT_d
    e = np.exp(-a)
    R1_m, _ = lfilter([1.0 - e], [1.0, -e], h, axis=1, zi=(e * R1)[:, None])
    R1_prev = np.concatenate([R1[:, None], R1_m[:, :-1]], axis=1)
    x = a * e * R1_prev + (1.0 - e - a * e) * h
    R_m, _ = lfilter([1.0], [1.0, -e], x, axis=1, zi=(e * R)[:, None])
    S_m = np.asarray(S_m, dtype=np.float64)
    return S_m[:, -1].copy(), np.asarray(R1_m[:, -1]), np.asarray(R_m[:, -1]), S_m


def periodic_on_fraction(
    on_time_s: FloatArray | float,
    off_time_min: FloatArray | float,
    hours_per_day: FloatArray | float = 24.0,
    *,
    ramp_s: FloatArray | float = 0.0,
    phase_s: FloatArray | float = 0.0,
    minutes: int = MINUTES_PER_DAY,
) -> FloatArray:
    """Fraction of each minute of a day that stimulates, ``(n, minutes)``, for ON/OFF cycling.

    Trains of ``on_time_s + 2 ramp_s`` (ramps count as ON, as in
    :func:`openvns.device.dose.duty_cycle`) start every ``on_time_s + 60 off_time_min`` from
    ``phase_s`` and run during the first ``hours_per_day`` hours of the day. Its mean over a
    whole number of periods is ``duty_cycle · hours_per_day / 24``.
    """
    on = np.atleast_1d(np.asarray(on_time_s, dtype=np.float64))[:, None]
    off = np.atleast_1d(np.asarray(off_time_min, dtype=np.float64))[:, None]
    hours = np.atleast_1d(np.asarray(hours_per_day, dtype=np.float64))[:, None]
    ramp = np.atleast_1d(np.asarray(ramp_s, dtype=np.float64))[:, None]
    phase = np.atleast_1d(np.asarray(phase_s, dtype=np.float64))[:, None]
    period = on + 60.0 * off
    length = np.where(on > 0, np.minimum(on + 2.0 * ramp, period), 0.0)
    safe_period = np.where(period > 0, period, 1.0)

    def cumulative(x: FloatArray) -> FloatArray:  # ON time in [phase, phase + x) up to a constant
        k = np.floor(x / safe_period)
        return np.asarray(k * length + np.minimum(x - k * safe_period, length))

    edges = 60.0 * np.arange(minutes + 1, dtype=np.float64)[None, :]
    t = np.minimum(edges, 3600.0 * hours)
    cum = cumulative(t - phase) - cumulative(-phase + 0.0 * t)
    return np.asarray(np.clip(np.diff(cum, axis=1) / 60.0, 0.0, 1.0), dtype=np.float64)


def train_on_fraction(
    schedule: TrainSchedule, day_start_s: float = 0.0, *, minutes: int = MINUTES_PER_DAY
) -> NDArray[np.float64]:
    """Fraction of each minute from ``day_start_s`` during which a train of ``schedule`` runs.

    Ramps and abrupt stops are included; overlapping trains are capped at a fraction of 1.
    Returns ``(minutes,)``; stack one row per patient for :func:`update_minutes`.
    """
    t1 = day_start_s + 60.0 * minutes
    w = schedule.window(day_start_s, t1)
    edges = day_start_s + 60.0 * np.arange(minutes + 1, dtype=np.float64)
    if len(w) == 0:
        return np.zeros(minutes)
    cum = np.clip(edges[:, None] - w.start_s[None, :], 0.0, w.duration_s[None, :]).sum(axis=1)
    return np.asarray(np.clip(np.diff(cum) / 60.0, 0.0, 1.0), dtype=np.float64)
