"""Titration to tolerance reacts to *intolerable* side effects, not to any reported one."""

from __future__ import annotations

import numpy as np
import pytest

from openvns.patients.cohort import LATENT, sample_patients
from openvns.physiology import load_parameters
from openvns.physiology.side_effect_parameters import load_side_effect_parameters
from openvns.physiology.side_effects import (
    MILD,
    SIDE_EFFECTS,
    habituation_decay,
    intolerance_severity,
    update_side_effects,
)
from openvns.protocol import Protocol, ToTolerance
from openvns.random import rng_for
from openvns.simulation.parameters import ModelParameters
from openvns.simulation.recruitment import default_recruitment
from openvns.trials.design import Arm, TrialDesign
from openvns.trials.runner import simulate_patients

STIM = "20 Hz; 250 us; 30 s on / 5 min off"
TOL = Protocol.parse(
    f"titrate from 0.25 mA by 0.25 mA every 14 days to tolerance, max 1.0 mA; {STIM}"
)


def test_closed_loop_severity_below_threshold_keeps_titrating() -> None:
    policy = ToTolerance()  # threshold 1.0: severity is burden / intolerable burden
    state = policy.start(TOL, 3)
    for day in range(70):
        severity = np.array([0.99, 0.5, 0.0])
        if day == 20:
            severity[1] = 1.0  # intolerable at 0.5 mA (days 14–27)
        policy.advance(TOL, state, day, severity)
    assert state.current_mA.tolist() == [1.0, 0.25, 1.0]
    assert state.held.tolist() == [False, True, False]
    assert state.reached_max.tolist() == [True, False, True]


def test_intensity_scales_with_limits_and_tolerance() -> None:
    """Intensity of a present effect = B / (intolerable · tol), whatever the susceptibility
    (which decides who gets it); absent effects have none; an episode without stimulation
    burden is graded by ``background_intensity`` (mild)."""
    se = load_side_effect_parameters()
    k, n = len(SIDE_EFFECTS), 5
    cough = SIDE_EFFECTS.index("cough")
    drive = np.zeros((k, n))
    drive[cough] = 0.5
    sus = np.ones((k, n))
    sus[cough, 2] = 2.0
    tol = np.array([1.0, 1.0, 1.0, 0.5, 1.0])
    present = np.ones((k, n), dtype=bool)
    present[:, 1] = False
    zero, one = np.zeros(n), np.ones(n)
    # a draw above every onset and resolve probability: nothing starts or ends, and rescaled
    # within "stays present" it is 0.5, below the report probability: reported
    never = np.broadcast_to(0.5 + 0.5 * se.resolve_probability, (k, n))
    day = update_side_effects(
        np.zeros((k, n)), present, drive, zero, np.ones(n, bool), habituation_decay(one, se),
        sus, one, tol, never, se,
    )  # fmt: skip
    B = day.B[cough]
    limit = se.channels["cough"].intolerable
    expected = np.array([B[0] / limit, 0.0, B[2] / limit, B[3] / (limit * 0.5), B[4] / limit])
    np.testing.assert_allclose(day.intensity[cough], expected)
    other = SIDE_EFFECTS.index("headache")
    assert day.intensity[other, 0] == se.common.background_intensity  # present, no burden
    assert day.severity[other, 0] == MILD
    severity = intolerance_severity(day.intensity, se)
    np.testing.assert_allclose(severity, np.maximum(expected, [0.3, 0, 0.3, 0.3, 0.3]) / 1.0)


def test_tolerance_trait_is_drawn_last_from_the_patient_stream() -> None:
    p = load_parameters()
    cohort = sample_patients("fibromyalgia", [0, 41], 123, p)
    for col, i in enumerate((0, 41)):
        rng = rng_for(123, "fibromyalgia", i)
        rng.standard_normal(len(LATENT))
        rng.random(2)
        rng.beta(p.alpha_beta_a, p.alpha_beta_b)
        z_coupling = rng.standard_normal()
        z_tol = rng.standard_normal()
        assert cohort.coupling[col] == pytest.approx(
            p.coupling_median * np.exp(p.omega_coupling * z_coupling)
        )
        assert cohort.tolerance[col] == pytest.approx(np.exp(p.omega_tolerance * z_tol))
    # the other traits do not depend on the new trait's spread
    other = sample_patients("fibromyalgia", [0, 41], 123, p.with_(omega_tolerance=0.0))
    for k, v in cohort.traits.items():
        np.testing.assert_array_equal(v, other.traits[k])
    np.testing.assert_array_equal(other.tolerance, [1.0, 1.0])
    assert cohort.select(np.array([1])).tolerance.tolist() == [cohort.tolerance[1]]


def _design() -> TrialDesign:
    active = f"titrate from 0.25 mA by 0.25 mA every 7 days to tolerance, max 1.5 mA; {STIM}"
    return TrialDesign(
        arms=(
            Arm(name="active", kind="active", protocol=Protocol.parse(active)),
            Arm(name="sham", kind="sham", protocol=Protocol.parse(f"0.0 mA; {STIM}")),
        ),
        baseline_days=0,
        blinded_days=60,
        open_label_days=0,
    )


def test_runner_titrates_through_tolerated_voice_reports() -> None:
    p = load_parameters().with_(
        h0_per_d=0.0, h0_late_per_d=0.0, b_AE_per_d=0.0, b_ineffective_per_d=0.0
    )
    base = ModelParameters.default("fibromyalgia")
    base = ModelParameters(p, base.condition, base.diary, base.side_effects)
    n = 40
    rec = default_recruitment()
    lenient = base.with_(**{f"{k}.intolerable": 100.0 for k in SIDE_EFFECTS})
    out = simulate_patients(
        _design(), np.arange(n), np.zeros(n, dtype=np.int64), root_seed=3, recruitment=rec,
        parameters=lenient,
    )  # fmt: skip
    # voice alteration is reported by most patients, yet nobody backs off: all reach 1.5 mA
    assert out["ae_reported"][:, :, 0].any(axis=1).mean() > 0.6
    np.testing.assert_array_equal(out["current_mA"][:, -1], np.full(n, 1.5))
    strict = simulate_patients(
        _design(), np.arange(n), np.zeros(n, dtype=np.int64), root_seed=3, recruitment=rec,
        parameters=base.with_(**{"voice.intolerable": 1e-6}),
    )  # fmt: skip
    # any voice alteration is intolerable: most back off once it appears, and hold there
    cur = strict["current_mA"]
    backed_off = cur[:, -1] <= cur.max(axis=1) - 0.25 + 1e-12
    assert backed_off.mean() > 0.7
    assert np.median(cur[:, -1]) < np.median(out["current_mA"][:, -1])
    shipped = simulate_patients(
        _design(), np.arange(n), np.zeros(n, dtype=np.int64), root_seed=3, recruitment=rec,
        parameters=base,
    )  # fmt: skip
    # shipped limits: most patients titrate above 0.5 mA despite reporting voice alteration
    assert np.median(shipped["current_mA"][:, -1]) >= 0.75
