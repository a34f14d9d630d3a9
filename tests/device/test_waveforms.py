"""openvns.device.waveforms: charge-balanced pulse shapes sampled for the nerve layer."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError as PydanticValidationError

from openvns.device import catalogue, dose
from openvns.device.catalogue import GeneratorModel
from openvns.device.settings import TYPICAL_SETTINGS, MagnetSettings
from openvns.device.settings import StimulationSettings as S
from openvns.device.waveforms import (
    BALANCE_RTOL,
    PulseShape,
    Recharge,
    Segment,
    WaveformParameters,
    biphasic,
    monophasic,
    pulse_train,
    sine_burst,
    waveform_for,
)
from openvns.errors import ValidationError
from tests.strategies import generators, settings_for

#: |sum(current) dt| relative to the charge of one phase: rounding only.
BALANCE_TOL = 1e-12
RECHARGES: tuple[Recharge, ...] = ("active", "asymmetric", "passive")
DT_FRACTIONS = (1.0, 0.5, 0.37, 0.1, 0.0123)  # of the shortest phase


def sampled_net_charge(shape: PulseShape, dt_us: float, **kw: Any) -> float:
    """``sum(current) * dt`` of a sampled pulse, in mA·µs."""
    _, i = shape.sample(dt_us, **kw)
    return float(np.sum(i) * dt_us)


def phase_charge_mA_us(shape: PulseShape, amplitude_mA: float = 1.0) -> float:
    return shape.charge_per_phase_uC(amplitude_mA) * 1e3


# ------------------------------------------------------------------------ charge balance
@pytest.mark.parametrize("gen_id", sorted(catalogue.default_catalogue().generators))
@pytest.mark.parametrize("fraction", DT_FRACTIONS)
def test_every_catalogue_waveform_is_balanced(gen_id: str, fraction: float) -> None:
    gen = catalogue.generator(gen_id)
    s = _typical_for(gen)
    shape = waveform_for(s, gen)
    assert shape.is_charge_balanced
    q = shape.charge_per_phase_uC(s.output_current_mA)
    assert abs(shape.net_charge_uC(s.output_current_mA)) <= BALANCE_RTOL * q
    dt = shape.shortest_phase_us * fraction
    net = sampled_net_charge(shape, dt, amplitude_mA=s.output_current_mA)
    assert abs(net) <= BALANCE_TOL * phase_charge_mA_us(shape, s.output_current_mA)


def _typical_for(gen: GeneratorModel) -> S:
    if gen.burst is not None:
        return S(
            output_current_mA=20,
            frequency_Hz=25,
            pulse_width_us=1000,
            on_time_s=120,
            off_time_min=60,
        )
    if gen.kind == "transcutaneous_auricular":
        return S(
            output_current_mA=2.0,
            frequency_Hz=25,
            pulse_width_us=250,
            on_time_s=30,
            off_time_min=0.5,
        )
    return TYPICAL_SETTINGS


@pytest.mark.parametrize("recharge", RECHARGES)
@pytest.mark.parametrize("dt_us", [0.1, 1.0, 3.7, 10.0, 49.9, 130.0])
def test_biphasic_samples_balance_for_many_steps(recharge: Recharge, dt_us: float) -> None:
    shape = biphasic(130.0, recharge=recharge)
    assert shape.is_charge_balanced
    net = sampled_net_charge(shape, dt_us, amplitude_mA=3.5, delay_us=17.3)
    assert abs(net) <= BALANCE_TOL * phase_charge_mA_us(shape, 3.5)


@settings(max_examples=200, deadline=None)
@given(
    pw=st.floats(10.0, 2000.0),
    recharge=st.sampled_from(RECHARGES),
    gap=st.floats(0.0, 500.0),
    ratio=st.floats(1.0, 10.0),
    tau=st.floats(50.0, 5000.0),
    fraction=st.floats(0.001, 1.0),
    delay=st.floats(0.0, 1000.0),
    amplitude=st.floats(0.0, 60.0),
)
def test_any_biphasic_pulse_samples_to_a_balanced_array(
    pw: float,
    recharge: Recharge,
    gap: float,
    ratio: float,
    tau: float,
    fraction: float,
    delay: float,
    amplitude: float,
) -> None:
    shape = biphasic(
        pw, recharge=recharge, interphase_gap_us=gap, recharge_ratio=ratio, time_constant_us=tau
    )
    assert shape.is_charge_balanced
    dt = shape.shortest_phase_us * fraction
    net = sampled_net_charge(shape, dt, delay_us=delay, amplitude_mA=amplitude)
    assert abs(net) <= BALANCE_TOL * max(phase_charge_mA_us(shape, amplitude), 1e-300)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_waveform_of_any_selectable_settings_is_balanced(data: st.DataObject) -> None:
    gen = data.draw(generators())
    s = data.draw(settings_for(gen))
    shape = waveform_for(s, gen)
    assert shape.is_charge_balanced
    dt = shape.shortest_phase_us * data.draw(st.floats(0.01, 1.0))
    net = sampled_net_charge(shape, dt, amplitude_mA=s.output_current_mA)
    assert abs(net) <= BALANCE_TOL * max(phase_charge_mA_us(shape, s.output_current_mA), 1e-300)


@settings(max_examples=100, deadline=None)
@given(
    carrier=st.floats(500.0, 20_000.0),
    cycles=st.integers(1, 20),
    fraction=st.floats(0.001, 1.0),
    amplitude=st.floats(0.0, 60.0),
)
def test_any_sine_burst_samples_to_a_balanced_array(
    carrier: float, cycles: int, fraction: float, amplitude: float
) -> None:
    shape = sine_burst(carrier, cycles)
    assert shape.is_charge_balanced
    dt = shape.shortest_phase_us * fraction
    net = sampled_net_charge(shape, dt, amplitude_mA=amplitude)
    assert abs(net) <= BALANCE_TOL * max(phase_charge_mA_us(shape, amplitude), 1e-300)


@settings(max_examples=50, deadline=None)
@given(
    recharge=st.sampled_from(RECHARGES),
    freq=st.floats(1.0, 100.0),
    n=st.integers(1, 6),
    fraction=st.floats(0.05, 1.0),
)
def test_pulse_trains_are_balanced(
    recharge: Recharge, freq: float, n: int, fraction: float
) -> None:
    shape = biphasic(250.0, recharge=recharge)
    dt = shape.shortest_phase_us * fraction
    _, i = pulse_train(shape, freq, n, dt, 1.5)
    assert abs(float(np.sum(i)) * dt) <= n * BALANCE_TOL * phase_charge_mA_us(shape, 1.5)


def test_monophasic_is_not_balanced_and_says_so() -> None:
    shape = monophasic(100.0)
    assert shape.kind == "monophasic"
    assert not shape.is_charge_balanced
    assert shape.net_charge_uC(2.0) == pytest.approx(-0.2)
    assert sampled_net_charge(shape, 7.0, amplitude_mA=2.0) == pytest.approx(-200.0)
    anodic = monophasic(100.0, polarity="anodic")
    assert anodic.net_charge_uC(2.0) == pytest.approx(0.2)


# ------------------------------------------------------------------------------ shapes
def test_active_biphasic_samples_exactly_on_an_aligned_grid() -> None:
    shape = biphasic(250.0, recharge="active", interphase_gap_us=50.0)
    t, i = shape.sample(10.0, amplitude_mA=1.5)
    assert shape.duration_us == 550.0
    assert t.dtype == np.float64
    assert i.dtype == np.float64
    np.testing.assert_allclose(t, np.arange(55) * 10.0)
    expected = np.r_[np.full(25, -1.5), np.zeros(5), np.full(25, 1.5)]
    np.testing.assert_allclose(i, expected, rtol=1e-12, atol=1e-12)


def test_cathodic_phase_comes_first_for_every_shape() -> None:
    for shape in (
        biphasic(250.0, recharge="active"),
        biphasic(250.0, recharge="asymmetric"),
        biphasic(250.0, recharge="passive"),
        sine_burst(5000.0, 5),
        monophasic(250.0),
    ):
        _, i = shape.sample(1.0)
        first = i[np.flatnonzero(np.abs(i) > 1e-9)[0]]
        assert first < 0, shape.kind


def test_asymmetric_recharge_is_longer_and_lower() -> None:
    shape = biphasic(200.0, recharge="asymmetric", interphase_gap_us=0.0, recharge_ratio=4.0)
    _, i = shape.sample(10.0, amplitude_mA=2.0)
    assert shape.duration_us == 1000.0
    assert i.min() == pytest.approx(-2.0)
    assert i.max() == pytest.approx(0.5)
    assert np.count_nonzero(i > 0) == 80
    assert shape.charge_per_phase_uC(2.0) == pytest.approx(0.4)


def test_passive_recharge_is_an_exponential_tail_returning_all_charge() -> None:
    p = WaveformParameters.default()
    shape = biphasic(500.0, recharge="passive", interphase_gap_us=0.0, time_constant_us=1000.0)
    tail = p.passive_tail_time_constants * 1000.0
    assert shape.duration_us == pytest.approx(500.0 + tail)
    t, i = shape.sample(1.0)
    anodic = i[t >= 500.0]
    assert np.all(anodic > 0)
    assert np.all(np.diff(anodic) < 0)  # decays
    # e-fold every time constant
    assert anodic[0] / anodic[1000] == pytest.approx(math.e, rel=1e-3)
    # tail amplitude: pw / (tau (1 - exp(-tail / tau))), well below the cathodic amplitude
    a0 = 500.0 / (1000.0 * -math.expm1(-tail / 1000.0))
    assert anodic[0] == pytest.approx(a0, rel=1e-3)
    assert anodic[0] < 1.0
    assert float(np.sum(anodic)) == pytest.approx(500.0, rel=1e-12)


def test_sine_burst_is_five_5khz_cycles() -> None:
    shape = waveform_for(TYPICAL_SETTINGS, "gammacore-sapphire-cv")
    assert shape.kind == "sine_burst"
    assert shape.duration_us == pytest.approx(1000.0)
    assert shape.phase_width_us == pytest.approx(100.0)
    _, i = shape.sample(1.0, amplitude_mA=10.0)
    signs = np.sign(i[np.abs(i) > 1e-6])
    assert np.count_nonzero(np.diff(signs)) == 9  # ten half-cycles
    assert np.abs(i).max() == pytest.approx(10.0, rel=1e-3)
    assert shape.charge_per_phase_uC(10.0) == pytest.approx(
        dose.sine_charge_per_phase_uC(10.0, 5000)
    )
    # with the onset half a step in, sample k is the mean over [k - 0.5, k + 0.5) µs of the
    # burst: the sine at k to within (w dt)² / 24
    _, i_mid = shape.sample(1.0, delay_us=0.5)
    k = np.arange(1, 1000)
    np.testing.assert_allclose(i_mid[1:1000], -np.sin(2 * np.pi * 5000e-6 * k), atol=1e-4)


def test_samples_preserve_the_charge_of_each_phase_on_any_grid() -> None:
    shape = biphasic(250.0, recharge="active", interphase_gap_us=50.0)
    for dt in (7.0, 13.3, 50.0):
        _, i = shape.sample(dt, amplitude_mA=1.5)
        assert float(np.sum(i[i < 0])) * dt == pytest.approx(-375.0, rel=1e-12)
        assert float(np.sum(i[i > 0])) * dt == pytest.approx(375.0, rel=1e-12)


# ------------------------------------------------------------------------ charge per phase
def test_charge_per_phase_known_value() -> None:
    for recharge in RECHARGES:
        assert biphasic(250.0, recharge=recharge).charge_per_phase_uC(1.5) == pytest.approx(0.375)
    assert monophasic(250.0).charge_per_phase_uC(1.5) == pytest.approx(0.375)


@given(st.sampled_from(sorted(catalogue.default_catalogue().generators)), st.floats(0.0, 3.5))
def test_charge_per_phase_agrees_with_the_safety_check(gen_id: str, current: float) -> None:
    from openvns.device.safety import check

    gen = catalogue.generator(gen_id)
    s = _typical_for(gen).with_(output_current_mA=current)
    shape = waveform_for(s, gen)
    assert shape.charge_per_phase_uC(current) == pytest.approx(
        check(s, gen).normal.charge_per_phase_uC, rel=1e-12, abs=1e-15
    )


@given(st.floats(0.0, 100.0), st.floats(0.0, 100.0))
def test_samples_scale_linearly_with_amplitude(a: float, b: float) -> None:
    shape = biphasic(250.0, recharge="passive")
    _, ia = shape.sample(5.0, amplitude_mA=a)
    _, ib = shape.sample(5.0, amplitude_mA=b)
    _, i1 = shape.sample(5.0)
    np.testing.assert_allclose(ia, a * i1, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(ib, b * i1, rtol=1e-12, atol=1e-300)


# ------------------------------------------------------------------------------ windows
def test_delay_and_duration_shift_and_pad() -> None:
    shape = biphasic(100.0, recharge="active", interphase_gap_us=0.0)
    _, base = shape.sample(10.0)
    t, shifted = shape.sample(10.0, delay_us=50.0, duration_us=1000.0)
    assert len(t) == 100
    np.testing.assert_allclose(shifted[5:25], base)
    assert np.all(shifted[:5] == 0)
    assert np.all(shifted[25:] == 0)


def test_pulse_train_repeats_the_pulse_every_period() -> None:
    shape = biphasic(250.0, recharge="active", interphase_gap_us=50.0)
    t, i = pulse_train(shape, 1000.0, 3, 10.0, 1.5)  # 1 ms period, 100 samples each
    assert len(t) == 300
    one = i[:100]
    np.testing.assert_allclose(i[100:200], one, atol=1e-12)
    np.testing.assert_allclose(i[200:], one, atol=1e-12)
    _, single = shape.sample(10.0, duration_us=1000.0, amplitude_mA=1.5)
    np.testing.assert_allclose(one, single, atol=1e-12)


def test_thirty_hertz_train_of_the_implant() -> None:
    shape = waveform_for(TYPICAL_SETTINGS, "1000")
    t, i = pulse_train(shape, 30.0, 4, 5.0, TYPICAL_SETTINGS.output_current_mA)
    assert t[-1] + 5.0 >= 4 / 30 * 1e6
    before = np.r_[0.0, i[:-1]]
    onsets = np.flatnonzero((i < 0) & (before >= 0))
    np.testing.assert_allclose(t[onsets], np.arange(4) * 1e6 / 30, atol=5.0)


# ------------------------------------------------------------------------ waveform_for
def test_waveform_for_uses_the_configured_recharge() -> None:
    p = WaveformParameters.default()
    implanted = waveform_for(TYPICAL_SETTINGS, "106")
    assert implanted.kind == "biphasic"
    assert implanted.recharge == p.recharge["implanted"]
    assert implanted.phase_width_us == 250.0
    tavns = waveform_for(TYPICAL_SETTINGS, "tavns-auricular")
    assert tavns.recharge == p.recharge["transcutaneous_auricular"]
    active = p.with_(recharge={"implanted": "active", "transcutaneous_auricular": "active"})
    assert waveform_for(TYPICAL_SETTINGS, "106", params=active).recharge == "active"


def test_waveform_for_a_mode_uses_its_pulse_width() -> None:
    s = TYPICAL_SETTINGS.model_copy(
        update={"magnet": MagnetSettings(output_current_mA=2.0, pulse_width_us=500, on_time_s=60)}
    )
    assert waveform_for(s, "105", mode="magnet").phase_width_us == 500.0
    with pytest.raises(ValidationError) as info:
        waveform_for(TYPICAL_SETTINGS, "105", mode="magnet")
    assert info.value.field == "magnet"
    with pytest.raises(ValidationError) as info2:
        waveform_for(TYPICAL_SETTINGS, "105", mode="sideways")  # type: ignore[arg-type]
    assert info2.value.field == "mode"


def test_waveform_for_a_kind_without_recharge_is_refused() -> None:
    p = WaveformParameters.default().with_(recharge={})
    with pytest.raises(ValidationError) as info:
        waveform_for(TYPICAL_SETTINGS, "1000", params=p)
    assert (info.value.field, info.value.value) == ("generator", "1000")


# ------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: biphasic(-250.0), "pulse_width_us"),
        (lambda: biphasic(0.0), "pulse_width_us"),
        (lambda: biphasic(math.nan), "pulse_width_us"),
        (lambda: biphasic(math.inf), "pulse_width_us"),
        (lambda: biphasic(250.0, interphase_gap_us=-1.0), "interphase_gap_us"),
        (lambda: biphasic(250.0, recharge="asymmetric", recharge_ratio=0.5), "recharge_ratio"),
        (lambda: biphasic(250.0, recharge="passive", time_constant_us=0.0), "time_constant_us"),
        (lambda: biphasic(250.0, recharge="capacitive"), "recharge"),  # type: ignore[arg-type]
        (lambda: monophasic(-1.0), "pulse_width_us"),
        (lambda: monophasic(1.0, polarity="up"), "polarity"),  # type: ignore[arg-type]
        (lambda: sine_burst(0.0, 5), "carrier_frequency_Hz"),
        (lambda: sine_burst(5000.0, 0), "cycles"),
        (lambda: sine_burst(5000.0, 2.5), "cycles"),  # type: ignore[arg-type]
        (lambda: biphasic(250.0).sample(0.0), "dt_us"),
        (lambda: biphasic(250.0).sample(-1.0), "dt_us"),
        (lambda: biphasic(250.0).sample(math.nan), "dt_us"),
        (lambda: biphasic(250.0).sample(math.inf), "dt_us"),
        (lambda: biphasic(250.0).sample(251.0), "dt_us"),  # longer than the phase
        (lambda: sine_burst(5000.0, 5).sample(101.0), "dt_us"),  # longer than a half-cycle
        (lambda: biphasic(250.0).sample(1e-9), "dt_us"),  # too many samples
        (lambda: biphasic(250.0).sample(5e-324), "dt_us"),
        (lambda: pulse_train(biphasic(250.0), 20.0, 10**9, 1.0), "n_pulses"),
        (lambda: pulse_train(biphasic(250.0), 20.0, 2, 0.0), "dt_us"),
        (lambda: biphasic(250.0).sample(1.0, delay_us=-1.0), "delay_us"),
        (lambda: biphasic(250.0).sample(1.0, amplitude_mA=-1.0), "amplitude_mA"),
        (lambda: biphasic(250.0).sample(1.0, amplitude_mA=math.nan), "amplitude_mA"),
        (lambda: biphasic(250.0, recharge="active").sample(1.0, duration_us=400.0), "duration_us"),
        (lambda: pulse_train(biphasic(250.0), 0.0, 3, 1.0), "frequency_Hz"),
        (lambda: pulse_train(biphasic(250.0, recharge="passive"), 1000.0, 3, 1.0), "frequency_Hz"),
        (lambda: pulse_train(biphasic(250.0), 20.0, 0, 1.0), "n_pulses"),
        (lambda: pulse_train(biphasic(250.0), 20.0, True, 1.0), "n_pulses"),
        (lambda: pulse_train(biphasic(250.0), 20.0, 2, 1.0, delay_us=math.inf), "delay_us"),
        (lambda: biphasic(250.0).charge_per_phase_uC(math.nan), "amplitude_mA"),
        (lambda: PulseShape("biphasic", ()), "segments"),
        (lambda: PulseShape("monophasic", (Segment(0.0, -1.0, -1.0),)), "duration_us"),
    ],
)
def test_bad_input_names_field_value_and_allowed(call: Any, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        call()
    err = info.value
    assert err.field == field
    assert err.allowed
    assert field in str(err)


def test_parameters_are_documented_assumptions() -> None:
    p = WaveformParameters.default()
    assert p.interphase_gap_us >= 0
    assert p.asymmetric_recharge_ratio >= 1
    # the whole passive pulse fits in the shortest implanted interpulse interval (30 Hz)
    longest = biphasic(1000.0, recharge="passive")
    assert longest.duration_us < 1e6 / 30
    with pytest.raises(PydanticValidationError):
        p.with_(asymmetric_recharge_ratio=0.5)
    with pytest.raises(PydanticValidationError):
        p.with_(passive_time_constant_us=-1.0)


def test_data_file_marks_every_value_provisional_with_a_source() -> None:
    from importlib import resources

    import yaml

    raw = yaml.safe_load(
        resources.files("openvns.device").joinpath("data/waveforms.yaml").read_text("utf-8")
    )
    entries = [raw[k] for k in WaveformParameters.model_fields if k != "recharge"]
    entries += list(raw["recharge"].values())
    for entry in entries:
        assert entry["status"] == "A"
        assert entry["provisional"] is True
        assert len(entry["source"]) > 20
