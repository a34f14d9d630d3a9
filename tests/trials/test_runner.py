"""Trial runner: reproducibility across executors, sham, named patients, configuration hash."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from openvns.physiology.drive import GROUPS
from openvns.physiology.side_effects import SIDE_EFFECTS
from openvns.protocol import Protocol
from openvns.trials import Arm, TrialDesign
from openvns.trials.executors import DaskExecutor, ProcessPool, dask_executor, serial
from openvns.trials.runner import run_trial, simulate_patients

# group-specific 50 % thresholds in mA at 250 us (laryngeal lowest, C fibres highest)
_I50 = np.linspace(0.4, 3.0, len(GROUPS))


def analytic_recruitment(
    current_mA: npt.NDArray[np.float64], pulse_width_us: float
) -> npt.NDArray[np.float64]:
    """Sigmoid recruitment per group; the 50 % current scales with the strength–duration curve."""
    i50 = _I50 * (1.0 + 100.0 / pulse_width_us) / 1.4
    x = np.asarray(current_mA, dtype=np.float64)[:, None] / i50[None, :]
    out: npt.NDArray[np.float64] = x**4 / (1.0 + x**4)
    return out


def other_recruitment(
    current_mA: npt.NDArray[np.float64], pulse_width_us: float
) -> npt.NDArray[np.float64]:
    return 0.5 * analytic_recruitment(current_mA, pulse_width_us)


ACTIVE = (
    "titrate from 0.5 mA by 0.5 mA every 3 days to tolerance, max 2.0 mA; "
    "20 Hz; 250 us; 30 s on / 5 min off"
)
SHAM = "0.0 mA; 20 Hz; 250 us; 30 s on / 5 min off"


def small_design(**kw: object) -> TrialDesign:
    base = dict(
        arms=(
            Arm(name="active", kind="active", protocol=Protocol.parse(ACTIVE)),
            Arm(name="sham", kind="sham", protocol=Protocol.parse(SHAM)),
        ),
        baseline_days=7,
        blinded_days=14,
        open_label_days=7,
        open_label_arm="active",
    )
    base.update(kw)
    return TrialDesign.model_validate(base)


FIELDS = (
    "nrs", "observed", "current_mA", "ae_reported", "dropout_day", "eligible", "arm", "pgic",
    "bpi_interference", "fiqr", "sleep",
)  # fmt: skip


@pytest.fixture(scope="module")
def reference():  # type: ignore[no-untyped-def]
    return run_trial(small_design(), n_per_arm=6, root_seed=7, recruitment=analytic_recruitment)


def test_shapes_and_metadata(reference) -> None:  # type: ignore[no-untyped-def]
    r = reference
    assert r.nrs.shape == (12, 28)
    assert r.ae_reported.shape == (12, 28, len(SIDE_EFFECTS))
    assert r.ae_severity.shape == r.ae_reported.shape
    assert r.side_effects == SIDE_EFFECTS
    assert sorted(np.bincount(r.arm).tolist()) == [6, 6]
    assert r.rng_scheme
    assert r.version
    assert len(r.config_hash) == 64
    assert r.root_seed == 7
    assert set(r.arm_labels) == {"active", "sham"}
    assert r.patient_names[3] == "fibromyalgia#0003"
    assert np.all(r.current_mA[:, :7] == 0)  # baseline
    s = r.summary()
    assert set(s.arms) == {"active", "sham"}
    assert set(s.comparisons) == {"sham"}


@pytest.mark.parametrize(
    ("executor", "workers", "chunk_size"),
    [("serial", 1, 5), ("serial", 1, 1), ("process", 2, 4), ("process", 3, 12)],
)
def test_identical_whatever_the_executor(reference, executor, workers, chunk_size) -> None:  # type: ignore[no-untyped-def]
    r = run_trial(
        small_design(), n_per_arm=6, root_seed=7, recruitment=analytic_recruitment,
        executor=executor, workers=workers, chunk_size=chunk_size,
    )  # fmt: skip
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(r, f), getattr(reference, f))
    assert r.config_hash == reference.config_hash


def test_custom_executor_callable(reference) -> None:  # type: ignore[no-untyped-def]
    r = run_trial(
        small_design(), n_per_arm=6, root_seed=7, recruitment=analytic_recruitment,
        executor=ProcessPool(2), chunk_size=3,
    )  # fmt: skip
    np.testing.assert_array_equal(r.nrs, reference.nrs)
    assert serial(abs, [-1, 2]) == [1, 2]
    ex = dask_executor("tcp://localhost:8786")  # nothing is contacted until it is called
    assert isinstance(ex, DaskExecutor)
    assert ex.address == "tcp://localhost:8786"


def test_sham_never_gets_current_and_active_does(reference) -> None:  # type: ignore[no-untyped-def]
    r = reference
    sham = r.arm == r.arm_names.index("sham")
    blinded = slice(7, 21)
    assert np.all(r.current_mA[sham, blinded] == 0)
    # a sham patient has no stimulation burden: only background (nocebo) and post-operative
    # episodes, which are mild
    assert np.all(r.ae_severity[sham, blinded] <= 1)
    assert np.all(r.current_mA[~sham, 7] == 0.5)
    # open label: sham patients start the active titration
    assert np.all(r.current_mA[sham, 21] == 0.5) or np.all(r.dropout_day[sham] >= 0)


def test_named_patient_same_alone_or_in_cohort(reference) -> None:  # type: ignore[no-untyped-def]
    r = reference
    for i in (0, 5, 11):
        alone = simulate_patients(
            small_design(), [i], [int(r.arm[i])], root_seed=7, recruitment=analytic_recruitment
        )
        for f in ("nrs", "observed", "current_mA", "ae_reported", "dropout_day", "pgic",
                  "bpi_interference", "fiqr", "sleep"):  # fmt: skip
            np.testing.assert_array_equal(alone[f][0], getattr(r, f)[i])


def test_dropout_masks_later_days(reference) -> None:  # type: ignore[no-untyped-def]
    r = run_trial(small_design(open_label_days=200), n_per_arm=10, root_seed=7,
                  recruitment=analytic_recruitment)  # fmt: skip
    out = np.flatnonzero(r.dropout_day >= 0)
    assert out.size > 0
    for i in out:
        d = r.dropout_day[i]
        assert not r.observed[i, d + 1 :].any()
        assert np.all(r.current_mA[i, d + 1 :] == 0)


def test_config_hash_changes_with_every_input(reference) -> None:  # type: ignore[no-untyped-def]
    def h(**kw: object) -> str:
        args: dict[str, object] = dict(n_per_arm=2, root_seed=7, recruitment=analytic_recruitment)
        design = kw.pop("design", small_design())
        args.update(kw)
        return run_trial(design, **args).config_hash  # type: ignore[arg-type]

    ref = h()
    assert h() == ref
    assert h(n_per_arm=3) != ref
    assert h(root_seed=8) != ref
    assert h(recruitment=other_recruitment) != ref
    assert h(design=small_design(blinded_days=15)) != ref
    assert h(condition="crps") != ref


def test_summary_has_time_to_response_with_logrank(reference) -> None:  # type: ignore[no-untyped-def]
    s = reference.summary()
    assert set(s.time_to_response) == set(reference.arm_names)
    for arm, t in s.time_to_response.items():
        sel = (reference.arm == reference.arm_names.index(arm)) & reference.eligible
        assert t.time_weeks.shape == (int(sel.sum()),)
        # weeks lie within the blinded phase
        assert np.all(t.time_weeks <= -(-reference.design.blinded_days // 7))
    lr = s.comparisons["sham"].time_to_response
    assert lr is not None
    assert np.isnan(lr.p_value) or 0.0 <= lr.p_value <= 1.0


def test_the_extension_runs_through_each_arms_own_device() -> None:
    from openvns.protocol import STANDARD_TITRATION
    from openvns.trials.runner import trial_courses

    sham = Protocol.parse("0.0 mA; 20 Hz; 250 us; 30 s on / 5 min off")
    design = TrialDesign(
        arms=(
            Arm(name="active", kind="active", protocol=Protocol.parse(STANDARD_TITRATION)),
            Arm(name="sham", kind="sham", protocol=sham, generator="106", lead="302-30"),
        ),
        open_label_arm="active",
    )

    def active_lead(current_mA: np.ndarray, pulse_width_us: float) -> np.ndarray:
        return np.zeros((current_mA.shape[0], 6))

    def sham_lead(current_mA: np.ndarray, pulse_width_us: float) -> np.ndarray:
        return np.ones((current_mA.shape[0], 6))

    arms = np.array([0, 1, 1, 0])
    courses = trial_courses(design, arms, (active_lead, sham_lead))
    extension = [c for c in courses if c.start_day == design.blinded_days]
    assert len(extension) == 1
    (ext,) = extension
    assert ext.recruitment is sham_lead  # the sham arm's own lead crosses over
    np.testing.assert_array_equal(ext.mask, arms == 1)
    assert str(ext.protocol).startswith("titrate")
    assert ext.ramp_s == 2.0  # Model 106's ramps


def test_outcomes_are_asked_at_the_visits(reference) -> None:  # type: ignore[no-untyped-def]
    """PGIC, BPI, FIQR and sleep at the last day of each phase: the patient's latent outcomes
    from the diary's pain before rounding, not answered after a dropout."""
    from openvns.patients.cohort import sample_patients
    from openvns.patients.outcomes import simulate_outcomes
    from openvns.simulation.engine import simulate_cohort
    from openvns.simulation.parameters import ModelParameters
    from openvns.trials.runner import OUTCOMES, VISITS, arm_recruitment, trial_courses

    r = run_trial(small_design(open_label_days=120), n_per_arm=10, root_seed=3,
                  recruitment=analytic_recruitment)  # fmt: skip
    assert r.visit_days == (6, 20, 140)
    for k in OUTCOMES:
        assert getattr(r, k).shape == (r.n_patients, len(VISITS))
    assert np.all(np.isnan(r.pgic[:, 0]))  # no PGIC at baseline
    assert np.all(~np.isnan(r.bpi_interference[:, 0]))
    assert np.all(~np.isnan(r.fiqr[:, 0]))  # fibromyalgia
    # recompute from the engine: the trial keeps the visit values of simulate_outcomes
    mp = ModelParameters.default("fibromyalgia")
    d = small_design(open_label_days=120)
    cohort = sample_patients(mp.condition, r.patient_index, 3, mp.physiology)
    courses = trial_courses(d, r.arm, arm_recruitment(d, analytic_recruitment))
    traj = simulate_cohort(cohort, courses, baseline_days=7, treatment_days=134, root_seed=3,
                           parameters=mp)  # fmt: skip
    o = simulate_outcomes(cohort, traj.reported_pain_NRS, baseline_days=7, root_seed=3,
                          visit_days=r.visit_days)  # fmt: skip
    for j, day in enumerate(r.visit_days):
        answered = (r.dropout_day < 0) | (r.dropout_day >= day)
        for k in OUTCOMES:
            expected = np.where(answered, getattr(o, k)[:, j], np.nan)
            np.testing.assert_array_equal(getattr(r, k)[:, j], expected, err_msg=f"{k} {j}")
    gone = r.dropout_day >= 0
    if gone.any():
        late = gone & (r.dropout_day < 140)
        assert np.all(np.isnan(r.sleep[late, 2]))
    s = r.summary()
    assert set(s.outcomes) == {"active", "sham"}
    assert set(s.outcome_comparisons) == {"sham"}
    o_active = s.outcomes["active"]
    assert o_active.fiqr is not None
    assert o_active.pgic_improved.n == int((r.eligible & (r.arm == 0)).sum())
    oc = s.outcome_comparisons["sham"]
    assert set(oc.change) == set(oc.responders) == {"bpi_interference", "fiqr", "sleep"}


def test_no_fiqr_outside_fibromyalgia() -> None:
    r = run_trial(small_design(), n_per_arm=3, root_seed=2, recruitment=analytic_recruitment,
                  condition="crps")  # fmt: skip
    assert np.all(np.isnan(r.fiqr))
    assert np.all(~np.isnan(r.sleep[:, 0]))
    s = r.summary()
    assert all(o.fiqr is None for o in s.outcomes.values())
    assert "fiqr" not in s.outcome_comparisons["sham"].change


def test_each_arm_kind_has_its_expectation() -> None:
    """Issue 10 item 2: a pill-like placebo arm (expectation 1), a sham device (the device's
    1.75) and an untreated control (0) differ in their placebo response, in that order, and none
    of them steps at the start of treatment (the expectation builds up smoothly); arms without
    an operation have no post-operative side effects."""
    sham = Protocol.parse("0.0 mA; 20 Hz; 250 us; 30 s on / 5 min off")
    design = TrialDesign(
        arms=(
            Arm(name="device", kind="sham", protocol=sham),
            Arm(name="pill", kind="sham", protocol=sham, expectation=1.0, implanted=False),
            Arm(name="untreated", kind="sham", protocol=sham, expectation=0.0, implanted=False),
        ),
        baseline_days=28, blinded_days=84, open_label_days=0,
    )  # fmt: skip
    n = 3000
    change, hoarse = {}, {}
    voice = SIDE_EFFECTS.index("voice")
    for a, name in enumerate(("device", "pill", "untreated")):
        out = simulate_patients(design, np.arange(n), np.full(n, a), root_seed=9)
        hoarse[name] = out["ae_reported"][:, 28:, voice].any(axis=1).mean()
        seen = out["observed"]
        nrs = np.where(seen, out["nrs"].astype(float), 0.0)

        def mean(days: slice, nrs: np.ndarray = nrs, seen: np.ndarray = seen) -> np.ndarray:
            return nrs[:, days].sum(axis=1) / np.maximum(seen[:, days].sum(axis=1), 1)

        both = seen[:, :28].any(axis=1) & seen[:, 84:112].any(axis=1)
        change[name] = float((mean(slice(0, 28)) - mean(slice(84, 112)))[both].mean())
        daily = nrs.sum(axis=0) / np.maximum(seen.sum(axis=0), 1)
        assert abs(daily[28] - daily[27]) < 0.1, name  # no step at the phase boundary
    assert change["device"] > change["pill"] > change["untreated"]
    # without an operation there is no post-operative hoarseness, only the background's
    assert hoarse["device"] > 2 * hoarse["pill"]
    assert abs(change["untreated"]) < 0.3  # regression to the mean only (no inclusion here)
    with pytest.raises(ValueError, match=r"expectation = -1.0 is not allowed"):
        Arm(name="x", kind="sham", protocol=sham, expectation=-1.0)


def test_summary_prints_a_compact_table() -> None:
    # the default trial at 30 per arm: the dataclass repr printed thousands of characters of
    # arrays (17 700 at 200 per arm); the table is bounded whatever the size
    r = run_trial(TrialDesign.default(), n_per_arm=30, root_seed=2026)
    s = r.summary()
    text = str(s)
    assert repr(s) == text
    assert len(text) < 3000
    assert "array(" not in text
    for piece in ("active", "sham", "active − sham", "Hedges' g", "NNT", "≥30% resp."):
        assert piece in text
    assert s.comparisons["sham"].nnt_30.describe() in text
    assert sum(s.randomised.values()) == r.n_patients == 60


def test_summary_frame_and_effect_sizes(reference) -> None:  # type: ignore[no-untyped-def]
    from openvns.analysis.effect_size import hedges_g
    from openvns.analysis.endpoints import ArmComparison

    r = reference
    s = r.summary()
    frame = s.to_frame()
    assert list(frame.index) == ["active", "sham", "active − sham"]
    assert list(frame["kind"]) == ["arm", "arm", "comparison"]
    end = r.design.baseline_days + r.design.blinded_days
    for a, name in enumerate(r.arm_names):
        row, arm = frame.loc[name], s.arms[name]
        drop = r.dropout_day[r.arm == a]
        assert row["randomised"] == int((r.arm == a).sum())
        assert row["eligible"] == int(((r.arm == a) & r.eligible).sum())
        assert row["analysed"] == int(arm.change_NRS.n)
        assert row["dropout_blinded"] == int(((drop >= 0) & (drop < end)).sum())
        assert row["change_NRS"] == pytest.approx(float(arm.change_NRS.estimate), nan_ok=True)
        assert row["responders_30"] == pytest.approx(arm.responders_30.count / arm.responders_30.n)
    cmp = s.comparisons["sham"]
    assert isinstance(cmp, ArmComparison)
    row = frame.loc["active − sham"]
    g = hedges_g(r.change("active").change_NRS, r.change("sham").change_NRS)
    assert row["hedges_g"] == pytest.approx(g.estimate, nan_ok=True)
    assert (row["hedges_g_lower"], row["hedges_g_upper"]) == pytest.approx(
        (g.lower, g.upper), nan_ok=True
    )
    if np.isfinite(g.estimate):  # g has the sign of the difference of mean change
        assert np.sign(g.estimate) == np.sign(cmp.change_NRS.estimate)
    assert row["change_NRS_p"] == pytest.approx(cmp.change_NRS.p_value, nan_ok=True)
    rd = cmp.responders_30.estimate
    assert row["nnt_30"] == (np.inf if rd == 0 else pytest.approx(1 / rd))
    assert row["nnt_30_text"] == cmp.nnt_30.describe()
    assert row["responders_50_upper"] == pytest.approx(cmp.responders_50.upper)


def test_effects_document_is_json(reference) -> None:  # type: ignore[no-untyped-def]
    import json
    import math

    from openvns.analysis.effect_size import EffectSize, NumberNeededToTreat
    from openvns.analysis.statistics import Comparison
    from openvns.trials.summary import TrialComparison, effects_document

    cmp = reference.summary().comparisons["sham"]
    doc = json.loads(json.dumps(effects_document(cmp), allow_nan=False))
    assert set(doc) == {"hedges_g", "nnt_30", "nnt_50"}
    g = cmp.hedges_g
    if math.isfinite(g.estimate):
        assert doc["hedges_g"]["estimate"] == g.estimate
    assert doc["nnt_30"]["text"] == cmp.nnt_30.describe()
    # no difference: the NNT is infinite (null) and its interval passes through infinity
    nan = float("nan")
    rd = Comparison(0.0, -0.1, 0.2, 1.0, "x")
    flat = TrialComparison(
        cmp.change_NRS, rd, rd, None,
        hedges_g=EffectSize(nan, nan, nan, nan, 1, 1, "none"),
        nnt_30=NumberNeededToTreat(rd, math.inf, 5.0, -10.0),
        nnt_50=NumberNeededToTreat(rd, math.inf, 5.0, -10.0),
    )  # fmt: skip
    doc = json.loads(json.dumps(effects_document(flat), allow_nan=False))
    assert doc["hedges_g"] == {"estimate": None, "ci": [None, None], "method": "none"}
    assert doc["nnt_30"] == {
        "estimate": None, "ci": [5.0, -10.0], "includes_infinity": True,
        "text": "NNT ∞ (NNTH 10.0 to ∞ to NNTB 5.0)",
    }  # fmt: skip
