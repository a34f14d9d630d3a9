"""The two-sample helpers added for the headache endpoints: Student's t, Mann–Whitney with the
Hodges–Lehmann shift, and the choice of Fisher or chi-square for two proportions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from openvns.analysis.statistics import (
    mann_whitney_difference,
    newcombe_difference,
    proportion_test,
    student_difference,
)


def test_student_matches_scipy_pooled_t() -> None:
    a, b = [1.0, 2.0, 3.0, 4.0, np.nan], [2.0, 4.0, 6.0, 8.0, 10.0]
    res = student_difference(a, b)
    ref = stats.ttest_ind([1, 2, 3, 4], b, equal_var=True)
    ci = ref.confidence_interval(0.95)
    assert res.estimate == pytest.approx(-3.5)
    assert res.p_value == pytest.approx(ref.pvalue)
    assert (res.lower, res.upper) == pytest.approx((ci.low, ci.high))
    assert res.method == "student t"


def test_student_degenerate_cases() -> None:
    assert np.isnan(student_difference([1.0], [2.0]).p_value)
    same = student_difference([1.0, 1.0], [1.0, 1.0])
    assert same.estimate == 0.0
    assert np.isnan(same.p_value)


def test_hodges_lehmann_hand_computed() -> None:
    # pairwise differences of a = (1, 2, 4) and b = (0, 1): 1, 0, 2, 1, 4, 3 -> median 1.5
    res = mann_whitney_difference([1.0, 2.0, 4.0], [0.0, 1.0])
    assert res.estimate == pytest.approx(1.5)
    assert res.p_value == pytest.approx(
        stats.mannwhitneyu([1, 2, 4], [0, 1], alternative="two-sided").pvalue
    )
    # too few patients for a 95 % interval: the whole line
    assert res.lower == -np.inf
    assert res.upper == np.inf


def test_hodges_lehmann_interval_bauer() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(1.0, 1.0, 30), rng.normal(0.0, 1.0, 25)
    res = mann_whitney_difference(a, b)
    d = np.sort((a[:, None] - b[None, :]).ravel())
    k = int(np.floor(d.size / 2 - 1.959964 * np.sqrt(30 * 25 * 56 / 12)))
    assert (res.lower, res.upper) == (d[k], d[d.size - 1 - k])
    assert res.lower < res.estimate < res.upper


def test_proportion_method_choice() -> None:
    fisher = proportion_test(56, 70, 48, 80, method="fisher")
    assert fisher.method == "fisher exact"
    assert fisher.p_value == pytest.approx(stats.fisher_exact([[56, 14], [48, 32]]).pvalue)
    chi = proportion_test(9, 10, 3, 10, method="chi-square")
    ref = stats.chi2_contingency([[9, 1], [3, 7]], correction=False)
    assert chi.method == "chi-square"
    assert chi.p_value == pytest.approx(ref.pvalue)
    assert newcombe_difference(9, 10, 3, 10, method="chi-square").p_value == pytest.approx(
        ref.pvalue
    )
    with pytest.raises(ValueError, match="method"):
        proportion_test(1, 2, 1, 2, method="exact")  # type: ignore[arg-type]


samples = st.lists(st.integers(-20, 20).map(float), min_size=2, max_size=25)


@given(samples, samples)
@settings(max_examples=50, deadline=None)
def test_mann_whitney_antisymmetric_and_order_free(a: list[float], b: list[float]) -> None:
    ab, ba = mann_whitney_difference(a, b), mann_whitney_difference(b, a)
    assert ab.estimate == pytest.approx(-ba.estimate)
    assert ab.lower == pytest.approx(-ba.upper)
    assert ab.p_value == pytest.approx(ba.p_value)
    shuffled = mann_whitney_difference(a[::-1], b[::-1])
    assert shuffled.estimate == ab.estimate
    assert shuffled.p_value == pytest.approx(ab.p_value)
    assert ab.lower <= ab.estimate <= ab.upper


@given(samples, samples)
@settings(max_examples=50, deadline=None)
def test_student_antisymmetric(a: list[float], b: list[float]) -> None:
    ab, ba = student_difference(a, b), student_difference(b, a)
    assert ab.estimate == pytest.approx(-ba.estimate)
    if not np.isnan(ab.p_value):
        assert ab.p_value == pytest.approx(ba.p_value)
        assert ab.lower <= ab.estimate <= ab.upper
