"""Nerve cross-section, fibre placement and electrodes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from openvns.device.catalogue import lead
from openvns.errors import ValidationError
from openvns.nerve.geometry import (
    Fascicle,
    HelicalCuff,
    Nerve,
    PointSource,
    check_fibres_inside,
    layout_fascicles,
    perineurium_thickness_um,
)
from openvns.random import rng_for


def test_perineurium_human_fit() -> None:
    assert perineurium_thickness_um(500.0) == pytest.approx(0.03702 * 500 + 10.50)
    assert perineurium_thickness_um(500.0, "pig") == pytest.approx(0.02547 * 500 + 3.44)
    with pytest.raises(ValidationError, match="species"):
        perineurium_thickness_um(500.0, "cat")


def test_circle_fascicle_uses_fit_and_maps_unit_square_inside() -> None:
    fas = Fascicle.circle(100.0, -50.0, 400.0)
    assert fas.perineurium_um == pytest.approx(perineurium_thickness_um(400.0))
    assert fas.diameter_um == pytest.approx(400.0)
    u = np.random.default_rng(0).random((2, 500))
    xy = fas.from_unit(u[0], u[1], margin_um=10.0)
    assert np.all(np.hypot(xy[:, 0] - 100.0, xy[:, 1] + 50.0) <= 190.0 + 1e-9)
    assert fas.contains(xy[:, 0], xy[:, 1], 10.0 - 1e-6).all()


def test_ellipse_contains_rotated() -> None:
    fas = Fascicle(0.0, 0.0, 300.0, 100.0, 20.0, angle_deg=90.0)
    assert fas.contains(np.array([0.0]), np.array([250.0]))[0]
    assert not fas.contains(np.array([250.0]), np.array([0.0]))[0]


def test_fascicle_outside_nerve_is_refused() -> None:
    with pytest.raises(ValidationError) as exc:
        Nerve(2000.0, (Fascicle.circle(800.0, 0.0, 500.0),))
    assert "fascicles[0]" in str(exc.value)
    assert "nerve radius 1000" in str(exc.value)


def test_overlapping_fascicles_are_refused() -> None:
    with pytest.raises(ValidationError, match="overlap"):
        Nerve(2000.0, (Fascicle.circle(0.0, 0.0, 400.0), Fascicle.circle(300.0, 0.0, 400.0)))


def test_fibre_outside_nerve_names_value_and_allowed() -> None:
    nerve = Nerve(2000.0, (Fascicle.circle(0.0, 0.0, 800.0),))
    check_fibres_inside(nerve, np.array([0.0, 100.0]), np.array([0.0, 0.0]), np.array([0, 0]))
    with pytest.raises(ValidationError) as exc:
        check_fibres_inside(nerve, np.array([0.0, 1500.0]), np.zeros(2), np.array([0, 0]))
    msg = str(exc.value)
    assert "fibre[1]" in msg
    assert "1500.0" in msg
    assert "outside the nerve" in msg
    with pytest.raises(ValidationError, match="at least 20 µm"):
        check_fibres_inside(nerve, np.array([395.0]), np.zeros(1), np.array([0]), 20.0)
    with pytest.raises(ValidationError, match="fascicle"):
        check_fibres_inside(nerve, np.zeros(1), np.zeros(1), np.array([3]))


def test_layout_is_reproducible_and_valid() -> None:
    d = np.array([700.0, 600.0, 520.0, 480.0, 450.0, 400.0, 350.0])
    a = layout_fascicles(d, 2000.0, rng_for(7, "nerve"), epineurium_min_um=30.0, gap_min_um=10.0)
    b = layout_fascicles(d, 2000.0, rng_for(7, "nerve"), epineurium_min_um=30.0, gap_min_um=10.0)
    assert a == b
    nerve = Nerve(2000.0, a)  # validates containment and overlap
    for f in nerve.fascicles:
        assert math.hypot(f.x_um, f.y_um) + f.rx_um + f.perineurium_um <= 970.0 + 1e-6


def test_layout_refuses_too_large() -> None:
    with pytest.raises(ValidationError, match="diameters_um"):
        layout_fascicles(
            np.full(7, 900.0),
            2000.0,
            rng_for(0),
            epineurium_min_um=30.0,
            gap_min_um=10.0,
            restarts=2,
            iterations=50,
        )


@pytest.mark.parametrize(
    ("alias", "inner_um", "arc"), [("2mm", 2000.0, 338.5), ("3mm", 3000.0, 346.5)]
)
def test_cuff_from_catalogue(alias: str, inner_um: float, arc: float) -> None:
    cuff = HelicalCuff.from_lead(alias)
    geo = lead(alias).geometry
    assert geo is not None
    assert cuff.inner_diameter_um == inner_um
    assert cuff.contact_arc_deg == arc
    assert cuff.contact_width_um == pytest.approx(float(geo.contact_width_mm.value) * 1000)
    assert cuff.separation_um == pytest.approx(8000.0)
    xyz, w = cuff.sources()
    assert np.allclose(np.hypot(xyz[:, 0], xyz[:, 1]), inner_um / 2)
    assert w.sum() == pytest.approx(0.0, abs=1e-12)
    assert w[w > 0].sum() == pytest.approx(1.0)
    cat = cuff.contact_points("cathode")
    an = cuff.contact_points("anode")
    assert cat[:, 2].mean() - an[:, 2].mean() == pytest.approx(8000.0, rel=1e-3)  # cranial cathode
    # ribbon spacing honoured: neighbours along the ribbon are at most the spacing apart
    assert cuff.source_spacing_um == 50.0


def test_cuff_bad_input() -> None:
    with pytest.raises(ValidationError, match="helical"):
        HelicalCuff.from_lead("ear-clip")
    with pytest.raises(ValidationError, match="separation_um"):
        HelicalCuff.from_lead("2mm", separation_um=1000.0)
    with pytest.raises(ValidationError, match="cathode_side"):
        HelicalCuff.from_lead("2mm", cathode_side="left")
    cuff = HelicalCuff.from_lead("2mm")
    with pytest.raises(ValidationError, match="inner diameter"):
        cuff.check_nerve_fits(Nerve(2500.0, (Fascicle.circle(0.0, 0.0, 500.0),)))


def test_point_source_validation() -> None:
    with pytest.raises(ValidationError, match="z_um"):
        PointSource(0.0, 0.0, math.nan)
