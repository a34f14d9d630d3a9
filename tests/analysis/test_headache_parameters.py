"""The headache-endpoint definitions file: every value sourced, the provisional rule, and the
values the endpoints use."""

from __future__ import annotations

import pytest

from openvns.analysis.headache_parameters import (
    headache_endpoint_parameters,
    headache_number,
    headache_times_min,
)
from openvns.errors import ValidationError


def test_every_value_is_sourced_and_flagged() -> None:
    s = headache_endpoint_parameters()
    assert s.schema_id == "openvns.analysis.headache_endpoints/1"
    assert s.version not in ("", "unknown")
    for p in s:
        assert p.source.strip(), p.name
        assert p.status in ("V", "D", "R", "A"), p.name
        if p.status in ("R", "A"):
            assert p.provisional, p.name


def test_definitions_of_the_trials() -> None:
    assert headache_number("month_days") == 28.0  # EVENT, per 28 days
    assert headache_number("responder_pct") == 50.0
    assert headache_number("cluster_response_max_pain") == 1.0  # ACT1: pain 0 or 1
    assert headache_number("cluster_rescue_free_min") == 60.0
    assert (headache_number("relief_from_min_pain"), headache_number("relief_max_pain")) == (2, 1)
    assert headache_times_min() == (0, 15, 30, 60, 120)  # the attack interface's TIMES_MIN


def test_unknown_name_lists_the_allowed() -> None:
    with pytest.raises(ValidationError, match="month_days"):
        headache_number("months")
    with pytest.raises(ValidationError, match="times_min") as err:
        headache_number("times_min")  # a list, not a number
    assert "times_min" in str(err.value)
