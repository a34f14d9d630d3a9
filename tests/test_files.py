"""``openvns.files.atomic_write``: the target is replaced whole or left untouched."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from openvns.errors import ValidationError
from openvns.files import atomic_write, atomic_write_bytes, atomic_write_text


def test_writes_a_new_file_and_replaces_an_old_one(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    assert atomic_write_text(path, "first") == path
    assert path.read_text("utf-8") == "first"
    atomic_write_bytes(str(path), b"second")
    assert path.read_bytes() == b"second"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_new_file_has_the_usual_mode_not_mkstemps_0600(tmp_path: Path) -> None:
    mask = os.umask(0o022)
    try:
        path = atomic_write_text(tmp_path / "out.txt", "x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_failing_writer_leaves_the_target_untouched_and_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text("old", encoding="utf-8")

    def half_then_fail(tmp: Path) -> None:
        tmp.write_text("half of the new cont", encoding="utf-8")
        raise RuntimeError("writer crashed")

    with pytest.raises(RuntimeError, match="writer crashed"):
        atomic_write(path, half_then_fail)
    assert path.read_text("utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_a_failing_writer_creates_no_target(tmp_path: Path) -> None:
    def fail(tmp: Path) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(tmp_path / "new.txt", fail)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_rename_leaves_the_target_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "out.txt"
    path.write_text("old", encoding="utf-8")

    def no_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", no_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(path, "new")
    monkeypatch.undo()
    assert path.read_text("utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_a_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as err:
        atomic_write_text(tmp_path / "no" / "such" / "out.txt", "x")
    assert err.value.field == "path"
