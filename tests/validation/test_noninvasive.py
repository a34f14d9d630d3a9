"""The non-invasive part of the validation registry (issue 11): the merged registry, its split,
the cohorts as trial designs, the metrics on hand-built cohorts with known answers, and the
calibration parameters that name their targets."""

from __future__ import annotations

import fnmatch
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pydantic
import pytest
import yaml

from openvns.errors import ValidationError
from openvns.patients.attacks import AttackDiary, TreatedAttacks
from openvns.physiology import load_parameters
from openvns.physiology.side_effects import SIDE_EFFECTS
from openvns.simulation.recruitment import default_recruitment
from openvns.trials.validation import QUICK_SIZES, ValidationSizes, load_registry, parse_registry
from openvns.trials.validation.cohorts import CohortData, CohortRunner, design_of
from openvns.trials.validation.metrics import MetricContext, run_metric
from openvns.trials.validation.noninvasive_metrics import standardised_difference
from openvns.trials.validation.registry import (
    MIN_HELD_OUT,
    ArmSpec,
    CohortSpec,
    merge_registry_data,
)

REFUSED = (ValidationError, pydantic.ValidationError)
DATA = Path(__file__).parents[2] / "src" / "openvns" / "trials" / "validation" / "data"
MINI = Path(__file__).parent / "data" / "mini_targets.yaml"


def _noninvasive() -> dict[str, Any]:
    data = yaml.safe_load((DATA / "noninvasive_targets.yaml").read_text("utf-8"))
    assert isinstance(data, dict)
    return data


# --- the registry -----------------------------------------------------------------------------
def test_noninvasive_targets_are_part_of_the_one_registry() -> None:
    reg = load_registry()
    part = _noninvasive()
    keys = {t.key for t in reg.targets}
    assert {t["key"] for t in part["targets"]} <= keys
    assert set(part["cohorts"]) <= set(reg.cohorts)
    for t in part["targets"]:
        assert t["cohort"] in part["cohorts"], t["key"]
    # the priorities of issue 11 item 6
    assert {
        "preva_attacks_change_active", "preva_responders50_active", "act1_response_active",
        "act1_response_ech_active", "act1_response_cch_sham", "act2_painfree_attacks_all_active",
        "presto_painfree_120_active", "presto_painfree_30_active", "presto_painfree_60_sham",
        "premium_mmd_change_active", "premium_adherent_share", "event_hd_difference",
        "straube_hd_difference", "kovacic_worst_pain_week3", "costa_tvns_overall_d",
        "redgrave_local_skin", "redgrave_dizziness", "premium_ade_sham", "act1_ade_difference",
    } <= keys  # fmt: skip


def test_noninvasive_split_holds_at_least_a_third_out() -> None:
    targets = _noninvasive()["targets"]
    held = [t for t in targets if not t["calibration"]]
    assert len(held) / len(targets) >= MIN_HELD_OUT
    # held out entirely: another trial, condition or route
    by = {t["key"]: t for t in targets}
    for key, t in by.items():
        if key.startswith(("act2_", "event_", "kovacic_worst", "kovacic_resp", "costa_")):
            assert not t["calibration"], key
    assert not by["presto_painfree_30_active"]["calibration"]
    assert by["presto_painfree_120_active"]["calibration"]


def test_unreached_only_on_calibration_targets_with_a_reason() -> None:
    data = yaml.safe_load(MINI.read_text("utf-8"))
    data["targets"][1]["unreached"] = "no parameter"  # a held-out target
    with pytest.raises(REFUSED, match="unreached"):
        parse_registry(data)
    data = yaml.safe_load(MINI.read_text("utf-8"))
    data["targets"][0]["unreached"] = "no parameter"
    assert parse_registry(data).targets[0].unreached == "no parameter"
    for t in load_registry().targets:
        if t.unreached is not None:
            assert t.calibration, t.key
            assert len(t.unreached) > 40, t.key


def test_merging_refuses_a_key_or_cohort_in_two_files() -> None:
    mini = yaml.safe_load(MINI.read_text("utf-8"))
    with pytest.raises(ValidationError, match="used once"):
        merge_registry_data([("a", mini), ("b", mini)])
    a = {"cohorts": {"x": {}}, "targets": []}
    with pytest.raises(ValidationError, match=r"cohorts\.x"):
        merge_registry_data([("a", a), ("b", a)])
    both = merge_registry_data([("a", mini), ("b", {"version": 2, "targets": []})])
    assert both["version"] == 2
    assert len(both["targets"]) == len(mini["targets"])


def test_every_calibrated_parameter_names_registry_targets() -> None:
    """A parameter whose source says 'openvns validate KEY' points at registry keys (globs
    allowed), and the non-invasive ones are status D."""
    keys = [t.key for t in load_registry().targets]
    root = DATA.parents[2]
    found: dict[str, list[str]] = {}
    for path in root.rglob("data/*.yaml"):
        text = path.read_text("utf-8")
        for m in re.finditer(r"openvns validate ([a-z0-9_*, ]+)", text):
            names = [n.strip() for n in re.split(r"[ ,]+", m.group(1)) if n.strip()]
            for name in names:
                found.setdefault(name, []).append(path.name)
                assert fnmatch.filter(keys, name), (path.name, name)
    for key in ("premium_adherent_share", "redgrave_local_skin", "redgrave_dizziness"):
        assert key in found, key


def test_calibration_values_are_status_d_with_their_target() -> None:
    side = yaml.safe_load(
        (DATA.parents[2] / "physiology" / "data" / "side_effects.yaml").read_text("utf-8")
    )
    entry = side["channels"]["application_site"]["onset_per_d"]
    assert entry["status"] == "D"
    assert "redgrave_local_skin" in entry["source"]
    # the dizziness onset cannot reach Redgrave's dizziness (an auricular electrode barely
    # drives the channel): it stays an assumption; the background rate is fitted instead
    entry = side["channels"]["dizziness"]["onset_per_d"]
    assert entry["status"] == "A"
    assert "redgrave_dizziness" in entry["source"]
    entry = side["channels"]["dizziness"]["background_per_d"]
    assert entry["status"] == "D"
    assert "redgrave_dizziness" in entry["source"]
    by = {t.key: t for t in load_registry().targets}
    assert by["redgrave_dizziness"].unreached is None
    assert "background_per_d" in by["redgrave_dizziness"].why
    # the acute parameters name their calibration targets and the tool that fits them
    model = yaml.safe_load(
        (DATA.parents[2] / "physiology" / "data" / "vns_pain_model.yaml").read_text("utf-8")
    )
    assert model["segmental"]["segmental_relief_max"]["status"] == "D"
    assert "P23" in model["segmental"]["segmental_relief_max"]["source"]
    assert "calibrate_acute_headache" in model["sources"]["P23"]
    for key in ("act1_response_active", "act1_response_ech_active", "act1_response_cch_active",
                "presto_painfree_120_active"):  # fmt: skip
        assert by[key].unreached is None
        assert "segmental_relief_max" in by[key].why
    assert by["presto_painfree_120_sham"].unreached is None
    assert "acute_expectation_multiplier" in by["presto_painfree_120_sham"].why
    headache = yaml.safe_load(
        (DATA.parents[2] / "patients" / "data" / "headache.yaml").read_text("utf-8")
    )
    assert "presto_painfree_120_sham" in headache["sources"]["H11"]
    for name, values in headache["conditions"].items():
        assert values["acute_expectation_multiplier"]["status"] == "D", name
        assert "H11" in values["acute_expectation_multiplier"]["source"], name
    assert by["redgrave_local_skin"].unreached is None
    conditions = yaml.safe_load(
        (DATA.parents[2] / "patients" / "data" / "conditions.yaml").read_text("utf-8")
    )
    conc = conditions["diary"]["adherence_concentration"]
    assert conc["status"] == "D"
    assert "premium_adherent_share" in conc["source"]
    # episodic migraine's expectation is fitted to PREMIUM's arms, which are no longer unreached;
    # the other headache conditions keep the fibromyalgia value (their sham arms are held out)
    em = conditions["conditions"]["episodic_migraine"]["placebo_fraction"]
    assert em["status"] == "D"
    assert "calibrate_migraine_prevention" in em["source"]
    premium = ("premium_mmd_change_active", "premium_mmd_change_sham", "premium_mmd_difference_itt")
    for key in premium:
        assert key in em["source"], key
        assert by[key].calibration, key
        assert by[key].unreached is None, key
        assert "placebo_fraction" in by[key].why, key
    assert conditions["conditions"]["chronic_migraine"]["placebo_fraction"]["status"] == "A"
    assert not any(by[k].calibration for k in by if k.startswith("event_"))


# --- cohorts as designs -------------------------------------------------------------------------
def test_cohorts_build_trial_designs_with_their_devices() -> None:
    reg = load_registry()
    preva = design_of(reg.cohorts["preva"])
    assert preva.generator_for("active") == "gammacore-sapphire-cv"
    control = preva.arm("control")
    assert control.kind == "standard_of_care"
    assert not control.implanted
    assert control.expectation == 0.0
    act1 = design_of(reg.cohorts["act1_episodic"])
    assert act1.generator_for("sham") == "gammacore-sham"
    assert act1.lead_for("sham") == "gammacore-contacts"
    typical = design_of(reg.cohorts["tavns_typical"])
    assert typical.lead_for("active") == "ear-cymba-conchae"
    assert typical.lead_for("earlobe") == "ear-lobe"
    event = design_of(reg.cohorts["event"])
    assert event.inclusion.min_headache_days == 15
    assert design_of(reg.cohorts["kovacic"]).inclusion.min_mean_pain == 0.0


# --- metrics on hand-built cohorts ---------------------------------------------------------------
BASE, BLIND = 14, 28


def _spec(condition: str = "chronic_cluster") -> CohortSpec:
    arms = (
        ArmSpec(name="a", kind="active", protocol="1.0 mA; 20 Hz; 250 us; 30 s on / 5 min off"),
        ArmSpec(name="b", kind="sham", protocol="0.0 mA; 20 Hz; 250 us; 30 s on / 5 min off"),
    )
    return CohortSpec(name="hand", about="hand-built", arms=arms, baseline_days=BASE,
                      blinded_days=BLIND, condition=condition, size="noninvasive")  # fmt: skip


def _cohort(
    attacks_per_day: np.ndarray, *, treated: TreatedAttacks | None = None,
    ae: np.ndarray | None = None, dropout: np.ndarray | None = None,
    adherence: np.ndarray | None = None,
) -> CohortData:  # fmt: skip
    n, days = attacks_per_day.shape
    arm = np.repeat(np.arange(2, dtype=np.int64), n // 2)
    obs = np.ones((n, days), dtype=bool)
    diary = AttackDiary(
        attacks=attacks_per_day.astype(np.int8), headache_day=attacks_per_day > 0,
        migraine_day=attacks_per_day > 0, peak_severity=np.full((n, days), 2, np.int8),
        duration_min=np.full((n, days), 60.0), rescue=np.zeros((n, days), bool),
        observed=obs, scale_max=4,
    )  # fmt: skip
    channels = len(SIDE_EFFECTS)
    arrays: dict[str, Any] = {
        "nrs": np.full((n, days), 5, np.int8), "observed": obs,
        "current_mA": np.zeros((n, days)),
        "ae_reported": np.zeros((n, days, channels), bool) if ae is None else ae,
        "ae_severity": np.zeros((n, days, channels), np.int8),
        "dropout_day": np.full(n, -1, np.int64) if dropout is None else dropout,
        "eligible": np.ones(n, bool), "coupling": np.ones(n),
        "pgic": np.full((n, 3), np.nan), "bpi_interference": np.full((n, 3), np.nan),
        "fiqr": np.full((n, 3), np.nan), "sleep": np.full((n, 3), np.nan),
        "attacks": diary, "treated": treated, "adherence": adherence,
    }  # fmt: skip
    return CohortData(_spec(), arm, arrays, root_seed=1)


class _Prepared(CohortRunner):
    """A runner that hands out prepared cohorts instead of simulating them."""

    def __init__(self, cohorts: dict[str, CohortData]) -> None:
        super().__init__({}, ValidationSizes(), root_seed=1, params=None, recruitment=None)
        self.prepared = cohorts

    def __call__(self, name: str) -> CohortData:
        return self.prepared[name]


def _measure(c: CohortData, metric: str, runner: CohortRunner | None = None, **args: Any):  # type: ignore[no-untyped-def]
    ctx = MetricContext(c, runner or _Prepared({}), load_parameters(), default_recruitment())
    return run_metric(metric, ctx, args)


def _two_rates(n: int = 8) -> np.ndarray:
    """Arm a: 2 attacks a day at baseline, 1 a day in the last 14 days; arm b: 2 throughout.
    The first patient of each arm has 4 at baseline."""
    x = np.full((n, BASE + BLIND), 2)
    x[: n // 2, BASE + BLIND - 14 :] = 1
    x[[0, n // 2], :BASE] = 4
    return x


def test_frequency_metrics_give_the_hand_computed_answers() -> None:
    c = _cohort(_two_rates())
    # arm a: baseline 14/wk (one patient 28), endpoint 7/wk: changes -7, -7, -7, -21
    m = _measure(c, "frequency_change", arm="a", measure="attacks")
    assert m.value == pytest.approx(-10.5)
    assert m.n == 4
    m = _measure(c, "frequency_change", arm="b", measure="attacks")
    assert m.value == pytest.approx((0 + 0 + 0 - 14) / 4)
    d = _measure(c, "frequency_change_difference", arm_a="b", arm_b="a", measure="attacks")
    assert d.value == pytest.approx(-3.5 + 10.5)
    r = _measure(c, "frequency_responders", arm="a", measure="attacks", threshold_pct=50)
    assert r.value == pytest.approx(100.0)  # -50 % and -75 %
    r = _measure(c, "frequency_responders", arm="b", measure="attacks", threshold_pct=50)
    assert r.value == pytest.approx(25.0)  # 28 -> 14: exactly -50 %
    rd = _measure(c, "frequency_responder_difference", arm_a="a", arm_b="b",
                  measure="attacks", threshold_pct=50)  # fmt: skip
    assert rd.value == pytest.approx(75.0)
    b = _measure(c, "baseline_frequency", measure="attacks")
    assert b.value == pytest.approx((14 * 6 + 28 * 2) / 8)
    # a later window: the whole blinded phase of arm a, 14 d at 2 and 14 d at 1 a day
    w = _measure(c, "frequency_change", arm="a", measure="attacks", window_days=28)
    assert w.value == pytest.approx(((10.5 - 14) * 3 + (10.5 - 28)) / 4)


def test_frequency_change_of_completers_and_adherent_patients() -> None:
    drop = np.full(8, -1)
    drop[1] = BASE + 3  # patient 1 (arm a) leaves in week 1: its endpoint window is missing
    adherence = np.array([0.9, 0.9, 0.5, 0.9, 0.9, 0.9, 0.9, 0.5])
    c = _cohort(_two_rates(), dropout=drop, adherence=adherence)
    all_a = _measure(c, "frequency_change", arm="a", measure="attacks")
    done = _measure(c, "frequency_change", arm="a", measure="attacks", completers=True)
    assert all_a.n == 4  # the hand-built diary keeps patient 1's entries after the dropout
    assert done.n == 3
    assert done.value == pytest.approx((-21 - 7 - 7) / 3)
    adh = _measure(c, "frequency_change", arm="a", measure="attacks", adherent_at=0.67)
    assert adh.n == 3
    share = _measure(c, "adherent_share", arm="b", threshold=0.67)
    assert share.value == pytest.approx(75.0)


def _treated(success_first: list[bool], later: list[list[bool]]) -> TreatedAttacks:
    """Per patient: the first attack relieved to 0 at 15 min or left at 3, then more attacks."""
    k = 1 + max(len(x) for x in later)
    n = len(success_first)
    day = np.full((n, k), -1, np.int64)
    pain = np.full((n, k, 5), -1, np.int8)
    for i, (first, rest) in enumerate(zip(success_first, later, strict=True)):
        for j, ok in enumerate([first, *rest]):
            day[i, j] = BASE + j
            pain[i, j] = [3, 0 if ok else 3, 0 if ok else 3, 0 if ok else 3, 0 if ok else 3]
    return TreatedAttacks(day=day, pain=pain, rescue_min=np.full((n, k), np.nan), scale_max=4)


def test_acute_metrics_count_first_attacks_and_each_patients_share() -> None:
    firsts = [True, True, False, False, True, False, False, False]
    later = [[True], [False], [True], [False], [True], [True], [False], [False]]
    c = _cohort(np.zeros((8, BASE + BLIND), int), treated=_treated(firsts, later))
    m = _measure(c, "first_attack_share", arm="a", endpoint="response")
    assert m.value == pytest.approx(50.0)
    assert m.n == 4
    s = _measure(c, "attack_share", arm="b", endpoint="pain_free", at_min=15)
    assert s.value == pytest.approx(100 * np.mean([1.0, 0.5, 0.0, 0.0]))
    # >= 50 % of attacks: a 3 of 4 patients (1, 0.5, 0.5, 0), b 2 of 4 (1, 0.5, 0, 0)
    d = _measure(c, "attack_consistency_difference", arm_a="a", arm_b="b", endpoint="response")
    assert d.value == pytest.approx(25.0)
    p = _measure(c, "attack_mean_pain", arm="a", at_min=15)
    assert p.value == pytest.approx(np.mean([0.0, 1.5, 1.5, 3.0]))


def test_pooled_shares_weight_the_parts() -> None:
    one = _cohort(np.zeros((8, BASE + BLIND), int), treated=_treated(
        [True] * 4 + [False] * 4, [[True]] * 8))  # fmt: skip
    two = _cohort(np.zeros((8, BASE + BLIND), int), treated=_treated(
        [False] * 8, [[True]] * 8))  # fmt: skip
    runner = _Prepared({"one": one, "two": two})
    parts = [{"cohort": "one", "arm": "a", "weight": 3}, {"cohort": "two", "arm": "a", "weight": 1}]
    m = _measure(one, "first_attack_share", runner, endpoint="response", parts=parts)
    assert m.value == pytest.approx(75.0)  # 3/4 x 100 % + 1/4 x 0 %
    assert m.ci[0] == pytest.approx(75.0)  # no spread within either part
    with pytest.raises(ValidationError, match="parts"):
        _measure(one, "first_attack_share", runner, endpoint="response",
                 parts=[{"cohort": "one", "arm": "a"}])  # fmt: skip
    with pytest.raises(ValidationError, match="arm/parts"):
        _measure(one, "first_attack_share", runner, endpoint="response", arm="a", parts=parts)


def test_effects_count_patients_in_the_study_with_any_channel() -> None:
    n, days = 8, BASE + BLIND
    ae = np.zeros((n, days, len(SIDE_EFFECTS)), bool)
    site, dizzy = SIDE_EFFECTS.index("application_site"), SIDE_EFFECTS.index("dizziness")
    ae[0, BASE + 2, site] = True
    ae[1, BASE + 5, dizzy] = True
    ae[2, BASE - 1, site] = True  # at baseline: not counted
    ae[3, BASE + 20, site] = True  # after patient 3 left
    ae[4, BASE + 1, dizzy] = True
    drop = np.full(n, -1)
    drop[3] = BASE + 10
    c = _cohort(np.zeros((n, days), int), ae=ae, dropout=drop)
    m = _measure(c, "effect_prevalence", arm="a", effects=["application_site", "dizziness"],
                 start_day=0, end_day=BLIND)  # fmt: skip
    assert m.value == pytest.approx(50.0)
    assert m.n == 4
    d = _measure(c, "effect_prevalence_difference", arm_a="a", arm_b="b", effects="all",
                 start_day=0, end_day=BLIND)  # fmt: skip
    assert d.value == pytest.approx(50.0 - 25.0)


def test_standardised_difference_of_known_samples() -> None:
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([0.0, 1.0, 2.0])
    d, se = standardised_difference(a, b)
    assert d == pytest.approx(1.0)
    assert se == pytest.approx(math.sqrt(6 / 9 + 1 / 12))
    d2, _ = standardised_difference(b, a)
    assert d2 == pytest.approx(-1.0)


# --- real cohorts at tiny sizes ---------------------------------------------------------------
def test_worst_pain_follows_the_runners_patients() -> None:
    reg = load_registry()
    runner = CohortRunner(reg.cohorts, QUICK_SIZES.with_(noninvasive=12), root_seed=3,
                          params=None, recruitment=None)  # fmt: skip
    c = runner("kovacic")
    w = runner.worst_pain("kovacic")
    usual = np.asarray(c["nrs"], dtype=int)
    assert w.nrs.T.shape == usual.shape
    seen = np.asarray(c["observed"], dtype=bool)
    np.testing.assert_array_equal(w.observed.T, seen)
    assert np.all(w.nrs.T[seen] >= usual[seen])  # never below the usual pain


def test_a_trial_view_of_a_cohort_has_its_arms_and_attacks() -> None:
    reg = load_registry()
    runner = CohortRunner(reg.cohorts, QUICK_SIZES.with_(noninvasive=5), root_seed=3,
                          params=None, recruitment=None)  # fmt: skip
    t = runner("act1_chronic").trial()
    assert t.arm_names == ("active", "sham")
    assert t.n_patients == 10
    assert t.attacks is not None
    assert t.treated is not None
    assert np.all(t.treated.day[t.treated.day >= 0] >= 0)


def test_an_unreached_calibration_failure_is_reported_and_not_fatal(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from openvns.cli.main import app

    data = yaml.safe_load(MINI.read_text("utf-8"))
    data["targets"][0]["reference"]["interval"] = {"kind": "at_most", "high": -80.0}
    data["targets"][0]["unreached"] = "the model has no parameter for this heart-rate change"
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(data), "utf-8")
    result = CliRunner().invoke(app, ["validate", "--targets", str(path), "--out",
                                      str(tmp_path)], env={"COLUMNS": "200"})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "declared unreached" in result.output
    page = (tmp_path / "validation.html").read_text("utf-8")
    assert "no parameter for this heart-rate change" in page
    doc = yaml.safe_load((tmp_path / "validation.json").read_text("utf-8"))
    assert doc["summary"]["calibration"]["unreached"] == 1
    del data["targets"][0]["unreached"]
    path.write_text(yaml.safe_dump(data), "utf-8")
    result = CliRunner().invoke(app, ["validate", "--targets", str(path), "--out",
                                      str(tmp_path)], env={"COLUMNS": "200"})  # fmt: skip
    assert result.exit_code == 1
