"""``openvns params list`` and ``openvns params show``."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from openvns.cli.main import app
from openvns.parameters import available, load_set

runner = CliRunner()


def test_list_shows_every_set_with_version_and_count() -> None:
    result = runner.invoke(app, ["params", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.output)}
    assert list(rows) == list(available())
    assert rows["physiology"]["version"] == load_set("physiology").version
    assert rows["safety"]["parameters"] == 5
    assert rows["safety"]["provisional"] == 4
    table = runner.invoke(app, ["params", "list"], env={"COLUMNS": "120"})
    assert table.exit_code == 0, table.output
    assert "conditions/fibromyalgia" in table.output
    assert load_set("catalogue").version in table.output


def test_show_physiology_lists_unit_status_and_source() -> None:
    result = runner.invoke(app, ["params", "show", "physiology"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    line = next(ln for ln in result.output.splitlines() if " f_opt_Hz " in ln)
    cells = [c.strip() for c in line.strip("│ ").split("│")]
    assert cells[:6] == ["f_opt_Hz", "25", "Hz", "10–30", "A", "yes"]  # with its plausible range
    assert cells[6].startswith("P0 §5.1 (20-30 Hz")
    data = json.loads(runner.invoke(app, ["params", "show", "physiology", "--json"]).output)
    row = next(p for p in data["parameters"] if p["name"] == "f_opt_Hz")
    assert row == {
        "name": "f_opt_Hz",
        "value": 25.0,
        "unit": "Hz",
        "status": "A",
        "provisional": True,
        "source": load_set("physiology")["f_opt_Hz"].source,
        "section": "drive",
        "range": {
            "low": 10.0,
            "high": 30.0,
            "reason": load_set("physiology")["f_opt_Hz"].range.reason,  # type: ignore[union-attr]
        },
    }
    assert "contradicted by taVNS migraine" in row["source"]


def test_show_safety_lists_the_k_block_value_with_its_source() -> None:
    result = runner.invoke(app, ["params", "show", "safety"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    line = next(ln for ln in result.output.splitlines() if "shannon_k_block" in ln)
    assert "1.85" in line
    assert "Shannon 1992 (IEEE TBME 39:424-6)" in line
    assert " V " in line


def test_provisional_only_leaves_out_confirmed_values() -> None:
    result = runner.invoke(app, ["params", "show", "safety", "--provisional-only", "--json"])
    assert result.exit_code == 0, result.output
    names = [p["name"] for p in json.loads(result.output)["parameters"]]
    assert "shannon_k_block" not in names
    assert names == [
        "shannon_k_warn",
        "charge_density_warn_uC_per_cm2",
        "duty_cycle_warn",
        "skin_current_density_warn_mA_per_cm2",
    ]


def test_show_a_nested_set_with_a_match() -> None:
    args = ["params", "show", "catalogue", "--match", "generators.1000.parameters.pulse", "--json"]
    data = json.loads(runner.invoke(app, args).output)
    values = {p["name"]: p["value"] for p in data["parameters"]}
    assert values["generators.1000.parameters.pulse_width_us.values"] == [130, 250, 500, 750, 1000]


def test_unknown_set_names_the_value_and_the_allowed_sets() -> None:
    result = runner.invoke(app, ["params", "show", "nope"], env={"COLUMNS": "300"})
    assert result.exit_code == 2
    assert "'nope'" in result.output
    assert "physiology" in result.output
    assert "conditions/crps" in result.output
