"""The finite-element cuff model in the limit without layers is the analytic cuff field.

Every region conducts the same isotropic σ (the silicone too, and the perineurium so well that
its layer is negligible): the model is then the cuff's two ribbons in a homogeneous medium,
whose field is the analytic superposition of the ribbons' point sources without the wall's
image (:class:`openvns.nerve.field.AnalyticField`, ``image_factor = 1``). This checks the
contacts (where, how large, how much current), the units and the bipolar superposition of the
FEM against the field the analytic tables use, beyond the point-source cases of test_fem.py.
The silicone is made a conductor and the contacts current sheets on the wall's (now interior)
faces; the grounded boundary at the default model's 20 mm stands in for infinity.
"""

from __future__ import annotations

import numpy as np
import pytest

from openvns.nerve.fem import cuff_model
from openvns.nerve.fem.cuff_model import REGIONS, Tissues, cuff_field
from openvns.nerve.field import AnalyticField, Medium
from openvns.nerve.geometry import Fascicle, HelicalCuff, Nerve
from tests.nerve.test_fem_cuff import COARSE

#: The homogeneous medium (S/m): grey-matter-like, any value will do (the field scales as 1/σ).
SIGMA = 0.3
#: A perineurium conducting this well (S/m) adds < 0.1 % of the path's resistance.
PERINEURIUM_CONDUCTING = 1000.0
#: Radius of the grounded boundary (µm): the default model's, where the bipolar field of the
#: analytic infinite medium has fallen to a fraction of a percent of its value in the nerve.
DOMAIN_RADIUS_UM = 20000.0
#: Fibre positions in the nerve (µm): centre, and 0.3-0.6 of the radius out in four directions.
FIBRES_UM = ((0.0, 0.0), (450.0, 0.0), (0.0, -540.0), (-300.0, 300.0), (250.0, 450.0))


def test_without_layers_the_fem_field_is_the_analytic_one(monkeypatch: pytest.MonkeyPatch) -> None:
    cuff = HelicalCuff.from_lead("2mm")
    real_extrude = cuff_model.extrude

    def no_insulator(*args: object, **kwargs: object) -> object:
        kwargs["insulators"] = ()
        return real_extrude(*args, **kwargs)  # type: ignore[arg-type]

    def wall_faces(mesh: cuff_model.Mesh3D) -> np.ndarray:
        # the wall is inside the medium now: the contacts are current sheets on interior faces,
        # among those of the tetrahedra touching the wall's radius
        r = np.hypot(mesh.points_um[:, 0], mesh.points_um[:, 1])[mesh.tets]
        wall = cuff.radius_um
        t = mesh.tets[(r.min(axis=1) <= wall * (1 + 1e-6)) & (r.max(axis=1) >= wall * (1 - 1e-6))]
        faces = np.vstack([t[:, [0, 1, 2]], t[:, [0, 1, 3]], t[:, [0, 2, 3]], t[:, [1, 2, 3]]])
        return np.unique(np.sort(faces, axis=1), axis=0)

    monkeypatch.setattr(cuff_model, "extrude", no_insulator)
    monkeypatch.setattr(cuff_model, "boundary_faces", wall_faces)
    monkeypatch.setattr(Tissues, "sigma", lambda self: {r: (SIGMA,) * 3 for r in REGIONS.values()})
    mesh = {**COARSE, "domain_radius_um": DOMAIN_RADIUS_UM}
    tissues = Tissues.default(**mesh, endoneurium=(SIGMA, SIGMA),
                              perineurium=PERINEURIUM_CONDUCTING, epineurium=SIGMA,
                              saline=SIGMA, encapsulation=SIGMA, muscle=(SIGMA, SIGMA))  # fmt: skip
    nerve = Nerve(1800.0, (Fascicle(250.0, 0.0, 300.0, 300.0, 25.0),))
    fem = cuff_field(nerve, cuff, tissues)
    ana = AnalyticField(cuff, Medium.isotropic(SIGMA), 1.0)
    z = cuff.z_center_um + np.linspace(-15000.0, 15000.0, 601)
    x = np.array([p[0] for p in FIBRES_UM])
    y = np.array([p[1] for p in FIBRES_UM])
    zz = np.broadcast_to(z, (len(x), z.size))
    v_fem = fem.potentials(x, y, zz)
    v_ana = ana.potentials(x, y, zz)
    scale = np.max(np.abs(v_ana), axis=1)
    err = np.max(np.abs(v_fem - v_ana), axis=1) / scale
    # the activating function (second difference over 1 mm, about an MRG internode): what a
    # fibre responds to; P1 on the coarse test mesh (250 µm levels) smooths it most at 0.5 mm
    k = 20  # samples of 50 µm
    d2_fem = v_fem[:, : -2 * k] - 2 * v_fem[:, k:-k] + v_fem[:, 2 * k :]
    d2_ana = v_ana[:, : -2 * k] - 2 * v_ana[:, k:-k] + v_ana[:, 2 * k :]
    err_d2 = np.max(np.abs(d2_fem - d2_ana), axis=1) / np.max(np.abs(d2_ana), axis=1)
    # measured on this mesh: potentials 1.7-2.4 %, second differences 2.7-5.1 % (0.5 mm: 2.9-7.2 %,
    # 2 mm: 2.1-3.0 %), the largest for the fibres nearest the ribbons
    assert np.all(err < 0.03), err
    assert np.all(err_d2 < 0.06), err_d2
