"""The titration step list (one rule for device, protocol and CLI) and the simulation job."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from openvns.device.job import run_simulation, swipe_times
from openvns.device.programs import titration_currents_mA, titration_steps
from openvns.device.settings import StimulationSettings
from openvns.errors import ValidationError
from openvns.protocol import DeviceScheduled, Protocol, scheduled_currents_mA

START = datetime(2026, 1, 5, 9, 0)
TARGET = StimulationSettings(
    output_current_mA=1.5, frequency_Hz=20, pulse_width_us=250, on_time_s=30, off_time_min=5
)


def test_step_currents_end_exactly_on_the_target() -> None:
    assert titration_currents_mA(0.25, 0.25, 1.5) == (0.25, 0.5, 0.75, 1.0, 1.25, 1.5)
    assert titration_currents_mA(0.5, 0.5, 1.75) == (0.5, 1.0, 1.5, 1.75)
    # rounded to 1 nA: no 0.30000000000000004
    assert titration_currents_mA(0.1, 0.1, 0.5) == (0.1, 0.2, 0.3, 0.4, 0.5)
    # a start at or above the target is a single step at the target
    assert titration_currents_mA(1.5, 0.25, 1.5) == (1.5,)
    assert titration_currents_mA(2.0, 0.25, 1.5) == (1.5,)
    # a start of 0 is a step like any other (a protocol may titrate from 0 mA)
    assert titration_currents_mA(0.0, 0.5, 1.0) == (0.0, 0.5, 1.0)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((0.25, 0.0, 1.5), "step_mA"),
        ((0.25, float("nan"), 1.5), "step_mA"),
        ((-0.25, 0.25, 1.5), "start_current_mA"),
        ((0.25, 0.25, float("inf")), "target_mA"),
    ],
)
def test_step_currents_refuse_bad_input(args: tuple[float, float, float], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        titration_currents_mA(*args)
    assert err.value.field == field


def test_dated_steps_keep_every_setting_but_the_current() -> None:
    steps = titration_steps(TARGET, 0.5, 0.5, 14, START)
    assert [t for t, _ in steps] == [START + timedelta(days=14 * k) for k in range(3)]
    assert [s.output_current_mA for _, s in steps] == [0.5, 1.0, 1.5]
    assert steps[-1][1] == TARGET
    assert {s.frequency_Hz for _, s in steps} == {20}
    with pytest.raises(ValidationError) as err:
        titration_steps(TARGET, 0.5, 0.5, 0, START)
    assert err.value.field == "every_days"


def test_protocol_uses_the_device_step_list() -> None:
    p = Protocol.parse(
        "titrate from 0.25 mA by 0.5 mA every 7 days to 1.5 mA, device-scheduled; "
        "20 Hz; 250 us; 30 s on / 5 min off"
    )
    assert p.step_currents_mA() == titration_currents_mA(0.25, 0.5, 1.5) == (0.25, 0.75, 1.25, 1.5)
    device = titration_steps(p.final_settings, 0.25, 0.5, 7, START)
    assert DeviceScheduled().steps(p, START) == device[1:]
    daily = scheduled_currents_mA(p, 30)
    assert list(daily[[0, 7, 14, 21, 29]]) == [0.25, 0.75, 1.25, 1.5, 1.5]


def test_job_runs_titrates_and_reports_progress(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[tuple[float, int]] = []
    with caplog.at_level(logging.INFO, logger="openvns.device.job"):
        s = run_simulation(
            generator="1000",
            lead=None,
            target=TARGET,
            days=70,
            start_current_mA=0.25,
            step_mA=0.25,
            every_days=14,
            swipes_per_week=0,
            start=START,
            state=tmp_path / "gen.json",
            progress=lambda done, total: seen.append((done, total)),
        )
    assert seen == [(30.0, 70), (60.0, 70), (70.0, 70)]
    assert s["final_settings"]["output_current_mA"] == 1.25  # 5 steps in 70 days
    assert s["events"]["scheduled_step_applied"] == 4
    assert (tmp_path / "gen.json").exists()
    assert "simulating generator 1000" in caplog.text


def test_job_start_at_zero_programs_the_target_at_once() -> None:
    s = run_simulation(
        generator="1000",
        lead=None,
        target=TARGET,
        days=3,
        start_current_mA=0.0,
        step_mA=0.25,
        every_days=14,
        swipes_per_week=0,
        start=START,
    )
    assert s["final_settings"]["output_current_mA"] == 1.5
    assert "scheduled_step_applied" not in s["events"]


def test_job_refuses_swipes_without_magnet_mode() -> None:
    with pytest.raises(ValidationError) as err:
        run_simulation(
            generator="1000",
            lead=None,
            target=TARGET,
            days=3,
            start_current_mA=0.25,
            step_mA=0.25,
            every_days=14,
            swipes_per_week=3,
            start=START,
        )
    assert err.value.field == "swipes_per_week"


def test_swipes_are_evenly_spaced_from_the_next_day() -> None:
    times = swipe_times(START, 7, 7)
    assert len(times) == 6
    assert times[0] == datetime(2026, 1, 6, 14, 0)
    assert swipe_times(START, 7, 0) == []
