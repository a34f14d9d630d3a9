"""Safety check of the non-invasive devices: skin current density, dose limits, ranges."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openvns.device import catalogue, dose
from openvns.device.catalogue import LeadModel
from openvns.device.safety import SafetyLimits, check
from openvns.device.settings import StimulationSettings as S

GAMMACORE = "gammacore-sapphire-cv"


def _ear_lead(area_cm2: float) -> LeadModel:
    """The tragus electrode with a contact area, as a lead of known area would be."""
    base = catalogue.lead("ear-tragus")
    return base.model_copy(update={"contact_area_cm2_given": area_cm2})


def _tavns(current_mA: float, pw_us: float = 250, f_Hz: float = 25) -> S:
    return S(output_current_mA=current_mA, frequency_Hz=f_Hz, pulse_width_us=pw_us,
             on_time_s=30, off_time_min=0.5)  # fmt: skip


# ------------------------------------------------------------------------- r.m.s. current
def test_pulse_train_rms_known_values() -> None:
    # 2 mA, 250 us biphasic at 25 Hz: two 250 us phases every 40 ms fill 1.25 % of the time
    assert dose.pulse_train_rms_current_mA(2.0, 250, 25) == pytest.approx(2.0 * math.sqrt(0.0125))
    # a train that fills the whole period is DC-like: r.m.s. = amplitude
    assert dose.pulse_train_rms_current_mA(3.0, 500, 1000) == pytest.approx(3.0)
    assert dose.pulse_train_rms_current_mA(3.0, 500, 1000, phases=1) == pytest.approx(
        3.0 * math.sqrt(0.5)
    )


def test_sine_burst_rms_known_values() -> None:
    # continuous sine: I / sqrt 2; gammaCore's 5 cycles of 5 kHz at 25 Hz fill 2.5 %
    assert dose.sine_burst_rms_current_mA(10, 1000, 1000, 1) == pytest.approx(10 / math.sqrt(2))
    assert dose.sine_burst_rms_current_mA(20, 5000, 5, 25) == pytest.approx(
        20 / math.sqrt(2) * math.sqrt(0.025)
    )


@given(st.floats(0, 60), st.floats(1, 1000), st.floats(0.1, 100), st.floats(0.5, 4.0))
def test_rms_is_linear_in_current_and_never_above_it(
    current: float, pw: float, f: float, k: float
) -> None:
    rms = dose.pulse_train_rms_current_mA(current, pw, f)
    assert 0.0 <= rms <= current + 1e-12
    assert dose.pulse_train_rms_current_mA(k * current, pw, f) == pytest.approx(k * rms)


# --------------------------------------------------------------------- skin current density
def test_skin_density_is_rms_current_over_area_and_shannon_is_not_applied() -> None:
    lead = _ear_lead(0.5)
    r = check(_tavns(2.0), "tavns-auricular", lead)
    expected = 2.0 * math.sqrt(2 * 250e-6 * 25) / 0.5
    assert r.normal.rms_current_density_mA_per_cm2 == pytest.approx(expected)
    assert r.normal.charge_density_uC_per_cm2 == pytest.approx(0.5 / 0.5)  # 2 mA x 250 us
    assert r.normal.shannon_k is None
    assert r.ok
    assert "skin_current_density_warn" not in {i.code for i in r.issues}


def test_skin_density_above_the_limit_warns_naming_field_value_and_limit() -> None:
    lead = _ear_lead(0.05)  # a small contact
    r = check(_tavns(10.0, pw_us=1000), "tavns-auricular", lead)
    issue = next(i for i in r.warnings if i.code == "skin_current_density_warn")
    assert (issue.field, issue.value) == ("output_current_mA", 10.0)
    assert "2 mA/cm²" in issue.allowed
    assert r.ok  # a warning, not a block
    # the limit is configuration
    looser = SafetyLimits.default().with_(skin_current_density_warn_mA_per_cm2=100.0)
    quiet = check(_tavns(10.0, pw_us=1000), "tavns-auricular", lead, limits=looser)
    assert "skin_current_density_warn" not in {i.code for i in quiet.issues}


def test_unknown_skin_area_is_a_note_not_a_number() -> None:
    r = check(_tavns(2.0), "tavns-auricular", "ear-cymba-conchae")
    assert r.normal.charge_density_uC_per_cm2 is None
    assert r.normal.rms_current_density_mA_per_cm2 is None
    note = next(i for i in r.notes if i.code == "area_unknown")
    assert "r.m.s. current density" in note.message


def test_gammacore_density_counts_the_sine_burst() -> None:
    lead = catalogue.lead("gammacore-contacts").model_copy(update={"contact_area_cm2_given": 4.0})
    s = S(output_current_mA=20, frequency_Hz=25, pulse_width_us=1000, on_time_s=120,
          off_time_min=60)  # fmt: skip
    r = check(s, GAMMACORE, lead)
    expected = dose.sine_burst_rms_current_mA(20, 5000, 5, 25) / 4.0
    assert r.normal.rms_current_density_mA_per_cm2 == pytest.approx(expected)


# ------------------------------------------------------------------- ranges and dose limits
def test_gammacore_above_60_mA_is_refused() -> None:
    s = S(output_current_mA=61, frequency_Hz=25, pulse_width_us=1000, on_time_s=120,
          off_time_min=60)  # fmt: skip
    issue = next(i for i in check(s, GAMMACORE).errors if i.code == "out_of_range")
    assert (issue.field, issue.value) == ("output_current_mA", 61.0)
    assert "0–60 mA" in issue.allowed


def test_gammacore_any_dose_spacing_counts_against_the_daily_limit() -> None:
    # 31 evenly spaced stimulations a day: off = 24 h / 31 - 2 min, not on a minute grid
    off = (86_400 / 31 - 120) / 60
    s = S(output_current_mA=20, frequency_Hz=25, pulse_width_us=1000, on_time_s=120,
          off_time_min=off)  # fmt: skip
    issue = next(i for i in check(s, GAMMACORE).errors if i.code == "dose_limit")
    assert "31.0 doses a day" in issue.message
    ok = s.with_(off_time_min=(86_400 / 30 - 120) / 60)
    assert check(ok, GAMMACORE).ok


def test_tavns_above_10_mA_is_refused_and_parasym_allows_its_36_mA() -> None:
    assert not check(_tavns(10.5), "tavns-auricular").ok
    s = S(output_current_mA=30, frequency_Hz=20, pulse_width_us=200, on_time_s=30,
          off_time_min=0)  # fmt: skip
    assert check(s, "parasym", "ear-tragus").ok
    assert not check(s.with_(output_current_mA=37), "parasym").ok


def test_an_auricular_device_refuses_the_cervical_contacts() -> None:
    r = check(_tavns(1.0), "tavns-auricular", "gammacore-contacts")
    issue = next(i for i in r.errors if i.code == "lead_incompatible")
    assert issue.value == "gammacore-contacts"
    assert "ear-lobe" in issue.allowed
