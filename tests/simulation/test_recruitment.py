"""Recruitment for trials: a table as the runner's function, per-patient coupling θ."""

from __future__ import annotations

import pickle

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvns.errors import ValidationError
from openvns.nerve.recruitment import RecruitmentTable
from openvns.patients.cohort import sample_cohort
from openvns.physiology.drive import GROUPS
from openvns.physiology.parameters import load_parameters
from openvns.simulation.recruitment import TableRecruitment, default_recruitment
from openvns.trials.runner import run_trial
from tests.trials.test_runner import small_design


def random_table(seed: int = 0, groups: tuple[str, ...] = GROUPS) -> RecruitmentTable:
    rng = np.random.default_rng(seed)
    n = 600
    pw = np.array([130.0, 250.0, 500.0, 1000.0])
    base = rng.lognormal(0.0, 0.8, n)
    thr = base[:, None] * (1.0 + 150.0 / pw[None, :])
    thr[rng.random(n) < 0.05, :] = np.inf  # some fibres never fire
    return RecruitmentTable(
        groups=groups,
        pulse_widths_us=pw,
        thresholds_mA=thr,
        group_index=rng.integers(0, len(groups), n).astype(np.int64),
        weight=rng.uniform(0.5, 2.0, n),
        key=f"random-{seed}",
    )


@settings(max_examples=40, deadline=None)
@given(
    currents=st.lists(st.floats(0.0, 20.0), min_size=1, max_size=30),
    pw=st.sampled_from([130.0, 250.0, 333.0, 777.0, 1000.0]),
)
def test_matches_table_fraction(currents: list[float], pw: float) -> None:
    table = random_table()
    rec = TableRecruitment(table)
    cur = np.array(currents)
    got = rec(cur, pw)
    assert got.shape == (cur.size, len(GROUPS))
    for j, g in enumerate(GROUPS):
        np.testing.assert_allclose(got[:, j], table.fraction(g, cur, pw), rtol=0, atol=1e-12)


def test_identity_pickle_and_errors() -> None:
    table = random_table(3)
    rec = TableRecruitment(table)
    assert rec.identity == "recruitment-table:random-3"
    rec(np.array([1.0]), 250.0)
    again = pickle.loads(pickle.dumps(rec))
    assert again.identity == rec.identity
    np.testing.assert_array_equal(
        again(np.array([0.5, 2.0]), 250.0), rec(np.array([0.5, 2.0]), 250.0)
    )
    with pytest.raises(ValidationError, match="current_mA"):
        rec(np.array([-1.0]), 250.0)
    with pytest.raises(ValidationError, match="pulse_width_us"):
        rec(np.array([1.0]), 2000.0)
    with pytest.raises(ValidationError, match=r"table\.groups"):
        TableRecruitment(random_table(groups=("a", "b")))


def test_default_recruitment_is_the_shipped_table_and_monotone() -> None:
    rec = default_recruitment()
    assert rec.table.metadata.get("inputs", {}).get("lead") == "2mm"
    cur = np.linspace(0.0, 3.0, 61)
    f = rec(cur, 250.0)
    assert np.all(np.diff(f, axis=0) >= 0)
    assert np.all(f[0] == 0.0)
    # at the ideal cuff, laryngeal motor fibres are recruited before small afferents
    i_mot = GROUPS.index("laryngeal_motor")
    i_c = GROUPS.index("C_afferent")
    assert f[2, i_mot] > 0.5 > f[-1, i_c]


def test_coupling_is_lognormal_per_patient_and_named() -> None:
    p = load_parameters()
    cohort = sample_cohort("fibromyalgia", 4000, root_seed=5)
    log_c = np.log(cohort.coupling)
    assert abs(np.median(cohort.coupling) / p.coupling_median - 1.0) < 0.05
    assert abs(log_c.std() - p.omega_coupling) < 0.03
    # patient #0042 is the same patient in a smaller cohort
    small = sample_cohort("fibromyalgia", 50, root_seed=5)
    assert small.coupling[42] == cohort.coupling[42]


def test_runner_passes_current_over_theta() -> None:
    seen: list[npt.NDArray[np.float64]] = []

    def recording(current_mA: npt.NDArray[np.float64], pw: float) -> npt.NDArray[np.float64]:
        seen.append(np.array(current_mA))
        return np.zeros((np.asarray(current_mA).size, len(GROUPS)))

    r = run_trial(small_design(), n_per_arm=4, root_seed=2, recruitment=recording)
    active = r.arm == 0
    # on the first blinded day the active patients are at the start current over their θ
    first = seen[0]
    np.testing.assert_allclose(np.sort(first), np.sort(0.5 / r.coupling[active]))
    assert r.coupling.shape == (r.n_patients,)
