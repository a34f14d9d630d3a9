"""Trial design: arms, inclusion, allocation and TOML-friendly dicts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from openvns.device.safety import UnsafeSettingsError
from openvns.errors import ValidationError
from openvns.protocol import STANDARD_TITRATION, Protocol
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


def test_a_single_arm_open_label_study_runs() -> None:
    from openvns.trials import run_trial

    design = TrialDesign(
        arms=(Arm(name="vns", kind="active", protocol=Protocol.parse(STANDARD_TITRATION)),),
        baseline_days=14,
        blinded_days=84,
        open_label_days=0,
    )
    result = run_trial(design, n_per_arm=6, root_seed=3)
    assert result.arm_names == ("vns",)
    assert np.all(result.current_mA[:, 14] == 0.25)  # everyone starts the titration
    summary = result.summary()
    assert set(summary.arms) == {"vns"}
    assert summary.comparisons == {}


def test_devices_without_a_recruitment_model_are_refused() -> None:
    sham = {"name": "s", "kind": "sham", "protocol": "0.0 mA; 20 Hz; 250 us; 30 s on / 5 min off"}
    for gen in ("ib-stim",):  # percutaneous needles: no field or recruitment model
        with pytest.raises(ValidationError, match=r"generator.*recruitment model") as info:
            TrialDesign.from_dict({"generator": gen, "arms": [sham], "open_label_days": 0})
        assert info.value.field == "generator"
        with pytest.raises(ValidationError, match=r"arms\[0\]\.generator"):
            TrialDesign.from_dict({"arms": [{**sham, "generator": gen}], "open_label_days": 0})


def test_each_arm_has_one_lead_from_its_device() -> None:
    from openvns.simulation import table_lead

    titrate = Protocol.parse(STANDARD_TITRATION)
    design = TrialDesign(
        lead="303-20",
        arms=(
            Arm(name="2 mm", kind="active", protocol=titrate),
            Arm(name="3 mm", kind="active", protocol=titrate, lead="302-30"),
        ),
        open_label_days=0,
    )
    assert design.lead_for("2 mm") == "303-20"
    assert design.lead_for("3 mm") == "302-30"
    assert (table_lead(design.lead_for("2 mm")), table_lead(design.lead_for("3 mm"))) == (
        "2mm",
        "3mm",
    )
    assert TrialDesign.default().lead_for("active") == "304-20"  # the generator's default
    back = TrialDesign.from_dict(design.to_dict())
    assert back == design
    with pytest.raises(ValidationError, match=r"arms\[1\]\.lead"):
        TrialDesign.from_dict(
            {**design.to_dict(), "arms": [*design.to_dict()["arms"][:1],
             {"name": "x", "kind": "active", "protocol": STANDARD_TITRATION, "lead": "nope"}]}
        )  # fmt: skip


def test_an_arms_expectation_and_operation_round_trip_and_change_the_hash() -> None:
    """A pill-placebo or untreated arm (expectation, no operation) survives the TOML dict form,
    and the configuration hash tells it from a sham device arm."""
    from openvns.trials.runner import config_hash

    sham = Protocol.parse("0.0 mA; 20 Hz; 250 us; 30 s on / 5 min off")
    pill = Arm(name="pill", kind="sham", protocol=sham, expectation=1.0, implanted=False)
    base = TrialDesign.default()
    design = base.model_copy(update={"arms": (base.arms[0], pill)})
    back = TrialDesign.from_dict(design.to_dict())
    assert back.arms[1].expectation == 1.0
    assert back.arms[1].implanted is False
    assert back == design
    assert "expectation" not in base.to_dict()["arms"][1]  # a device's: not written
    hashes = {config_hash({"design": d.to_dict()}) for d in (base, design)}
    assert len(hashes) == 2
    bad = design.to_dict()
    bad["arms"][1]["implanted"] = "maybe"
    with pytest.raises(ValidationError, match=r"arms\[1\]\.implanted"):
        TrialDesign.from_dict(bad)


# -- trial length the runner can hold (issue 13: open_label_days = 10^9 was a MemoryError) ----
@pytest.mark.parametrize("key", ["baseline_days", "blinded_days", "open_label_days"])
def test_trial_length_limit_names_the_phase_and_what_is_left(key: str) -> None:
    from openvns.trials.design import MAX_TRIAL_DAYS

    d = TrialDesign.default().to_dict()
    others = sum(d[k] for k in ("baseline_days", "blinded_days", "open_label_days") if k != key)
    ok = TrialDesign.from_dict({**d, key: MAX_TRIAL_DAYS - others})
    assert ok.baseline_days + ok.blinded_days + ok.open_label_days == MAX_TRIAL_DAYS
    for bad in (MAX_TRIAL_DAYS - others + 1, 10**9):
        with pytest.raises(ValidationError) as info:
            TrialDesign.from_dict({**d, key: bad})
        assert info.value.field == key
        assert info.value.value == bad
        assert f"at most {MAX_TRIAL_DAYS - others} days" in info.value.allowed
