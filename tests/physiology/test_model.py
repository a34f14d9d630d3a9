"""Sanity tests of reference §5.9 and behaviour of the daily physiology model."""

from __future__ import annotations

import numpy as np
import pytest

from openvns.device.dose import duty_cycle
from openvns.errors import ValidationError
from openvns.physiology import (
    GROUPS,
    DailyInputs,
    initial_state,
    load_parameters,
    simulate,
    step,
)
from openvns.physiology.model import draw_noise, plasticity_gain
from openvns.physiology.parameters import provenance
from tests.physiology.typical import TYPICAL, typical_start

P = load_parameters()


def inputs(n: int, r_aff: float | np.ndarray, *, off_min: float = 5.0, on: bool = True,
           r_mot: float = 0.0, r_B: float = 0.0, f: float = 25.0) -> DailyInputs:  # fmt: skip
    r = np.zeros((n, len(GROUPS)))
    r[:, GROUPS.index("A_afferent")] = r_aff
    r[:, GROUPS.index("laryngeal_motor")] = r_mot
    r[:, GROUPS.index("cardiac_B")] = r_B
    full = lambda v: np.full(n, float(v))  # noqa: E731
    return DailyInputs(r, full(f), full(duty_cycle(30, off_min)), full(24), np.full(n, on))


def run(days: int, n: int = 1, **kw: object) -> dict[str, np.ndarray]:
    return simulate(days, lambda d, s: inputs(n, **kw), P, n, state=typical_start(n))  # type: ignore[arg-type]


def test_every_parameter_is_sourced() -> None:
    prov = provenance()
    assert set(prov) == set(type(P).model_fields) - {"version"}
    assert all(p.provisional for p in prov.values() if p.status in {"R", "A"})


def test_with_validates_and_names_the_key() -> None:
    assert P.with_(f_opt_Hz=1.0).f_opt_Hz == 1.0
    with pytest.raises(ValidationError, match="f_opt_Hz"):
        P.with_(f_opt_Hz=-1.0)
    with pytest.raises(ValidationError, match=r"no_such_key.*allowed: a physiology parameter"):
        P.with_(no_such_key=1.0)
    # owned by the condition, not by this set: refused, never silently ignored
    with pytest.raises(ValidationError, match=r"p_responder.*belong to the condition"):
        P.with_(p_responder=0.9)
    # documented but not used by the daily model: refused
    with pytest.raises(ValidationError, match=r"circadian_amplitude.*documented only"):
        P.with_(circadian_amplitude=0.2)
    with pytest.raises(ValidationError, match="descending_limb_input"):
        P.with_(descending_limb_input="both")


def test_sanity_1_modulation_changes_sign_with_current() -> None:
    M = [run(30, r_aff=r)["M"][-1, 0] for r in np.linspace(0.02, 1.0, 25)]
    assert min(M) < 0 < max(M)
    assert M[0] < 0
    assert M[-1] > 0


def test_sanity_2_plasticity_gain_is_inverted_u() -> None:
    """The 'drive' mode of the descending limb; the default 'small_fibre' mode is swept over
    current through the nerve table in test_mechanism.py."""
    G = plasticity_gain(
        np.linspace(0.01, 4.0, 400) * P.D50_up, P.with_(descending_limb_input="drive")
    )
    peak = int(np.argmax(G))
    assert 0 < peak < len(G) - 1
    assert G[peak] == pytest.approx(1.0, abs=1e-3)
    assert G[0] < 0.2
    assert G[-1] < 0.5


def test_sanity_3_off_time_threshold_for_serotonin() -> None:
    R14 = {off: run(14, r_aff=1.0, off_min=off)["R"][-1, 0] for off in (5, 15, 30)}
    assert R14[5] > 0.85
    assert R14[15] > 0.6
    assert R14[30] < 0.3 * R14[5]


def test_sanity_4_time_course_under_standard_settings() -> None:
    out = run(14, r_aff=1.0)
    assert out["R"][2, 0] < 0.35
    assert out["R"][13, 0] > 0.85
    assert out["S"][0, 0] > 0.6 * out["Nbar"][0, 0]


def test_sanity_5_heart_rate_and_voice_time_course() -> None:
    n = 200
    rng = np.random.default_rng(1)
    r_B = rng.uniform(0.0, 0.15, n)  # clinical currents recruit few cardiac B fibres
    out = simulate(
        5 * 365, lambda d, s: inputs(n, 0.8, r_mot=0.8, r_B=r_B), P.with_(h0_per_d=0.0,
        h0_late_per_d=0.0, b_AE_per_d=0.0, b_ineffective_per_d=0.0), n, state=typical_start(n),
        root_seed=5, record=("HR_change_pct", "present"),
    )  # fmt: skip
    assert np.mean(np.abs(out["HR_change_pct"][-1]) < 5.0) >= 0.85
    voice = out["present"][:, 0].mean(axis=1)  # share of patients with voice alteration
    assert voice[76:106].mean() > 0.45
    assert voice[5 * 365 - 30 :].mean() < 0.6 * voice[76:106].mean()


def test_zero_stimulation_leaves_modulation_at_baseline() -> None:
    out = run(200, r_aff=0.9, on=False)
    for key in ("S", "R1", "R", "M", "E_acute", "G", "E_slow", "HR_change_pct"):
        np.testing.assert_array_equal(out[key], 0.0)
    np.testing.assert_array_equal(out["C"], 1.0)
    np.testing.assert_array_equal(out["B"], 0.0)


def test_vectorised_equals_each_patient_alone() -> None:
    n, days = 5, 60
    r = np.linspace(0.1, 1.0, n)
    state = initial_state(P, n, **TYPICAL, D50_N=np.linspace(0.2, 0.5, n))
    noise = draw_noise(days, n, root_seed=7)
    all_at_once = state
    alone = [state.select(np.array([i])) for i in range(n)]
    for d in range(days):
        inp = inputs(n, r, r_mot=0.5)
        all_at_once = step(all_at_once, inp, P, noise[d])
        for i in range(n):
            one = inputs(1, r[i], r_mot=0.5)
            nz = type(noise[d])(*(getattr(noise[d], f)[..., [i]] for f in ("u_ae", "u_dropout")))
            alone[i] = step(alone[i], one, P, nz)
    for i in range(n):
        for key in ("R", "C", "M", "P_true_NRS", "T", "present", "ae_severity", "dropped_out"):
            np.testing.assert_allclose(
                getattr(all_at_once, key)[..., i], getattr(alone[i], key)[..., 0]
            )


def test_seeded_simulation_is_reproducible() -> None:
    fn = lambda d, s: inputs(40, 0.7, r_mot=0.9)  # noqa: E731
    a = simulate(60, fn, P, 40, root_seed=11, state=typical_start(40))
    b = simulate(60, fn, P, 40, root_seed=11, state=typical_start(40))
    c = simulate(60, fn, P, 40, root_seed=12, state=typical_start(40))
    np.testing.assert_array_equal(a["ae_reported"], b["ae_reported"])
    assert a["ae_reported"].any()
    assert not np.array_equal(a["ae_reported"], c["ae_reported"])  # the seed matters
    assert np.all((a["NRS"] >= 0) & (a["NRS"] <= 10))
