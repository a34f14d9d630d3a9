"""The headache attack model (issue 11 item 4): rates against their parameters, ICHD-3 limits,
prevention and expectation effects, reproducibility, and the course of treated attacks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import ndtr

from openvns.errors import ValidationError
from openvns.parameters import load_set
from openvns.patients import condition_names, sample_cohort, sample_patients
from openvns.patients.attack_parameters import (
    derived_rates,
    headache_conditions,
    load_attack_parameters,
)
from openvns.patients.attacks import TIMES_MIN, simulate_attacks

HEADACHE = headache_conditions()
NONE = {"rate_multiplier": 1.0, "expectation": 0.0, "missing_rate": 0.0}


def _frequency(diary, measure: str, days: slice) -> np.ndarray:  # type: ignore[no-untyped-def]
    block = {"migraine_days": diary.migraine_day, "headache_days": diary.headache_day,
             "attacks": diary.attacks}[measure][:, days]  # fmt: skip
    return np.asarray(block.sum(axis=1), dtype=np.float64)


def test_headache_conditions_are_patient_conditions_with_sourced_parameters() -> None:
    assert set(HEADACHE) == {
        "episodic_migraine", "chronic_migraine", "episodic_cluster", "chronic_cluster"
    }  # fmt: skip
    assert set(HEADACHE) <= set(condition_names())
    assert "functional_abdominal_pain" in condition_names()
    for name in HEADACHE:
        p = load_attack_parameters(name)
        s = load_set(f"headache/{name}")
        assert all(q.provisional for q in s if q.status in {"A", "R"})
        assert p.scale_max == (3 if p.kind == "migraine" else 4)
        assert len(p.severity_probabilities) == p.scale_max
    with pytest.raises(ValidationError, match="condition"):
        load_attack_parameters("fibromyalgia")


@pytest.mark.parametrize("name", HEADACHE)
def test_population_mean_frequency_is_the_sourced_one(name: str) -> None:
    """Law of large numbers: the derived rate gives the sourced mean per 28 days."""
    p = load_attack_parameters(name)
    if p.episodic_bouts:  # the sourced rate is the in-bout rate: keep everyone in a bout
        p = p.with_(bout_mean_extra_d=1e9)
    cohort = sample_cohort(name, 12_000, root_seed=31)
    diary, _ = simulate_attacks(cohort, 28, 4, params=p, **NONE)
    f = _frequency(diary, p.frequency_measure, slice(0, 28))
    se = f.std() / np.sqrt(f.size)
    assert f.mean() == pytest.approx(p.frequency_per_28d, abs=4 * se)
    if p.kind == "migraine":  # and the headache-to-migraine-day ratio of the population
        md = _frequency(diary, "migraine_days", slice(0, 28)).mean()
        hd = _frequency(diary, "headache_days", slice(0, 28)).mean()
        assert hd / md == pytest.approx(p.headache_days_per_migraine_day, rel=0.02)


def test_counts_are_negative_binomial_with_the_gamma_spread() -> None:
    """Without the slow fluctuation and the daily cap, 28-day counts are gamma-Poisson:
    mean m, variance m + m² cv²."""
    cv = 0.5
    p = load_attack_parameters("chronic_cluster").with_(
        frequency_per_28d=28.0, between_patient_cv=cv, fluctuation_sd=0.0, max_attacks_per_day=24
    )
    assert derived_rates(p).mean_rate_per_d == pytest.approx(1.0, rel=1e-6)
    cohort = sample_cohort("chronic_cluster", 20_000, root_seed=5)
    diary, _ = simulate_attacks(cohort, 28, 6, params=p, **NONE)
    counts = diary.attacks.sum(axis=1).astype(np.float64)
    m = 28.0
    assert counts.mean() == pytest.approx(m, rel=0.02)
    assert counts.var() == pytest.approx(m + m**2 * cv**2, rel=0.08)


def test_chronic_migraine_meets_ichd3_in_the_mean_patient() -> None:
    days = slice(0, 28)
    cm, _ = simulate_attacks(sample_cohort("chronic_migraine", 3000, root_seed=2), 28, 2, **NONE)
    em, _ = simulate_attacks(sample_cohort("episodic_migraine", 3000, root_seed=2), 28, 2, **NONE)
    assert _frequency(cm, "headache_days", days).mean() >= 15.0
    assert _frequency(cm, "migraine_days", days).mean() >= 8.0
    assert _frequency(em, "headache_days", days).mean() < 15.0
    for diary in (cm, em):
        assert np.all(diary.headache_day >= diary.migraine_day)
        assert np.all(diary.migraine_day[diary.attacks > 0])


@pytest.mark.parametrize("name", HEADACHE)
def test_durations_and_severities_within_ichd3_and_the_scale(name: str) -> None:
    p = load_attack_parameters(name)
    diary, _ = simulate_attacks(sample_cohort(name, 500, root_seed=8), 90, 3, **NONE)
    dur = diary.duration_min[~np.isnan(diary.duration_min)]
    assert dur.size > 0
    lower, upper = (240.0, 4320.0) if p.kind == "migraine" else (15.0, 180.0)  # ICHD-3
    if p.abortive_share > 0:  # abortive cluster attacks stop before ICHD-3's 15 min
        assert p.abortive_lower_min is not None
        assert p.abortive_lower_min <= dur.min() < lower
    else:
        assert lower <= dur.min()
    assert dur.max() <= upper
    np.testing.assert_array_equal(np.isnan(diary.duration_min), diary.attacks == 0)
    sev = diary.peak_severity
    assert sev.max() <= p.scale_max
    np.testing.assert_array_equal(sev >= 1, diary.migraine_day)
    assert np.all(sev[~diary.migraine_day] == -1)


def test_rate_multiplier_half_halves_attacks_in_expectation() -> None:
    cohort = sample_cohort("episodic_migraine", 8000, root_seed=12)
    full, _ = simulate_attacks(cohort, 84, 9, **NONE)
    half, _ = simulate_attacks(cohort, 84, 9, **{**NONE, "rate_multiplier": 0.5})
    ratio = half.attacks.sum() / full.attacks.sum()
    assert ratio == pytest.approx(0.5, abs=0.015)
    assert np.all(half.attacks <= full.attacks)  # same random numbers: never more on any day


@settings(max_examples=10, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    name=st.sampled_from(HEADACHE),
    low=st.floats(0.0, 2.0),
    more=st.floats(0.0, 2.0),
)
def test_attacks_never_fall_when_the_rate_multiplier_rises(
    seed: int, name: str, low: float, more: float
) -> None:
    cohort = sample_cohort(name, 20, root_seed=seed)
    a, _ = simulate_attacks(cohort, 40, seed, **{**NONE, "rate_multiplier": low})
    b, _ = simulate_attacks(cohort, 40, seed, **{**NONE, "rate_multiplier": low + more})
    assert np.all(a.attacks <= b.attacks)
    assert np.all(a.headache_day <= b.headache_day)


@pytest.mark.parametrize("name", ["episodic_migraine", "chronic_cluster"])
def test_a_patient_is_the_same_whatever_the_cohort_and_the_days_run(name: str) -> None:
    big = sample_cohort(name, 30, root_seed=2)
    one = sample_patients(name, [17], root_seed=2)
    mult = np.linspace(0.5, 1.5, 30)[:, None] * np.ones((30, 60))
    kw = {"expectation": 1.0, "treat_from_day": 20, "missing_rate": 0.1}
    a, ta = simulate_attacks(big, 60, 5, rate_multiplier=mult, **kw)
    b, tb = simulate_attacks(one, 60, 5, rate_multiplier=mult[17:18], **kw)
    short, _ = simulate_attacks(one, 25, 5, rate_multiplier=mult[17:18, :25], **kw)
    for field in ("attacks", "headache_day", "migraine_day", "peak_severity", "duration_min",
                  "rescue", "observed"):  # fmt: skip
        np.testing.assert_array_equal(getattr(a, field)[17], getattr(b, field)[0])
        np.testing.assert_array_equal(getattr(short, field)[0], getattr(b, field)[0, :25])
    k = tb.day.shape[1]
    np.testing.assert_array_equal(ta.day[17, :k], tb.day[0])
    np.testing.assert_array_equal(ta.pain[17, :k], tb.pain[0])
    np.testing.assert_array_equal(ta.rescue_min[17, :k], tb.rescue_min[0])
    assert np.all(ta.day[17, k:] == -1)
    other, _ = simulate_attacks(big, 60, 6, rate_multiplier=mult, **kw)
    assert not np.array_equal(other.attacks, a.attacks)


def test_treated_attacks_shapes_and_contents() -> None:
    cohort = sample_cohort("episodic_cluster", 200, root_seed=4)
    start = np.arange(200) % 10
    kw = {"acute_relief": 0.3, "treat_from_day": start, "missing_rate": 0.2}
    diary, tr = simulate_attacks(cohort, 30, 4, rate_multiplier=1.0, expectation=1.75, **kw)
    per_patient = np.array([diary.attacks[i, start[i] :].sum() for i in range(200)])
    K = per_patient.max()
    assert tr.day.shape == (200, K)
    assert tr.rescue_min.shape == (200, K)
    assert tr.pain.shape == (200, K, len(TIMES_MIN))
    assert tr.pain.dtype == np.int8
    assert tr.scale_max == diary.scale_max == 4
    np.testing.assert_array_equal((tr.day >= 0).sum(axis=1), per_patient)
    for i in range(200):
        days = tr.day[i, : per_patient[i]]
        assert np.all(np.diff(days) >= 0)
        assert np.all(days >= start[i])
        np.testing.assert_array_equal(np.bincount(days, minlength=30)[start[i]:],
                                      diary.attacks[i, start[i]:])  # fmt: skip
    slot = tr.day >= 0
    seen = slot & diary.observed[np.arange(200)[:, None], np.maximum(tr.day, 0)]
    assert np.all((tr.pain[seen][:, 0] >= 1) & (tr.pain[seen][:, 0] <= 4))
    assert np.all(tr.pain[~seen] == -1)  # empty slots and missing diary days
    assert np.all(np.isnan(tr.rescue_min[~seen]))
    assert np.all(np.isin(tr.rescue_min[seen & ~np.isnan(tr.rescue_min)], TIMES_MIN))
    _, none = simulate_attacks(cohort, 30, 4, **NONE)
    assert none.day.shape == (200, 0)
    assert none.pain.shape == (200, 0, len(TIMES_MIN))


@pytest.mark.parametrize("abortive", [None, 0.0, 0.3])
def test_untreated_natural_course_is_the_duration_distribution(abortive: float | None) -> None:
    """No relief, no expectation, no rating noise, a step-like course: an attack is pain-free
    at t exactly when it lasted ≤ t, so P(pain 0 at t) is the duration distribution's CDF: the
    abortive share (all over before 15 min) plus the rest times the truncated log-normal CDF;
    without abortive attacks no cluster attack is over at 15 min (ICHD-3: ≥ 15 min)."""
    p = load_attack_parameters("chronic_cluster").with_(
        rating_sd=0.0, decline_fraction=1e-9, rescue_probability=1e-9
    )
    if abortive is not None:
        p = p.with_(abortive_share=abortive)
    s = p.abortive_share
    cohort = sample_cohort("chronic_cluster", 6000, root_seed=13)
    _, tr = simulate_attacks(cohort, 3, 2, params=p, treat_from_day=0, **NONE)
    pain = tr.pain[tr.day >= 0]
    assert np.all(np.diff(pain.astype(int), axis=1) <= 0)  # untreated pain never rises
    r = derived_rates(p)
    a = (np.log(p.duration_lower_min) - r.log_duration_median_min) / p.duration_omega
    b = (np.log(p.duration_upper_min) - r.log_duration_median_min) / p.duration_omega
    for j, t in enumerate(TIMES_MIN[1:], start=1):
        zt = (np.log(t) - r.log_duration_median_min) / p.duration_omega
        cdf = np.clip((ndtr(zt) - ndtr(a)) / (ndtr(b) - ndtr(a)), 0.0, 1.0)
        assert np.mean(pain[:, j] == 0) == pytest.approx(s + (1 - s) * cdf, abs=0.015)
        assert np.all((pain[:, j] == 0) | (pain[:, j] == pain[:, 0]))
    assert np.mean(pain[:, 1] == 0) == pytest.approx(s, abs=0.015)
    if s == 0:
        assert np.mean(pain[:, 1] == 0) == 0.0


def test_abortive_attacks_keep_their_draw_and_are_cluster_only() -> None:
    """The duration draws below the abortive share map onto [abortive_lower_min, 15 min], the
    rest onto the truncated log-normal; an attack keeps its rank whatever the share; migraine
    refuses abortive attacks, and a share without its lower duration is refused."""
    from openvns.patients.attacks import _durations

    p = load_attack_parameters("episodic_cluster")
    r = derived_rates(p)
    lo = ndtr((np.log(p.duration_lower_min) - r.log_duration_median_min) / p.duration_omega)
    hi = ndtr((np.log(p.duration_upper_min) - r.log_duration_median_min) / p.duration_omega)
    u = (np.arange(20_000) + 0.5) / 20_000
    dur = _durations(p, r.log_duration_median_min, lo, hi, u)
    assert np.mean(dur < p.duration_lower_min) == pytest.approx(p.abortive_share, abs=1e-4)
    assert p.abortive_lower_min is not None
    assert dur.min() >= p.abortive_lower_min
    assert dur.max() <= p.duration_upper_min
    assert np.all(np.diff(dur) >= 0)  # monotone in the draw: an attack keeps its rank
    rest = dur[dur >= p.duration_lower_min]
    assert rest.mean() == pytest.approx(p.duration_mean_min, rel=0.01)  # the sourced mean
    with pytest.raises(ValidationError, match="abortive_share"):
        load_attack_parameters("episodic_migraine").with_(abortive_share=0.1,
                                                          abortive_lower_min=5.0)  # fmt: skip
    with pytest.raises(ValidationError, match="abortive_lower_min"):
        p.with_(abortive_lower_min=20.0)


def test_expectation_acts_with_its_own_onset() -> None:
    """The expectation relieves a treated attack with ``expectation_onset_min``: a slower onset
    leaves more pain at 15 and 30 min, and pain never rises within an attack (rating noise off);
    a larger ``acute_expectation_multiplier`` relieves more."""
    p = load_attack_parameters("episodic_migraine").with_(rating_sd=0.0,
                                                          rescue_probability=1e-9)  # fmt: skip
    cohort = sample_cohort("episodic_migraine", 3000, root_seed=5)

    def mean_pain(q):  # type: ignore[no-untyped-def]
        _, tr = simulate_attacks(cohort, 10, 3, params=q, rate_multiplier=1.0, expectation=1.75,
                                 treat_from_day=0, missing_rate=0.0)  # fmt: skip
        pain = tr.pain[tr.day >= 0].astype(float)
        return pain[:, 1:].mean(axis=0)  # 15, 30, 60, 120 min

    fast = mean_pain(p.with_(expectation_onset_min=5.0))
    slow = mean_pain(p.with_(expectation_onset_min=60.0))
    assert slow[0] > fast[0] + 0.1
    assert slow[1] > fast[1] + 0.05
    assert np.all(np.diff(slow) <= 1e-12)  # the expectation builds: pain never rises
    more = mean_pain(
        p.with_(
            expectation_onset_min=5.0,
            acute_expectation_multiplier=2 * p.acute_expectation_multiplier,
        )
    )
    assert np.all(more < fast)


def test_rescue_after_the_allowed_rating_ends_the_ratings() -> None:
    p = load_attack_parameters("episodic_cluster").with_(rescue_probability=1 - 1e-9,
                                                         rating_sd=0.0)  # fmt: skip
    cohort = sample_cohort("episodic_cluster", 500, root_seed=3)
    _, tr = simulate_attacks(cohort, 5, 3, params=p, treat_from_day=0, **NONE)
    slot = tr.day >= 0
    took = slot & ~np.isnan(tr.rescue_min)
    assert took.mean() > 0.5 * slot.mean()
    assert np.all(tr.rescue_min[took] >= p.rescue_allowed_min)
    for t_idx, t in enumerate(TIMES_MIN):
        after = took & (tr.rescue_min < t)
        assert np.all(tr.pain[after][:, t_idx] == -1)
        at = took & (tr.rescue_min == t)
        assert np.all(tr.pain[at][:, t_idx] >= p.rescue_threshold)


def test_expectation_effect_is_monotone() -> None:
    """A larger placebo multiplier: fewer attacks in prevention and less pain after an acute
    treatment, in the population mean; relief likewise."""
    cohort = sample_cohort("episodic_migraine", 4000, root_seed=21)
    means, baselines = [], []
    for m in (0.0, 1.0, 1.75, 4.0):
        mult = np.zeros((4000, 112))
        mult[:, 28:] = m  # the arm's expectation from day 28
        diary, _ = simulate_attacks(cohort, 112, 7, rate_multiplier=1.0, expectation=mult)
        means.append(diary.attacks[:, 84:].mean())
        baselines.append(diary.attacks[:, :28])
    assert means == sorted(means, reverse=True)
    assert means[0] > 1.05 * means[-1]
    for b in baselines[1:]:  # nothing changes before the expectation starts
        np.testing.assert_array_equal(b, baselines[0])
    cluster = sample_cohort("episodic_cluster", 4000, root_seed=21)
    pain15 = []
    for m in (0.0, 1.0, 1.75):
        _, tr = simulate_attacks(cluster, 7, 3, rate_multiplier=1.0, expectation=m,
                                 treat_from_day=0, missing_rate=0.0)  # fmt: skip
        pain15.append(tr.pain[:, 0, 1][tr.pain[:, 0, 1] >= 0].mean())
    assert pain15 == sorted(pain15, reverse=True)
    assert pain15[0] > pain15[-1] + 0.1  # at 15 min the expectation has a quarter of its effect
    relief = []
    for rel in (0.0, 0.3, 0.6):
        _, tr = simulate_attacks(cluster, 7, 3, rate_multiplier=1.0, expectation=0.0,
                                 acute_relief=rel, treat_from_day=0, missing_rate=0.0)  # fmt: skip
        relief.append(tr.pain[:, 0, 1][tr.pain[:, 0, 1] >= 0].mean())
    assert relief == sorted(relief, reverse=True)
    assert relief[0] > relief[-1] + 0.5


def test_regression_to_the_mean_through_the_inclusion_window() -> None:
    cohort = sample_cohort("episodic_migraine", 6000, root_seed=17)
    diary, _ = simulate_attacks(cohort, 112, 17, **NONE)
    baseline = _frequency(diary, "migraine_days", slice(0, 28))
    later = _frequency(diary, "migraine_days", slice(84, 112))
    change = later - baseline
    assert abs(change.mean()) < 0.15  # no selection, no treatment: no change
    rtm = [-change[baseline >= t].mean() for t in (8, 12)]
    assert 0.3 < rtm[0] < rtm[1]  # selected on a high baseline, they improve untreated


def test_episodic_cluster_bouts_and_remissions_keep_ichd3_lengths() -> None:
    p = load_attack_parameters("episodic_cluster").with_(
        frequency_per_28d=200.0, between_patient_cv=0.0, fluctuation_sd=0.0
    )
    cohort = sample_cohort("episodic_cluster", 200, root_seed=9)
    diary, _ = simulate_attacks(cohort, 730, 9, params=p, **NONE)
    assert diary.attacks[:, 0].mean() > 0.95  # enrolled in a bout
    gaps = []
    for row in diary.attacks > 0:
        on = np.flatnonzero(row)
        gaps.extend(np.diff(on) - 1)
    gaps_arr = np.asarray(gaps)
    long = gaps_arr[gaps_arr > 3]
    assert long.size > 50  # remissions happen
    assert long.min() >= p.remission_lower_d  # and last ≥ 3 months


def test_bad_input_names_the_field() -> None:
    cohort = sample_cohort("episodic_migraine", 3, root_seed=1)
    with pytest.raises(ValidationError, match="rate_multiplier"):
        simulate_attacks(cohort, 5, 1, rate_multiplier=-0.1, expectation=0.0)
    with pytest.raises(ValidationError, match="expectation"):
        simulate_attacks(cohort, 5, 1, rate_multiplier=1.0, expectation=np.ones((2, 5)))
    with pytest.raises(ValidationError, match="acute_relief"):
        simulate_attacks(cohort, 5, 1, rate_multiplier=1.0, expectation=0.0, acute_relief=1.5)
    with pytest.raises(ValidationError, match="treat_from_day"):
        simulate_attacks(cohort, 5, 1, rate_multiplier=1.0, expectation=0.0, treat_from_day=-1)
    with pytest.raises(ValidationError, match="days"):
        simulate_attacks(cohort, 0, 1, rate_multiplier=1.0, expectation=0.0)
    with pytest.raises(ValidationError, match="condition"):
        simulate_attacks(sample_cohort("fibromyalgia", 2, root_seed=1), 5, 1,
                         rate_multiplier=1.0, expectation=0.0)  # fmt: skip
    with pytest.raises(ValidationError, match="params"):
        simulate_attacks(cohort, 5, 1, rate_multiplier=1.0, expectation=0.0,
                         params=load_attack_parameters("chronic_migraine"))  # fmt: skip
    p = load_attack_parameters("episodic_migraine")
    with pytest.raises(ValidationError, match="severity_probabilities"):
        p.with_(severity_probabilities=(0.5, 0.5))
    with pytest.raises(ValidationError, match="duration_mean_min"):
        p.with_(duration_mean_min=100.0)
    with pytest.raises(ValidationError, match="frequency_per_28d"):
        p.with_(frequency_per_28d=30.0)
