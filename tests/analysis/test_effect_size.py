"""Hedges' g and the number needed to treat against worked examples, closed forms and properties."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from openvns.analysis.effect_size import hedges_correction, hedges_g, number_needed_to_treat
from openvns.analysis.statistics import Comparison, newcombe_difference


def _sample(mean: float, sd: float, n: int, seed: int = 1) -> npt.NDArray[np.float64]:
    """``n`` values with exactly this mean and sample SD."""
    z = np.random.default_rng(seed).standard_normal(n)
    return mean + sd * (z - z.mean()) / z.std(ddof=1)


def test_borenstein_worked_example() -> None:
    # Borenstein et al. 2009, Introduction to meta-analysis, ch. 4: means 103 and 100, SDs 5.5
    # and 4.5, 50 per group -> d = 0.5970 (SE 0.2044), J = 0.9923, g = 0.5924, SE(g) = 0.2028
    a, b = _sample(103.0, 5.5, 50), _sample(100.0, 4.5, 50, seed=2)
    es = hedges_g(a, b, method="normal")
    assert es.cohen_d == pytest.approx(0.5970, abs=5e-5)
    assert es.estimate == pytest.approx(0.5924, abs=5e-5)
    se = (es.upper - es.lower) / (2 * stats.norm.ppf(0.975))
    assert se == pytest.approx(0.2028, abs=5e-5)
    assert (es.n_a, es.n_b) == (50, 50)
    assert "Hedges & Olkin" in es.method
    exact = hedges_g(a, b)  # the exact interval is close to the normal one at n = 50
    assert exact.estimate == es.estimate
    assert (exact.lower, exact.upper) == pytest.approx((es.lower, es.upper), abs=0.01)


def test_correction_closed_forms() -> None:
    # J(ν) = Γ(ν/2) / (√(ν/2) Γ((ν−1)/2)): J(2) = 1/√π, J(3) = √π / (2√1.5), J(4) = √(2/π)
    assert hedges_correction(2) == pytest.approx(1 / math.sqrt(math.pi), rel=1e-12)
    assert hedges_correction(3) == pytest.approx(math.sqrt(math.pi) / (2 * math.sqrt(1.5)))
    assert hedges_correction(4) == pytest.approx(math.sqrt(2 / math.pi), rel=1e-12)
    assert math.isnan(hedges_correction(1))
    nu = np.arange(10, 2000)
    j = np.array([hedges_correction(float(v)) for v in nu])
    np.testing.assert_allclose(j, 1 - 3 / (4 * nu - 1), atol=4e-4)  # Hedges' approximation
    assert np.all(np.diff(j) > 0)
    assert np.all(1 - j < 1 / nu)


def test_noncentral_t_limits_solve_their_equations() -> None:
    a, b = _sample(1.0, 1.0, 12), _sample(0.0, 1.3, 9, seed=3)
    es = hedges_g(a, b, confidence=0.9)
    scale = math.sqrt(12 * 9 / 21)
    t_obs = es.cohen_d * scale
    assert stats.nct.sf(t_obs, 19, es.lower * scale) == pytest.approx(0.05, abs=1e-9)
    assert stats.nct.cdf(t_obs, 19, es.upper * scale) == pytest.approx(0.05, abs=1e-9)


def test_noncentral_t_interval_is_symmetric_at_zero_difference() -> None:
    es = hedges_g(_sample(5.0, 2.0, 15), _sample(5.0, 1.0, 15, seed=4))
    assert es.estimate == pytest.approx(0.0, abs=1e-12)
    assert es.lower == pytest.approx(-es.upper, abs=1e-9)
    assert 0.6 < es.upper < 0.8  # about z · √(2/15) = 0.72, a little wider (t with 28 df)


def test_noncentral_t_interval_covers_delta() -> None:
    # exact under normality: 95 % of the intervals of 8 vs 8 samples cover δ = 1
    rng = np.random.default_rng(2026)
    runs, delta = 600, 1.0
    covered = 0
    for _ in range(runs):
        es = hedges_g(rng.normal(delta, 1.0, 8), rng.normal(0.0, 1.0, 8))
        covered += es.lower <= delta <= es.upper
    assert abs(covered / runs - 0.95) < 3.5 * math.sqrt(0.95 * 0.05 / runs)


def test_undefined_and_bad_input() -> None:
    assert math.isnan(hedges_g([1.0], [1.0, 2.0]).estimate)
    assert math.isnan(hedges_g([1.0, 1.0], [1.0, 1.0]).lower)  # no spread
    nan_dropped = hedges_g([1.0, 2.0, np.nan, 4.0], [0.0, 1.0, 1.5])
    assert nan_dropped.n_a == 3
    with pytest.raises(ValueError, match="method"):
        hedges_g([1, 2], [3, 4], method="exact")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="confidence"):
        hedges_g([1, 2], [3, 4], confidence=1.0)


samples = st.lists(
    st.floats(-10, 10, allow_nan=False).map(lambda x: round(x, 3)), min_size=3, max_size=25
)


@settings(max_examples=40, deadline=None)
@given(samples, samples, st.sampled_from(["noncentral-t", "normal"]))
def test_sign_symmetry(a: list[float], b: list[float], method: str) -> None:
    ab = hedges_g(a, b, method=method)  # type: ignore[arg-type]
    ba = hedges_g(b, a, method=method)  # type: ignore[arg-type]
    if math.isnan(ab.estimate):
        assert math.isnan(ba.estimate)
        return
    assert ba.estimate == pytest.approx(-ab.estimate, abs=1e-9)
    assert (ba.lower, ba.upper) == pytest.approx((-ab.upper, -ab.lower), abs=1e-6)
    assert ab.lower < ab.upper


@settings(max_examples=40, deadline=None)
@given(samples, samples, st.floats(0.1, 100), st.floats(-50, 50))
def test_invariant_to_units(a: list[float], b: list[float], scale: float, shift: float) -> None:
    plain = hedges_g(a, b, method="normal")
    moved = hedges_g(
        [scale * x + shift for x in a], [scale * x + shift for x in b], method="normal"
    )
    if math.isnan(plain.estimate) or plain.cohen_d == 0 or abs(plain.cohen_d) > 1e6:
        return
    assert moved.estimate == pytest.approx(plain.estimate, rel=1e-6, abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 400), st.integers(2, 400), st.integers(0, 2**32 - 1))
def test_g_tends_to_d(n_a: int, n_b: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    es = hedges_g(rng.normal(0.5, 1, n_a), rng.normal(0, 1, n_b), method="normal")
    nu = n_a + n_b - 2
    assert es.estimate / es.cohen_d == pytest.approx(hedges_correction(nu), rel=1e-12)
    assert abs(es.estimate - es.cohen_d) < abs(es.cohen_d) / nu  # shrinks like 3/(4ν)


def test_nnt_newcombe_examples() -> None:
    # Newcombe 1998 Table II, method 10: 56/70 − 48/80 = 0.2000 (0.0524 to 0.3339)
    nnt = number_needed_to_treat(newcombe_difference(56, 70, 48, 80))
    assert nnt.estimate == pytest.approx(5.0)
    assert (nnt.at_upper, nnt.at_lower) == pytest.approx((1 / 0.3339, 1 / 0.0524), rel=2e-3)
    assert not nnt.includes_infinity
    assert nnt.describe() == "NNTB 5.0 (3.0 to 19.1)"
    # 5/56 − 0/29 = 0.0893 (−0.0381 to 0.1926): the NNT's interval includes infinity
    wide = number_needed_to_treat(newcombe_difference(5, 56, 0, 29))
    assert wide.includes_infinity
    assert wide.describe() == "NNTB 11.2 (NNTH 26.2 to ∞ to NNTB 5.2)"
    harm = number_needed_to_treat(newcombe_difference(48, 80, 56, 70))
    assert harm.describe() == "NNTH 5.0 (3.0 to 19.1)"


def test_nnt_altman_convention() -> None:
    # Altman 1998: a difference of 0.05 (−0.02 to 0.12) is NNTB 20 (NNTH 50 to ∞ to NNTB 8.3)
    nnt = number_needed_to_treat(Comparison(0.05, -0.02, 0.12, 0.3, "x"))
    assert (nnt.estimate, nnt.at_lower, nnt.at_upper) == pytest.approx((20, -50, 1 / 0.12))
    assert nnt.describe() == "NNTB 20.0 (NNTH 50.0 to ∞ to NNTB 8.3)"
    assert number_needed_to_treat(Comparison(0.1, 0.0, 0.2, 0.05, "x")).describe() == (
        "NNTB 10.0 (NNTB 5.0 to ∞)"
    )
    zero = number_needed_to_treat(Comparison(0.0, -0.1, 0.1, 1.0, "x"))
    assert zero.estimate == math.inf
    assert zero.describe() == "NNT ∞ (NNTH 10.0 to ∞ to NNTB 10.0)"
    nan = float("nan")
    assert number_needed_to_treat(Comparison(nan, nan, nan, nan, "none")).describe() == "—"
    with pytest.raises(ValueError, match="reversed"):
        number_needed_to_treat(Comparison(0.1, 0.2, 0.0, 0.5, "x"))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 60), st.integers(1, 60), st.data())
def test_nnt_properties(n1: int, n2: int, data: st.DataObject) -> None:
    x1, x2 = data.draw(st.integers(0, n1)), data.draw(st.integers(0, n2))
    nnt = number_needed_to_treat(newcombe_difference(x1, n1, x2, n2))
    swapped = number_needed_to_treat(newcombe_difference(x2, n2, x1, n1))
    assert nnt.includes_infinity == swapped.includes_infinity
    if nnt.estimate != math.inf:
        assert swapped.estimate == pytest.approx(-nnt.estimate)
    assert swapped.at_upper == pytest.approx(-nnt.at_lower)
    rd = nnt.risk_difference
    assert abs(nnt.estimate) >= 1.0 - 1e-12  # a difference of proportions is at most 1
    if not nnt.includes_infinity:  # the estimate lies between the limits, all of one sign
        assert np.sign(nnt.at_upper) == np.sign(nnt.at_lower) == np.sign(rd.estimate)
        lo, hi = sorted((abs(nnt.at_upper), abs(nnt.at_lower)))
        assert lo - 1e-9 <= abs(nnt.estimate) <= hi + 1e-9
    else:
        assert nnt.at_upper > 0 > nnt.at_lower
