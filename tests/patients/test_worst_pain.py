"""The daily worst pain beside the usual pain (functional abdominal pain, Kovacic 2017)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit, logit

from openvns.errors import ValidationError
from openvns.patients import sample_cohort, sample_patients, simulate_diary
from openvns.patients.worst_pain import (
    load_worst_pain_parameters,
    worst_pain,
    worst_pain_conditions,
)

FAPD = "functional_abdominal_pain"


def test_fapd_has_a_worst_pain_item_and_others_do_not() -> None:
    assert worst_pain_conditions() == (FAPD,)
    p = load_worst_pain_parameters(FAPD)
    assert p.excess_logit == pytest.approx(logit(7.5 / 11) - logit(5.5 / 11), abs=1e-3)
    with pytest.raises(ValidationError, match="condition"):
        load_worst_pain_parameters("fibromyalgia")


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), m=st.floats(0.0, 4.0))
def test_worst_is_on_the_scale_and_never_below_usual(seed: int, m: float) -> None:
    cohort = sample_cohort(FAPD, 15, root_seed=seed)
    diary = simulate_diary(cohort, 30, seed, placebo_multiplier=m, missing_rate=0.2)
    w = worst_pain(cohort, diary, seed)
    assert w.nrs.shape == diary.nrs.shape
    assert np.all(w.nrs >= diary.nrs)
    assert np.all(w.P_true_NRS > diary.P_true_NRS)
    assert np.all((w.P_true_NRS > -0.5) & (w.P_true_NRS < 10.5))
    assert w.nrs.min() >= 0
    assert w.nrs.max() <= 10
    np.testing.assert_array_equal(w.observed, diary.observed)


def test_the_median_patient_reports_the_derived_excess() -> None:
    """Without day-to-day and between-patient spread, a usual report of 5.0 gives a worst of
    7.0 (the two sham-arm medians the excess was derived from)."""
    cohort = sample_cohort(FAPD, 50, root_seed=1)
    diary = simulate_diary(cohort, 10, 1, missing_rate=0.0)
    flat = type(diary)(
        nrs=diary.nrs, observed=diary.observed, P_true_NRS=np.full_like(diary.P_true_NRS, 5.0),
        flare_NRS=diary.flare_NRS,
    )  # fmt: skip
    p = load_worst_pain_parameters(FAPD).model_copy(update={"omega_between": 0.0,
                                                            "omega_day": 0.0})  # fmt: skip
    w = worst_pain(cohort, flat, 1, params=p)
    np.testing.assert_allclose(w.P_true_NRS, 11 * expit(logit(5.5 / 11) + 0.762) - 0.5)
    assert w.P_true_NRS[0, 0] == pytest.approx(7.0, abs=0.01)


def test_worst_pain_follows_a_lower_usual_pain() -> None:
    cohort = sample_cohort(FAPD, 2000, root_seed=4)
    base = simulate_diary(cohort, 56, 4, placebo_multiplier=0.0, missing_rate=0.0)
    lowered = np.tile(0.6 * cohort.traits["P0_NRS"], (56, 1))
    kw = {"placebo_multiplier": 0.0, "missing_rate": 0.0}
    treated = simulate_diary(cohort, 56, 4, underlying_pain_NRS=lowered, **kw)
    wb, wt = worst_pain(cohort, base, 4), worst_pain(cohort, treated, 4)
    lower = treated.P_true_NRS <= base.P_true_NRS
    assert lower.mean() > 0.95
    assert np.all(wt.P_true_NRS[lower] <= wb.P_true_NRS[lower] + 1e-12)  # monotone, same draws
    drop_usual = (base.P_true_NRS - treated.P_true_NRS).mean()
    drop_worst = (wb.P_true_NRS - wt.P_true_NRS).mean()
    assert 0.5 * drop_usual < drop_worst <= 1.2 * drop_usual


def test_worst_pain_is_reproducible_per_patient() -> None:
    big = sample_cohort(FAPD, 20, root_seed=2)
    one = sample_patients(FAPD, [7], root_seed=2)
    a = worst_pain(big, simulate_diary(big, 30, 3), 5)
    b = worst_pain(one, simulate_diary(one, 30, 3), 5)
    np.testing.assert_array_equal(a.nrs[:, 7], b.nrs[:, 0])
    with pytest.raises(ValidationError, match="diary"):
        worst_pain(one, simulate_diary(big, 30, 3), 5)
