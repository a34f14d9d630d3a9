"""AutoStim detection: heart-rate triggered stimulation (Models 106 and 1000).

AutoStim gives a train when the heart rate rises by at least ``threshold_pct`` over the
background rate (S6 p27: 20-70 % in 10 % steps; lower is more sensitive). The reference does not
say how the background is estimated nor how long the detector waits after a trigger, so OpenVNS
assumes (``data/implant.yaml``, status A):

* the background heart rate at a sample is the **median** of the samples in the preceding
  ``autostim_background_window_s`` (the sample itself excluded); no trigger is possible before
  the series covers one full window;
* a sample triggers when ``bpm >= background × (1 + threshold_pct / 100)``;
* after a trigger the detector is refractory until the triggered train (ON time plus ramps)
  has ended and a further ``autostim_holdoff_s`` has passed.

The heart-rate samples are taken as the detected rate (heartbeat-detection sensitivity is not
modelled).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from openvns.device.implant import ImplantConstants, implant_constants
from openvns.device.settings import AutoStimSettings
from openvns.errors import ValidationError

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Trigger:
    """One AutoStim detection.

    Attributes
    ----------
    index
        Index of the triggering sample.
    time_s
        Time of the sample (same clock as the input), in s.
    bpm
        Heart rate of the sample, in beats/min.
    background_bpm
        Background (median) heart rate it was compared with, in beats/min.
    """

    index: int
    time_s: float
    bpm: float
    background_bpm: float


def validate_heart_rate(
    times_s: Sequence[float] | FloatArray,
    bpm: Sequence[float] | FloatArray,
    *,
    min_bpm: float,
    max_bpm: float,
) -> tuple[FloatArray, FloatArray]:
    """Check a heart-rate series and return it as float arrays.

    Raises
    ------
    ValidationError
        Unequal lengths, an empty series, times not strictly increasing, or a heart rate that is
        not finite or outside ``[min_bpm, max_bpm]``.
    """
    t = np.asarray(times_s, dtype=np.float64).ravel()
    try:
        b = np.asarray(bpm, dtype=np.float64).ravel()
    except (TypeError, ValueError) as exc:
        raise ValidationError("bpm", bpm, "a sequence of numbers") from exc
    if len(t) != len(b):
        raise ValidationError("bpm", f"{len(b)} values", f"one value per time ({len(t)} times)")
    if len(t) == 0:
        raise ValidationError("times", "[]", "at least one heart-rate sample")
    if len(t) > 1 and np.any(np.diff(t) <= 0):
        i = int(np.flatnonzero(np.diff(t) <= 0)[0]) + 1
        raise ValidationError("times", f"sample {i}", "strictly increasing times")
    bad = ~np.isfinite(b) | (b < min_bpm) | (b > max_bpm)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            "bpm", float(b[i]), f"finite heart rates within {min_bpm:g}–{max_bpm:g} bpm"
        )
    return t, b


def detect(
    times_s: FloatArray,
    bpm: FloatArray,
    *,
    threshold_pct: float,
    window_s: float,
    refractory_s: float,
    start_s: float = -math.inf,
) -> list[Trigger]:
    """AutoStim triggers in a validated heart-rate series.

    Parameters
    ----------
    times_s, bpm
        Strictly increasing sample times (s) and heart rates (beats/min).
    threshold_pct
        Relative increase over the background that triggers, in %.
    window_s
        Background window before each sample, in s.
    refractory_s
        Time after a trigger during which no other trigger is possible, in s.
    start_s
        Samples before this time only feed the background; they cannot trigger.

    Returns
    -------
    list of Trigger
        In time order. Runs in O(n log w) plus list moves, with a sorted running window.
    """
    factor = 1.0 + threshold_pct / 100.0
    window: list[float] = []
    lo = 0
    blocked_until = -math.inf
    first = float(times_s[0]) if len(times_s) else 0.0
    out: list[Trigger] = []
    for i in range(len(times_s)):
        t = float(times_s[i])
        while lo < i and float(times_s[lo]) < t - window_s:
            del window[bisect.bisect_left(window, float(bpm[lo]))]
            lo += 1
        if window and t >= start_s and t >= blocked_until and t - first >= window_s:
            n = len(window)
            median = window[n // 2] if n % 2 else 0.5 * (window[n // 2 - 1] + window[n // 2])
            if float(bpm[i]) >= median * factor:
                out.append(Trigger(i, t, float(bpm[i]), median))
                blocked_until = t + refractory_s
        bisect.insort(window, float(bpm[i]))
    return out


def respond(
    times_s: Sequence[float] | FloatArray,
    bpm: Sequence[float] | FloatArray,
    settings: AutoStimSettings,
    *,
    ramp_s: float,
    start_s: float,
    constants: ImplantConstants | None = None,
) -> list[Trigger]:
    """Validate a heart-rate series and detect AutoStim triggers at or after ``start_s``.

    The background window, hold-off and accepted heart-rate range come from ``constants``
    (default: ``data/implant.yaml``); the refractory time is the triggered train (ON time plus
    both ramps of ``ramp_s``) plus the hold-off.
    """
    c = constants or implant_constants()
    t, b = validate_heart_rate(
        times_s, bpm, min_bpm=c.heart_rate_min_bpm, max_bpm=c.heart_rate_max_bpm
    )
    return detect(
        t,
        b,
        threshold_pct=settings.threshold_pct,
        window_s=c.autostim_background_window_s,
        refractory_s=settings.on_time_s + 2 * ramp_s + c.autostim_holdoff_s,
        start_s=start_s,
    )


__all__ = ["Trigger", "detect", "respond", "validate_heart_rate"]
