"""The ``openvns nerve`` commands, with good and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from openvns.cli.nerve import app as nerve_app

runner = CliRunner()
root = typer.Typer()
root.add_typer(nerve_app, name="nerve")

FAST = ["--dt", "10us", "--tstop", "2ms", "--rel-tol", "0.05"]


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(root, ["nerve", *args], env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_threshold_json_mrg() -> None:
    code, out = invoke(
        "threshold",
        "--model",
        "MRG",
        "--diameter",
        "5.7um",
        "--distance",
        "1mm",
        "--pulse-width",
        "250us",
        "--json",
        *FAST,
    )
    assert code == 0, out
    data = json.loads(out)
    assert 0.05 < data["threshold_mA"] < 5.0
    assert data["n_sections"] == 1101
    assert data["distance_um"] == 1000.0


def test_threshold_anisotropic_and_offset_table() -> None:
    code, out = invoke(
        "threshold",
        "--diameter",
        "8um",
        "--distance",
        "0.5mm",
        "--sigma",
        "0.083,0.083,0.571",
        "--z-offset-frac",
        "0.25",
        "--waveform",
        "biphasic",
        *FAST,
    )
    assert code == 0, out
    assert "threshold_mA" in out
    assert "0.083" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "X"], "model"),
        (["--diameter", "five"], "diameter_um"),
        (["--distance", "1s"], "distance_um"),
        (["--distance", "0mm"], "distance_um"),
        (["--sigma", "0.1,0.2"], "sigma"),
        (["--sigma", "-0.3"], "sigma_x"),
        (["--waveform", "square"], "waveform"),
        (["--pulse-width", "0us"], "pulse_width_us"),
    ],
)
def test_threshold_bad_input(args: list[str], message: str) -> None:
    code, out = invoke("threshold", *args, *FAST)
    assert code == 2
    assert message in out


def test_recruit_bad_input(tmp_path: Path) -> None:
    code, out = invoke("recruit", "--lead", "ear-percutaneous", "--cache-dir", str(tmp_path))
    assert code == 2
    assert "helical" in out
    code, out = invoke("recruit", "--currents", "1,a", "--cache-dir", str(tmp_path))
    assert code == 2
    assert "currents" in out


@pytest.fixture
def proxy_solver(monkeypatch: pytest.MonkeyPatch) -> None:
    """The analytic test double instead of the fibre solver (bookkeeping only)."""
    from openvns.nerve import recruitment
    from tests.nerve import proxies

    monkeypatch.setattr(recruitment, "_default_threshold_fn", lambda: proxies.rattay_thresholds)
    monkeypatch.setattr(recruitment, "_default_fiber_builder", lambda: proxies.proxy_build_fiber)


@pytest.mark.usefixtures("proxy_solver")
def test_recruit_table_json_and_plot(tmp_path: Path) -> None:
    png = tmp_path / "curves.png"
    base = ["recruit", "--lead", "2mm", "--pulse-width", "250us", "--n-per-group", "4"]
    result = runner.invoke(
        root, ["nerve", *base, "--cache-dir", str(tmp_path), "--plot", str(png), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # the build's progress goes to stderr
    assert set(data["fraction"]) >= {"laryngeal_motor", "cardiac_B", "C_afferent"}
    assert all(0 <= x <= 1 for f in data["fraction"].values() for x in f)
    assert png.stat().st_size > 1000
    code, out = invoke(*base, "--cache-dir", str(tmp_path), "--currents", "0.5,1")
    assert code == 0, out
    assert "laryngeal_motor" in out
    assert "current (mA)" in out
    assert " 0.5 " in out


def test_threshold_small_fibre_model_matches_pyfibers() -> None:
    # PyFibers PENA 3.0 µm, 1 mm, 0.25 ms monophasic, σ 0.3: 0.455355 mA (upper end of a 0.1 %
    # bracket; tests/data/pyfibers/thresholds_small_mrg.json)
    code, out = invoke(
        "threshold", "--model", "PENA", "--diameter", "3um", "--distance", "1mm",
        "--pulse-width", "250us", "--json",
    )  # fmt: skip
    assert code == 0, out
    assert json.loads(out)["threshold_mA"] == pytest.approx(0.455355, rel=5e-3)


def test_sensory_threshold_and_skin_recruitment(tmp_path: Path) -> None:
    code, out = invoke("sensory", "--lead", "ear-clip", "--pulse-width", "250us", "--json",
                       "--coupling", "2", "--cache-dir", str(tmp_path))  # fmt: skip
    assert code == 0, out
    data = json.loads(out)
    assert data["lead"] == "ear-tragus"
    base = json.loads(
        invoke("sensory", "--lead", "ear-tragus", "--json", "--cache-dir", str(tmp_path))[1]
    )
    assert data["sensory_threshold_mA"] == pytest.approx(2 * base["sensory_threshold_mA"])
    code, out = invoke("recruit", "--lead", "gammacore-contacts", "--pulse-width", "1000us",
                       "--json", "--cache-dir", str(tmp_path))  # fmt: skip
    assert code == 0, out
    data = json.loads(out)
    assert data["currents_mA"][-1] == 60.0
    assert data["fraction"]["A_afferent"][-1] == 0.0
    assert data["fraction"]["skin_Abeta"][-1] == 1.0
    code, out = invoke("sensory", "--lead", "2mm", "--cache-dir", str(tmp_path))
    assert code == 2
    assert "lead" in out
