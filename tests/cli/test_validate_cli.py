"""``openvns validate``: the report files, exit status on calibration failures, size options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openvns.cli.main import app
from openvns.trials.validation import metrics as vm
from openvns.trials.validation.stats import Measured

runner = CliRunner()
MINI = Path(__file__).parents[1] / "validation" / "data" / "mini_targets.yaml"


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["validate", *args], env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_writes_html_and_json_and_held_out_failures_do_not_fail(tmp_path: Path) -> None:
    code, out = invoke("--targets", str(MINI), "--out", str(tmp_path))
    assert code == 0, out
    page = (tmp_path / "validation.html").read_text("utf-8")
    for key in ("hr10_ok", "hr10_held_fail", "onset_held"):
        assert key in page
        assert key in out
    doc = json.loads((tmp_path / "validation.json").read_text("utf-8"))
    status = {t["key"]: t["status"] for t in doc["targets"]}
    assert status == {"hr10_ok": "pass", "hr10_held_fail": "fail", "onset_held": "pass"}
    assert doc["summary"]["held out"]["fail"] == 1


def test_a_failing_calibration_target_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(vm.METRICS, "heart_rate_median_patient", lambda ctx, **kw: Measured(1000.0))
    code, out = invoke("--targets", str(MINI), "--out", str(tmp_path))
    assert code == 1
    assert "hr10_ok" in out
    assert (tmp_path / "validation.html").exists()


def test_only_and_sizes(tmp_path: Path) -> None:
    code, out = invoke(
        "--targets", str(MINI), "--out", str(tmp_path), "--only", "onset_held",
        "--quick", "--sizes", "voice=10",
    )  # fmt: skip
    assert code == 0, out
    doc = json.loads((tmp_path / "validation.json").read_text("utf-8"))
    assert [t["key"] for t in doc["targets"]] == ["onset_held"]
    code, out = invoke("--targets", str(MINI), "--out", str(tmp_path), "--sizes", "bogus=3")
    assert code == 2
    assert "bogus" in out
    code, out = invoke("--targets", str(MINI), "--out", str(tmp_path), "--only", "nope")
    assert code == 2
    assert "nope" in out
