"""openvns.device.autostim and PulseGenerator.heart_rate: heart-rate triggered trains."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
import pytest

from openvns.device.autostim import detect, validate_heart_rate
from openvns.device.generator import PulseGenerator
from openvns.device.implant import implant_constants
from openvns.device.settings import TYPICAL_SETTINGS, AutoStimSettings
from openvns.errors import ValidationError

T0 = datetime(2026, 1, 1, 9, 0)
AUTOSTIM = AutoStimSettings(
    threshold_pct=20, output_current_mA=1.5, pulse_width_us=250, on_time_s=30
)
WITH_AUTOSTIM = TYPICAL_SETTINGS.with_(autostim=AUTOSTIM)
CONSTS = implant_constants()
WINDOW_S = CONSTS.autostim_background_window_s


def series(
    minutes: float = 60, surge_at_s: float | None = 1800, surge_s: float = 40, bpm: float = 95
) -> tuple[list[datetime], np.ndarray]:
    """1 Hz heart rate at 70 bpm, with a surge to ``bpm`` for ``surge_s`` seconds."""
    n = int(minutes * 60)
    rate = np.full(n, 70.0)
    if surge_at_s is not None:
        rate[int(surge_at_s) : int(surge_at_s + surge_s)] = bpm
    return [T0 + timedelta(seconds=i) for i in range(n)], rate


def autostim_generator(model: str = "1000") -> PulseGenerator:
    g = PulseGenerator(model)
    g.program(WITH_AUTOSTIM)
    return g


# ------------------------------------------------------------------------- detector
def _detect(rate: np.ndarray, threshold: float = 20, refractory: float = 94) -> list[float]:
    t = np.arange(len(rate), dtype=float)
    found = detect(t, rate, threshold_pct=threshold, window_s=WINDOW_S, refractory_s=refractory)
    return [x.time_s for x in found]


def test_flat_heart_rate_never_triggers() -> None:
    assert _detect(np.full(7200, 72.0)) == []


def test_surge_triggers_once_at_its_onset() -> None:
    rate = np.full(3600, 70.0)
    rate[1800:1840] = 90.0  # +28.6 %
    found = detect(np.arange(3600.0), rate, threshold_pct=20, window_s=WINDOW_S, refractory_s=94)
    assert [x.time_s for x in found] == [1800.0]
    assert found[0].background_bpm == 70.0
    assert found[0].bpm == 90.0


def test_threshold_is_inclusive_and_respected() -> None:
    rate = np.full(3600, 70.0)
    rate[1800:1810] = 84.0  # exactly +20 %
    assert _detect(rate, threshold=20) == [1800.0]
    assert _detect(rate, threshold=30) == []


def test_sustained_surge_retriggers_only_after_the_refractory_time() -> None:
    rate = np.full(3600, 70.0)
    rate[1800:2000] = 100.0
    assert _detect(rate, refractory=94) == [1800.0, 1894.0]
    assert _detect(rate, refractory=500) == [1800.0]


def test_no_trigger_before_one_full_background_window() -> None:
    rate = np.full(3600, 70.0)
    rate[10:30] = 120.0
    assert _detect(rate) == []


def test_background_follows_a_slow_rise() -> None:
    rate = np.linspace(60.0, 110.0, 7200)  # +83 % over two hours, 0.4 bpm per minute
    assert _detect(rate) == []


@pytest.mark.parametrize(
    ("times", "bpm", "field"),
    [
        ([0.0, 1.0, 2.0], [70.0, 70.0], "bpm"),
        ([0.0, 2.0, 1.0], [70.0, 70.0, 70.0], "times"),
        ([0.0, 1.0, 1.0], [70.0, 70.0, 70.0], "times"),
        ([0.0, 1.0], [70.0, math.nan], "bpm"),
        ([0.0, 1.0], [70.0, math.inf], "bpm"),
        ([0.0, 1.0], [70.0, 400.0], "bpm"),
        ([0.0, 1.0], [70.0, 5.0], "bpm"),
        ([], [], "times"),
    ],
)
def test_invalid_series_are_refused(times: list[float], bpm: list[float], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        validate_heart_rate(
            times, bpm, min_bpm=CONSTS.heart_rate_min_bpm, max_bpm=CONSTS.heart_rate_max_bpm
        )
    assert err.value.field == field


# ------------------------------------------------------------------------- generator
def test_sentiva_triggers_on_a_heart_rate_surge() -> None:
    g = autostim_generator()
    times, rate = series()
    triggers = g.heart_rate(times, rate)
    assert triggers == [T0 + timedelta(seconds=1800)]
    assert g.counters.autostim_activations == 1
    assert g.interrogate().history[-1].kind == "autostim"
    summary = g.advance(timedelta(hours=2))
    assert summary.trains_by_kind["autostim"] == 1


def test_autostim_train_adds_its_charge() -> None:
    plain, stim = autostim_generator(), autostim_generator()
    times, rate = series(surge_at_s=100 + WINDOW_S)  # in the OFF time of the normal cycle
    assert stim.heart_rate(times, rate)
    a, b = plain.advance(timedelta(hours=2)), stim.advance(timedelta(hours=2))
    ramp = stim.model.ramp_s
    # ramps deliver half the charge of a plateau of the same length
    amp_s = AUTOSTIM.on_time_s + ramp
    charge = amp_s * TYPICAL_SETTINGS.frequency_Hz * 1.5e-3 * 250e-6
    assert b.charge_C - a.charge_C == pytest.approx(charge)


def test_flat_heart_rate_gives_no_trigger() -> None:
    g = autostim_generator()
    times, rate = series(surge_at_s=None)
    assert g.heart_rate(times, rate) == []
    assert g.advance(timedelta(hours=1)).trains_by_kind["autostim"] == 0


def test_autostim_refused_on_a_model_without_it() -> None:
    g = PulseGenerator("105")
    g.program(TYPICAL_SETTINGS)
    times, rate = series()
    with pytest.raises(ValidationError) as err:
        g.heart_rate(times, rate)
    assert err.value.field == "autostim"


def test_autostim_needs_its_settings() -> None:
    g = PulseGenerator("106")
    g.program(TYPICAL_SETTINGS)
    times, rate = series()
    with pytest.raises(ValidationError) as err:
        g.heart_rate(times, rate)
    assert err.value.field == "autostim"


def test_generator_validates_the_series() -> None:
    g = autostim_generator()
    times, rate = series()
    with pytest.raises(ValidationError):
        g.heart_rate(times, rate[:-1])
    with pytest.raises(ValidationError):
        g.heart_rate(list(reversed(times)), rate)
    rate[5] = -1.0
    with pytest.raises(ValidationError):
        g.heart_rate(times, rate)
    assert g.counters.autostim_activations == 0


def test_samples_before_the_clock_only_feed_the_background() -> None:
    g = autostim_generator()
    g.advance(timedelta(minutes=40))
    times, rate = series()  # surge at 30 min: already past
    assert g.heart_rate(times, rate) == []


def test_magnet_hold_suppresses_autostim() -> None:
    g = autostim_generator()
    g.magnet_hold(T0 + timedelta(minutes=29), T0 + timedelta(minutes=31))
    times, rate = series()
    assert g.heart_rate(times, rate) == []
    assert g.advance(timedelta(hours=1)).trains_by_kind["autostim"] == 0
