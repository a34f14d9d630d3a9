"""openvns.device.safety.check: every error and warning at once, each fully described."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError as PydanticValidationError

from openvns.device import catalogue, dose
from openvns.device.catalogue import GeneratorModel
from openvns.device.safety import Issue, SafetyLimits, SafetyReport, UnsafeSettingsError, check
from openvns.device.settings import TYPICAL_SETTINGS, AutoStimSettings, MagnetSettings
from openvns.device.settings import StimulationSettings as S
from tests.strategies import (
    any_settings,
    disallowed_values,
    generators,
    leads_for,
    settings_for,
)

RANGE_CODES = {"out_of_range", "not_selectable"}
GAMMACORE = "gammacore-sapphire-cv"


def typical(**changes: float) -> S:
    return TYPICAL_SETTINGS.with_(**changes)


def gc_settings(off_time_min: float) -> S:
    return S(
        output_current_mA=20,
        frequency_Hz=25,
        pulse_width_us=1000,
        on_time_s=120,
        off_time_min=off_time_min,
    )


def codes(report: SafetyReport, severity: str | None = None) -> set[str]:
    return {i.code for i in report.issues if severity is None or i.severity == severity}


def only(report: SafetyReport, code: str) -> Issue:
    found = [i for i in report.issues if i.code == code]
    assert len(found) == 1, report.issues
    return found[0]


def assert_well_formed(issue: Issue) -> None:
    assert issue.field
    assert issue.allowed
    assert issue.severity in ("error", "warning", "note")
    assert issue.value is not None
    if issue.severity == "error" and issue.field not in ("magnet", "autostim"):
        assert issue.field in issue.message


# ------------------------------------------------------------------- clean and typical
def test_typical_settings_are_clean() -> None:
    report = check(TYPICAL_SETTINGS, "1000", "2mm")
    assert report.ok
    assert report.issues == ()
    assert report.lead_id == "304-20"
    assert report.normal.charge_per_phase_uC == pytest.approx(0.375)
    assert report.normal.charge_density_uC_per_cm2 == pytest.approx(0.375 / 0.0471, rel=1e-3)


def test_derived_dose_numbers_follow_the_documented_formulas() -> None:
    s = typical(frequency_Hz=30.0)  # 1.5 mA, 250 µs, 30 Hz, 30 s / 5 min (reference §1.3)
    m = check(s, "106").dose
    assert m.duty_cycle == pytest.approx(34 / 330)
    assert m.duty_cycle_without_ramps == pytest.approx(30 / 330)
    assert m.trains_per_day == pytest.approx(86_400 / 330)  # 261.8
    # pulses/day count the ramps: trains/day x (ON + 2 ramps) x f
    assert m.pulses_per_day == pytest.approx(86_400 / 330 * 34 * 30)
    assert m.pulses_per_day * 30 / 34 == pytest.approx(235_636, abs=1)  # reference, ramps excluded
    # charge/day weights the ramps by their mean amplitude (1/2): ON + ramp
    assert m.charge_per_day_C == pytest.approx(86_400 / 330 * 32 * 30 * 0.375e-6)
    assert m.stimulation_time_per_day_s == pytest.approx(86_400 / 330 * 34)


def test_gammacore_dose_numbers_count_every_sine_cycle() -> None:
    s = S(
        output_current_mA=20, frequency_Hz=25, pulse_width_us=1000, on_time_s=120, off_time_min=60
    )
    r = check(s, GAMMACORE)
    assert r.ok
    assert r.lead_id == "gammacore-contacts"
    assert r.dose.pulses_per_day == pytest.approx(86_400 / 3720 * 120 * 25 * 5)
    assert r.normal.charge_per_phase_uC == pytest.approx(dose.sine_charge_per_phase_uC(20, 5000))
    assert r.normal.shannon_k is None
    assert codes(r) == {"area_unknown"}


# ----------------------------------------------------------------------- blocking errors
def test_out_of_range_current() -> None:
    r = check(typical(output_current_mA=4.0), "102")
    issue = only(r, "out_of_range")
    assert (issue.severity, issue.field, issue.value) == ("error", "output_current_mA", 4.0)
    assert issue.allowed == "0–3.5 mA in 0.25 mA steps"
    assert not r.ok


def test_value_between_steps_is_not_selectable_and_nearest_is_named() -> None:
    r = check(typical(output_current_mA=1.3), "102")
    issue = only(r, "not_selectable")
    assert (issue.field, issue.value) == ("output_current_mA", 1.3)
    assert "nearest: 1.25 mA" in issue.message
    # the same value is not selectable on the 0.125 mA grid of SenTiva either, 1.375 is
    assert not check(typical(output_current_mA=1.3), "1000").ok
    assert check(typical(output_current_mA=1.375), "1000").ok


def test_pulse_width_not_in_the_list() -> None:
    issue = only(check(typical(pulse_width_us=300), "103"), "not_selectable")
    assert issue.field == "pulse_width_us"
    assert "130, 250, 500, 750, 1000" in issue.allowed


def test_autostim_on_model_102_is_refused() -> None:
    auto = AutoStimSettings(
        threshold_pct=20, output_current_mA=1.0, pulse_width_us=250, on_time_s=30
    )
    r = check(TYPICAL_SETTINGS.model_copy(update={"autostim": auto}), "102")
    issue = only(r, "feature_unavailable")
    assert (issue.severity, issue.field, issue.value) == ("error", "autostim", "set")
    assert "102" in issue.allowed
    assert r.autostim is None
    # the same settings are fine on an AutoStim model
    assert check(TYPICAL_SETTINGS.model_copy(update={"autostim": auto}), "106").ok


def test_magnet_on_a_device_without_magnet_mode() -> None:
    mag = MagnetSettings(output_current_mA=1.0, pulse_width_us=250, on_time_s=30)
    r = check(TYPICAL_SETTINGS.model_copy(update={"magnet": mag}), "tavns-auricular")
    assert "feature_unavailable" in codes(r, "error")


def test_lead_that_does_not_fit_the_generator() -> None:
    issue = only(check(TYPICAL_SETTINGS, "102", "gammacore-contacts"), "lead_incompatible")
    assert (issue.field, issue.value) == ("lead", "gammacore-contacts")
    assert "304-20" in issue.allowed


def test_shannon_k_above_block_is_an_error_with_the_current_limit() -> None:
    r = check(typical(output_current_mA=2.5, pulse_width_us=1000), "1000", "2mm")
    issue = only(r, "shannon_k_block")
    assert (issue.severity, issue.field, issue.value) == ("error", "output_current_mA", 2.5)
    assert "1.83 mA" in issue.allowed  # reference §3.1: k = 1.85 at 1.83 mA @1000 µs, 2 mm
    assert r.normal.shannon_k == pytest.approx(2.12, abs=0.005)
    assert r.normal.max_current_at_k_block_mA == pytest.approx(1.83, abs=0.005)
    assert not r.ok
    with pytest.raises(UnsafeSettingsError) as info:
        r.raise_for_errors()
    assert info.value.report is r


@pytest.mark.parametrize(
    ("lead", "pw_us", "limit_mA"), [("2mm", 1000, 1.83), ("2mm", 750, 2.44), ("3mm", 1000, 2.24)]
)
def test_shannon_block_switches_at_the_reference_current_limit(
    lead: str, pw_us: float, limit_mA: float
) -> None:
    below = limit_mA - 0.01
    above = limit_mA + 0.01
    lead_model = catalogue.lead(lead)
    assert lead_model.contact_area_cm2 is not None
    assert dose.max_current_for_k_mA(1.85, pw_us, lead_model.contact_area_cm2) == pytest.approx(
        limit_mA, abs=0.005
    )
    # on the 0.125 mA grid of SenTiva, the nearest selectable values around the limit
    gen = catalogue.generator("1000")
    lo = math.floor(below / 0.125) * 0.125
    hi = math.ceil(above / 0.125) * 0.125
    assert "shannon_k_block" not in codes(
        check(typical(output_current_mA=lo, pulse_width_us=pw_us), gen, lead)
    )
    assert "shannon_k_block" in codes(
        check(typical(output_current_mA=hi, pulse_width_us=pw_us), gen, lead)
    )


def test_the_3mm_lead_allows_more_current() -> None:
    s = typical(output_current_mA=2.0, pulse_width_us=1000)
    assert not check(s, "1000", "2mm").ok  # k 1.93
    assert check(s, "1000", "3mm").ok


def test_magnet_charge_is_checked_and_names_the_magnet_field() -> None:
    mag = MagnetSettings(output_current_mA=2.5, pulse_width_us=1000, on_time_s=60)
    r = check(TYPICAL_SETTINGS.model_copy(update={"magnet": mag}), "105", "2mm")
    issue = only(r, "shannon_k_block")
    assert issue.field == "magnet_output_current_mA"
    assert r.magnet is not None
    assert r.magnet.shannon_k == pytest.approx(2.12, abs=0.005)


def test_gammacore_dose_limit() -> None:
    base = S(
        output_current_mA=20, frequency_Hz=25, pulse_width_us=1000, on_time_s=120, off_time_min=46
    )
    assert check(base, GAMMACORE).ok  # 86400 / (120 + 2760) s = 30 doses a day
    r = check(base.with_(off_time_min=45), GAMMACORE)
    issue = only(r, "dose_limit")
    assert (issue.severity, issue.field, issue.value) == ("error", "off_time_min", 45.0)
    assert "≥ 46 min" in issue.allowed
    assert "30" in issue.message


# ------------------------------------------------------------------------------ warnings
def test_off_not_longer_than_on_and_duty_above_half_warn() -> None:
    r = check(typical(on_time_s=30, off_time_min=0.5), "103")  # 34 / 60 s = 56.7 %
    assert r.ok
    assert codes(r, "warning") == {"off_not_greater_than_on", "duty_cycle_warn"}
    off = only(r, "off_not_greater_than_on")
    assert (off.field, off.value) == ("off_time_min", 0.5)
    duty = only(r, "duty_cycle_warn")
    assert "56.7%" in duty.message
    assert "50%" in duty.allowed


def test_off_longer_than_on_and_duty_below_half_are_quiet() -> None:
    r = check(typical(on_time_s=30, off_time_min=0.8), "103")  # 34 / 78 s = 43.6 %
    assert codes(r) == set()


def test_off_greater_than_on_rule_does_not_apply_to_tavns() -> None:
    s = S(
        output_current_mA=1.0, frequency_Hz=25, pulse_width_us=250, on_time_s=30, off_time_min=0.5
    )
    assert "off_not_greater_than_on" not in codes(check(s, "tavns-auricular"))


def test_k_above_warning_limit_warns() -> None:
    r = check(typical(output_current_mA=2.5, pulse_width_us=500), "1000", "2mm")  # k 1.52
    assert r.ok
    issue = only(r, "shannon_k_warn")
    assert (issue.field, issue.value) == ("output_current_mA", 2.5)
    assert "charge_density_warn" not in codes(r)  # 26.5 µC/cm²


def test_charge_density_above_30_warns() -> None:
    r = check(typical(output_current_mA=1.5, pulse_width_us=1000), "1000", "2mm")  # 31.8, k 1.68
    assert r.ok
    assert codes(r, "warning") == {"charge_density_warn", "shannon_k_warn"}
    assert "30 µC/cm²" in only(r, "charge_density_warn").allowed
    # with a higher k warning limit only the density warning is left
    relaxed = SafetyLimits.default().with_(shannon_k_warn=1.8)
    r2 = check(typical(output_current_mA=1.5, pulse_width_us=1000), "1000", "2mm", limits=relaxed)
    assert codes(r2) == {"charge_density_warn"}


# ------------------------------------------------------------------------------- limits
def test_default_limits_come_from_the_data_file() -> None:
    lim = SafetyLimits.default()
    assert (lim.shannon_k_block, lim.shannon_k_warn) == (1.85, 1.5)
    assert lim.charge_density_warn_uC_per_cm2 == 30.0
    assert lim.duty_cycle_warn == 0.5


def test_configurable_limits_change_the_outcome() -> None:
    s = typical(output_current_mA=2.5, pulse_width_us=1000)  # k 2.12 on 2 mm
    assert not check(s, "1000", "2mm").ok
    loose = SafetyLimits.default().with_(shannon_k_block=2.2, shannon_k_warn=2.0)
    r = check(s, "1000", "2mm", limits=loose)
    assert r.ok
    assert "shannon_k_warn" in codes(r)
    strict = SafetyLimits.default().with_(shannon_k_block=0.4, shannon_k_warn=0.0)  # k 0.47
    assert "shannon_k_block" in codes(check(TYPICAL_SETTINGS, "1000", "2mm", limits=strict))
    fast = typical(on_time_s=30, off_time_min=0.5)
    wide = SafetyLimits.default().with_(duty_cycle_warn=0.6)
    assert "duty_cycle_warn" not in codes(check(fast, "103", limits=wide))
    assert check(fast, "103", limits=wide).limits == wide


def test_with_ignores_none() -> None:
    lim = SafetyLimits.default()
    assert lim.with_(shannon_k_block=None) == lim


@pytest.mark.parametrize(
    "changes",
    [
        {"shannon_k_warn": 2.0},  # warn above block
        {"shannon_k_block": 1.0},  # block below warn
        {"duty_cycle_warn": 0.0},
        {"duty_cycle_warn": 1.5},
        {"charge_density_warn_uC_per_cm2": -1.0},
        {"shannon_k_block": math.nan},
        {"shannon_k_block": math.inf},
        {"shannon_k_block": 1e9},  # overflowed 10**k before the bound
        {"shannon_k_warn": -1e9},
    ],
)
def test_invalid_limits_are_rejected(changes: dict[str, float]) -> None:
    with pytest.raises(PydanticValidationError):
        SafetyLimits.default().with_(**changes)


# ------------------------------------------------------------------------------- notes
def test_output_off_is_a_note_not_an_error() -> None:
    r = check(typical(output_current_mA=0.0), "102")
    assert r.ok
    assert codes(r) == {"output_off"}
    assert r.normal.shannon_k == -math.inf


def test_check_does_not_crash_on_a_subnormal_pulse_width() -> None:
    r = check(typical(pulse_width_us=5e-324), "102", "2mm")
    assert "out_of_range" in codes(r, "error")  # 130-1000 µs
    assert r.normal.max_current_at_k_block_mA == math.inf


# -------------------------------------------------------------------------- properties
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(st.data())
def test_check_never_accepts_a_value_outside_the_catalogue(data: st.DataObject) -> None:
    gen: GeneratorModel = data.draw(generators())
    base = data.draw(settings_for(gen, modes=True))
    flat = base.flat()
    field = data.draw(st.sampled_from(sorted(flat)))
    rng = gen.parameters[field]
    bad = data.draw(disallowed_values(rng))
    s = _with_flat(base, field, bad)
    r = check(s, gen)
    hits = [i for i in r.errors if i.field == field and i.code in RANGE_CODES]
    assert len(hits) == 1, r.issues
    assert hits[0].value == pytest.approx(bad)
    assert hits[0].allowed == rng.describe()
    assert not r.ok


def _with_flat(s: S, field: str, value: float) -> S:
    for prefix, mode in (("magnet_", "magnet"), ("autostim_", "autostim")):
        if field.startswith(prefix):
            sub = getattr(s, mode)
            return s.model_copy(update={mode: sub.model_copy(update={field[len(prefix) :]: value})})
    if field == "heartbeat_sensitivity":
        assert s.autostim is not None
        return s.model_copy(
            update={"autostim": s.autostim.model_copy(update={"heartbeat_sensitivity": value})}
        )
    return s.with_(**{field: value})


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_selectable_settings_have_no_range_errors(data: st.DataObject) -> None:
    gen: GeneratorModel = data.draw(generators())
    lead = data.draw(leads_for(gen))
    s = data.draw(settings_for(gen, modes=True))
    r = check(s, gen, lead)
    for issue in r.issues:
        assert_well_formed(issue)
    assert not codes(r, "error") & (RANGE_CODES | {"feature_unavailable", "lead_incompatible"})
    # within Shannon (and the dose limit), selectable settings are programmable
    ks = [m.shannon_k for m in (r.normal, r.magnet, r.autostim) if m and m.shannon_k is not None]
    within_k = all(k <= r.limits.shannon_k_block for k in ks)
    if within_k and "dose_limit" not in codes(r):
        assert r.ok, r.issues


@settings(max_examples=150, deadline=None)
@given(generators(), any_settings(modes=True))
def test_ok_reports_contain_only_catalogue_values(gen: GeneratorModel, s: S) -> None:
    r = check(s, gen)
    for issue in r.issues:
        assert_well_formed(issue)
    if r.ok:
        for field, value in s.flat().items():
            assert gen.parameters[field].allows(value), field
        assert r.normal.shannon_k is None or r.normal.shannon_k <= r.limits.shannon_k_block
