"""Tidy export: one row per patient-day, CSV and Parquet round trips, atomic writes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from openvns.errors import ValidationError
from openvns.trials.export import (
    export_tidy,
    per_patient_columns,
    read_tidy,
    tidy_columns,
    write_csv,
)
from openvns.trials.runner import TrialResult, run_trial
from tests.trials.test_runner import analytic_recruitment, small_design

BASE, BLIND, OPEN = 7, 14, 7


@pytest.fixture(scope="module")
def result() -> TrialResult:
    r = run_trial(small_design(), n_per_arm=3, root_seed=11, recruitment=analytic_recruitment)
    # one synthetic dropout so that the dropout columns have something to show
    drop = r.dropout_day.copy()
    drop[1] = 15
    observed = r.observed.copy()
    observed[1, 16:] = False
    return dataclasses.replace(r, dropout_day=drop, observed=observed)


def test_one_row_per_patient_day(result: TrialResult) -> None:
    cols = tidy_columns(result)
    n_rows = result.n_patients * result.n_days
    assert n_rows == 6 * (BASE + BLIND + OPEN)
    assert {len(c) for c in cols.values()} == {n_rows}
    assert list(cols)[:8] == [
        "patient", "patient_index", "arm", "day", "phase", "nrs", "observed", "current_mA",
    ]  # fmt: skip
    assert [c for c in cols if c.startswith("ae_")] == [f"ae_{s}" for s in result.side_effects]
    assert list(cols)[-2:] == ["dropped_out", "eligible"]
    grid = {k: v.reshape(result.n_patients, result.n_days) for k, v in cols.items()}
    assert grid["patient"][3, 5] == "fibromyalgia#0003"
    np.testing.assert_array_equal(grid["patient_index"][:, 0], result.patient_index)
    np.testing.assert_array_equal(grid["arm"][:, -1], result.arm_labels)
    np.testing.assert_array_equal(grid["day"][2], np.arange(result.n_days))
    np.testing.assert_array_equal(grid["current_mA"], result.current_mA)
    for k, name in enumerate(result.side_effects):
        np.testing.assert_array_equal(grid[f"ae_{name}"], result.ae_reported[:, :, k])
    np.testing.assert_array_equal(grid["eligible"][:, 0], result.eligible)


def test_phase_boundaries_follow_the_design(result: TrialResult) -> None:
    phase = tidy_columns(result)["phase"].reshape(result.n_patients, result.n_days)[0]
    assert set(phase[:BASE]) == {"baseline"}
    assert set(phase[BASE : BASE + BLIND]) == {"blinded"}
    assert set(phase[BASE + BLIND :]) == {"open_label"}
    short = run_trial(
        small_design(baseline_days=3, blinded_days=5, open_label_days=0, open_label_arm=None),
        n_per_arm=1, root_seed=1, recruitment=analytic_recruitment,
    )  # fmt: skip
    phases = tidy_columns(short)["phase"][: short.n_days].tolist()
    assert phases == ["baseline"] * 3 + ["blinded"] * 5


def test_nrs_is_nan_exactly_where_unobserved(result: TrialResult) -> None:
    cols = tidy_columns(result)
    assert not result.observed.all()  # the fixture has missed entries
    np.testing.assert_array_equal(np.isnan(cols["nrs"]), ~cols["observed"])
    obs = result.observed.ravel()
    np.testing.assert_array_equal(cols["nrs"][obs], result.nrs.ravel()[obs].astype(float))


def test_dropped_out_on_and_after_the_dropout_day(result: TrialResult) -> None:
    dropped = tidy_columns(result)["dropped_out"].reshape(result.n_patients, result.n_days)
    assert not dropped[1, :15].any()
    assert dropped[1, 15:].all()
    for i in np.flatnonzero(result.dropout_day < 0):
        assert not dropped[i].any()


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".CSV"])
def test_round_trip(result: TrialResult, tmp_path: Path, suffix: str) -> None:
    path = export_tidy(result, tmp_path / f"trial{suffix}")
    assert path == tmp_path / f"trial{suffix}"
    back, cols = read_tidy(path), tidy_columns(result)
    assert list(back) == list(cols)
    for name, col in cols.items():
        assert back[name].dtype.kind == col.dtype.kind, name
        np.testing.assert_array_equal(back[name], col, err_msg=name)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_parquet_records_the_provenance(result: TrialResult, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    path = export_tidy(result, tmp_path / "t.parquet")
    meta = pq.read_schema(path).metadata
    assert meta[b"openvns.config_hash"] == result.config_hash.encode()
    assert meta[b"openvns.root_seed"] == str(result.root_seed).encode()


def test_bad_suffix(result: TrialResult, tmp_path: Path) -> None:
    for name in ("trial.xlsx", "trial"):
        with pytest.raises(ValidationError) as err:
            export_tidy(result, tmp_path / name)
        assert err.value.field == "path"
        assert err.value.value == str(tmp_path / name)
        assert ".csv" in err.value.allowed
        assert ".parquet" in err.value.allowed
    with pytest.raises(ValidationError):
        read_tidy(tmp_path / "trial.json")
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_the_previous_file(
    result: TrialResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.csv"
    path.write_text("previous")
    calls: list[tuple[str, str]] = []

    def failing_replace(src: str, dst: str) -> None:
        calls.append((str(src), str(dst)))
        raise OSError("disk full")

    monkeypatch.setattr("openvns.files.os.replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        write_csv(result, path)
    assert path.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]
    (src, dst), = calls  # fmt: skip
    assert Path(src).parent == tmp_path
    assert dst == str(path)


def test_missing_directory(result: TrialResult, tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as err:
        export_tidy(result, tmp_path / "nowhere" / "t.csv")
    assert err.value.field == "path"


def test_per_patient_columns(result: TrialResult) -> None:
    cols = per_patient_columns(result)
    assert {len(c) for c in cols.values()} == {result.n_patients}
    for a, name in enumerate(result.arm_names):
        sel = result.arm == a
        change = result.change(name, eligible_only=False)
        np.testing.assert_array_equal(cols["change_NRS"][sel], change.change_NRS)
        np.testing.assert_array_equal(cols["baseline_NRS"][sel], change.baseline_NRS)
        np.testing.assert_array_equal(cols["end_of_blinded_NRS"][sel], change.endpoint_NRS)
        summary = result.summary().arms[name]
        eligible = sel & result.eligible
        assert int(cols["responder30"][eligible].sum()) == summary.responders_30.count
        assert int(cols["responder50"][eligible].sum()) == summary.responders_50.count
    assert np.all(cols["responder30"] >= cols["responder50"])
    last = np.where(result.dropout_day >= 0, result.dropout_day, result.n_days - 1)
    np.testing.assert_array_equal(
        cols["final_current_mA"], result.current_mA[np.arange(result.n_patients), last]
    )
    np.testing.assert_array_equal(cols["coupling"], result.coupling)
    np.testing.assert_array_equal(cols["dropout_day"], result.dropout_day)
    assert cols["patient"][0] == result.patient_names[0]
    # the questionnaires at the visits, and their endpoints as the summary counts them
    np.testing.assert_array_equal(cols["pgic_end_of_blinded"], result.visit("pgic", "blinded"))
    np.testing.assert_array_equal(cols["sleep_baseline"], result.visit("sleep", "baseline"))
    np.testing.assert_array_equal(
        cols["fiqr_end_of_open_label"], result.visit("fiqr", "open_label")
    )
    for a, name in enumerate(result.arm_names):
        eligible = (result.arm == a) & result.eligible
        o = result.summary().outcomes[name]
        assert int(cols["pgic_much_improved"][eligible].sum()) == o.pgic_improved.count
        for key, ch in o.changes().items():
            assert int(cols[f"{key}_responder"][eligible].sum()) == ch.responders.count
            np.testing.assert_array_equal(cols[f"{key}_change"][eligible], ch.change)
