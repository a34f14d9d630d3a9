"""Protocol text round-trips, parse errors and the safety check."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openvns.device.catalogue import generator
from openvns.device.safety import UnsafeSettingsError
from openvns.errors import ValidationError
from openvns.protocol import ConstantCurrent, Protocol, ProtocolSyntaxError, Stimulation, Titration
from tests.strategies import selectable_values

EXAMPLE = (
    "titrate from 0.25 mA by 0.25 mA every 14 days to tolerance, max 2.0 mA; "
    "20 Hz; 250 us; 30 s on / 5 min off"
)
GEN = generator("1000")
P = GEN.parameters


@st.composite
def protocols(draw: st.DrawFn) -> Protocol:
    stim = Stimulation(
        frequency_Hz=draw(selectable_values(P["frequency_Hz"])),
        pulse_width_us=draw(selectable_values(P["pulse_width_us"])),
        on_time_s=draw(selectable_values(P["on_time_s"])),
        off_time_min=draw(selectable_values(P["off_time_min"])),
        hours_per_day=draw(st.sampled_from([24.0, 12.0, 4.0, 0.5, 1.25])),
    )
    currents = st.floats(0.0, 3.5, allow_nan=False)
    if draw(st.booleans()):
        plan: ConstantCurrent | Titration = ConstantCurrent(current_mA=draw(currents))
    else:
        start = draw(currents)
        plan = Titration(
            start_mA=start,
            step_mA=draw(st.floats(0.001, 1.0)),
            interval_days=draw(st.integers(1, 60)),
            max_mA=draw(st.floats(start, 3.5)),
            rule=draw(st.sampled_from(["fixed", "tolerance", "device"])),
        )
    days = st.integers(0, 400)
    return Protocol(
        current=plan,
        stimulation=stim,
        baseline_days=draw(days),
        blinded_days=draw(days),
        open_label_days=draw(days),
    )


@given(protocols())
def test_parse_of_str_is_identity(p: Protocol) -> None:
    assert Protocol.parse(str(p)) == p


@given(protocols())
def test_str_of_parse_of_canonical_text_is_identity(p: Protocol) -> None:
    s = str(p)
    assert str(Protocol.parse(s)) == s


@pytest.mark.parametrize(
    "text",
    [
        EXAMPLE,
        "titrate from 0.25 mA by 0.25 mA every 14 days to 1.5 mA; 20 Hz; 250 us; "
        "30 s on / 5 min off",
        "titrate from 0.25 mA by 0.25 mA every 7 days to 1.75 mA, device-scheduled; 30 Hz; "
        "500 us; 30 s on / 3 min off",
        "titrate from 0.25 mA by 0.25 mA every 1 day to 1.0 mA; 10 Hz; 130 us; "
        "7 s on / 0.2 min off",
        "0.0 mA; 20 Hz; 250 us; 30 s on / 5 min off; baseline 28 days; blinded 84 days; "
        "open-label 281 days",
        "2.0 mA; 25 Hz; 250 us; 30 s on / 0.5 min off; 4 h per day",
    ],
)
def test_canonical_examples_round_trip(text: str) -> None:
    assert str(Protocol.parse(text)) == text


def test_example_fields() -> None:
    p = Protocol.parse(EXAMPLE)
    assert p.current == Titration(
        start_mA=0.25, step_mA=0.25, interval_days=14, max_mA=2.0, rule="tolerance"
    )
    assert p.stimulation == Stimulation(
        frequency_Hz=20, pulse_width_us=250, on_time_s=30, off_time_min=5
    )
    assert p.final_settings.output_current_mA == 2.0
    assert p.step_currents_mA() == (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)


def test_other_units_and_order_are_accepted_and_printed_canonically() -> None:
    p = Protocol.parse("300 s on / 300 s off;  0.25 ms; 20 Hz; 1500 uA; baseline 1 day")
    assert str(p) == "1.5 mA; 20 Hz; 250 us; 300 s on / 5 min off; baseline 1 days"
    assert Protocol.parse(str(p)) == p


@pytest.mark.parametrize(
    ("text", "clause"),
    [
        ("1.5 mA; 20 Hz; 250 us", "duty cycle"),
        ("1.5 mA; 1.0 mA; 20 Hz; 250 us; 30 s on / 5 min off", "current"),
        ("1.5 mA; 20 Hz; 250 us; 30 s on / 5 min off; weekly", "unknown"),
        (
            "titrate from 0.25 mA by 0.25 mA to 2 mA; 20 Hz; 250 us; 30 s on / 5 min off",
            "titration",
        ),
        (
            "titrate from 0.25 mA by 0.25 mA every 14 days to comfort; 20 Hz; 250 us; "
            "30 s on / 5 min off",
            "titration stop rule",
        ),
        ("1.5 mA; 20 Hz; 250 us; 30 s on / 5 kg off", "duty cycle"),
        ("1.5 mA;; 20 Hz; 250 us; 30 s on / 5 min off", "empty"),
        ("1.5 mA; 20 Hz; 250 us; 30 s on / 5 min off; baseline 2 days; baseline 3 days", "phase"),
    ],
)
def test_parse_errors_name_clause_text_and_allowed(text: str, clause: str) -> None:
    with pytest.raises(ProtocolSyntaxError) as err:
        Protocol.parse(text)
    assert err.value.clause == clause
    assert err.value.text in text
    assert err.value.allowed
    assert clause in str(err.value)


def test_invalid_titration_values() -> None:
    with pytest.raises(ValidationError, match="step_mA"):
        Protocol.parse(
            "titrate from 0.25 mA by 0 mA every 14 days to 2.0 mA; 20 Hz; 250 us; "
            "30 s on / 5 min off"
        )
    with pytest.raises(ValidationError, match="max_mA"):
        Protocol.parse(
            "titrate from 1.0 mA by 0.25 mA every 14 days to 0.5 mA; 20 Hz; 250 us; "
            "30 s on / 5 min off"
        )


def test_safe_protocol_passes_the_check() -> None:
    assert Protocol.parse(EXAMPLE).require_safe("1000").ok


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("5.0 mA; 20 Hz; 250 us; 30 s on / 5 min off", "output_current_mA"),
        ("1.0 mA; 40 Hz; 250 us; 30 s on / 5 min off", "frequency_Hz"),
        (
            "titrate from 0.3 mA by 0.3 mA every 14 days to 1.5 mA; 20 Hz; 250 us; "
            "30 s on / 5 min off",
            "output_current_mA",
        ),
    ],
)
def test_unsafe_protocol_is_refused_with_the_checks_errors(text: str, field: str) -> None:
    p = Protocol.parse(text)
    report = p.check("102")
    assert not report.ok
    assert field in {i.field for i in report.errors}
    with pytest.raises(UnsafeSettingsError) as err:
        p.require_safe("102")
    assert err.value.report == report


def test_hours_per_day_default_to_24_and_are_checked() -> None:
    p = Protocol.parse("1.0 mA; 20 Hz; 250 us; 30 s on / 5 min off; 12 hours a day")
    assert p.stimulation.hours_per_day == 12.0
    assert str(p).endswith("; 12 h per day")
    assert Protocol.parse(EXAMPLE).stimulation.hours_per_day == 24.0  # not written at 24
    for bad in ("0 h per day", "25 h per day"):
        with pytest.raises(ValidationError, match="hours_per_day"):
            Protocol.parse(f"1.0 mA; 20 Hz; 250 us; 30 s on / 5 min off; {bad}")
    with pytest.raises(ProtocolSyntaxError, match="hours"):
        Protocol.parse("1.0 mA; 20 Hz; 250 us; 30 s on / 5 min off; 4 h per day; 6 h per day")
