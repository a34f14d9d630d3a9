"""Recruitment of the non-invasive leads for the simulation: group mapping, leads, threshold."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from openvns.errors import ValidationError
from openvns.nerve import transcutaneous as tc
from openvns.nerve.recruitment import RecruitmentTable
from openvns.physiology.drive import GROUPS, SKIN_GROUPS
from openvns.simulation.recruitment import (
    SkinTableRecruitment,
    TableRecruitment,
    default_recruitment,
    table_lead,
)
from tests.simulation.test_recruitment import random_table

VAGAL = [g for g in GROUPS if g not in SKIN_GROUPS]


def ear_table(lead: str = "ear-cymba-conchae", seed: int = 0) -> RecruitmentTable:
    base = random_table(seed, groups=("skin_Abeta", "skin_Adelta", "skin_C"))
    return RecruitmentTable(
        groups=base.groups,
        pulse_widths_us=base.pulse_widths_us,
        thresholds_mA=base.thresholds_mA,
        group_index=base.group_index,
        weight=base.weight,
        key=f"ear-{seed}",
        metadata={"inputs": {"lead": lead}},
    )


def test_cuff_table_gives_zero_for_the_skin_groups() -> None:
    cuff = random_table(1, groups=tuple(VAGAL))
    rec = TableRecruitment(cuff)
    cur = np.linspace(0.0, 10.0, 21)
    f = rec(cur, 250.0)
    for g in SKIN_GROUPS:
        assert np.all(f[:, GROUPS.index(g)] == 0.0)
    for g in VAGAL:
        np.testing.assert_allclose(f[:, GROUPS.index(g)], cuff.fraction(g, cur, 250.0), atol=1e-12)
    assert rec.identity == "recruitment-table:random-1"


def test_ear_table_maps_through_the_counts() -> None:
    table = ear_table()
    rec = TableRecruitment(table)
    assert rec.identity.startswith("recruitment-table:ear-0:map-")
    cur = np.array([0.0, 0.5, 1.0, 3.0, 12.0])
    f = rec(cur, 500.0)
    m = tc.physiology_map("ear-cymba-conchae")
    abeta = table.fraction("skin_Abeta", cur, 500.0)
    np.testing.assert_allclose(f[:, GROUPS.index("cutaneous_Abeta")], abeta, atol=1e-12)
    np.testing.assert_allclose(
        f[:, GROUPS.index("A_afferent")], m["A_afferent"]["skin_Abeta"] * abeta, atol=1e-12
    )
    np.testing.assert_allclose(
        f[:, GROUPS.index("C_afferent")],
        m["C_afferent"]["skin_C"] * table.fraction("skin_C", cur, 500.0),
        atol=1e-12,
    )
    for g in ("laryngeal_motor", "cardiac_B", "C_efferent", "muscle_motor"):
        assert np.all(f[:, GROUPS.index(g)] == 0.0)
    # the sham site drives no vagal group at all
    sham = TableRecruitment(ear_table("ear-lobe"))(cur, 500.0)
    assert np.all(sham[:, [GROUPS.index(g) for g in VAGAL]] == 0.0)
    assert np.all(np.diff(sham[:, GROUPS.index("cutaneous_Abeta")]) >= 0)


def test_explicit_mapping_is_checked_and_pickles() -> None:
    table = ear_table()
    rec = SkinTableRecruitment(table, {"A_afferent": {"skin_Abeta": 0.5}})
    again = pickle.loads(pickle.dumps(rec))
    assert again.identity == rec.identity
    assert again.lead == "ear-cymba-conchae"
    np.testing.assert_array_equal(again(np.array([1.0]), 250.0), rec(np.array([1.0]), 250.0))
    with pytest.raises(ValidationError, match="mapping"):
        TableRecruitment(table, {"A_afferent": {"skin_Agamma": 1.0}})
    with pytest.raises(ValidationError, match="mapping"):
        TableRecruitment(table, {"vagal_drive": {"skin_Abeta": 1.0}})
    with pytest.raises(ValidationError, match="table"):
        SkinTableRecruitment(random_table(2))


def test_table_lead_of_catalogue_names() -> None:
    assert table_lead("ear-clip") == "ear-tragus"
    assert table_lead("gammacore-contacts") == "gammacore-contacts"
    assert table_lead("2mm") == "2mm"
    assert table_lead("302-20") == "2mm"
    for name, lead in (("concha", "ear-cymba-conchae"), ("earlobe", "ear-lobe"),
                       ("tragus", "ear-tragus")):  # fmt: skip
        try:
            got = table_lead(name)
        except ValidationError:  # the catalogue alias is not there (yet)
            continue
        assert got == lead
    with pytest.raises(ValidationError, match="lead"):
        table_lead("no-such-lead")


@pytest.mark.parametrize(
    "lead", ["gammacore-contacts", "ear-cymba-conchae", "ear-clip", "ear-lobe"]
)
def test_default_recruitment_of_the_skin_leads(lead: str) -> None:
    rec = default_recruitment(lead)
    assert isinstance(rec, SkinTableRecruitment)
    pw = 1000.0 if lead == "gammacore-contacts" else 250.0
    thr = rec.sensory_threshold_mA(pw)
    assert 0 < thr < 60.0
    cur = np.array([0.0, thr * 0.999, thr * 1.001, 3 * thr])
    f = rec(cur, pw)
    assert np.all(f[0] == 0.0)
    abeta = f[:, GROUPS.index("cutaneous_Abeta")]
    assert abeta[1] < abeta[2]  # perception: the first Abeta fibre fires at the threshold
    assert np.all(np.diff(f, axis=0) >= 0)
