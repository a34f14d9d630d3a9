"""Conditions, virtual patients and the daily diary (openvns.patients)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvns.errors import ValidationError
from openvns.patients import (
    condition_names,
    load_condition,
    parse_patient_name,
    patient_name,
    provenance,
    sample_cohort,
    sample_patients,
    simulate_diary,
)
from openvns.physiology import initial_state, load_parameters


def test_conditions_load_with_provenance() -> None:
    assert {"fibromyalgia", "neuropathic_pain", "crps"} <= set(condition_names())
    for name in condition_names():
        cond = load_condition(name)
        prov = provenance(name)
        assert set(prov) == set(type(cond).model_fields) - {"name", "physiology_overrides"}
        assert all(p.provisional for p in prov.values() if p.status in {"A", "R"})
    assert load_condition("crps").placebo_fraction == 0.0
    with pytest.raises(ValidationError, match="condition"):
        load_condition("migraine")


def test_patient_is_reproducible_by_name_whatever_n_or_order() -> None:
    big = sample_cohort("fibromyalgia", 100, root_seed=7)
    alone = sample_patients("fibromyalgia", [42], root_seed=7)
    shuffled = sample_patients("fibromyalgia", [99, 42, 3], root_seed=7)
    assert big.names[42] == "fibromyalgia#0042" == alone.names[0]
    for key, values in big.traits.items():
        assert values[42] == alone.traits[key][0] == shuffled.traits[key][1]
    other = sample_patients("fibromyalgia", [42], root_seed=8)
    assert other.traits["P0_NRS"][0] != alone.traits["P0_NRS"][0]
    assert parse_patient_name(patient_name("crps", 5)) == ("crps", 5)


def test_traits_feed_the_physiology_state() -> None:
    cohort = sample_cohort("neuropathic_pain", 50, root_seed=1)
    state = initial_state(load_parameters(), cohort.n, **cohort.physiology_traits)
    np.testing.assert_array_equal(state.P0_NRS, cohort.traits["P0_NRS"])


def test_correlation_and_marginals_recovered_on_large_cohort() -> None:
    cond = load_condition("fibromyalgia")
    cohort = sample_cohort(cond, 20_000, root_seed=11)
    log_sw = np.log(cohort.traits["sigma_w_NRS"])
    lo, hi = cond.placebo_fraction_min, cond.placebo_fraction_max
    u = (cohort.traits["placebo_fraction"] - lo) / (hi - lo)
    r = np.corrcoef(log_sw, np.log(u / (1.0 - u)))[0, 1]
    assert r == pytest.approx(cond.corr_sigma_w_placebo, abs=0.03)
    assert np.median(cohort.traits["sigma_w_NRS"]) == pytest.approx(cond.sigma_w_NRS, rel=0.03)
    assert np.std(log_sw) == pytest.approx(cond.omega_sigma_w, rel=0.05)
    assert cohort.responder.mean() == pytest.approx(cond.p_responder, abs=0.015)
    assert cohort.pro_nociceptive.mean() == pytest.approx(cond.p_pro_nociceptive, abs=0.015)
    p0 = cohort.traits["P0_NRS"]
    assert p0.min() >= cond.P0_min_NRS
    assert p0.max() <= cond.P0_max_NRS
    assert np.all(
        (cohort.traits["placebo_fraction"] > lo) & (cohort.traits["placebo_fraction"] < hi)
    )


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    rate=st.floats(0.0, 0.6),
    condition=st.sampled_from(["fibromyalgia", "neuropathic_pain", "crps"]),
)
def test_diary_values_in_range(seed: int, rate: float, condition: str) -> None:
    cohort = sample_cohort(condition, 20, root_seed=seed)
    diary = simulate_diary(cohort, 30, root_seed=seed, missing_rate=rate)
    assert diary.nrs.shape == (30, 20)
    assert diary.nrs.min() >= 0
    assert diary.nrs.max() <= 10


def test_diary_is_reproducible_per_patient() -> None:
    big = sample_cohort("fibromyalgia", 30, root_seed=2)
    one = sample_patients("fibromyalgia", [17], root_seed=2)
    a = simulate_diary(big, 20, root_seed=5)
    b = simulate_diary(one, 20, root_seed=5)
    np.testing.assert_array_equal(a.nrs[:, 17], b.nrs[:, 0])
    np.testing.assert_array_equal(a.observed[:, 17], b.observed[:, 0])


@pytest.mark.parametrize("rate", [0.05, 0.2])
def test_missing_fraction_matches_mcar_rate(rate: float) -> None:
    cohort = sample_cohort("fibromyalgia", 500, root_seed=3)
    diary = simulate_diary(cohort, 60, root_seed=3, missing_rate=rate)
    assert 1.0 - diary.observed.mean() == pytest.approx(rate, abs=0.01)


def test_mnar_skips_bad_days() -> None:
    cohort = sample_cohort("fibromyalgia", 500, root_seed=4)
    diary = simulate_diary(cohort, 60, root_seed=4, missing_rate=0.1, mnar_odds_per_NRS=3.0)
    above = diary.P_true_NRS > cohort.traits["P0_NRS"] + 1.0
    assert 1.0 - diary.observed[above].mean() > 1.0 - diary.observed[~above].mean() + 0.05


def test_regression_to_the_mean_with_baseline_selection() -> None:
    cohort = sample_cohort("fibromyalgia", 4000, root_seed=9)
    diary = simulate_diary(cohort, 84, root_seed=9, placebo_multiplier=0.0, missing_rate=0.0)
    baseline = diary.mean_NRS(slice(0, 7))
    change = diary.mean_NRS(slice(77, 84)) - baseline
    assert abs(change.mean()) < 0.1  # no selection, no treatment, no placebo: no change
    rtm = [-change[baseline >= t].mean() for t in (3, 5)]
    assert rtm[0] < rtm[1]  # grows with the inclusion threshold (Kamerman & Vollert)
    assert 0.1 < rtm[1] < 0.8  # inside Kamerman & Vollert's 0.13-0.78 band (loosely)


def test_placebo_lowers_pain_and_crps_has_none() -> None:
    fm = sample_cohort("fibromyalgia", 2000, root_seed=5)
    with_pl = simulate_diary(fm, 84, root_seed=5, missing_rate=0.0)
    without = simulate_diary(fm, 84, root_seed=5, missing_rate=0.0, placebo_multiplier=0.0)
    assert (without.P_true_NRS[-7:] - with_pl.P_true_NRS[-7:]).mean() > 0.5
    crps = sample_cohort("crps", 100, root_seed=5)
    a = simulate_diary(crps, 30, root_seed=5)
    b = simulate_diary(crps, 30, root_seed=5, placebo_multiplier=0.0)
    np.testing.assert_array_equal(a.nrs, b.nrs)
