"""The prebuilt recruitment table shipped with the package matches the current inputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from openvns.nerve import recruitment


def _no_build(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError(
        "a shipped table no longer matches the inputs: run tools/build_prebuilt_tables.py"
    )


@pytest.mark.parametrize("lead", ["2mm", "3mm"])
def test_default_table_comes_prebuilt(
    lead: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recruitment, "surrogate_thresholds", _no_build)
    monkeypatch.setattr(recruitment, "solver_thresholds", _no_build)
    table = recruitment.build_recruitment_table(lead, cache_dir=tmp_path)
    assert table.metadata["prebuilt"] == f"{lead}.json"
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


def test_cached_copy_of_the_prebuilt_table_is_reused_under_another_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A package version other than the prebuilt's: the cached copy carries the current key."""
    monkeypatch.setenv("OPENVNS_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(recruitment, "__version__", "999.0.0+test")
    monkeypatch.setattr(recruitment, "surrogate_thresholds", _no_build)
    monkeypatch.setattr(recruitment, "solver_thresholds", _no_build)
    prebuilt_reads: list[str] = []
    real_prebuilt = recruitment.prebuilt_table

    def counting_prebuilt(inputs: dict[str, Any], key: str) -> Any:
        prebuilt_reads.append(key)
        return real_prebuilt(inputs, key)

    monkeypatch.setattr(recruitment, "prebuilt_table", counting_prebuilt)
    first = recruitment.build_recruitment_table("2mm")
    assert first.metadata["prebuilt"] == "2mm.json"
    assert len(prebuilt_reads) == 1
    cache = recruitment.default_cache_dir()
    assert (cache / f"{first.key}.json").exists()
    # the cached JSON names the current key, not the one the prebuilt table was shipped under
    meta = json.loads((cache / f"{first.key}.json").read_text("utf-8"))
    assert meta["key"] == first.key
    second = recruitment.build_recruitment_table("2mm")
    assert len(prebuilt_reads) == 1, "the cached copy was rejected and rebuilt"
    assert second.key == first.key
    np.testing.assert_array_equal(second.thresholds_mA, first.thresholds_mA)
