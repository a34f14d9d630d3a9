"""Titration policies: registry, fixed schedule, to tolerance, device-scheduled."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from openvns.device.generator import PulseGenerator
from openvns.errors import ValidationError
from openvns.protocol import (
    DeviceScheduled,
    FixedSchedule,
    Protocol,
    ToTolerance,
    available_policies,
    get_policy,
    policy_for,
)

STIM = "20 Hz; 250 us; 30 s on / 5 min off"
TOL = Protocol.parse(
    f"titrate from 0.25 mA by 0.25 mA every 14 days to tolerance, max 1.0 mA; {STIM}"
)
FIXED = Protocol.parse(f"titrate from 0.25 mA by 0.25 mA every 14 days to 1.0 mA; {STIM}")
DEVICE = Protocol.parse(
    f"titrate from 0.25 mA by 0.25 mA every 14 days to 1.0 mA, device-scheduled; {STIM}"
)


def test_registry() -> None:
    assert {"fixed", "tolerance", "device"} <= set(available_policies())
    assert get_policy("tolerance") is ToTolerance
    assert isinstance(policy_for(DEVICE), DeviceScheduled)
    assert isinstance(policy_for(Protocol.parse(f"1.0 mA; {STIM}")), FixedSchedule)
    with pytest.raises(ValidationError, match="one of"):
        get_policy("nope")


def test_fixed_schedule() -> None:
    c = FixedSchedule().currents(FIXED, 3, 70)
    assert c.shape == (3, 70)
    assert c[0, [0, 13, 14, 42]].tolist() == [0.25, 0.25, 0.5, 1.0]
    assert c[:, 69].tolist() == [1.0] * 3


def test_tolerance_without_side_effects_follows_the_schedule() -> None:
    np.testing.assert_array_equal(
        ToTolerance().currents(TOL, 4, 80), FixedSchedule().currents(TOL, 4, 80)
    )


def test_tolerance_backs_off_one_step_and_holds_per_patient() -> None:
    reports = np.zeros((3, 80), dtype=bool)
    reports[1, 30] = True  # at 0.75 mA (days 28–41)
    reports[2, 5] = True  # at 0.25 mA
    c = ToTolerance().currents(TOL, 3, 80, reports)
    assert c[0, -1] == 1.0
    assert c[1, [30, 31, 79]].tolist() == [0.75, 0.5, 0.5]
    assert c[2, [6, 79]].tolist() == [0.0, 0.0]


def test_tolerance_severity_threshold_and_shape_errors() -> None:
    severity = np.full((2, 30), 0.4)
    severity[0, 20] = 0.9
    c = ToTolerance(threshold=0.8).currents(TOL, 2, 30, severity)
    assert c[:, -1].tolist() == [0.25, 0.75]
    with pytest.raises(ValidationError, match="side_effects"):
        ToTolerance().currents(TOL, 2, 30, np.zeros((3, 30)))
    with pytest.raises(ValidationError, match="threshold"):
        ToTolerance(threshold=0)


def test_device_steps_are_accepted_by_the_generator() -> None:
    gen = PulseGenerator("1000")
    start = gen.now + timedelta(days=1)
    policy = DeviceScheduled()
    steps = policy.steps(DEVICE, start)
    assert [s.output_current_mA for _, s in steps] == [0.5, 0.75, 1.0]
    assert [t - start for t, _ in steps] == [timedelta(days=14 * k) for k in (1, 2, 3)]
    gen.program(policy.initial_settings(DEVICE))
    gen.schedule_titration(steps)
    gen.advance(start + timedelta(days=43))
    assert gen.settings.output_current_mA == 1.0
    np.testing.assert_array_equal(
        policy.currents(DEVICE, 2, 50), FixedSchedule().currents(DEVICE, 2, 50)
    )
    assert policy.steps(Protocol.parse(f"1.0 mA; {STIM}"), datetime(2026, 1, 1)) == []
