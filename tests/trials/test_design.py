"""Trial design: arms, inclusion, allocation and TOML-friendly dicts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from openvns.device.safety import UnsafeSettingsError
from openvns.errors import ValidationError
from openvns.protocol import Protocol
from openvns.trials import Arm, InclusionCriteria, TrialDesign

STIM = "20 Hz; 250 us; 30 s on / 5 min off"


def test_default_design_round_trips_through_dicts() -> None:
    d = TrialDesign.default()
    assert d.ratio == (1, 1)
    assert TrialDesign.from_dict(d.to_dict()) == d
    assert d.protocol_for("sham").blinded_days == 84


def test_inclusion_on_baseline_pain() -> None:
    pain = np.array(
        [
            [5.0, 6.0, np.nan, 5.0],  # mean 5.33, 3/4 present
            [3.0, 3.0, 3.0, 3.0],  # too little pain
            [9.0, np.nan, np.nan, np.nan],  # too few entries
            [np.nan] * 4,
        ]
    )
    assert InclusionCriteria().eligible(pain).tolist() == [True, False, False, False]
    with pytest.raises(ValueError, match="max_mean_pain"):
        InclusionCriteria(min_mean_pain=6, max_mean_pain=5)


def test_allocation_follows_ratio_and_seed() -> None:
    d = TrialDesign.from_dict({**TrialDesign.default().to_dict()} | {"arms": _arms(2, 1)})
    a = d.allocate(300, np.random.default_rng(1))
    assert np.bincount(a).tolist() == [200, 100]
    np.testing.assert_array_equal(a, d.allocate(300, np.random.default_rng(1)))


def _arms(active_ratio: int, sham_ratio: int) -> list[dict[str, Any]]:
    return [
        {"name": "active", "kind": "active", "protocol": f"1.5 mA; {STIM}", "ratio": active_ratio},
        {"name": "sham", "kind": "sham", "protocol": f"0.0 mA; {STIM}", "ratio": sham_ratio},
    ]


@pytest.mark.parametrize(
    ("change", "key", "allowed"),
    [
        (
            {"arms": [{"name": "a", "kind": "placebo", "protocol": f"0.0 mA; {STIM}"}]},
            "arms[0].kind",
            "sham",
        ),
        (
            {"arms": [{"name": "a", "kind": "sham", "protocol": "1 mA"}]},
            "arms[0].protocol",
            "clause",
        ),
        (
            {"arms": [{"name": "a", "kind": "sham", "protocol": f"1.0 mA; {STIM}"}]},
            "arms[0].protocol",
            "0.0 mA",
        ),
        (
            {"arms": [{"name": "a", "kind": "sham", "protocol": f"0.0 mA; {STIM}", "dose": 1}]},
            "arms[0].dose",
            "ratio",
        ),
        ({"blinded_weeks": 12}, "blinded_weeks", "blinded_days"),
        ({"open_label_arm": "x"}, "open_label_arm", "active"),
        ({"inclusion": {"min_pain": 4}}, "inclusion.min_pain", "min_mean_pain"),
        ({"inclusion": {"min_mean_pain": 11}}, "inclusion.min_mean_pain", "0–10"),
        ({"baseline_days": -1}, "baseline_days", "≥ 0"),
    ],
)
def test_dict_errors_name_key_and_allowed(change: dict[str, Any], key: str, allowed: str) -> None:
    data = TrialDesign.default().to_dict() | change
    with pytest.raises(ValidationError) as err:
        TrialDesign.from_dict(data)
    assert err.value.field == key
    assert allowed in err.value.allowed


def test_low_dose_must_be_below_active_and_arms_are_safety_checked() -> None:
    arms = [*_arms(1, 1), {"name": "low", "kind": "low_dose", "protocol": f"2.0 mA; {STIM}"}]
    with pytest.raises(ValidationError, match=r"arms\[2\]"):
        TrialDesign.from_dict(TrialDesign.default().to_dict() | {"arms": arms})
    arms[2]["protocol"] = f"0.25 mA; {STIM}"
    d = TrialDesign.from_dict(TrialDesign.default().to_dict() | {"arms": arms})
    assert [a.kind for a in d.arms] == ["active", "sham", "low_dose"]
    unsafe = _arms(1, 1)
    unsafe[0]["protocol"] = "1.5 mA; 40 Hz; 250 us; 30 s on / 5 min off"
    with pytest.raises(UnsafeSettingsError, match="frequency_Hz"):
        TrialDesign.from_dict(TrialDesign.default().to_dict() | {"arms": unsafe})


def test_arm_kind_checks() -> None:
    with pytest.raises(ValueError, match="above 0 mA"):
        Arm(name="a", kind="active", protocol=Protocol.parse(f"0.0 mA; {STIM}"))
