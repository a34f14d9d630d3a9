"""Pulse waveforms of the stimulators, sampled for the nerve layer.

A :class:`PulseShape` is one pulse **per 1 mA of programmed amplitude**, made of analytic
segments: rectangular phases, the exponential tail of a passive (coupling-capacitor) recharge,
or the 5 kHz sine burst of the non-invasive cervical stimulator. Negative current is cathodic;
the nerve layer scales a shape linearly by the amplitude.

Sampling is charge-exact: sample ``i`` is the *mean* current over ``[t_i, t_i + dt)``, taken
from the antiderivative of each segment, so ``sum(current) * dt`` is the analytic charge of the
pulse for any ``dt`` (to rounding): a balanced shape samples to a balanced array.

Shapes: :func:`biphasic` (active symmetric, active asymmetric or passive recharge, with an
interphase gap), :func:`monophasic` (not charge-balanced; for reference cases) and
:func:`sine_burst`. :func:`waveform_for` gives the shape of a catalogue generator and
:func:`pulse_train` samples a short train. Defaults that no source gives (gap, time constant,
asymmetry, recharge per device kind) are assumptions kept in ``data/waveforms.yaml``.

Examples
--------
>>> shape = biphasic(250.0, recharge="active", interphase_gap_us=50.0)
>>> shape.charge_per_phase_uC(1.5)
0.375
>>> t_us, current_mA = shape.sample(10.0, amplitude_mA=1.5)
>>> abs(float(current_mA.sum()) * 10.0) < 1e-12
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import Field

from openvns.base import FrozenModel
from openvns.device.catalogue import DeviceKind, GeneratorModel, generator
from openvns.device.settings import StimulationSettings
from openvns.errors import ValidationError
from openvns.parameters import parse_set

FloatArray = NDArray[np.float64]
Recharge = Literal["active", "asymmetric", "passive"]
ShapeKind = Literal["biphasic", "monophasic", "sine_burst"]
Mode = Literal["normal", "magnet", "autostim"]

#: Net charge within this fraction of the absolute charge counts as balanced (rounding only).
BALANCE_RTOL = 1e-9
#: Most samples one call returns (a guard against a mistyped step).
MAX_SAMPLES = 10_000_000
_UC_PER_MA_US = 1e-3  # 1 mA for 1 µs is 1 nC


def _finite(field: str, value: Any, allowed: str = "a finite number") -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(field, value, allowed)
    return float(value)


def _positive(field: str, value: Any, allowed: str = "a finite number > 0") -> float:
    if _finite(field, value, allowed) <= 0:
        raise ValidationError(field, value, allowed)
    return float(value)


def _nonnegative(field: str, value: Any, allowed: str = "a finite number ≥ 0") -> float:
    if _finite(field, value, allowed) < 0:
        raise ValidationError(field, value, allowed)
    return float(value)


# ---------------------------------------------------------------------------------- segments
@dataclass(frozen=True)
class Segment:
    """A rectangular phase; subclasses change the profile.

    Attributes
    ----------
    start_us, duration_us
        Start (from the pulse onset) and length, in µs.
    amplitude_mA
        Current per 1 mA of programmed amplitude, signed (initial value of a tail, peak of a
        sine).
    """

    start_us: float
    duration_us: float
    amplitude_mA: float

    @property
    def end_us(self) -> float:
        return self.start_us + self.duration_us

    @property
    def phase_us(self) -> float:
        """Length of one phase (a lobe of constant sign), in µs."""
        return self.duration_us

    @property
    def phase_charge_mA_us(self) -> float:
        """Absolute charge of one phase, in mA·µs (nC)."""
        return abs(self.amplitude_mA) * self.duration_us

    @property
    def charge_mA_us(self) -> float:
        """Signed charge of the whole segment, in mA·µs."""
        return float(self.cumulative(np.array([self.end_us]))[0])

    @property
    def abs_charge_mA_us(self) -> float:
        """``∫|i| dt`` over the segment, in mA·µs."""
        return self.phase_charge_mA_us * round(self.duration_us / self.phase_us)

    def _local(self, t_us: FloatArray) -> FloatArray:
        return np.clip(t_us - self.start_us, 0.0, self.duration_us)

    def cumulative(self, t_us: FloatArray) -> FloatArray:
        """Charge of this segment over ``[0, t_us)`` from the pulse onset, in mA·µs."""
        return self.amplitude_mA * self._local(t_us)


@dataclass(frozen=True)
class ExponentialTail(Segment):
    """Passive recharge ``A exp(-(t - start) / tau_us)``, cut at ``duration_us``."""

    tau_us: float

    @property
    def phase_charge_mA_us(self) -> float:
        return abs(self.charge_mA_us)

    def cumulative(self, t_us: FloatArray) -> FloatArray:
        return self.amplitude_mA * self.tau_us * -np.expm1(-self._local(t_us) / self.tau_us)


@dataclass(frozen=True)
class Sine(Segment):
    """Whole cycles of ``A sin(2 pi f (t - start))``; ``A < 0`` starts cathodic."""

    frequency_Hz: float

    @property
    def phase_us(self) -> float:
        return 0.5e6 / self.frequency_Hz

    @property
    def phase_charge_mA_us(self) -> float:
        return abs(self.amplitude_mA) * 2.0 * self.phase_us / math.pi

    def cumulative(self, t_us: FloatArray) -> FloatArray:
        # ∫ sin = (1 - cos x) / w, written 2 sin²(x/2) / w: no cancellation near phase edges.
        w = math.pi / self.phase_us
        return self.amplitude_mA * 2.0 * np.sin(0.5 * w * self._local(t_us)) ** 2 / w


# ------------------------------------------------------------------------------------ shape
@dataclass(frozen=True)
class PulseShape:
    """One stimulation pulse per 1 mA of programmed amplitude.

    Attributes
    ----------
    kind
        ``"biphasic"``, ``"monophasic"`` (not charge-balanced) or ``"sine_burst"``.
    segments
        The analytic pieces; the first is the stimulating (cathodic) phase.
    recharge
        ``"active"``, ``"asymmetric"`` or ``"passive"`` for a biphasic pulse, else ``None``.
    """

    kind: ShapeKind
    segments: tuple[Segment, ...]
    recharge: Recharge | None = None

    def __post_init__(self) -> None:
        if not self.segments:
            raise ValidationError("segments", self.segments, "at least one segment")
        for seg in self.segments:
            _nonnegative("start_us", seg.start_us)
            _positive("duration_us", seg.duration_us)
            _finite("amplitude_mA", seg.amplitude_mA)

    @property
    def duration_us(self) -> float:
        """From the onset to the end of the last segment, in µs."""
        return max(s.end_us for s in self.segments)

    @property
    def phase_width_us(self) -> float:
        """Width of the stimulating phase, in µs (half a carrier cycle for a burst)."""
        return self.segments[0].phase_us

    @property
    def shortest_phase_us(self) -> float:
        """Shortest phase of any segment, in µs: the largest sampling step allowed."""
        return min(s.phase_us for s in self.segments)

    def charge_per_phase_uC(self, amplitude_mA: float) -> float:
        """Charge of the stimulating phase, in µC (1.5 mA × 250 µs = 0.375 µC)."""
        return abs(_finite("amplitude_mA", amplitude_mA)) * (
            self.segments[0].phase_charge_mA_us * _UC_PER_MA_US
        )

    def net_charge_uC(self, amplitude_mA: float = 1.0) -> float:
        """Net charge of the whole pulse, in µC (0 for a balanced pulse)."""
        net = sum(s.charge_mA_us for s in self.segments) * _UC_PER_MA_US
        return _finite("amplitude_mA", amplitude_mA) * net

    @property
    def is_charge_balanced(self) -> bool:
        """Whether the net charge vanishes, to ``BALANCE_RTOL`` of the absolute charge."""
        total = sum(s.abs_charge_mA_us for s in self.segments) * _UC_PER_MA_US
        return abs(self.net_charge_uC()) <= BALANCE_RTOL * total

    def cumulative_charge(self, t_us: FloatArray) -> FloatArray:
        """Charge per mA delivered over ``[0, t_us)`` from the onset, in mA·µs (nC)."""
        out = np.zeros(np.shape(t_us), dtype=np.float64)
        for seg in self.segments:
            out += seg.cumulative(t_us)
        return out

    def sample(
        self,
        dt_us: float,
        *,
        duration_us: float | None = None,
        delay_us: float = 0.0,
        amplitude_mA: float = 1.0,
    ) -> tuple[FloatArray, FloatArray]:
        """Sample the pulse on a uniform grid.

        Parameters
        ----------
        dt_us
            Step, in µs: positive and at most :attr:`shortest_phase_us`.
        duration_us
            Window length, in µs, at least ``delay_us + duration_us`` of the pulse (default:
            that, rounded up to whole steps).
        delay_us
            Onset of the pulse in the window, in µs.
        amplitude_mA
            Programmed amplitude (≥ 0) the per-mA shape is scaled by.

        Returns
        -------
        t_us, current_mA
            Start of each step and the mean current over it (float64 arrays).

        Raises
        ------
        ValidationError
            For a non-finite or non-positive step or one longer than a phase, a negative delay
            or amplitude, or a window too short for the pulse.
        """
        return _sample(self, [delay_us], dt_us, duration_us, amplitude_mA)


def _sample(
    shape: PulseShape,
    onsets_us: Sequence[float],
    dt_us: float,
    window_us: float | None,
    amplitude_mA: float,
) -> tuple[FloatArray, FloatArray]:
    longest = shape.shortest_phase_us
    dt = _positive("dt_us", dt_us, f"a finite number > 0 and ≤ {longest:g} µs")
    if dt > longest:
        raise ValidationError("dt_us", dt_us, f"≤ {longest:g} µs, the shortest phase of the pulse")
    amp = _nonnegative("amplitude_mA", amplitude_mA)
    end = max(_nonnegative("delay_us", t) for t in onsets_us) + shape.duration_us
    if window_us is not None:
        if _positive("duration_us", window_us, f"≥ {end:g} µs") < end:
            raise ValidationError("duration_us", window_us, f"≥ {end:g} µs (delay + pulse)")
        end = window_us
    if not end / dt <= MAX_SAMPLES:
        raise ValidationError(
            "dt_us", dt_us, f"≥ {end / MAX_SAMPLES:g} µs (≤ {MAX_SAMPLES} samples)"
        )
    n = max(1, math.ceil(end / dt))
    while n * dt < end:  # rounding in the division must not cut off the end of the pulse
        n += 1
    edges = np.arange(n + 1, dtype=np.float64) * dt
    current = np.zeros(n, dtype=np.float64)
    for onset in onsets_us:  # each pulse only touches the steps it overlaps
        i0 = max(0, math.floor(onset / dt) - 1)
        i1 = min(n, math.ceil((onset + shape.duration_us) / dt) + 1)
        current[i0:i1] += np.diff(shape.cumulative_charge(edges[i0 : i1 + 1] - onset))
    current *= amp / dt
    return edges[:-1], current


def pulse_train(
    shape: PulseShape,
    frequency_Hz: float,
    n_pulses: int,
    dt_us: float,
    amplitude_mA: float = 1.0,
    *,
    delay_us: float = 0.0,
) -> tuple[FloatArray, FloatArray]:
    """Sample ``n_pulses`` pulses at ``frequency_Hz``: ``(t_us, current_mA)`` as in ``sample``.

    Pulse ``k`` starts at ``delay_us + k / frequency_Hz``; the window ends one period after the
    last onset. Pulses longer than the period (they would overlap), ``n_pulses < 1`` and bad
    steps raise :class:`~openvns.errors.ValidationError`.
    """
    period_us = 1e6 / _positive("frequency_Hz", frequency_Hz)
    if shape.duration_us > period_us:
        allowed = f"≤ {1e6 / shape.duration_us:g} Hz, so that {shape.duration_us:g} µs pulses "
        raise ValidationError("frequency_Hz", frequency_Hz, allowed + "do not overlap")
    if isinstance(n_pulses, bool) or not isinstance(n_pulses, int) or n_pulses < 1:
        raise ValidationError("n_pulses", n_pulses, "an integer ≥ 1")
    if n_pulses * period_us / _positive("dt_us", dt_us) > MAX_SAMPLES:
        raise ValidationError("n_pulses", n_pulses, f"a train of ≤ {MAX_SAMPLES} samples")
    delay = _nonnegative("delay_us", delay_us)
    onsets = [delay + k * period_us for k in range(n_pulses)]
    return _sample(shape, onsets, dt_us, delay + n_pulses * period_us, amplitude_mA)


# ---------------------------------------------------------------------- defaults (data file)
class WaveformParameters(FrozenModel):
    """Waveform defaults; values, status and sources in ``data/waveforms.yaml``.

    Attributes
    ----------
    interphase_gap_us
        Gap between the cathodic phase and its recharge, in µs.
    passive_time_constant_us, passive_tail_time_constants
        Time constant of the passive recharge tail, in µs, and its length in time constants.
    asymmetric_recharge_ratio
        Anodic/cathodic duration ratio of the asymmetric active recharge (≥ 1).
    recharge
        Recharge that :func:`waveform_for` uses per device kind.
    """

    interphase_gap_us: float = Field(ge=0, allow_inf_nan=False)
    passive_time_constant_us: float = Field(gt=0, allow_inf_nan=False)
    passive_tail_time_constants: float = Field(gt=0, allow_inf_nan=False)
    asymmetric_recharge_ratio: float = Field(ge=1, allow_inf_nan=False)
    recharge: Mapping[DeviceKind, Recharge]

    @classmethod
    def default(cls) -> WaveformParameters:
        """The documented defaults of ``data/waveforms.yaml``."""
        return _default_parameters()

    def with_(self, **changes: Any) -> WaveformParameters:
        """A copy with ``changes`` applied (validated)."""
        return WaveformParameters.model_validate({**self.model_dump(), **changes})


@lru_cache(maxsize=1)
def _default_parameters() -> WaveformParameters:
    # every value is checked by the one provenance rule of openvns.parameters
    text = resources.files("openvns.device").joinpath("data/waveforms.yaml").read_text("utf-8")
    flat = parse_set(text, "waveforms.yaml").values()
    values: dict[str, Any] = {k: flat[k] for k in WaveformParameters.model_fields if k in flat}
    values["recharge"] = {
        k.removeprefix("recharge."): v for k, v in flat.items() if k.startswith("recharge.")
    }
    return WaveformParameters.model_validate(values)


# ------------------------------------------------------------------------------ constructors
def biphasic(
    pulse_width_us: float,
    *,
    recharge: Recharge = "active",
    interphase_gap_us: float | None = None,
    recharge_ratio: float | None = None,
    time_constant_us: float | None = None,
    params: WaveformParameters | None = None,
) -> PulseShape:
    """A charge-balanced, cathodic-first biphasic pulse.

    Parameters
    ----------
    pulse_width_us
        Width of the cathodic phase, in µs (the programmed pulse width).
    recharge
        ``"active"``: an equal and opposite anodic phase. ``"asymmetric"``: an anodic phase
        ``recharge_ratio`` times longer at ``1 / recharge_ratio`` of the amplitude.
        ``"passive"``: the coupling capacitor discharges as an exponential anodic tail of time
        constant ``time_constant_us`` lasting ``passive_tail_time_constants`` of them, scaled
        to return exactly the cathodic charge within that time.
    interphase_gap_us, recharge_ratio, time_constant_us
        Overrides of the defaults in ``params`` (µs, ratio, µs).
    params
        Defaults; ``None`` takes :meth:`WaveformParameters.default`.
    """
    p = params or WaveformParameters.default()
    pw = _positive("pulse_width_us", pulse_width_us)
    gap = p.interphase_gap_us if interphase_gap_us is None else interphase_gap_us
    start = pw + _nonnegative("interphase_gap_us", gap)
    anodic: Segment
    if recharge == "active":
        anodic = Segment(start, pw, 1.0)
    elif recharge == "asymmetric":
        r = p.asymmetric_recharge_ratio if recharge_ratio is None else recharge_ratio
        if _finite("recharge_ratio", r, "a finite number ≥ 1") < 1:
            raise ValidationError("recharge_ratio", r, "a finite number ≥ 1")
        anodic = Segment(start, pw * r, 1.0 / r)
    elif recharge == "passive":
        tau = p.passive_time_constant_us if time_constant_us is None else time_constant_us
        tau = _positive("time_constant_us", tau)
        tail = tau * p.passive_tail_time_constants
        # A tau (1 - exp(-tail / tau)) = pw: the truncated tail returns the whole charge.
        anodic = ExponentialTail(start, tail, pw / (tau * -math.expm1(-tail / tau)), tau_us=tau)
    else:
        raise ValidationError("recharge", recharge, "'active', 'asymmetric' or 'passive'")
    return PulseShape("biphasic", (Segment(0.0, pw, -1.0), anodic), recharge)


def monophasic(
    pulse_width_us: float, *, polarity: Literal["cathodic", "anodic"] = "cathodic"
) -> PulseShape:
    """One rectangular phase, **not** charge-balanced (``is_charge_balanced`` is False).

    For the nerve layer's reference cases; no catalogue device delivers it.
    """
    pw = _positive("pulse_width_us", pulse_width_us)
    if polarity not in ("cathodic", "anodic"):
        raise ValidationError("polarity", polarity, "'cathodic' or 'anodic'")
    return PulseShape("monophasic", (Segment(0.0, pw, -1.0 if polarity == "cathodic" else 1.0),))


def sine_burst(carrier_frequency_Hz: float, cycles: int) -> PulseShape:
    """Whole sine cycles starting cathodic (gammaCore: five 5 kHz cycles, S20).

    The amplitude is the peak current; a phase is a half-cycle, of charge ``I_peak / (pi f)``
    as in :func:`openvns.device.dose.sine_charge_per_phase_uC`.
    """
    f = _positive("carrier_frequency_Hz", carrier_frequency_Hz)
    if isinstance(cycles, bool) or not isinstance(cycles, int) or cycles < 1:
        raise ValidationError("cycles", cycles, "an integer ≥ 1")
    return PulseShape("sine_burst", (Sine(0.0, cycles * 1e6 / f, -1.0, frequency_Hz=f),))


def waveform_for(
    settings: StimulationSettings,
    generator_model: GeneratorModel | str,
    *,
    mode: Mode = "normal",
    params: WaveformParameters | None = None,
) -> PulseShape:
    """The pulse (per 1 mA) that a catalogue generator delivers with ``settings`` in ``mode``.

    A device with a ``burst`` block (gammaCore) gives its sine burst, with carrier frequency and
    cycles from the catalogue (its programmed pulse width is the burst length and is not used).
    Other devices give a cathodic-first biphasic pulse of the mode's pulse width with the
    recharge ``params.recharge`` names for the device kind. A mode not set in ``settings`` or a
    device kind without a configured recharge raises :class:`~openvns.errors.ValidationError`.
    """
    if mode not in ("normal", "magnet", "autostim"):
        raise ValidationError("mode", mode, "'normal', 'magnet' or 'autostim'")
    mode_settings = settings if mode == "normal" else getattr(settings, mode)
    if mode_settings is None:
        raise ValidationError(mode, None, f"{mode} settings, to build a {mode}-mode pulse")
    gen = generator(generator_model) if isinstance(generator_model, str) else generator_model
    if gen.burst is not None:
        carrier = float(gen.burst.carrier_frequency_Hz.value)
        return sine_burst(carrier, int(gen.burst.pulses_per_burst.value))
    p = params or WaveformParameters.default()
    recharge = p.recharge.get(gen.kind)
    if recharge is None:
        raise ValidationError("generator", gen.id, "a device kind with a recharge configured")
    return biphasic(mode_settings.pulse_width_us, recharge=recharge, params=p)
