"""Listings fit an 80-column terminal without cutting what a user types back (issue 13): the
catalogue's generator and lead ids, parameter-set and parameter names, the currents of a
recruitment table and a trial's arm names appear whole, and no line is wider than 80."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openvns.cli import common
from openvns.cli.main import app
from openvns.device.catalogue import default_catalogue
from openvns.parameters import load_set

runner = CliRunner()
WIDTH = 80


@pytest.fixture(autouse=True)
def narrow(monkeypatch: pytest.MonkeyPatch) -> None:
    """An 80-column terminal, whatever the environment the tests run in."""
    monkeypatch.setattr(common.console, "_width", WIDTH)


def render(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": str(WIDTH)})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "…" not in out.replace(", …,", ","), out  # "5, …, 180" is a range, not a cut
    widest = max(len(line.rstrip()) for line in out.splitlines())
    assert widest <= WIDTH, out
    return out


def whole(token: str, out: str) -> bool:
    """``token`` appears in ``out`` as a whole word (not a prefix of a longer one)."""
    return re.search(rf"(?<![\w.#/-]){re.escape(token)}(?![\w.#/-])", out) is not None


def test_device_models_keeps_every_id_and_alias() -> None:
    cat = default_catalogue()
    out = render("device", "models")
    for gid in cat.generators:
        assert whole(gid, out), gid
    for lead in cat.leads.values():
        assert whole(lead.id, out), lead.id
        for alias in lead.aliases:
            assert alias in out, alias


@pytest.mark.parametrize("model", ["1000", "gammacore-sapphire-cv"])
def test_device_model_detail_keeps_parameter_names(model: str) -> None:
    out = render("device", "models", model)
    for name in default_catalogue().generator(model).parameters:
        assert whole(name, out), name


def test_params_list_keeps_the_set_names() -> None:
    from openvns.parameters import available

    out = render("params", "list")
    for name in available():
        assert whole(name, out), name


@pytest.mark.parametrize("name", ["catalogue", "physiology", "safety"])
def test_params_show_keeps_the_parameter_names(name: str) -> None:
    out = render("params", "show", name)
    for p in load_set(name).parameters:
        assert whole(p.name, out), p.name


def test_nerve_recruit_keeps_the_currents(tmp_path: Path) -> None:
    out = render("nerve", "recruit", "--lead", "2mm", "--cache-dir", str(tmp_path))
    header = next(line for line in out.splitlines() if line.lstrip().startswith("group"))
    assert header.split()[1:] == ["0.25", "0.5", "0.75", "1", "1.25", "1.5", "2", "2.5", "3",
                                  "3.5"]  # fmt: skip
    for group in ("laryngeal_motor", "Adelta_afferent", "C_efferent"):
        assert whole(group, out), group


ARMS = """
[run]
condition = "chronic_migraine"
n_per_arm = 3
root_seed = 5
[output]
formats = []
report = false
[trial]
baseline_days = 28
blinded_days = 28
open_label_days = 0
open_label_arm = "high_frequency_active"
[[trial.arms]]
name = "high_frequency_active"
kind = "active"
protocol = "1.5 mA; 25 Hz; 250 us; 30 s on / 5 min off"
[[trial.arms]]
name = "sham_zero_milliamps"
kind = "sham"
protocol = "0.0 mA; 25 Hz; 250 us; 30 s on / 5 min off"
"""


def test_trial_run_keeps_the_arm_names(tmp_path: Path) -> None:
    config = tmp_path / "trial.toml"
    config.write_text(ARMS, "utf-8")
    out = render("trial", "run", "--config", str(config), "--out", str(tmp_path / "out"))
    rows = [line.split()[0] for line in out.splitlines() if line.strip()]
    assert rows.count("high_frequency_active") >= 3  # summary, outcomes, headache tables
    assert rows.count("sham_zero_milliamps") >= 3
