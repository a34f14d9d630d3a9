"""The one-patient simulation: agreement with the trial runner, the solution, the parameters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from openvns.device.dose import duty_cycle
from openvns.errors import ValidationError
from openvns.patients import patient_name
from openvns.protocol import Protocol
from openvns.simulation import DECISIONS, ModelParameters, Simulation, table_lead
from openvns.trials import Arm, TrialDesign, run_trial

TITRATE = (
    "titrate from 0.25 mA by 0.25 mA every 14 days to tolerance, max 2.0 mA; "
    "20 Hz; 250 us; 30 s on / 5 min off"
)
SHAM = "0.0 mA; 20 Hz; 250 us; 30 s on / 5 min off"


@pytest.fixture(scope="module")
def trial() -> tuple[TrialDesign, object]:
    design = TrialDesign(
        arms=(
            Arm(name="active", kind="active", protocol=Protocol.parse(TITRATE)),
            Arm(name="sham", kind="sham", protocol=Protocol.parse(SHAM)),
        ),
        baseline_days=14,
        blinded_days=56,
        open_label_days=70,
        open_label_arm="active",
    )
    return design, run_trial(design, n_per_arm=12, root_seed=31, chunk_size=7)


@pytest.mark.parametrize("arm", ["active", "sham"])
def test_a_trial_patient_equals_its_simulation_bit_for_bit(trial: tuple, arm: str) -> None:
    design, result = trial
    in_arm = np.flatnonzero(result.arm == result.arm_names.index(arm))
    rows = in_arm[:3]
    names = [patient_name("fibromyalgia", int(result.patient_index[i])) for i in rows]
    crossover = design.protocol_for("active") if arm == "sham" else None
    sol = Simulation(names, design.protocol_for(arm), seed=31, open_label=crossover).run(
        result.n_days
    )
    np.testing.assert_array_equal(sol["nrs"], result.nrs[rows], strict=True)
    np.testing.assert_array_equal(sol["observed"], result.observed[rows], strict=True)
    np.testing.assert_array_equal(sol["delivered_current_mA"], result.current_mA[rows])
    np.testing.assert_array_equal(sol["ae_reported"], result.ae_reported[rows], strict=True)
    np.testing.assert_array_equal(sol.provenance["dropout_day"], result.dropout_day[rows])
    if arm == "sham":  # the crossover is visible: 0 mA in the blinded phase, then titration
        blind_end = design.baseline_days + design.blinded_days
        assert np.all(sol["programmed_current_mA"][:, :blind_end] == 0.0)
        assert np.all(sol["programmed_current_mA"][:, blind_end] == 0.25)


@pytest.fixture(scope="module")
def solution() -> object:
    return Simulation(
        [f"fibromyalgia#{i:04d}" for i in range(12)], TITRATE + "; baseline 14 days", seed=5
    ).run(200)


def test_solution_has_every_state_per_day(solution: object) -> None:
    s = solution
    assert s["programmed_current_mA"].shape == (12, 200)
    assert s["recruited_fraction"].shape[:2] == (12, 200)
    for name in ("S", "R", "N_on", "inhibition", "facilitation", "G", "E_slow", "P_true_NRS",
                 "nrs", "observed", "B", "ae_reported", "HR_change_pct", "hazard_per_d",
                 "dropped_out", "decision", "severity"):  # fmt: skip
        assert name in s
    with pytest.raises(ValidationError, match="no_such_state"):
        s["no_such_state"]
    # baseline: no stimulation, untreated states
    assert np.all(s["delivered_current_mA"][:, :14] == 0.0)
    assert np.all(s["M"][:, :14] == 0.0)
    # the delivered duty cycle is the device's own, ramps included (SenTiva 2 s ramps)
    on = s["delivered_current_mA"] > 0
    np.testing.assert_allclose(s["duty_cycle"][on], duty_cycle(30, 5, ramp_s=2.0))
    # from the day after a dropout the device is off (the dropout day itself was stimulated)
    out_before = np.zeros_like(s["dropped_out"])
    out_before[:, 1:] = s["dropped_out"][:, :-1]
    assert out_before.any()
    assert np.all(s["delivered_current_mA"][out_before] == 0.0)
    first_off = out_before.copy()
    first_off[:, 1:] &= ~out_before[:, :-1]
    assert np.all(s["decision"][first_off] == 5)  # device off, on the first day off
    assert np.all(s["decision"][out_before & ~first_off] == 0)  # no titration after it
    assert np.all(s["programmed_current_mA"][out_before] == 0.0)  # nothing programmed


def test_decisions_carry_their_reasons(solution: object) -> None:
    decisions = solution.decisions()
    kinds = {d.decision for d in decisions}
    assert {"start", "step up"} <= kinds
    starts = [d for d in decisions if d.decision == "start"]
    assert len(starts) == 12
    assert all(d.day == 14 and d.current_after_mA == 0.25 for d in starts)
    backs = [d for d in decisions if d.decision == "back off and hold"]
    assert backs, "some of 12 patients back off at a side effect they cannot tolerate"
    for d in backs:
        assert d.current_after_mA == pytest.approx(d.current_before_mA - 0.25)
        assert "intolerable" in d.reason
        assert "severity" in d.reason
        i = solution.patients.index(d.patient)
        assert solution["severity"][i, d.day - 1] >= 1.0  # the day before was intolerable
    assert set(DECISIONS.values()) >= kinds


def test_to_frame_is_tidy_with_units_in_names(solution: object, tmp_path: Path) -> None:
    frame = solution.to_frame()
    assert len(frame) == 12 * 200
    for col in ("patient", "day", "programmed_current_mA", "delivered_current_mA",
                "recruited_A_afferent_fraction", "serotonin", "noradrenaline_on",
                "latent_pain_NRS", "diary_NRS", "diary_entered", "burden_voice",
                "reported_cough", "severity_neck_pain", "present_dyspnoea", "intensity_voice",
                "heart_rate_change_pct", "dropout_hazard_per_d",
                "decision"):  # fmt: skip
        assert col in frame.columns, col
    row = frame[(frame.patient == "fibromyalgia#0003") & (frame.day == 120)].iloc[0]
    assert row.latent_pain_NRS == solution["P_true_NRS"][3, 120]
    written = solution.write(tmp_path, formats=("parquet", "csv"))
    assert [p.name for p in written] == ["states.parquet", "states.csv"]
    back = pq.read_table(tmp_path / "states.parquet").to_pandas()
    np.testing.assert_array_equal(back["diary_NRS"].to_numpy(), frame["diary_NRS"].to_numpy())


def test_plot_draws_settings_to_pain(solution: object, tmp_path: Path) -> None:
    fig = solution.plot("fibromyalgia#0002", path=tmp_path / "one.png")
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert labels[0] == "current (mA)"
    assert labels[6] == "pain (NRS)"
    assert (tmp_path / "one.png").stat().st_size > 10_000
    with pytest.raises(ValidationError, match="patient"):
        solution.plot("crps#0001")


def test_bad_input_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="patient"):
        Simulation("fibromyalgia-42", TITRATE)
    with pytest.raises(ValidationError, match="generator"):
        Simulation("fibromyalgia#0001", TITRATE, generator="ib-stim")  # no recruitment model
    with pytest.raises(ValidationError, match="protocol"):
        Simulation("fibromyalgia#0001", "2 mA; 20 Hz; 250 us")
    with pytest.raises(ValidationError, match=r"parameters\.condition"):
        Simulation("crps#0001", TITRATE, parameters=ModelParameters.default("fibromyalgia"))
    with pytest.raises(ValidationError, match="days"):
        Simulation("fibromyalgia#0001", TITRATE + "; baseline 14 days").run(7)


def test_unsafe_protocol_never_runs() -> None:
    from openvns.device.safety import UnsafeSettingsError

    with pytest.raises(UnsafeSettingsError):
        Simulation("fibromyalgia#0001", "3.75 mA; 20 Hz; 1000 us; 30 s on / 5 min off")


def test_leads_of_one_geometry_share_a_table() -> None:
    assert table_lead("303-20") == table_lead("304-20") == "2mm"
    assert table_lead("ear-clip") == table_lead("ear-tragus")  # an alias of a skin electrode
    assert table_lead("302-30") == "3mm"
    with pytest.raises(ValidationError, match="lead"):
        table_lead("ear-percutaneous")  # needles: no model
    a = Simulation("fibromyalgia#0001", TITRATE, lead="303-20").run(60)
    b = Simulation("fibromyalgia#0001", TITRATE, lead="304-20").run(60)
    np.testing.assert_array_equal(a["recruited_fraction"], b["recruited_fraction"])
    assert a.provenance["lead"] == "303-20"


def test_the_minute_path_keeps_every_minute() -> None:
    from openvns.physiology.brainstem import MINUTES_PER_DAY

    # a constant setting (titration could back off differently on the two paths: a side effect
    # is an event, and the paths' exposures differ by the ramps' rounding)
    steady = "0.75 mA; 20 Hz; 250 us; 30 s on / 5 min off"
    daily = Simulation("fibromyalgia#0003", steady).run(30)
    sol = Simulation("fibromyalgia#0003", steady).run(30, minutes=True)
    assert sol["minute_on_fraction"].shape == (1, 30, MINUTES_PER_DAY)
    on = sol["minute_on_fraction"][0]
    # the day's mean of the minute schedule is the device's duty cycle, ramps included
    np.testing.assert_allclose(
        on[on.any(axis=1)].mean(axis=1), sol["duty_cycle"][0][on.any(axis=1)], rtol=0.02
    )
    # the end of each day's minute trajectory is the day's LC sensitisation
    np.testing.assert_allclose(sol["minute_LC_sensitisation"][0, :, -1], sol["S"][0])
    # noradrenaline is the tone during ON, zero during OFF
    nor = sol["minute_noradrenaline"][0]
    np.testing.assert_allclose(nor.max(axis=1), sol["N_on"][0] * on.max(axis=1))
    # once the schedule has been constant for a while both paths agree at day ends (during the
    # rise the daily path holds the day's end value for the whole day)
    np.testing.assert_allclose(sol["R"][:, -5:], daily["R"][:, -5:], rtol=0.02)
    frame = sol.minute_frame(0)
    assert len(frame) == 30 * MINUTES_PER_DAY
    assert {"day", "minute", "on_fraction", "noradrenaline", "LC_sensitisation"} <= set(frame)
    with pytest.raises(ValidationError, match="minutes"):
        daily.minute_frame(0)


def test_reasons_follow_the_stop_rule_and_the_course() -> None:
    fixed = (
        "titrate from 0.25 mA by 0.25 mA every 7 days to 1.0 mA; 20 Hz; 250 us; 30 s on / 5 min off"
    )
    sol = Simulation("fibromyalgia#0002", fixed).run(40)
    steps = [d for d in sol.decisions() if d.decision.startswith("step up")]
    assert steps
    assert all("fixed schedule" in d.reason for d in steps)
    crossover = Simulation("fibromyalgia#0002", SHAM + "; blinded 20 days", open_label=TITRATE).run(
        40
    )
    starts = [d for d in crossover.decisions() if d.decision == "start"]
    assert [d.day for d in starts] == [0, 20]
    assert "open-label protocol starts" in starts[1].reason


def test_a_cohort_runs_only_with_its_own_seed_and_parameters() -> None:
    from openvns.patients import sample_patients

    mp = ModelParameters.default("fibromyalgia")
    cohort = sample_patients("fibromyalgia", [3, 4], 17)
    a = Simulation(cohort, TITRATE, seed=17).run(30)
    b = Simulation(["fibromyalgia#0003", "fibromyalgia#0004"], TITRATE, seed=17).run(30)
    np.testing.assert_array_equal(a["nrs"], b["nrs"])
    with pytest.raises(ValidationError, match="seed"):
        Simulation(cohort, TITRATE, seed=99)
    with pytest.raises(ValidationError, match="parameters"):
        Simulation(cohort, TITRATE, seed=17, parameters=mp.with_(omega_coupling=1.3))
    Simulation(cohort, TITRATE, seed=17, parameters=mp.with_(f_opt_Hz=10.0))  # not a trait


def test_overlapping_courses_for_one_patient_are_refused() -> None:
    from openvns.patients import sample_patients
    from openvns.simulation import Course, simulate_cohort

    sim = Simulation(["fibromyalgia#0001", "fibromyalgia#0002"], TITRATE)
    everyone = np.ones(2, dtype=bool)
    a = Course(sim.protocol, everyone, 0, 30, sim.recruitment)
    b = Course(sim.protocol, np.array([False, True]), 20, 40, sim.recruitment)
    cohort = sample_patients("fibromyalgia", [1, 2], 2026)
    with pytest.raises(ValidationError, match=r"courses\[1\]"):
        simulate_cohort(cohort, [a, b], baseline_days=0, treatment_days=40, root_seed=2026,
                        parameters=sim.parameters)  # fmt: skip
    c = Course(sim.protocol, np.array([False, True]), 30, 40, sim.recruitment)  # follows a
    simulate_cohort(cohort, [a, c], baseline_days=0, treatment_days=40, root_seed=2026,
                    parameters=sim.parameters)  # fmt: skip


def test_the_first_days_do_not_depend_on_how_many_days_are_run() -> None:
    """Every stream is drawn in day order, so a patient's first days are the same in a short
    and a long run (diary, side effects, titration, dropout)."""
    short = Simulation(["fibromyalgia#0003", "fibromyalgia#0011"], TITRATE).run(60)
    long = Simulation(["fibromyalgia#0003", "fibromyalgia#0011"], TITRATE).run(150)
    for key in ("nrs", "observed", "ae_reported", "ae_severity", "programmed_current_mA",
                "reported_pain_NRS", "dropped_out", "present"):  # fmt: skip
        np.testing.assert_array_equal(short[key], long[key][:, :60], err_msg=key)


def test_hours_per_day_scale_the_days_exposure_on_both_paths() -> None:
    """Issue 11 item 5 (a first step): a protocol's hours of stimulation a day reach the
    physiology; 12 h a day give half the daily noradrenaline of 24 h, per day and per minute."""
    full = Simulation("fibromyalgia#0003", "1.0 mA; 20 Hz; 250 us; 30 s on / 5 min off").run(10)
    half_text = "1.0 mA; 20 Hz; 250 us; 30 s on / 5 min off; 12 h per day"
    half = Simulation("fibromyalgia#0003", half_text).run(10)
    np.testing.assert_allclose(half["Nbar"][0, 1:], 0.5 * full["Nbar"][0, 1:])
    np.testing.assert_array_equal(half["hours_per_day"][0, 1:], 12.0)
    minutes = Simulation("fibromyalgia#0003", half_text).run(3, minutes=True)
    on = minutes["minute_on_fraction"][0, 1]
    assert on[: 12 * 60].mean() > 0
    assert on[12 * 60 :].max() == 0.0
