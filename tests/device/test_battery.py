"""openvns.device.battery: drain, indicators and longevity calibrated to S8."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvns.device import catalogue
from openvns.device.battery import SECONDS_PER_YEAR, BatteryModel, delivered_power_W
from openvns.device.settings import StimulationSettings as S
from openvns.errors import ValidationError
from tests.strategies import cycling_settings

IMPLANTED = ["102", "103", "105", "106", "1000"]
Z = 3000.0
RAMP = 2.0
LOW = S(output_current_mA=1.0, frequency_Hz=20, pulse_width_us=250, on_time_s=30, off_time_min=5)
BATTERY = BatteryModel.for_generator(catalogue.generator("103"))
HIGH = S(output_current_mA=2.0, frequency_Hz=30, pulse_width_us=500, on_time_s=30, off_time_min=3)


@pytest.fixture(scope="module")
def model() -> BatteryModel:
    return BatteryModel.for_generator(catalogue.generator("1000"))


def years(m: BatteryModel, s: S, z: float = Z) -> float:
    return m.longevity_years(s, z, ramp_s=RAMP)


@pytest.mark.parametrize("gen_id", IMPLANTED)
def test_anchors_reproduce_the_labelled_longevity(gen_id: str) -> None:
    m = BatteryModel.for_generator(catalogue.generator(gen_id))
    assert years(m, LOW) == pytest.approx(8.0, rel=1e-9)  # S8 "8 years at a lower setting"
    assert years(m, HIGH) == pytest.approx(3.0, rel=1e-9)  # S8 "3 years at a higher setting"


def test_calibration_is_physically_sensible(model: BatteryModel) -> None:
    assert model.quiescent_power_W > 0
    assert model.usable_energy_J > 0
    assert model.total_energy_J == pytest.approx(model.usable_energy_J / 0.98)
    assert 0 < model.quiescent_current_uA < 100
    # output off: the quiescent drain alone sets the longest possible life
    off = LOW.with_(output_current_mA=0.0)
    assert years(model, off) == pytest.approx(
        model.usable_energy_J / model.quiescent_power_W / SECONDS_PER_YEAR
    )
    assert years(model, off) > years(model, LOW)


def test_delivered_power_formula() -> None:
    continuous = LOW.with_(off_time_min=0.0)
    # I² Z PW f = (1 mA)² · 3000 Ω · 250 µs · 20 Hz
    assert delivered_power_W(continuous, Z, ramp_s=RAMP) == pytest.approx(1e-6 * 3000 * 250e-6 * 20)
    # cycling: weighted by ∫a² dt over the period, 30 s + 2·(2/3) s of 330 s
    cyc = delivered_power_W(LOW, Z, ramp_s=RAMP)
    assert cyc == pytest.approx(1.5e-5 * (30 + 4 / 3) / 330)
    assert delivered_power_W(LOW.with_(frequency_Hz=0), Z, ramp_s=RAMP) == 0.0


FACTORS = st.floats(1.01, 3.0)


def _monotone(m: BatteryModel, s: S, field: str, factor: float, *, decreasing: bool) -> None:
    bigger = s.with_(**{field: getattr(s, field) * factor})
    if decreasing:
        assert years(m, bigger) < years(m, s)
    else:
        assert years(m, bigger) > years(m, s)


@settings(max_examples=60, deadline=None)
@given(cycling_settings(), FACTORS)
def test_longevity_falls_with_current(s: S, k: float) -> None:
    _monotone(BATTERY, s, "output_current_mA", k, decreasing=True)


@settings(max_examples=60, deadline=None)
@given(cycling_settings(), FACTORS)
def test_longevity_falls_with_pulse_width(s: S, k: float) -> None:
    _monotone(BATTERY, s, "pulse_width_us", k, decreasing=True)


@settings(max_examples=60, deadline=None)
@given(cycling_settings(), FACTORS)
def test_longevity_falls_with_frequency(s: S, k: float) -> None:
    _monotone(BATTERY, s, "frequency_Hz", k, decreasing=True)


@settings(max_examples=60, deadline=None)
@given(cycling_settings(), FACTORS)
def test_longevity_falls_with_duty_cycle(s: S, k: float) -> None:
    m = BATTERY
    _monotone(m, s, "on_time_s", k, decreasing=True)  # longer ON: higher duty
    _monotone(m, s, "off_time_min", k, decreasing=False)  # longer OFF: lower duty


@settings(max_examples=60, deadline=None)
@given(cycling_settings(), st.floats(200.0, 10_000.0), FACTORS)
def test_longevity_falls_with_impedance(s: S, z: float, k: float) -> None:
    m = BATTERY
    assert years(m, s, z * k) < years(m, s, z)


@pytest.mark.parametrize(
    ("percent", "indicator"),
    [
        (100.0, "OK"),
        (25.01, "OK"),
        (25.0, "IFI"),
        (12.01, "IFI"),
        (12.0, "NEOS"),
        (2.01, "NEOS"),
        (2.0, "EOS"),
        (0.0, "EOS"),
    ],
)
def test_indicators_at_their_thresholds(
    model: BatteryModel, percent: float, indicator: str
) -> None:
    assert model.indicator(percent) == indicator


def test_thresholds_come_from_the_catalogue(model: BatteryModel) -> None:
    spec = catalogue.generator("1000").battery
    assert spec is not None
    assert model.ifi_percent == spec.ifi_percent.value
    assert model.neos_percent == spec.neos_percent.value
    assert model.eos_percent == spec.eos_percent.value
    assert model.eos_percent < model.neos_percent < model.ifi_percent


def test_percent_and_drain(model: BatteryModel) -> None:
    assert model.percent(0.0) == 100.0
    assert model.percent(model.total_energy_J / 2) == pytest.approx(50.0)
    assert model.percent(2 * model.total_energy_J) == 0.0
    assert model.drain_J(1.0, 0.0) == pytest.approx(1.0 / model.output_efficiency)
    assert model.drain_J(0.0, 10.0) == pytest.approx(10.0 * model.quiescent_power_W)
    # running at constant settings for the whole longevity reaches EOS exactly
    t = years(model, LOW) * SECONDS_PER_YEAR
    used = model.power_W(LOW, Z, ramp_s=RAMP) * t
    assert model.percent(used) == pytest.approx(model.eos_percent)
    assert model.indicator(model.percent(used) - 1e-9) == "EOS"


def test_longevity_from_a_partly_used_battery(model: BatteryModel) -> None:
    full = years(model, LOW)
    half = model.longevity_years(LOW, Z, ramp_s=RAMP, from_percent=50.0)
    assert half == pytest.approx(full * 48 / 98)
    assert model.longevity_years(LOW, Z, ramp_s=RAMP, from_percent=1.0) == 0.0


def test_devices_without_battery_model_are_refused() -> None:
    with pytest.raises(ValidationError) as info:
        BatteryModel.for_generator(catalogue.generator("gammacore-sapphire-cv"))
    assert (info.value.field, info.value.value) == ("generator", "gammacore-sapphire-cv")


def test_inconsistent_anchors_are_refused() -> None:
    spec = catalogue.generator("1000").battery
    assert spec is not None
    # the same settings now claim 3 years at low and 8 at high power: impossible
    lo, hi = spec.anchors
    bad = spec.model_copy(
        update={
            "anchors": (
                lo.model_copy(update={"years": hi.years}),
                hi.model_copy(update={"years": lo.years}),
            )
        }
    )
    with pytest.raises(ValueError, match="inconsistent"):
        BatteryModel.from_spec(bad, ramp_s=RAMP)
    same = spec.model_copy(update={"anchors": (lo, lo)})
    with pytest.raises(ValueError, match="different"):
        BatteryModel.from_spec(same, ramp_s=RAMP)
