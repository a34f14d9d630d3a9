"""The power of a randomised-withdrawal design on the command line: ``trial power`` tests the
loss of response among the run-in responders, and ``trial run`` states its evidence."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from openvns.cli.main import app

runner = CliRunner()

DESIGNS = Path(__file__).resolve().parents[2] / "examples" / "designs"
EXAMPLE = DESIGNS / "implant_randomised_withdrawal.toml"

#: A short withdrawal design: 14-day baseline, 28-day run-in, 28-day withdrawal.
SHORT = """\
[run]
n_per_arm = 10
root_seed = 4
[output]
report = false
formats = []
[trial]
baseline_days = 14
blinded_days = 56
open_label_days = 0
open_label_arm = "continue"
[trial.withdrawal]
run_in_days = 28
responder_pct = 30.0
[[trial.arms]]
name = "continue"
kind = "active"
protocol = "titrate from 0.25 mA by 0.25 mA every 14 days to tolerance, max 2.0 mA; \
20 Hz; 250 us; 30 s on / 5 min off"
[[trial.arms]]
name = "withdraw"
kind = "sham"
protocol = "0.0 mA; 20 Hz; 250 us; 30 s on / 5 min off"
"""


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["trial", *args], env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_power_of_the_withdrawal_example_tests_the_loss_of_response(tmp_path: Path) -> None:
    code, text = invoke(
        "power", "--config", str(EXAMPLE), "--n", "4,8", "--replicates", "2",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0, text
    assert "withdraw − continue and continue − withdraw" in text
    assert "withdraw − continue: loss of response, run-in responders (χ² / Fisher)" in text
    assert "continue − withdraw: Δ NRS (Welch t)" in text
    assert "randomised withdrawal: loss of response among the run-in responders" in text
    assert "112-day run-in" in text
    assert "n = 8: continue" in text
    doc = json.loads((tmp_path / "power.json").read_text("utf-8"))
    first = doc["endpoints"][0]
    assert (first["comparison"], first["endpoint"]) == ("withdraw − continue", "lost_response")
    assert first["n_per_arm"] == [4, 8]
    rows = list(csv.DictReader((tmp_path / "power.csv").read_text("utf-8").splitlines()))
    assert [r["endpoint"] for r in rows[:2]] == ["lost_response", "lost_response"]


def test_run_of_a_withdrawal_design_states_its_power(tmp_path: Path) -> None:
    cfg = tmp_path / "trial.toml"
    cfg.write_text(SHORT, "utf-8")
    code, text = invoke(
        "run", "--config", str(cfg), "--out", str(tmp_path / "o"), "--power-replicates", "3"
    )
    assert code == 0, text
    assert "randomised withdrawal —" in text  # the trial's own outcome
    assert "strength of the evidence: power of this design at 10 per arm" in text
    assert "withdraw − continue, loss of response, run-in responders (χ² / Fisher): power" in text
    assert "continue − withdraw, Δ NRS (Welch t): power" in text
    assert "randomised withdrawal: loss of response among the run-in responders" in text
    doc = json.loads((tmp_path / "o" / "summary.json").read_text("utf-8"))
    evidence = doc["evidence"]
    first = evidence["endpoints"][0]
    assert (first["comparison"], first["endpoint"]) == ("withdraw − continue", "lost_response")
    assert evidence["replicates"] == 3
    assert evidence["withdrawal"]["run_in_days"] == 28
    if doc["withdrawal"]["difference"][0] is not None:  # the trial's estimate beside the model's
        assert "this trial" in text.split("loss of response, run-in responders")[1].split("\n")[0]
