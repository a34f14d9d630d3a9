"""Prevention endpoints of headache trials: hand-computed diaries, the month normalisation,
responders, between-arm comparisons and their invariances."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvns.analysis.headache import (
    compare_prevention,
    diary_frequency_change,
    frequency_change,
    summarise_prevention,
    window_rate,
)
from openvns.analysis.statistics import mann_whitney_difference, welch_difference
from openvns.errors import ValidationError


@dataclass(frozen=True)
class Diary:
    """The shared AttackDiary's arrays, built with numpy (the attack model is not imported)."""

    attacks: npt.NDArray[np.int8]
    headache_day: npt.NDArray[np.bool_]
    migraine_day: npt.NDArray[np.bool_]
    peak_severity: npt.NDArray[np.int8]
    duration_min: npt.NDArray[np.float64]
    rescue: npt.NDArray[np.bool_]
    observed: npt.NDArray[np.bool_]
    scale_max: int


def _diary(attacks: np.ndarray, observed: np.ndarray, scale_max: int = 4) -> Diary:
    a = attacks.astype(np.int8)
    return Diary(
        attacks=a,
        headache_day=a > 0,
        migraine_day=a > 0,
        peak_severity=np.where(a > 0, 3, -1).astype(np.int8),
        duration_min=np.where(a > 0, 45.0, np.nan),
        rescue=np.zeros(a.shape, dtype=bool),
        observed=observed.astype(bool),
        scale_max=scale_max,
    )


def test_rates_by_hand_with_missing_days() -> None:
    # patient 0: 2 attacks a day on 14 observed baseline days, 1 a day on 10 of 14 endpoint days
    # patient 1: 6 of 14 endpoint days observed -> below half the window, missing
    attacks = np.zeros((2, 28), dtype=int)
    attacks[0, :14] = 2
    attacks[0, 14:] = 1
    attacks[1, :14] = 1
    observed = np.ones((2, 28), dtype=bool)
    observed[0, 24:] = False
    observed[1, 14:22] = False
    attacks[0, 24:] = 9  # entries on unobserved days are ignored
    ch = frequency_change(attacks, observed, slice(0, 14), slice(14, 28), per_days=7)
    np.testing.assert_allclose(ch.baseline.rate, [14.0, 7.0])
    np.testing.assert_allclose(ch.endpoint.count, [10.0, 0.0])
    np.testing.assert_allclose(ch.endpoint.observed_days, [10.0, 6.0])
    assert ch.endpoint.rate[0] == pytest.approx(7.0)
    assert np.isnan(ch.endpoint.rate[1])
    assert ch.change[0] == pytest.approx(-7.0)
    assert ch.change_pct[0] == pytest.approx(-50.0)
    assert np.isnan(ch.change_pct[1])
    # with a lower observed fraction patient 1 has a rate of 0 attacks a week
    lax = frequency_change(
        attacks, observed, slice(0, 14), slice(14, 28), per_days=7, min_observed_fraction=0.25
    )
    assert lax.endpoint.rate[1] == 0.0
    assert lax.change_pct[1] == pytest.approx(-100.0)


def test_month_normalisation_is_an_argument() -> None:
    days = np.zeros((1, 56), dtype=bool)
    days[0, ::4] = True  # 7 migraine days in 28
    obs = np.ones_like(days)
    m28 = window_rate(days, obs, slice(0, 28), per_days=28)
    m30 = window_rate(days, obs, slice(0, 28), per_days=30)
    assert float(m28.rate[0]) == pytest.approx(7.0)
    assert float(m30.rate[0]) == pytest.approx(7.0 * 30 / 28)


def test_diary_measures_and_defaults() -> None:
    attacks = np.zeros((1, 56), dtype=int)
    attacks[0, :28:2] = 2  # 14 attack days, 28 attacks in the baseline month
    attacks[0, 28::4] = 1  # 7 attack days in the endpoint month
    d = _diary(attacks, np.ones((1, 56), dtype=bool))
    mig = diary_frequency_change(d, "migraine_days", slice(0, 28), slice(28, 56))
    assert (float(mig.baseline.rate[0]), float(mig.endpoint.rate[0])) == (14.0, 7.0)
    assert mig.endpoint.per_days == 28.0  # the 28-day month of headache_endpoints.yaml
    week = diary_frequency_change(d, "attacks", slice(0, 28), slice(28, 56))
    assert float(week.baseline.rate[0]) == pytest.approx(7.0)  # 28 attacks in 4 weeks
    assert float(week.change_pct[0]) == pytest.approx(-75.0)
    thirty = diary_frequency_change(d, "headache_days", slice(0, 28), slice(28, 56), per_days=30)
    assert float(thirty.baseline.rate[0]) == pytest.approx(15.0)
    with pytest.raises(ValidationError, match="measure"):
        diary_frequency_change(d, "pain", slice(0, 28), slice(28, 56))  # type: ignore[arg-type]


def test_responders_at_30_50_100() -> None:
    attacks = np.zeros((5, 14), dtype=int)
    attacks[:, :7] = 2  # 14 a week at baseline
    per_patient_after = [2, 1, 0, 2, 2]  # 14, 7, 0, ... a week after
    for i, k in enumerate(per_patient_after):
        attacks[i, 7:] = k
    attacks[3, 7:10] = 0  # 8 attacks in week 2: -43 %
    attacks[4, 7:12] = 0  # 4 attacks: -71 %
    obs = np.ones_like(attacks, dtype=bool)
    ch = frequency_change(attacks, obs, slice(0, 7), slice(7, 14), per_days=7)
    summary = summarise_prevention(ch)
    assert sorted(summary.responders) == [30.0, 50.0, 100.0]
    assert summary.responders[30.0].count == 4
    assert summary.responders[50.0].count == 3
    assert summary.responders[100.0].count == 1
    assert ch.responders().count == 3  # default 50 %
    assert float(summary.baseline_rate.estimate) == pytest.approx(14.0)


def _arm(rng: np.random.Generator, n: int, base: float, ratio: float) -> np.ndarray:
    lam = rng.gamma(2.0, base / 2.0, n)  # attacks per day per patient
    days = np.concatenate(
        [rng.poisson(lam[:, None], (n, 14)), rng.poisson(lam[:, None] * ratio, (n, 28))], axis=1
    )
    return days


def test_compare_prevention_parts() -> None:
    rng = np.random.default_rng(8)
    ya, yb = _arm(rng, 60, 1.0, 0.5), _arm(rng, 60, 1.0, 0.9)
    obs = rng.random(ya.shape) > 0.1
    a = frequency_change(ya, obs, slice(0, 14), slice(28, 42), per_days=7)
    b = frequency_change(yb, obs, slice(0, 14), slice(28, 42), per_days=7)
    res = compare_prevention(a, b)
    ref = welch_difference(a.change, b.change)
    assert res.change == ref
    assert res.change.estimate < 0
    assert res.rate_ratio is not None
    rr = res.rate_ratio.rate_ratio
    # within 3 standard errors of the true ratio of the arms' rates (coverage is tested with
    # repeats in test_count_regression.py)
    se = float(res.rate_ratio.fit.se[1])
    assert abs(np.log(rr.estimate) - np.log(0.5 / 0.9)) < 3 * se
    assert res.rate_ratio.fit.names == ("intercept", "arm", "log_baseline_rate")
    assert res.rate_ratio.fit.coef[2] > 0  # patients with more baseline attacks have more later
    assert res.responders[50.0].estimate > 0
    mw = compare_prevention(a, b, test="mann-whitney", regression=False)
    assert mw.change == mann_whitney_difference(a.change, b.change)
    assert mw.rate_ratio is None
    plain = compare_prevention(a, b, test="student", baseline_covariate=False)
    assert plain.rate_ratio is not None
    assert plain.rate_ratio.fit.names == ("intercept", "arm")
    assert plain.change.method == "student t"


@given(st.integers(0, 10_000))
@settings(max_examples=15, deadline=None)
def test_order_invariance_and_arm_swap(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ya, yb = _arm(rng, 12, 0.8, 0.6), _arm(rng, 15, 0.8, 1.0)
    obs_a, obs_b = rng.random(ya.shape) > 0.2, rng.random(yb.shape) > 0.2
    a = frequency_change(ya, obs_a, slice(0, 14), slice(14, 42), per_days=28)
    b = frequency_change(yb, obs_b, slice(0, 14), slice(14, 42), per_days=28)
    res = compare_prevention(a, b)
    perm = rng.permutation(12)
    a2 = frequency_change(ya[perm], obs_a[perm], slice(0, 14), slice(14, 42), per_days=28)
    again = compare_prevention(a2, b)
    assert again.change.estimate == pytest.approx(res.change.estimate)
    assert again.responders[50.0] == res.responders[50.0]
    assert res.rate_ratio is not None
    assert again.rate_ratio is not None
    assert again.rate_ratio.rate_ratio.estimate == pytest.approx(
        res.rate_ratio.rate_ratio.estimate, rel=1e-6
    )
    swap = compare_prevention(b, a)
    assert swap.change.estimate == pytest.approx(-res.change.estimate)
    assert swap.responders[50.0].estimate == pytest.approx(-res.responders[50.0].estimate)
    assert swap.rate_ratio is not None
    assert swap.rate_ratio.rate_ratio.estimate == pytest.approx(
        1 / res.rate_ratio.rate_ratio.estimate, rel=1e-5
    )


def test_no_rate_ratio_when_an_arm_has_no_event() -> None:
    none = np.zeros((4, 28), dtype=int)
    some = np.ones((4, 28), dtype=int)
    some[:, 14:] = 0
    some[0, 20] = 2
    obs = np.ones((4, 28), dtype=bool)
    a = frequency_change(some, obs, slice(0, 14), slice(14, 28), per_days=7)
    b = frequency_change(np.where(np.arange(28) < 14, 1, none), obs, slice(0, 14),
                         slice(14, 28), per_days=7)  # fmt: skip
    res = compare_prevention(a, b)
    assert res.rate_ratio is None
    assert res.responders[100.0].estimate == pytest.approx(0.75 - 1.0)


def test_bad_input_names_the_field() -> None:
    obs = np.ones((2, 10), dtype=bool)
    with pytest.raises(ValidationError, match="per_days"):
        window_rate(np.zeros((2, 10)), obs, slice(0, 5), per_days=0)
    with pytest.raises(ValidationError, match="min_observed_fraction"):
        window_rate(np.zeros((2, 10)), obs, slice(0, 5), per_days=7, min_observed_fraction=1.5)
    with pytest.raises(ValidationError, match="observed"):
        window_rate(np.zeros((2, 10)), obs[:, :5], slice(0, 5), per_days=7)
    with pytest.raises(ValidationError, match="events"):
        window_rate(-np.ones((2, 10)), obs, slice(0, 5), per_days=7)
    with pytest.raises(ValidationError, match="days"):
        window_rate(np.zeros((2, 10)), obs, slice(10, 12), per_days=7)
    a = frequency_change(np.ones((3, 10)), np.ones((3, 10)), slice(0, 5), slice(5, 10), per_days=7)
    b = frequency_change(np.ones((3, 10)), np.ones((3, 10)), slice(0, 5), slice(5, 10), per_days=28)
    with pytest.raises(ValidationError, match="per_days"):
        compare_prevention(a, b)
    with pytest.raises(ValidationError, match="thresholds"):
        summarise_prevention(a, thresholds=(0.0,))
