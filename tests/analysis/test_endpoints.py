"""Endpoints on small hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from openvns.analysis.endpoints import (
    bpi_interference_change,
    change_from_baseline,
    compare_arms,
    compare_outcomes,
    dropout_by_week,
    fiqr_change,
    pgic_distribution,
    pgic_much_improved,
    responders,
    side_effect_prevalence_by_week,
    sleep_change,
    summarise_arm,
    summarise_outcomes,
    time_to_response,
    window_mean_NRS,
)

BASE, END = slice(0, 4), slice(4, 8)

# 4 patients x 8 days: baseline days 0-3, endpoint days 4-7
NRS = np.array(
    [
        [6, 6, 6, 6, 4, 4, 4, 4],  # 6 -> 4: -33 %
        [8, 8, 8, 8, 4, 4, 4, 3],  # 8 -> 3.75: -53 %
        [5, 5, 5, 5, 5, 5, 5, 5],  # no change
        [6, 6, 6, 6, 1, 1, 1, 1],  # endpoint mostly missing
    ],
    dtype=np.int8,
)
OBS = np.ones_like(NRS, dtype=bool)
OBS[3, 4:7] = False  # only 1 of 4 endpoint days observed -> missing
OBS[0, 1] = False  # 3 of 4 baseline days -> fine


def test_window_mean_applies_missing_rule() -> None:
    m = window_mean_NRS(NRS, OBS, END)
    np.testing.assert_allclose(m, [4.0, 3.75, 5.0, np.nan])
    # with a lower bar the single day counts
    assert window_mean_NRS(NRS, OBS, END, min_observed_fraction=0.25)[3] == 1.0
    # NaN entries count as unobserved when no mask is given
    x = np.where(OBS, NRS, np.nan)
    np.testing.assert_allclose(window_mean_NRS(x, None, END), m)
    with pytest.raises(ValueError, match="no days"):
        window_mean_NRS(NRS, OBS, slice(8, 8))


def test_change_and_responders() -> None:
    c = change_from_baseline(NRS, OBS, BASE, END)
    np.testing.assert_allclose(c.change_NRS, [-2.0, -4.25, 0.0, np.nan])
    np.testing.assert_allclose(c.change_pct, [-100 / 3, -53.125, 0.0, np.nan])
    r30 = responders(c.change_pct, 30)
    np.testing.assert_array_equal(r30.responder, [True, True, False, False])
    assert (r30.count, r30.n) == (2, 4)
    r50 = responders(c.change_pct, 50, missing="exclude")
    assert (r50.count, r50.n) == (1, 3)
    assert float(r50.proportion().estimate) == pytest.approx(1 / 3)
    # exactly 30 % counts as a responder
    assert responders([-30.0], 30).count == 1
    with pytest.raises(ValueError, match="missing"):
        responders([0.0], 30, missing="lenient")  # type: ignore[arg-type]


def test_pgic_distribution() -> None:
    d = pgic_distribution([1, 2, 2, 4, 7, np.nan])
    np.testing.assert_array_equal(d.counts, [1, 2, 0, 1, 0, 0, 1])
    assert float(d.much_improved.estimate) == pytest.approx(3 / 5)
    np.testing.assert_allclose(d.proportion.estimate, np.array([1, 2, 0, 1, 0, 0, 1]) / 5)
    with pytest.raises(ValueError, match="PGIC"):
        pgic_distribution([0])


def test_side_effect_prevalence_by_week() -> None:
    se = np.zeros((3, 10), dtype=bool)
    se[0, 2] = True  # week 1
    se[1, 8] = True  # week 2
    se[2, 9] = True  # week 2, but patient 2 left after day 6
    in_study = np.ones_like(se)
    in_study[2, 7:] = False
    w = side_effect_prevalence_by_week(se, in_study)
    np.testing.assert_array_equal(w.week, [1, 2])
    np.testing.assert_array_equal(w.count, [1, 1])
    np.testing.assert_array_equal(w.fraction.n, [3, 2])
    np.testing.assert_allclose(w.fraction.estimate, [1 / 3, 1 / 2])
    assert np.all(w.fraction.lower <= w.fraction.estimate)


def test_dropout_by_week() -> None:
    w = dropout_by_week([3.0, np.nan, 10.0, 20.0], n_days=14)
    np.testing.assert_array_equal(w.count, [1, 2])
    np.testing.assert_allclose(w.fraction.estimate, [0.25, 0.5])


def test_time_to_response_with_censoring() -> None:
    # baseline days 0-6 (mean 6), treatment from day 7, 3 weeks
    base = np.full((4, 7), 6.0)
    weeks = np.array(
        [
            [5.0] * 7 + [4.0] * 7 + [4.0] * 7,  # responds in week 2 (4 <= 4.2)
            [5.0] * 21,  # never responds, censored at week 3
            [5.0] * 7 + [2.0] * 14,  # would respond in week 2 but drops out on day 10
            [4.0] * 21,  # responds in week 1
        ]
    )
    nrs = np.concatenate([base, weeks], axis=1)
    drop = np.array([np.nan, np.nan, 10.0, np.nan])
    # patient 2 is last in the study in week 1 (days 7-9) -> censored at week 1
    ttr = time_to_response(nrs, None, slice(0, 7), 7, dropout_day=drop)
    np.testing.assert_array_equal(ttr.time_weeks, [2, 3, 1, 1])
    np.testing.assert_array_equal(ttr.responded, [True, False, False, True])
    km = ttr.kaplan_meier()
    # week 1: 1 of 4 responds; week 2: 1 of the 2 still at risk
    np.testing.assert_allclose(km.survival, [0.75, 0.375])


def test_arm_summary_and_comparison() -> None:
    c = change_from_baseline(NRS, OBS, BASE, END)
    s = summarise_arm(c)
    assert s.n == 4
    assert float(s.change_NRS.estimate) == pytest.approx(-6.25 / 3)
    assert s.responders_30.count == 2
    flat = change_from_baseline(np.full((4, 8), 5), None, BASE, END)
    cmp = compare_arms(c, flat)
    assert cmp.responders_30.estimate == pytest.approx(0.5)
    assert cmp.responders_30.method == "fisher exact"
    assert cmp.change_NRS.estimate == pytest.approx(-6.25 / 3)
    assert cmp.time_to_response is None
    t = time_to_response(NRS, OBS, BASE, 4)
    t0 = time_to_response(np.full((4, 8), 5), None, BASE, 4)
    lr = compare_arms(c, flat, time_a=t, time_b=t0).time_to_response
    assert lr is not None
    assert lr.observed_a == 2


def test_median_weeks_to_response_is_the_kaplan_meier_median() -> None:
    from openvns.analysis.endpoints import TimeToResponse

    t = TimeToResponse(np.array([1.0, 2.0, 3.0, 4.0]), np.array([True, True, True, True]))
    assert t.median_weeks() == 2.0  # S = 0.75, 0.5 → first S ≤ 0.5 at week 2
    # censoring: S(1) = 3/4, S(3) = 3/4 · 1/2 = 0.375 → median 3
    c = TimeToResponse(np.array([1.0, 2.0, 3.0, 4.0]), np.array([True, False, True, False]))
    assert c.median_weeks() == 3.0
    none = TimeToResponse(np.array([5.0, 6.0]), np.array([False, False]))
    assert np.isnan(none.median_weeks())
    few = TimeToResponse(np.array([1.0, 4.0, 4.0, 4.0]), np.array([True, False, False, False]))
    assert np.isnan(few.median_weeks())  # S stays at 0.75: not reached


def test_endpoint_window_is_the_last_four_weeks_of_the_phase() -> None:
    from openvns.analysis.endpoints import (
        ENDPOINT_WINDOW_DAYS,
        endpoint_weeks,
        endpoint_window,
    )

    assert ENDPOINT_WINDOW_DAYS == 28
    assert endpoint_window(28 + 84, 28) == slice(84, 112)
    assert endpoint_window(28 + 14, 28) == slice(28, 42)  # a short phase: all of it
    assert endpoint_weeks(84) == (9, 12)
    assert endpoint_weeks(14) == (1, 2)


# ----------------------------------------------------------------- outcomes beyond pain
def test_pgic_much_improved_uses_the_mcid_and_counts_missing_as_not_improved() -> None:
    s = pgic_much_improved([1, 2, 3, 4, np.nan])
    assert s.threshold == 2
    assert s.unit == "category"
    assert (s.count, s.n) == (2, 5)
    assert pgic_much_improved([1, 2, 3, 4, np.nan], missing="exclude").n == 4
    assert pgic_much_improved([1, 2, 3], category=1).count == 1
    with pytest.raises(ValueError, match="1–7"):
        pgic_much_improved([0])


def test_bpi_sleep_and_fiqr_changes_with_their_mcids() -> None:
    bpi = bpi_interference_change([5.0, 5.0, 5.0, np.nan], [4.0, 4 + 1 / 7, 6.0, 3.0])
    np.testing.assert_allclose(bpi.change[:3], [-1.0, -6 / 7, 1.0])
    assert bpi.responders.threshold == 1.0  # IMMPACT 1 point
    assert bpi.responders.improved.tolist() == [True, False, False, False]
    assert bpi.responders.n == 4  # the missing patient is a non-responder
    assert float(bpi.mean_change().n) == 3
    fiqr = fiqr_change([50.0, 50.0, 0.0], [43.0, 42.9, 0.0])
    assert fiqr.responders.threshold == pytest.approx(14.1)
    assert fiqr.responders.unit == "%"
    assert fiqr.responders.improved.tolist() == [False, True, False]  # -14 % vs -14.2 %
    assert np.isnan(fiqr.change_pct[2])
    sleep = sleep_change([6, 6], [5, 6], mcid_points=0.5)
    assert sleep.responders.improved.tolist() == [True, False]
    with pytest.raises(ValueError, match="shape"):
        sleep_change([1, 2], [1])


def test_outcome_summary_and_comparison() -> None:
    base = {"bpi_interference": [6.0, 6.0, 6.0], "fiqr": [np.nan] * 3, "sleep": [7.0, 7.0, 7.0]}
    a = summarise_outcomes([1, 2, 5], base, {"bpi_interference": [4.0, 4.0, 5.0],
                           "fiqr": [np.nan] * 3, "sleep": [5.0, 6.0, 7.0]})  # fmt: skip
    b = summarise_outcomes([4, 4, 5], base, {"bpi_interference": [6.0, 6.0, 5.0],
                           "fiqr": [np.nan] * 3, "sleep": [7.0, 7.0, 7.0]})  # fmt: skip
    assert a.fiqr is None  # no FIQR outside fibromyalgia
    assert set(a.changes()) == {"bpi_interference", "sleep"}
    assert a.pgic is not None
    assert a.pgic.counts.tolist() == [1, 1, 0, 0, 1, 0, 0]
    c = compare_outcomes(a, b)
    assert c.pgic_improved.estimate == pytest.approx(2 / 3)
    assert c.change["bpi_interference"].estimate == pytest.approx(-5 / 3 - (-1 / 3))
    assert c.responders["sleep"].estimate == pytest.approx(2 / 3)
    assert set(c.change) == {"bpi_interference", "sleep"}
