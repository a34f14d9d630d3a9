"""The engine with non-invasive devices and headache conditions (issue 11): attacks from the
physiology's modulation, acutely treated attacks, per-patient sensory thresholds, adherence."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from openvns.errors import ValidationError
from openvns.patients.cohort import sample_patients
from openvns.physiology import load_parameters
from openvns.physiology.modulation import dose_relief
from openvns.protocol import Protocol
from openvns.simulation import ModelParameters
from openvns.simulation.courses import Course
from openvns.simulation.engine import simulate_cohort
from tests.trials.test_runner import analytic_recruitment

ACUTE = "25.0 mA; 25 Hz; 1000 us; at attack onset: 3 x 120 s"
ACUTE_SHAM = "0.0 mA; 25 Hz; 1000 us; at attack onset: 3 x 120 s"
PROPHYLAXIS = "25.0 mA; 25 Hz; 1000 us; 3 x 120 s doses, 2 times a day"


class _WithThreshold:
    """An analytic recruitment whose electrode has a sensory threshold (mA) ∝ 1/pulse width."""

    def __call__(self, current_mA: npt.NDArray[np.float64], pw: float) -> npt.NDArray[np.float64]:
        return analytic_recruitment(current_mA, pw)

    def sensory_threshold_mA(self, pulse_width_us: float) -> float:
        return 0.5 * 250.0 / pulse_width_us


def _cohort(condition: str, n: int, seed: int = 1):  # type: ignore[no-untyped-def]
    mp = ModelParameters.default(condition)
    return mp, sample_patients(mp.condition, np.arange(n), seed, mp.physiology)


def _run(condition, courses, n, base=14, treat=28, seed=1, **kw):  # type: ignore[no-untyped-def]
    mp, cohort = _cohort(condition, n, seed)
    return simulate_cohort(
        cohort, courses(n), baseline_days=base, treatment_days=treat, root_seed=seed,
        parameters=mp, **kw,
    )  # fmt: skip


def test_a_headache_cohort_has_an_attack_diary_and_others_none() -> None:
    def courses(n: int) -> list[Course]:
        everyone = np.ones(n, dtype=bool)
        return [Course(Protocol.parse(PROPHYLAXIS), everyone, 0, 28, analytic_recruitment)]

    tr = _run("chronic_cluster", courses, 30)
    assert tr.attacks is not None
    assert tr.attacks.attacks.shape == (30, 42)
    assert tr.treated is not None
    assert not np.any(tr.treated.day >= 0)  # no acute use: nothing treated
    fm = _run("fibromyalgia", courses, 5)
    assert fm.attacks is None
    assert fm.treated is None


def test_attacks_follow_the_modulation_of_pain() -> None:
    """Fewer attacks where the physiology lowers pain (same patients, same draws)."""
    n = 200
    everyone = np.ones(n, dtype=bool)

    def strong(current_mA: npt.NDArray[np.float64], pw: float) -> npt.NDArray[np.float64]:
        return analytic_recruitment(current_mA * 40.0, pw)  # deep recruitment at 25 mA

    def course(protocol: str) -> list[Course]:
        return [Course(Protocol.parse(protocol), everyone, 0, 84, strong, implanted=False)]

    on = _run("chronic_cluster", lambda m: course(PROPHYLAXIS), n, treat=84)
    off = _run("chronic_cluster", lambda m: course(PROPHYLAXIS.replace("25.0", "0.0")), n, treat=84)
    assert on.attacks is not None and off.attacks is not None  # noqa: PT018
    ratio = on.underlying_NRS[:, 14:] / off.underlying_NRS[:, 14:]
    assert ratio.mean() < 1.0  # the stimulation lowers pain
    np.testing.assert_array_equal(on.attacks.attacks[:, :14], off.attacks.attacks[:, :14])
    assert on.attacks.attacks[:, 14:].sum() < off.attacks.attacks[:, 14:].sum()
    assert np.all(on.attacks.attacks <= off.attacks.attacks + 8)  # same slots, fewer onsets


def test_acute_use_treats_every_attack_and_a_0_mA_sham_relieves_nothing() -> None:
    n = 60
    first = np.arange(n) < 30

    def courses(m: int) -> list[Course]:
        return [
            Course(Protocol.parse(ACUTE), first, 0, 28, analytic_recruitment, implanted=False),
            Course(Protocol.parse(ACUTE_SHAM), ~first, 0, 28, analytic_recruitment,
                   implanted=False),
        ]  # fmt: skip

    tr = _run("chronic_cluster", courses, n)
    assert tr.treated is not None
    assert tr.attacks is not None
    treated = (tr.treated.day >= 0).sum(axis=1)
    onsets = tr.attacks.attacks[:, 14:].sum(axis=1)
    np.testing.assert_array_equal(treated, onsets)  # every treatment-day attack, both arms
    assert np.all(tr.treated.day[tr.treated.day >= 0] >= 14)


def test_dose_relief_is_zero_without_output_and_grows_with_noradrenaline() -> None:
    p = load_parameters()
    R = np.full(3, 0.5)
    zero = dose_relief(np.zeros(3), R, np.zeros(3), np.full(3, 0.2), p)
    np.testing.assert_array_equal(zero, 0.0)
    some = dose_relief(np.array([0.2, 0.5, 1.0]), R, np.zeros(3), np.full(3, 0.2), p)
    assert np.all(np.diff(some) >= 0)
    assert some[-1] > 0
    assert np.all((some >= 0) & (some <= 1))


def test_currents_relative_to_the_sensory_threshold_follow_each_patient() -> None:
    n = 20
    everyone = np.ones(n, dtype=bool)
    rec = _WithThreshold()
    protocol = Protocol.parse("2.0 x sensory threshold, max 10.0 mA; 25 Hz; 250 us; "
                              "30 s on / 0.5 min off; 1 h per day")  # fmt: skip
    mp, cohort = _cohort("fibromyalgia", n)
    tr = simulate_cohort(
        cohort, [Course(protocol, everyone, 0, 5, rec, implanted=False)], baseline_days=2,
        treatment_days=5, root_seed=1, parameters=mp,
    )  # fmt: skip
    expected = np.minimum(2.0 * 0.5 * cohort.coupling, 10.0)
    alive = tr.dropout_day < 0
    np.testing.assert_allclose(tr.current_mA[alive, 2], expected[alive], rtol=0.05)
    with pytest.raises(ValidationError, match="sensory threshold"):
        simulate_cohort(
            cohort, [Course(protocol, everyone, 0, 5, analytic_recruitment)], baseline_days=2,
            treatment_days=5, root_seed=1, parameters=mp,
        )  # fmt: skip


def test_home_use_exposure_is_scaled_by_each_patients_adherence() -> None:
    n = 40
    everyone = np.ones(n, dtype=bool)
    protocol = Protocol.parse("2.0 mA; 25 Hz; 250 us; 30 s on / 0.5 min off; 4 h per day")
    mp, cohort = _cohort("fibromyalgia", n)
    home = simulate_cohort(
        cohort, [Course(protocol, everyone, 0, 5, analytic_recruitment, home_use=True)],
        baseline_days=2, treatment_days=5, root_seed=3, parameters=mp, detail=True,
    )  # fmt: skip
    assert home.adherence is not None
    assert np.all((home.adherence > 0) & (home.adherence < 1))
    np.testing.assert_allclose(home.detail["hours_per_day"][:, 2], 4.0 * home.adherence)
    clinic = simulate_cohort(
        cohort, [Course(protocol, everyone, 0, 5, analytic_recruitment)],
        baseline_days=2, treatment_days=5, root_seed=3, parameters=mp, detail=True,
    )  # fmt: skip
    assert clinic.adherence is None
    np.testing.assert_array_equal(clinic.detail["hours_per_day"][:, 2], 4.0)
    # adherence is the patient's own: the same in a smaller cohort
    small = sample_patients(mp.condition, np.arange(5), 1, mp.physiology)
    alone = simulate_cohort(
        small, [Course(protocol, np.ones(5, dtype=bool), 0, 5, analytic_recruitment,
                       home_use=True)],
        baseline_days=2, treatment_days=5, root_seed=3, parameters=mp,
    )  # fmt: skip
    assert alone.adherence is not None
    np.testing.assert_array_equal(alone.adherence, home.adherence[:5])


def test_acute_use_adds_its_stimulation_time_at_the_mean_attack_rate() -> None:
    from openvns.patients.attack_parameters import derived_rates, load_attack_parameters

    n = 10
    everyone = np.ones(n, dtype=bool)
    mp, cohort = _cohort("chronic_cluster", n)
    tr = simulate_cohort(
        cohort, [Course(Protocol.parse(ACUTE), everyone, 0, 5, analytic_recruitment)],
        baseline_days=2, treatment_days=5, root_seed=1, parameters=mp, detail=True,
    )  # fmt: skip
    rate = derived_rates(load_attack_parameters("chronic_cluster")).mean_rate_per_d
    np.testing.assert_allclose(tr.detail["hours_per_day"][:, 2:], 3 * 120 * rate / 3600)
    np.testing.assert_array_equal(tr.detail["duty_cycle"][:, 2:], 1.0)


def test_a_headache_patient_is_the_same_in_a_simulation_and_in_a_trial() -> None:
    """One engine: a Simulation's attack diary (and treated attacks) equals the trial's
    patient's, and the solution carries the diary as daily states."""
    from openvns.simulation import Simulation
    from openvns.trials import TrialDesign
    from openvns.trials.runner import run_trial

    protocol = "25.0 mA; 25 Hz; 1000 us; at attack onset: 3 x 120 s"
    d = TrialDesign.from_dict({
        "generator": "gammacore-sapphire-cv", "baseline_days": 14, "blinded_days": 30,
        "open_label_days": 0, "open_label_arm": "nvns",
        "arms": [{"name": "nvns", "kind": "active", "protocol": protocol}],
    })  # fmt: skip
    r = run_trial(d, n_per_arm=3, root_seed=5, condition="episodic_cluster",
                  recruitment=analytic_recruitment)  # fmt: skip
    sol = Simulation("episodic_cluster#0001", protocol + "; baseline 14 days", seed=5,
                     generator="gammacore-sapphire-cv",
                     recruitment=analytic_recruitment).run(44)  # fmt: skip
    assert r.attacks is not None
    assert r.treated is not None
    np.testing.assert_array_equal(sol["attacks"][0], r.attacks.attacks[1])
    np.testing.assert_array_equal(sol["rescue_medication"][0], r.attacks.rescue[1])
    treated = np.bincount(r.treated.day[1][r.treated.day[1] >= 0], minlength=44)
    np.testing.assert_array_equal(sol["attacks_treated"][0], treated)
    assert "attacks_treated" in sol.to_frame().columns


def test_attacks_are_treated_only_on_days_with_acute_use() -> None:
    """An acute course for the first 10 treatment days, prophylaxis only after it."""
    n = 40
    everyone = np.ones(n, dtype=bool)

    def courses(m: int) -> list[Course]:
        return [
            Course(Protocol.parse(ACUTE), everyone, 0, 10, analytic_recruitment),
            Course(Protocol.parse(PROPHYLAXIS), everyone, 10, 28, analytic_recruitment),
        ]

    tr = _run("chronic_cluster", courses, n)
    assert tr.treated is not None
    assert tr.attacks is not None
    days = tr.treated.day[tr.treated.day >= 0]
    assert days.size > 0
    assert days.min() >= 14
    assert days.max() < 24  # baseline 14 + the 10 acute days
    in_window = tr.attacks.attacks[:, 14:24].sum(axis=1)
    alive = tr.dropout_day < 0
    np.testing.assert_array_equal((tr.treated.day >= 0).sum(axis=1)[alive], in_window[alive])


def test_the_minute_path_is_refused_for_home_use_and_acute_courses() -> None:
    everyone = np.ones(3, dtype=bool)
    mp, cohort = _cohort("chronic_cluster", 3)
    for course in (
        Course(Protocol.parse(ACUTE), everyone, 0, 5, analytic_recruitment),
        Course(Protocol.parse(PROPHYLAXIS), everyone, 0, 5, analytic_recruitment, home_use=True),
    ):
        with pytest.raises(ValidationError) as err:
            simulate_cohort(cohort, [course], baseline_days=2, treatment_days=5, root_seed=1,
                            parameters=mp, minutes=True)  # fmt: skip
        assert err.value.field == "minutes"


def test_the_skins_side_effects_occur_only_under_a_skin_electrode() -> None:
    """An implant's patients never report application-site effects, however prone to
    background reports; patients with a skin electrode do."""
    n = 400
    everyone = np.ones(n, dtype=bool)
    mp = ModelParameters.default("fibromyalgia")
    mp = mp.with_(**{"application_site.background_per_d": 0.05})
    cohort = sample_patients(mp.condition, np.arange(n), 1, mp.physiology)
    protocol = Protocol.parse("1.0 mA; 20 Hz; 250 us; 30 s on / 5 min off")
    from openvns.physiology.side_effect_parameters import SIDE_EFFECTS

    j = SIDE_EFFECTS.index("application_site")
    runs = {}
    for home in (False, True):
        tr = simulate_cohort(
            cohort, [Course(protocol, everyone, 0, 30, analytic_recruitment, home_use=home)],
            baseline_days=2, treatment_days=30, root_seed=1, parameters=mp,
        )  # fmt: skip
        runs[home] = int(tr.ae_reported[:, :, j].sum())
    assert runs[False] == 0
    assert runs[True] > 0
