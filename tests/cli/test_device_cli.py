"""The ``openvns device`` commands, with good and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openvns import __version__
from openvns.cli.main import app

runner = CliRunner()

GOOD = [
    "--current",
    "1.5mA",
    "--frequency",
    "20Hz",
    "--pulse-width",
    "250us",
    "--on",
    "30s",
    "--off",
    "5min",
    "--generator",
    "1000",
    "--lead",
    "2mm",
]


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_version() -> None:
    code, out = invoke("--version")
    assert code == 0
    assert out.strip() == f"openvns {__version__}"


def test_no_arguments_shows_help() -> None:
    code, out = invoke()
    assert code in (0, 2)
    assert "device" in out


# ----------------------------------------------------------------------------- models
def test_models_lists_generators_and_leads() -> None:
    code, out = invoke("device", "models")
    assert code == 0
    for text in ("102", "106", "1000", "SenTiva", "gammacore-sapphire-cv", "304-20", "0.0471"):
        assert text in out


def test_models_json_is_complete() -> None:
    code, out = invoke("device", "models", "--json")
    assert code == 0
    data = json.loads(out)
    ids = {g["id"] for g in data["generators"]}
    assert {"102", "103", "105", "106", "1000", "gammacore-sapphire-cv", "tavns-auricular"} <= ids
    areas = {ld["id"]: ld["contact_area_cm2"] for ld in data["leads"]}
    assert areas["304-30"] == pytest.approx(0.0707, abs=1e-4)


def test_model_detail_shows_status() -> None:
    code, out = invoke("device", "models", "106")
    assert code == 0
    assert "autostim_threshold_pct" in out
    assert "20–70% in 10% steps" in out
    assert "provisional" in out


def test_models_unknown_model_is_named() -> None:
    code, out = invoke("device", "models", "9999")
    assert code == 2
    assert "9999" in out
    assert "1000" in out  # the allowed ids are listed


# ----------------------------------------------------------------------------- check
def test_check_good_settings() -> None:
    code, out = invoke("device", "check", *GOOD)
    assert code == 0
    assert "10.3%" in out  # duty cycle with 2 s ramps: 34 / 330
    assert "0.375 µC" in out
    assert "OK" in out


def test_check_json() -> None:
    code, out = invoke("device", "check", *GOOD, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["ok"] is True
    assert data["normal"]["charge_per_phase_uC"] == pytest.approx(0.375)
    assert data["dose"]["duty_cycle"] == pytest.approx(34 / 330)


def test_check_blocking_error_exits_nonzero() -> None:
    code, out = invoke(
        "device",
        "check",
        "--current",
        "2.5mA",
        "--pulse-width",
        "1000us",
        "--generator",
        "1000",
        "--lead",
        "2mm",
    )
    assert code == 1
    assert "Shannon k = 2.12" in out
    assert "BLOCKED" in out


def test_check_not_a_step() -> None:
    code, out = invoke("device", "check", "--current", "1.3mA", "--generator", "105")
    assert code == 1
    assert "output_current_mA = 1.3 mA is not a selectable value" in out
    assert "0.25 mA steps" in out


def test_check_warnings_do_not_block() -> None:
    code, out = invoke("device", "check", "--on", "30s", "--off", "0.5min", "--generator", "1000")
    assert code == 0
    assert "warning" in out
    assert "OFF > ON is recommended" in out


def test_check_feature_missing_on_model() -> None:
    code, out = invoke("device", "check", "--generator", "105", "--autostim-threshold", "30")
    assert code == 1
    assert "no AutoStim" in out


def test_check_magnet_and_autostim_on_sentiva() -> None:
    code, out = invoke(
        "device",
        "check",
        *GOOD,
        "--magnet-current",
        "1.75mA",
        "--magnet-on",
        "60s",
        "--autostim-threshold",
        "40%",
    )
    assert code == 0
    assert "magnet" in out
    assert "AutoStim" in out


def test_check_k_limits_are_options() -> None:
    args = ["device", "check", "--current", "2.5mA", "--pulse-width", "500us"]
    code, _ = invoke(*args)
    assert code == 0
    code, out = invoke(*args, "--k-block", "1.4", "--k-warn", "1.0")
    assert code == 1
    assert "blocking limit 1.4" in out


def test_check_bad_k_limits() -> None:
    code, out = invoke("device", "check", "--k-block", "1.0", "--k-warn", "1.5")
    assert code == 2
    assert "shannon_k_warn" in out


@pytest.mark.parametrize(
    ("option", "value", "field"),
    [
        ("--current", "1.5parsec", "output_current_mA"),
        ("--current", "abc", "output_current_mA"),
        ("--frequency", "20mA", "frequency_Hz"),
        ("--pulse-width", "-250us", "pulse_width_us"),
        ("--on", "nan", "on_time_s"),
        ("--off", "5kg", "off_time_min"),
    ],
)
def test_check_unreadable_values_name_the_field(option: str, value: str, field: str) -> None:
    code, out = invoke("device", "check", option, value)
    assert code == 2
    assert field in out


def test_check_unknown_lead() -> None:
    code, out = invoke("device", "check", "--lead", "5mm")
    assert code == 2
    assert "lead" in out
    assert "2mm" in out


def test_check_gammacore_dose_limit() -> None:
    base = [
        "device",
        "check",
        "--generator",
        "gammacore-sapphire-cv",
        "--current",
        "20mA",
        "--frequency",
        "25Hz",
        "--pulse-width",
        "1000us",
        "--on",
        "120s",
    ]
    code, _ = invoke(*base, "--off", "60min")
    assert code == 0
    code, out = invoke(*base, "--off", "20min")
    assert code == 1
    assert "doses a day" in out


# ----------------------------------------------------------------------------- longevity
def test_longevity_low_and_high_settings_match_labelling() -> None:
    code, out = invoke("device", "longevity", "--current", "1mA", "--impedance", "3kohm", "--json")
    assert code == 0
    assert json.loads(out)["longevity_years"] == pytest.approx(8.0, rel=0.01)
    code, out = invoke(
        "device",
        "longevity",
        "--current",
        "2mA",
        "--frequency",
        "30Hz",
        "--pulse-width",
        "500us",
        "--off",
        "3min",
        "--impedance",
        "3000ohm",
        "--json",
    )
    assert code == 0
    assert json.loads(out)["longevity_years"] == pytest.approx(3.0, rel=0.01)


def test_longevity_table_and_partial_battery() -> None:
    code, out = invoke("device", "longevity", "--battery", "50")
    assert code == 0
    assert "years to EOS" in out
    _, full = invoke("device", "longevity", "--json")
    _, half = invoke("device", "longevity", "--battery", "50", "--json")
    assert json.loads(half)["longevity_years"] < json.loads(full)["longevity_years"]


def test_longevity_refuses_blocked_settings_and_noninvasive() -> None:
    code, out = invoke("device", "longevity", "--current", "3.3mA", "--generator", "102")
    assert code == 1
    assert "not a selectable value" in out
    code, out = invoke(
        "device",
        "longevity",
        "--generator",
        "tavns-auricular",
        "--current",
        "1mA",
        "--off",
        "0.5min",
    )
    assert code == 2
    assert "battery" in out


def test_longevity_bad_impedance() -> None:
    code, out = invoke("device", "longevity", "--impedance", "-5ohm")
    assert code == 2
    assert "lead_impedance_ohm" in out
    code, out = invoke("device", "longevity", "--battery", "150")
    assert code == 2


# ----------------------------------------------------------------------------- simulate
def test_simulate_defaults_titrate_and_drain(tmp_path: Path) -> None:
    state = tmp_path / "gen.json"
    code, out = invoke("device", "simulate", "--days", "120", "--json", "--state", str(state))
    assert code == 0, out
    s = json.loads(out)
    assert s["final_settings"]["output_current_mA"] == pytest.approx(1.5)
    assert s["battery"]["percent_end"] < s["battery"]["percent_start"]
    assert s["events"].get("scheduled_step_applied", 0) >= 5
    assert s["dose"]["pulses"] > 0
    assert state.exists()
    assert json.loads(state.read_text())["format"] == "openvns.pulse-generator"


def test_simulate_table_for_model_without_scheduled_programming() -> None:
    code, out = invoke(
        "device", "simulate", "--days", "60", "--generator", "105", "--current", "1mA"
    )
    assert code == 0, out
    assert "1 mA, 20 Hz" in out
    assert "battery" in out


def test_simulate_magnet_swipes_count() -> None:
    code, out = invoke(
        "device",
        "simulate",
        "--days",
        "28",
        "--magnet-current",
        "1.75mA",
        "--swipes-per-week",
        "7",
        "--json",
    )
    assert code == 0, out
    s = json.loads(out)
    assert s["dose"]["trains"].get("magnet", 0) == 27


def test_simulate_bad_input() -> None:
    code, out = invoke("device", "simulate", "--days", "0")
    assert code == 2
    code, out = invoke(
        "device", "simulate", "--current", "3.3mA", "--generator", "102", "--days", "10"
    )
    assert code == 2
    assert "not a selectable value" in out
    code, out = invoke("device", "simulate", "--swipes-per-week", "3", "--days", "10")
    assert code == 2
    assert "--magnet-current" in out
    code, out = invoke("device", "simulate", "--start", "yesterday", "--days", "10")
    assert code == 2
    assert "start" in out
