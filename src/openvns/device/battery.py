"""Battery of an implanted generator: drain, indicators and longevity.

The battery drains by the energy actually delivered into the lead, ``I² Z PW`` per pulse,
divided by the efficiency of the output stage, plus a constant quiescent drain. The usable energy
and the quiescent power are not published (reference §1.3: NF); they are calibrated so that the
model reproduces the labelling statement of S8 — *3 years at a higher setting vs 8 years at a
lower setting* — at the two anchor settings of the catalogue. With longevity ``Y_i`` at
stimulation power ``P_i`` (delivered, W), efficiency ``eta`` and usable energy ``E``:

    E = Y_i (P_q + P_i / eta)   for i = low, high

two equations in ``E`` and ``P_q`` that are solved exactly in :meth:`BatteryModel.from_spec`.

Battery percent is remaining energy over the energy at beginning of life, with the EOS cut-off
at ``eos_percent``, so "longevity" is the time from 100 % to EOS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from openvns.device import dose
from openvns.device.catalogue import BatterySpec, GeneratorModel
from openvns.device.settings import StimulationSettings
from openvns.errors import ValidationError

SECONDS_PER_YEAR = 365.25 * 86_400.0

Indicator = Literal["OK", "IFI", "NEOS", "EOS"]


def delivered_power_W(
    settings: StimulationSettings, impedance_ohm: float, *, ramp_s: float
) -> float:
    """Mean power delivered into the lead by normal-mode cycling, in W.

    Per pulse ``I² Z PW``; per cycle the pulses are weighted by ``∫ a² dt`` of the ramped
    envelope.
    """
    s = settings
    if s.output_current_mA <= 0 or s.on_time_s <= 0 or s.frequency_Hz <= 0:
        return 0.0
    period = s.period_s
    if s.off_time_min <= 0:
        amp_sq_fraction = 1.0
    else:
        integ = dose.cycle_integrals(s.on_time_s, s.off_time_min, ramp_s, 0.0, period)
        amp_sq_fraction = integ.amplitude_sq_s / period
    per_pulse_J = (s.output_current_mA * 1e-3) ** 2 * impedance_ohm * s.pulse_width_us * 1e-6
    return per_pulse_J * s.frequency_Hz * amp_sq_fraction


@dataclass(frozen=True)
class BatteryModel:
    """Energy model of a primary-cell implant battery.

    Attributes
    ----------
    usable_energy_J
        Energy available from beginning of life (100 %) to EOS, in J.
    quiescent_power_W
        Constant drain of the electronics, in W.
    output_efficiency
        Delivered energy / battery energy of the output stage (0–1].
    nominal_voltage_V
        Nominal cell voltage (to express quiescent drain as a current).
    ifi_percent, neos_percent, eos_percent
        Indicator cut-offs, in % of beginning-of-life energy.
    """

    usable_energy_J: float
    quiescent_power_W: float
    output_efficiency: float
    nominal_voltage_V: float
    ifi_percent: float
    neos_percent: float
    eos_percent: float

    @classmethod
    def from_spec(cls, spec: BatterySpec, *, ramp_s: float) -> BatteryModel:
        """Calibrate the model to the two longevity anchors of ``spec`` (see module doc)."""
        eta = float(spec.output_efficiency.value)
        z = float(spec.calibration_impedance_ohm.value)
        (y1, p1), (y2, p2) = (
            (
                float(a.years.value) * SECONDS_PER_YEAR,
                delivered_power_W(StimulationSettings(**a.settings.model_dump()), z, ramp_s=ramp_s),
            )
            for a in spec.anchors
        )
        if y1 == y2:
            raise ValueError("battery anchors must have different longevities")
        p_q = (y2 * p2 - y1 * p1) / (eta * (y1 - y2))
        if p_q <= 0:
            raise ValueError(
                "battery anchors are inconsistent: the longer-lived anchor must use less power"
            )
        energy = y1 * (p_q + p1 / eta)
        return cls(
            usable_energy_J=energy,
            quiescent_power_W=p_q,
            output_efficiency=eta,
            nominal_voltage_V=float(spec.nominal_voltage_V.value),
            ifi_percent=float(spec.ifi_percent.value),
            neos_percent=float(spec.neos_percent.value),
            eos_percent=float(spec.eos_percent.value),
        )

    @classmethod
    def for_generator(cls, generator: GeneratorModel) -> BatteryModel:
        """The calibrated battery of a catalogue generator."""
        if generator.battery is None:
            raise ValidationError(
                "generator", generator.id, "an implanted generator with a battery model"
            )
        return cls.from_spec(generator.battery, ramp_s=generator.ramp_s)

    @property
    def total_energy_J(self) -> float:
        """Energy at beginning of life (100 %), in J; EOS is reached at ``eos_percent``."""
        return self.usable_energy_J / (1.0 - self.eos_percent / 100.0)

    @property
    def quiescent_current_uA(self) -> float:
        return self.quiescent_power_W / self.nominal_voltage_V * 1e6

    def drain_J(self, delivered_J: float, elapsed_s: float) -> float:
        """Battery energy used to deliver ``delivered_J`` over ``elapsed_s`` seconds, in J."""
        return delivered_J / self.output_efficiency + self.quiescent_power_W * elapsed_s

    def percent(self, consumed_J: float) -> float:
        """Battery percent (0–100) after ``consumed_J`` of energy has been used."""
        return max(0.0, 100.0 * (1.0 - consumed_J / self.total_energy_J))

    def indicator(self, percent: float) -> Indicator:
        """OK, IFI (intensified follow-up), NEOS (near end of service) or EOS."""
        if percent <= self.eos_percent:
            return "EOS"
        if percent <= self.neos_percent:
            return "NEOS"
        if percent <= self.ifi_percent:
            return "IFI"
        return "OK"

    def power_W(
        self, settings: StimulationSettings, impedance_ohm: float, *, ramp_s: float
    ) -> float:
        """Mean battery power at these settings (stimulation and quiescent), in W."""
        return (
            delivered_power_W(settings, impedance_ohm, ramp_s=ramp_s) / self.output_efficiency
            + self.quiescent_power_W
        )

    def longevity_years(
        self,
        settings: StimulationSettings,
        impedance_ohm: float,
        *,
        ramp_s: float,
        from_percent: float = 100.0,
    ) -> float:
        """Years from ``from_percent`` to EOS at constant settings and impedance."""
        remaining = self.total_energy_J * max(0.0, from_percent - self.eos_percent) / 100.0
        return remaining / self.power_W(settings, impedance_ohm, ramp_s=ramp_s) / SECONDS_PER_YEAR
