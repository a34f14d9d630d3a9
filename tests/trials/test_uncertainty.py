"""Model uncertainty: space-filling designs, the runs' endpoints, how parameter uncertainty and
sampling error combine, and the same numbers on every executor."""

from __future__ import annotations

import numpy as np
import pytest

from openvns.errors import ValidationError
from openvns.trials import run_trial
from openvns.trials.config import TrialConfig
from openvns.trials.uncertainty import (
    Evaluation,
    UncertaintyResult,
    blinded_only,
    check_endpoint,
    endpoint_names,
    evaluate,
    needs_questionnaires,
    ranged_assumptions,
    sample_seed,
    sample_unit,
    scale,
    trial_endpoints,
)

SMALL = TrialConfig.from_dict(
    {
        "run": {"n_per_arm": 4, "root_seed": 11},
        "trial": {"baseline_days": 14, "blinded_days": 28, "open_label_days": 14},
    }
)


@pytest.mark.parametrize("n", [2, 7, 16])
def test_a_latin_hypercube_has_one_point_in_every_stratum_of_every_column(n: int) -> None:
    u = sample_unit(n, 5, "lhs", 3)
    assert u.shape == (n, 5)
    for col in u.T:
        assert sorted(np.floor(col * n).astype(int)) == list(range(n))
    assert np.array_equal(u, sample_unit(n, 5, "lhs", 3))  # the same seed, the same design
    assert not np.array_equal(u, sample_unit(n, 5, "lhs", 4))


def test_a_sobol_sample_is_balanced_and_needs_a_power_of_2() -> None:
    u = sample_unit(16, 3, "sobol", 1)
    for col in u.T:  # a scrambled Sobol net of 16 points: one in each 1/16 of every axis
        assert sorted(np.floor(col * 16).astype(int)) == list(range(16))
    with pytest.raises(ValidationError, match="power of 2"):
        sample_unit(12, 3, "sobol", 1)
    with pytest.raises(ValidationError, match="method"):
        sample_unit(8, 3, "halton", 1)
    with pytest.raises(ValidationError, match="samples"):
        sample_unit(1, 3, "lhs", 1)


def test_points_are_scaled_onto_the_ranges() -> None:
    a = ranged_assumptions(SMALL.design)[:3]
    x = scale(np.array([[0.0, 0.5, 1.0]]), a)[0]
    r = [p.range for p in a]
    assert None not in r
    assert r[0] is not None
    assert r[1] is not None
    assert r[2] is not None
    assert x[0] == r[0].low
    assert x[1] == pytest.approx((r[1].low + r[1].high) / 2)
    assert x[2] == r[2].high


def test_the_questionnaires_parameters_are_varied_only_for_their_endpoints() -> None:
    pain = {a.set_name for a in ranged_assumptions(SMALL.design, endpoint="active.change_NRS")}
    pgic = {
        a.set_name for a in ranged_assumptions(SMALL.design, endpoint="active.pgic_much_improved")
    }
    assert "outcomes" not in pain
    assert "outcomes" in pgic


def test_blinded_endpoints_do_not_depend_on_the_open_label_extension() -> None:
    full = run_trial(SMALL.design, n_per_arm=6, root_seed=5)
    short = run_trial(blinded_only(SMALL.design), n_per_arm=6, root_seed=5)
    assert blinded_only(SMALL.design).open_label_days == 0
    a, b = trial_endpoints(full), trial_endpoints(short)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_one_endpoint_is_computed_alone_with_the_same_value() -> None:
    result = run_trial(SMALL.design, n_per_arm=8, root_seed=3)
    every = trial_endpoints(result)
    for name in endpoint_names(SMALL.design):
        assert trial_endpoints(result, [name]) == {name: every[name]}, name
    pain = ["active-sham.change_NRS", "sham.responders_50", "active.any_side_effect"]
    assert not needs_questionnaires(pain)
    assert needs_questionnaires([*pain, "active-sham.pgic_much_improved"])
    assert trial_endpoints(result, pain) == {k: every[k] for k in pain}
    # a pain endpoint does not need the questionnaires: without them the rest is identical
    short = run_trial(SMALL.design, n_per_arm=8, root_seed=3, outcomes=False)
    assert np.isnan(short.pgic).all()
    assert not np.isnan(result.pgic).all()
    np.testing.assert_array_equal(short.nrs, result.nrs)
    np.testing.assert_array_equal(short.dropout_day, result.dropout_day)
    assert trial_endpoints(short, pain) == trial_endpoints(result, pain)
    assert short.config_hash != result.config_hash


def test_an_evaluation_of_some_endpoints_matches_the_full_one() -> None:
    a = ranged_assumptions(SMALL.design)
    x = scale(sample_unit(3, len(a), "lhs", 9), a)
    full = evaluate(SMALL, a, x, common_seed=True)
    names = ["active-sham.change_NRS", "active.dropout_blinded"]
    some = evaluate(SMALL, a, x, common_seed=True, endpoints=names)
    assert some.endpoints == tuple(names)
    for k in names:
        np.testing.assert_array_equal(some.estimate[k], full.estimate[k], err_msg=k)
        np.testing.assert_array_equal(some.se[k], full.se[k], err_msg=k)
    # and again, from the draws kept by the first runs: the same numbers
    again = evaluate(SMALL, a, x, common_seed=True, endpoints=names)
    for k in names:
        np.testing.assert_array_equal(again.estimate[k], some.estimate[k], err_msg=k)


def test_endpoint_names_are_those_of_a_run() -> None:
    result = run_trial(SMALL.design, n_per_arm=3, root_seed=2)
    assert tuple(trial_endpoints(result)) == endpoint_names(SMALL.design)
    assert check_endpoint("active-sham.change_NRS", SMALL.design) == "active-sham.change_NRS"
    with pytest.raises(ValidationError, match=r"sham\.change_NRS"):
        check_endpoint("active-sham.nrs", SMALL.design)
    assert "active.fiqr_change" not in endpoint_names(SMALL.design, "crps")


def test_each_parameter_set_runs_its_own_patients_unless_common() -> None:
    seeds = {sample_seed(11, j) for j in range(50)}
    assert len(seeds) == 50
    assert 11 not in seeds


def test_the_same_numbers_on_every_executor() -> None:
    a = ranged_assumptions(SMALL.design)
    x = scale(sample_unit(3, len(a), "lhs", 7), a)
    serial = evaluate(SMALL, a, x, executor="serial")
    pool = evaluate(SMALL, a, x, executor="process", workers=2)
    done: list[tuple[int, int]] = []
    common = evaluate(SMALL, a, x, common_seed=True, progress=lambda i, n: done.append((i, n)))
    assert done[-1] == (3, 3)
    for k in serial.endpoints:
        np.testing.assert_array_equal(serial.estimate[k], pool.estimate[k], err_msg=k)
        np.testing.assert_array_equal(serial.se[k], pool.se[k], err_msg=k)
    assert not np.array_equal(
        serial.estimate["active.change_NRS"], common.estimate["active.change_NRS"]
    )


def test_the_same_numbers_on_dask() -> None:
    pytest.importorskip("distributed")
    a = ranged_assumptions(SMALL.design)
    x = scale(sample_unit(2, len(a), "lhs", 7), a)
    serial = evaluate(SMALL, a, x, executor="serial")
    dask = evaluate(SMALL, a, x, executor="dask", workers=1)
    for k in serial.endpoints:
        np.testing.assert_array_equal(serial.estimate[k], dask.estimate[k], err_msg=k)


def test_prediction_intervals_split_the_variance_by_the_law_of_total_variance() -> None:
    # 5 trials: estimates with variance 2.5 (ddof 1), each with standard error 1 (variance 1):
    # the parameters add 2.5 - 1 = 1.5, a share of 0.6
    est = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    ev = Evaluation(("e", "noisy"), {"e": est, "noisy": np.array([0.0, 0.1, 0.0, 0.1, 0.0])},
                    {"e": np.ones(5), "noisy": np.ones(5)})  # fmt: skip
    a = ranged_assumptions(SMALL.design)[:1]
    res = UncertaintyResult(a, np.zeros((5, 1)), ev, "lhs", False, 0, 4)
    row = res.intervals().set_index("endpoint").loc["e"]
    assert row["median"] == 3.0
    assert (row["pi_low"], row["pi_high"]) == pytest.approx((1.1, 4.9))
    assert row["sd_total"] == pytest.approx(np.sqrt(2.5))
    assert row["sd_sampling"] == pytest.approx(1.0)
    assert row["sd_parameter"] == pytest.approx(np.sqrt(1.5))
    assert row["parameter_share"] == pytest.approx(0.6)
    # spread below the sampling error: nothing is attributed to the parameters
    noisy = res.intervals().set_index("endpoint").loc["noisy"]
    assert noisy["sd_parameter"] == 0.0
    assert noisy["parameter_share"] == 0.0
    frame = res.samples_frame()
    assert list(frame.columns[:2]) == ["sample", a[0].key]
    assert frame["e"].tolist() == est.tolist()
