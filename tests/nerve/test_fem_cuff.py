"""The finite-element cuff model: contacts, tissues, and the field a fibre sees."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from openvns.nerve.fem.cuff_model import REGIONS, FEMCuffField, Tissues, cuff_field
from openvns.nerve.fem.solve import boundary_faces
from openvns.nerve.geometry import Fascicle, HelicalCuff, Nerve

COARSE = {
    "h_nerve_um": 120.0,
    "h_fascicle_ring_um": 40.0,
    "h_z_contact_um": 250.0,
    "domain_radius_um": 8000.0,
    "domain_half_length_um": 80000.0,
    "h_outer_um": 2500.0,
    "h_wall_um": 240.0,
}


def _nerve() -> Nerve:
    return Nerve(1800.0, (Fascicle(250.0, 0.0, 300.0, 300.0, 25.0),
                          Fascicle(-350.0, 150.0, 200.0, 200.0, 20.0)))  # fmt: skip


_STAGES: list[tuple[str, int, int]] = []


@pytest.fixture(scope="module")
def model() -> FEMCuffField:
    return cuff_field(_nerve(), HelicalCuff.from_lead("2mm"), Tissues.default(**COARSE),
                      stage=lambda *a: _STAGES.append(a))  # fmt: skip


def test_the_model_reports_its_stages(model: FEMCuffField) -> None:
    """Meshing, assembling, one solve per contact, then done: each as it starts, counted."""
    from openvns.nerve.fem.cuff_model import STAGES

    assert [name for name, _, _ in _STAGES] == [*STAGES, "done"]
    assert [done for _, done, _ in _STAGES] == list(range(len(STAGES) + 1))
    assert {total for _, _, total in _STAGES} == {len(STAGES)}


def test_the_contacts_cover_their_ribbons(model: FEMCuffField) -> None:
    from openvns.nerve.fem.cuff_model import _contact_faces

    cuff, mesh = model.cuff, model.mesh
    r_in = max(cuff.radius_um, model.nerve.radius_um + model.tissues.saline_gap_um)
    ribbon = math.radians(cuff.contact_arc_deg) * math.hypot(r_in, cuff.pitch_um / (2 * math.pi))
    for which in ("cathode", "anode"):
        faces = _contact_faces(mesh, cuff, r_in, which)
        p = mesh.points_um[faces]
        area = 0.5 * np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=1)
        assert area.sum() == pytest.approx(ribbon * cuff.contact_width_um, rel=0.25)
        zc = p[:, :, 2].mean()
        expected = cuff.separation_um / 2 * (1 if which == "cathode" else -1)
        assert zc == pytest.approx(expected, abs=cuff.pitch_um)
        # every vertex on the wall: never a fascicle's perineurium faces
        np.testing.assert_allclose(np.hypot(p[:, :, 0], p[:, :, 1]), r_in, rtol=1e-6)
    assert len(boundary_faces(mesh)) > 0


def test_the_helices_have_gaps_between_their_turns(model: FEMCuffField) -> None:
    """1/8 of the silicone annulus over the helices (0.2 mm of each 1.6 mm turn) conducts."""
    mesh, t, cuff = model.mesh, model.tissues, model.cuff
    r_in = max(cuff.radius_um, model.nerve.radius_um + t.saline_gap_um)
    x = mesh.points_um[mesh.tets]
    vol = np.abs(np.linalg.det(x[:, 1:] - x[:, :1])) / 6.0
    c = x.mean(axis=1)
    r = np.hypot(c[:, 0], c[:, 1])
    half = t.turns_per_helix * cuff.pitch_um / 2
    over = np.abs(np.abs(c[:, 2]) - cuff.separation_um / 2) < half
    annulus = (r > r_in) & (r < r_in + t.wall_thickness_um) & over
    full = math.pi * ((r_in + t.wall_thickness_um) ** 2 - r_in**2) * 4 * half
    assert vol[annulus].sum() == pytest.approx(full * t.helix_gap_um / cuff.pitch_um, rel=0.15)
    assert set(np.unique(mesh.regions[annulus]).tolist()) == {REGIONS["saline"]}


def test_the_bipolar_field_and_the_perineurium(model: FEMCuffField) -> None:
    cuff = model.cuff
    z = np.linspace(-12000, 12000, 241)
    f0 = model.nerve.fascicles[0]
    v = model.potentials(np.array([f0.x_um]), np.array([f0.y_um]), z)[0]
    # the cathode (cranial, +z) is positive for +1 mA, the anode negative; far away it decays
    assert v[np.argmin(np.abs(z - cuff.separation_um / 2))] > 0
    assert v[np.argmin(np.abs(z + cuff.separation_um / 2))] < 0
    assert abs(v[0]) < 0.3 * np.abs(v).max()
    # a resistive perineurium: the potential jumps across it where current crosses
    mesh = model.mesh
    lt = mesh.layer_triangles
    jump = (model.cathode_mV - model.anode_mV)[lt[:, 0]] - (model.cathode_mV - model.anode_mV)[
        lt[:, 1]
    ]
    assert np.abs(jump).max() > 0.05 * np.abs(model.cathode_mV - model.anode_mV).max()
    # the silicone is out of the mesh; every region present has a conductivity
    assert REGIONS["silicone"] not in set(np.unique(mesh.regions).tolist())


def test_a_conducting_perineurium_removes_the_jump() -> None:
    open_layer = cuff_field(_nerve(), HelicalCuff.from_lead("2mm"),
                            Tissues.default(**COARSE, perineurium=10.0))  # fmt: skip
    lt = open_layer.mesh.layer_triangles
    bip = open_layer.cathode_mV - open_layer.anode_mV
    # 10 S/m instead of 8.7e-4: the jump falls below 1 % of the field
    assert np.abs(bip[lt[:, 0]] - bip[lt[:, 1]]).max() < 0.01 * np.abs(bip).max()


def test_an_elliptical_fascicle_keeps_its_shape_in_the_model() -> None:
    """An imported elliptical fascicle is meshed as its ellipse: a point at its tip (outside the
    circle of equal area) reads the inside of the perineurium, whose jump it sees; its key says
    so, a circular nerve's key is unchanged."""
    from openvns.nerve.fem.cuff_model import METHOD, fem_key

    fas = Fascicle(150.0, 0.0, 520.0, 200.0, 25.0, angle_deg=20.0)
    nerve = Nerve(1800.0, (fas,))
    cuff = HelicalCuff.from_lead("2mm")
    model = cuff_field(nerve, cuff, Tissues.default(**COARSE))
    assert fem_key(nerve, cuff, model.tissues)["method"] == f"{METHOD}+ellipses/1"
    assert fem_key(_nerve(), cuff, model.tissues)["method"] == METHOD
    lt = model.mesh.layer_triangles
    layer_xy = model.mesh.points_um[np.ravel(lt[:, 0])]  # the inside nodes of the layer
    u, v = fas._to_local(layer_xy[:, 0], layer_xy[:, 1])
    assert np.max(np.abs(np.hypot(u / 520.0, v / 200.0) - 1.0)) < 1e-6  # on the ellipse
    c, s = math.cos(math.radians(20.0)), math.sin(math.radians(20.0))
    inner = [(150.0 + c * 480.0, s * 480.0)]  # inside the tip; the equal-area radius is 322 µm
    outer = [(150.0 + c * 600.0, s * 600.0)]  # outside it, in the epineurium
    z = np.full((1, 1), cuff.z_center_um + cuff.separation_um / 2.0)
    inside = model.potentials(np.array([inner[0][0]]), np.array([inner[0][1]]), z)
    outside = model.potentials(np.array([outer[0][0]]), np.array([outer[0][1]]), z)
    assert np.all(np.isfinite(inside))
    # across the perineurium the potential drops by much more than over 120 µm of epineurium
    assert abs(float(outside[0, 0]) - float(inside[0, 0])) > 0.05 * abs(float(outside[0, 0]))


def test_a_recruitment_table_on_the_fem_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``field="fem"``: a table of its own key, thresholds from the FEM field (the fast proxy
    threshold model of tests/nerve/proxies.py on a coarse mesh), read back from the cache
    without a solve; a bad field name and a skin electrode are refused."""
    from openvns.errors import ValidationError
    from openvns.nerve import recruitment
    from openvns.nerve.fem import cuff_model
    from tests.nerve import proxies

    coarse = Tissues.default(**COARSE)
    monkeypatch.setattr(cuff_model.Tissues, "default", classmethod(lambda cls, **k: coarse))
    args: dict[str, object] = {"n_per_group": 6, "threshold_fn": proxies.rattay_thresholds,
                               "fiber_builder": proxies.proxy_build_fiber,
                               "pulse_widths_us": [250.0], "cache_dir": tmp_path}  # fmt: skip
    fem = recruitment.build_recruitment_table("2mm", field="fem", **args)  # type: ignore[arg-type]
    ana = recruitment.build_recruitment_table("2mm", field="analytic", **args)  # type: ignore[arg-type]
    assert fem.key != ana.key
    assert fem.metadata["inputs"]["field"]["key"]["method"] == cuff_model.METHOD
    assert not np.allclose(fem.thresholds_mA, ana.thresholds_mA)
    solves: list[int] = []
    monkeypatch.setattr(cuff_model, "cuff_field", lambda *a, **k: solves.append(1))
    again = recruitment.build_recruitment_table("2mm", field="fem", **args)  # type: ignore[arg-type]
    np.testing.assert_array_equal(again.thresholds_mA, fem.thresholds_mA)
    assert solves == []  # read from the cache: nothing meshed or solved
    with pytest.raises(ValidationError, match="field"):
        recruitment.build_recruitment_table("2mm", field="comsol", **args)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="field"):
        recruitment.build_recruitment_table("ear-tragus", field="fem")
