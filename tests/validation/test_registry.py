"""The validation registry file: every target has a source, a value and an interval; the
calibration/held-out split holds at least a third out; bad files are refused with the key."""

from __future__ import annotations

import math
from pathlib import Path

import pydantic
import pytest
import yaml

from openvns.errors import ValidationError
from openvns.trials.validation import load_registry, parse_registry
from openvns.trials.validation.metrics import METRICS
from openvns.trials.validation.registry import MIN_HELD_OUT

REFUSED = (ValidationError, pydantic.ValidationError)
MINI = Path(__file__).parent / "data" / "mini_targets.yaml"


def test_shipped_registry_loads_and_is_complete() -> None:
    reg = load_registry()
    assert len(reg.targets) >= 45
    for t in reg.targets:
        assert t.source.strip()
        assert t.label.strip()
        assert t.why.strip()
        assert math.isfinite(t.reference.value)
        lo, hi = t.reference.bounds
        assert lo <= hi
        assert math.isfinite(lo) or math.isfinite(hi)
        assert t.metric in METRICS
        assert t.cohort is None or t.cohort in reg.cohorts


def test_split_holds_at_least_a_third_out() -> None:
    reg = load_registry()
    held = [t for t in reg.targets if not t.calibration]
    assert len(held) / len(reg.targets) >= MIN_HELD_OUT
    assert reg.held_out_share >= 1 / 3


def test_issue_10_targets_are_all_there() -> None:
    keys = {t.key for t in load_registry().targets}
    for effect in ("voice", "cough", "dyspnoea", "pain", "paraesthesia"):
        assert {f"bm_{effect}_3mo", f"bm_{effect}_12mo", f"bm_{effect}_5yr"} <= keys
    for effect in ("pharyngitis", "headache"):  # no 5-year value in the source table
        assert {f"bm_{effect}_3mo", f"bm_{effect}_12mo"} <= keys
    assert {"e05_voice_contrast", "e05_dyspnoea_contrast", "placebo_30", "placebo_50",
            "chen_placebo_es", "lange_3mo", "lange_11mo", "dropout_ae_11mo",
            "degiorgio_current_7s_18s", "degiorgio_current_30s_30s",
            "degiorgio_current_30s_3min", "manta_30min", "serotonin_day14", "inverted_u",
            "ren_facilitation_band"} <= keys  # fmt: skip


def test_interval_derivations() -> None:
    reg = load_registry()
    by = {t.key: t for t in reg.targets}
    assert by["lange_3mo"].reference.bounds == pytest.approx((15.17, 72.33), abs=0.01)
    assert by["bm_voice_3mo"].reference.bounds == pytest.approx((51.6, 70.9), abs=0.1)
    assert by["hr10"].reference.bounds == (-11.0, -9.0)
    lo, hi = by["hr_clinical"].reference.bounds
    assert lo == 85.0
    assert hi == math.inf


def _mini() -> dict[str, object]:
    data = yaml.safe_load(MINI.read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def test_too_few_held_out_is_refused() -> None:
    data = _mini()
    for t in data["targets"]:  # type: ignore[attr-defined]
        t["calibration"] = True
    with pytest.raises(REFUSED, match="a third held out"):
        parse_registry(data)


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [("metric", "no_such_metric", "metric"), ("cohort", "nowhere", "cohort"),
     ("key", "hr10_held_fail", "used once")],
)  # fmt: skip
def test_bad_targets_are_refused_by_key(field: str, value: str, match: str) -> None:
    data = _mini()
    data["targets"][0][field] = value  # type: ignore[index]
    with pytest.raises(REFUSED, match=match):
        parse_registry(data)


def test_a_target_without_a_source_is_refused() -> None:
    data = _mini()
    data["targets"][0]["source"] = ""  # type: ignore[index]
    with pytest.raises(REFUSED, match="source"):
        parse_registry(data)
