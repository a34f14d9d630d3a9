"""openvns.device.state and PulseGenerator.save/load: exact resume, corrupt files, atomicity."""

from __future__ import annotations

import json
import os
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from openvns.device import state as state_module
from openvns.device.generator import PulseGenerator
from openvns.device.safety import SafetyLimits
from openvns.device.settings import TYPICAL_SETTINGS, AutoStimSettings, MagnetSettings
from openvns.errors import StateFileError

T0 = datetime(2026, 1, 1, 9, 0)
FULL = TYPICAL_SETTINGS.with_(
    magnet=MagnetSettings(output_current_mA=1.75, pulse_width_us=500, on_time_s=30),
    autostim=AutoStimSettings(threshold_pct=30, output_current_mA=1.5, pulse_width_us=250,
                              on_time_s=30),
)  # fmt: skip


def busy_generator() -> PulseGenerator:
    """A SenTiva with something of everything pending or in flight."""
    limits = SafetyLimits.default().with_(duty_cycle_warn=0.4)
    g = PulseGenerator("1000", serial="OVNS-123456", lead_impedance_ohm=2800.0, limits=limits)
    g.program(FULL)
    g.run_diagnostics()
    g.advance(timedelta(days=2, seconds=130))  # 10 s into a normal train
    g.schedule_titration(
        [
            (g.now + timedelta(days=1), FULL.with_(output_current_mA=1.75)),
            (g.now + timedelta(days=3), FULL.with_(output_current_mA=2.0)),
        ]
    )
    g.magnet_swipe(g.now + timedelta(seconds=200))  # in this OFF time
    g.magnet_swipe(g.now + timedelta(hours=5))  # still to come
    g.magnet_hold(g.now + timedelta(hours=7), g.now + timedelta(hours=8))
    times = [g.now + timedelta(seconds=i) for i in range(1200)]
    rate = np.full(1200, 70.0)
    rate[900:930] = 100.0
    assert g.heart_rate(times, rate)
    g.inject_lead_fault("short")
    return g


def test_round_trip_interrogates_equal(tmp_path: Path) -> None:
    g = busy_generator()
    path = tmp_path / "implant.json"
    g.save(path)
    loaded = PulseGenerator.load(path)
    assert loaded.interrogate() == g.interrogate()
    assert loaded.limits == g.limits
    assert loaded.impedance_ohm == g.impedance_ohm
    assert loaded.longevity_years() == g.longevity_years()


@pytest.mark.parametrize("days", [0.3, 5.0])
def test_round_trip_continues_identically(tmp_path: Path, days: float) -> None:
    g = busy_generator()
    path = tmp_path / "implant.json"
    g.save(path)
    loaded = PulseGenerator.load(path)
    a, b = g.advance(timedelta(days=days)), loaded.advance(timedelta(days=days))
    assert a == b
    assert loaded.interrogate() == g.interrogate()


def test_round_trip_with_day_night_and_after_eos(tmp_path: Path) -> None:
    g = PulseGenerator("1000")
    g.set_day_night(TYPICAL_SETTINGS, TYPICAL_SETTINGS.with_(output_current_mA=0.5),
                    day_starts=time(7, 30), night_starts=time(21))  # fmt: skip
    g.advance(timedelta(hours=13, minutes=3))
    g.save(tmp_path / "a.json")
    loaded = PulseGenerator.load(tmp_path / "a.json")
    assert loaded.advance(timedelta(days=3)) == g.advance(timedelta(days=3))
    g.program(TYPICAL_SETTINGS.with_(output_current_mA=3.0, frequency_Hz=30, pulse_width_us=500,
                                     off_time_min=1.1))  # fmt: skip
    g.advance(timedelta(days=3 * 365))
    assert g.battery_indicator == "EOS"
    g.save(tmp_path / "b.json")
    eos = PulseGenerator.load(tmp_path / "b.json")
    assert eos.interrogate() == g.interrogate()
    assert not eos.output_enabled


def test_state_file_is_versioned_json(tmp_path: Path) -> None:
    path = tmp_path / "implant.json"
    busy_generator().save(path)
    doc = json.loads(path.read_text("utf-8"))
    assert doc["format"] == "openvns.pulse-generator"
    assert doc["version"] == 1
    assert doc["catalogue_version"]
    assert datetime.fromisoformat(doc["saved_at"])
    st = doc["state"]
    for key in ("settings", "battery_used_J", "counters", "events", "pending_steps", "trains",
                "holds_s", "cycle_anchor_s", "limits", "clock_s", "lead_fault"):  # fmt: skip
        assert key in st
    assert st["lead_fault"] == "short"
    kinds = [t["kind"] for t in st["trains"]]
    assert kinds.count("normal") == 1  # the train in flight
    assert kinds.count("magnet") == 2
    assert kinds.count("autostim") == 1
    assert len(st["pending_steps"]) == 2


# ------------------------------------------------------------------------- corrupt files
def _saved(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    path = tmp_path / "implant.json"
    busy_generator().save(path)
    return path, json.loads(path.read_text("utf-8"))


def _write(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StateFileError, match="no such file") as err:
        PulseGenerator.load(tmp_path / "nope.json")
    assert err.value.path.endswith("nope.json")


def test_truncated_json(tmp_path: Path) -> None:
    path, _ = _saved(tmp_path)
    text = path.read_text("utf-8")
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(StateFileError, match="not a valid JSON"):
        PulseGenerator.load(path)


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "junk.json"
    path.write_bytes(np.random.default_rng(7).bytes(512))
    with pytest.raises(StateFileError, match="JSON"):
        PulseGenerator.load(path)


@pytest.mark.parametrize("doc", [{"hello": "world"}, [1, 2, 3], "text", None, 3.5])
def test_other_json(tmp_path: Path, doc: Any) -> None:
    with pytest.raises(StateFileError, match="not an OpenVNS pulse-generator state"):
        PulseGenerator.load(_write(tmp_path / "other.json", doc))


@pytest.mark.parametrize("version", [2, 0, "1", True, None])
def test_unsupported_version(tmp_path: Path, version: Any) -> None:
    path, doc = _saved(tmp_path)
    doc["version"] = version
    with pytest.raises(StateFileError, match="unsupported state version"):
        PulseGenerator.load(_write(path, doc))


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("model_id", "9999", "generator"),
        ("model_id", "gammacore-sapphire-cv", "not an implanted"),
        ("lead_id", "ear-clip", "lead"),
        ("battery_used_J", -1.0, "battery_used_J"),
        ("battery_used_J", 1e9, "exceeds"),
        ("clock_s", "soon", "clock_s"),
        ("settings", {"output_current_mA": 1.0}, "settings"),
        ("counters", {"trains_delivered": -4}, "counters"),
        ("lead_fault", "melted", "lead_fault"),
        ("implanted_at", "2026-01-01T09:00:00+02:00", "naive"),
        ("holds_s", [[10.0, 5.0]], "hold"),
        ("unexpected", 1, "unexpected"),
    ],
)
def test_invalid_fields(tmp_path: Path, key: str, value: Any, match: str) -> None:
    path, doc = _saved(tmp_path)
    doc["state"][key] = value
    with pytest.raises(StateFileError, match=match):
        PulseGenerator.load(_write(path, doc))


def test_blocked_settings_in_the_file_are_refused(tmp_path: Path) -> None:
    path, doc = _saved(tmp_path)
    doc["state"]["settings"]["output_current_mA"] = 3.5
    doc["state"]["settings"]["pulse_width_us"] = 1000.0
    with pytest.raises(StateFileError, match="blocked"):
        PulseGenerator.load(_write(path, doc))


def test_missing_state_object(tmp_path: Path) -> None:
    path, doc = _saved(tmp_path)
    del doc["state"]
    with pytest.raises(StateFileError, match="no 'state'"):
        PulseGenerator.load(_write(path, doc))


def test_a_failed_load_returns_nothing(tmp_path: Path) -> None:
    path, doc = _saved(tmp_path)
    doc["state"]["pending_steps"][0]["time"] = "2020-01-01T00:00:00"  # before the clock
    built: list[PulseGenerator] = []
    with pytest.raises(StateFileError, match="before the device clock"):
        built.append(PulseGenerator.load(_write(path, doc)))
    assert built == []


# ------------------------------------------------------------------------- atomic writes
def test_failed_serialisation_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "implant.json"
    g = busy_generator()
    g.save(path)
    before = path.read_bytes()
    g.advance(timedelta(days=1))

    def boom(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("serialisation failed")

    monkeypatch.setattr(json, "dumps", boom)
    with pytest.raises(RuntimeError, match="serialisation failed"):
        g.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["implant.json"]
    assert PulseGenerator.load(path).now == g.now - timedelta(days=1)


def test_failed_replace_leaves_the_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "implant.json"
    g = busy_generator()
    g.save(path)
    before = path.read_bytes()

    def fail(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        g.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["implant.json"]


def test_save_creates_a_new_file_and_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "implant.json"
    g = PulseGenerator("103")
    g.save(path)
    g.program(TYPICAL_SETTINGS)
    g.save(str(path))
    assert PulseGenerator.load(str(path)).settings == TYPICAL_SETTINGS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["implant.json"]


def test_catalogue_version_mismatch_only_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path, doc = _saved(tmp_path)
    doc["catalogue_version"] = "1999.1.1"
    with caplog.at_level("WARNING", logger="openvns.device.generator"):
        PulseGenerator.load(_write(path, doc))
    assert "1999.1.1" in caplog.text


def test_read_state_returns_the_header(tmp_path: Path) -> None:
    path, _ = _saved(tmp_path)
    st, header = state_module.read_state(path)
    assert st.serial == "OVNS-123456"
    assert header["format"] == state_module.FORMAT


def test_json_text_round_trip_without_a_file(tmp_path: Path) -> None:
    g = busy_generator()
    text = g.to_json()
    path = tmp_path / "g.json"
    g.save(path)
    assert json.loads(text)["state"] == json.loads(path.read_text())["state"]
    restored = PulseGenerator.from_json(text, source="row 7")
    assert restored.interrogate() == g.interrogate()
    restored.advance(timedelta(days=3))
    g.advance(timedelta(days=3))
    assert restored.to_json().split('"state"')[1] == g.to_json().split('"state"')[1]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "not a valid JSON"),
        ('{"format": "other"}', "not an OpenVNS pulse-generator state"),
        ('{"format": "openvns.pulse-generator", "version": 99, "state": {}}', "unsupported"),
        ('{"format": "openvns.pulse-generator", "version": 1, "state": {}}', "invalid state"),
    ],
)
def test_from_json_names_the_source_and_the_problem(text: str, problem: str) -> None:
    with pytest.raises(StateFileError, match=problem) as info:
        PulseGenerator.from_json(text, source="implant 3")
    assert info.value.path == "implant 3"
