"""openvns.device.dose: duty cycle, charge, Shannon k and envelope integrals."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from openvns.device import catalogue, dose

A2 = catalogue.lead("2mm").contact_area_cm2
A3 = catalogue.lead("3mm").contact_area_cm2
assert A2 is not None
assert A3 is not None

on_times = st.floats(0.0, 600.0)
off_times = st.floats(0.0, 600.0)
ramps = st.sampled_from([0.0, 0.5, 2.0])


# --------------------------------------------------------------------------- duty cycle
def test_duty_cycle_known_values() -> None:
    assert dose.duty_cycle(30, 5, ramp_s=2) == pytest.approx(34 / 330)
    assert round(100 * dose.duty_cycle(30, 5, ramp_s=2), 2) == 10.30
    assert round(100 * dose.duty_cycle(30, 3, ramp_s=2), 1) == 16.2  # reference §1.2
    assert dose.duty_cycle(30, 3) == pytest.approx(30 / 210)  # DeGiorgio quotes 14 % (no ramps)
    assert dose.duty_cycle(7, 0.3) == pytest.approx(7 / 25)  # 7 s / 18 s: 28 % (S67)
    assert dose.duty_cycle(30, 0.5) == pytest.approx(0.5)  # 30 s / 30 s: 50 % (S67)


def test_duty_cycle_edge_cases() -> None:
    assert dose.duty_cycle(30, 0) == 1.0  # continuous
    assert dose.duty_cycle(30, 0, ramp_s=2) == 1.0  # capped at 1
    assert dose.duty_cycle(0, 5, ramp_s=2) == 0.0  # no train, no ramps
    assert dose.duty_cycle(0, 0) == 0.0


@given(on_times, on_times, off_times, ramps)
def test_duty_cycle_increases_with_on_time(on1: float, on2: float, off: float, r: float) -> None:
    lo, hi = sorted((on1, on2))
    d_lo, d_hi = dose.duty_cycle(lo, off, r), dose.duty_cycle(hi, off, r)
    assert d_lo <= d_hi + 1e-15
    # strictly, where the ramps fit in the OFF time and the difference is resolvable
    if lo > 0 and hi - lo > 0.01 and off * 60 - 2 * r > 0.01 and d_hi < 1:
        assert d_lo < d_hi


@given(on_times, off_times, off_times, ramps)
def test_duty_cycle_decreases_with_off_time(on: float, off1: float, off2: float, r: float) -> None:
    lo, hi = sorted((off1, off2))
    d_lo, d_hi = dose.duty_cycle(on, lo, r), dose.duty_cycle(on, hi, r)
    assert d_hi <= d_lo + 1e-15
    if on > 1e-6 and hi - lo > 1e-6 and d_lo < 1:
        assert d_hi < d_lo


@given(on_times, off_times, ramps)
def test_duty_cycle_is_a_fraction_and_ramps_only_add(on: float, off: float, r: float) -> None:
    d = dose.duty_cycle(on, off, r)
    assert 0.0 <= d <= 1.0
    assert dose.duty_cycle(on, off, 0.0) <= d + 1e-15


# -------------------------------------------------------------------------------- charge
def test_charge_per_phase_known_value() -> None:
    assert dose.charge_per_phase_uC(1.5, 250) == pytest.approx(0.375)
    assert dose.charge_per_phase_uC(0.0, 250) == 0.0


def test_sine_charge_per_phase_is_peak_over_pi_f() -> None:
    # half-cycle of 1 mA at 5 kHz: 1e-3 A / (pi 5000 Hz) = 63.66 nC
    assert dose.sine_charge_per_phase_uC(1.0, 5000) == pytest.approx(1e-3 / (math.pi * 5000) * 1e6)


@pytest.mark.parametrize(
    ("lead", "current_mA", "pw_us", "q", "d", "k"),
    [
        # reference §3.1 charge table, 2 mm lead (Q µC / D µC/cm² / k)
        ("2mm", 0.5, 130, 0.07, 1.4, -1.05),
        ("2mm", 1.5, 250, 0.38, 8.0, 0.47),
        ("2mm", 1.0, 500, 0.50, 10.6, 0.72),
        ("2mm", 2.5, 500, 1.25, 26.5, 1.52),
        ("2mm", 2.5, 750, 1.88, 39.8, 1.87),
        ("2mm", 2.0, 1000, 2.00, 42.4, 1.93),
        ("2mm", 3.5, 1000, 3.50, 74.3, 2.41),
    ],
)
def test_reference_charge_table(
    lead: str, current_mA: float, pw_us: float, q: float, d: float, k: float
) -> None:
    area = catalogue.lead(lead).contact_area_cm2
    assert area is not None
    got_q = dose.charge_per_phase_uC(current_mA, pw_us)
    got_d = dose.charge_density_uC_per_cm2(got_q, area)
    assert got_q == pytest.approx(q, abs=0.0051)
    assert got_d == pytest.approx(d, abs=0.051)
    assert dose.shannon_k(got_q, got_d) == pytest.approx(k, abs=0.0051)


@pytest.mark.parametrize(
    ("k", "pw_us", "area", "limit_mA"),
    [
        (1.85, 500, A2, 3.65),
        (1.85, 750, A2, 2.44),
        (1.85, 1000, A2, 1.83),
        (1.85, 500, A3, 4.47),
        (1.85, 750, A3, 2.98),
        (1.85, 1000, A3, 2.24),
        (1.5, 250, A2, 4.88),
        (1.5, 500, A2, 2.44),
        (1.5, 750, A2, 1.63),
        (1.5, 1000, A2, 1.22),
        (1.5, 500, A3, 2.99),
        (1.5, 750, A3, 1.99),
        (1.5, 1000, A3, 1.50),
    ],
)
def test_reference_current_limits(k: float, pw_us: float, area: float, limit_mA: float) -> None:
    assert dose.max_current_for_k_mA(k, pw_us, area) == pytest.approx(limit_mA, abs=0.0051)


@pytest.mark.parametrize(("pw_us", "limit_mA"), [(500, 2.83), (1000, 1.41)])
def test_reference_30_uC_per_cm2_limits(pw_us: float, limit_mA: float) -> None:
    i_30 = 30.0 * A2 / (pw_us * 1e-3)  # current that gives 30 µC/cm² per phase
    assert i_30 == pytest.approx(limit_mA, abs=0.0051)
    q = dose.charge_per_phase_uC(i_30, pw_us)
    assert dose.charge_density_uC_per_cm2(q, A2) == pytest.approx(30.0)


def test_shannon_k_of_no_charge_is_minus_infinity() -> None:
    assert dose.shannon_k(0.0, 0.0) == -math.inf


@pytest.mark.parametrize("pw_us", [0.0, 5e-324])
def test_current_limit_is_unbounded_for_a_pulse_without_charge(pw_us: float) -> None:
    # regression: a subnormal pulse width used to raise ZeroDivisionError inside check()
    assert dose.max_current_for_k_mA(1.85, pw_us, A2) == math.inf


@given(st.floats(-2.0, 3.0), st.floats(50.0, 2000.0), st.floats(0.001, 1.0))
def test_max_current_gives_exactly_k(k: float, pw_us: float, area: float) -> None:
    i = dose.max_current_for_k_mA(k, pw_us, area)
    q = dose.charge_per_phase_uC(i, pw_us)
    assert dose.shannon_k(q, dose.charge_density_uC_per_cm2(q, area)) == pytest.approx(k, abs=1e-9)


@given(st.floats(0.01, 5.0), st.floats(0.01, 5.0), st.floats(10.0, 1000.0))
def test_k_increases_with_current(i1: float, i2: float, pw_us: float) -> None:
    assume(abs(i1 - i2) > 1e-6)
    lo, hi = sorted((i1, i2))

    def k(i: float) -> float:
        q = dose.charge_per_phase_uC(i, pw_us)
        return dose.shannon_k(q, dose.charge_density_uC_per_cm2(q, A2))

    assert k(lo) < k(hi)


# ----------------------------------------------------------------------- cycle integrals
def test_integrals_of_one_cycle() -> None:
    c = dose.cycle_integrals(30, 5, 2, 0.0, 330.0)
    assert c.active_s == pytest.approx(34.0)
    assert c.amplitude_s == pytest.approx(32.0)  # two linear ramps count half
    assert c.amplitude_sq_s == pytest.approx(30.0 + 2 * 2 / 3)
    assert c.trains == 1


def test_reference_daily_dose_formula() -> None:
    # reference §1.3: 1.5 mA x 250 µs x 30 Hz, 30 s / 5 min -> 261.8 cycles/day,
    # 235 636 pulses/day and 0.088 C/day counting the 30 s ON only.
    per_day = dose.trains_per_day(30, 5)
    assert per_day == pytest.approx(261.8, abs=0.05)
    plateau = dose.cycle_integrals(30, 5, 0.0, 0.0, 330.0)  # one cycle, ramps not counted
    assert per_day * plateau.active_s * 30 == pytest.approx(235_636, abs=1)
    coulombs = per_day * plateau.amplitude_s * 30 * dose.charge_per_phase_uC(1.5, 250) * 1e-6
    assert coulombs == pytest.approx(0.088, abs=0.0005)
    # A calendar day [0, 86 400 s) holds 262 train starts (the last at 86 130 s), not 261.8.
    day = dose.cycle_integrals(30, 5, 0.0, 0.0, dose.SECONDS_PER_DAY)
    assert day.trains == 262
    assert day.active_s == 262 * 30


@pytest.mark.parametrize("n", [1, 3, 7, 1000])
def test_window_of_whole_periods_counts_each_train_once(n: int) -> None:
    # regression: float rounding of n * period used to count the train starting at the end
    on, off = 1.0, 3.6783412460179505
    period = on + 60 * off
    assert dose.cycle_integrals(on, off, 0.0, 0.0, n * period).trains == n
    assert dose.cycle_integrals(on, off, 2.0, period, (n + 1) * period).trains == n


def test_continuous_stimulation_integrals() -> None:
    c = dose.cycle_integrals(30, 0, 2, 10.0, 70.0)
    assert (c.active_s, c.amplitude_s, c.amplitude_sq_s) == (60.0, 60.0, 60.0)
    assert dose.trains_per_day(30, 0) == 0.0


def test_empty_windows() -> None:
    assert dose.cycle_integrals(30, 5, 2, 10.0, 10.0).active_s == 0.0
    assert dose.cycle_integrals(0, 5, 2, 0.0, 1000.0).trains == 0.0


@settings(max_examples=200)
@given(
    st.floats(1.0, 120.0),
    st.floats(0.2, 30.0),
    ramps,
    st.floats(-1e4, 1e4),
    st.floats(0.0, 5e3),
    st.floats(0.0, 5e3),
    st.floats(-500.0, 500.0),
)
def test_cycle_integrals_are_additive(
    on: float, off: float, r: float, a: float, d1: float, d2: float, phase: float
) -> None:
    b, c = a + d1, a + d1 + d2
    whole = dose.cycle_integrals(on, off, r, a, c, phase_s=phase)
    parts = dose.cycle_integrals(on, off, r, a, b, phase_s=phase) + dose.cycle_integrals(
        on, off, r, b, c, phase_s=phase
    )
    for name in ("active_s", "amplitude_s", "amplitude_sq_s", "trains"):
        assert getattr(parts, name) == pytest.approx(getattr(whole, name), rel=1e-9, abs=1e-6)


@given(st.floats(1.0, 120.0), st.floats(0.2, 30.0), ramps, st.integers(1, 50))
def test_whole_periods_scale_linearly(on: float, off: float, r: float, n: int) -> None:
    period = on + 60 * off
    one = dose.cycle_integrals(on, off, r, 0.0, period)
    many = dose.cycle_integrals(on, off, r, 0.0, n * period)
    assert many.active_s == pytest.approx(n * one.active_s)
    assert many.amplitude_s == pytest.approx(n * one.amplitude_s)
    assert many.trains == pytest.approx(n)
    assert one.amplitude_sq_s <= one.amplitude_s <= one.active_s
