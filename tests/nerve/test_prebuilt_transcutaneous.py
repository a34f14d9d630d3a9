"""The shipped tables of the non-invasive leads match their inputs, and what they say."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from openvns.nerve import data_files, transcutaneous_tables
from openvns.nerve.fibres import build_fiber
from openvns.nerve.recruitment import RecruitmentTable
from openvns.nerve.threshold import find_thresholds
from openvns.nerve.transcutaneous import VAGAL_GROUPS, lead_geometry, sample_site_population

LEADS = ("gammacore-contacts", "ear-cymba-conchae", "ear-tragus", "ear-lobe")


def _no_build(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError(
        "a shipped transcutaneous table no longer matches its inputs: run "
        "tools/build_prebuilt_tables.py --lead gammacore-contacts --lead ear-cymba-conchae "
        "--lead ear-tragus --lead ear-lobe"
    )


def _shipped(lead: str, cache: Path, monkeypatch: pytest.MonkeyPatch) -> RecruitmentTable:
    monkeypatch.setattr(transcutaneous_tables, "band_thresholds", _no_build)
    table = transcutaneous_tables.build_transcutaneous_table(lead, cache_dir=cache)
    assert table.metadata["prebuilt"] == f"{lead}.json"
    return table


@pytest.mark.parametrize("lead", LEADS)
def test_tables_come_prebuilt(lead: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = _shipped(lead, tmp_path, monkeypatch)
    geom = lead_geometry(lead)
    assert table.groups == geom.groups
    assert tuple(table.pulse_widths_us) == geom.pulse_widths_us
    counts = np.bincount(table.group_index, minlength=len(table.groups))
    assert np.all(counts == counts[0])


def _fractions(table: RecruitmentTable, current_mA: float, pw: float) -> dict[str, float]:
    return {g: float(table.fraction(g, current_mA, pw)) for g in table.groups}


def test_gammacore_excites_skin_and_muscle_not_the_vagus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = _shipped("gammacore-contacts", tmp_path, monkeypatch)
    at_max = _fractions(table, 60.0, 1000.0)
    assert all(at_max[g] == 0.0 for g in VAGAL_GROUPS)  # 36 mm deep: nothing below 100 mA
    assert at_max["skin_Abeta"] == 1.0
    # skin Abeta and the superficial platysma before the SCM and the skin's Adelta
    med = {g: float(np.median(table.thresholds_at(1000.0)[table.group_index == j]))
           for j, g in enumerate(table.groups)}  # fmt: skip
    assert med["skin_Abeta"] < med["skin_Adelta"]
    assert med["platysma_motor"] < med["scm_motor"]


def test_ear_fibre_classes_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for lead in ("ear-cymba-conchae", "ear-tragus", "ear-lobe"):
        table = _shipped(lead, tmp_path, monkeypatch)
        for pw in table.pulse_widths_us:
            thr = table.thresholds_at(float(pw))
            med = [np.median(thr[table.group_index == j]) for j in range(3)]
            assert med[0] < med[1] < med[2], (lead, pw, med)
        # strength-duration: every fibre needs less current at a longer pulse
        finite = np.all(np.isfinite(table.thresholds_mA), axis=1)
        assert np.all(np.diff(table.thresholds_mA[finite], axis=1) < 0)


def test_surrogate_against_the_solver_on_population_fibres(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thresholds the table predicts for cymba Abeta fibres against the solver run on the same
    fibres (their own diameter, position and node alignment)."""
    table = _shipped("ear-cymba-conchae", tmp_path, monkeypatch)
    geom = lead_geometry("ear-cymba-conchae")
    cfg = data_files.load(transcutaneous_tables.DATA_FILE)["table"]
    pop = sample_site_population(geom, int(cfg["n_per_group"]["value"]), int(cfg["seed"]["value"]))
    builder = transcutaneous_tables.LongFibreBuilder(build_fiber, geom.fibre_length_um)
    solver = data_files.load("recruitment.yaml")["solver"]["MRG"]
    fld = geom.field()
    for i in np.flatnonzero(pop.group == "skin_Abeta")[[3, 500, 1500]]:
        fiber = builder("MRG", diameter_um=float(pop.diameter_um[i]), n_nodes=101)
        z = np.asarray(fiber.z_um)
        mid = z[int(np.asarray(fiber.node_indices)[len(fiber.node_indices) // 2])]
        z = z - mid + pop.z_offset_frac[i] * float(fiber.delta_z_um)
        ve = fld.potentials(pop.x_um[i : i + 1], pop.y_um[i : i + 1], z[None, :])
        got = find_thresholds(fiber, ve, geom.waveform(250.0), dt_us=float(solver["dt_us"]),
                              tstop_ms=float(solver["tstop_ms"]), rel_tol=0.01)  # fmt: skip
        assert table.thresholds_at(250.0)[i] == pytest.approx(got.threshold_mA[0], rel=0.08)
