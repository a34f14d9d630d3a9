"""Statistics against textbook values, scipy, and properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from openvns.analysis.statistics import (
    kaplan_meier,
    logrank_test,
    mean_ci,
    newcombe_difference,
    proportion_test,
    welch_difference,
    wilson_ci,
)

# Freireich et al. 1963 6-MP leukaemia data (Gehan 1965), weeks of remission.
T_6MP = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
E_6MP = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
T_PLACEBO = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]


def test_mean_ci_matches_scipy_t_interval() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0, np.nan])
    ci = mean_ci(x)
    lo, hi = stats.t.interval(0.95, 3, loc=2.5, scale=stats.sem([1, 2, 3, 4]))
    assert float(ci.estimate) == pytest.approx(2.5)
    assert (float(ci.lower), float(ci.upper)) == pytest.approx((lo, hi))
    assert int(ci.n) == 4


def test_mean_ci_vectorised_over_axis_and_small_n() -> None:
    x = np.array([[1.0, np.nan, np.nan], [3.0, 5.0, np.nan]])
    ci = mean_ci(x, axis=0)
    np.testing.assert_allclose(ci.estimate, [2.0, 5.0, np.nan])
    assert np.isnan(ci.lower[1])
    assert np.isnan(ci.upper[2])
    np.testing.assert_array_equal(ci.n, [2, 1, 0])


def test_welch_matches_scipy() -> None:
    a, b = [1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.0, 10.0]
    res = welch_difference(a, b)
    ref = stats.ttest_ind(a, b, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert res.estimate == pytest.approx(-3.5)
    assert res.p_value == pytest.approx(ref.pvalue)
    assert (res.lower, res.upper) == pytest.approx((ci.low, ci.high))


def test_wilson_textbook_values() -> None:
    # Newcombe 1998 (Stat Med 17:857) examples: 81/263 -> 0.2553-0.3662; 0/10 -> 0-0.2775
    ci = wilson_ci([81, 0], [263, 10])
    np.testing.assert_allclose(ci.lower, [0.2553, 0.0], atol=5e-5)
    np.testing.assert_allclose(ci.upper, [0.3662, 0.2775], atol=5e-5)
    assert np.isnan(wilson_ci(0, 0).estimate)
    with pytest.raises(ValueError, match="successes"):
        wilson_ci(3, 2)


def test_newcombe_hybrid_score_textbook_values() -> None:
    # Newcombe 1998 (Stat Med 17:873) Table II, method 10
    a = newcombe_difference(56, 70, 48, 80)
    assert (a.lower, a.upper) == pytest.approx((0.0524, 0.3339), abs=5e-5)
    assert a.method == "chi-square"
    b = newcombe_difference(9, 10, 3, 10)
    assert (b.lower, b.upper) == pytest.approx((0.1705, 0.8090), abs=5e-5)
    assert b.method == "fisher exact"


def test_proportion_test_matches_scipy() -> None:
    small = proportion_test(9, 10, 3, 10)
    assert small.p_value == pytest.approx(stats.fisher_exact([[9, 1], [3, 7]]).pvalue)
    large = proportion_test(56, 70, 48, 80)
    ref = stats.chi2_contingency([[56, 14], [48, 32]], correction=False)
    assert large.p_value == pytest.approx(ref.pvalue)
    assert proportion_test(0, 5, 0, 5).p_value == 1.0


def test_kaplan_meier_freireich_textbook() -> None:
    km = kaplan_meier(T_6MP, E_6MP)
    np.testing.assert_array_equal(km.time, [6, 7, 10, 13, 16, 22, 23])
    np.testing.assert_array_equal(km.n_at_risk, [21, 17, 15, 12, 11, 7, 6])
    np.testing.assert_allclose(
        km.survival, [0.857, 0.807, 0.753, 0.690, 0.627, 0.538, 0.448], atol=5e-4
    )
    np.testing.assert_allclose(km.se, [0.076, 0.087, 0.096, 0.107, 0.114, 0.128, 0.135], atol=5e-4)
    assert km.survival_at([0, 6.5, 100]) == pytest.approx([1.0, 0.857, 0.448], abs=5e-4)
    ll = kaplan_meier(T_6MP, E_6MP, band="log-log")
    assert np.all(ll.lower <= ll.survival)
    assert np.all(ll.survival <= ll.upper)
    # scipy's ecdf gives the same estimate
    sf = stats.ecdf(stats.CensoredData.right_censored(T_6MP, np.logical_not(E_6MP))).sf
    np.testing.assert_allclose(km.survival, sf.evaluate(km.time))


def test_logrank_freireich_textbook_and_scipy() -> None:
    res = logrank_test(T_6MP, E_6MP, T_PLACEBO, np.ones(21))
    assert res.chi2 == pytest.approx(16.79, abs=0.01)
    ref = stats.logrank(
        stats.CensoredData.right_censored(T_6MP, np.logical_not(E_6MP)),
        stats.CensoredData(T_PLACEBO),
    )
    assert res.p_value == pytest.approx(ref.pvalue)
    assert res.observed_a == 9
    assert np.isnan(logrank_test([1, 2], [0, 0], [3], [0]).chi2)


samples = st.lists(
    st.floats(-10, 10, allow_nan=False).map(lambda v: round(v, 3)), min_size=3, max_size=40
)


@given(samples)
@settings(max_examples=60, deadline=None)
def test_mean_ci_contains_estimate_and_shrinks(x: list[float]) -> None:
    ci = mean_ci(x)
    assert float(ci.lower) <= float(ci.estimate) + 1e-12 <= float(ci.upper) + 2e-12
    bigger = mean_ci(x * 4)
    assert float(bigger.upper - bigger.lower) <= float(ci.upper - ci.lower) + 1e-12


@given(st.integers(1, 200), st.data())
@settings(max_examples=80, deadline=None)
def test_wilson_properties(n: int, data: st.DataObject) -> None:
    x = data.draw(st.integers(0, n))
    ci = wilson_ci(x, n)
    assert 0.0 <= float(ci.lower) <= float(ci.estimate) <= float(ci.upper) <= 1.0
    mirror = wilson_ci(n - x, n)
    assert float(mirror.lower) == pytest.approx(1.0 - float(ci.upper))
    more = wilson_ci(4 * x, 4 * n)
    assert float(more.upper - more.lower) < float(ci.upper - ci.lower)


@given(st.integers(1, 60), st.integers(1, 60), st.data())
@settings(max_examples=80, deadline=None)
def test_newcombe_properties(n1: int, n2: int, data: st.DataObject) -> None:
    x1, x2 = data.draw(st.integers(0, n1)), data.draw(st.integers(0, n2))
    d = newcombe_difference(x1, n1, x2, n2)
    assert -1.0 <= d.lower <= d.estimate + 1e-12 <= d.upper + 2e-12 <= 1.0 + 2e-12
    swapped = newcombe_difference(x2, n2, x1, n1)
    assert swapped.lower == pytest.approx(-d.upper)
    assert swapped.upper == pytest.approx(-d.lower)
    assert swapped.p_value == pytest.approx(d.p_value)


@given(samples, samples)
@settings(max_examples=40, deadline=None)
def test_welch_antisymmetric(a: list[float], b: list[float]) -> None:
    ab, ba = welch_difference(a, b), welch_difference(b, a)
    assert ab.estimate == pytest.approx(-ba.estimate)
    if not np.isnan(ab.p_value):
        assert ab.lower <= ab.estimate <= ab.upper
        assert ab.p_value == pytest.approx(ba.p_value)
