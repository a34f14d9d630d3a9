"""The weekly pain course, computed for all weeks at once, equals the week-by-week definition
(window means with the endpoint's missing-data rule, change and responders against the
baseline), including a short last week and weeks with too few entries."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from openvns.analysis.endpoints import change_from_baseline, responders, window_mean_NRS
from openvns.analysis.statistics import mean_ci
from openvns.clinic.outcomes.service import (
    DAYS_PER_WEEK,
    MODERATE_PCT,
    SUBSTANTIAL_PCT,
    PainAxis,
    _weekly,
)


def _reference(axis: PainAxis) -> list[tuple[object, ...]]:
    """The week-by-week definition (the implementation before it was vectorised)."""
    weeks = axis.weeks()
    padded = np.full(len(weeks) * DAYS_PER_WEEK, np.nan)
    padded[: axis.n_days] = axis.nrs[0]
    ci = mean_ci(padded.reshape(len(weeks), DAYS_PER_WEEK), axis=1)
    out = []
    for w, window in enumerate(weeks):
        mean = float(window_mean_NRS(axis.nrs, None, window)[0])
        observed = int(ci.n[w])
        change = change_from_baseline(axis.nrs, None, axis.baseline, window)
        pct = change.change_pct
        lower = float(ci.lower[w]) if observed and math.isfinite(mean) else math.nan
        upper = float(ci.upper[w]) if observed and math.isfinite(mean) else math.nan
        out.append(
            (
                axis.week_of(window.start),
                axis.start + timedelta(days=window.start),
                axis.start + timedelta(days=window.stop - 1),
                observed,
                mean,
                lower,
                upper,
                float(change.change_NRS[0]),
                float(pct[0]),
                bool(responders(pct, MODERATE_PCT).responder[0]),
                bool(responders(pct, SUBSTANTIAL_PCT).responder[0]),
            )
        )
    return out


def _same(a: object, b: object) -> bool:
    if a is None and isinstance(b, float) and math.isnan(b):
        return True
    return a == b


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.integers(0, 10)), min_size=1, max_size=60),
    st.integers(0, 20),
    st.integers(1, 14),
)
def test_weekly_course_equals_the_week_by_week_definition(
    values: list[int | None], base_start: int, base_len: int
) -> None:
    n = len(values)
    base_start = min(base_start, n - 1)
    base_stop = min(n, base_start + base_len)
    nrs = np.array([[np.nan if v is None else float(v) for v in values]])
    start = date(2026, 1, 5)
    axis = PainAxis(
        start=start,
        anchor=start + timedelta(days=DAYS_PER_WEEK),
        nrs=nrs,
        baseline=slice(base_start, base_stop),
    )
    got = _weekly(axis)
    want = _reference(axis)
    assert len(got) == len(want)
    for week, ref in zip(got, want, strict=True):
        fields = (
            week.week, week.start_date, week.end_date, week.days_observed, week.mean_NRS,
            week.lower_NRS, week.upper_NRS, week.change_NRS, week.change_pct,
            week.responder_30, week.responder_50,
        )  # fmt: skip
        for g, r in zip(fields, ref, strict=True):
            assert _same(g, r), (fields, ref)
