"""Pain course (issue 10, item 2): smooth bounded expectation, no phase-boundary step, bounded
diary without a placebo-only zero pile, Chen 2017's effect size definition."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvns.patients import load_condition, sample_cohort, simulate_diary
from openvns.patients.conditions import condition_names, load_diary_parameters
from openvns.patients.placebo import (
    bounded_report,
    expectation_course,
    expectation_fraction,
    expectation_target,
    placebo_effect_size,
    reference_slope,
)

DEVICE = load_diary_parameters().sham_device_placebo_multiplier


def _phases(base: int, days: int, n: int, mult: float) -> np.ndarray:
    m = np.zeros((days, n))
    m[base:] = mult
    return m


def test_no_step_at_the_start_of_treatment() -> None:
    """Nothing but the expectation changes at day 28: the first treatment day moves the mean
    report by less than the noise of a day-to-day change (same random numbers with and
    without expectation), while by week 8 the expectation is there in full."""
    cohort = sample_cohort("fibromyalgia", 4000, root_seed=21)
    base, days = 28, 84
    kw = {"missing_rate": 0.0}
    m = _phases(base, days, cohort.n, DEVICE)
    on = simulate_diary(cohort, days, 21, placebo_multiplier=m, **kw)
    off = simulate_diary(cohort, days, 21, placebo_multiplier=0.0, **kw)
    gap = (off.P_true_NRS - on.P_true_NRS).mean(axis=1)  # expectation effect per day (NRS)
    np.testing.assert_array_equal(gap[:base], 0.0)  # nothing before the expectation starts
    assert gap[base] < 0.02  # first treatment day: hardly anything (old model: ≈ 0.1)
    rise = np.diff(gap[base - 1 : base + 3])
    assert np.all(np.diff(rise) > 0)  # it starts slowly: the daily rise grows at first
    assert gap[-1] > 0.5  # yet it builds to a real effect
    noise = np.abs(np.diff(on.P_true_NRS.mean(axis=1)[1:base])).mean()
    step = on.P_true_NRS[base].mean() - on.P_true_NRS[base - 1].mean()
    assert abs(step) < 4 * noise + 0.02


def test_expectation_starts_with_zero_slope_and_reaches_half_at_t_half() -> None:
    t_half = 14.0
    e = np.array([0.5])
    E = expectation_course(e, np.ones((200, 1)), t_half)[:, 0]
    assert E[0] < 0.01 * e[0]  # first day: < 1 % of the plateau (exponential: 4.8 %)
    assert E[1] - E[0] > E[0]  # accelerating at first (zero slope at onset)
    day = np.arange(1, 201)
    assert np.interp(0.5 * e[0], E, day) == pytest.approx(t_half, abs=0.05)
    assert E[-1] == pytest.approx(e[0], rel=1e-3)


def test_a_change_of_multiplier_is_followed_smoothly() -> None:
    """Unblinding (pill → device expectation) or withdrawal: no jump in the expectation."""
    e = np.full(3, 0.3)
    m = np.ones((200, 3))
    m[100:, 1] = DEVICE  # more expectation from day 100
    m[100:, 2] = 0.0  # expectation withdrawn
    E = expectation_course(e, m, 14.0)
    jumps = np.abs(np.diff(E, axis=0))[99:]  # daily changes from day 100 on
    target_change = np.abs(expectation_target(e, m[-1]) - expectation_target(e, m[0]))
    for k in (1, 2):
        assert jumps[:, k].max() < 0.06 * target_change[k]  # spread over weeks, not a step
        assert jumps[0, k] < 0.2 * jumps[:, k].max()  # and starting slowly
    assert E[-1, 1] > E[99, 1]
    assert E[-1, 2] < 0.01


def test_waning_lowers_the_late_expectation_only() -> None:
    e, m = np.array([0.4]), np.ones((365, 1))
    flat = expectation_course(e, m, 14.0)[:, 0]
    wane = expectation_course(e, m, 14.0, persistent=0.5, waning_half_life_d=90.0)[:, 0]
    assert wane[13] > 0.9 * flat[13]
    assert wane[-1] == pytest.approx(0.4 * (0.5 + 0.5 * 2 ** (-365 / 90)), rel=0.02)


@pytest.mark.parametrize("condition", condition_names())
def test_per_patient_expectation_is_bounded(condition: str) -> None:
    cond = load_condition(condition)
    e = sample_cohort(condition, 5000, root_seed=3).traits["placebo_fraction"]
    if cond.placebo_fraction == 0.0 and cond.placebo_fraction_min == 0.0:
        np.testing.assert_array_equal(e, 0.0)
        return
    assert e.min() > cond.placebo_fraction_min
    assert e.max() < cond.placebo_fraction_max
    # 4 standard errors of a sample median of the logit-normal (0.01 for fibromyalgia's values)
    span = cond.placebo_fraction_max - cond.placebo_fraction_min
    q = (cond.placebo_fraction - cond.placebo_fraction_min) / span
    se = 1.2533 / np.sqrt(e.size) * cond.omega_placebo * span * q * (1.0 - q)
    assert np.median(e) == pytest.approx(cond.placebo_fraction, abs=max(0.01, 4.0 * se))
    for m in (1.0, DEVICE, 10.0):
        T = expectation_target(e, np.full_like(e, m), cond.placebo_fraction_max,
                               cond.placebo_fraction_min)  # fmt: skip
        assert T.min() >= cond.placebo_fraction_min
        assert T.max() <= cond.placebo_fraction_max


def test_no_placebo_only_zero_pile_on_a_sham_device() -> None:
    """The old additive placebo left 16–18 % of sham-device patients pain-free at 12 weeks."""
    cohort = sample_cohort("fibromyalgia", 3000, root_seed=8)
    base, days = 28, 112
    m = _phases(base, days, cohort.n, DEVICE)
    on = simulate_diary(cohort, days, 8, placebo_multiplier=m, missing_rate=0.0)
    off = simulate_diary(cohort, days, 8, placebo_multiplier=0.0, missing_rate=0.0)
    end = slice(84, 112)
    zeros_on = np.mean(on.nrs[end] == 0)
    zeros_off = np.mean(off.nrs[end] == 0)
    assert zeros_on - zeros_off < 0.03
    pain_free = np.mean(on.nrs[end].mean(axis=0) < 0.5)
    assert pain_free < 0.01
    # every patient's expectation keeps at least 1 − placebo_fraction_max of the latent pain
    cond = cohort.condition
    assert on.expectation.max() < cond.placebo_fraction_max
    assert on.expectation.min() > cond.placebo_fraction_min


def test_report_keeps_the_within_person_sd_near_the_typical_baseline() -> None:
    cond = load_condition("fibromyalgia")
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(200_000) * cond.sigma_w_NRS
    y = bounded_report(np.full_like(noise, cond.P0_NRS), noise, reference_slope(cond.P0_NRS))
    assert y.std() == pytest.approx(cond.sigma_w_NRS, rel=0.05)
    assert abs(np.median(y) - cond.P0_NRS) < 0.01  # the latent is the median report
    low = bounded_report(np.full_like(noise, 0.5), noise, reference_slope(cond.P0_NRS))
    high = bounded_report(np.full_like(noise, 9.5), noise, reference_slope(cond.P0_NRS))
    assert low.std() < 0.6 * cond.sigma_w_NRS
    assert high.std() < 0.6 * cond.sigma_w_NRS


def test_placebo_effect_size_is_mean_change_over_sd_of_change() -> None:
    b = np.array([6.0, 7.0, 5.0, 8.0, np.nan])
    e = np.array([5.0, 5.0, 5.0, 6.0, 3.0])
    ch = b[:4] - e[:4]
    assert placebo_effect_size(b, e) == pytest.approx(ch.mean() / ch.std(ddof=1))
    assert np.isnan(placebo_effect_size(b[:1], e[:1]))


finite = st.floats(-1e6, 1e6, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    latent=st.lists(finite, min_size=1, max_size=20),
    noise=finite,
    P0=st.floats(0.0, 10.0),
)
def test_bounded_report_stays_on_the_scale(latent: list[float], noise: float, P0: float) -> None:
    y = bounded_report(np.array(latent), np.full(len(latent), noise), reference_slope(P0))
    assert np.all((y >= -0.5) & (y <= 10.5))
    nrs = np.clip(np.round(y), 0, 10)
    np.testing.assert_array_equal(nrs, np.round(y))  # rounding alone lands on 0 … 10


@settings(max_examples=200, deadline=None)
@given(
    lo=st.floats(-0.9, 0.0),
    hi=st.floats(0.05, 1.0),
    where=st.floats(0.01, 0.99),
    omega=st.floats(0.0, 6.0),
    z=st.lists(st.floats(-40, 40), min_size=1, max_size=10),
    m=st.floats(0.0, 20.0),
)
def test_expectation_bounded_for_any_patient_and_multiplier(
    lo: float, hi: float, where: float, omega: float, z: list[float], m: float
) -> None:
    median = lo + where * (hi - lo)
    e = expectation_fraction(median, omega, np.array(z), hi, lo)
    assert np.all((e >= lo) & (e <= hi))
    T = expectation_target(e, np.full_like(e, m), hi, lo)
    assert np.all((lo <= T) & (hi >= T))
    assert np.all(np.sign(T) * np.sign(e) >= 0)  # a multiplier never turns placebo into nocebo
    mult = np.zeros((30, e.size))
    mult[5:] = m
    E = expectation_course(e, mult, 7.0, maximum=hi, minimum=lo)
    np.testing.assert_array_equal(E[:5], 0.0)
    assert np.all((lo - 1e-12 <= E) & (hi + 1e-12 >= E))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), m=st.floats(0.0, 5.0))
def test_diary_bounded_for_any_multiplier(seed: int, m: float) -> None:
    cohort = sample_cohort("fibromyalgia", 10, root_seed=seed)
    d = simulate_diary(cohort, 40, seed, placebo_multiplier=m)
    assert d.nrs.min() >= 0
    assert d.nrs.max() <= 10
    assert np.all((d.P_true_NRS > -0.5) & (d.P_true_NRS < 10.5))


def test_negative_multiplier_refused() -> None:
    cohort = sample_cohort("fibromyalgia", 2, root_seed=1)
    with pytest.raises(ValueError, match="non-negative"):
        simulate_diary(cohort, 5, 1, placebo_multiplier=-1.0)
