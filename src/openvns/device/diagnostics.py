"""System Diagnostics of an implanted generator: lead impedance and output status.

What the test delivers follows the catalogue ``diagnostics`` block (S4 p40):

* models with a ``test_current_mA`` (103-1000) measure the impedance with a 0.25 mA test
  pulse at the programmed pulse width and frequency; when the programmed output is 0 mA the test
  runs at 1.0 mA, 500 µs, 20 Hz (the ``zero_output_test``);
* models without one (100-102) run the test at the programmed settings, so it cannot run at a
  programmed output of 0 mA, and S4 advises against it below 1 mA (a note is added).

The impedance status compares the measured impedance with the lead's ``impedance_low_ohm`` and
``impedance_high_ohm`` (OK inside, bounds included). The output status is ``LIMIT`` when the
current the generator has to deliver — the programmed normal-mode current, or the test current
when the programmed output is 0 mA — times the impedance exceeds the compliance voltage: the
programmed current cannot be delivered (S4 p40).

The virtual measurement is exact (no noise) and its energy is not drawn from the battery (a few
test pulses are negligible next to days of stimulation).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from openvns.base import FrozenModel
from openvns.device.catalogue import GeneratorModel, LeadModel
from openvns.device.settings import StimulationSettings
from openvns.errors import ValidationError

ImpedanceStatus = Literal["OK", "HIGH", "LOW"]
OutputStatus = Literal["OK", "LIMIT"]

#: S4 p40: on Models 100-102 System Diagnostics are best avoided below this usual output, in mA.
_OLD_MODEL_MIN_OUTPUT_mA = 1.0


class DiagnosticsResult(FrozenModel):
    """Result of System Diagnostics.

    Attributes
    ----------
    time
        Device time of the test.
    lead_impedance_ohm
        Measured lead impedance, in Ω.
    impedance_status
        ``OK``, ``HIGH`` or ``LOW`` against the lead's thresholds.
    output_status
        ``LIMIT`` when the required voltage exceeds the compliance voltage, else ``OK``.
    test_current_mA, test_pulse_width_us, test_frequency_Hz
        The test pulses that measured the impedance (mA, µs, Hz).
    output_current_mA
        Current whose delivery is checked: the programmed normal-mode current, or the test
        current when the programmed output is 0 mA, in mA.
    required_voltage_V
        ``output_current_mA × lead_impedance_ohm``, in V.
    compliance_voltage_V
        Highest voltage the output stage can apply, in V.
    deliverable_current_mA
        Largest current the generator can drive through this impedance, in mA.
    notes
        Cautions for the clinician (e.g. S4 advice for Models 100-102).
    """

    time: datetime
    lead_impedance_ohm: float
    impedance_status: ImpedanceStatus
    output_status: OutputStatus
    test_current_mA: float
    test_pulse_width_us: float
    test_frequency_Hz: float
    output_current_mA: float
    required_voltage_V: float
    compliance_voltage_V: float
    deliverable_current_mA: float
    notes: tuple[str, ...] = ()


def impedance_status(lead: LeadModel, impedance_ohm: float) -> ImpedanceStatus:
    """``LOW``, ``OK`` or ``HIGH`` for ``impedance_ohm`` on ``lead`` (bounds are OK)."""
    if lead.geometry is None:
        raise ValidationError("lead", lead.id, "a helical lead with impedance thresholds")
    if impedance_ohm > float(lead.geometry.impedance_high_ohm.value):
        return "HIGH"
    if impedance_ohm < float(lead.geometry.impedance_low_ohm.value):
        return "LOW"
    return "OK"


def deliverable_current_mA(generator: GeneratorModel, impedance_ohm: float) -> float:
    """Largest current the output stage can drive through ``impedance_ohm``, in mA."""
    return generator.compliance_voltage_V / impedance_ohm * 1e3


def run_system_diagnostics(
    generator: GeneratorModel,
    lead: LeadModel,
    settings: StimulationSettings,
    impedance_ohm: float,
    time: datetime,
) -> DiagnosticsResult:
    """Run System Diagnostics on a generator whose lead has impedance ``impedance_ohm``.

    Parameters
    ----------
    generator, lead
        Catalogue models of the implant.
    settings
        Programmed settings (normal mode).
    impedance_ohm
        True lead impedance, in Ω.
    time
        Device time of the test.

    Raises
    ------
    ValidationError
        On a model without a diagnostics block, or on a model that tests at the programmed
        settings (100-102) when the programmed output is 0 mA.
    """
    spec = generator.diagnostics
    if spec is None:
        raise ValidationError("generator", generator.id, "a generator with System Diagnostics")
    notes: list[str] = []
    programmed = settings.output_current_mA
    if spec.test_current_mA is not None:
        zero = spec.zero_output_test
        if programmed <= 0 and zero is not None:
            test = (zero.output_current_mA, zero.pulse_width_us, zero.frequency_Hz)
            output = zero.output_current_mA
        else:
            test = (
                float(spec.test_current_mA.value),
                settings.pulse_width_us,
                settings.frequency_Hz,
            )
            output = programmed
    else:
        if programmed <= 0:
            raise ValidationError(
                "output_current_mA",
                programmed,
                f"> 0 mA: generator {generator.id} runs System Diagnostics at the programmed "
                "settings (S4 p40)",
            )
        if programmed < _OLD_MODEL_MIN_OUTPUT_mA:
            notes.append(
                f"S4 p40: on Models 100-102 avoid System Diagnostics when the usual output is "
                f"< {_OLD_MODEL_MIN_OUTPUT_mA:g} mA (increased sensation, coughing, flushing)"
            )
        test = (programmed, settings.pulse_width_us, settings.frequency_Hz)
        output = programmed
    required = output * 1e-3 * impedance_ohm
    compliance = generator.compliance_voltage_V
    status: OutputStatus = "LIMIT" if required > compliance else "OK"
    if status == "LIMIT":
        notes.append(
            f"output LIMIT: {output:g} mA into {impedance_ohm:.0f} Ω needs {required:.1f} V, "
            f"above the {compliance:g} V compliance; only "
            f"{deliverable_current_mA(generator, impedance_ohm):.2f} mA is delivered"
        )
    return DiagnosticsResult(
        time=time,
        lead_impedance_ohm=impedance_ohm,
        impedance_status=impedance_status(lead, impedance_ohm),
        output_status=status,
        test_current_mA=test[0],
        test_pulse_width_us=test[1],
        test_frequency_Hz=test[2],
        output_current_mA=output,
        required_voltage_V=required,
        compliance_voltage_V=compliance,
        deliverable_current_mA=deliverable_current_mA(generator, impedance_ohm),
        notes=tuple(notes),
    )


__all__ = [
    "DiagnosticsResult",
    "ImpedanceStatus",
    "OutputStatus",
    "deliverable_current_mA",
    "impedance_status",
    "run_system_diagnostics",
]
