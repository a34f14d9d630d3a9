"""``openvns patient simulate``: the states, the figure and the summary of one patient."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from typer.testing import CliRunner

from openvns.cli.main import app
from openvns.simulation import Simulation

runner = CliRunner()
PROTOCOL = (
    "titrate from 0.25 mA by 0.25 mA every 14 days to tolerance, max 2.0 mA; 20 Hz; 250 us; "
    "30 s on / 5 min off"
)


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["patient", *args], env={"COLUMNS": "120"})
    return result.exit_code, result.output


def test_simulate_writes_states_figure_and_summary(tmp_path: Path) -> None:
    code, out = invoke(
        "simulate", "fibromyalgia#0042", "--protocol", PROTOCOL, "--days", "120",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0, out
    assert "fibromyalgia#0042" in out
    for name in ("states.parquet", "states.csv", "figure.png", "simulation.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    table = pq.read_table(tmp_path / "states.parquet")
    assert table.num_rows == 120
    direct = Simulation("fibromyalgia#0042", PROTOCOL).run(120)
    np.testing.assert_array_equal(
        table.column("programmed_current_mA").to_numpy(), direct["programmed_current_mA"][0]
    )
    np.testing.assert_array_equal(table.column("diary_NRS").to_numpy(), direct["nrs"][0])
    doc = json.loads((tmp_path / "simulation.json").read_text("utf-8"))
    assert doc["provenance"]["root_seed"] == 2026
    assert doc["decisions"][0]["decision"] == "start"
    assert (tmp_path / "figure.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_parameter_overrides_reach_the_run_or_are_refused(tmp_path: Path) -> None:
    base = ("simulate", "fibromyalgia#0001", "--days", "90", "--no-figure", "--export", "parquet")
    code, out = invoke(*base, "--out", str(tmp_path / "a"), "--set", "f_opt_Hz=5")
    assert code == 0, out
    code, out = invoke(*base, "--out", str(tmp_path / "b"))
    assert code == 0, out
    a = pq.read_table(tmp_path / "a" / "states.parquet").column("afferent_drive").to_numpy()
    b = pq.read_table(tmp_path / "b" / "states.parquet").column("afferent_drive").to_numpy()
    assert not np.array_equal(a, b)
    code, out = invoke(*base, "--out", str(tmp_path / "c"), "--set", "no_such_parameter=1")
    assert code == 2
    assert "no_such_parameter" in out
    code, out = invoke(*base, "--out", str(tmp_path / "d"), "--set", "circadian_amplitude=0.2")
    assert code == 2
    assert "documented only" in out


def test_bad_input_exits_2_naming_it(tmp_path: Path) -> None:
    code, out = invoke("simulate", "fibromyalgia#0001", "--protocol", "2 mA; 20 Hz",
                       "--out", str(tmp_path))  # fmt: skip
    assert code == 2
    assert "pulse width clause" in out
    code, out = invoke("simulate", "nobody", "--out", str(tmp_path))
    assert code == 2
    assert "condition#index" in out
    code, out = invoke("simulate", "fibromyalgia#0001", "--generator", "ib-stim",
                       "--out", str(tmp_path))  # fmt: skip
    assert code == 2
    assert "recruitment model" in out
