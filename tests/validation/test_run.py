"""Running the registry: quick sizes, statuses, a missing side-effect channel, the reports."""

from __future__ import annotations

import json
import math

import pytest

from openvns.trials.validation import (
    QUICK_SIZES,
    TargetResult,
    html_page,
    json_document,
    load_registry,
    markdown_table,
    run_validation,
)
from openvns.trials.validation import metrics as vm


@pytest.fixture(scope="module")
def quick() -> list[TargetResult]:
    return run_validation(sizes=QUICK_SIZES)


def test_every_target_gets_a_result(quick: list[TargetResult]) -> None:
    keys = [t.key for t in load_registry().targets]
    assert [r.key for r in quick] == keys
    for r in quick:
        assert r.status in ("pass", "fail", "not simulated", "error")
        assert r.passed == (r.status == "pass")
        if r.status in ("pass", "fail"):
            assert math.isfinite(r.simulated)
    # nothing crashes: a metric that cannot run says why
    assert not [r.key for r in quick if r.status == "error"], [
        (r.key, r.detail) for r in quick if r.status == "error"
    ]


def test_reports_show_every_target(quick: list[TargetResult]) -> None:
    page = html_page(quick, {"root seed": 1})
    doc = json_document(quick, {"root seed": 1})
    table = markdown_table(quick)
    for r in quick:
        assert f"id='{r.key}'" in page
        assert f"`{r.key}`" in table
    assert "Calibration targets" in page
    assert "Held out targets" in page
    assert len(doc["targets"]) == len(quick)
    json.dumps(doc, allow_nan=False)  # open interval sides are null, not inf


def test_missing_channel_is_not_simulated(monkeypatch: pytest.MonkeyPatch) -> None:
    from openvns.physiology import side_effects

    monkeypatch.setattr(side_effects, "SIDE_EFFECTS", ("voice",))
    with pytest.raises(vm.NotSimulated, match="dyspnoea"):
        vm.channel("dyspnoea")
    assert vm.channel("voice") == 0


def test_only_filters_and_unknown_keys_are_refused() -> None:
    res = run_validation(sizes=QUICK_SIZES, only=["hr10", "inverted_u"])
    assert [r.key for r in res] == ["hr10", "inverted_u"]
    assert all(r.calibration and r.passed for r in res)
    with pytest.raises(Exception, match="no_such_key"):
        run_validation(sizes=QUICK_SIZES, only=["no_such_key"])
