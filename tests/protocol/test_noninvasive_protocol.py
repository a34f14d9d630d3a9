"""Protocol clauses of the non-invasive devices: doses, acute use, continuous and
exhalation-gated schedules, currents relative to the sensory threshold and the sham."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError as PydanticValidationError

from openvns.device.catalogue import default_catalogue
from openvns.errors import ValidationError
from openvns.protocol import (
    AcuteUse,
    ConstantCurrent,
    Doses,
    Protocol,
    ProtocolSyntaxError,
    RelativeCurrent,
    SensationMatchedSham,
    Stimulation,
    dosing_defaults,
)

GAMMACORE = "gammacore-sapphire-cv"
PREMIUM = "25.0 mA; 25 Hz; 1000 us; 2 x 120 s doses, 3 times a day"
PREVA = "25.0 mA; 25 Hz; 1000 us; 2 x 120 s doses, 3 times a day; at attack onset: 3 x 120 s"
ACT1 = "25.0 mA; 25 Hz; 1000 us; at attack onset: 3 x 120 s"
STRAUBE = "1.5 x sensory threshold, max 10.0 mA; 1 Hz; 250 us; 30 s on / 0.5 min off; 4 h per day"
RAVANS = "1.5 x sensory threshold, max 10.0 mA; 25 Hz; 450 us; exhalation-gated; 0.5 h per day"
SHAM = "sensation-matched sham, 30 s ramp; 20 Hz; 200 us; continuous; 1 h per day"


@pytest.mark.parametrize(
    "text",
    [
        PREMIUM,
        PREVA,
        ACT1,
        STRAUBE,
        RAVANS,
        SHAM,
        "0.0 mA; 25 Hz; 250 us; 30 s on / 0.5 min off; 4 h per day",
        "0.0 mA; 0.1 Hz; 1000 us; 2 x 120 s doses, 3 times a day",
        "20.0 mA; 25 Hz; 1000 us; 1 x 120 s dose, once a day",
        "20.0 mA; 25 Hz; 1000 us; 2 x 120 s doses, twice a day; at attack onset: 1 x 120 s",
        "2 x sensory threshold, max 5.0 mA; 20 Hz; 200 us; continuous",
    ],
)
def test_canonical_non_invasive_examples_round_trip(text: str) -> None:
    p = Protocol.parse(text)
    assert str(p) == text
    assert Protocol.parse(str(p)) == p


def test_other_spellings_are_accepted_and_printed_canonically() -> None:
    p = Protocol.parse("25 mA; 25 Hz; 1 ms; 2x2 min doses, 3 times per day; At onset: 3 × 2 min")
    assert str(p) == PREVA
    assert str(Protocol.parse("1.5x sensory threshold, max 10 mA; 20 Hz; 200 us; Continuous")) == (
        "1.5 x sensory threshold, max 10.0 mA; 20 Hz; 200 us; continuous"
    )
    sham = Protocol.parse("sensation-matched sham; 25 Hz; 250 us; exhalation gated")
    assert sham.current == SensationMatchedSham(ramp_s=dosing_defaults()["sham_ramp_s"])
    assert str(sham).startswith("sensation-matched sham, 30 s ramp; ")


# ------------------------------------------------------------------------ hypothesis
@st.composite
def noninvasive_protocols(draw: st.DrawFn) -> Protocol:
    durations = st.sampled_from([60.0, 90.0, 120.0, 150.5])
    kind = draw(st.sampled_from(["cycled", "continuous", "exhalation-gated", "doses", "acute"]))
    hours = draw(st.sampled_from([24.0, 4.0, 0.5, 1.25]))
    common = {
        "frequency_Hz": draw(st.sampled_from([0.1, 1.0, 20.0, 25.0, 100.0])),
        "pulse_width_us": draw(st.sampled_from([200.0, 250.0, 450.0, 1000.0])),
    }
    if kind == "cycled":
        stim = Stimulation(**common, on_time_s=draw(st.sampled_from([1.0, 30.0])),
                           off_time_min=draw(st.sampled_from([0.0, 0.5, 5.0])),
                           hours_per_day=hours)  # fmt: skip
    elif kind in ("continuous", "exhalation-gated"):
        stim = Stimulation(**common, pattern=kind, hours_per_day=hours)
    else:
        length = draw(durations)
        doses = None
        if kind == "doses":
            doses = Doses(per_session=draw(st.integers(1, 3)), dose_s=length,
                          sessions_per_day=draw(st.integers(1, 6)))  # fmt: skip
        acute = None
        if kind == "acute" or draw(st.booleans()):
            acute = AcuteUse(stimulations=draw(st.integers(1, 4)), dose_s=length)
        stim = Stimulation(**common, doses=doses, acute=acute)
    plans = [
        ConstantCurrent(current_mA=draw(st.floats(0, 60, allow_nan=False))),
        RelativeCurrent(multiple=draw(st.floats(0.1, 5)), max_mA=draw(st.floats(0.1, 60))),
        SensationMatchedSham(ramp_s=draw(st.floats(1, 120))),
    ]
    return Protocol(current=draw(st.sampled_from(plans)), stimulation=stim,
                    blinded_days=draw(st.integers(0, 120)))  # fmt: skip


@given(noninvasive_protocols())
def test_parse_of_str_is_identity(p: Protocol) -> None:
    assert Protocol.parse(str(p)) == p


@given(noninvasive_protocols())
def test_str_of_parse_of_canonical_text_is_identity(p: Protocol) -> None:
    s = str(p)
    assert str(Protocol.parse(s)) == s


# ------------------------------------------------------------------------ parse errors
@pytest.mark.parametrize(
    ("text", "clause", "quoted"),
    [
        ("25.0 mA; 25 Hz; 1000 us", "duty cycle", "continuous"),
        ("25.0 mA; 25 Hz; 1000 us; continuous; exhalation-gated", "duty cycle", "doses"),
        (ACT1 + "; at attack onset: 2 x 120 s", "acute", "attack onset"),
        ("25.0 mA; 25 Hz; 1000 us; 2 x 120 s doses, thrice a day", "unknown", "times a day"),
        ("1.5 x sensory threshold; 25 Hz; 250 us; continuous", "unknown", "sensory threshold"),
        ("25.0 mA; 25 Hz; 1000 us; 2 x 120 kg doses, 3 times a day", "duty cycle", ""),
        ("sensation-matched sham, 30 kg ramp; 25 Hz; 250 us; continuous", "current", ""),
    ],
)
def test_parse_errors_name_clause_text_and_allowed(text: str, clause: str, quoted: str) -> None:
    with pytest.raises(ProtocolSyntaxError) as err:
        Protocol.parse(text)
    assert err.value.clause == clause
    assert err.value.text in text
    assert quoted in err.value.allowed


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (PREMIUM + "; 4 h per day", "hours_per_day"),
        ("25.0 mA; 25 Hz; 1000 us; 30 s on / 5 min off; at attack onset: 3 x 120 s", "acute"),
        ("25.0 mA; 25 Hz; 1000 us; 2 x 120 s doses, 3 times a day; at attack onset: 3 x 90 s",
         "acute.dose_s"),
        ("25.0 mA; 25 Hz; 1000 us; 0 x 120 s doses, 3 times a day", "per_session"),
        ("25.0 mA; 25 Hz; 1000 us; 1 x 3600 s dose, 25 times a day", "dose_s"),
        ("0 x sensory threshold, max 10 mA; 25 Hz; 250 us; continuous", "multiple"),
        ("1.5 x sensory threshold, max 0 mA; 25 Hz; 250 us; continuous", "max_mA"),
        ("sensation-matched sham, 0 s ramp; 25 Hz; 250 us; continuous", "ramp_s"),
    ],
)  # fmt: skip
def test_values_that_parse_but_are_not_allowed_name_their_field(text: str, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        Protocol.parse(text)
    assert err.value.field.endswith(field)
    assert err.value.allowed


def test_derived_cycle_given_inconsistently_is_refused() -> None:
    with pytest.raises(PydanticValidationError, match=r"off_time_min = 1\.0"):
        Stimulation(frequency_Hz=20, pulse_width_us=200, pattern="continuous", off_time_min=1.0)
    # given consistently it is accepted
    ok = Stimulation(frequency_Hz=20, pulse_width_us=200, pattern="continuous", off_time_min=0)
    assert ok == Stimulation(frequency_Hz=20, pulse_width_us=200, pattern="continuous")


# ------------------------------------------------------------------------ exposure helpers
def test_dose_exposure_is_doses_times_length() -> None:
    s = Protocol.parse(PREMIUM).stimulation
    assert s.pattern == "doses"
    assert s.doses_per_day == 6
    assert s.exposure_hours_per_day == pytest.approx(6 * 120 / 3600)
    assert s.duty_cycle() == 1.0
    assert s.mean_on_fraction() == pytest.approx(720 / 86_400)
    # the equivalent cycle spreads the six doses evenly: 4 h apart
    assert (s.on_time_s, s.off_time_min) == (120.0, 240.0 - 2.0)
    assert s.acute_stimulations_per_attack == 0


def test_acute_use_alone_schedules_nothing() -> None:
    s = Protocol.parse(ACT1).stimulation
    assert s.pattern == "acute-only"
    assert s.exposure_hours_per_day == 0.0
    assert s.duty_cycle() == 0.0
    assert (s.acute_stimulations_per_attack, s.acute_dose_s) == (3, 120.0)
    assert s.stimulations_per_day(2.5) == 7.5
    with pytest.raises(ValidationError, match="attacks_per_day"):
        s.stimulations_per_day(-1)


def test_prophylaxis_and_acute_use_combine_as_in_preva() -> None:
    s = Protocol.parse(PREVA).stimulation
    assert s.exposure_hours_per_day == pytest.approx(0.2)  # acute use is per attack
    assert s.stimulations_per_day(1) == 9
    assert s.device_cycle() == (120.0, (86_400 / 9 - 120) / 60)


def test_cycled_and_continuous_exposure() -> None:
    s = Protocol.parse(STRAUBE).stimulation
    assert s.exposure_hours_per_day == 4.0
    assert s.duty_cycle() == pytest.approx(0.5)  # 30 s / 60 s
    assert s.duty_cycle(ramp_s=2.0) == pytest.approx(34 / 60)
    c = Protocol.parse(SHAM).stimulation
    assert (c.exposure_hours_per_day, c.duty_cycle(), c.off_time_min) == (1.0, 1.0, 0.0)


def test_exhalation_gated_duty_cycle_is_train_times_breathing_rate() -> None:
    d = dosing_defaults()
    s = Protocol.parse(RAVANS).stimulation
    expected = d["exhalation_train_s"] * d["breathing_rate_per_min"] / 60.0
    assert s.duty_cycle() == pytest.approx(expected)
    assert s.duty_cycle() == pytest.approx(0.25)  # 1 s in each 4 s breath
    assert s.exposure_hours_per_day == 0.5
    assert s.mean_on_fraction() == pytest.approx(0.5 / 24 * 0.25)


def test_existing_cycled_protocols_keep_their_exposure() -> None:
    s = Protocol.parse("1.0 mA; 20 Hz; 250 us; 30 s on / 5 min off; 12 h per day").stimulation
    assert s.pattern == "cycled"
    assert s.exposure_hours_per_day == 12.0
    assert s.duty_cycle(2.0) == pytest.approx(34 / 330)


# ------------------------------------------------------------------------ safety check
def test_dose_based_protocols_pass_on_gammacore_and_its_sham() -> None:
    for text in (PREMIUM, PREVA, ACT1):
        assert Protocol.parse(text).check(GAMMACORE).ok
    sham = Protocol.parse("0.0 mA; 0.1 Hz; 1000 us; 2 x 120 s doses, 3 times a day")
    assert sham.check("gammacore-sham").ok
    assert not sham.check(GAMMACORE).ok  # 0.1 Hz is the sham's, not the active device's


def test_daily_limit_is_stated_in_the_protocols_terms() -> None:
    r = Protocol.parse("25.0 mA; 25 Hz; 1000 us; 4 x 120 s doses, 8 times a day").check(GAMMACORE)
    issue = next(i for i in r.errors if i.code == "dose_limit")
    assert (issue.field, issue.value) == ("doses", "4 x 120 s doses, 8 times a day")
    assert "32 stimulations a day" in issue.message
    assert "at most 30" in issue.allowed
    note = next(i for i in Protocol.parse(PREVA).check(GAMMACORE).notes if i.field == "acute")
    assert "8 treated attacks a day" in note.message  # (30 - 6) // 3


def test_exhalation_gating_needs_a_gating_device() -> None:
    p = Protocol.parse(RAVANS)
    assert p.check("ravans", "ear-cymba-conchae").ok
    r = p.check("tavns-auricular")
    issue = next(i for i in r.errors if i.field == "schedule")
    assert issue.value == "exhalation-gated"
    assert "no exhalation gating" in issue.message


def test_relative_protocols_are_checked_at_their_cap() -> None:
    p = Protocol.parse(STRAUBE)
    assert p.final_settings.output_current_mA == 10.0
    assert p.check("nemos", "ear-cymba-conchae").ok
    too_high = Protocol.parse(STRAUBE.replace("max 10.0 mA", "max 12.0 mA"))
    issue = next(i for i in too_high.check("nemos").errors if i.code == "out_of_range")
    assert (issue.field, issue.value) == ("output_current_mA", 12.0)


AURICULAR_LEADS = [
    (g.id, lead)
    for g in default_catalogue().generators.values()
    if g.kind == "transcutaneous_auricular"
    for lead in g.leads
]


@pytest.mark.parametrize(("gen_id", "lead"), AURICULAR_LEADS)
def test_a_0_mA_sham_is_writable_for_every_auricular_device(gen_id: str, lead: str) -> None:
    gen = default_catalogue().generator(gen_id)
    f = gen.parameters["frequency_Hz"].min
    pw = gen.parameters["pulse_width_us"].min
    if gen.has("exhalation_gating"):
        schedule = "exhalation-gated"
    elif gen.parameters["off_time_min"].allows(0.0):
        schedule = "continuous"
    else:
        schedule = "30 s on / 0.5 min off"
    for plan in ("0.0 mA", "sensation-matched sham, 30 s ramp"):
        p = Protocol.parse(f"{plan}; {f:g} Hz; {pw:g} us; {schedule}; 4 h per day")
        assert p.max_current_mA == 0.0
        assert p.check(gen_id, lead).ok, p.check(gen_id, lead).errors


# ------------------------------------------------------------------------ relative current
def test_relative_current_known_answers() -> None:
    plan = RelativeCurrent(multiple=1.5, max_mA=10.0)
    out = plan.currents_mA([0.0, 1.0, 2.2, 8.0])
    assert out.tolist() == pytest.approx([0.0, 1.5, 3.3, 10.0])
    stepped = plan.currents_mA([1.0, 2.2, 0.07], step_mA=0.1)
    assert stepped.tolist() == pytest.approx([1.5, 3.3, 0.1])
    assert plan.currents_mA([0.7], step_mA=0.25).tolist() == [1.0]  # 1.05 rounded down


@given(
    st.floats(0.1, 5.0),
    st.floats(0.1, 60.0),
    st.lists(st.floats(0.0, 40.0), min_size=1, max_size=20),
    st.sampled_from([None, 0.1, 0.25]),
)
def test_relative_currents_never_exceed_the_multiple_or_the_cap(
    multiple: float, cap: float, thresholds: list[float], step: float | None
) -> None:
    plan = RelativeCurrent(multiple=multiple, max_mA=cap)
    out = plan.currents_mA(thresholds, step_mA=step)
    assert out.shape == (len(thresholds),)
    for thr, i in zip(thresholds, out, strict=True):
        target = min(multiple * thr, cap)
        if step is None:
            assert 0.0 <= i <= target + 1e-9
            continue
        # rounded down to the device's step, but never below one step (or the cap) when the
        # prescription is above 0: a patient dosed relative to a threshold gets a current
        lowest = min(step, cap)
        assert 0.0 <= i <= max(target, lowest) + 1e-9
        assert (i > 0) == (target > 0)
        if i != lowest:
            assert math.isclose(i / step, round(i / step), abs_tol=1e-6)
        assert target - i < step + 1e-9


def test_relative_current_refuses_bad_thresholds() -> None:
    plan = RelativeCurrent(multiple=1.5, max_mA=10.0)
    for bad in ([1.0, -0.5], [[1.0]], [math.nan]):
        with pytest.raises(ValidationError) as err:
            plan.currents_mA(bad)
        assert err.value.field == "threshold_mA"


def test_sham_ramps_to_the_threshold_then_holds_0_mA() -> None:
    sham = SensationMatchedSham(ramp_s=20.0)
    thr = [0.4, 1.1]
    assert sham.currents_mA(thr).tolist() == [0.0, 0.0]
    assert sham.ramp_peak_mA(thr).tolist() == thr
    assert sham.max_mA == 0.0
    assert SensationMatchedSham().ramp_s == dosing_defaults()["sham_ramp_s"]
    assert Protocol.parse(SHAM).relative_to_threshold
    assert not Protocol.parse(PREMIUM).relative_to_threshold
