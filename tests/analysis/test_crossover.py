"""AB/BA crossover (Hills–Armitage): Senn's textbook trial, a constructed case with known
effects, and properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from openvns.analysis.crossover import hills_armitage
from openvns.errors import ValidationError

# Senn S 2002, Cross-over Trials in Clinical Research, 2nd ed., Wiley, ch. 3 (example 3.1):
# peak expiratory flow (l/min) 8 h after formoterol (A) or salbutamol (B), 13 children with
# asthma; 7 in sequence for/sal, 6 in sal/for (data as printed in the SAS/STAT PROC TTEST
# documentation, "AB/BA Crossover Design" example).
PEF1 = [310, 310, 370, 410, 250, 380, 330, 370, 310, 380, 290, 260, 90]
PEF2 = [270, 260, 300, 390, 210, 350, 365, 385, 400, 410, 320, 340, 220]
SEQ_AB = [True] * 7 + [False] * 6


def test_senn_formoterol_salbutamol() -> None:
    res = hills_armitage(PEF1, PEF2, SEQ_AB)
    d = np.subtract(PEF1, PEF2)
    d_ab, d_ba = d[:7], d[7:]
    # hand: mean period differences 30.714 (for/sal) and -62.5 (sal/for)
    assert d_ab.mean() == pytest.approx(215 / 7)
    assert d_ba.mean() == pytest.approx(-62.5)
    assert res.treatment.estimate == pytest.approx((215 / 7 + 62.5) / 2)  # 46.61 l/min
    assert res.treatment.estimate == pytest.approx(46.61, abs=0.005)
    ref = stats.ttest_ind(d_ab / 2, d_ba / 2, equal_var=True)
    ci = ref.confidence_interval(0.95)
    assert (res.treatment.lower, res.treatment.upper) == pytest.approx((ci.low, ci.high))
    assert res.treatment.p_value == pytest.approx(ref.pvalue)
    assert res.period.estimate == pytest.approx((215 / 7 - 62.5) / 2)  # -15.89 l/min
    assert res.period.p_value == pytest.approx(
        stats.ttest_ind(d_ab / 2, -d_ba / 2, equal_var=True).pvalue
    )
    tot = np.add(PEF1, PEF2)
    carry = stats.ttest_ind(tot[:7], tot[7:], equal_var=True)
    assert res.carryover.estimate == pytest.approx(tot[:7].mean() - tot[7:].mean())
    assert res.carryover.p_value == pytest.approx(carry.pvalue)
    first = stats.ttest_ind(PEF1[:7], PEF1[7:], equal_var=True)
    assert res.first_period.p_value == pytest.approx(first.pvalue)
    assert (res.n_ab, res.n_ba, res.n_excluded) == (7, 6, 0)
    assert res.treatment.lower > 0  # formoterol better, as Senn concludes


def test_constructed_case_with_known_effects() -> None:
    # y = patient + period + treatment (+ carry-over of A into period 2), no other error:
    # tau_A - tau_B = -2, pi_1 - pi_2 = 1.5; patient effects of equal mean in both sequences
    patient = np.array([3.0, 7.0, 5.0, 9.0, 1.0, 4.0, 8.0, 3.0, 8.0, 2.0])
    seq = np.array([True, False] * 5)
    tau_a, tau_b, pi1, pi2 = -1.0, 1.0, 1.5, 0.0
    p_ab, p_ba = patient[seq], patient[~seq]
    assert p_ab.mean() == p_ba.mean()
    y1 = np.where(seq, patient + pi1 + tau_a, patient + pi1 + tau_b)
    y2 = np.where(seq, patient + pi2 + tau_b, patient + pi2 + tau_a)
    res = hills_armitage(y1, y2, seq)
    assert res.treatment.estimate == pytest.approx(-2.0)
    assert res.period.estimate == pytest.approx(1.5)
    assert res.carryover.estimate == pytest.approx(0.0)
    # a carry-over of A into period 2 (lambda_A = 3) shows in the totals and biases the
    # within-patient estimate by -lambda_A / 2
    carried = np.where(seq, y2 + 3.0, y2)
    res = hills_armitage(y1, carried, seq)
    assert res.carryover.estimate == pytest.approx(3.0)
    assert res.treatment.estimate == pytest.approx(-2.0 - 1.5)
    assert res.first_period.estimate == pytest.approx(-2.0)  # period 1 is free of carry-over


def test_missing_values_and_welch() -> None:
    y1 = np.array(PEF1, dtype=float)
    y1[[0, 8]] = np.nan
    res = hills_armitage(y1, PEF2, SEQ_AB, equal_var=False)
    assert (res.n_ab, res.n_ba, res.n_excluded) == (6, 5, 2)
    d = y1 - np.array(PEF2)
    ref = stats.ttest_ind(d[1:7] / 2, np.delete(d[7:], 1) / 2, equal_var=False)
    assert res.treatment.p_value == pytest.approx(ref.pvalue)
    assert res.treatment.method == "welch t"


values = st.lists(st.integers(50, 400).map(float), min_size=8, max_size=8)


@given(values, values, st.floats(-50, 50), st.permutations(list(range(8))))
@settings(max_examples=50, deadline=None)
def test_properties(y1: list[float], y2: list[float], shift: float, order: list[int]) -> None:
    seq = np.array([True, False, True, True, False, False, True, False])
    a1, a2 = np.array(y1), np.array(y2)
    res = hills_armitage(a1, a2, seq)
    if np.isnan(res.treatment.p_value):
        return
    # patient order does not matter
    again = hills_armitage(a1[order], a2[order], seq[order])
    assert again.treatment.estimate == pytest.approx(res.treatment.estimate)
    assert again.treatment.p_value == pytest.approx(res.treatment.p_value)
    # a shift of every period-2 value moves the period effect only
    moved = hills_armitage(a1, a2 + shift, seq)
    assert moved.treatment.estimate == pytest.approx(res.treatment.estimate)
    assert moved.period.estimate == pytest.approx(res.period.estimate - shift)
    # calling B the first treatment (sequences swap) inverts the treatment effect
    swapped = hills_armitage(a1, a2, ~seq)
    assert swapped.treatment.estimate == pytest.approx(-res.treatment.estimate)
    assert swapped.treatment.p_value == pytest.approx(res.treatment.p_value)
    assert swapped.period.estimate == pytest.approx(res.period.estimate)


def test_bad_input_names_the_field() -> None:
    with pytest.raises(ValidationError, match="sequence_ab"):
        hills_armitage([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1, 0, 1])
    with pytest.raises(ValidationError, match="sequence_ab"):
        hills_armitage([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [True, True, True])
    with pytest.raises(ValidationError, match="period2"):
        hills_armitage([1.0, 2.0, 3.0], [1.0, 2.0], [True, False, True])
