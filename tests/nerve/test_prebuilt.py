"""The prebuilt recruitment table shipped with the package matches the current inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from openvns.nerve import recruitment


def _no_build(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError(
        "the shipped 2mm table no longer matches the inputs: run tools/build_prebuilt_tables.py"
    )


def test_default_table_comes_prebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recruitment, "surrogate_thresholds", _no_build)
    monkeypatch.setattr(recruitment, "solver_thresholds", _no_build)
    table = recruitment.build_recruitment_table("2mm", cache_dir=tmp_path)
    assert table.metadata["prebuilt"] == "2mm.json"
    assert table.thresholds_mA.shape == (len(table.weight), 5)
    # written to the cache under the current key, and read back from it identically
    again = recruitment.load_table(table.key, tmp_path)
    assert again is not None
    np.testing.assert_array_equal(again.thresholds_mA, table.thresholds_mA)


def test_changed_inputs_do_not_use_the_prebuilt_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def fake_surrogate(design: Any, pop: Any, pws: Any, *a: Any) -> Any:
        calls.append(len(pop))
        return np.ones((len(pop), len(pws))), {}

    monkeypatch.setattr(recruitment, "surrogate_thresholds", fake_surrogate)
    table = recruitment.build_recruitment_table("2mm", cache_dir=tmp_path, n_per_group=64)
    assert calls == [len(table.weight)]
    assert "prebuilt" not in table.metadata
