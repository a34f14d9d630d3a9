"""Recruitment-table bookkeeping with an analytic threshold model (tests/nerve/proxies.py)."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pytest

from openvns.errors import ValidationError
from openvns.nerve.recruitment import (
    RecruitmentTable,
    build_recruitment_table,
    coupling_factor,
    load_table,
)
from tests.nerve import proxies

N = 12


def _build(cache: Path, **kw: object) -> RecruitmentTable:
    args: dict[str, object] = {
        "n_per_group": N,
        "threshold_fn": proxies.rattay_thresholds,
        "fiber_builder": proxies.proxy_build_fiber,
        "cache_dir": cache,
        "field": "analytic",  # the bookkeeping, on the field that needs no solve
    }
    args.update(kw)
    return build_recruitment_table(**args)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> RecruitmentTable:
    return _build(tmp_path_factory.mktemp("cache"))


def test_table_shape_and_metadata(table: RecruitmentTable) -> None:
    assert table.pulse_widths_us.tolist() == [130, 250, 500, 750, 1000]
    assert table.thresholds_mA.shape == (6 * N, 5)
    assert len(table.key) == 64
    assert table.metadata["inputs"]["threshold_fn"].endswith("rattay_thresholds")
    assert np.all(np.isfinite(table.thresholds_mA))


def test_thresholds_fall_with_pulse_width(table: RecruitmentTable) -> None:
    assert np.all(np.diff(table.thresholds_mA, axis=1) < 0)


def test_fractions_monotone_and_bounded(table: RecruitmentTable) -> None:
    currents = np.linspace(0.0, 50.0, 501)
    for pw in (130.0, 250.0, 400.0, 1000.0):
        for g, f in table.curves(currents, pw).items():
            assert f[0] == 0.0, g
            assert np.all(np.diff(f) >= 0), g
            assert f[-1] <= 1.0
    assert table.fraction("laryngeal_motor", 1e6, 250.0) == 1.0


def test_fraction_is_the_weighted_count(table: RecruitmentTable) -> None:
    idx = np.flatnonzero(table.group_index == table.groups.index("cardiac_B"))
    thr = np.sort(table.thresholds_mA[idx, 1])
    assert table.fraction("cardiac_B", float(thr[2]), 250.0) == pytest.approx(3 / N)
    assert table.fraction("cardiac_B", float(thr[2]) * 0.999, 250.0) == pytest.approx(2 / N)


def test_pulse_width_interpolation(table: RecruitmentTable) -> None:
    t = table.thresholds_at(354.0)
    lo, hi = table.thresholds_mA[:, 1], table.thresholds_mA[:, 2]
    assert np.all((t < lo) & (t > hi))
    w = (math.log(354.0) - math.log(250.0)) / (math.log(500.0) - math.log(250.0))
    assert np.allclose(t, lo ** (1 - w) * hi**w)
    with pytest.raises(ValidationError, match="pulse_width_us"):
        table.fraction("cardiac_B", 1.0, 100.0)
    with pytest.raises(ValidationError, match="pulse_width_us"):
        table.fraction("cardiac_B", 1.0, 1500.0)


def test_coupling_scales_thresholds(table: RecruitmentTable) -> None:
    currents = np.linspace(0.0, 20.0, 81)
    for g in table.groups:
        a = table.fraction(g, currents, 250.0, coupling=2.0)
        b = table.fraction(g, currents / 2.0, 250.0)
        assert np.array_equal(a, b)
    assert coupling_factor() == 1.0
    assert coupling_factor(500.0) == pytest.approx(2.0**1.5)
    assert coupling_factor(0.0, fibrosis=1.3) == pytest.approx(1.3)
    for bad in (-1.0, math.nan):
        with pytest.raises(ValidationError, match="gap_um"):
            coupling_factor(bad)
    with pytest.raises(ValidationError, match="coupling"):
        table.fraction("cardiac_B", 1.0, 250.0, coupling=0.0)


def test_bad_queries(table: RecruitmentTable) -> None:
    with pytest.raises(ValidationError, match="group"):
        table.fraction("gamma", 1.0, 250.0)
    with pytest.raises(ValidationError, match="current_mA"):
        table.fraction("cardiac_B", -1.0, 250.0)


def test_cache_hit_is_fast_and_identical(tmp_path: Path) -> None:
    first = _build(tmp_path)
    calls = len(proxies.CALLS)
    t0 = time.perf_counter()
    again = _build(tmp_path)
    elapsed = time.perf_counter() - t0
    assert len(proxies.CALLS) == calls  # no threshold computed
    assert again.key == first.key
    assert np.array_equal(again.thresholds_mA, first.thresholds_mA)
    assert elapsed < 5.0  # generous here; the figure is measured in benchmarks


def test_cache_key_depends_on_every_input(tmp_path: Path) -> None:
    base = _build(tmp_path).key
    assert _build(tmp_path, seed=1).key != base
    assert _build(tmp_path, n_per_group=N + 1).key != base
    assert _build(tmp_path, pulse_widths_us=(250.0, 500.0)).key != base
    assert _build(tmp_path, lead="3mm").key != base


def test_corrupt_cache_is_rebuilt(tmp_path: Path) -> None:
    first = _build(tmp_path)
    npz = tmp_path / f"{first.key}.npz"
    raw = bytearray(npz.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    npz.write_bytes(bytes(raw))
    assert load_table(first.key, tmp_path) is None
    calls = len(proxies.CALLS)
    again = _build(tmp_path)
    assert len(proxies.CALLS) > calls
    assert np.array_equal(again.thresholds_mA, first.thresholds_mA)
    assert load_table(first.key, tmp_path) is not None
    # truncated metadata too
    (tmp_path / f"{first.key}.json").write_text("{not json")
    assert load_table(first.key, tmp_path) is None
    meta = tmp_path / f"{_build(tmp_path).key}.json"
    assert json.loads(meta.read_text())["key"] == first.key


def test_table_validation() -> None:
    with pytest.raises(ValidationError, match="thresholds_mA"):
        RecruitmentTable(
            groups=("a",),
            pulse_widths_us=np.array([250.0]),
            thresholds_mA=np.ones((2, 2)),
            group_index=np.zeros(2, dtype=np.int64),
            weight=np.ones(2),
        )
    with pytest.raises(ValidationError, match="pulse_widths_us"):
        RecruitmentTable(
            groups=("a",),
            pulse_widths_us=np.array([500.0, 250.0]),
            thresholds_mA=np.ones((2, 2)),
            group_index=np.zeros(2, dtype=np.int64),
            weight=np.ones(2),
        )
