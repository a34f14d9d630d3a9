"""Segmental modulation of head pain by the skin's Aβ afferents (issue 11): the relief function,
its combination with the vagal dose relief, and its place in the engine (head pain only, skin
electrodes only, rate dependent: the gammaCore sham's 0.1 Hz barely acts)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from openvns.physiology.parameters import load_parameters
from openvns.physiology.segmental import combined_relief, segmental_relief
from openvns.simulation import ModelParameters, Simulation
from openvns.simulation.engine import simulate_cohort

P = load_parameters()
unit = st.floats(0.0, 1.0)
rate = st.floats(0.0, 200.0)


def test_relief_is_the_declared_function() -> None:
    half = segmental_relief(np.array([1.0]), np.array([P.segmental_f50_Hz]), P)
    assert half[0] == pytest.approx(P.segmental_relief_max / 2)
    assert segmental_relief(np.array([0.0]), np.array([25.0]), P)[0] == 0.0  # nothing recruited
    assert segmental_relief(np.array([1.0]), np.array([0.0]), P)[0] == 0.0  # nothing runs
    r = segmental_relief(np.array([0.5]), np.array([25.0]), P)[0]
    assert r == pytest.approx(P.segmental_relief_max * 0.5 * 25.0 / (25.0 + P.segmental_f50_Hz))


@given(unit, unit, rate, rate)
def test_relief_is_monotone_and_bounded(r1: float, r2: float, f1: float, f2: float) -> None:
    lo_r, hi_r = sorted((r1, r2))
    lo_f, hi_f = sorted((f1, f2))
    low = segmental_relief(np.array([lo_r]), np.array([lo_f]), P)[0]
    high = segmental_relief(np.array([hi_r]), np.array([hi_f]), P)[0]
    assert 0.0 <= low <= high < P.segmental_relief_max + 1e-15


@given(unit, unit)
def test_combination_is_that_of_independent_reliefs(v: float, s: float) -> None:
    c = combined_relief(np.array([v]), np.array([s]))[0]
    assert max(v, s) - 1e-12 <= c <= 1.0
    assert c == pytest.approx(v + s - v * s)
    assert combined_relief(np.array([v]), np.array([0.0]))[0] == pytest.approx(v)


PROTOCOL = "2 x sensory threshold, max 60.0 mA; {f} Hz; 1000 us; at attack onset: 3 x 120 s"


def _pain_15(f: str, generator: str, mp: ModelParameters) -> float:
    """Mean 15-min pain of the attacks 40 episodic cluster patients treated over 60 days."""
    patients = [f"episodic_cluster#{i:04d}" for i in range(40)]
    sim = Simulation(patients, PROTOCOL.format(f=f), generator=generator,
                     lead="gammacore-contacts", parameters=mp, seed=5)  # fmt: skip
    traj = simulate_cohort(sim.cohort, sim.courses(60), baseline_days=0, treatment_days=60,
                           root_seed=5, parameters=mp)  # fmt: skip
    assert traj.treated is not None
    pain = traj.treated.pain[..., 1]
    return float(pain[pain >= 0].mean())


def test_engine_relieves_treated_head_pain_at_the_stimulation_rate() -> None:
    """The same patients and attacks: gammaCore at 25 Hz relieves the 15-min pain much more than
    with the segmental relief off; the sham device's 0.1 Hz barely at all."""
    mp = ModelParameters.default("episodic_cluster")
    off = mp.with_(segmental_relief_max=0.0)
    active, active_off = (
        _pain_15("25", "gammacore-sapphire-cv", mp),
        _pain_15("25", "gammacore-sapphire-cv", off),
    )
    sham, sham_off = _pain_15("0.1", "gammacore-sham", mp), _pain_15("0.1", "gammacore-sham", off)
    assert active < active_off - 0.2
    assert abs(sham - sham_off) < (active_off - active) / 4


def test_no_segmental_relief_outside_treated_head_pain() -> None:
    """Bit for bit the same run whatever the segmental relief: fibromyalgia under a skin
    electrode (no head pain in its segment), and cluster headache treated with a 0 mA sham at
    25 Hz (no Aβ fibre fires)."""

    def states(
        patients: list[str], protocol: str, mp: ModelParameters, **kw: str
    ) -> dict[str, np.ndarray]:
        sol = Simulation(patients, protocol, parameters=mp, seed=9, **kw).run(60)
        return {k: np.asarray(sol[k]) for k in sol.names()}

    fm = [f"fibromyalgia#{i:04d}" for i in range(30)]
    skin = dict(generator="tavns-auricular", lead="ear-cymba-conchae")
    protocol = "2.0 mA; 25 Hz; 250 us; 30 s on / 0.5 min off; 4 h per day"
    mp = ModelParameters.default("fibromyalgia")
    a = states(fm, protocol, mp, **skin)
    b = states(fm, protocol, mp.with_(segmental_relief_max=0.9), **skin)
    assert all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)
    head = ModelParameters.default("episodic_cluster")
    zero = "0.0 mA; 25 Hz; 1000 us; at attack onset: 3 x 120 s"
    cluster = [f"episodic_cluster#{i:04d}" for i in range(30)]
    gc = dict(generator="gammacore-sapphire-cv", lead="gammacore-contacts")
    sim = Simulation(cluster, zero, parameters=head, seed=9, **gc)
    pains = []
    for mp_ in (head, head.with_(segmental_relief_max=0.9)):
        traj = simulate_cohort(sim.cohort, sim.courses(60), baseline_days=0, treatment_days=60,
                               root_seed=9, parameters=mp_)  # fmt: skip
        assert traj.treated is not None
        pains.append(traj.treated.pain)
    assert pains[0].size > 0
    np.testing.assert_array_equal(pains[0], pains[1])
