"""Titration to tolerance reacts to *intolerable* side effects, not to any reported one."""

from __future__ import annotations

import numpy as np
import pytest

from openvns.patients.cohort import LATENT, sample_patients
from openvns.physiology import load_parameters
from openvns.physiology.side_effects import SIDE_EFFECTS, intolerance_severity
from openvns.protocol import Protocol, ToTolerance
from openvns.random import rng_for
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


def test_intolerance_severity_scales_with_limits_and_tolerance() -> None:
    p = load_parameters()
    assert SIDE_EFFECTS == ("voice", "throat_cough", "dyspnoea")
    B = np.zeros((3, 4))
    B[0] = 0.9  # saturated voice drive: reported, but tolerated at median tolerance
    B[1, 1] = p.intolerable_burden_throat_cough
    B[2, 2] = 0.5 * p.intolerable_burden_dyspnoea
    tol = np.array([1.0, 1.0, 1.0, 0.5])
    s = intolerance_severity(B, tol, p)
    np.testing.assert_allclose(s[:3], [0.9 / p.intolerable_burden_voice, 1.0, 0.9 / 1.5])
    assert s[3] == pytest.approx(0.9 / (p.intolerable_burden_voice * 0.5))
    assert s[0] < 1.0 <= s[1]


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
    p = load_parameters().with_(h0_per_d=0.0, b_AE_per_d=0.0, b_ineffective_per_d=0.0)
    n = 40
    rec = default_recruitment()
    out = simulate_patients(
        _design(), np.arange(n), np.zeros(n, dtype=np.int64), root_seed=3, recruitment=rec,
        params=p.with_(intolerable_burden_voice=100.0, intolerable_burden_throat_cough=100.0,
                       intolerable_burden_dyspnoea=100.0),
    )  # fmt: skip
    # voice alteration is reported by most patients, yet nobody backs off: all reach 1.5 mA
    assert out["ae_reported"][:, :, 0].any(axis=1).mean() > 0.8
    np.testing.assert_array_equal(out["current_mA"][:, -1], np.full(n, 1.5))
    strict = simulate_patients(
        _design(), np.arange(n), np.zeros(n, dtype=np.int64), root_seed=3, recruitment=rec,
        params=p.with_(intolerable_burden_voice=1e-6),
    )  # fmt: skip
    # any voice burden is intolerable: back off to 0 mA where the first step caused it, and hold
    cur = strict["current_mA"]
    assert np.all(cur[:, -1] <= cur.max(axis=1) - 0.25 + 1e-12)
    assert np.all(np.diff(cur[:, 1:], axis=1)[cur[:, -1] == 0] <= 0)
    shipped = simulate_patients(
        _design(), np.arange(n), np.zeros(n, dtype=np.int64), root_seed=3, recruitment=rec,
        params=p,
    )  # fmt: skip
    # shipped limits: most patients titrate above 0.5 mA despite reporting voice alteration
    assert np.median(shipped["current_mA"][:, -1]) >= 0.75
