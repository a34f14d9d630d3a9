"""PGIC, BPI interference, FIQR and sleep as latent outcomes (openvns.patients.outcomes)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr  # type: ignore[import-untyped]

from openvns.errors import ValidationError
from openvns.parameters import available, load_set
from openvns.patients import sample_cohort, sample_patients
from openvns.patients.outcomes import (
    MCID_NAMES,
    load_outcome_parameters,
    mcid,
    mcid_table,
    simulate_outcomes,
)

BASE, TREAT = 28, 84
DAYS = BASE + TREAT
END = DAYS - 1


def step_pain(cohort_n: int, baseline: np.ndarray, change_pct: np.ndarray) -> np.ndarray:
    """Felt pain ``(n, DAYS)``: ``baseline`` then ``baseline · (1 + change)`` from day BASE."""
    pain = np.repeat(baseline[:, None], DAYS, axis=1).astype(np.float64)
    pain[:, BASE:] *= 1.0 + change_pct[:, None] / 100.0
    return pain


def trial_like(n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A cohort's baseline pain and a trial-like spread of felt % changes (mean −20 %, SD 30 %)."""
    cohort = sample_cohort("fibromyalgia", n, seed)
    rng = np.random.default_rng(seed)
    change = np.clip(rng.normal(-20.0, 30.0, n), -95.0, 100.0)
    base = cohort.traits["P0_NRS"]
    return base, change, step_pain(n, base, change)


def test_set_is_registered_and_every_mcid_is_sourced() -> None:
    assert "outcomes" in available()
    s = load_set("outcomes")
    table = mcid_table()
    assert set(table) == set(MCID_NAMES)
    for outcome, m in table.items():
        entry = s[MCID_NAMES[outcome]]
        assert m.value == entry.value
        assert m.provenance.source == entry.source
        assert m.provenance.source.strip()
        assert (m.provenance.status in ("R", "A")) == m.provenance.provisional
    assert mcid("bpi_interference").value == 1.0
    assert mcid("fiqr").value == pytest.approx(14.1)
    assert mcid("pgic").value == 2
    with pytest.raises(ValidationError, match="one of"):
        mcid("mood")


def test_pgic_is_not_a_function_of_pain_change() -> None:
    n = 2000
    cohort = sample_cohort("fibromyalgia", n, 3)
    base = np.full(n, 6.0)
    change = np.full(n, -30.0)  # every patient feels exactly the same change
    out = simulate_outcomes(cohort, step_pain(n, base, change), baseline_days=BASE, root_seed=3)
    scores = out.pgic[:, END]
    assert len(np.unique(scores)) >= 3
    # the Farrar anchor: a felt 30 % reduction is "much improved or better" about half the time
    assert 0.35 < np.mean(scores <= 2) < 0.65


def test_much_improved_differs_from_the_30_percent_responders() -> None:
    _, change, pain = trial_like(3000)
    out = simulate_outcomes(sample_cohort("fibromyalgia", 3000, 7), pain, baseline_days=BASE,
                            root_seed=7)  # fmt: skip
    much = out.pgic[:, END] <= 2
    responder = change <= -30.0
    discordant = np.mean(much != responder)
    assert discordant > 0.1
    assert np.sum(much) != np.sum(responder)


def test_rank_correlation_with_pain_change_is_in_the_declared_band() -> None:
    p = load_outcome_parameters()
    _, change, pain = trial_like(4000)
    out = simulate_outcomes(sample_cohort("fibromyalgia", 4000, 7), pain, baseline_days=BASE,
                            root_seed=11)  # fmt: skip
    rho = spearmanr(out.pgic[:, END], change)[0]
    assert p.rank_correlation_low <= rho <= p.rank_correlation_high


def test_no_change_patients_are_centred_on_pgic_4() -> None:
    n = 3000
    cohort = sample_cohort("neuropathic_pain", n, 5)
    pain = step_pain(n, cohort.traits["P0_NRS"], np.zeros(n))
    out = simulate_outcomes(cohort, pain, baseline_days=BASE, root_seed=5)
    scores = out.pgic[:, END]
    assert np.median(scores) == 4.0
    assert np.mean(scores < 4) == pytest.approx(np.mean(scores > 4), abs=0.04)
    assert np.all(np.isnan(out.pgic[:, :BASE]))


def test_function_and_sleep_improve_with_pain_but_lag_it() -> None:
    n = 2000
    cohort = sample_cohort("fibromyalgia", n, 9)
    base = cohort.traits["P0_NRS"]
    out = simulate_outcomes(cohort, step_pain(n, base, np.full(n, -40.0)), baseline_days=BASE,
                            root_seed=9)  # fmt: skip
    none = simulate_outcomes(cohort, step_pain(n, base, np.zeros(n)), baseline_days=BASE,
                             root_seed=9)  # fmt: skip
    for name in ("bpi_interference", "fiqr", "fiqr_function", "fiqr_symptoms", "sleep"):
        a, b = getattr(out, name), getattr(none, name)
        # the same patients and draws: the difference is the effect of the pain change
        effect = (a - b).mean(axis=0)
        assert abs(effect[BASE - 1]) < 1e-9
        assert effect[END] < 0, name
        # a week after the change less of the final effect than at the end; function far less
        limit = 0.9 if name == "fiqr_symptoms" else 0.6
        assert effect[BASE + 7] / effect[END] < limit, name
    # function (slow) lags the FIQR symptoms (fast)
    frac = {k: (getattr(out, k) - getattr(none, k)).mean(axis=0) for k in
            ("fiqr_function", "fiqr_symptoms")}  # fmt: skip
    assert (frac["fiqr_function"][BASE + 7] / frac["fiqr_function"][END]
            < frac["fiqr_symptoms"][BASE + 7] / frac["fiqr_symptoms"][END])  # fmt: skip


def test_between_patient_spread_and_baseline_levels() -> None:
    n = 3000
    cohort = sample_cohort("fibromyalgia", n, 2)
    base = cohort.traits["P0_NRS"]
    out = simulate_outcomes(cohort, step_pain(n, base, np.zeros(n)), baseline_days=BASE,
                            root_seed=2)  # fmt: skip
    b = out.bpi_interference[:, BASE - 1]
    assert 4.0 < b.mean() < 7.0
    assert b.std() > 1.0
    assert 0.4 < np.corrcoef(b, base)[0, 1] < 0.9
    s = out.sleep[:, BASE - 1]
    assert 0.4 < np.corrcoef(s, base)[0, 1] < 0.75  # Cappelleri 2009: 0.58-0.64 (daily noise)
    f = out.fiqr[:, BASE - 1]
    assert 40.0 < f.mean() < 70.0
    other = sample_cohort("crps", 10, 2)
    crps = simulate_outcomes(other, np.full((10, DAYS), 6.0), baseline_days=BASE, root_seed=2)
    assert np.all(np.isnan(crps.fiqr))
    assert not np.any(np.isnan(crps.bpi_interference))


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    level=st.floats(0.0, 10.0),
    change=st.floats(-100.0, 300.0),
    condition=st.sampled_from(["fibromyalgia", "neuropathic_pain", "crps"]),
)
def test_bounds_hold(seed: int, level: float, change: float, condition: str) -> None:
    cohort = sample_cohort(condition, 5, seed)
    pain = step_pain(5, np.full(5, level), np.full(5, change))
    out = simulate_outcomes(cohort, pain, baseline_days=BASE, root_seed=seed)
    pg = out.pgic[:, BASE:]
    assert np.all((pg >= 1) & (pg <= 7) & (pg == np.round(pg)))
    assert np.all((out.bpi_interference >= 0) & (out.bpi_interference <= 10))
    assert np.allclose(out.bpi_interference * 7, np.round(out.bpi_interference * 7))
    assert np.all((out.sleep >= 0) & (out.sleep <= 10) & (out.sleep == np.round(out.sleep)))
    if condition == "fibromyalgia":
        assert np.all((out.fiqr >= 0) & (out.fiqr <= 100))
        assert np.all(out.fiqr_function <= 30)
        assert np.all(out.fiqr_overall <= 20)
        assert np.all(out.fiqr_symptoms <= 50)
        total = out.fiqr_function + out.fiqr_overall + out.fiqr_symptoms
        assert np.allclose(out.fiqr, total)


def test_reproducible_and_independent_of_cohort_composition() -> None:
    big = sample_patients("fibromyalgia", [3, 10, 42, 7], 123)
    small = sample_patients("fibromyalgia", [42], 123)
    pain = step_pain(4, big.traits["P0_NRS"], np.array([-10.0, -40.0, -25.0, 5.0]))
    a = simulate_outcomes(big, pain, baseline_days=BASE, root_seed=123)
    b = simulate_outcomes(big, pain, baseline_days=BASE, root_seed=123)
    c = simulate_outcomes(small, pain[2:3], baseline_days=BASE, root_seed=123)
    for name in ("pgic", "bpi_interference", "fiqr", "sleep", "perceived_change_pct"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        np.testing.assert_array_equal(getattr(a, name)[2:3], getattr(c, name))
    d = simulate_outcomes(big, pain, baseline_days=BASE, root_seed=124)
    assert not np.array_equal(a.sleep, d.sleep)


def test_style_is_persistent_across_visits() -> None:
    n = 2000
    cohort = sample_cohort("fibromyalgia", n, 4)
    out = simulate_outcomes(cohort, step_pain(n, np.full(n, 6.0), np.zeros(n)),
                            baseline_days=BASE, root_seed=4)  # fmt: skip
    x = out.perceived_change_pct
    r = np.corrcoef(x[:, BASE + 28], x[:, END])[0, 1]
    assert 0.4 < r < 0.9  # the persistent style, not the visit noise, carries over


def test_invalid_input_is_named() -> None:
    cohort = sample_cohort("fibromyalgia", 3, 0)
    with pytest.raises(ValidationError, match="pain_NRS"):
        simulate_outcomes(cohort, np.zeros((2, 10)), baseline_days=3, root_seed=0)
    with pytest.raises(ValidationError, match="baseline_days"):
        simulate_outcomes(cohort, np.zeros((3, 10)), baseline_days=0, root_seed=0)
    bad = np.zeros((3, 10))
    bad[0, 4] = np.nan
    with pytest.raises(ValidationError, match="pain_NRS"):
        simulate_outcomes(cohort, bad, baseline_days=3, root_seed=0)


def test_a_visit_is_the_patients_answer_on_that_day() -> None:
    """Scored at visits only, each answer is the daily run's on that day (same states, same
    noise), so a trial's visit equals the patient's ``Simulation`` or clinic answer."""
    cohort = sample_cohort("fibromyalgia", 500, 11)
    pain = step_pain(cohort.n, np.full(cohort.n, 6.0), np.full(cohort.n, -30.0))
    days = pain.shape[1]
    daily = simulate_outcomes(cohort, pain, baseline_days=BASE, root_seed=4)
    visits = [BASE - 1, BASE + 40, days - 1]
    sparse = simulate_outcomes(cohort, pain, baseline_days=BASE, root_seed=4, visit_days=visits)
    assert sparse.sleep.shape == (cohort.n, 3)
    for k in ("pgic", "bpi_interference", "sleep", "fiqr"):
        np.testing.assert_array_equal(getattr(sparse, k), getattr(daily, k)[:, visits], err_msg=k)
    with pytest.raises(ValidationError, match="visit_days"):
        simulate_outcomes(cohort, pain, baseline_days=BASE, root_seed=4, visit_days=[5, 3])
