"""A recruitment table being built shows its progress (issue 13: ``openvns nerve recruit --lead
3mm --pulse-width 500us`` was silent for 12 minutes).

The build reports ``(0, total)`` before its first (slowest) batch and ``(total, total)`` only
when the table is done, after the population's field features, which took the last ~40 s of a
full 3 mm build after the bar had reached its end. The CLI turns the calls into a bar on a
terminal and into plain lines on stderr elsewhere (where rich draws nothing at all). The builds
here are tiny (4 fibres per group, the analytic threshold proxy): bookkeeping only.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from openvns.cli.nerve import app as nerve_app
from openvns.nerve import population_thresholds, recruitment
from tests.nerve import proxies

runner = CliRunner()
root = typer.Typer()
root.add_typer(nerve_app, name="nerve")


@pytest.fixture
def proxy_solver(monkeypatch: pytest.MonkeyPatch) -> None:
    """The analytic test double instead of the fibre solver."""
    monkeypatch.setattr(recruitment, "_default_threshold_fn", lambda: proxies.rattay_thresholds)
    monkeypatch.setattr(recruitment, "_default_fiber_builder", lambda: proxies.proxy_build_fiber)


def test_build_reports_advancing_counts_from_zero_to_the_end_of_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[Any] = []
    real_features = population_thresholds.fibre_features

    def features(*args: Any, **kwargs: Any) -> Any:
        events.append("features")
        return real_features(*args, **kwargs)

    monkeypatch.setattr(population_thresholds, "fibre_features", features)
    recruitment.build_recruitment_table(
        "2mm",
        n_per_group=4,
        pulse_widths_us=(250.0, 500.0),
        threshold_fn=proxies.rattay_thresholds,
        fiber_builder=proxies.proxy_build_fiber,
        cache_dir=tmp_path,
        use_cache=False,
        progress=lambda done, total: events.append((done, total)),
        field="analytic",
    )
    calls = [e for e in events if e != "features"]
    total = calls[0][1]
    assert calls[0] == (0, total), "the size of the job is known before the first batch"
    assert [c[1] for c in calls] == [total] * len(calls), "one total throughout"
    assert [c[0] for c in calls] == list(range(total + 1)), "one step at a time, to the end"
    assert events[-1] == (total, total), "the end is reported after the last features"
    assert "features" in events


def test_cached_table_reports_nothing(tmp_path: Path) -> None:
    kwargs: dict[str, Any] = {
        "n_per_group": 4,
        "pulse_widths_us": (250.0,),
        "threshold_fn": proxies.rattay_thresholds,
        "fiber_builder": proxies.proxy_build_fiber,
        "cache_dir": tmp_path,
        "field": "analytic",
    }
    recruitment.build_recruitment_table("2mm", **kwargs)
    calls: list[tuple[int, int]] = []
    recruitment.build_recruitment_table("2mm", **kwargs, progress=lambda d, t: calls.append((d, t)))
    assert calls == []


@pytest.mark.usefixtures("proxy_solver")
def test_recruit_shows_the_build_on_stderr_when_it_is_not_a_terminal(tmp_path: Path) -> None:
    args = ["nerve", "recruit", "--lead", "2mm", "--pulse-width", "500us", "--n-per-group", "4",
            "--cache-dir", str(tmp_path), "--json"]  # fmt: skip
    result = runner.invoke(root, args, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)  # stdout stays JSON: the progress goes to stderr
    err = result.stderr
    assert "building the recruitment table of lead 2mm" in err
    assert str(tmp_path) in err.replace("\n", "")
    found = re.findall(r"recruitment table of 2mm: (\d+)/(\d+)", err)
    counts = [(int(a), int(b)) for a, b in found]
    assert counts[0][0] == 0
    assert counts[-1][0] == counts[-1][1] > 0
    assert [c[0] for c in counts] == sorted({c[0] for c in counts})
    # a second run reads the cache: no build, nothing on stderr
    again = runner.invoke(root, args, env={"COLUMNS": "80"})
    assert again.exit_code == 0
    assert again.stderr == ""


def test_plain_progress_prints_about_ten_lines(capsys: pytest.CaptureFixture[str]) -> None:
    from openvns.cli.common import progress_bar

    with progress_bar("job", "steps") as tick:
        for i in range(1001):
            tick(i, 1000)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "job: 0/1000 steps"
    assert lines[-1] == "job: 1000/1000 steps"
    assert len(lines) == 11


TRIAL_2MM = """
[run]
n_per_arm = 2
[output]
formats = []
report = false
[trial]
lead = "304-20"
baseline_days = 14
blinded_days = 28
open_label_days = 0
"""


def test_trial_run_builds_its_leads_tables_first_with_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``trial run`` builds the tables of its leads before the run, under the same progress as
    ``nerve recruit`` (a table built inside the run was silent); here a stand-in build."""
    from openvns.cli.main import app

    built: list[str] = []
    real = recruitment.build_recruitment_table

    def build(lead: str, **kwargs: Any) -> Any:
        built.append(lead)
        for done in range(4):
            kwargs["progress"](done, 3)
        return real(lead)

    monkeypatch.setattr(recruitment, "build_recruitment_table", build)
    monkeypatch.setenv("OPENVNS_CACHE_DIR", str(tmp_path / "cache"))  # the shipped 2 mm table
    config = tmp_path / "trial.toml"
    config.write_text(TRIAL_2MM, "utf-8")
    args = ["trial", "run", "--config", str(config), "--out", str(tmp_path / "out")]
    result = runner.invoke(app, args, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert built == ["2mm"]  # both arms share the lead: one table
    assert "building the recruitment table of lead 2mm: 3 steps" in result.stderr
    assert "recruitment table of 2mm: 3/3 steps" in result.stderr
    assert "simulating 4 fibromyalgia patients: 4/4 patients" in result.stderr


def test_device_simulate_progress_goes_to_stderr() -> None:
    from openvns.cli.main import app

    result = runner.invoke(app, ["device", "simulate", "--days", "60"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "simulating: 60/60 days" in result.stderr
    assert "simulating" not in result.stdout
    quiet = runner.invoke(app, ["device", "simulate", "--days", "60", "--json"])
    assert quiet.stderr == ""
