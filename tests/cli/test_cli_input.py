"""The command line as users expect (issue 13, item 5): a missing extra, an absurd value, a
decimal comma, a wrong output path each get one line naming the field and what is allowed,
with exit code 2 and no traceback; nothing is misread and nothing is overwritten."""

from __future__ import annotations

import builtins
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from openvns.cli.main import app

runner = CliRunner()

SMALL = """
[run]
n_per_arm = 2
root_seed = 3
[output]
formats = []
report = false
[trial]
baseline_days = 14
blinded_days = 28
open_label_days = 0
open_label_arm = "active"
"""


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


def one_line_error(code: int, out: str, *needles: str) -> None:
    """Exit code 2, a single ``error:`` line holding every needle, no traceback."""
    assert code == 2, out
    assert "Traceback" not in out
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, out
    for needle in needles:
        assert needle in errors[0], errors[0]


def block_imports(monkeypatch: pytest.MonkeyPatch, *modules: str, also: str = "") -> None:
    """Make ``import MODULE`` (and its submodules) fail as in an environment without it;
    ``also``: a module prefix whose import fails the same way (a module importing it)."""
    real = builtins.__import__

    def fake(name: str, *args: Any, **kwargs: Any) -> Any:
        top = name.split(".")[0]
        if top in modules or (also and name.startswith(also)):
            raise ModuleNotFoundError(f"No module named {modules[0]!r}", name=modules[0])
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)
    # an earlier test may have imported them: forget them for this test (restored after it)
    for name in list(sys.modules):
        if name.split(".")[0] in modules or (also and name.startswith(also)):
            monkeypatch.delitem(sys.modules, name)


@pytest.fixture
def small_config(tmp_path: Path) -> Path:
    path = tmp_path / "trial.toml"
    path.write_text(SMALL, "utf-8")
    return path


# ----------------------------------------------------------------------------- missing extras
def test_dask_executor_without_the_dask_extra(
    small_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    block_imports(monkeypatch, "distributed", "dask")
    code, out = invoke("trial", "run", "--config", str(small_config), "--executor", "dask",
                       "--out", str(tmp_path / "out"))  # fmt: skip
    one_line_error(code, out, "install it with pip install 'openvns[dask]'")


def test_clinic_without_the_clinic_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    block_imports(monkeypatch, "sqlalchemy", "fastapi", also="openvns.clinic")
    url = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    code, out = invoke("clinic", "migrate", "--database-url", url)
    one_line_error(code, out, "pip install 'openvns[clinic]'")  # [clinic] was eaten as markup


def test_parquet_export_without_pyarrow(
    small_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    block_imports(monkeypatch, "pyarrow")
    code, out = invoke("trial", "run", "--config", str(small_config), "--export", "parquet",
                       "--out", str(tmp_path / "out"))  # fmt: skip
    one_line_error(code, out, "pyarrow", "pip install pyarrow")


def test_report_without_matplotlib(
    small_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    block_imports(monkeypatch, "matplotlib")
    code, out = invoke("patient", "simulate", "fibromyalgia#0001", "--days", "30",
                       "--out", str(tmp_path / "out"))  # fmt: skip
    one_line_error(code, out, "matplotlib", "pip install matplotlib")


# ----------------------------------------------------------------------------- decimal commas
@pytest.mark.parametrize(
    ("option", "text", "field"),
    [("--current", "1,5mA", "output_current_mA"), ("--frequency", "2,5Hz", "frequency_Hz"),
     ("--pulse-width", "2,5e2us", "pulse_width_us"), ("--off", "0,5min", "off_time_min")],
)  # fmt: skip
def test_decimal_comma_is_refused_not_misread(option: str, text: str, field: str) -> None:
    code, out = invoke("device", "check", option, text, "--json")
    one_line_error(code, out, field, repr(text), "decimal point")


def test_decimal_point_still_reads() -> None:
    code, out = invoke("device", "check", "--current", "1.75mA", "--frequency", "20.0Hz", "--json")
    assert code == 0, out
    settings = json.loads(out)["settings"]
    assert settings["output_current_mA"] == 1.75
    assert settings["frequency_Hz"] == 20.0


# ----------------------------------------------------------------------------- absurd values
@pytest.mark.parametrize("option", ["--k-block", "--k-warn"])
@pytest.mark.parametrize("value", ["1e9", "-1e9"])
def test_shannon_k_limit_out_of_range(option: str, value: str) -> None:
    code, out = invoke("device", "check", option, value)
    field = "shannon_k_block" if option == "--k-block" else "shannon_k_warn"
    one_line_error(code, out, field, "from -5 to 5")


def test_shannon_k_limit_in_range_still_works() -> None:
    code, out = invoke("device", "check", "--k-block", "1.7", "--k-warn", "1.2", "--json")
    assert code == 0, out
    assert json.loads(out)["limits"]["shannon_k_block"] == 1.7


@pytest.mark.parametrize("start", ["9999-12-31T00:00", "9999-11-15"])
def test_simulate_start_too_late_for_the_calendar(start: str, tmp_path: Path) -> None:
    code, out = invoke("device", "simulate", "--days", "60", "--start", start)
    one_line_error(code, out, "start", "9999-12-31", "no later than")


def test_simulate_start_not_a_date() -> None:
    code, out = invoke("device", "simulate", "--days", "2", "--start", "yesterday")
    one_line_error(code, out, "start", "an ISO date")


def test_simulate_state_refuses_to_overwrite_another_file(tmp_path: Path) -> None:
    notes = tmp_path / "notes.json"
    notes.write_text('{"my": "notes"}', "utf-8")
    code, out = invoke("device", "simulate", "--days", "2", "--state", str(notes))
    one_line_error(code, out, "state", "not one")
    assert notes.read_text("utf-8") == '{"my": "notes"}'
    text = tmp_path / "essay.txt"
    text.write_bytes(b"\xff\xfeplain words")
    code, out = invoke("device", "simulate", "--days", "2", "--state", str(text))
    one_line_error(code, out, "state")
    assert text.read_bytes() == b"\xff\xfeplain words"
    code, out = invoke("device", "simulate", "--days", "2", "--state", str(tmp_path))
    one_line_error(code, out, "state", "directory")


def test_simulate_state_overwrites_its_own_state_file(tmp_path: Path) -> None:
    state = tmp_path / "implant.json"
    for _ in range(2):
        code, out = invoke("device", "simulate", "--days", "2", "--state", str(state), "--json")
        assert code == 0, out
    assert json.loads(state.read_text("utf-8"))["format"] == "openvns.pulse-generator"


@pytest.mark.parametrize(
    ("table", "needles"),
    [("[run]\nn_per_arm = 1000000000\n", ("run.n_per_arm", "1000000000", "at most 25,445")),
     ("[trial]\nopen_label_days = 1000000000\n",
      ("trial.open_label_days", "at most 3538", "3650 days"))],
)  # fmt: skip
def test_trial_sizes_beyond_memory(tmp_path: Path, table: str, needles: tuple[str, ...]) -> None:
    path = tmp_path / "trial.toml"
    path.write_text(table, "utf-8")
    code, out = invoke("trial", "run", "--config", str(path), "--out", str(tmp_path / "o"))
    one_line_error(code, out, *needles)


def test_trial_n_per_arm_option_beyond_memory(tmp_path: Path) -> None:
    code, out = invoke("trial", "run", "--n-per-arm", "1000000000", "--out", str(tmp_path))
    one_line_error(code, out, "run.n_per_arm", "patient-days")


def test_trial_config_in_utf16(tmp_path: Path) -> None:
    path = tmp_path / "trial.toml"
    path.write_text("[run]\nn_per_arm = 2\n", "utf-16")
    code, out = invoke("trial", "run", "--config", str(path))
    one_line_error(code, out, "config", "UTF-8", "UTF-16")


def test_trial_config_with_a_utf8_byte_order_mark_reads(small_config: Path, tmp_path: Path) -> None:
    small_config.write_text(SMALL, "utf-8-sig")
    code, out = invoke("trial", "run", "--config", str(small_config), "--out", str(tmp_path / "o"))
    assert code == 0, out


@pytest.mark.parametrize("below", ["", "sub"])
def test_output_directory_that_is_a_file(small_config: Path, tmp_path: Path, below: str) -> None:
    afile = tmp_path / "results"
    afile.write_text("keep me", "utf-8")
    out_dir = afile / below if below else afile
    code, out = invoke("trial", "run", "--config", str(small_config), "--out", str(out_dir))
    one_line_error(code, out, "output.directory", "existing file")
    code, out = invoke(
        "patient", "simulate", "fibromyalgia#0001", "--days", "5", "--out", str(out_dir)
    )
    one_line_error(code, out, "--out", "existing file")
    code, out = invoke("validate", "--quick", "--out", str(out_dir))
    one_line_error(code, out, "--out", "existing file")
    assert afile.read_text("utf-8") == "keep me"


@pytest.mark.parametrize(
    ("args", "needles"),
    [(["--days", "1000000000"], ("days = 1000000000", "at most 3650 days")),
     (["--protocol", "1.5 mA; 20 Hz; 250 us; 30 s on / 5 min off; open-label 1000000000 days"],
      ("protocol phases = 1000000000", "at most 3650 days"))],
)  # fmt: skip
def test_patient_days_beyond_memory(tmp_path: Path, args: list[str], needles: tuple[str]) -> None:
    # before: the OOM killer stopped the process at 24 GB
    code, out = invoke("patient", "simulate", "fibromyalgia#0001", *args, "--out", str(tmp_path))
    one_line_error(code, out, *needles)


def test_recruit_fibres_per_group_beyond_memory(tmp_path: Path) -> None:
    code, out = invoke("nerve", "recruit", "--n-per-group", "1000000000", "--no-cache")
    assert code == 2, out
    assert "Traceback" not in out
    assert "--n-per-group" in out
    assert "16384" in out
