"""``openvns trial uncertainty`` and ``openvns trial sensitivity``: outputs and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from openvns.cli.main import app

runner = CliRunner()

SMALL = """
[run]
n_per_arm = 3
root_seed = 11
[trial]
baseline_days = 14
blinded_days = 28
open_label_days = 14
"""


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["trial", *args], env={"COLUMNS": "80"})
    return result.exit_code, result.output


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "trial.toml"
    path.write_text(SMALL, "utf-8")
    return path


def test_uncertainty_writes_intervals_samples_and_a_figure(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "unc"
    code, text = invoke("uncertainty", "-c", str(config), "--samples", "4", "--out", str(out))
    assert code == 0, text
    assert "220 assumed values" in text
    assert "active-sham.change_NRS" in text  # the ids a user types back are not cut at 80 columns
    assert "95% PI" in text
    intervals = pd.read_csv(out / "intervals.csv")
    row = intervals.set_index("endpoint").loc["active-sham.change_NRS"]
    assert row["pi_low"] <= row["median"] <= row["pi_high"]
    samples = pd.read_csv(out / "samples.csv")
    assert len(samples) == 4
    assert "f_opt_Hz" in samples.columns
    doc = json.loads((out / "uncertainty.json").read_text())
    assert doc["samples"] == 4
    assert doc["method"] == "lhs"
    assert "one per parameter set" in doc["seeds"]
    assert any(a["key"] == "p_responder" and a["reason"] for a in doc["assumptions"])
    assert (out / "uncertainty.png").stat().st_size > 1000


def test_uncertainty_is_reproducible_and_sobol_and_common_seed_run(
    config: Path, tmp_path: Path
) -> None:
    frames = []
    for name, extra in (("a", []), ("b", []), ("c", ["--method", "sobol", "--common-seed"])):
        out = tmp_path / name
        code, text = invoke("uncertainty", "-c", str(config), "-n", "4", "--out", str(out), *extra)
        assert code == 0, text
        frames.append(pd.read_csv(out / "samples.csv"))
    pd.testing.assert_frame_equal(frames[0], frames[1])
    assert not frames[0]["f_opt_Hz"].equals(frames[2]["f_opt_Hz"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["uncertainty", "--method", "sobol", "-n", "6"], "power of 2"),
        (["uncertainty", "--method", "halton", "-n", "4"], "lhs, sobol"),
        (["uncertainty", "-n", "1"], "samples"),
        (["sensitivity", "--endpoint", "active.nrs"], "active-sham.change_NRS"),
        (["sensitivity", "--base-samples", "100"], "power of 2"),
        (["sensitivity", "--method", "fast"], "sobol, morris"),
        (["sensitivity", "--method", "morris", "--trajectories", "1"], "trajectories"),
    ],
)
def test_bad_input_is_one_line_naming_the_field(
    config: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    code, text = invoke(*args, "-c", str(config), "--out", str(tmp_path / "o"))
    assert code == 2, text
    assert message in text
    assert "Traceback" not in text


def test_an_output_directory_that_is_a_file_is_refused(config: Path, tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    code, text = invoke("uncertainty", "-c", str(config), "-n", "2", "--out", str(f))
    assert code == 2
    assert "existing file" in text


def test_sensitivity_morris_end_to_end(config: Path, tmp_path: Path) -> None:
    pytest.importorskip("SALib")
    out = tmp_path / "sens"
    code, text = invoke(
        "sensitivity", "-c", str(config), "--method", "morris", "--trajectories", "2",
        "--n-per-arm", "2", "--out", str(out),
    )  # fmt: skip
    assert code == 0, text
    ranked = pd.read_csv(out / "sensitivity.csv", index_col="parameter")
    assert len(ranked) == 185  # the outcomes set cannot move a pain endpoint: not varied
    assert ranked["mu_star"].is_monotonic_decreasing
    assert {"set", "low", "high", "unit", "sigma"} <= set(ranked.columns)
    runs = pd.read_csv(out / "sensitivity_runs.csv")
    assert len(runs) == 2 * (185 + 1)
    doc = json.loads((out / "sensitivity.json").read_text())
    assert doc["endpoint"] == "active-sham.change_NRS"
    assert doc["trajectories"] == 2
    assert (out / "sensitivity.png").stat().st_size > 1000


@pytest.mark.slow
def test_sensitivity_sobol_end_to_end(config: Path, tmp_path: Path) -> None:
    pytest.importorskip("SALib")
    out = tmp_path / "sobol"
    code, text = invoke(
        "sensitivity", "-c", str(config), "--endpoint", "sham.change_NRS",
        "--base-samples", "2", "--n-per-arm", "2", "--out", str(out),
    )  # fmt: skip
    assert code == 0, text
    ranked = pd.read_csv(out / "sensitivity.csv", index_col="parameter")
    assert {"S1", "S1_conf", "ST", "ST_conf"} <= set(ranked.columns)
    assert len(pd.read_csv(out / "sensitivity_runs.csv")) == 2 * (185 + 2)
