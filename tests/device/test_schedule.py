"""openvns.device.schedule: trains as intervals, exact totals over any window."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvns.device import dose
from openvns.device.schedule import (
    TrainKind,
    TrainSchedule,
    autostim_trains,
    dose_sessions,
    duty_cycle_trains,
    magnet_train,
)
from openvns.device.settings import TYPICAL_SETTINGS, AutoStimSettings, MagnetSettings
from openvns.device.settings import StimulationSettings as S
from tests.strategies import cycling_settings

DAY = dose.SECONDS_PER_DAY
IMPEDANCE = 3000.0
MAGNET = MagnetSettings(output_current_mA=2.0, pulse_width_us=500, on_time_s=60)


def _no_overlap(s: TrainSchedule) -> bool:
    return bool(np.all(s.end_s[:-1] <= s.start_s[1:] + 1e-9))


# ------------------------------------------------------------------- duty-cycle trains
def test_duty_cycle_trains_start_every_period() -> None:
    s = duty_cycle_trains(TYPICAL_SETTINGS, 0.0, 1000.0, ramp_s=2.0)
    np.testing.assert_allclose(s.start_s, [0.0, 330.0, 660.0, 990.0])
    assert set(s.kind) == {TrainKind.NORMAL}
    np.testing.assert_allclose(s.end_s - s.start_s, 34.0)
    assert _no_overlap(s)


def test_phase_shifts_the_trains() -> None:
    s = duty_cycle_trains(TYPICAL_SETTINGS, 100.0, 1000.0, ramp_s=2.0, phase_s=0.0)
    np.testing.assert_allclose(s.start_s, [330.0, 660.0, 990.0])


def test_zero_output_or_empty_window_give_no_trains() -> None:
    assert (
        len(duty_cycle_trains(TYPICAL_SETTINGS.with_(output_current_mA=0), 0, DAY, ramp_s=2)) == 0
    )
    assert len(duty_cycle_trains(TYPICAL_SETTINGS, 10.0, 10.0, ramp_s=2)) == 0


def test_continuous_stimulation_is_one_train_over_the_window() -> None:
    s = duty_cycle_trains(TYPICAL_SETTINGS.with_(off_time_min=0), 0.0, 3600.0, ramp_s=2.0)
    assert len(s) == 1
    tot = s.totals(0.0, 3600.0)
    assert tot.stimulation_s == 3600.0
    assert tot.pulses == 3600.0 * 20


@settings(max_examples=100, deadline=None)
@given(cycling_settings(), st.sampled_from([0.0, 2.0]))
def test_daily_totals_equal_the_analytic_dose(s: S, ramp: float) -> None:
    sched = duty_cycle_trains(s, 0.0, DAY, ramp_s=ramp)
    tot = sched.totals(0.0, DAY, impedance_ohm=IMPEDANCE)
    c = dose.cycle_integrals(s.on_time_s, s.off_time_min, ramp, 0.0, DAY)
    q_C = dose.charge_per_phase_uC(s.output_current_mA, s.pulse_width_us) * 1e-6
    per_pulse_J = (s.output_current_mA * 1e-3) ** 2 * IMPEDANCE * s.pulse_width_us * 1e-6
    assert tot.trains == c.trains
    assert tot.stimulation_s == pytest.approx(c.active_s, rel=1e-9)
    assert tot.pulses == pytest.approx(s.frequency_Hz * c.active_s, rel=1e-9)
    assert tot.charge_C == pytest.approx(s.frequency_Hz * q_C * c.amplitude_s, rel=1e-9)
    assert tot.energy_J == pytest.approx(s.frequency_Hz * per_pulse_J * c.amplitude_sq_s, rel=1e-9)


def test_typical_day_matches_the_safety_report_per_cycle_numbers() -> None:
    tot = duty_cycle_trains(TYPICAL_SETTINGS, 0.0, DAY, ramp_s=2.0).totals(0.0, DAY)
    assert tot.trains == 262  # starts at 0, 330, ..., 86 130 s
    assert tot.stimulation_s == pytest.approx(262 * 34)
    assert tot.energy_J == 0.0  # no impedance given


@settings(max_examples=100, deadline=None)
@given(
    cycling_settings(),
    st.floats(-1000.0, DAY),
    st.floats(0.0, DAY / 2),
    st.floats(0.0, DAY / 2),
)
def test_window_totals_are_additive(s: S, a: float, d1: float, d2: float) -> None:
    sched = duty_cycle_trains(s, 0.0, DAY, ramp_s=2.0)
    b, c = a + d1, a + d1 + d2
    whole = sched.totals(a, c, impedance_ohm=IMPEDANCE)
    left = sched.totals(a, b, impedance_ohm=IMPEDANCE)
    right = sched.totals(b, c, impedance_ohm=IMPEDANCE)
    assert left.trains + right.trains == whole.trains
    for name in ("stimulation_s", "pulses", "charge_C", "energy_J"):
        parts = getattr(left, name) + getattr(right, name)
        assert parts == pytest.approx(getattr(whole, name), rel=1e-9, abs=1e-12)


def test_daily_splits_a_schedule_into_days() -> None:
    sched = duty_cycle_trains(TYPICAL_SETTINGS, 0.0, 3 * DAY, ramp_s=2.0)
    per_day = sched.daily(3, impedance_ohm=IMPEDANCE)
    total = sched.totals(0.0, 3 * DAY, impedance_ohm=IMPEDANCE)
    assert per_day["trains"].sum() == total.trains
    assert per_day["charge_C"].sum() == pytest.approx(total.charge_C)
    assert per_day["energy_J"].sum() == pytest.approx(total.energy_J)
    assert len(per_day["pulses"]) == 3


def test_burst_devices_multiply_pulses() -> None:
    sched = dose_sessions(
        [0.0, 3600.0], current_mA=20.0, duration_s=120.0, frequency_Hz=25.0, pulse_width_us=1000
    )
    tot = sched.totals(pulses_per_burst=5)
    assert tot.trains == 2
    assert tot.pulses == 2 * 120 * 25 * 5
    assert set(sched.kind) == {TrainKind.DOSE}


# ---------------------------------------------------------------------- overlay, inhibit
def test_magnet_train_has_no_ramp_and_uses_magnet_settings() -> None:
    m = magnet_train(100.0, MAGNET, frequency_Hz=20.0)
    assert m.ramp_s[0] == 0.0
    assert m.end_s[0] == 160.0
    assert (m.current_mA[0], m.pulse_width_us[0]) == (2.0, 500.0)
    assert m.kind[0] == TrainKind.MAGNET


def test_overlay_cuts_a_running_train_and_drops_trains_starting_inside() -> None:
    base = duty_cycle_trains(TYPICAL_SETTINGS, 0.0, 1000.0, ramp_s=2.0)  # 0, 330, 660, 990
    demand = magnet_train(20.0, MAGNET, frequency_Hz=20.0)  # 20 .. 80 s
    out = base.overlay(demand)
    assert list(out.kind) == [TrainKind.NORMAL, TrainKind.MAGNET, 0, 0, 0]
    assert out.end_s[0] == pytest.approx(20.0)  # the first normal train ends when the magnet starts
    assert _no_overlap(out)
    # a long on-demand train swallows the next normal start
    long_demand = magnet_train(300.0, MAGNET.model_copy(update={"on_time_s": 60}), frequency_Hz=20)
    out2 = base.overlay(long_demand)
    np.testing.assert_allclose(out2.start_s, [0.0, 300.0, 660.0, 990.0])
    assert _no_overlap(out2)


@pytest.mark.parametrize("at_s", [0.5, 1.0, 2.0, 3.0, 3.9, 4.0, 20.0, 33.0])
def test_overlay_never_overlaps_even_inside_a_ramp(at_s: float) -> None:
    base = duty_cycle_trains(TYPICAL_SETTINGS, 0.0, 400.0, ramp_s=2.0)
    out = base.overlay(magnet_train(at_s, MAGNET, frequency_Hz=20.0))
    assert _no_overlap(out)
    cut = out.of_kind(TrainKind.NORMAL)
    assert cut.end_s[0] <= at_s + 1e-12
    # cutting never adds stimulation
    assert cut.totals().charge_C <= base.totals().charge_C


def test_inhibit_removes_what_a_held_magnet_suppresses() -> None:
    base = duty_cycle_trains(TYPICAL_SETTINGS, 0.0, 1400.0, ramp_s=2.0)  # 0, 330, ..., 1320
    out = base.inhibit([(10.0, 700.0)])
    np.testing.assert_allclose(out.start_s, [0.0, 990.0, 1320.0])
    assert out.end_s[0] <= 10.0
    assert _no_overlap(out)
    assert out.totals(10.0, 700.0).stimulation_s == 0.0
    # outside the interval nothing changes
    assert out.totals(700.0, 1400.0) == base.totals(700.0, 1400.0)


def test_autostim_trigger_during_a_running_train_is_ignored() -> None:
    auto = AutoStimSettings(
        threshold_pct=30, output_current_mA=1.5, pulse_width_us=250, on_time_s=30
    )
    s = autostim_trains([100.0, 110.0, 200.0, 50.0], auto, frequency_Hz=20.0, ramp_s=2.0)
    np.testing.assert_allclose(s.start_s, [50.0, 100.0, 200.0])  # 110 falls in 100..134
    assert set(s.kind) == {TrainKind.AUTOSTIM}
    assert _no_overlap(s)


# -------------------------------------------------------------------------- table API
def test_columns_are_checked_and_sorted() -> None:
    with pytest.raises(ValueError, match="sorted"):
        TrainSchedule(*(np.array([1.0, 0.0]),) * 6, np.zeros(2, dtype=np.int8))
    with pytest.raises(ValueError, match="shape"):
        TrainSchedule(*(np.zeros(2),) * 5, np.zeros(3), np.zeros(2, dtype=np.int8))
    s = TrainSchedule.from_columns(
        [5.0, 1.0],
        ramp_s=0,
        on_time_s=1,
        current_mA=1,
        frequency_Hz=1,
        pulse_width_us=1,
        kind=TrainKind.NORMAL,
    )
    np.testing.assert_array_equal(s.start_s, [1.0, 5.0])


def test_concat_window_and_records() -> None:
    a = duty_cycle_trains(TYPICAL_SETTINGS, 0.0, 700.0, ramp_s=2.0)
    b = magnet_train(100.0, MAGNET, frequency_Hz=20.0)
    both = TrainSchedule.concat([a, b])
    assert len(both) == 4
    assert len(TrainSchedule.concat([])) == 0
    assert len(both.window(90.0, 200.0)) == 1
    records = both.to_records()
    assert records[1]["kind"] == "magnet"
    assert records[0]["on_time_s"] == 30.0
    assert TrainSchedule.empty().totals().trains == 0


def test_truncate_is_causal_during_the_ramp() -> None:
    """A train stopped during its ramp-up delivered exactly the uncut train's charge before
    the stop, and nothing after it (the device cannot ramp down before it knows)."""
    from openvns.device.schedule import TrainKind, TrainSchedule

    sched = TrainSchedule.from_columns(
        [0.0], ramp_s=2.0, on_time_s=30.0, current_mA=1.0, frequency_Hz=20.0,
        pulse_width_us=250.0, kind=TrainKind.NORMAL,
    )  # fmt: skip
    cut = sched.truncate(np.array([0]), np.array([1.0]))
    before = sched.totals(0.0, 1.0)
    assert cut.totals().charge_C == pytest.approx(before.charge_C, rel=1e-12)
    # a linear ramp over 2 s delivers 1/4 of a plateau second by t = 1 s
    assert before.charge_C == pytest.approx(20.0 * 1e-3 * 250e-6 * 0.25, rel=1e-12)
    assert cut.totals(1.0, 100.0).pulses == 0.0
    assert float(cut.end_s[0]) == 1.0
