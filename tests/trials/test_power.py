"""Simulated power (``openvns.trials.power``): the vectorised tests equal the summary's, the
replicates are reproducible, the rejection rate under the null is α and the power of a
normal-theory case is the analytic one."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from openvns.analysis.endpoints import ArmComparison
from openvns.analysis.statistics import Comparison, proportion_test, welch_difference
from openvns.errors import ValidationError
from openvns.patients.conditions import load_condition
from openvns.simulation.parameters import ModelParameters
from openvns.trials import TrialDesign, run_trial
from openvns.trials.power import (
    EndpointPower,
    PatientEndpoints,
    PowerCurve,
    _simulate,
    allocation,
    blinded_design,
    large_sample_effect,
    n_for_power,
    patient_endpoints,
    power_curve,
    replicate_indices,
    replicate_tests,
)
from openvns.trials.power_evidence import DesignEvidence, design_evidence
from openvns.trials.power_output import power_csv, power_document
from openvns.trials.power_stats import mc_standard_error, proportion_p, welch_p
from openvns.trials.runner import TrialSummary
from openvns.trials.screening import screen

SHAM = "0.0 mA; 20 Hz; 250 us; 30 s on / 5 min off"


def small_design(**changes: object) -> TrialDesign:
    """The default design with a 14-day baseline and a 28-day blinded phase (fast)."""
    data = {**TrialDesign.default().to_dict(), "baseline_days": 14, "blinded_days": 28}
    return TrialDesign.from_dict({**data, **changes})


def sham_vs_sham() -> TrialDesign:
    """Two identical sham arms: every difference between them is chance."""
    arms = [{"name": n, "kind": "sham", "protocol": SHAM, "ratio": 1} for n in ("a", "b")]
    return small_design(arms=arms, open_label_days=0, open_label_arm=None)


# ------------------------------------------------------------------ vectorised = per replicate
@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(0, 12),
    st.integers(0, 12),
    st.integers(0, 2**31),
    st.floats(0.0, 0.5),
)
def test_welch_p_equals_welch_difference_per_replicate(
    reps: int, na: int, nb: int, seed: int, missing: float
) -> None:
    rng = np.random.default_rng(seed)
    a = rng.normal(0.0, 1.0, (reps, na)).round(1)  # rounding gives ties and constant rows
    b = rng.normal(0.3, 2.0, (reps, nb)).round(0)
    a[rng.random(a.shape) < missing] = np.nan
    b[rng.random(b.shape) < missing] = np.nan
    d, p = welch_p(a, b)
    for r in range(reps):
        ref = welch_difference(a[r], b[r])
        np.testing.assert_allclose(d[r], ref.estimate, rtol=1e-12, atol=1e-12, equal_nan=True)
        np.testing.assert_allclose(p[r], ref.p_value, rtol=1e-9, atol=1e-14, equal_nan=True)


def test_proportion_p_equals_proportion_test_on_every_small_table() -> None:
    """Every 2×2 table with groups of 0–8 and a spread of larger ones: chi-square, Fisher (an
    expected count below 5) and degenerate tables all give the summary's p-value."""
    rows = [
        (x1, n1, x2, n2)
        for n1 in range(9)
        for n2 in range(9)
        for x1 in range(n1 + 1)
        for x2 in range(n2 + 1)
    ]
    rng = np.random.default_rng(3)
    for _ in range(300):
        n1, n2 = (int(v) for v in rng.integers(5, 400, 2))
        rows.append((int(rng.integers(0, n1 + 1)), n1, int(rng.integers(0, n2 + 1)), n2))
    x1, n1, x2, n2 = (np.array(c) for c in zip(*rows, strict=True))
    p = proportion_p(x1, n1, x2, n2)
    for i, (a, m, b, k) in enumerate(rows):
        if m == 0 or k == 0:
            assert math.isnan(p[i])  # the summary makes no test of an empty arm
            continue
        assert p[i] == pytest.approx(proportion_test(a, m, b, k).p_value, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("condition", ["fibromyalgia", "episodic_migraine"])
def test_replicate_tests_equal_the_trial_summary(condition: str) -> None:
    """One replicate made of a real trial's patients: eligibility, dropout, windows and tests
    give the summary's estimates and p-values (the headache primary endpoint included)."""
    design = small_design()
    result = run_trial(design, n_per_arm=40, root_seed=5, condition=condition)
    mp = ModelParameters.default(load_condition(condition))
    ep = patient_endpoints(
        blinded_design(design), result.patient_index, result.arm, root_seed=5, parameters=mp
    )
    assert np.array_equal(ep.eligible, result.eligible)
    assert ep.eligible.all()  # only those who passed screening were randomised
    assert result.screening is not None
    if condition == "fibromyalgia":
        assert result.screening.excluded > 0  # the inclusion criteria excluded someone
    tests = replicate_tests(ep.reshape(1), result.arm, 2, condition)
    s = result.summary()
    expected: dict[str, Comparison] = {
        "change_NRS": s.comparisons["sham"].change_NRS,
        "responders_30": s.comparisons["sham"].responders_30,
        "responders_50": s.comparisons["sham"].responders_50,
    }
    if s.headache is not None:
        expected["headache_change"] = s.headache.comparisons["sham"].change
        expected["headache_responders_50"] = s.headache.comparisons["sham"].responders[50.0]
    assert {k for _, k in tests} == set(expected)
    for key, c in expected.items():
        est, p = tests[1, key]
        assert est[0] == pytest.approx(c.estimate, rel=1e-12, abs=1e-12), key
        assert p[0] == pytest.approx(c.p_value, rel=1e-9), key


def test_the_open_label_extension_does_not_change_the_blinded_phase() -> None:
    design = small_design(open_label_days=21)
    full = run_trial(design, n_per_arm=10, root_seed=9)
    mp = ModelParameters.default(load_condition("fibromyalgia"))
    ep = patient_endpoints(
        blinded_design(design), full.patient_index, full.arm, root_seed=9, parameters=mp
    )
    change = full.change("active", eligible_only=False).change_NRS
    np.testing.assert_array_equal(ep.change_NRS[full.arm == 0], change)


# ------------------------------------------------------------------ reproducible replicates
def test_a_replicate_does_not_depend_on_the_others_or_on_the_chunks() -> None:
    from openvns.trials.executors import serial

    design = blinded_design(small_design())
    mp = ModelParameters.default(load_condition("fibromyalgia"))
    three = _simulate(
        design,
        [(0, 12), (1, 12), (2, 12)],
        root_seed=4,
        parameters=mp,
        run=serial,
        chunk_size=7,
        progress=None,
    ).reshape(3)
    # replicate 2 alone: its block's first 12 candidates who pass screening
    first = int(replicate_indices(2, 1)[0])
    slots = allocation(design, 12)
    plan = allocation(design, 50 * 12)
    patients, arms, screening = screen(design, mp, 4, [6, 6], plan, first_index=first)
    assert patients[0] >= first
    assert patients.size == 12
    assert screening.screened == int(patients.max()) - first + 1
    ordered = np.empty(12, dtype=np.int64)
    for a in (0, 1):
        ordered[slots == a] = patients[arms == a]
    alone = patient_endpoints(design, ordered, slots, root_seed=4, parameters=mp)
    for k in PatientEndpoints.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(three, k)[2], getattr(alone, k))
    assert alone.eligible.all()
    assert replicate_indices(0, 3)[0] > 10**9  # not the patients of a trial run (0, 1, …)


def test_allocation_follows_the_ratio_in_every_prefix() -> None:
    arms = TrialDesign.default().to_dict()["arms"]
    design = small_design(arms=[{**arms[0], "ratio": 2}, arms[1]])
    arms = allocation(design, 9)
    assert arms.tolist() == [0, 0, 1, 0, 0, 1, 0, 0, 1]


def test_power_curve_is_reproducible_and_counts_progress() -> None:
    calls: list[tuple[int, int]] = []
    a = power_curve(
        small_design(),
        [6, 12],
        replicates=3,
        root_seed=8,
        progress=lambda d, t: calls.append((d, t)),
        chunk_size=10,
    )
    b = power_curve(small_design(), [12, 6, 12], replicates=3, root_seed=8, chunk_size=50)
    assert a.sizes == b.sizes == (6, 12)
    for x, y in zip(a.endpoints, b.endpoints, strict=True):
        assert np.array_equal(x.rejections, y.rejections)
    assert calls[-1] == (3 * 24, 3 * 24)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert a.simulated_patient_days == 3 * 24 * (14 + 28)
    doc = json.loads(json.dumps(power_document(a)))
    assert doc["endpoints"][0]["n_for_power"]["80%"]["bound"] in (
        "interpolated",
        "at_most",
        "above",
    )
    assert power_csv(a).count("\n") == 1 + 3 * 2


# ------------------------------------------------------------------ validity of the machinery
def test_rejection_rate_under_the_null_is_alpha() -> None:
    """Sham against sham: 300 trials of 30 per arm. Welch's rate lies in the central 99.9 %
    binomial interval around α = 0.05; the responder tests (Fisher at small counts is
    conservative) are not above its upper end."""
    reps, alpha = 300, 0.05
    curve = power_curve(sham_vs_sham(), [30], replicates=reps, root_seed=13, alpha=alpha)
    lo, hi = stats.binom.ppf([0.0005, 0.9995], reps, alpha)
    welch = curve.get("a − b", "change_NRS")
    assert lo <= welch.rejections[0] <= hi, welch
    for key in ("responders_30", "responders_50"):
        assert curve.get("a − b", key).rejections[0] <= hi, key


def test_simulated_power_of_normal_data_is_the_analytic_power() -> None:
    """Welch on N(0, 1) vs N(0.5, 1), 50 per arm, against the noncentral t power; 4000
    replicates, within 3.5 Monte-Carlo standard errors."""
    reps, n, delta, alpha = 4000, 50, 0.5, 0.05
    rng = np.random.default_rng(2026)
    _, p = welch_p(rng.normal(delta, 1.0, (reps, n)), rng.normal(0.0, 1.0, (reps, n)))
    simulated = float(np.mean(p < alpha))
    df, nc = 2 * n - 2, delta / math.sqrt(2.0 / n)
    crit = stats.t.ppf(1 - alpha / 2, df)
    analytic = stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc)
    assert abs(simulated - analytic) < 3.5 * mc_standard_error(analytic, reps)


def test_simulated_power_of_two_proportions_is_the_exact_power() -> None:
    """The chi-square / Fisher test of 40 % vs 20 % responders, 60 per arm: the exact power
    (the sum of the binomial probabilities of the rejecting tables) against 4000 replicates."""
    reps, n, p1, p2, alpha = 4000, 60, 0.4, 0.2, 0.05
    x = np.arange(n + 1)
    xa, xb = np.meshgrid(x, x, indexing="ij")
    reject = proportion_p(xa.ravel(), np.full(xa.size, n), xb.ravel(), np.full(xb.size, n)) < alpha
    weight = np.outer(stats.binom.pmf(x, n, p1), stats.binom.pmf(x, n, p2)).ravel()
    exact = float(np.sum(weight[reject]))
    rng = np.random.default_rng(7)
    k1, k2 = rng.binomial(n, p1, reps), rng.binomial(n, p2, reps)
    simulated = float(np.mean(proportion_p(k1, np.full(reps, n), k2, np.full(reps, n)) < alpha))
    assert abs(simulated - exact) < 3.5 * mc_standard_error(exact, reps)


# ------------------------------------------------------------------ sample size
def test_n_for_power_interpolates_between_the_sizes() -> None:
    sizes = [50, 100, 200, 400]
    power = [0.30, 0.60, 0.85, 0.95]
    n80 = n_for_power(sizes, power, 0.8)
    assert (n80.n_per_arm, n80.bound, n80.text()) == (180, "interpolated", "≈ 180")
    assert n_for_power(sizes, power, 0.9).n_per_arm == 300
    assert n_for_power(sizes, power, 0.25).text() == "≤ 50"
    above = n_for_power(sizes, power, 0.99)
    assert (above.n_per_arm, above.text()) == (None, "> 400")
    # the first crossing counts when noise makes the curve dip
    assert n_for_power(sizes, [0.5, 0.82, 0.78, 0.95], 0.8).n_per_arm == 97


def test_mc_standard_error() -> None:
    np.testing.assert_allclose(mc_standard_error([0.5, 0.0, 0.9], 100), [0.05, 0.0, 0.03])


# ------------------------------------------------------------------ large sample, evidence
def _curve(power: float) -> PowerCurve:
    e = EndpointPower(
        "active − sham",
        "change_NRS",
        "Δ NRS (Welch t)",
        np.array([46]),
        np.array([power]),
        mc_standard_error([power], 200),
    )
    return PowerCurve("fibromyalgia", ("active", "sham"), (200,), 200, 0.05, 1, (e,))


def _summary(estimate: float) -> TrialSummary:
    c = Comparison(estimate, estimate - 0.5, estimate + 0.5, 0.001, "welch t")
    return TrialSummary(arms={}, comparisons={"sham": ArmComparison(c, c, c, None)})


def test_evidence_warns_when_the_estimate_is_outside_the_large_sample_interval() -> None:
    big = {("active − sham", "change_NRS"): Comparison(-0.14, -0.29, 0.0, 0.05, "welch t")}
    ev = DesignEvidence(200, _curve(0.23), 5000, big)
    lines = ev.lines(_summary(-1.10))
    assert "power 23 % ± 3 %" in lines[1].text
    assert "this trial -1.10" in lines[1].text
    assert lines[-1].warning
    assert "outside the model's large-sample interval" in lines[-1].text
    assert ev.to_dict(_summary(-1.10))["endpoints"][0]["estimate_inside_large_sample_ci"] is False
    inside = ev.lines(_summary(-0.2))
    assert not any(line.warning for line in inside)


def test_design_evidence_runs_the_power_and_a_large_trial() -> None:
    calls: list[tuple[int, int]] = []
    ev = design_evidence(
        small_design(),
        n_per_arm=8,
        root_seed=3,
        replicates=2,
        large_n_per_arm=30,
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls[-1] == (2 * 16 + 60, 2 * 16 + 60)
    assert set(ev.large_sample) == {
        ("active − sham", k) for k in ("change_NRS", "responders_30", "responders_50")
    }
    direct = large_sample_effect(small_design(), n_per_arm=30, root_seed=3)
    assert direct == ev.large_sample
    json.dumps(ev.to_dict())


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"sizes": [1, 10]}, "n"),
        ({"sizes": []}, "n"),
        ({"replicates": 0}, "replicates"),
        ({"alpha": 1.5}, "alpha"),
        ({"sizes": [10**9], "replicates": 2}, "replicates × n × Σratio"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"sizes": [10], "replicates": 2, "root_seed": 1, **kwargs}
    with pytest.raises(ValidationError, match=field.replace("×", ".")):
        power_curve(small_design(), **args)  # type: ignore[arg-type]


def test_crossover_and_single_arm_designs_are_refused() -> None:
    cross = small_design(blinded_days=70, crossover={"period_days": 28, "washout_days": 14})
    with pytest.raises(ValidationError, match=r"trial\.crossover"):
        power_curve(cross, [10], replicates=2, root_seed=1)
    active = TrialDesign.default().to_dict()["arms"][0]
    one = small_design(arms=[active], open_label_arm=None, open_label_days=0)
    with pytest.raises(ValidationError, match=r"trial\.arms"):
        power_curve(one, [10], replicates=2, root_seed=1)


def test_no_warning_against_an_undefined_large_sample_interval() -> None:
    nan = float("nan")
    big = {("active − sham", "change_NRS"): Comparison(nan, nan, nan, nan, "welch t")}
    ev = DesignEvidence(200, _curve(0.23), 5000, big)
    assert not any(line.warning for line in ev.lines(_summary(-1.10)))
    assert ev.to_dict(_summary(-1.10))["endpoints"][0]["estimate_inside_large_sample_ci"] is None
