"""openvns.device.generator: the virtual implant — programming, magnet, titration, battery."""

from __future__ import annotations

import itertools
import math
from datetime import datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvns.device.catalogue import default_catalogue
from openvns.device.events import Event, EventLog
from openvns.device.generator import PulseGenerator
from openvns.device.safety import UnsafeSettingsError
from openvns.device.settings import (
    FACTORY_SETTINGS,
    TYPICAL_SETTINGS,
    MagnetSettings,
    StimulationSettings,
)
from openvns.errors import ValidationError

T0 = datetime(2026, 1, 1, 9, 0)
PERIOD_S = TYPICAL_SETTINGS.period_s  # 330 s
MAGNET = MagnetSettings(output_current_mA=1.75, pulse_width_us=500, on_time_s=30)
WITH_MAGNET = TYPICAL_SETTINGS.with_(magnet=MAGNET)
LOW_ANCHOR = StimulationSettings(
    output_current_mA=1.0, frequency_Hz=20, pulse_width_us=250, on_time_s=30, off_time_min=5
)
HIGH_ANCHOR = StimulationSettings(
    output_current_mA=2.0, frequency_Hz=30, pulse_width_us=500, on_time_s=30, off_time_min=3
)
#: 3.5 mA at 1000 µs on the 2 mm lead: Shannon k ≈ 2.4, above the blocking 1.85.
BLOCKED = TYPICAL_SETTINGS.with_(output_current_mA=3.5, pulse_width_us=1000)
YEAR_S = 365.25 * 86_400.0


def programmed(
    model: str = "1000",
    settings: StimulationSettings = TYPICAL_SETTINGS,
    *,
    implanted_at: datetime = T0,
) -> PulseGenerator:
    """A generator of ``model`` programmed with ``settings`` at implantation."""
    g = PulseGenerator(model, implanted_at=implanted_at)
    g.program(settings)
    return g


# ------------------------------------------------------------------------- construction
def test_new_generator_ships_at_factory_settings() -> None:
    g = PulseGenerator("1000")
    info = g.interrogate()
    assert g.now == T0 == info.time
    assert info.settings == FACTORY_SETTINGS
    assert info.battery_percent == 100.0
    assert info.battery_indicator == "OK"
    assert not info.near_eos
    assert info.output_enabled
    assert info.lead_impedance_ohm is None
    assert info.impedance_status is None
    assert [e.kind for e in info.history] == ["implanted"]
    assert info.lead_id == "304-20"


@pytest.mark.parametrize("model", ["gammacore-sapphire-cv", "tavns-auricular"])
def test_only_implanted_models_are_accepted(model: str) -> None:
    with pytest.raises(ValidationError) as err:
        PulseGenerator(model)
    assert err.value.field == "model"


def test_incompatible_lead_is_refused() -> None:
    with pytest.raises(ValidationError) as err:
        PulseGenerator("1000", "ear-clip")
    assert err.value.field == "lead"


@pytest.mark.parametrize("z", [0.0, -5.0, math.nan, math.inf])
def test_invalid_impedance_is_refused(z: float) -> None:
    with pytest.raises(ValidationError) as err:
        PulseGenerator("1000", lead_impedance_ohm=z)
    assert err.value.field == "lead_impedance_ohm"


def test_timezone_aware_implant_time_is_refused() -> None:
    from datetime import UTC

    with pytest.raises(ValidationError):
        PulseGenerator("1000", implanted_at=datetime(2026, 1, 1, tzinfo=UTC))


# ------------------------------------------------------------------------- programming
def test_program_refuses_blocked_settings_and_keeps_the_old_ones() -> None:
    g = programmed()
    count = g.counters.programming_count
    with pytest.raises(UnsafeSettingsError) as err:
        g.program(BLOCKED)
    assert err.value.report.errors
    assert g.settings == TYPICAL_SETTINGS
    assert g.counters.programming_count == count
    last = g.interrogate().history[-1]
    assert last.kind == "program_refused"
    assert last.detail["errors"]


def test_warnings_do_not_block_programming() -> None:
    g = PulseGenerator("1000")
    fast = TYPICAL_SETTINGS.with_(off_time_min=0.5)  # OFF = ON and duty cycle 57 %
    report = g.program(fast)
    assert report.ok
    assert report.warnings
    assert g.settings == fast
    event = g.interrogate().history[-1]
    assert event.kind == "programmed"
    assert event.detail["warnings"]


def test_programming_restarts_the_cycle_now() -> None:
    g = PulseGenerator("1000")
    g.advance(timedelta(minutes=7))
    g.program(TYPICAL_SETTINGS)
    summary = g.advance(timedelta(hours=1))
    # trains at 0, 330, ..., 3300 s after programming
    assert summary.trains_by_kind["normal"] == math.ceil(3600 / PERIOD_S)


def test_one_day_of_typical_settings_matches_the_safety_report() -> None:
    g = PulseGenerator("1000")
    report = g.program(TYPICAL_SETTINGS)
    summary = g.advance(timedelta(days=10))
    assert summary.charge_C / 10 == pytest.approx(report.dose.charge_per_day_C, rel=1e-3)
    assert summary.pulses / 10 == pytest.approx(report.dose.pulses_per_day, rel=1e-3)
    assert g.counters.trains_delivered == summary.trains_by_kind["normal"]
    assert g.counters.charge_delivered_C == pytest.approx(summary.charge_C)


def test_advance_refuses_the_past() -> None:
    g = programmed()
    g.advance(timedelta(days=1))
    with pytest.raises(ValidationError) as err:
        g.advance(T0)
    assert err.value.field == "until"
    with pytest.raises(ValidationError):
        g.advance(timedelta(seconds=-1))


def test_advance_to_a_datetime_and_by_zero() -> None:
    g = programmed()
    g.advance(T0 + timedelta(hours=5))
    assert g.now == T0 + timedelta(hours=5)
    empty = g.advance(timedelta(0))
    assert empty.pulses == 0
    assert empty.events == ()


def test_advance_in_pieces_equals_advance_at_once() -> None:
    a, b = programmed(), programmed()
    whole = a.advance(timedelta(days=2))
    parts = [b.advance(timedelta(hours=h)) for h in (0.1, 7.3, 13, 27.6)]
    assert sum(p.trains_by_kind["normal"] for p in parts) == whole.trains_by_kind["normal"]
    assert sum(p.charge_C for p in parts) == pytest.approx(whole.charge_C, rel=1e-12)
    assert b.battery_percent == pytest.approx(a.battery_percent, rel=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    pieces_s=st.lists(st.floats(1.0, 20_000.0), min_size=1, max_size=8),
    swipe_s=st.floats(0.0, 40_000.0),
    hold_s=st.floats(0.0, 40_000.0),
)
def test_any_split_of_time_delivers_the_same(
    pieces_s: list[float], swipe_s: float, hold_s: float
) -> None:
    """Trains running across advance() calls are carried: the split of time does not matter."""
    a, b = programmed(settings=WITH_MAGNET), programmed(settings=WITH_MAGNET)
    for g in (a, b):
        g.magnet_swipe(T0 + timedelta(seconds=swipe_s))
        g.magnet_hold(T0 + timedelta(seconds=hold_s), T0 + timedelta(seconds=hold_s + 900))
    # timedelta keeps microseconds: the single advance covers exactly the sum of the pieces
    pieces = [timedelta(seconds=p) for p in pieces_s]
    a.advance(sum(pieces, timedelta()))
    for piece in pieces:
        b.advance(piece)
    ca, cb = a.counters, b.counters
    assert cb.trains_delivered == ca.trains_delivered
    assert cb.charge_delivered_C == pytest.approx(ca.charge_delivered_C, rel=1e-9, abs=1e-15)
    assert cb.stimulation_s == pytest.approx(ca.stimulation_s, rel=1e-9, abs=1e-9)
    assert b.battery_percent == pytest.approx(a.battery_percent, rel=1e-12)


# ------------------------------------------------------------------------- magnet
def test_magnet_swipe_adds_exactly_one_train() -> None:
    plain, swiped = programmed(settings=WITH_MAGNET), programmed(settings=WITH_MAGNET)
    # during the OFF time: the 30 s magnet train ends before the next normal train
    assert swiped.magnet_swipe(T0 + timedelta(seconds=100))
    a, b = plain.advance(timedelta(days=1)), swiped.advance(timedelta(days=1))
    assert b.trains_by_kind == {**a.trains_by_kind, "magnet": 1}
    pulses = MAGNET.on_time_s * WITH_MAGNET.frequency_Hz  # no ramp on magnet trains
    assert b.pulses - a.pulses == pytest.approx(pulses)
    charge = pulses * MAGNET.output_current_mA * 1e-3 * MAGNET.pulse_width_us * 1e-6
    assert b.charge_C - a.charge_C == pytest.approx(charge)
    assert swiped.counters.magnet_activations == 1
    assert [e.kind for e in b.events] == []  # the swipe was logged when it was made
    assert swiped.interrogate().history[-1].kind == "magnet_swipe"


def test_magnet_train_pre_empts_a_running_normal_train() -> None:
    plain, swiped = programmed(settings=WITH_MAGNET), programmed(settings=WITH_MAGNET)
    swiped.advance(timedelta(seconds=10))
    assert swiped.magnet_swipe()
    plain.advance(T0 + timedelta(hours=1))
    b = swiped.advance(T0 + timedelta(hours=1))
    assert b.trains_by_kind["magnet"] == 1
    a_count, b_count = plain.counters, swiped.counters
    assert b_count.trains_delivered == a_count.trains_delivered + 1
    # the first normal train stopped at 10 s instead of delivering 34 s
    expected = a_count.stimulation_s - 34 + 10 + MAGNET.on_time_s
    assert b_count.stimulation_s == pytest.approx(expected)


def test_magnet_swipe_refused_without_magnet_settings_or_output() -> None:
    g = programmed()
    assert not g.magnet_swipe()
    g.program(TYPICAL_SETTINGS.with_(magnet=MAGNET.model_copy(update={"output_current_mA": 0.0})))
    assert not g.magnet_swipe()
    assert g.counters.magnet_activations == 0
    assert g.advance(timedelta(hours=1)).trains_by_kind["magnet"] == 0


def test_magnet_swipe_in_the_past_is_refused() -> None:
    g = programmed(settings=WITH_MAGNET)
    g.advance(timedelta(hours=1))
    with pytest.raises(ValidationError) as err:
        g.magnet_swipe(T0)
    assert err.value.field == "at"


def test_magnet_hold_suppresses_normal_trains_and_swipes() -> None:
    plain, held = programmed(settings=WITH_MAGNET), programmed(settings=WITH_MAGNET)
    start, end = T0 + timedelta(hours=1), T0 + timedelta(hours=3)
    held.magnet_hold(start, end)
    assert not held.magnet_swipe(start + timedelta(minutes=5))
    a, b = plain.advance(timedelta(days=1)), held.advance(timedelta(days=1))
    # normal trains start at n x 330 s: 22 of them start in [3600 s, 10800 s)
    assert a.trains_by_kind["normal"] - b.trains_by_kind["normal"] == 22
    assert b.trains_by_kind["magnet"] == 0
    kinds = [e.kind for e in held.interrogate().history]
    assert "magnet_hold" in kinds
    assert "magnet_swipe" not in kinds


def test_magnet_hold_cuts_the_running_train_and_is_reported() -> None:
    g = programmed(settings=WITH_MAGNET)
    g.magnet_hold(T0 + timedelta(seconds=10), T0 + timedelta(seconds=60))
    g.advance(timedelta(seconds=20))
    assert g.interrogate().magnet_held
    summary = g.advance(timedelta(seconds=40))
    assert summary.stimulation_s == 0.0
    assert not g.interrogate().magnet_held


def test_magnet_hold_needs_an_end_after_its_start() -> None:
    g = programmed()
    with pytest.raises(ValidationError) as err:
        g.magnet_hold(T0 + timedelta(hours=2), T0 + timedelta(hours=1))
    assert err.value.field == "end"


def test_history_keeps_the_last_magnet_activations() -> None:
    g = programmed(settings=WITH_MAGNET)
    for i in range(20):
        assert g.magnet_swipe(T0 + timedelta(minutes=10 * i + 1))
    swipes = [e for e in g.interrogate().history if e.kind == "magnet_swipe"]
    assert len(swipes) == 20
    assert g.counters.magnet_activations == 20


def test_event_log_drops_oldest_but_keeps_recent_magnet_swipes() -> None:
    log = EventLog(max_events=6, keep_magnet=3)
    for i in range(5):
        log.add(Event(time=T0 + timedelta(minutes=i), kind="magnet_swipe"))
    for i in range(5, 10):
        log.add(Event(time=T0 + timedelta(minutes=i), kind="diagnostics"))
    kinds = [e.kind for e in log]
    assert len(log) == 6
    assert kinds.count("magnet_swipe") == 3
    times = [e.time for e in log]
    assert times == sorted(times)


def test_events_are_kept_in_time_order() -> None:
    g = programmed(settings=WITH_MAGNET)
    g.magnet_swipe(T0 + timedelta(hours=5))
    g.advance(timedelta(hours=1))
    g.run_diagnostics()
    times = [e.time for e in g.interrogate().history]
    assert times == sorted(times)


# ------------------------------------------------------------------------- titration
def test_scheduled_titration_is_applied_on_its_dates() -> None:
    g = programmed(settings=TYPICAL_SETTINGS.with_(output_current_mA=0.25))
    day1, day3 = T0 + timedelta(days=1), T0 + timedelta(days=3, hours=2)
    step1 = TYPICAL_SETTINGS.with_(output_current_mA=0.5)
    step2 = TYPICAL_SETTINGS.with_(output_current_mA=0.75)
    g.schedule_titration([(day1, step1), (day3, step2)])
    assert len(g.interrogate().scheduled_steps) == 2
    g.advance(day1 - timedelta(seconds=1))
    assert g.interrogate().settings.output_current_mA == 0.25
    summary = g.advance(day1 + timedelta(hours=1))
    assert g.interrogate().settings.output_current_mA == 0.5
    applied = [e for e in summary.events if e.kind == "scheduled_step_applied"]
    assert [e.time for e in applied] == [day1]
    g.advance(day3)
    assert g.settings.output_current_mA == 0.75
    info = g.interrogate()
    assert info.scheduled_steps == ()
    assert info.counters.programming_count == 3


def test_titration_step_changes_the_delivered_charge_from_its_date() -> None:
    g = programmed(settings=TYPICAL_SETTINGS.with_(output_current_mA=0.5))
    g.schedule_titration([(T0 + timedelta(days=1), TYPICAL_SETTINGS.with_(output_current_mA=1.0))])
    before = g.advance(timedelta(days=1)).charge_C
    after = g.advance(timedelta(days=1)).charge_C
    assert after == pytest.approx(2 * before, rel=1e-2)


def test_titration_is_all_or_nothing() -> None:
    g = programmed()
    ok = TYPICAL_SETTINGS.with_(output_current_mA=1.75)
    with pytest.raises(UnsafeSettingsError):
        g.schedule_titration([(T0 + timedelta(days=1), ok), (T0 + timedelta(days=2), BLOCKED)])
    assert g.interrogate().scheduled_steps == ()
    g.advance(timedelta(days=3))
    assert g.settings == TYPICAL_SETTINGS


@pytest.mark.parametrize(
    "offsets_h", [[-1.0], [5.0, 5.0], [5.0, 2.0]], ids=["past", "same", "unsorted"]
)
def test_titration_times_must_be_future_and_increasing(offsets_h: list[float]) -> None:
    g = programmed()
    g.advance(timedelta(hours=2))
    steps = [(g.now + timedelta(hours=h), TYPICAL_SETTINGS) for h in offsets_h]
    with pytest.raises(ValidationError):
        g.schedule_titration(steps)
    assert g.interrogate().scheduled_steps == ()


def test_titration_needs_scheduled_programming() -> None:
    g = programmed("105")
    with pytest.raises(ValidationError) as err:
        g.schedule_titration([(T0 + timedelta(days=1), TYPICAL_SETTINGS)])
    assert err.value.field == "scheduled_programming"


# ------------------------------------------------------------------------- day / night
def test_day_night_switches_the_delivered_charge() -> None:
    start = datetime(2026, 1, 1, 0, 0)
    night = TYPICAL_SETTINGS.with_(output_current_mA=0.5)
    dn = PulseGenerator("1000", implanted_at=start)
    dn.set_day_night(TYPICAL_SETTINGS, night, day_starts=time(8), night_starts=time(22))
    assert dn.settings == night  # midnight: night program
    day_only, night_only = (
        programmed(settings=s, implanted_at=start) for s in (TYPICAL_SETTINGS, night)
    )
    q_dn = dn.advance(timedelta(days=2)).charge_C
    q_day = day_only.advance(timedelta(days=2)).charge_C
    q_night = night_only.advance(timedelta(days=2)).charge_C
    assert q_dn == pytest.approx(q_day * 14 / 24 + q_night * 10 / 24, rel=0.01)
    dn.advance(datetime(2026, 1, 3, 12, 0))
    assert dn.settings == TYPICAL_SETTINGS
    assert dn.interrogate().day_night is not None


def test_day_night_longevity_lies_between_the_two_programs() -> None:
    night = TYPICAL_SETTINGS.with_(output_current_mA=0.5)
    g = PulseGenerator("1000")
    g.set_day_night(TYPICAL_SETTINGS, night)
    day_only, night_only = programmed(), programmed(settings=night)
    assert day_only.longevity_years() < g.longevity_years() < night_only.longevity_years()


def test_programming_ends_day_night_and_day_night_excludes_titration() -> None:
    g = PulseGenerator("1000")
    g.set_day_night(TYPICAL_SETTINGS, TYPICAL_SETTINGS.with_(output_current_mA=0.5))
    with pytest.raises(ValidationError):
        g.schedule_titration([(T0 + timedelta(days=1), TYPICAL_SETTINGS)])
    g.program(TYPICAL_SETTINGS)
    assert g.interrogate().day_night is None
    g.schedule_titration([(T0 + timedelta(days=1), TYPICAL_SETTINGS)])
    with pytest.raises(ValidationError):
        g.set_day_night(TYPICAL_SETTINGS, TYPICAL_SETTINGS)


def test_day_night_checks_both_programs_and_needs_the_feature() -> None:
    g = PulseGenerator("1000")
    with pytest.raises(UnsafeSettingsError):
        g.set_day_night(TYPICAL_SETTINGS, BLOCKED)
    assert g.interrogate().day_night is None
    assert g.settings == FACTORY_SETTINGS
    with pytest.raises(ValidationError):
        g.set_day_night(
            TYPICAL_SETTINGS, TYPICAL_SETTINGS, day_starts=time(8), night_starts=time(8)
        )
    with pytest.raises(ValidationError) as err:
        PulseGenerator("106").set_day_night(TYPICAL_SETTINGS, TYPICAL_SETTINGS)
    assert err.value.field == "day_night"


# ------------------------------------------------------------------------- lead and output
@pytest.mark.parametrize(("fault", "status"), [("break", "HIGH"), ("short", "LOW"), (None, "OK")])
def test_lead_faults_show_in_diagnostics(fault: str | None, status: str) -> None:
    g = programmed()
    g.inject_lead_fault(fault)  # type: ignore[arg-type]
    assert g.run_diagnostics().impedance_status == status
    assert g.interrogate().impedance_status == status
    assert g.interrogate().history[-2].kind == "lead_fault"


def test_invalid_fault_kind_is_refused() -> None:
    with pytest.raises(ValidationError):
        programmed().inject_lead_fault("melted")  # type: ignore[arg-type]


def test_output_limited_by_compliance_into_a_broken_lead() -> None:
    big = TYPICAL_SETTINGS.with_(output_current_mA=3.5, pulse_width_us=130)
    g = programmed("103", settings=big)
    g.inject_lead_fault("break")
    assert g.run_diagnostics().output_status == "LIMIT"
    broken = g.advance(timedelta(days=1))
    g.inject_lead_fault(None)
    intact = g.advance(timedelta(days=1))
    geo = g.lead.geometry
    assert geo is not None
    i_max = g.model.compliance_voltage_V / float(geo.fault_break_impedance_ohm.value) * 1e3
    assert broken.charge_C / intact.charge_C == pytest.approx(i_max / 3.5)


# ------------------------------------------------------------------------- battery
def test_battery_percent_decreases_monotonically() -> None:
    g = programmed(settings=HIGH_ANCHOR)
    levels = [g.battery_percent]
    for _ in range(24):
        g.advance(timedelta(days=30))
        levels.append(g.battery_percent)
    assert all(b < a for a, b in itertools.pairwise(levels))


def test_indicators_progress_to_eos_and_output_is_disabled() -> None:
    g = programmed(settings=HIGH_ANCHOR)
    g.program(HIGH_ANCHOR.with_(magnet=MAGNET))
    summary = g.advance(timedelta(days=4 * 365))
    kinds = [e.kind for e in summary.events if e.kind.startswith("battery_")]
    assert kinds == ["battery_ifi", "battery_neos", "battery_eos"]
    times = [e.time for e in summary.events if e.kind.startswith("battery_")]
    assert times == sorted(times)
    info = g.interrogate()
    assert info.battery_indicator == "EOS"
    assert info.near_eos
    assert not info.output_enabled
    assert info.battery_percent == 0.0  # quiescent drain went on to empty
    assert not g.magnet_swipe()
    after = g.advance(timedelta(days=30))
    assert after.pulses == 0
    assert sum(after.trains_by_kind.values()) == 0
    assert g.longevity_years() == 0.0


def test_quiescent_drain_continues_after_eos() -> None:
    g = programmed(settings=HIGH_ANCHOR)
    eos_year = g.longevity_years()
    g.advance(timedelta(days=eos_year * 365.25 + 1))
    assert g.battery_indicator == "EOS"
    p = g.battery_percent
    assert 0 < p <= g.model.battery.eos_percent.value  # type: ignore[union-attr]
    g.advance(timedelta(days=10))
    assert g.battery_percent < p


def _eos_years(g: PulseGenerator, horizon_years: float) -> float:
    summary = g.advance(timedelta(days=horizon_years * 365.25))
    eos = [e for e in summary.events if e.kind == "battery_eos"]
    assert len(eos) == 1
    return (eos[0].time - g.implanted_at).total_seconds() / YEAR_S


@pytest.mark.parametrize(("anchor", "years"), [(LOW_ANCHOR, 8.0), (HIGH_ANCHOR, 3.0)])
def test_longevity_anchors_are_reproduced_by_advancing(
    anchor: StimulationSettings, years: float
) -> None:
    g = PulseGenerator("103", lead_impedance_ohm=3000.0)
    g.program(anchor)
    predicted = g.longevity_years()
    assert predicted == pytest.approx(years, rel=0.02)
    assert _eos_years(g, years + 1) == pytest.approx(predicted, rel=0.02)


def test_longevity_is_consistent_after_running_a_while() -> None:
    g = programmed(settings=HIGH_ANCHOR)
    g.advance(timedelta(days=365))
    remaining = g.longevity_years()
    assert 1.0 + remaining == pytest.approx(3.0, rel=0.01)


def test_longevity_uses_the_true_impedance() -> None:
    g = programmed(settings=HIGH_ANCHOR)
    nominal = g.longevity_years()
    g.inject_lead_fault("short")
    assert g.longevity_years() > nominal


def test_catalogue_generators_all_build() -> None:
    implanted = [g.id for g in default_catalogue().generators.values() if g.implanted]
    for model in implanted:
        assert PulseGenerator(model).interrogate().model_id == model


def test_eos_is_logged_once_when_advancing_day_by_day() -> None:
    g = programmed(settings=HIGH_ANCHOR)
    g.advance(timedelta(days=3 * 365.25 - 5))
    assert g.battery_indicator == "NEOS"
    for _ in range(10):
        g.advance(timedelta(days=1))
    eos = [e for e in g.interrogate().history if e.kind == "battery_eos"]
    assert len(eos) == 1
    assert not g.output_enabled
