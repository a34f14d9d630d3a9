"""openvns.device.diagnostics: System Diagnostics through the virtual implant (S4 p40)."""

from __future__ import annotations

import pytest

from openvns.device.catalogue import default_catalogue
from openvns.device.diagnostics import impedance_status, run_system_diagnostics
from openvns.device.generator import PulseGenerator
from openvns.device.settings import FACTORY_SETTINGS, TYPICAL_SETTINGS
from openvns.errors import ValidationError

LEAD = default_catalogue().lead("304-20")
GEO = LEAD.geometry
assert GEO is not None
LOW = float(GEO.impedance_low_ohm.value)
HIGH = float(GEO.impedance_high_ohm.value)


@pytest.mark.parametrize(
    ("z", "status"),
    [(LOW, "OK"), (HIGH, "OK"), (3000.0, "OK"), (HIGH + 1, "HIGH"), (LOW - 1, "LOW")],
)
def test_impedance_status_against_the_lead_thresholds(z: float, status: str) -> None:
    assert impedance_status(LEAD, z) == status
    g = PulseGenerator("105", lead_impedance_ohm=z)
    g.program(TYPICAL_SETTINGS)
    result = g.run_diagnostics()
    assert result.impedance_status == status
    assert result.lead_impedance_ohm == z


def test_interrogation_shows_the_last_measured_impedance_only() -> None:
    g = PulseGenerator("1000", lead_impedance_ohm=2500.0)
    assert g.interrogate().lead_impedance_ohm is None
    g.run_diagnostics()
    g.inject_lead_fault("break")
    info = g.interrogate()
    assert info.lead_impedance_ohm == 2500.0  # the break is not seen until diagnostics run
    assert info.impedance_status == "OK"
    g.run_diagnostics()
    assert g.interrogate().impedance_status == "HIGH"
    assert g.interrogate().history[-1].kind == "diagnostics"


def test_zero_output_runs_the_test_at_1mA_500us_20Hz() -> None:
    result = PulseGenerator("103").run_diagnostics()
    assert (result.test_current_mA, result.test_pulse_width_us, result.test_frequency_Hz) == (
        1.0,
        500.0,
        20.0,
    )
    assert result.output_current_mA == 1.0
    assert result.output_status == "OK"


def test_programmed_output_uses_a_quarter_milliamp_test_pulse() -> None:
    g = PulseGenerator("1000")
    g.program(TYPICAL_SETTINGS)
    result = g.run_diagnostics()
    assert result.test_current_mA == 0.25
    assert result.test_pulse_width_us == TYPICAL_SETTINGS.pulse_width_us
    assert result.test_frequency_Hz == TYPICAL_SETTINGS.frequency_Hz
    assert result.output_current_mA == TYPICAL_SETTINGS.output_current_mA
    assert result.required_voltage_V == pytest.approx(1.5e-3 * 3000)


def test_model_102_tests_at_the_programmed_settings() -> None:
    g = PulseGenerator("102")
    with pytest.raises(ValidationError) as err:
        g.run_diagnostics()  # 0 mA programmed: nothing to test with
    assert err.value.field == "output_current_mA"
    g.program(TYPICAL_SETTINGS)
    result = g.run_diagnostics()
    assert result.test_current_mA == 1.5
    assert result.notes == ()
    g.program(TYPICAL_SETTINGS.with_(output_current_mA=0.5))
    assert any("S4 p40" in n for n in g.run_diagnostics().notes)


def test_output_limit_at_full_current_into_a_broken_lead() -> None:
    g = PulseGenerator("105")
    g.program(TYPICAL_SETTINGS.with_(output_current_mA=3.5, pulse_width_us=130))
    intact = g.run_diagnostics()
    assert intact.output_status == "OK"  # 3.5 mA x 3000 ohm = 10.5 V < 12 V
    g.inject_lead_fault("break")
    broken = g.run_diagnostics()
    assert broken.output_status == "LIMIT"
    assert broken.impedance_status == "HIGH"
    assert broken.required_voltage_V > broken.compliance_voltage_V
    assert broken.deliverable_current_mA == pytest.approx(
        broken.compliance_voltage_V / broken.lead_impedance_ohm * 1e3
    )
    assert any("LIMIT" in n for n in broken.notes)


def test_short_reads_low_and_output_is_ok() -> None:
    g = PulseGenerator("105")
    g.program(TYPICAL_SETTINGS)
    g.inject_lead_fault("short")
    result = g.run_diagnostics()
    assert result.impedance_status == "LOW"
    assert result.output_status == "OK"


def test_diagnostics_need_a_diagnostics_block() -> None:
    gammacore = default_catalogue().generator("gammacore-sapphire-cv")
    with pytest.raises(ValidationError):
        run_system_diagnostics(gammacore, LEAD, FACTORY_SETTINGS, 3000.0, PulseGenerator("103").now)
