"""Plausible ranges of assumed values: the schema, its validation, and that every assumed value
the default trial reads has one (so the next assumption added without a range fails here)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError as PydanticValidationError

from openvns.parameters import ParameterRange, Provenance, load_set, parse_set
from openvns.parameters.ranges import without_ranges
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
    with pytest.raises(ValueError, match=r"not a group.*ranges: \{member"):
        parse_set(text, "t")


def _group(ranges: str, members: str = "mean: 6.0, sd: 1.5, min: 1.0, max: 12.0") -> str:
    return (
        'schema: x/1\nversion: "1"\n'
        f"g:\n  diameter_um: {{{members}, ranges: {ranges}, status: A, provisional: true, "
        "source: S}\n"
    )


def test_a_group_entry_ranges_each_member_it_names() -> None:
    s = parse_set(
        _group(
            '{mean: {low: 4.0, high: 8.0, reason: "mean r"}, '
            'max: {low: 10, high: 14, reason: "max r", unit: µm}}'
        ),
        "t",
    )
    mean, mx = s["g.diameter_um.mean"].range, s["g.diameter_um.max"].range
    assert mean == ParameterRange(low=4.0, high=8.0, reason="mean r")
    assert mx == ParameterRange(low=10.0, high=14.0, reason="max r")
    # members left out have none; the values, units and provenance are unchanged
    assert s["g.diameter_um.sd"].range is None
    assert s["g.diameter_um.min"].range is None
    assert [p.value for p in s] == [6.0, 1.5, 1.0, 12.0]
    assert {p.unit for p in s} == {"µm"}
    assert {p.status for p in s} == {"A"}
    assert len(s.ranged()) == 2
    assert s["g.diameter_um.mean"].row()["range"] == "4–8"


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        (
            '{median: {low: 4, high: 8, reason: "r"}}',
            r"g\.diameter_um: ranges\.median: no such member",
        ),
        ('{status: {low: 4, high: 8, reason: "r"}}', "ranges.status: no such member"),
        (
            '{mean: {low: 7, high: 8, reason: "r"}}',
            r"g\.diameter_um\.mean: value 6\.0 lies outside",
        ),
        (
            '{max: {low: 1, high: 11, reason: "r"}}',
            r"g\.diameter_um\.max: value 12\.0 lies outside",
        ),
        (
            '{mean: {low: 8, high: 4, reason: "r"}}',
            "g.diameter_um.mean: range low = 8.0 must be below",
        ),
        ("{mean: {low: 4, high: 8}}", "g.diameter_um.mean: range needs reason"),
        ('{mean: {low: 4, high: 8, reason: "r", unit: mA}}', "unit 'µm'"),
        ("{mean: [4, 8]}", "g.diameter_um.mean: range must be a mapping"),
        ("[mean]", "g.diameter_um: ranges must map member names"),
        ("{}", "g.diameter_um: ranges must map member names"),
    ],
)
def test_bad_member_ranges_name_the_entry(ranges: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_set(_group(ranges), "t")


def test_a_member_that_is_not_a_number_has_no_range() -> None:
    text = _group('{model: {low: 1, high: 2, reason: "r"}}', members="model: MRG, n: 3")
    with pytest.raises(ValueError, match=r"g\.diameter_um\.model: only a number can have a range"):
        parse_set(text, "t")


def test_ranges_on_a_single_value_entry_are_an_error() -> None:
    extra = 'ranges: {value: {low: 1.0, high: 3.0, reason: "r"}}, '
    with pytest.raises(ValueError, match="a_Hz: ranges belong to the members of a group"):
        parse_set(_entry(extra), "t")


def test_ranges_outside_a_sourced_entry_are_an_error() -> None:
    text = 'schema: x/1\nversion: "1"\nblock:\n  ranges: {a: {low: 1, high: 2, reason: r}}\n'
    with pytest.raises(ValueError, match="block: ranges belong to a group entry"):
        parse_set(text, "t")


def _settings(ranges: str) -> str:
    return (
        'schema: x/1\nversion: "1"\nanchor:\n'
        "  settings: {output_current_mA: 1.0, frequency_Hz: 20}\n"
        f"  settings_status: {{status: A, provisional: true, source: S, ranges: {ranges}}}\n"
    )


def test_an_x_status_ranges_the_members_of_its_sibling() -> None:
    s = parse_set(_settings('{frequency_Hz: {low: 15, high: 25, reason: "r"}}'), "t")
    assert s["anchor.settings.frequency_Hz"].range == ParameterRange(low=15, high=25, reason="r")
    assert s["anchor.settings.output_current_mA"].range is None
    assert s.provenance("anchor.settings.frequency_Hz").source == "S"
    with pytest.raises(ValueError, match=r"anchor\.settings_status: ranges\.pulse_width_us"):
        parse_set(_settings('{pulse_width_us: {low: 1, high: 2, reason: "r"}}'), "t")
    with pytest.raises(ValueError, match=r"anchor\.settings\.frequency_Hz: value 20 lies outside"):
        parse_set(_settings('{frequency_Hz: {low: 25, high: 30, reason: "r"}}'), "t")


def test_the_shipped_group_members_carry_their_ranges() -> None:
    pop = load_set("population")
    for name in ("mean", "sd", "min", "max"):
        p = pop[f"groups.cardiac_B.diameter_um.{name}"]
        assert p.range is not None
        assert p.range.low <= p.value <= p.range.high  # type: ignore[operator]
    assert load_set("transcutaneous")["skin_fibres.depth_um.neck.max"].range is not None
    assert load_set("recruitment")["solver.MRG.dt_us"].range is not None
    cat = load_set("catalogue")
    assert cat["generators.1000.parameters.magnet_output_current_mA.step"].range is not None
    assert cat["generators.106.battery.anchors.1.settings.off_time_min"].range is not None
    # ordered pairs of a group do not cross over their ranges
    for s in (pop, load_set("transcutaneous")):
        for p in s:
            if p.name.endswith(".min") and p.range is not None:
                top = s[p.name.removesuffix(".min") + ".max"].range
                assert top is not None, p.name
                assert p.range.high < top.low, p.name


def test_the_catalogue_model_reads_and_checks_member_ranges() -> None:
    from openvns.device import catalogue

    gen = catalogue.generator("1000")
    rs = gen.parameters["magnet_output_current_mA"].ranges
    assert rs is not None
    assert rs["step"].low == 0.125
    assert gen.battery is not None
    assert gen.battery.anchors[0].settings_ranges is not None
    assert type(gen.battery.anchors[0].settings_status) is Provenance
    with pytest.raises(PydanticValidationError, match="outside its range"):
        catalogue.ParameterRange(
            name="x_mA", min=0.0, max=3.5, status="A", provisional=True, source="S",
            ranges={"max": {"low": 1.0, "high": 3.0, "reason": "r"}},
        )  # fmt: skip
    with pytest.raises(PydanticValidationError, match="ranges"):
        catalogue.ParameterRange(
            name="x_mA", min=0.0, max=3.5, status="A", provisional=True, source="S",
            ranges={"median": {"low": 1.0, "high": 3.0, "reason": "r"}},
        )  # fmt: skip


def test_ranges_are_not_inputs_of_the_recruitment_tables() -> None:
    from openvns.nerve import data_files

    raw = data_files.load("recruitment.yaml")
    assert "ranges" in raw["solver"]["MRG"]
    assert "range" in raw["diameter_bin_um"]["MRG"]
    stripped = without_ranges(raw)
    assert "ranges" not in stripped["solver"]["MRG"]
    assert "range" not in stripped["diameter_bin_um"]["MRG"]
    assert stripped["solver"]["MRG"]["dt_us"] == raw["solver"]["MRG"]["dt_us"]
    # only sourced entries lose them: a key of that name elsewhere is data
    assert without_ranges({"range": 1, "a": [{"range": 2, "status": "A"}]}) == {
        "range": 1, "a": [{"status": "A"}]
    }  # fmt: skip


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
