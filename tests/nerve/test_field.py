"""Potentials along fibres: closed forms, linearity, superposition, symmetry, validation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from openvns.errors import ValidationError
from openvns.nerve.field import (
    MV_PER_MA_UM_S,
    AnalyticField,
    ExternalPotentials,
    Medium,
    field_digest,
    point_source_mV,
)
from openvns.nerve.geometry import HelicalCuff, PointSource

Z = np.linspace(-10000.0, 10000.0, 201)


def test_isotropic_point_source_equals_closed_form() -> None:
    src = PointSource(0.0, 0.0, 250.0)
    fld = AnalyticField(src, Medium.isotropic(0.3))
    v = fld.potentials(np.array([1000.0]), np.array([0.0]), Z)[0]
    r_m = np.sqrt(1e-3**2 + ((Z - 250.0) * 1e-6) ** 2)
    expected_mV = 1e-3 / (4 * math.pi * 0.3 * r_m) * 1e3  # I = 1 mA, V in mV
    assert np.allclose(v, expected_mV, rtol=1e-12)
    closest = point_source_mV(np.array([1000.0]), np.zeros(1), np.zeros(1), Medium.isotropic(0.3))
    assert closest[0] == pytest.approx(1e6 / (4 * math.pi * 0.3 * 1000.0))


def test_anisotropic_formula_matches_pyfibers_and_exact_form() -> None:
    med = Medium((0.083, 0.083, 0.571))
    x, y = 600.0, 300.0
    v = AnalyticField(PointSource(0.0, 0.0, 0.0), med).potentials(np.array([x]), np.array([y]), Z)
    sx, sy, sz = med.sigma_S_per_m
    pyfibers = MV_PER_MA_UM_S / np.sqrt(sy * sz * x**2 + sx * sz * y**2 + sx * sy * Z**2)
    exact = MV_PER_MA_UM_S / (math.sqrt(sx * sy * sz) * np.sqrt(x**2 / sx + y**2 / sy + Z**2 / sz))
    assert np.allclose(v[0], pyfibers, rtol=1e-12)
    assert np.allclose(v[0], exact, rtol=1e-12)


def test_anisotropic_reduces_to_isotropic() -> None:
    a = point_source_mV(np.array([300.0]), np.array([400.0]), Z, Medium((0.2, 0.2, 0.2)))
    b = point_source_mV(np.array([300.0]), np.array([400.0]), Z, Medium.isotropic(0.2))
    r = np.sqrt(500.0**2 + Z**2)
    assert np.allclose(a, b)
    assert np.allclose(a, MV_PER_MA_UM_S / (0.2 * r))


def test_linear_in_current() -> None:
    dx = np.array([100.0, 200.0])
    med = Medium.isotropic(0.3)
    one = point_source_mV(dx, dx, dx, med, 1.0)
    assert np.allclose(point_source_mV(dx, dx, dx, med, 2.5), 2.5 * one)
    assert np.allclose(point_source_mV(dx, dx, dx, med, -0.7), -0.7 * one)


class _Pair:
    """A bipolar pair of point sources (for the superposition test)."""

    def __init__(self, a: PointSource, b: PointSource) -> None:
        self.a, self.b = a, b

    def sources(self) -> tuple[np.ndarray, np.ndarray]:
        xa, _ = self.a.sources()
        xb, _ = self.b.sources()
        return np.vstack((xa, xb)), np.array([1.0, -1.0])

    def key(self) -> dict[str, object]:
        return {"kind": "pair"}


def test_superposition_bipolar_is_difference_of_monopoles() -> None:
    med = Medium((0.167, 0.167, 0.571))
    a, b = PointSource(1000.0, 0.0, 4000.0), PointSource(1000.0, 0.0, -4000.0)
    x, y = np.array([0.0, 200.0, -300.0]), np.array([0.0, 100.0, 50.0])
    bip = AnalyticField(_Pair(a, b), med).potentials(x, y, Z)
    diff = AnalyticField(a, med).potentials(x, y, Z) - AnalyticField(b, med).potentials(x, y, Z)
    assert np.allclose(bip, diff, rtol=1e-12, atol=1e-12)


def test_cuff_far_field_decays_faster_than_monopole() -> None:
    cuff = HelicalCuff.from_lead("2mm", source_spacing_um=100.0)
    med = Medium.isotropic(0.3)
    far = np.array([20000.0, 40000.0, 80000.0])
    bip = np.abs(AnalyticField(cuff, med).potentials(np.zeros(1), np.zeros(1), far)[0])
    mono = AnalyticField(PointSource(1000.0, 0.0, 4000.0), med).potentials(
        np.zeros(1), np.zeros(1), far
    )[0]
    # monopole ~ 1/z (ratio 2 per doubling), dipole ~ 1/z² (ratio 4)
    assert mono[0] / mono[1] == pytest.approx(2.0, rel=0.15)
    assert bip[0] / bip[1] == pytest.approx(4.0, rel=0.15)
    assert bip[1] / bip[2] > 3.5


def test_cuff_symmetry() -> None:
    """Swapping the cathode side mirrors the field in z and flips its sign."""
    med = Medium.endoneurium()
    cr = HelicalCuff.from_lead("2mm", source_spacing_um=100.0)
    ca = HelicalCuff.from_lead("2mm", source_spacing_um=100.0, cathode_side="caudal")
    z = np.linspace(-8000.0, 8000.0, 161)
    v1 = AnalyticField(cr, med).potentials(np.zeros(1), np.zeros(1), z)[0]
    v2 = AnalyticField(ca, med).potentials(np.zeros(1), np.zeros(1), z)[0]
    # on the axis the helix orientation does not matter: mirror antisymmetry
    assert np.allclose(v1, -v2, atol=1e-9 * np.abs(v1).max())
    assert np.allclose(v1, -v1[::-1], atol=1e-9 * np.abs(v1).max())
    assert v1[np.argmin(np.abs(z - 4000.0))] > 0  # +1 weight at the cranial contact


def test_cuff_discretisation_converges() -> None:
    med = Medium.endoneurium()
    x, y = np.array([0.0, 600.0, 0.0]), np.array([0.0, 0.0, -850.0])
    z = np.linspace(-6000.0, 6000.0, 121)
    fine = AnalyticField(HelicalCuff.from_lead("2mm", source_spacing_um=25.0), med)
    default = AnalyticField(HelicalCuff.from_lead("2mm"), med)
    vf, vd = fine.potentials(x, y, z), default.potentials(x, y, z)
    assert np.max(np.abs(vd - vf)) < 0.01 * np.max(np.abs(vf))


def test_field_is_cached_on_the_geometry() -> None:
    fld = AnalyticField.cuff(HelicalCuff.from_lead("2mm", source_spacing_um=100.0))
    x, y = np.array([0.0]), np.array([0.0])
    first = fld.potentials(x, y, Z)
    assert len(fld._cache) == 1
    first[0, 0] = 1e9  # callers get a copy
    again = fld.potentials(x, y, Z)
    assert again[0, 0] != 1e9
    assert len(fld._cache) == 1
    assert fld.image_factor == 2.0


def test_field_digest_changes_with_inputs() -> None:
    a = AnalyticField(PointSource(0.0, 0.0), Medium.isotropic(0.3))
    b = AnalyticField(PointSource(0.0, 0.0), Medium.isotropic(0.2))
    assert field_digest(a) != field_digest(b)
    assert field_digest(a) == field_digest(
        AnalyticField(PointSource(0.0, 0.0), Medium.isotropic(0.3))
    )


def test_fibre_on_a_source_is_refused() -> None:
    fld = AnalyticField(PointSource(0.0, 0.0, 0.0), Medium.isotropic(0.3))
    with pytest.raises(ValidationError, match="fibre\\[0\\]"):
        fld.potentials(np.zeros(1), np.zeros(1), np.array([-1.0, 0.0, 1.0]))


@pytest.mark.parametrize("sigma", [(0.3, 0.3), (0.3, -0.1, 0.2), (0.3, math.nan, 0.3), (0.0, 1, 1)])
def test_bad_medium(sigma: tuple[float, ...]) -> None:
    with pytest.raises(ValidationError, match="sigma"):
        Medium(sigma)  # type: ignore[arg-type]


def test_bad_fibre_arrays() -> None:
    fld = AnalyticField(PointSource(0.0, 0.0, 0.0), Medium.isotropic(0.3))
    with pytest.raises(ValidationError, match="z_um"):
        fld.potentials(np.ones(3), np.ones(3), np.ones((2, 5)))
    with pytest.raises(ValidationError, match="x_um"):
        fld.potentials(np.array([math.inf]), np.ones(1), Z)


def test_external_potentials_validation() -> None:
    ext = ExternalPotentials(np.ones((3, 11)))
    assert ext.potentials(np.zeros(3), np.zeros(3), np.zeros(11)).shape == (3, 11)
    with pytest.raises(ValidationError) as exc:
        ext.check(4, 11)
    assert "(3, 11)" in str(exc.value)
    assert "(4, 11)" in str(exc.value)
    with pytest.raises(ValidationError, match="shape"):
        ExternalPotentials(np.ones(5))
    bad = np.ones((2, 4))
    bad[1, 2] = math.nan
    with pytest.raises(ValidationError, match=r"ve_mV_per_mA\[1, 2\]"):
        ExternalPotentials(bad)
    assert ext.key()["method"] == "external/1"
