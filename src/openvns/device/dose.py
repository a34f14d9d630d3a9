"""Derived dose quantities: duty cycle, charge per phase and density, Shannon k, daily dose.

All functions are pure and work on plain floats (units in the names). The ON/OFF cycle follows
the VNS convention (reference §1.2): the period is ``ON + OFF``; each train ramps up for
``ramp_s``, holds the programmed current for ``ON``, ramps down for ``ramp_s`` and is then silent
for the rest of the OFF time, so ``duty = (ON + 2 ramp) / (ON + OFF)``. Ramps are linear in
current. With ``OFF = 0`` stimulation is continuous.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SECONDS_PER_DAY = 86_400.0

#: 1 mA flowing for 1 µs is 1 nC = 1e-3 µC.
_UC_PER_MA_US = 1e-3
#: Window edges within this fraction of a period of a train start are taken to lie on it.
_EDGE_RTOL = 1e-9


def duty_cycle(on_time_s: float, off_time_min: float, ramp_s: float = 0.0) -> float:
    """Fraction of time a train is being delivered, ramps included (0–1).

    Parameters
    ----------
    on_time_s
        Signal ON time, in s.
    off_time_min
        Signal OFF time, in min.
    ramp_s
        Duration of each of the ramp-up and ramp-down, in s.

    Examples
    --------
    >>> round(duty_cycle(30, 5, ramp_s=2), 4)     # 34 / 330
    0.103
    >>> round(duty_cycle(30, 3, ramp_s=2), 3)     # 16.2 %, reference §1.2
    0.162
    """
    period = on_time_s + off_time_min * 60.0
    if period <= 0:
        return 0.0
    return min(1.0, (on_time_s + 2.0 * ramp_s) / period) if on_time_s > 0 else 0.0


def charge_per_phase_uC(current_mA: float, pulse_width_us: float) -> float:
    """Charge of one rectangular phase, in µC (1.5 mA × 250 µs = 0.375 µC)."""
    return current_mA * pulse_width_us * _UC_PER_MA_US


def sine_charge_per_phase_uC(peak_current_mA: float, carrier_frequency_Hz: float) -> float:
    """Charge of one half-cycle of a sinusoidal current, in µC: ``I_peak / (pi f)``."""
    return peak_current_mA * 1e6 / (math.pi * carrier_frequency_Hz) * _UC_PER_MA_US


def pulse_train_rms_current_mA(
    current_mA: float, pulse_width_us: float, frequency_Hz: float, *, phases: int = 2
) -> float:
    """RMS current of a train of rectangular pulses while it runs, in mA.

    Each pulse has ``phases`` phases of ``pulse_width_us`` at ``current_mA`` (2 for a symmetric
    biphasic pulse), so ``I_rms = I sqrt(phases PW f)``; capped at ``I`` (phases filling the
    whole period).

    Examples
    --------
    >>> round(pulse_train_rms_current_mA(2.0, 250, 25), 4)   # 2 mA * sqrt(2 * 250e-6 * 25)
    0.2236
    """
    fill = phases * pulse_width_us * 1e-6 * frequency_Hz
    return current_mA * math.sqrt(min(max(fill, 0.0), 1.0))


def sine_burst_rms_current_mA(
    peak_current_mA: float, carrier_frequency_Hz: float, cycles: float, burst_frequency_Hz: float
) -> float:
    """RMS current of sine bursts (``cycles`` cycles of the carrier, ``burst_frequency_Hz``
    bursts a second) while they run, in mA: ``I_peak / sqrt(2) * sqrt(burst fill)``.

    Examples
    --------
    >>> round(sine_burst_rms_current_mA(20, 5000, 5, 25), 4)  # gammaCore: 2.5 % fill
    2.2361
    """
    fill = cycles / carrier_frequency_Hz * burst_frequency_Hz
    return peak_current_mA / math.sqrt(2.0) * math.sqrt(min(max(fill, 0.0), 1.0))


def charge_density_uC_per_cm2(charge_uC: float, area_cm2: float) -> float:
    """Charge density per phase, in µC/cm²."""
    return charge_uC / area_cm2


def shannon_k(charge_uC: float, density_uC_per_cm2: float) -> float:
    """Shannon's k: ``log10(Q) + log10(D)``, i.e. ``Q·D = 10^k`` (Shannon 1992).

    Returns ``-inf`` for zero charge.
    """
    if charge_uC <= 0 or density_uC_per_cm2 <= 0:
        return -math.inf
    return math.log10(charge_uC) + math.log10(density_uC_per_cm2)


def max_current_for_k_mA(k: float, pulse_width_us: float, area_cm2: float) -> float:
    """Largest current (mA) with Shannon k not above ``k`` at this pulse width and area.

    From ``Q²/A = 10^k``: ``Q = sqrt(10^k A)`` µC, ``I = Q / PW``. Unbounded (``inf``) for a
    pulse width too short to carry charge.
    """
    q_uC = math.sqrt(10.0**k * area_cm2)
    uC_per_mA = pulse_width_us * _UC_PER_MA_US
    return q_uC / uC_per_mA if uC_per_mA > 0 else math.inf


@dataclass(frozen=True)
class CycleIntegrals:
    """Integrals of the amplitude envelope ``a(t)`` (0–1) over a time window.

    Attributes
    ----------
    active_s
        Time with ``a > 0`` (pulses are being delivered), in s.
    amplitude_s
        ``∫ a dt`` in s: multiply by frequency and charge per pulse to get charge.
    amplitude_sq_s
        ``∫ a² dt`` in s: multiply by frequency and ``I² Z PW`` to get energy.
    trains
        Number of trains that start inside the window.
    """

    active_s: float
    amplitude_s: float
    amplitude_sq_s: float
    trains: float

    def __add__(self, other: CycleIntegrals) -> CycleIntegrals:
        return CycleIntegrals(
            self.active_s + other.active_s,
            self.amplitude_s + other.amplitude_s,
            self.amplitude_sq_s + other.amplitude_sq_s,
            self.trains + other.trains,
        )


def _cumulative_in_cycle(t: float, on_s: float, ramp_s: float, period_s: float) -> CycleIntegrals:
    """Envelope integrals over ``[0, t)`` of one cycle, ``0 <= t <= period_s``."""
    train = min(on_s + 2.0 * ramp_s, period_s)
    r = ramp_s
    if r > 0 and on_s + 2 * r > period_s:
        # Trains longer than the period cannot happen with catalogue values; shorten the plateau.
        on_s = max(0.0, period_s - 2 * r)
    active = min(t, train)
    a1 = a2 = 0.0
    # ramp up: a = x / r on [0, r)
    x = min(t, r)
    if r > 0 and x > 0:
        a1 += x * x / (2 * r)
        a2 += x**3 / (3 * r * r)
    # plateau on [r, r + on)
    x = min(max(t - r, 0.0), on_s)
    a1 += x
    a2 += x
    # ramp down: a = 1 - y / r for y in [0, r)
    y = min(max(t - r - on_s, 0.0), r)
    if r > 0 and y > 0:
        a1 += y - y * y / (2 * r)
        a2 += r / 3.0 * (1.0 - (1.0 - y / r) ** 3)
    return CycleIntegrals(active, a1, a2, 1.0 if t > 0 else 0.0)


def cycle_integrals(
    on_time_s: float,
    off_time_min: float,
    ramp_s: float,
    t0_s: float,
    t1_s: float,
    *,
    phase_s: float = 0.0,
) -> CycleIntegrals:
    """Exact envelope integrals of a periodic ON/OFF train over ``[t0_s, t1_s)``.

    Trains start at ``phase_s + n * period`` for every integer ``n``. Works for windows of any
    length in O(1), so months of stimulation cost no more than a second.
    """
    if t1_s <= t0_s or on_time_s <= 0:
        return CycleIntegrals(0.0, 0.0, 0.0, 0.0)
    period = on_time_s + off_time_min * 60.0
    if off_time_min <= 0:  # continuous stimulation, one ramp at the very start is ignored
        d = t1_s - t0_s
        return CycleIntegrals(d, d, d, 0.0)

    def upto(t: float) -> CycleIntegrals:
        """Integrals over [phase, t) for t >= phase."""
        n_full, rem = divmod(t - phase_s, period)
        # A window edge on a train start, up to rounding, counts as exactly on it: otherwise
        # [0, n * period) could count n + 1 trains.
        if rem > period * (1.0 - _EDGE_RTOL):
            n_full, rem = n_full + 1, 0.0
        elif rem < period * _EDGE_RTOL:
            rem = 0.0
        one = _cumulative_in_cycle(period, on_time_s, ramp_s, period)
        part = _cumulative_in_cycle(rem, on_time_s, ramp_s, period)
        return CycleIntegrals(
            n_full * one.active_s + part.active_s,
            n_full * one.amplitude_s + part.amplitude_s,
            n_full * one.amplitude_sq_s + part.amplitude_sq_s,
            n_full + part.trains,
        )

    # shift the phase so that it lies at or before t0
    shift = math.floor((t0_s - phase_s) / period)
    phase_s = phase_s + shift * period
    a, b = upto(t0_s), upto(t1_s)
    return CycleIntegrals(
        b.active_s - a.active_s,
        b.amplitude_s - a.amplitude_s,
        b.amplitude_sq_s - a.amplitude_sq_s,
        b.trains - a.trains,
    )


def trains_per_day(on_time_s: float, off_time_min: float) -> float:
    """Number of ON/OFF cycles per day (0 for continuous stimulation)."""
    period = on_time_s + off_time_min * 60.0
    if off_time_min <= 0 or period <= 0:
        return 0.0
    return SECONDS_PER_DAY / period
