"""``openvns trial run`` and ``openvns trial init``: outputs, overrides, config errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from openvns.cli.main import app
from openvns.trials import TrialConfig, load_config, read_tidy, run_trial

runner = CliRunner()

SMALL = """
[run]
n_per_arm = 6
root_seed = 11
[output]
formats = ["csv", "parquet"]
[trial]
baseline_days = 14
blinded_days = 28
open_label_days = 14
"""


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["trial", *args], env={"COLUMNS": "200"})
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    base = tmp_path_factory.mktemp("trial")
    cfg = base / "trial.toml"
    cfg.write_text(SMALL, "utf-8")
    code, out = invoke("run", "--config", str(cfg), "--out", str(base / "out"))
    assert code == 0, out
    return base / "out", out


def test_run_writes_every_output(small_run: tuple[Path, str]) -> None:
    out, text = small_run
    for name in ("summary.json", "config.toml", "patient_days.csv", "patient_days.parquet",
                 "report.html"):  # fmt: skip
        assert (out / name).is_file(), name
    assert "active − sham" in text
    assert "patient-days/s" in text
    doc = json.loads((out / "summary.json").read_text("utf-8"))
    flow = doc["consort"]
    assert f"Flow: screened {flow['screened']}, excluded {flow['excluded']}" in text
    assert f"randomised {flow['randomised']}" in text


def test_summary_equals_a_direct_run(small_run: tuple[Path, str]) -> None:
    out, _ = small_run
    doc = json.loads((out / "summary.json").read_text("utf-8"))
    cfg = load_config(out / "config.toml")
    result = run_trial(
        cfg.design,
        n_per_arm=cfg.run.n_per_arm,
        root_seed=cfg.run.root_seed,
    )
    assert doc["config_hash"] == result.config_hash
    assert doc["consort"] == result.consort().to_dict()
    assert doc["consort"]["randomised"] == result.n_patients
    assert doc["consort"]["screened"] >= result.n_patients
    summary = result.summary()
    for arm, s in summary.arms.items():
        assert doc["arms"][arm]["change_NRS"][0] == pytest.approx(float(s.change_NRS.estimate))
        assert doc["arms"][arm]["responders_30"][0] == pytest.approx(
            float(s.responders_30.proportion().estimate)
        )
    days = read_tidy(out / "patient_days.parquet")
    assert len(days["day"]) == result.n_patients * result.n_days
    np.testing.assert_array_equal(
        np.asarray(days["current_mA"]).reshape(result.n_patients, result.n_days),
        result.current_mA,
    )


def test_saved_config_repeats_the_run(small_run: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = small_run
    code, text = invoke(
        "run", "--config", str(out / "config.toml"), "--out", str(tmp_path), "--no-report"
    )
    assert code == 0, text
    first = json.loads((out / "summary.json").read_text("utf-8"))
    again = json.loads((tmp_path / "summary.json").read_text("utf-8"))
    assert again["config_hash"] == first["config_hash"]
    assert again["arms"] == first["arms"]
    assert not (tmp_path / "report.html").exists()


def test_options_override_the_file(tmp_path: Path) -> None:
    cfg = tmp_path / "trial.toml"
    cfg.write_text(SMALL, "utf-8")
    code, text = invoke(
        "run", "--config", str(cfg), "--out", str(tmp_path / "o"), "--n-per-arm", "3",
        "--seed", "5", "--no-report", "--export", "csv", "--executor", "process",
        "--workers", "2",
    )  # fmt: skip
    assert code == 0, text
    doc = json.loads((tmp_path / "o" / "summary.json").read_text("utf-8"))
    assert doc["patients"] == 6
    assert doc["root_seed"] == 5
    assert (tmp_path / "o" / "patient_days.csv").is_file()
    assert not (tmp_path / "o" / "patient_days.parquet").exists()


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[run]\nexecutor = 'threads'\n", "run.executor"),
        ("[run]\nn_per_arm = 0\n", "run.n_per_arm"),
        ("[trial]\nblinded_days = 'long'\n", "trial.blinded_days"),
        ("[physiology]\nf_opt_Hz = -2.0\n", "physiology.f_opt_Hz"),
        ("[outputs]\nreport = true\n", "config.outputs"),
    ],
)
def test_config_errors_name_the_key(tmp_path: Path, toml: str, key: str) -> None:
    cfg = tmp_path / "trial.toml"
    cfg.write_text(toml, "utf-8")
    code, text = invoke("run", "--config", str(cfg), "--out", str(tmp_path / "o"))
    assert code == 2
    assert key in text
    assert not (tmp_path / "o").exists()


def test_unsafe_protocol_is_refused(tmp_path: Path) -> None:
    cfg = tmp_path / "trial.toml"
    cfg.write_text(
        "[trial]\n[[trial.arms]]\nname = 'active'\nkind = 'active'\n"
        "protocol = '3.5 mA; 30 Hz; 1000 us; 30 s on / 5 min off'\n"
        "[[trial.arms]]\nname = 'sham'\nkind = 'sham'\n"
        "protocol = '0.0 mA; 30 Hz; 1000 us; 30 s on / 5 min off'\n",
        "utf-8",
    )
    code, text = invoke("run", "--config", str(cfg), "--out", str(tmp_path / "o"))
    assert code != 0
    assert "output_current_mA" in text or "Shannon" in text or "charge" in text
    assert not (tmp_path / "o").exists()


def test_init_writes_the_defaults_and_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "trial.toml"
    code, text = invoke("init", str(path))
    assert code == 0, text
    assert load_config(path).to_dict() == TrialConfig().to_dict()
    code, text = invoke("init", str(path))
    assert code == 2
    assert "--force" in text
    code, _ = invoke("init", str(path), "--force")
    assert code == 0


def _example(name: str) -> Path:
    from tests.trials.test_examples import EXAMPLES, cached_recruitment

    path = EXAMPLES / f"{name}.toml"
    cfg = load_config(path)
    for arm in cfg.design.arms:
        lead = cfg.design.lead_for(arm.name)
        if cached_recruitment(lead) is None:
            pytest.skip(f"the recruitment table of {lead} is neither cached nor shipped")
    return path


def test_an_example_headache_trial_prints_its_headache_endpoints(tmp_path: Path) -> None:
    from openvns.trials.report_headache import headache_document

    path = _example("preva_chronic_cluster")
    code, text = invoke("run", "--config", str(path), "--n-per-arm", "4", "--out",
                        str(tmp_path))  # fmt: skip
    assert code == 0, text
    assert "headache prevention (primary): attacks per week" in text
    assert "nvns − standard_of_care: change" in text
    assert "acute treatment (response)" in text
    doc = json.loads((tmp_path / "summary.json").read_text("utf-8"))
    cfg = load_config(path)
    direct = run_trial(cfg.design, n_per_arm=4, root_seed=cfg.run.root_seed,
                       parameters=cfg.model_parameters())  # fmt: skip
    assert doc["config_hash"] == direct.config_hash
    assert doc["headache"] == json.loads(json.dumps(headache_document(direct)))
    assert doc["crossover"] is None
    assert "Headache endpoints" in (tmp_path / "report.html").read_text("utf-8")
    days = read_tidy(tmp_path / "patient_days.parquet")
    assert days["attacks"].sum() == direct.attacks.attacks.sum()  # type: ignore[union-attr]


def test_a_crossover_example_prints_the_hills_armitage_analysis(tmp_path: Path) -> None:
    path = _example("tavns_crossover_fibromyalgia")
    code, text = invoke("run", "--config", str(path), "--n-per-arm", "4", "--out",
                        str(tmp_path), "--no-report")  # fmt: skip
    assert code == 0, text
    assert "crossover (Hills–Armitage" in text
    doc = json.loads((tmp_path / "summary.json").read_text("utf-8"))
    assert doc["headache"] is None
    assert doc["crossover"]["treatments"] == ["cymba_conchae", "earlobe_sham"]
    assert "treatment" in doc["crossover"] or "error" in doc["crossover"]


def test_run_states_the_strength_of_its_evidence(small_run: tuple[Path, str]) -> None:
    """Beside its own estimate, ``trial run`` prints the design's simulated power and the
    model's large-sample effect (issue 13), with g and NNT, and writes them to summary.json."""
    out, text = small_run
    assert "strength of the evidence" in text
    assert "power" in text
    assert "large-sample" in text
    assert "Hedges' g" in text
    assert "NNT, ≥30 % responders" in text
    doc = json.loads((out / "summary.json").read_text("utf-8"))
    evidence = doc["evidence"]
    assert evidence, doc.keys()
    comparison = doc["comparisons"]["sham"]
    assert {"hedges_g", "nnt_30", "nnt_50"} <= set(comparison)


def test_power_replicates_zero_skips_the_evidence(tmp_path: Path) -> None:
    cfg = tmp_path / "trial.toml"
    cfg.write_text(SMALL, "utf-8")
    code, text = invoke(
        "run", "--config", str(cfg), "--out", str(tmp_path / "o"), "--no-report",
        "--power-replicates", "0",
    )  # fmt: skip
    assert code == 0, text
    assert "strength of the evidence" not in text
    assert "evidence" not in json.loads((tmp_path / "o" / "summary.json").read_text("utf-8"))


def test_run_prints_adverse_events_by_arm(small_run: tuple[Path, str]) -> None:
    out, text = small_run
    assert "adverse events in the blinded phase" in text
    assert "AE → stop" in text
    doc = json.loads((out / "summary.json").read_text("utf-8"))
    assert set(doc["adverse_events"]["blinded"]) == {"active", "sham"}


def test_run_with_an_interim_prints_the_decision(tmp_path: Path) -> None:
    cfg = tmp_path / "trial.toml"
    cfg.write_text(
        SMALL.replace("open_label_days = 14", "open_label_days = 0")
        + "[trial.interim]\ninformation_fraction = 0.5\nfutility_z = -50.0\n",
        "utf-8",
    )
    code, text = invoke(
        "run", "--config", str(cfg), "--out", str(tmp_path / "o"), "--no-report",
        "--power-replicates", "0", "--n-per-arm", "12",
    )  # fmt: skip
    assert code == 0, text
    assert "interim (50 % of patients)" in text
    assert "group-sequential decision" in text
    doc = json.loads((tmp_path / "o" / "summary.json").read_text("utf-8"))
    assert doc["interim"]["information_fraction"] == 0.5
    assert doc["interim"]["decision"] in (
        "stopped for efficacy", "stopped for harm", "efficacy at the final analysis",
        "harm at the final analysis", "no difference shown",
    )  # fmt: skip


def test_run_a_randomised_withdrawal(tmp_path: Path) -> None:
    from tests.trials.test_withdrawal import TRIAL

    data = TrialConfig().to_dict()
    data["trial"] = dict(TRIAL)
    data["run"] = {"n_per_arm": 20, "root_seed": 2}
    data["output"] = {"report": False, "formats": []}
    from openvns.trials.config import dumps_toml

    cfg = tmp_path / "trial.toml"
    cfg.write_text(dumps_toml(data), "utf-8")
    code, text = invoke(
        "run", "--config", str(cfg), "--out", str(tmp_path / "o"), "--power-replicates", "3"
    )
    assert code == 0, text
    assert "randomised withdrawal" in text
    assert "weeks to loss of response" in text
    assert "strength of the evidence" in text  # the design's own endpoint's power
    assert "withdraw − continue, loss of response" in text or "loss of response" in text
    doc = json.loads((tmp_path / "o" / "summary.json").read_text("utf-8"))
    assert set(doc["withdrawal"]["run_in_responders"]) == {"continue", "withdraw"}
