"""Screening before randomisation and the CONSORT flow."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from openvns.errors import ValidationError
from openvns.patients.conditions import load_condition
from openvns.physiology.model import DROPOUT_REASONS
from openvns.simulation.parameters import ModelParameters
from openvns.trials import TrialDesign, run_trial
from openvns.trials.consort import PHASE_LABELS, consort_flow
from openvns.trials.design import InclusionCriteria
from openvns.trials.runner import simulate_patients
from openvns.trials.screening import (
    baseline_failures,
    failure_labels,
    headache_failures,
    pain_failures,
    screen,
)


def small_design(**changes: object) -> TrialDesign:
    """The default design with a 14-day baseline, 28 days blinded, 28 days open label."""
    data = {**TrialDesign.default().to_dict(), "baseline_days": 14, "blinded_days": 28,
            "open_label_days": 28}  # fmt: skip
    return TrialDesign.from_dict({**data, **changes})


def params(condition: str) -> ModelParameters:
    return ModelParameters.default(load_condition(condition))


# ------------------------------------------------------------------ failure codes
def test_pain_failures_name_the_first_criterion_failed() -> None:
    c = InclusionCriteria(min_mean_pain=4.0, max_mean_pain=8.0, min_diary_fraction=0.5)
    nan = np.nan
    pain = np.array(
        [
            [5, 5, 5, 5],  # eligible
            [nan, nan, nan, nan],  # no entry
            [2, nan, nan, nan],  # 25 % of days and low pain: the diary comes first
            [3, 3, 4, 3],  # mean 3.25 < 4
            [9, 9, 8, 9],  # mean 8.75 > 8
            [4, 4, nan, nan],  # exactly 50 % and exactly the minimum: eligible
            [8, nan, 8, 8],  # exactly the maximum: eligible
        ]
    )
    labels = failure_labels(c)
    got = [labels[k] for k in pain_failures(c, pain)]
    assert got == [
        "eligible",
        "baseline diary under 50 % of days",
        "baseline diary under 50 % of days",
        "mean baseline pain below 4",
        "mean baseline pain above 8",
        "eligible",
        "eligible",
    ]


@settings(max_examples=80, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 10)),
           elements=st.one_of(st.just(np.nan), st.integers(0, 10).map(float))),
    st.floats(0, 10), st.floats(0, 10), st.floats(0, 1),
)  # fmt: skip
def test_eligible_is_every_criterion_met(
    pain: np.ndarray, a: float, b: float, fraction: float
) -> None:
    """A patient is eligible exactly when every criterion holds (computed here directly)."""
    lo, hi = min(a, b), max(a, b)
    c = InclusionCriteria(min_mean_pain=lo, max_mean_pain=hi, min_diary_fraction=fraction)
    code = pain_failures(c, pain)
    for i, row in enumerate(pain):
        seen = row[~np.isnan(row)]
        ok = seen.size > 0 and seen.size / row.size >= fraction and lo <= seen.mean() <= hi
        assert (code[i] == 0) == ok
    np.testing.assert_array_equal(c.eligible(pain), code == 0)


def test_headache_failures_follow_the_criteria_order() -> None:
    c = InclusionCriteria(min_attacks_per_week=1.0, max_attacks_per_week=5.0,
                          min_headache_days=8.0)  # fmt: skip
    days = 28
    observed = np.ones((4, days), dtype=bool)
    attacks = np.zeros((4, days), dtype=np.int64)
    attacks[0, ::2] = 1  # 14 attacks in 4 weeks: 3.5 a week, 14 headache days: eligible
    attacks[1, :2] = 1  # 0.5 a week: below the minimum rate
    attacks[2, :] = 2  # 14 a week: above
    attacks[3, ::4] = 1  # 7 attacks: 1.75 a week, 7 headache days < 8
    observed[1, 20:] = False  # 20 of 28 days still ≥ 50 %
    diary = SimpleNamespace(observed=observed, attacks=attacks, migraine_day=attacks > 0,
                            headache_day=attacks > 0)  # fmt: skip
    labels = failure_labels(c)
    got = [labels[k] for k in headache_failures(c, diary, days)]
    assert got == [
        "eligible",
        "attacks per week below 1",
        "attacks per week above 5",
        "headache days per 28 days below 8",
    ]
    np.testing.assert_array_equal(c.eligible_headache(diary, days), [True, False, False, False])


# ------------------------------------------------------------------ screening
@pytest.mark.parametrize("condition", ["fibromyalgia", "chronic_migraine"])
def test_each_arm_takes_the_first_who_qualify_in_its_places(condition: str) -> None:
    design = small_design()
    mp = params(condition)
    if condition == "chronic_migraine":
        design = small_design(inclusion={"min_headache_days": 15.0})
    plan = design.allocate(50 * 30, np.random.default_rng(0))
    indices, arms, s = screen(design, mp, 3, [15, 15], plan)
    codes = baseline_failures(design, mp, 3, np.arange(s.screened, dtype=np.int64))
    eligible = codes == 0
    for a in (0, 1):  # brute force: arm a's first 15 qualifying places
        expected = np.flatnonzero(eligible & (plan[: s.screened] == a))[:15]
        np.testing.assert_array_equal(np.sort(indices[arms == a]), expected)
    np.testing.assert_array_equal(arms, plan[indices])
    assert eligible[-1]  # screening stops at the last patient it randomises
    assert s.randomised == 30
    assert s.screened == s.randomised + sum(s.failures.values()) + s.arm_full
    labels = failure_labels(design.inclusion)
    for label, n in s.failures.items():
        assert n == int((codes == labels.index(label)).sum())
    if condition == "fibromyalgia":
        assert sum(s.failures.values()) > 0


def test_a_changed_eligibility_moves_only_that_patient() -> None:
    """Common random numbers: make one randomised candidate fail screening and the arms change
    by that patient and the next qualifying one of its arm, nobody else."""
    design = small_design()
    mp = params("fibromyalgia")
    plan = design.allocate(50 * 40, np.random.default_rng(1))
    indices, _, _ = screen(design, mp, 5, [20, 20], plan)
    victim = int(indices[3])
    real = baseline_failures

    def one_more_failure(d: object, p: object, seed: int, idx: np.ndarray) -> np.ndarray:
        codes = real(d, p, seed, idx)  # type: ignore[arg-type]
        return np.where(idx == victim, np.int8(1), codes)

    import openvns.trials.screening as screening_module

    original = screening_module.baseline_failures
    screening_module.baseline_failures = one_more_failure  # type: ignore[assignment]
    try:
        again, _, _ = screen(design, mp, 5, [20, 20], plan)
    finally:
        screening_module.baseline_failures = original
    before, after = set(indices.tolist()), set(again.tolist())
    assert before - after == {victim}
    assert len(after - before) == 1
    (newcomer,) = after - before
    assert plan[newcomer] == plan[victim]  # its arm's next qualifying candidate


@pytest.mark.parametrize("condition", ["fibromyalgia", "episodic_migraine"])
def test_the_trial_baseline_is_the_screening_baseline(condition: str) -> None:
    """Screened alone or simulated through the whole trial, a patient's baseline diary is the
    same, so every randomised patient meets the criteria in the trial too."""
    design = small_design()
    result = run_trial(design, n_per_arm=25, root_seed=11, condition=condition)
    assert result.eligible.all()
    assert result.screening is not None
    assert result.screening.randomised == result.n_patients == 50
    again = simulate_patients(design, result.patient_index, result.arm, root_seed=11,
                              condition=condition)  # fmt: skip
    np.testing.assert_array_equal(again["nrs"], result.nrs)


def test_the_randomised_count_is_per_arm_whatever_the_exclusions() -> None:
    strict = small_design(inclusion={"min_mean_pain": 6.0})
    loose = small_design(inclusion={"min_mean_pain": 0.0})
    a = run_trial(strict, n_per_arm=20, root_seed=2)
    b = run_trial(loose, n_per_arm=20, root_seed=2)
    for r in (a, b):
        assert np.bincount(r.arm).tolist() == [20, 20]
    assert a.screening is not None
    assert b.screening is not None
    assert a.screening.screened > b.screening.screened
    assert b.screening.failures == {}
    # the strict trial's patients have higher baseline pain than the loose trial's
    base = strict.baseline_days
    assert a.nrs[:, :base].mean() > b.nrs[:, :base].mean()


def test_criteria_nobody_meets_are_refused_with_the_reason() -> None:
    design = small_design(inclusion={"min_mean_pain": 10.0})
    with pytest.raises(ValidationError) as err:
        run_trial(design, n_per_arm=2, root_seed=1)
    assert err.value.field == "inclusion"
    assert "mean baseline pain below 10" in err.value.allowed


def test_without_a_baseline_nobody_is_screened_out() -> None:
    design = small_design(baseline_days=0)
    plan = design.allocate(50 * 8, np.random.default_rng(2))
    indices, _, s = screen(design, params("fibromyalgia"), 1, [4, 4], plan)
    assert indices.tolist() == list(range(8))  # complete permuted blocks: 4 and 4
    assert (s.screened, s.randomised, s.failures, s.arm_full) == (8, 8, {}, 0)


# ------------------------------------------------------------------ CONSORT
def test_consort_counts_add_up_to_the_patients() -> None:
    design = small_design()
    result = run_trial(design, n_per_arm=40, root_seed=6)
    flow = consort_flow(result)
    assert result.screening is not None
    assert flow.screened == result.screening.screened
    assert flow.n_excluded == flow.screened - flow.randomised
    assert flow.n_excluded == sum(result.screening.failures.values()) + result.screening.arm_full
    assert sum(a.allocated for a in flow.arms) == flow.randomised == result.n_patients
    end_blinded = design.baseline_days + design.blinded_days
    summary = result.summary()
    assert result.dropout_reason is not None
    for i, arm in enumerate(flow.arms):
        mine = result.arm == i
        day, why = result.dropout_day[mine], result.dropout_reason[mine]
        blinded = (day >= 0) & (day < end_blinded)
        assert arm.discontinued_in(PHASE_LABELS[0]) == int(blinded.sum())
        assert arm.discontinued_in(PHASE_LABELS[1]) == int((day >= end_blinded).sum())
        for k in range(1, len(DROPOUT_REASONS)):
            assert arm.discontinued[PHASE_LABELS[0]].get(DROPOUT_REASONS[k], 0) == int(
                (blinded & (why == k)).sum()
            )
        assert arm.analysed == int(summary.arms[arm.arm].change_NRS.n)
        assert arm.analysed + arm.not_analysed == arm.allocated
    frame = flow.to_frame()
    assert int(frame.query("item == 'randomised'")["n"].iloc[0]) == flow.randomised
    doc = flow.to_dict()
    assert doc["arms"]["sham"]["allocated"] == 40
    assert str(flow).startswith(f"Assessed for eligibility (screened): {flow.screened}")


def test_consort_figure_shows_the_counts() -> None:
    from openvns.trials.consort_figure import consort_figure

    result = run_trial(small_design(), n_per_arm=10, root_seed=3)
    flow = result.consort()
    fig = consort_figure(flow)
    texts = "\n".join(t.get_text() for t in fig.axes[0].texts)
    assert f"Assessed for eligibility (n = {flow.screened})" in texts
    assert f"Randomised (n = {flow.randomised})" in texts
    for arm in flow.arms:
        assert f"Allocated to {arm.arm} (n = {arm.allocated})" in texts
        assert f"Analysed (n = {arm.analysed})" in texts
