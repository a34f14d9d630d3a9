"""Crossover (AB/BA) and standard-of-care designs (issue 11 item 5)."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError as PydanticValidationError

from openvns.errors import ValidationError
from openvns.protocol import Protocol
from openvns.trials import Arm, TrialDesign
from openvns.trials.design import Crossover
from openvns.trials.runner import run_trial, simulate_patients
from tests.trials.test_runner import ACTIVE, SHAM, analytic_recruitment

CONSTANT = "1.0 mA; 20 Hz; 250 us; 30 s on / 5 min off"


def crossover_design(**kw: object) -> TrialDesign:
    base: dict[str, object] = dict(
        arms=(
            Arm(name="active", kind="active", protocol=Protocol.parse(CONSTANT)),
            Arm(name="sham", kind="sham", protocol=Protocol.parse(SHAM)),
        ),
        baseline_days=7,
        blinded_days=2 * 10 + 5,
        open_label_days=0,
        crossover=Crossover(period_days=10, washout_days=5),
    )
    base.update(kw)
    return TrialDesign.model_validate(base)


def test_crossover_round_trips_through_dicts() -> None:
    d = crossover_design()
    data = d.to_dict()
    assert data["crossover"] == {"period_days": 10, "washout_days": 5}
    assert TrialDesign.from_dict(data) == d


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"blinded_days": 24}, "blinded_days"),
        ({"crossover": {"period_days": 0}}, "crossover.period_days"),
        ({"crossover": {"period_days": 10, "washout_days": -1}}, "crossover.washout_days"),
        ({"crossover": {"period_days": 10, "wash": 2}}, "crossover.wash"),
    ],
)
def test_crossover_errors_name_the_field(change: dict[str, object], field: str) -> None:
    data = crossover_design().to_dict() | change
    with pytest.raises(ValidationError) as err:
        TrialDesign.from_dict(data)
    assert err.value.field == field


def test_crossover_needs_two_arms() -> None:
    data = crossover_design().to_dict()
    data["arms"] = data["arms"] + [{"name": "third", "kind": "sham", "protocol": SHAM}]
    with pytest.raises(ValidationError, match="exactly two arms"):
        TrialDesign.from_dict(data)


def test_each_sequence_gets_both_treatments_and_nothing_in_the_washout() -> None:
    d = crossover_design()
    out = simulate_patients(d, [0, 1, 2, 3], [0, 1, 0, 1], root_seed=5,
                            recruitment=analytic_recruitment)  # fmt: skip
    cur = out["current_mA"][:, d.baseline_days :]
    (s1, e1), (s2, e2) = d.crossover.periods()  # type: ignore[union-attr]
    ab, ba = cur[[0, 2]], cur[[1, 3]]
    alive = out["dropout_day"] < 0
    assert alive.all()
    np.testing.assert_array_equal(ab[:, s1:e1], 1.0)  # active first
    np.testing.assert_array_equal(ab[:, s2:e2], 0.0)  # then sham
    np.testing.assert_array_equal(ba[:, s1:e1], 0.0)  # sham first
    np.testing.assert_array_equal(ba[:, s2:e2], 1.0)  # then active
    np.testing.assert_array_equal(cur[:, e1:s2], 0.0)  # washout


def test_period_one_equals_the_parallel_trial_patient_for_patient() -> None:
    """A patient's first period is the same days as in a parallel trial of the same arm."""
    d = crossover_design()
    parallel = d.model_copy(update={"crossover": None, "blinded_days": 10})
    idx, arms = [0, 1, 2, 3, 4, 5], [0, 1, 0, 1, 0, 1]
    a = simulate_patients(d, idx, arms, root_seed=9, recruitment=analytic_recruitment)
    b = simulate_patients(parallel, idx, arms, root_seed=9, recruitment=analytic_recruitment)
    end = d.baseline_days + 10
    np.testing.assert_array_equal(a["current_mA"][:, :end], b["current_mA"][:, :end])
    np.testing.assert_array_equal(a["nrs"][:, :end], b["nrs"][:, :end])


def test_crossover_runs_as_a_trial_with_an_open_label_extension() -> None:
    d = crossover_design(open_label_days=6, open_label_arm="active")
    r = run_trial(d, n_per_arm=4, root_seed=3, recruitment=analytic_recruitment)
    assert r.nrs.shape == (8, d.baseline_days + d.blinded_days + 6)
    ext = r.current_mA[:, d.baseline_days + d.blinded_days :]
    alive = r.dropout_day < 0
    assert np.all(ext[alive] == 1.0)


def test_standard_of_care_arm_has_no_device_and_no_expectation() -> None:
    soc = Arm(name="soc", kind="standard_of_care", protocol=Protocol.parse(SHAM))
    assert soc.expectation == 0.0
    assert soc.implanted is False
    with pytest.raises(PydanticValidationError, match=r"0\.0 mA"):
        Arm(name="soc", kind="standard_of_care", protocol=Protocol.parse(ACTIVE))
    with pytest.raises(PydanticValidationError, match="implanted"):
        Arm(name="soc", kind="standard_of_care", protocol=Protocol.parse(SHAM), implanted=True)
    data = {
        "arms": [
            {"name": "active", "kind": "active", "protocol": CONSTANT},
            {"name": "soc", "kind": "standard_of_care", "protocol": SHAM},
        ],
        "blinded_days": 14,
        "open_label_days": 0,
    }
    d = TrialDesign.from_dict(data)
    assert d.arm("soc").expectation == 0.0
    assert not d.arm("soc").implanted
    assert TrialDesign.from_dict(d.to_dict()) == d


def test_a_sham_device_arm_gets_the_active_device_in_the_open_label_extension() -> None:
    """ACT1/PREMIUM/EVENT: after the blinded phase everyone uses an active device."""
    d = TrialDesign.from_dict(
        {
            "generator": "gammacore-sapphire-cv",
            "baseline_days": 7,
            "blinded_days": 14,
            "open_label_days": 7,
            "open_label_arm": "active",
            "arms": [
                {"name": "active", "kind": "active",
                 "protocol": "30.0 mA; 25 Hz; 1000 us; 2 x 120 s doses, 3 times a day"},
                {"name": "sham", "kind": "sham", "generator": "gammacore-sham",
                 "protocol": "20.0 mA; 0.1 Hz; 1000 us; 2 x 120 s doses, 3 times a day"},
            ],
        }
    )  # fmt: skip
    assert d.extension_device_arm("sham") == "active"
    assert d.extension_device_arm("active") == "active"
    out = simulate_patients(d, [0, 1, 2, 3], [0, 1, 0, 1], root_seed=2,
                            recruitment=analytic_recruitment)  # fmt: skip
    cur = out["current_mA"]
    alive = out["dropout_day"] < 0
    sham = np.array([False, True, False, True]) & alive
    np.testing.assert_array_equal(cur[sham, 7:21], 20.0)  # the sham device, blinded
    np.testing.assert_array_equal(cur[sham, 21:], 30.0)  # the active device, open label


def test_refusals_of_the_non_invasive_designs() -> None:
    acute_soc = {"name": "soc", "kind": "standard_of_care",
                 "protocol": "0.0 mA; 25 Hz; 1000 us; at attack onset: 3 x 120 s"}  # fmt: skip
    data = crossover_design().to_dict() | {"crossover": None, "blinded_days": 14}
    data["arms"] = [data["arms"][0], acute_soc]
    data.pop("crossover")
    with pytest.raises(ValidationError, match="acute use"):
        TrialDesign.from_dict(data)
    fm = TrialDesign.from_dict(
        crossover_design().to_dict() | {"inclusion": {"min_attacks_per_week": 2.0}}
    )
    with pytest.raises(ValidationError) as err:
        simulate_patients(fm, [0], [0], root_seed=1, recruitment=analytic_recruitment)
    assert err.value.field == "inclusion.min_attacks_per_week"


def test_an_earlobe_sham_arm_moves_to_the_active_electrode_in_the_extension() -> None:
    d = TrialDesign.from_dict(
        {
            "generator": "tavns-auricular",
            "baseline_days": 7,
            "blinded_days": 14,
            "open_label_days": 7,
            "open_label_arm": "cymba",
            "arms": [
                {"name": "cymba", "kind": "active", "lead": "ear-cymba-conchae",
                 "protocol": "2.0 mA; 25 Hz; 250 us; 30 s on / 0.5 min off; 1 h per day"},
                {"name": "earlobe", "kind": "sham", "lead": "ear-lobe",
                 "protocol": "1.0 mA; 25 Hz; 250 us; 30 s on / 0.5 min off; 1 h per day"},
            ],
        }
    )  # fmt: skip
    assert d.extension_device_arm("earlobe") == "cymba"
    assert d.extension_device_arm("cymba") == "cymba"


def test_the_configuration_records_the_attack_model_and_dosing_constants() -> None:
    protocol = "25.0 mA; 25 Hz; 1000 us; at attack onset: 3 x 120 s"
    d = TrialDesign.from_dict({
        "generator": "gammacore-sapphire-cv", "baseline_days": 7, "blinded_days": 7,
        "open_label_days": 0, "open_label_arm": "nvns",
        "arms": [{"name": "nvns", "kind": "active", "protocol": protocol}],
    })  # fmt: skip
    r = run_trial(d, n_per_arm=2, root_seed=1, condition="episodic_cluster",
                  recruitment=analytic_recruitment)  # fmt: skip
    assert r.config["attacks"]["condition"] == "episodic_cluster"
    assert "exhalation_train_s" in r.config["dosing"]
    implant = run_trial(crossover_design(arms=(
        Arm(name="a", kind="active", protocol=Protocol.parse(CONSTANT)),
        Arm(name="b", kind="sham", protocol=Protocol.parse(SHAM)),
    )), n_per_arm=2, root_seed=1, recruitment=analytic_recruitment)  # fmt: skip
    assert "attacks" not in implant.config
    assert "dosing" not in implant.config
