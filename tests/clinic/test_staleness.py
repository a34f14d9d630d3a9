"""The diary-currency rule shared by the outcome status and the worklist."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from openvns.clinic.diaries.staleness import STALE_AFTER_DAYS, diary_currency

TODAY = date(2026, 12, 5)


def test_boundary_and_no_entries() -> None:
    on_edge = diary_currency(TODAY - timedelta(days=STALE_AFTER_DAYS), TODAY)
    assert not on_edge.stale
    assert on_edge.days_since == STALE_AFTER_DAYS
    past = diary_currency(TODAY - timedelta(days=STALE_AFTER_DAYS + 1), TODAY)
    assert past.stale
    assert past.days_since == STALE_AFTER_DAYS + 1
    none = diary_currency(None, TODAY)
    assert none.stale
    assert none.last_entry is None
    assert none.days_since is None


@given(st.integers(0, 4000), st.integers(0, 4000))
def test_an_older_last_entry_is_never_more_current(a: int, b: int) -> None:
    newer, older = sorted((a, b))
    x = diary_currency(TODAY - timedelta(days=newer), TODAY)
    y = diary_currency(TODAY - timedelta(days=older), TODAY)
    assert not (x.stale and not y.stale)
