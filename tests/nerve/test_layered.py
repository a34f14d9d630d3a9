"""The layered-medium field of surface electrodes against closed forms and its own physics."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvns.errors import ValidationError
from openvns.nerve.layered import (
    LayeredField,
    LayeredMedium,
    SurfaceContact,
    SurfaceElectrode,
    potential_grid_mV,
    surface_potential_mV,
)

MV = 1e6  # mA / (S/m · µm) in mV


def image_series_mV(rho: float, z: float, s1: float, s2: float, h: float) -> float:
    """Point source on a layer (σ1, thickness h) over a half-space (σ2): the image series."""
    k = (s1 - s2) / (s1 + s2)
    n = np.arange(1, 20000)
    if z <= h:
        images = k**n * (1 / np.hypot(rho, 2 * n * h - z) + 1 / np.hypot(rho, 2 * n * h + z))
        return float(MV / (2 * math.pi * s1) * (1 / math.hypot(rho, z) + images.sum()))
    n0 = np.arange(0, 20000)
    return float(MV / (2 * math.pi * s1) * (1 + k) * np.sum(k**n0 / np.hypot(rho, 2 * n0 * h + z)))


@settings(max_examples=30, deadline=None)
@given(
    rho=st.floats(0.0, 60_000.0),
    z=st.floats(50.0, 50_000.0),
    sigma=st.floats(0.01, 2.0),
)
def test_homogeneous_point_source(rho: float, z: float, sigma: float) -> None:
    v = surface_potential_mV(np.array([rho]), np.array([z]), LayeredMedium.homogeneous(sigma))
    exact = MV / (2 * math.pi * sigma * math.hypot(rho, z))
    assert v[0] == pytest.approx(exact, rel=1e-9)


@pytest.mark.parametrize("a_um", [500.0, 5000.0])
def test_disc_on_axis_closed_forms(a_um: float) -> None:
    sigma = 0.3
    z = np.array([50.0, 300.0, 2000.0, 30_000.0])
    medium = LayeredMedium.homogeneous(sigma)
    uniform = potential_grid_mV(np.array([0.0]), z, medium, a_um, "uniform")[0]
    exact_u = MV / (math.pi * a_um**2 * sigma) * (np.sqrt(a_um**2 + z**2) - z)
    np.testing.assert_allclose(uniform, exact_u, rtol=1e-9)
    equi = potential_grid_mV(np.array([0.0]), z, medium, a_um, "equipotential")[0]
    exact_e = MV / (2 * math.pi * sigma * a_um) * np.arctan(a_um / z)
    np.testing.assert_allclose(equi, exact_e, rtol=1e-9)


@pytest.mark.parametrize(("s1", "s2"), [(0.43, 0.0333), (0.0333, 0.137), (0.2, 0.2 * 1.001)])
def test_two_layer_image_series(s1: float, s2: float) -> None:
    h = 1500.0
    medium = LayeredMedium((h,), (s1, s2))
    pts = [(10.0, 300.0), (500.0, 1200.0), (3000.0, 1499.0), (20_000.0, 1501.0),
           (100.0, 5000.0), (7000.0, 30_000.0), (0.0, 750.0)]  # fmt: skip
    rho, z = (np.array(c) for c in zip(*pts, strict=True))
    got = surface_potential_mV(rho, z, medium, 0.0, "point")
    want = [image_series_mV(r, d, s1, s2, h) for r, d in pts]
    np.testing.assert_allclose(got, want, rtol=1e-8)


def test_reciprocity_with_a_buried_source() -> None:
    """V at depth z from a surface source = V on the surface from a source at depth z; for a
    source in the half-space the classical series is written in its own medium: σ2 and the
    transmission coefficient 1 - K."""
    s1, s2, h = 0.43, 0.0333, 1500.0
    k = (s1 - s2) / (s1 + s2)
    n = np.arange(0, 20000)
    for rho, z in ((0.0, 4000.0), (2500.0, 1800.0), (15_000.0, 9000.0)):
        buried = MV / (2 * math.pi * s2) * (1 - k) * np.sum(k**n / np.hypot(rho, z + 2 * n * h))
        got = surface_potential_mV(np.array([rho]), np.array([z]), LayeredMedium((h,), (s1, s2)))
        assert got[0] == pytest.approx(buried, rel=1e-8)


def test_continuity_of_potential_and_normal_current() -> None:
    medium = LayeredMedium((1000.0, 1000.0, 2000.0), (0.43, 0.18, 0.43, 0.0333))
    eps = 0.05
    rho = np.array([0.0, 800.0, 2500.0, 12_000.0])
    for i, depth in enumerate(medium.interfaces_um):
        z = np.array([depth - 2 * eps, depth - eps, depth + eps, depth + 2 * eps])
        v = potential_grid_mV(rho, z, medium, 1000.0, "uniform")
        # potential continuous: both sides extrapolated linearly to the interface
        np.testing.assert_allclose(2 * v[:, 1] - v[:, 0], 2 * v[:, 2] - v[:, 3], rtol=1e-7)
        # normal current continuous: σ_above dV/dz|above = σ_below dV/dz|below
        above = medium.sigma_S_per_m[i] * (v[:, 1] - v[:, 0]) / eps
        below = medium.sigma_S_per_m[i + 1] * (v[:, 3] - v[:, 2]) / eps
        np.testing.assert_allclose(above, below, rtol=2e-3, atol=1e-6 * np.abs(v).max())


def _pair(
    radius_um: float, half_um: float, w: tuple[float, float] = (1.0, -1.0)
) -> SurfaceElectrode:
    return SurfaceElectrode((SurfaceContact(0.0, -half_um, radius_um, w[0]),
                             SurfaceContact(0.0, half_um, radius_um, w[1])))  # fmt: skip


NECK = LayeredMedium((1500.0, 4000.0), (0.43, 0.0333, 0.137))
EAR = LayeredMedium((1000.0, 1000.0, 1000.0), (0.43, 0.18, 0.43, 0.0333))


@pytest.mark.parametrize(
    ("medium", "electrode", "depths"),
    [
        (NECK, _pair(5000.0, 12_500.0), (500.0, 37_000.0)),
        (EAR, _pair(1000.0, 2500.0), (200.0, 950.0)),
    ],
)
def test_table_matches_quadrature(
    medium: LayeredMedium, electrode: SurfaceElectrode, depths: tuple[float, float]
) -> None:
    """The tabulated field (splines per layer) against the quadrature, potential and the
    activating function along fibres."""
    fld = LayeredField(electrode, medium, depths)
    rng = np.random.default_rng(3)
    x = rng.uniform(-6000, 6000, 6)
    y = np.exp(rng.uniform(math.log(depths[0]), math.log(depths[1]), 6))
    z = np.arange(-30_000.0, 30_000.1, 100.0)
    got = fld.potentials(x, y, z)
    exact = np.zeros_like(got)
    for c in electrode.contacts:
        for i in range(x.size):
            rho = np.hypot(x[i] - c.x_um, z - c.z_um)
            exact[i] += c.weight * surface_potential_mV(rho, np.full(z.size, y[i]), medium,
                                                        c.radius_um, electrode.profile)  # fmt: skip
    scale = np.abs(exact).max(axis=1, keepdims=True)
    assert np.max(np.abs(got - exact) / scale) < 2e-5
    af, af_exact = -np.diff(got, 2, axis=1), -np.diff(exact, 2, axis=1)
    assert np.max(np.abs(af - af_exact)) < 2e-3 * np.abs(af_exact).max()


def test_superposition_and_linearity() -> None:
    depths = (300.0, 3000.0)
    both = LayeredField(_pair(1500.0, 3000.0, (2.0, -0.5)), EAR, depths)
    one = LayeredField(SurfaceElectrode((SurfaceContact(0.0, -3000.0, 1500.0, 1.0),)), EAR, depths)
    other = LayeredField(SurfaceElectrode((SurfaceContact(0.0, 3000.0, 1500.0, 1.0),)), EAR, depths)
    x, y = np.array([0.0, 700.0, -1200.0]), np.array([400.0, 900.0, 2500.0])
    z = np.linspace(-20_000, 20_000, 81)
    np.testing.assert_allclose(
        both.potentials(x, y, z),
        2.0 * one.potentials(x, y, z) - 0.5 * other.potentials(x, y, z),
        rtol=1e-12,
        atol=1e-12,
    )
    # symmetric bipole: antisymmetric potential about the mid-plane
    sym = LayeredField(_pair(1500.0, 3000.0), EAR, depths)
    v = sym.potentials(x, y, z)
    np.testing.assert_allclose(v, -v[:, ::-1], atol=1e-9 * np.abs(v).max())


def test_field_key_and_cache() -> None:
    fld = LayeredField(_pair(1000.0, 2500.0), EAR, (200.0, 950.0))
    key = fld.key()
    json.dumps(key)
    other = LayeredField(
        _pair(1000.0, 2500.0), LayeredMedium((1000.0,), (0.43, 0.2)), (200.0, 950.0)
    )
    assert other.key() != key
    x, y, z = np.array([0.0]), np.array([500.0]), np.linspace(-5000, 5000, 11)
    a = fld.potentials(x, y, z)
    a[:] = 0.0  # a copy: the cache is not changed through it
    assert np.abs(fld.potentials(x, y, z)).max() > 0


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValidationError, match="sigma_S_per_m"):
        LayeredMedium((1000.0,), (0.4,))
    with pytest.raises(ValidationError, match=r"thickness_um\[0\]"):
        LayeredMedium((-1.0,), (0.4, 0.2))
    with pytest.raises(ValidationError, match=r"sigma_S_per_m\[1\]"):
        LayeredMedium((1000.0,), (0.4, 0.0))
    with pytest.raises(ValidationError, match="depth_um"):
        surface_potential_mV(np.array([1.0]), np.array([0.0]), EAR)
    with pytest.raises(ValidationError, match="radius_um"):
        SurfaceContact(0.0, 0.0, -1.0)
    with pytest.raises(ValidationError, match="profile"):
        SurfaceElectrode((SurfaceContact(0.0, 0.0, 1.0),), profile="ring")  # type: ignore[arg-type]
    fld = LayeredField(_pair(1000.0, 2500.0), EAR, (200.0, 950.0), rho_max_um=10_000.0)
    with pytest.raises(ValidationError, match=r"fibre\[1\] y_um"):
        fld.potentials(np.array([0.0, 0.0]), np.array([500.0, 2000.0]), np.zeros(3))
    with pytest.raises(ValidationError, match="rho_max_um"):
        fld.potentials(np.array([0.0]), np.array([500.0]), np.array([0.0, 20_000.0]))
    with pytest.raises(ValidationError, match="depth_range_um"):
        LayeredField(_pair(1000.0, 2500.0), EAR, (0.0, 950.0))
