"""Negative-binomial regression: against a direct maximum-likelihood fit with scipy's pmf, the
closed form of two arms with equal exposure, simulated trials (recovery and interval coverage),
and invariances (patient order, arm swap)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

from openvns.analysis.count_regression import fit_negative_binomial, rate_ratio
from openvns.errors import ValidationError


def _simulate(
    rng: np.random.Generator, n_per_arm: int, ratio: float, alpha: float, *, slope: float = 0.6
) -> dict[str, np.ndarray]:
    """Two arms of 28-day windows with missing days, NB2 counts around a baseline rate."""
    n = 2 * n_per_arm
    arm = np.r_[np.ones(n_per_arm), np.zeros(n_per_arm)]
    days = rng.integers(14, 29, n).astype(float)
    base_rate = rng.gamma(4.0, 0.05, n)  # events per day at baseline, mean 0.2
    mu = days * 0.25 * np.exp(np.log(ratio) * arm + slope * np.log(base_rate / 0.2))
    y = rng.negative_binomial(1.0 / alpha, 1.0 / (1.0 + alpha * mu))
    return {"y": y, "arm": arm, "days": days, "cov": np.log(base_rate)}


def test_fit_equals_direct_maximisation_of_scipy_pmf() -> None:
    d = _simulate(np.random.default_rng(11), 80, 0.6, 0.7)
    X = np.column_stack([np.ones(d["y"].size), d["arm"], d["cov"]])
    fit = fit_negative_binomial(d["y"], X, offset=np.log(d["days"]))
    assert fit.converged

    def nll(theta: np.ndarray) -> float:
        mu = d["days"] * np.exp(X @ theta[:3])
        a = math.exp(theta[3])
        return float(-stats.nbinom.logpmf(d["y"], 1.0 / a, 1.0 / (1.0 + a * mu)).sum())

    start = np.r_[fit.coef, math.log(fit.alpha)] + 0.1
    ref = optimize.minimize(
        nll, start, method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-11, "maxfev": 40000}
    )
    np.testing.assert_allclose(fit.coef, ref.x[:3], atol=2e-5)
    assert fit.alpha == pytest.approx(math.exp(ref.x[3]), rel=1e-4)
    assert fit.log_likelihood == pytest.approx(-ref.fun, abs=1e-6)
    # Wald errors from the expected information X' diag(mu / (1 + alpha mu)) X
    mu = d["days"] * np.exp(X @ fit.coef)
    info = X.T @ (X * (mu / (1 + fit.alpha * mu))[:, None])
    np.testing.assert_allclose(fit.se, np.sqrt(np.diag(np.linalg.inv(info))))


def test_two_arms_equal_exposure_rate_ratio_is_ratio_of_means() -> None:
    # with an arm-only model and equal exposure the score equations give mu = group mean
    ya = np.array([0, 3, 5, 1, 9, 2, 0, 4])
    yb = np.array([6, 2, 8, 11, 3, 7, 0, 5, 9])
    res = rate_ratio(ya, np.full(8, 28.0), yb, np.full(9, 28.0))
    assert res.rate_ratio.estimate == pytest.approx(ya.mean() / yb.mean(), rel=1e-9)
    assert res.fit.coef[0] == pytest.approx(math.log(yb.mean() / 28.0), rel=1e-9)
    assert res.rate_ratio.lower < res.rate_ratio.estimate < res.rate_ratio.upper
    assert res.null_fit.names == ("intercept",)
    assert 0.0 < res.rate_ratio.p_value < 1.0
    assert res.lr_statistic > 0


def test_no_extra_variation_gives_the_poisson_limit() -> None:
    # identical counts in each arm: alpha at the lower bound, the Poisson rate ratio and errors
    ya, yb = np.full(20, 4), np.full(20, 8)
    res = rate_ratio(ya, np.full(20, 7.0), yb, np.full(20, 7.0))
    assert res.fit.alpha < 1e-5
    assert res.rate_ratio.estimate == pytest.approx(0.5)
    # Poisson: se(log RR) = sqrt(1/sum(ya) + 1/sum(yb))
    se = math.sqrt(1 / 80 + 1 / 160)
    assert res.fit.se[1] == pytest.approx(se, rel=1e-4)


def test_simulated_trials_recover_the_ratio_and_cover_it() -> None:
    rng = np.random.default_rng(2026)
    true_ratio, reps = 0.6, 200
    covered, logs, lr_small = 0, [], 0
    for _ in range(reps):
        d = _simulate(rng, 100, true_ratio, 0.5)
        a, b = d["arm"] == 1, d["arm"] == 0
        res = rate_ratio(
            d["y"][a], d["days"][a], d["y"][b], d["days"][b],
            covariate_a=d["cov"][a], covariate_b=d["cov"][b],
        )  # fmt: skip
        assert res.fit.converged
        covered += res.rate_ratio.lower <= true_ratio <= res.rate_ratio.upper
        logs.append(math.log(res.rate_ratio.estimate))
        lr_small += res.rate_ratio.p_value < 0.05
    coverage = covered / reps
    # nominal 0.95; binomial SD over 200 repeats is 0.015
    assert 0.91 <= coverage <= 0.985, coverage
    assert abs(np.mean(logs) - math.log(true_ratio)) < 0.03
    assert lr_small / reps > 0.9  # a 40 % reduction at 100 per arm is nearly always detected


def test_patient_order_does_not_matter_and_swapping_arms_inverts() -> None:
    d = _simulate(np.random.default_rng(5), 40, 0.7, 0.4)
    a, b = d["arm"] == 1, d["arm"] == 0
    args = (d["y"][a], d["days"][a], d["y"][b], d["days"][b])
    res = rate_ratio(*args, covariate_a=d["cov"][a], covariate_b=d["cov"][b])
    perm = np.random.default_rng(0).permutation(int(a.sum()))
    shuffled = rate_ratio(
        d["y"][a][perm], d["days"][a][perm], d["y"][b], d["days"][b],
        covariate_a=d["cov"][a][perm], covariate_b=d["cov"][b],
    )  # fmt: skip
    assert shuffled.rate_ratio.estimate == pytest.approx(res.rate_ratio.estimate, rel=1e-7)
    swapped = rate_ratio(
        d["y"][b], d["days"][b], d["y"][a], d["days"][a],
        covariate_a=d["cov"][b], covariate_b=d["cov"][a],
    )  # fmt: skip
    assert swapped.rate_ratio.estimate == pytest.approx(1 / res.rate_ratio.estimate, rel=1e-6)
    assert swapped.rate_ratio.lower == pytest.approx(1 / res.rate_ratio.upper, rel=1e-6)
    assert swapped.rate_ratio.p_value == pytest.approx(res.rate_ratio.p_value, rel=1e-5)


counts = st.lists(st.integers(0, 30), min_size=3, max_size=15)


@given(counts, counts)
@settings(max_examples=30, deadline=None)
def test_arm_swap_inverts_the_ratio(ya: list[int], yb: list[int]) -> None:
    if sum(ya) == 0 or sum(yb) == 0:
        return
    ta, tb = np.full(len(ya), 14.0), np.full(len(yb), 14.0)
    ab, ba = rate_ratio(ya, ta, yb, tb), rate_ratio(yb, tb, ya, ta)
    assert ab.rate_ratio.estimate == pytest.approx(np.mean(ya) / np.mean(yb), rel=1e-6)
    assert ba.rate_ratio.estimate == pytest.approx(1 / ab.rate_ratio.estimate, rel=1e-6)
    assert ab.rate_ratio.lower <= ab.rate_ratio.estimate <= ab.rate_ratio.upper


def test_missing_patients_are_left_out() -> None:
    ya = np.array([1.0, 2.0, np.nan, 4.0, 3.0])
    ta = np.array([7.0, 7.0, 7.0, 0.0, 7.0])
    res = rate_ratio(ya, ta, [2, 2, 3, 1], [7, 7, 7, 7])
    assert res.fit.n == 7


def test_bad_input_names_the_field() -> None:
    with pytest.raises(ValidationError, match="counts"):
        fit_negative_binomial([1, -1, 2], np.ones((3, 1)))
    with pytest.raises(ValidationError, match="design"):
        fit_negative_binomial([1, 2, 3, 4], np.ones((4, 2)))
    with pytest.raises(ValidationError, match="covariate"):
        rate_ratio([1, 2], [7, 7], [1, 2], [7, 7], covariate_a=[0.0, 1.0])
    with pytest.raises(ValidationError, match="name"):
        rate_ratio([1, 2, 4], [7, 7, 7], [1, 2, 3], [7, 7, 7]).fit.rate_ratio("dose")


def test_an_arm_without_events_has_no_ratio() -> None:
    with pytest.raises(ValidationError, match="no event in one arm"):
        rate_ratio([0, 0, 0], [7, 7, 7], [1, 2, 3], [7, 7, 7])


def test_extreme_counts_fit_without_numerical_warnings() -> None:
    # warnings are errors in the test configuration: overflowing trial steps must stay quiet
    ya = np.array([0, 0, 0, 0, 1, 0, 0, 250])
    yb = np.array([3, 0, 9, 1, 0, 40, 2, 0])
    res = rate_ratio(ya, np.full(8, 28.0), yb, np.full(8, 28.0))
    assert res.fit.converged
    assert res.rate_ratio.estimate == pytest.approx(ya.mean() / yb.mean(), rel=1e-6)
    assert res.fit.alpha > 1.0  # far more variable than Poisson
