"""Plausible ranges of assumed values: the schema, its validation, and that every assumed value
the default trial reads has one (so the next assumption added without a range fails here)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from openvns.parameters import ParameterRange, load_set, parse_set
from openvns.patients.outcomes import load_outcome_parameters
from openvns.trials.config import TrialConfig
from openvns.trials.uncertainty import apply_values, trial_assumptions

DEFAULT = TrialConfig()


def test_every_assumed_value_of_the_default_trial_has_a_range() -> None:
    used, left_out = trial_assumptions(DEFAULT.design, DEFAULT.run.condition)
    missing = [f"{a.set_name}:{a.name}" for a in used if a.range is None]
    assert not missing, f"assumed values without a range: {missing}"
    # the trial reads the sets it should: physiology, side effects, condition, diary, outcomes
    assert {a.set_name for a in used} == {
        "physiology", "side_effects", "conditions/fibromyalgia", "conditions/diary", "outcomes"
    }  # fmt: skip
    keys = {a.key for a in used}
    assert {"f_opt_Hz", "p_responder", "voice.drive50", "sham_device_placebo_multiplier"} <= keys
    # what is left out says why: unused, a choice, skin channels, home use
    assert "documented" in left_out["physiology:circadian_amplitude"]
    assert "choice" in left_out["physiology:descending_limb_input"]
    assert "head pain" in left_out["physiology:segmental_f50_Hz"]
    assert "skin" in left_out["side_effects:channels.application_site.drive50"]
    assert "structural zero" in left_out["side_effects:channels.voice.w_A_afferent"]
    assert "home-use" in left_out["conditions/diary:adherence_mean"]


def test_every_range_is_accepted_by_the_model_at_both_ends() -> None:
    used, _ = trial_assumptions(DEFAULT.design, DEFAULT.run.condition)
    mp, op = DEFAULT.model_parameters(), load_outcome_parameters()
    for a in used:
        assert a.range is not None
        assert a.range.low <= a.value <= a.range.high
        assert a.range.reason.strip()
        for v in (a.range.low, a.range.high):
            new_mp, new_op = apply_values(mp, op, [a], [v])
            got = new_mp.value(a.key) if a.owner == "model" else getattr(new_op, a.key)
            assert got == pytest.approx(v)


def test_ranges_do_not_change_values() -> None:
    # the range is beside the value: every ranged value is still the shipped one
    s = load_set("physiology")
    assert s["f_opt_Hz"].value == 25.0
    r = s["f_opt_Hz"].range
    assert r == ParameterRange(low=10.0, high=30.0, reason=r.reason if r else "")
    assert s["f_opt_Hz"].row()["range"] == "10–30"
    assert s["coupling_median"].range is None
    assert s["coupling_median"].row()["range"] == ""


def _entry(extra: str, value: str = "2.0") -> str:
    return (
        'schema: x/1\nversion: "1"\n'
        f"a_Hz: {{value: {value}, {extra}status: A, provisional: true, source: S}}\n"
    )


def test_a_range_is_read_with_its_reason() -> None:
    s = parse_set(_entry('range: {low: 1.0, high: 3, reason: "a judgement", unit: Hz}, '), "t")
    r = s["a_Hz"].range
    assert r is not None
    assert (r.low, r.high, r.reason, r.width) == (1.0, 3.0, "a judgement", 2.0)
    assert r.text("Hz") == "1–3 Hz"
    assert len(s.ranged()) == 1


@pytest.mark.parametrize(
    ("extra", "value", "message"),
    [
        ('range: {low: 2.5, high: 3.0, reason: "r"}, ', "2.0", "outside its range"),
        ('range: {low: 1.0, high: 1.5, reason: "r"}, ', "2.0", "outside its range"),
        ('range: {low: 3.0, high: 1.0, reason: "r"}, ', "2.0", "below high"),
        ("range: {low: 1.0, high: 3.0}, ", "2.0", "needs reason"),
        ('range: {low: 1.0, high: 3.0, reason: "  "}, ', "2.0", "reason"),
        ('range: {low: 1.0, high: 3.0, reason: "r", unit: ms}, ', "2.0", "unit 'Hz'"),
        ('range: {low: one, high: 3.0, reason: "r"}, ', "2.0", "range.low = 'one'"),
        ('range: {low: 1.0, high: 3.0, reason: "r", step: 1}, ', "2.0", "unknown keys"),
        ("range: [1.0, 3.0], ", "2.0", "must be a mapping"),
        ('range: {low: 1.0, high: 3.0, reason: "r"}, ', "x", "only a numeric value"),
        ('range: {low: 1.0, high: 3.0, reason: "r"}, ', "true", "only a numeric value"),
    ],
)
def test_a_bad_range_names_the_value_and_the_rule(extra: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_set(_entry(extra, value), "t")
    assert "a_Hz" in str(info.value)


def test_a_range_belongs_beside_one_value_not_a_group() -> None:
    text = 'schema: x/1\nversion: "1"\ng: {min: 1, max: 2, range: {low: 0, high: 3, reason: r}, status: A, provisional: true, source: S}\n'  # noqa: E501
    with pytest.raises(ValueError, match="not a group"):
        parse_set(text, "t")


def test_ranges_of_the_default_trial_are_not_degenerate() -> None:
    used, _ = trial_assumptions(DEFAULT.design, DEFAULT.run.condition)
    widths = np.array([a.range.width for a in used if a.range is not None])
    assert (widths > 0).all()


@given(
    low=st.floats(-1e6, 1e6, allow_nan=False),
    width=st.floats(1e-6, 1e6, allow_nan=False),
    where=st.floats(-0.5, 1.5, allow_nan=False),
)
def test_a_value_is_accepted_exactly_when_it_lies_in_its_range(
    low: float, width: float, where: float
) -> None:
    high = low + width
    value = low + where * width
    entry = {"value": value, "range": {"low": low, "high": high, "reason": "r"},
             "status": "A", "provisional": True, "source": "S"}  # fmt: skip
    inside = low <= value <= high
    if inside:
        p = parse_set({"schema": "x/1", "version": "1", "a": entry}, "t")["a"]
        assert p.range is not None
        assert p.range.low <= p.value <= p.range.high  # type: ignore[operator]
    else:
        with pytest.raises(ValueError, match="outside its range"):
            parse_set({"schema": "x/1", "version": "1", "a": entry}, "t")
