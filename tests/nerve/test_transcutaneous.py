"""Transcutaneous leads: geometry, fibre sample, group mapping, sensory threshold, table build."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from openvns.errors import ValidationError
from openvns.nerve import transcutaneous as tc
from openvns.nerve.population import PopulationParameters
from openvns.nerve.recruitment import RecruitmentTable, build_recruitment_table
from openvns.nerve.transcutaneous_tables import LongFibreBuilder, build_transcutaneous_table
from tests.nerve import proxies

LEADS = ("gammacore-contacts", "ear-cymba-conchae", "ear-tragus", "ear-lobe")


def test_leads_aliases_and_unknown() -> None:
    assert set(LEADS) == set(tc.transcutaneous_leads())
    assert tc.canonical_lead("ear-clip") == "ear-tragus"
    assert tc.is_transcutaneous("ear-clip")
    assert not tc.is_transcutaneous("2mm")
    with pytest.raises(ValidationError, match="lead") as err:
        tc.canonical_lead("ear-helix")
    assert "ear-helix" in str(err.value)
    assert "ear-cymba-conchae" in str(err.value)


def test_geometry_from_the_data_file() -> None:
    neck = tc.lead_geometry("gammacore-contacts")
    assert neck.groups[:6] == tc.VAGAL_GROUPS
    assert neck.groups[6:] == ("skin_Abeta", "skin_Adelta", "platysma_motor", "scm_motor")
    assert neck.medium.thickness_um == (1500.0, 4000.0)
    assert neck.medium.sigma_S_per_m == (0.43, 0.0333, 0.137)
    a, b = neck.electrode.contacts
    assert (a.weight, b.weight) == (1.0, -1.0)
    assert b.z_um - a.z_um == 25_000.0
    assert neck.waveform(1000.0).kind == "sine_burst"
    ear = tc.lead_geometry("ear-clip")
    assert ear.lead == "ear-tragus"
    assert ear.groups == ("skin_Abeta", "skin_Adelta", "skin_C")
    assert ear.medium.sigma_S_per_m == (0.43, 0.18, 0.43, 0.0333)
    lobe = tc.lead_geometry("ear-lobe")
    assert lobe.medium.sigma_S_per_m[1] == 0.0333  # no cartilage: fibro-fatty lobule
    pulse = ear.waveform(250.0)
    assert pulse.kind == "biphasic"
    assert pulse.phase_width_us == 250.0
    assert pulse.is_charge_balanced


def test_site_population_is_reproducible_and_in_its_slabs() -> None:
    geom = tc.lead_geometry("gammacore-contacts")
    pop = tc.sample_site_population(geom, 64, seed=3)
    again = tc.sample_site_population(geom, 64, seed=3)
    np.testing.assert_array_equal(pop.x_um, again.x_um)
    np.testing.assert_array_equal(pop.y_um, again.y_um)
    other = tc.sample_site_population(geom, 64, seed=4)
    assert not np.array_equal(pop.y_um, other.y_um)
    assert len(pop) == 64 * len(geom.groups)
    for slab in geom.slabs:
        sel = pop.group == slab.name
        assert sel.sum() == 64
        assert np.all((pop.y_um[sel] >= slab.depth_um[0]) & (pop.y_um[sel] <= slab.depth_um[1]))
        assert np.all(np.abs(pop.x_um[sel]) <= slab.half_width_um)
        d = slab.diameter
        assert np.all((pop.diameter_um[sel] >= d.min) & (pop.diameter_um[sel] <= d.max))
    vagal = np.isin(pop.group, tc.VAGAL_GROUPS)
    r = np.hypot(pop.x_um[vagal], pop.y_um[vagal] - 36_200.0)
    assert r.max() < PopulationParameters.default().nerve_diameter_um / 2
    assert np.all(pop.weight == 1.0)
    lo, hi = geom.depth_range_um()
    assert lo <= pop.y_um.min()
    assert pop.y_um.max() <= hi


def test_counts_and_physiology_map() -> None:
    cervical = PopulationParameters.default()
    counts = tc.group_counts("ear-cymba-conchae")
    # 98 axons per mm x 2 mm footprint; 1/4 myelinated, 40 % of those Abeta
    assert counts["skin_Abeta"] == pytest.approx(98 * 2 * 0.25 * 0.4)
    assert counts["skin_C"] == pytest.approx(98 * 2 * 0.75)
    m = tc.physiology_map("ear-cymba-conchae")
    assert m["A_afferent"]["skin_Abeta"] == pytest.approx(
        counts["skin_Abeta"] / cervical.count("A_afferent")
    )
    assert m["cutaneous_Abeta"] == {"skin_Abeta": 1.0}
    assert "laryngeal_motor" not in m
    assert "muscle_motor" not in m
    tragus = tc.physiology_map("ear-tragus")
    n_tragus = tc.group_counts("ear-tragus")["skin_Adelta"]
    assert tragus["Adelta_afferent"]["skin_Adelta"] == pytest.approx(
        0.45 * n_tragus / cervical.count("Adelta_afferent")
    )
    lobe = tc.physiology_map("ear-lobe")
    assert set(lobe) == {"cutaneous_Abeta", "cutaneous_Adelta"}  # the sham: no vagal fibres
    neck = tc.physiology_map("gammacore-contacts")
    assert all(neck[g] == {g: 1.0} for g in tc.VAGAL_GROUPS)
    assert sum(neck["muscle_motor"].values()) == pytest.approx(1.0)


def _table(thr_abeta: np.ndarray) -> RecruitmentTable:
    n = thr_abeta.size
    thr = np.concatenate([thr_abeta, np.full(n, 5.0), np.full(n, 50.0)])[:, None]
    return RecruitmentTable(
        groups=("skin_Abeta", "skin_Adelta", "skin_C"),
        pulse_widths_us=np.array([250.0]),
        thresholds_mA=thr,
        group_index=np.repeat(np.arange(3), n).astype(np.int64),
        weight=np.ones(3 * n),
        key="synthetic",
    )


def test_sensory_threshold_counts_fibres_and_scales_with_coupling() -> None:
    # 19.6 Abeta fibres under the cymba electrode; 98 sampled fibres stand for 0.2 each, so the
    # first real fibre fires at the 5th lowest sampled threshold
    thr = np.linspace(0.1, 9.8, 98)
    table = _table(np.random.default_rng(0).permutation(thr))
    got = tc.sensory_threshold_mA("ear-cymba-conchae", 250.0, table=table)
    assert got == pytest.approx(thr[4])
    both = tc.sensory_threshold_mA(
        "ear-cymba-conchae", 250.0, coupling=np.array([1.0, 2.5]), table=table
    )
    np.testing.assert_allclose(both, [thr[4], 2.5 * thr[4]])
    with pytest.raises(ValidationError, match="coupling"):
        tc.sensory_threshold_mA("ear-cymba-conchae", 250.0, coupling=0.0, table=table)


def test_long_fibre_builder_spans_the_electrodes() -> None:
    build = LongFibreBuilder(proxies.proxy_build_fiber, 30_000.0)
    for d in (2.0, 3.0, 10.0):
        f = build("PENA", diameter_um=d, n_nodes=101)
        n = f.z_um.size
        assert n % 2 == 1
        assert n >= 101
        assert (n - 1) * f.delta_z_um >= 30_000.0
    c = build("C", diameter_um=1.0, length_um=20_000.0)
    assert (
        c.z_um.size == proxies.proxy_build_fiber("C", diameter_um=1.0, length_um=20_000.0).z_um.size
    )


def _proxy_table(lead: str, cache: Path, **kw: Any) -> RecruitmentTable:
    return build_transcutaneous_table(
        lead, n_per_group=64, threshold_fn=proxies.rattay_thresholds,
        fiber_builder=proxies.proxy_build_fiber, cache_dir=cache, **kw,
    )  # fmt: skip


def test_table_build_bookkeeping_and_cache(tmp_path: Path) -> None:
    proxies.CALLS.clear()
    table = _proxy_table("ear-cymba-conchae", tmp_path)
    assert table.groups == ("skin_Abeta", "skin_Adelta", "skin_C")
    assert table.thresholds_mA.shape == (3 * 64, 4)
    assert np.all(table.thresholds_mA > 0)
    abeta = table.group_index == 0
    assert np.all(np.isfinite(table.thresholds_mA[abeta]))
    # longer pulses need less current (inf - inf aside), and the big fibres fire first
    fin = np.all(np.isfinite(table.thresholds_mA), axis=1)
    assert np.all(np.diff(table.thresholds_mA[fin], axis=1) <= 0)
    med = [np.median(table.thresholds_at(250.0)[table.group_index == j]) for j in range(3)]
    assert med[0] < med[1] < med[2]
    assert table.metadata["inputs"]["lead"] == "ear-cymba-conchae"
    calls = len(proxies.CALLS)
    again = build_recruitment_table(
        "ear-cymba-conchae", threshold_fn=proxies.rattay_thresholds,
        fiber_builder=proxies.proxy_build_fiber, n_per_group=64, cache_dir=tmp_path,
    )  # fmt: skip
    assert len(proxies.CALLS) == calls, "the cached table was rebuilt"
    assert again.key == table.key
    np.testing.assert_array_equal(again.thresholds_mA, table.thresholds_mA)
    other = _proxy_table("ear-cymba-conchae", tmp_path, seed=1)
    assert other.key != table.key


def test_deep_fibres_beyond_the_solver_range_are_not_recruited(tmp_path: Path) -> None:
    table = _proxy_table("gammacore-contacts", tmp_path)
    vagal = np.isin(np.array(table.groups)[table.group_index], tc.VAGAL_GROUPS)
    assert np.all(np.isinf(table.thresholds_mA[vagal]))  # 36 mm deep: above 100 mA
    abeta = np.array(table.groups)[table.group_index] == "skin_Abeta"
    assert np.all(np.isfinite(table.thresholds_mA[abeta]))
    report = table.metadata["surrogate"]["vagus"]["MRG"]["1000"]
    assert report["population_not_activated"] == 3 * 64 - 64  # laryngeal, A afferent (MRG)
    assert table.fraction("A_afferent", 60.0, 1000.0) == 0.0


def test_transcutaneous_options_are_checked() -> None:
    with pytest.raises(ValidationError, match="lead"):
        build_recruitment_table("ear-cymba-conchae", method="direct")
    with pytest.raises(ValidationError, match="design_per_group"):
        build_transcutaneous_table("ear-lobe", design_per_group={"C": 0}, use_cache=False)
    assert math.isfinite(tc.lead_geometry("ear-lobe").fibre_length_um)


def test_vagus_depth_distribution_and_override(tmp_path: Path) -> None:
    depth = tc.vagus_depth_um(np.array([0.5, 0.8413447460685429]))
    np.testing.assert_allclose(depth, [36_200.0, 36_200.0 + 9400.0], rtol=1e-9)
    geom = tc.with_vagus_depth(tc.lead_geometry("gammacore-contacts"), 20_000.0)
    pop = tc.sample_site_population(geom, 16, seed=0)
    vagal = np.isin(pop.group, tc.VAGAL_GROUPS)
    assert abs(np.mean(pop.y_um[vagal]) - 20_000.0) < 300.0
    with pytest.raises(ValidationError, match="vagus_depth_um"):
        tc.with_vagus_depth(tc.lead_geometry("gammacore-contacts"), 10_000.0)
    with pytest.raises(ValidationError, match="lead"):
        tc.with_vagus_depth(tc.lead_geometry("ear-lobe"), 20_000.0)
    with pytest.raises(ValidationError, match="quantile"):
        tc.vagus_depth_um(1.0)
    shallow = _proxy_table("gammacore-contacts", tmp_path, vagus_depth_um=20_000.0)
    assert shallow.key != _proxy_table("gammacore-contacts", tmp_path).key
    assert shallow.metadata["inputs"]["geometry"]["vagus_depth_um"] == 20_000.0


def test_docs_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    monkeypatch.setenv("OPENVNS_CACHE_DIR", str(tmp_path))
    doc = Path(__file__).resolve().parents[2] / "docs" / "noninvasive-nerve.md"
    (block,) = re.findall(r"^```python\n(.*?)^```", doc.read_text("utf-8"), re.M | re.S)
    scope: dict[str, Any] = {}
    exec(compile(block, "docs/noninvasive-nerve.md", "exec"), scope)
    assert scope["table"].fraction("skin_Abeta", 0.1, 250.0) == pytest.approx(0.86, abs=0.01)
    assert scope["physiology_map"]("ear-cymba-conchae")["A_afferent"]["skin_Abeta"] == (
        pytest.approx(0.0086, abs=1e-4)
    )
