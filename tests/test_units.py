"""openvns.units: quantities parsed at the edges into canonical floats."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openvns.errors import ValidationError
from openvns.units import CANONICAL_UNITS, parse_quantity


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        ("1.5mA", "mA", 1.5),
        ("1.5 mA", "mA", 1.5),
        ("1500 uA", "mA", 1.5),
        ("250us", "us", 250.0),
        ("250 µs", "us", 250.0),
        ("250 μs", "us", 250.0),  # Greek mu as well as the micro sign
        ("0.25 ms", "us", 250.0),
        ("5min", "min", 5.0),
        ("0.5 s", "min", 0.5 / 60.0),
        ("30 s", "s", 30.0),
        ("2 h", "min", 120.0),
        ("20Hz", "Hz", 20.0),
        ("3 kohm", "ohm", 3000.0),
        ("3 kΩ", "ohm", 3000.0),
        ("0.0471 cm**2", "cm2", 0.0471),
    ],
)
def test_parse_quantity_converts_to_the_canonical_unit(
    text: str, unit: str, expected: float
) -> None:
    assert parse_quantity(text, unit, field="x") == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("value", [1.5, 2, "1.5", " 7 "])
def test_bare_numbers_are_taken_in_the_target_unit(value: float | str) -> None:
    assert parse_quantity(value, "mA", field="output_current_mA") == float(str(value).strip())


@pytest.mark.parametrize(
    ("text", "unit"),
    [("abc", "mA"), ("5 s", "mA"), ("1.5 mA", "us"), ("", "Hz"), ("mA", "mA"), ("1.5 parsec", "s")],
)
def test_bad_text_names_the_field_value_and_allowed(text: str, unit: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_quantity(text, unit, field="my_field_mA")
    err = info.value
    assert err.field == "my_field_mA"
    assert err.value == text
    assert unit in err.allowed
    assert "my_field_mA" in str(err)


def test_every_canonical_unit_parses_itself() -> None:
    for suffix in CANONICAL_UNITS:
        assert parse_quantity(f"1 {CANONICAL_UNITS[suffix]}", suffix, field=suffix) == 1.0


@given(st.floats(1e-6, 1e6))
def test_round_trip_microseconds_milliseconds(x: float) -> None:
    got = parse_quantity(f"{x!r} ms", "us", field="pulse_width_us")
    assert math.isclose(got, x * 1000.0, rel_tol=1e-12)


@pytest.mark.parametrize(("text", "unit"), [("1,5mA", "mA"), ("2,5 Hz", "Hz"), ("0,25 ms", "ms")])
def test_a_decimal_comma_is_refused_not_misread(text: str, unit: str) -> None:
    """pint reads ``1,5mA`` as 15 mA; every caller (CLI, API, clinic) gets the refusal."""
    with pytest.raises(ValidationError, match="decimal point"):
        parse_quantity(text, unit, field="current")
