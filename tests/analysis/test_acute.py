"""Acute-treatment endpoints: hand-built treated attacks (ACT1 response, pain freedom, pain
relief), first attack against all attacks, Fisher/chi-square against scipy, invariances."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from openvns.analysis.acute import (
    AttackOutcome,
    attack_outcome,
    cluster_response,
    compare_attack_proportions,
    compare_first_attack,
    mean_pain,
    pain_free,
    pain_relief,
)
from openvns.analysis.statistics import newcombe_difference, welch_difference
from openvns.errors import ValidationError

NAN = float("nan")
TIMES = (0, 15, 30, 60, 120)


@dataclass(frozen=True)
class Treated:
    """The shared TreatedAttacks arrays, built with numpy."""

    day: npt.NDArray[np.int64]
    pain: npt.NDArray[np.int8]
    rescue_min: npt.NDArray[np.float64]
    scale_max: int


def _treated(day: list[list[int]], pain: list[list[list[int]]], rescue: list[list[float]],
             scale_max: int) -> Treated:  # fmt: skip
    return Treated(
        np.array(day, dtype=np.int64),
        np.array(pain, dtype=np.int8),
        np.array(rescue, dtype=np.float64),
        scale_max,
    )


EMPTY = [-1, -1, -1, -1, -1]

# cluster headache, 0–4 scale; 5 patients, up to 3 treated attacks
CLUSTER = _treated(
    day=[[3, 1, 5], [2, -1, -1], [4, 6, -1], [-1, -1, -1], [1, 2, -1]],
    pain=[
        [[4, 3, 2, 1, 0], [4, 1, 1, 0, 0], [3, 1, 1, 0, 0]],  # first (day 1, slot 1): success
        [[3, 1, 0, 0, 0], EMPTY, EMPTY],  # pain 1 at 15 but rescue at 30 min: failure
        [[4, 2, 1, 0, 0], [3, 0, 0, 0, 0], EMPTY],  # first attack pain 2 at 15: failure
        [EMPTY, EMPTY, EMPTY],  # no treated attack: not analysed
        [[4, -1, 2, 1, 0], [2, 1, 0, 0, 0], EMPTY],  # first attack not rated at 15 min
    ],
    rescue=[[NAN, NAN, 60.0], [30.0, NAN, NAN], [NAN, NAN, NAN], [NAN] * 3, [NAN, 90.0, NAN]],
    scale_max=4,
)


def test_act1_response_by_hand() -> None:
    out = cluster_response(CLUSTER)
    assert out.name == "cluster_response_15min"
    first = out.first_attack()
    np.testing.assert_array_equal(first.success, [True, False, False, False, False])
    np.testing.assert_array_equal(first.analysed, [True, True, True, False, True])
    assert (first.count, first.n) == (1, 4)
    # an unrated attack is not evaluable when missing entries are excluded
    excl = cluster_response(CLUSTER, missing="exclude").first_attack()
    np.testing.assert_array_equal(excl.analysed, [True, True, True, False, False])
    # all attacks: patient 0 slot 2 (rescue at 60 min, not before) succeeds, slot 0 fails (3)
    per = out.per_patient()
    np.testing.assert_allclose(per.proportion, [2 / 3, 0.0, 0.5, NAN, 0.5])
    np.testing.assert_array_equal(per.n_attacks, [3, 1, 2, 0, 2])
    assert float(per.mean().estimate) == pytest.approx((2 / 3 + 0 + 0.5 + 0.5) / 4)


def test_rescue_window_and_pain_free() -> None:
    # ACT2-style pain-free at 15 min (rescue only counts before 15 min)
    pf = pain_free(CLUSTER, 15)
    np.testing.assert_array_equal(
        pf.success, [[False, False, False], [False, False, False], [False, True, False],
                     [False, False, False], [False, False, False]],
    )  # fmt: skip
    # with the rescue window of ACT1 moved to 120 min patient 0's third attack fails
    longer = cluster_response(CLUSTER, rescue_free_until_min=120.0)
    assert not longer.success[0, 2]


# migraine, 0–3 scale: 3 patients
MIGRAINE = _treated(
    day=[[0, 8], [2, 9], [5, -1]],
    pain=[
        [[2, 2, 1, 1, 0], [1, 1, 0, 0, 0]],  # moderate -> relief at 30, free at 120; mild start
        [[3, 3, 3, 2, 2], [-1, 2, 1, 0, 0]],  # no relief; second attack's start not rated
        [[3, 2, 1, 0, 0], EMPTY],  # relief from 60, free at 60, rescue at 100 min
    ],
    rescue=[[NAN, NAN], [NAN, NAN], [100.0, NAN]],
    scale_max=3,
)


def test_migraine_relief_and_freedom_by_hand() -> None:
    relief30 = pain_relief(MIGRAINE, 30)
    # attacks starting at mild pain, or unrated at the start, are outside the relief endpoint
    np.testing.assert_array_equal(relief30.evaluable, [[True, False], [True, False], [True, False]])
    np.testing.assert_array_equal(relief30.success[:, 0], [True, False, True])
    free = {t: pain_free(MIGRAINE, t) for t in (30, 60, 120)}
    assert free[60].first_attack().count == 1  # patient 2
    # patient 2 took rescue at 100 min: pain-free at 120 counts as a failure
    np.testing.assert_array_equal(free[120].first_attack().success, [True, False, False])
    np.testing.assert_allclose(free[120].per_patient().proportion, [1.0, 0.5, 0.0])
    assert pain_free(MIGRAINE).name == "pain_free_120min"  # the IHS primary time by default
    np.testing.assert_allclose(mean_pain(MIGRAINE, 120), [0.0, 1.0, 0.0])
    np.testing.assert_allclose(mean_pain(CLUSTER, 15), [5 / 3, 1.0, 1.0, NAN, 1.0])


def test_first_attack_comparison_against_scipy() -> None:
    rng = np.random.default_rng(4)
    n = 40

    def arm(p: float) -> AttackOutcome:
        success = rng.random((n, 2)) < p
        return AttackOutcome("x", np.tile([1, 3], (n, 1)), success, np.ones((n, 2), bool))

    a, b = arm(0.35), arm(0.15)
    fa, fb = a.first_attack(), b.first_attack()
    table = [[fa.count, fa.n - fa.count], [fb.count, fb.n - fb.count]]
    fisher = compare_first_attack(fa, fb, test="fisher")
    assert fisher.p_value == pytest.approx(stats.fisher_exact(table).pvalue)
    chi = compare_first_attack(fa, fb, test="chi-square")
    ref = stats.chi2_contingency(table, correction=False)
    assert chi.p_value == pytest.approx(ref.pvalue)
    assert (chi.lower, chi.upper) == (fisher.lower, fisher.upper)
    assert fisher == newcombe_difference(fa.count, fa.n, fb.count, fb.n, method="fisher")
    pa, pb = a.per_patient(), b.per_patient()
    assert compare_attack_proportions(pa, pb) == welch_difference(pa.proportion, pb.proportion)
    mw = compare_attack_proportions(pa, pb, test="mann-whitney")
    assert mw.method == "mann-whitney"
    empty = AttackOutcome("x", -np.ones((2, 1), np.int64), np.zeros((2, 1), bool),
                          np.zeros((2, 1), bool)).first_attack()  # fmt: skip
    assert np.isnan(compare_first_attack(empty, fb).estimate)


attack_rows = st.lists(
    st.tuples(
        st.integers(-1, 20),
        st.lists(st.integers(-1, 4), min_size=5, max_size=5),
        st.one_of(st.just(NAN), st.floats(0, 200)),
    ),
    min_size=3,
    max_size=3,
)


@given(st.lists(attack_rows, min_size=2, max_size=8), st.randoms(use_true_random=False))
@settings(max_examples=40, deadline=None)
def test_invariant_to_patient_and_slot_order(
    rows: list[list[tuple[int, list[int], float]]], rnd: random.Random
) -> None:
    day = [[r[0] for r in p] for p in rows]
    pain = [[r[1] for r in p] for p in rows]
    rescue = [[r[2] for r in p] for p in rows]
    # distinct days per patient so that the first attack is unique
    day = [[d if d < 0 else 30 * k + d for k, d in enumerate(p)] for p in day]
    base = cluster_response(_treated(day, pain, rescue, 4))
    order = list(range(len(rows)))
    rnd.shuffle(order)
    slots = [2, 0, 1]
    shuffled = cluster_response(
        _treated(
            [[day[i][s] for s in slots] for i in order],
            [[pain[i][s] for s in slots] for i in order],
            [[rescue[i][s] for s in slots] for i in order],
            4,
        )
    )
    f0, f1 = base.first_attack(), shuffled.first_attack()
    assert (f0.count, f0.n) == (f1.count, f1.n)
    np.testing.assert_allclose(
        base.per_patient().proportion[order], shuffled.per_patient().proportion
    )
    if f0.n and f1.n:
        ab, ba = compare_first_attack(f0, f1), compare_first_attack(f1, f0)
        assert ab.estimate == pytest.approx(-ba.estimate) == 0.0


def test_bad_input_names_the_field() -> None:
    with pytest.raises(ValidationError, match="pain"):
        attack_outcome([[0]], [[[0, 5, 0, 0, 0]]], [[NAN]], 4, at_min=15, max_pain=1)
    with pytest.raises(ValidationError, match="at_min"):
        attack_outcome([[0]], [[[0, 1, 0, 0, 0]]], [[NAN]], 4, at_min=45, max_pain=1)
    with pytest.raises(ValidationError, match="pain"):
        attack_outcome([[0]], [[[0, 1, 0]]], [[NAN]], 4, at_min=15, max_pain=1)
    with pytest.raises(ValidationError, match="rescue_min"):
        attack_outcome([[0]], [[[0, 1, 0, 0, 0]]], [[-5.0]], 4, at_min=15, max_pain=1)
    with pytest.raises(ValidationError, match="max_pain"):
        attack_outcome([[0]], [[[0, 1, 0, 0, 0]]], [[NAN]], 3, at_min=15, max_pain=4)
