"""The finite-element field: mesh conformity, interpolation, and analytic solutions (layered
cylinders with a thin resistive layer; a point source in homogeneous and anisotropic media)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from openvns.errors import ValidationError
from openvns.nerve.fem.interpolate import interpolate
from openvns.nerve.fem.mesh2d import Circle, triangulate
from openvns.nerve.fem.mesh3d import Mesh3D, ThinLayer, extrude, graded_levels
from openvns.nerve.fem.solve import Source, boundary_faces, solve_sources


def _same(labels: np.ndarray, z_mid: np.ndarray) -> np.ndarray:
    return np.broadcast_to(labels, (len(z_mid), len(labels)))


def _volumes(mesh: Mesh3D) -> np.ndarray:
    x = mesh.points_um[mesh.tets]
    return np.abs(np.linalg.det(x[:, 1:] - x[:, :1])) / 6.0


# ------------------------------------------------------------------ meshes
def test_the_cross_section_follows_every_circle() -> None:
    circles = [Circle(0, 0, 3000, 0, 200), Circle(0, 0, 1000, 1, 40),
               Circle(300, 200, 250, 2, 25), Circle(-400, -100, 300, 3, 25)]  # fmt: skip
    cs = triangulate(circles, 0, [(0, 50), (1100, 150)])
    edges = np.sort(np.concatenate([cs.triangles[:, [0, 1]], cs.triangles[:, [1, 2]],
                                    cs.triangles[:, [2, 0]]]), axis=1)  # fmt: skip
    have = {tuple(e) for e in edges.tolist()}
    for ring in cs.circle_nodes:
        for a, b in zip(ring, np.roll(ring, -1), strict=True):
            assert (min(a, b), max(a, b)) in have  # every chord is an edge
    p = cs.points_um[cs.triangles]
    area = 0.5 * np.abs((p[:, 1, 0] - p[:, 0, 0]) * (p[:, 2, 1] - p[:, 0, 1])
                        - (p[:, 2, 0] - p[:, 0, 0]) * (p[:, 1, 1] - p[:, 0, 1]))  # fmt: skip
    for c in circles[2:]:  # the fascicles: their polygon's area, within the chords' error
        assert area[cs.labels == c.label].sum() == pytest.approx(math.pi * c.r_um**2, rel=0.01)
    with pytest.raises(ValidationError, match="circles"):
        triangulate([Circle(0, 0, 1000, 0, 50), Circle(900, 0, 200, 1, 20)], 0, [(0, 50)])


def test_an_elliptical_fascicle_is_meshed_as_its_ellipse() -> None:
    """An ellipse's nodes lie on it at equal arc length, its chords are edges, its triangles
    have its area (not a circle's), and a point at its tip is inside it."""
    fas = Circle(100, -50, 420, 2, 25, ry_um=180, angle_deg=30.0)
    circles = [Circle(0, 0, 3000, 0, 200), Circle(0, 0, 1000, 1, 40), fas,
               Circle(-450, 350, 150, 3, 25)]  # fmt: skip
    cs = triangulate(circles, 0, [(0, 50), (1100, 150)])
    edges = np.sort(np.concatenate([cs.triangles[:, [0, 1]], cs.triangles[:, [1, 2]],
                                    cs.triangles[:, [2, 0]]]), axis=1)  # fmt: skip
    have = {tuple(e) for e in edges.tolist()}
    ring = cs.circle_nodes[2]
    assert all((min(a, b), max(a, b)) in have for a, b in zip(ring, np.roll(ring, -1), strict=True))
    on = cs.points_um[ring]
    assert np.max(fas.distance(on[:, 0], on[:, 1])) < 1e-6
    step = np.hypot(*np.diff(np.vstack([on, on[:1]]), axis=0).T)
    assert step.max() / step.min() < 1.01  # equal arc length
    p = cs.points_um[cs.triangles]
    area = 0.5 * np.abs((p[:, 1, 0] - p[:, 0, 0]) * (p[:, 2, 1] - p[:, 0, 1])
                        - (p[:, 2, 0] - p[:, 0, 0]) * (p[:, 1, 1] - p[:, 0, 1]))  # fmt: skip
    assert area[cs.labels == 2].sum() == pytest.approx(math.pi * 420 * 180, rel=0.01)
    tip = np.array(
        [[100 + 400 * math.cos(math.radians(30)), -50 + 400 * math.sin(math.radians(30))]]
    )
    assert cs.labels[cs.delaunay.find_simplex(tip)[0]] == 2  # outside the circle of equal area
    with pytest.raises(ValidationError, match="circles"):  # an ellipse crossing a circle
        triangulate([Circle(0, 0, 1000, 0, 50), Circle(0, 0, 900, 1, 20, ry_um=300),
                     Circle(0, 300, 200, 2, 20)], 0, [(0, 50)])  # fmt: skip


def test_the_extrusion_is_conforming_and_fills_the_volume() -> None:
    circles = [Circle(0, 0, 2000, 0, 200), Circle(0, 0, 600, 1, 40)]
    cs = triangulate(circles, 0, [(0, 60), (700, 150)])
    z = graded_levels([(-200, 200)], 50, -1000, 1000, growth=1.4, h_max_um=300)
    mesh = extrude(cs, z, _same, layers=[ThinLayer(1, 1, 40.0)])
    t = mesh.tets
    sides = [t[:, [0, 1, 2]], t[:, [0, 1, 3]], t[:, [0, 2, 3]], t[:, [1, 2, 3]]]
    faces = np.sort(np.concatenate(sides), axis=1)
    _, counts = np.unique(faces, axis=0, return_counts=True)
    assert counts.max() == 2  # no face shared by three tetrahedra
    p = cs.points_um[cs.triangles]
    area = 0.5 * np.abs((p[:, 1, 0] - p[:, 0, 0]) * (p[:, 2, 1] - p[:, 0, 1])
                        - (p[:, 2, 0] - p[:, 0, 0]) * (p[:, 1, 1] - p[:, 0, 1]))  # fmt: skip
    assert _volumes(mesh).sum() == pytest.approx(area.sum() * 2000, rel=1e-9)
    assert np.all(_volumes(mesh) > 0)
    # the two sides of the thin layer sit at the same places
    inside, outside = mesh.layer_triangles[:, 0], mesh.layer_triangles[:, 1]
    np.testing.assert_array_equal(mesh.points_um[inside], mesh.points_um[outside])
    assert not np.intersect1d(inside, outside).size
    assert np.all(np.diff(z) <= 300 + 1e-9)


def test_the_levels_grade_geometrically_on_both_sides_of_the_fine_zones() -> None:
    """Fine spacing over each zone, growing by about ``growth`` per layer away from it on both
    sides (approaching a zone as well as leaving it), capped at ``h_max``."""
    fine = [(-6000.0, -2000.0), (2000.0, 6000.0)]
    z = graded_levels(fine, 50.0, -80000.0, 80000.0, growth=1.3, h_max_um=6000.0)
    dz = np.diff(z)
    assert z[0] == -80000.0
    assert z[-1] == 80000.0
    assert np.all(dz > 0)
    assert dz.max() <= 6000.0 + 1e-9
    for a, b in fine:
        assert a in z
        assert b in z
        inside = (z[:-1] >= a) & (z[1:] <= b)
        np.testing.assert_allclose(dz[inside], 50.0)
    ratio = dz[1:] / dz[:-1]
    assert ratio.max() < 1.3**2
    assert ratio.min() > 1.3**-2


def test_interpolation_reproduces_a_linear_field_and_refuses_insulators() -> None:
    circles = [Circle(0, 0, 2000, 0, 200), Circle(0, 0, 1200, 1, 60),
               Circle(200, 0, 400, 2, 30)]  # fmt: skip
    cs = triangulate(circles, 0, [(0, 80), (1300, 200)])
    z = np.linspace(-500, 500, 11)

    def regions(labels: np.ndarray, z_mid: np.ndarray) -> np.ndarray:
        out = np.broadcast_to(labels, (len(z_mid), len(labels))).copy()
        out[(z_mid > 200)[:, None] & (labels == 1)[None, :]] = 9  # an insulator above 200 µm
        return out

    mesh = extrude(cs, z, regions, layers=[ThinLayer(2, 2, 40.0)], insulators=[9])
    p = mesh.points_um
    values = 0.3 * p[:, 0] - 0.7 * p[:, 1] + 0.2 * p[:, 2] + 5.0
    rng = np.random.default_rng(1)
    r, t = 1500 * np.sqrt(rng.random(500)), 2 * np.pi * rng.random(500)
    x, y, zz = r * np.cos(t), r * np.sin(t), rng.uniform(-500, 200, 500)
    got = interpolate(mesh, values, x, y, zz)
    np.testing.assert_allclose(got, 0.3 * x - 0.7 * y + 0.2 * zz + 5.0, rtol=0, atol=1e-9)
    with pytest.raises(ValidationError, match="conducting"):
        interpolate(mesh, values, np.array([-800.0]), np.array([0.0]), np.array([400.0]))
    with pytest.raises(ValidationError, match="inside the mesh"):
        interpolate(mesh, values, np.array([0.0]), np.array([0.0]), np.array([600.0]))


# ------------------------------------------------------------------ analytic solutions
def test_concentric_cylinders_with_a_thin_resistive_layer() -> None:
    """A wire (r0) carrying a uniform current per length, endoneurium to a (the layer: g = σ/t),
    epineurium to b, a medium to R grounded: V(r) = I'/(2π) [Σ ln(r_out/r_in)/σ + 1/(a g)]."""
    r0, a, b, big = 100.0, 500.0, 1000.0, 3000.0
    circles = [Circle(0, 0, big, 3, 150), Circle(0, 0, b, 2, 40), Circle(0, 0, a, 1, 25),
               Circle(0, 0, r0, 9, 10)]  # fmt: skip
    cs = triangulate(circles, 3, [(0, 20), (600, 50), (1200, 150)])
    g = 8.7e-4 / 20e-6  # ASCENT's perineurium at 20 µm
    length_um = 400.0
    mesh = extrude(cs, np.linspace(0, length_um, 5), _same, layers=[ThinLayer(2, 1, g)],
                   insulators=[9])  # fmt: skip
    sigma = {1: (0.5, 0.5, 0.5), 2: (0.2, 0.2, 0.2), 3: (1.0, 1.0, 1.0)}
    faces = boundary_faces(mesh)
    c = mesh.points_um[faces].mean(axis=1)
    wire = faces[np.hypot(c[:, 0], c[:, 1]) < r0 + 5]
    grounded = np.hypot(mesh.points_um[:, 0], mesh.points_um[:, 1]) > big - 1
    v = solve_sources(mesh, sigma, [Source("wire", faces=wire)], grounded)["wire"]
    per_m = 1e-3 / (length_um * 1e-6)  # A/m

    def exact(r_um: np.ndarray) -> np.ndarray:
        r, aa, bb, rr = r_um * 1e-6, a * 1e-6, b * 1e-6, big * 1e-6
        outer = np.log(rr / bb) / 1.0
        in_fascicle = np.log(aa / r) / 0.5 + 1 / (aa * g) + np.log(bb / aa) / 0.2 + outer
        in_epineurium = np.log(bb / r) / 0.2 + outer
        out = np.where(r < aa, in_fascicle, np.where(r < bb, in_epineurium, np.log(rr / r)))
        return per_m / (2 * np.pi) * out * 1e3

    p = mesh.points_um
    r = np.hypot(p[:, 0], p[:, 1])
    mid = np.isclose(p[:, 2], length_um / 2)
    for lo, hi, tol in ((150, 480, 1e-3), (520, 980, 3e-3), (1050, 2900, 1e-2)):
        sel = mid & (r > lo) & (r < hi)
        np.testing.assert_allclose(v[sel], exact(r[sel]), rtol=tol)
    lt = mesh.layer_triangles
    jump = per_m / (2 * np.pi * a * 1e-6 * g) * 1e3
    assert (v[lt[:, 0]] - v[lt[:, 1]]).mean() == pytest.approx(jump, rel=2e-3)


@pytest.mark.parametrize("sigma", [(0.3, 0.3, 0.3), (0.083, 0.083, 0.571)])
def test_a_point_source_in_a_homogeneous_medium(sigma: tuple[float, float, float]) -> None:
    """V = I / (4π sqrt(σy σz x² + σx σz y² + σx σy z²)), the boundary held at it."""
    big = 4000.0
    cs = triangulate([Circle(0, 0, big, 0, 400)], 0, [(0, 60), (800, 120), (2000, 300)])
    z = np.unique(np.concatenate([graded_levels([(-800, 800)], 60, -big, big, growth=1.2,
                                                h_max_um=300), [0.0]]))  # fmt: skip
    mesh = extrude(cs, z, _same)
    p = mesh.points_um
    sx, sy, sz = sigma

    def exact(x: np.ndarray, y: np.ndarray, zz: np.ndarray) -> np.ndarray:
        return 1e-3 / (4 * np.pi * np.sqrt(sy * sz * x**2 + sx * sz * y**2 + sx * sy * zz**2)
                       * 1e-6) * 1e3  # fmt: skip

    grounded = np.zeros(len(p), dtype=bool)
    grounded[np.unique(boundary_faces(mesh))] = True
    held = np.zeros(len(p))
    held[grounded] = exact(*p[grounded].T)
    src = int(np.argmin(np.linalg.norm(p, axis=1)))
    assert np.linalg.norm(p[src]) == 0.0
    point = Source("pt", nodes=np.array([src]), weights=np.array([1.0]))
    v = solve_sources(mesh, {0: sigma}, [point], grounded, boundary_mV={"pt": held})["pt"]
    d = np.array([500.0, 1000.0, 2000.0])
    # beyond 1 mm the singular source is resolved: 0.5 % across the axis, 0.7 % along it on
    # either side (0.6 % measured with the levels graded on both sides of the fine zone)
    for pts, tol in (((d, 0 * d, 0 * d), 5e-3), ((0 * d, d, 0 * d), 5e-3),
                     ((0 * d, 0 * d, d), 7e-3), ((0 * d, 0 * d, -d), 7e-3)):  # fmt: skip
        fem = interpolate(mesh, v, *pts)
        far = np.abs(fem - exact(*pts)) / exact(*pts)
        assert far[1:].max() < tol
        assert far[0] < 4e-2
