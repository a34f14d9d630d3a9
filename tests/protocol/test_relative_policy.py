"""The 'relative' titration policy: currents from each patient's sensory threshold."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from openvns.errors import ValidationError
from openvns.protocol import (
    DeviceScheduled,
    Protocol,
    RelativeToThreshold,
    ToTolerance,
    available_policies,
    policy_for,
    scheduled_currents_mA,
)

STIM = "25 Hz; 250 us; 30 s on / 0.5 min off; 4 h per day"
RELATIVE = Protocol.parse(f"1.5 x sensory threshold, max 3.0 mA; {STIM}")
SHAM = Protocol.parse(f"sensation-matched sham, 30 s ramp; {STIM}")
THRESHOLDS = np.array([0.5, 1.0, 2.5])


def test_relative_plans_get_the_relative_policy() -> None:
    assert "relative" in available_policies()
    assert isinstance(policy_for(RELATIVE), RelativeToThreshold)
    assert isinstance(policy_for(SHAM), RelativeToThreshold)


def test_currents_follow_each_patients_threshold_and_are_held() -> None:
    out = RelativeToThreshold().currents(RELATIVE, 3, 5, threshold_mA=THRESHOLDS)
    assert out.shape == (3, 5)
    np.testing.assert_allclose(out[:, 0], [0.75, 1.5, 3.0])  # 2.5 x 1.5 = 3.75 capped at 3
    np.testing.assert_array_equal(out, np.repeat(out[:, :1], 5, axis=1))
    stepped = RelativeToThreshold(step_mA=0.5).patient_currents_mA(RELATIVE, [0.9])
    assert stepped.tolist() == [1.0]  # 1.35 rounded down to the 0.5 mA grid
    sham = RelativeToThreshold().currents(SHAM, 3, 2, threshold_mA=THRESHOLDS)
    assert not sham.any()


def test_constant_current_through_the_relative_policy_is_the_same_for_everyone() -> None:
    p = Protocol.parse(f"2.0 mA; {STIM}")
    assert RelativeToThreshold().patient_currents_mA(p, THRESHOLDS).tolist() == [2.0] * 3


def test_missing_or_misshapen_thresholds_are_refused() -> None:
    with pytest.raises(ValidationError) as err:
        RelativeToThreshold().currents(RELATIVE, 3, 5)
    assert err.value.field == "threshold_mA"
    assert "sensory threshold" in err.value.allowed
    with pytest.raises(ValidationError, match="threshold_mA"):
        RelativeToThreshold().currents(RELATIVE, 4, 5, threshold_mA=THRESHOLDS)
    with pytest.raises(ValidationError, match="step_mA"):
        RelativeToThreshold(step_mA=0.0)


def test_schedules_common_to_all_patients_refuse_relative_plans() -> None:
    with pytest.raises(ValidationError, match="threshold_mA"):
        scheduled_currents_mA(RELATIVE, 10)
    with pytest.raises(ValidationError, match=r"protocol\.current"):
        ToTolerance().start(RELATIVE, 3)
    assert DeviceScheduled().steps(RELATIVE, start=datetime(2026, 1, 1)) == []
