"""openvns.device.settings: frozen settings that refuse meaningless numbers."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError as PydanticValidationError

from openvns.device.settings import (
    FACTORY_SETTINGS,
    TYPICAL_SETTINGS,
    AutoStimSettings,
    MagnetSettings,
    StimulationSettings,
)
from tests.strategies import any_settings

BASE = {
    "output_current_mA": 1.5,
    "frequency_Hz": 20.0,
    "pulse_width_us": 250.0,
    "on_time_s": 30.0,
    "off_time_min": 5.0,
}


@pytest.mark.parametrize("field", sorted(BASE))
@pytest.mark.parametrize(
    "bad", [-1, -0.001, math.nan, math.inf, -math.inf, True, "nan", "-2", "abc"]
)
def test_meaningless_numbers_are_refused_naming_the_field(field: str, bad: object) -> None:
    with pytest.raises(PydanticValidationError) as info:
        StimulationSettings(**{**BASE, field: bad})
    err = info.value.errors()[0]
    assert err["loc"] == (field,)
    if not isinstance(bad, str) or bad != "abc":
        # our own message names field, value and what is allowed
        assert field in str(info.value)
        assert "a finite number ≥ 0" in str(info.value)


def test_mode_settings_are_validated_too() -> None:
    with pytest.raises(PydanticValidationError, match="pulse_width_us"):
        MagnetSettings(output_current_mA=1.0, pulse_width_us=-250.0, on_time_s=30.0)
    with pytest.raises(PydanticValidationError, match="threshold_pct"):
        AutoStimSettings(
            threshold_pct=math.nan, output_current_mA=1.0, pulse_width_us=250.0, on_time_s=30.0
        )


def test_numbers_given_as_text_are_coerced() -> None:
    s = StimulationSettings(**{**BASE, "output_current_mA": "1.25"})
    assert s.output_current_mA == 1.25


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(PydanticValidationError, match="amplitude"):
        StimulationSettings(**BASE, amplitude=3)


def test_settings_are_frozen() -> None:
    with pytest.raises(PydanticValidationError):
        TYPICAL_SETTINGS.output_current_mA = 2.0  # type: ignore[misc]


def test_derived_times() -> None:
    assert TYPICAL_SETTINGS.off_time_s == 300.0
    assert TYPICAL_SETTINGS.period_s == 330.0


def test_with_makes_a_validated_copy() -> None:
    changed = TYPICAL_SETTINGS.with_(output_current_mA=1.75)
    assert changed.output_current_mA == 1.75
    assert TYPICAL_SETTINGS.output_current_mA == 1.5
    assert changed.frequency_Hz == TYPICAL_SETTINGS.frequency_Hz
    with pytest.raises(PydanticValidationError, match="frequency_Hz"):
        TYPICAL_SETTINGS.with_(frequency_Hz=-20)


def test_flat_names_match_the_catalogue() -> None:
    s = TYPICAL_SETTINGS.with_(
        magnet={"output_current_mA": 1.75, "pulse_width_us": 500, "on_time_s": 60},
        autostim={
            "threshold_pct": 40,
            "output_current_mA": 1.625,
            "pulse_width_us": 250,
            "on_time_s": 30,
        },
    )
    flat = s.flat()
    assert flat["magnet_output_current_mA"] == 1.75
    assert flat["magnet_pulse_width_us"] == 500
    assert flat["autostim_threshold_pct"] == 40
    assert flat["heartbeat_sensitivity"] == 3  # documented default
    assert set(TYPICAL_SETTINGS.flat()) == set(BASE)


def test_factory_and_typical_settings() -> None:
    assert FACTORY_SETTINGS.output_current_mA == 0.0
    assert (TYPICAL_SETTINGS.output_current_mA, TYPICAL_SETTINGS.pulse_width_us) == (1.5, 250.0)


@given(any_settings(modes=True))
def test_any_finite_nonnegative_settings_round_trip(s: StimulationSettings) -> None:
    again = StimulationSettings.model_validate(s.model_dump())
    assert again == s
    assert all(math.isfinite(v) and v >= 0 for v in s.flat().values())


@given(st.floats(max_value=-1e-300) | st.sampled_from([math.nan, math.inf]))
def test_any_negative_or_nonfinite_current_is_refused(bad: float) -> None:
    with pytest.raises(PydanticValidationError):
        StimulationSettings(**{**BASE, "output_current_mA": bad})
