"""``openvns trial power``: the table, the files and one-line errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openvns.cli.main import app

runner = CliRunner()

SMALL = """
[run]
root_seed = 5
[trial]
baseline_days = 14
blinded_days = 28
open_label_days = 14
"""


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["trial", "power", *args], env={"COLUMNS": "200"})
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def small_power(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    base = tmp_path_factory.mktemp("power")
    cfg = base / "trial.toml"
    cfg.write_text(SMALL, "utf-8")
    code, out = invoke(
        "--config", str(cfg), "--n", "6,12", "--replicates", "3", "--out", str(base / "out")
    )
    assert code == 0, out
    return base / "out", out


def test_power_prints_the_table_and_writes_the_files(small_power: tuple[Path, str]) -> None:
    out, text = small_power
    for name in ("power.csv", "power.json", "power_curve.png"):
        assert (out / name).is_file(), name
    assert (out / "power_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "active − sham" in text
    assert "Δ NRS (Welch t)" in text
    assert "n=6" in text
    assert "n=12" in text
    assert "n 80%" in text
    assert "n 90%" in text


def test_power_csv_and_json_agree(small_power: tuple[Path, str]) -> None:
    out, _ = small_power
    rows = list(csv.DictReader((out / "power.csv").read_text("utf-8").splitlines()))
    assert {r["endpoint"] for r in rows} == {"change_NRS", "responders_30", "responders_50"}
    assert sorted({int(r["n_per_arm"]) for r in rows}) == [6, 12]
    doc = json.loads((out / "power.json").read_text("utf-8"))
    assert doc["replicates"] == 3
    assert doc["sizes_per_arm"] == [6, 12]
    assert doc["root_seed"] == 5
    for e in doc["endpoints"]:
        for i, n in enumerate(e["n_per_arm"]):
            row = next(
                r for r in rows if r["endpoint"] == e["endpoint"] and int(r["n_per_arm"]) == n
            )
            assert float(row["power"]) == pytest.approx(e["power"][i])
            assert float(row["mc_se"]) == pytest.approx(e["mc_se"][i], abs=1e-6)
        assert set(e["n_for_power"]) == {"80%", "90%"}


def test_a_headache_condition_adds_its_primary_endpoint(tmp_path: Path) -> None:
    code, out = invoke(
        "--condition", "episodic_migraine", "--n", "4", "--replicates", "2", "--out", str(tmp_path)
    )
    assert code == 0, out
    assert "Δ migraine days, primary (Welch t)" in out
    doc = json.loads((tmp_path / "power.json").read_text("utf-8"))
    assert "headache_change" in {e["endpoint"] for e in doc["endpoints"]}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--n", "50;100"], "--n: '50;100' is not allowed"),
        (["--n", "50,1,5"], "n = 1 is not allowed"),
        (["--n", "1.5"], "--n: '1.5' is not allowed"),
        (["--n", "10", "--replicates", "0"], "replicates = 0 is not allowed"),
        (["--n", "10", "--alpha", "1.5"], "alpha = 1.5 is not allowed"),
        (["--n", "1000000000"], "at most 10,000,000 simulated patients"),
        (["--n", "10", "--executor", "threads"], "run.executor"),
    ],
)
def test_bad_input_is_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    code, out = invoke(*args, "--out", str(tmp_path / "out"))
    assert code == 2
    assert message in out
    assert "Traceback" not in out


def test_an_output_directory_that_is_a_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "taken"
    path.write_text("x", "utf-8")
    code, out = invoke("--n", "4", "--replicates", "2", "--out", str(path))
    assert code == 2
    assert "existing file" in out
