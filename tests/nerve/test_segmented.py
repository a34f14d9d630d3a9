"""Import of a segmented cross-section (ASCENT-style masks and polygons) as a Nerve."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from PIL import Image

from openvns.errors import ValidationError
from openvns.nerve import segmented as sg
from openvns.nerve import segmented_fit as fit
from openvns.nerve.geometry import Fascicle, Nerve, perineurium_thickness_um

Mask = NDArray[np.bool_]
SHAPE = (400, 400)  # rows, columns of the synthetic images


def ellipse_mask(
    shape: tuple[int, int], cx: float, cy: float, a: float, b: float, angle_deg: float = 0.0
) -> Mask:
    """Pixels whose centre lies in the ellipse; ``(cx, cy)`` in px with ``+y`` up from row 0."""
    rows, cols = np.indices(shape)
    x, y = cols + 0.5 - cx, -(rows + 0.5) - cy
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    u, v = c * x + s * y, -s * x + c * y
    return np.asarray((u / a) ** 2 + (v / b) ** 2 <= 1.0)


def save(d: Path, name: str, mask: Mask, suffix: str = ".tif") -> None:
    Image.fromarray(mask.astype(np.uint8) * np.uint8(255)).save(d / f"{name}{suffix}")


def angle_diff(a: float, b: float) -> float:
    return abs((a - b + 90.0) % 180.0 - 90.0)


def regular_polygon(n: int, r: float, cx: float = 0.0, cy: float = 0.0) -> NDArray[np.float64]:
    th = 2.0 * np.pi * np.arange(n) / n
    return np.column_stack((cx + r * np.cos(th), cy + r * np.sin(th)))


# ----------------------------------------------------------------------------- fits
def test_pixel_ellipse_centre_area_orientation() -> None:
    s = 2.0  # µm per px
    mask = ellipse_mask(SHAPE, 210.3, -180.7, 80.0, 35.0, 30.0)
    reg = fit.pixel_region(mask, s)
    rx, ry, ang = reg.ellipse()
    assert reg.x_um == pytest.approx(210.3 * s, abs=0.1 * s)
    assert reg.y_um == pytest.approx(-180.7 * s, abs=0.1 * s)
    assert reg.area_um2 == pytest.approx(math.pi * 80 * 35 * s * s, rel=5e-3)
    assert rx == pytest.approx(80 * s, rel=5e-3)
    assert ry == pytest.approx(35 * s, rel=5e-3)
    assert angle_diff(ang, 30.0) < 0.2


def test_area_error_shrinks_with_resolution() -> None:
    radius_um = 150.0
    errors = []
    for s in (10.0, 2.5, 0.625):
        errs = []
        for off in (0.0, 0.25, 0.5, 0.13):
            n = int(2 * radius_um / s) + 8
            mask = ellipse_mask((n, n), n / 2 + off, -n / 2 - off, radius_um / s, radius_um / s)
            area = fit.pixel_region(mask, s).area_um2
            errs.append(abs(area / (math.pi * radius_um**2) - 1.0))
        assert max(errs) <= 2.0 * s / radius_um  # at most perimeter × one pixel
        errors.append(float(np.mean(errs)))
    assert errors[0] > errors[1] > errors[2]


@settings(max_examples=40, deadline=None)
@given(
    a=st.floats(20.0, 70.0),
    ratio=st.floats(1.0, 3.0),
    angle=st.floats(-89.0, 90.0),
    dx=st.floats(0.0, 1.0),
    dy=st.floats(0.0, 1.0),
)
def test_random_ellipses_recovered(
    a: float, ratio: float, angle: float, dx: float, dy: float
) -> None:
    b = a / ratio
    reg = fit.pixel_region(ellipse_mask((160, 160), 80 + dx, -80 - dy, a, b, angle), 1.0)
    rx, ry, ang = reg.ellipse()
    perimeter = math.pi * (3 * (a + b) - math.sqrt((3 * a + b) * (a + 3 * b)))
    assert abs(reg.area_um2 - math.pi * a * b) <= perimeter  # within one pixel of the outline
    assert math.hypot(reg.x_um - 80 - dx, reg.y_um + 80 + dy) <= 0.25
    assert rx == pytest.approx(a, abs=1.0)
    assert ry == pytest.approx(b, abs=1.0)
    if ratio >= 1.2:
        assert angle_diff(ang, angle) < math.degrees(2.0 / (a - b))


def test_regular_polygons_shoelace() -> None:
    for n in (3, 4, 7, 64):
        reg = fit.polygon_region(regular_polygon(n, 100.0, 30.0, -20.0)[::-1])  # clockwise too
        assert reg.area_um2 == pytest.approx(n / 2 * 100.0**2 * math.sin(2 * math.pi / n))
        assert (reg.x_um, reg.y_um) == pytest.approx((30.0, -20.0))
        rx, ry, ang = reg.ellipse()  # second moments of a regular polygon are isotropic
        assert rx == pytest.approx(ry)
        assert math.pi * rx * ry == pytest.approx(reg.area_um2)
        assert ang == 0.0


def test_stretched_polygon_gives_exact_axes_and_angle() -> None:
    a, b, theta = 3.0, 1.5, math.radians(-25.0)
    rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    pts = regular_polygon(48, 100.0) @ np.diag([a, b]) @ rot.T + [500.0, 40.0]
    reg = fit.polygon_region(pts)
    rx, ry, ang = reg.ellipse()
    assert rx / ry == pytest.approx(a / b)
    assert ang == pytest.approx(-25.0)
    assert reg.area_um2 == pytest.approx(
        a * b * fit.polygon_region(regular_polygon(48, 100)).area_um2
    )


def test_peanut_perineurium_and_enclosing_circle() -> None:
    # one inner: the difference of the equal-area radii
    assert fit.measured_perineurium_um(math.pi * 120.0**2, [math.pi * 100.0**2]) == pytest.approx(
        20.0
    )
    # two inners of radius 100 with their own 20 µm annuli
    wall = 2 * math.pi * (120.0**2 - 100.0**2)
    t = fit.measured_perineurium_um(2 * math.pi * 100.0**2 + wall, [math.pi * 100.0**2] * 2)
    assert t == pytest.approx(20.0)
    pts = np.vstack((regular_polygon(90, 50.0, 10, 5), np.random.default_rng(1).random((40, 2))))
    assert fit.enclosing_circle(pts) == pytest.approx((10.0, 5.0, 50.0))
    assert fit.enclosing_circle(np.array([[0.0, 0.0], [4.0, 0.0], [2.0, 0.1]])) == pytest.approx(
        (2.0, 0.0, 2.0)
    )


# ----------------------------------------------------------------------------- mask folders
def two_fascicle_masks() -> dict[str, Mask]:
    return {
        "n": ellipse_mask(SHAPE, 200, -200, 180, 180),
        "i": ellipse_mask(SHAPE, 140, -150, 50, 30, 20) | ellipse_mask(SHAPE, 260, -260, 40, 40),
        "o": ellipse_mask(SHAPE, 140, -150, 56, 36, 20) | ellipse_mask(SHAPE, 260, -260, 46, 46),
    }


@pytest.mark.parametrize("suffix", [".tif", ".png"])
def test_mask_folder_inners_outers_nerve(tmp_path: Path, suffix: str) -> None:
    s = 2.5
    for name, mask in two_fascicle_masks().items():
        save(tmp_path, name, mask, suffix)
    nerve = sg.load_section(tmp_path, scale_um_per_px=s)
    assert nerve.diameter_um == pytest.approx(2 * 180 * s, rel=2e-3)
    f0, f1 = nerve.fascicles  # raster order: the upper one first
    assert (f0.x_um, f0.y_um) == pytest.approx((-60 * s, 50 * s), abs=0.1 * s)
    assert (f1.x_um, f1.y_um) == pytest.approx((60 * s, -60 * s), abs=0.1 * s)
    assert (f0.rx_um, f0.ry_um) == pytest.approx((50 * s, 30 * s), rel=0.01)
    assert angle_diff(f0.angle_deg, 20.0) < 0.5
    t0 = math.sqrt(56 * 36) - math.sqrt(50 * 30)  # difference of the equal-area radii, px
    assert f0.perineurium_um == pytest.approx(t0 * s, abs=0.2 * s)
    assert f1.perineurium_um == pytest.approx(6 * s, abs=0.2 * s)


def test_combined_mask_and_scale_bar(tmp_path: Path) -> None:
    m = two_fascicle_masks()
    save(tmp_path, "n", m["n"])
    save(tmp_path, "c", m["o"] & ~m["i"])
    bar = np.zeros(SHAPE, dtype=bool)
    bar[380:384, 10:110] = True  # 100 px
    save(tmp_path, "s", bar)
    cfg = {
        "scale": {"scale_bar_length": 250.0},
        "modes": {"mask_input": "INNER_AND_OUTER_COMPILED", "nerve": "PRESENT"},
    }
    (tmp_path / "sample.json").write_text(json.dumps(cfg))
    combined = sg.load_section(tmp_path)
    separate = sg.from_masks(m["i"], nerve=m["n"], outers=m["o"], scale_um_per_px=2.5)
    assert combined == separate


def test_inners_only_use_species_fit_and_shrinkage(tmp_path: Path) -> None:
    m = two_fascicle_masks()
    save(tmp_path, "n", m["n"])
    save(tmp_path, "i", m["i"])
    cfg = {"scale": {"scale_ratio": 2.0, "shrinkage": 0.25}, "modes": {"scale_input": "RATIO"}}
    (tmp_path / "sample.json").write_text(json.dumps(cfg))
    nerve = sg.load_section(tmp_path, species="pig")
    assert nerve.diameter_um == pytest.approx(2 * 180 * 2.0 * 1.25, rel=2e-3)
    for f in nerve.fascicles:
        assert f.perineurium_um == pytest.approx(perineurium_thickness_um(f.diameter_um, "pig"))


def test_without_nerve_mask_enclosing_circle_plus_margin() -> None:
    i = ellipse_mask(SHAPE, 120, -200, 40, 40) | ellipse_mask(SHAPE, 280, -200, 40, 40)
    o = ellipse_mask(SHAPE, 120, -200, 45, 45) | ellipse_mask(SHAPE, 280, -200, 45, 45)
    nerve = sg.from_masks(i, outers=o, scale_um_per_px=1.0, nerve_margin_um=12.0)
    assert nerve.radius_um == pytest.approx(80 + 45 + 12, abs=1.0)
    assert nerve.fascicles[0].x_um == pytest.approx(-80, abs=0.1)
    default = sg.from_masks(i, outers=o, scale_um_per_px=1.0)
    assert default.radius_um - nerve.radius_um == pytest.approx(fit.default_nerve_margin_um() - 12)


def test_round_trip_nerve_masks_nerve(tmp_path: Path) -> None:
    original = Nerve(
        2000.0,
        (
            Fascicle(350.0, 250.0, 260.0, 150.0, 22.0, 35.0),
            Fascicle(-380.0, -300.0, 210.0, 210.0, 18.0),
            Fascicle(-250.0, 450.0, 120.0, 90.0, 14.0, -60.0),
        ),
    )
    s = 2.0
    sg.write_masks(original, tmp_path, s)
    back = sg.load_section(tmp_path)  # scale from the written sample.json
    assert back.diameter_um == pytest.approx(original.diameter_um, rel=1e-3)
    found = sorted(back.fascicles, key=lambda f: f.x_um)
    for f, g in zip(found, sorted(original.fascicles, key=lambda f: f.x_um), strict=True):
        assert (f.x_um, f.y_um) == pytest.approx((g.x_um, g.y_um), abs=0.2 * s)
        assert (f.rx_um, f.ry_um) == pytest.approx((g.rx_um, g.ry_um), abs=s)
        if g.rx_um != g.ry_um:
            assert angle_diff(f.angle_deg, g.angle_deg) < 0.5
        outer_area = math.pi * (g.rx_um + g.perineurium_um) * (g.ry_um + g.perineurium_um)
        expected = math.sqrt(outer_area / math.pi) - math.sqrt(g.rx_um * g.ry_um)
        assert f.perineurium_um == pytest.approx(expected, abs=0.5 * s)


# ----------------------------------------------------------------------------- polygon files
def test_polygon_file(tmp_path: Path) -> None:
    doc = {
        "format": "openvns.section/1",
        "units": "um",
        "nerve": regular_polygon(200, 900.0, 1000.0, 1000.0).tolist(),
        "fascicles": [
            {
                "inner": regular_polygon(90, 200.0, 700.0, 1000.0).tolist(),
                "outer": regular_polygon(90, 230.0, 700.0, 1000.0).tolist(),
            },
            {
                "inner": regular_polygon(90, 150.0, 1300.0, 1100.0).tolist(),
                "outer": regular_polygon(90, 170.0, 1300.0, 1100.0).tolist(),
            },
        ],
    }
    path = tmp_path / "section.json"
    path.write_text(json.dumps(doc))
    nerve = sg.load_section(path)
    assert nerve.diameter_um == pytest.approx(1800.0, rel=1e-3)
    f0, f1 = nerve.fascicles
    assert (f0.x_um, f0.y_um, f1.x_um, f1.y_um) == pytest.approx((-300, 0, 300, 100), abs=1e-6)
    shrink = math.sqrt(90 * math.sin(2 * math.pi / 90) / (2 * math.pi))  # 90-gon vs circle
    assert f0.perineurium_um == pytest.approx(30.0 * shrink)
    assert f1.perineurium_um == pytest.approx(20.0 * shrink)
    del doc["nerve"]
    for f in doc["fascicles"]:
        del f["outer"]
    doc["nerve_margin_um"] = 5.0
    path.write_text(json.dumps(doc))
    bare = sg.load_section(path)
    assert bare.fascicles[0].perineurium_um == pytest.approx(
        perineurium_thickness_um(bare.fascicles[0].diameter_um)
    )


# ----------------------------------------------------------------------------- errors
def check(field: str, fn: object, *args: object, **kwargs: object) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        fn(*args, **kwargs)  # type: ignore[operator]
    assert info.value.field.startswith(field), info.value.field
    return info.value


def test_mask_errors_name_the_field() -> None:
    m = two_fascicle_masks()
    empty = np.zeros(SHAPE, dtype=bool)
    check("i (inners)", sg.from_masks, empty, scale_um_per_px=1.0)
    check("mask shapes", sg.from_masks, m["i"], nerve=m["n"][:-1], scale_um_per_px=1.0)
    for bad in (0.0, -1.0, math.nan, True, "2"):
        check("scale_um_per_px", sg.from_masks, m["i"], scale_um_per_px=bad)
    lonely = m["i"] | ellipse_mask(SHAPE, 200, -320, 10, 10)
    check("i inner 2", sg.from_masks, lonely, outers=m["o"], scale_um_per_px=1.0)
    extra = m["o"] | ellipse_mask(SHAPE, 200, -320, 10, 10)
    check("o outer 2", sg.from_masks, m["i"], outers=extra, scale_um_per_px=1.0)
    small_nerve = ellipse_mask(SHAPE, 150, -160, 130, 130)
    check("i inner 1", sg.from_masks, m["i"], nerve=small_nerve, scale_um_per_px=1.0)
    two = m["n"] | ellipse_mask(SHAPE, 395, -395, 3, 3)
    check("n (nerve)", sg.from_masks, m["i"], nerve=two, scale_um_per_px=1.0)
    check("nerve_margin_um", sg.from_masks, m["i"], scale_um_per_px=1.0, nerve_margin_um=-1.0)


def test_fits_that_overlap_or_leave_the_nerve_are_refused() -> None:
    close = ellipse_mask(SHAPE, 150, -200, 40, 40) | ellipse_mask(SHAPE, 232, -200, 40, 40)
    err = check("i inner 1", sg.from_masks, close, scale_um_per_px=1.0)  # species perineurium
    assert "i inner 0" in err.allowed
    assert "not shrunk" in err.allowed
    # inside the elongated nerve outline, outside its circle of equal area
    long_nerve = ellipse_mask(SHAPE, 200, -200, 190, 60)
    tip = ellipse_mask(SHAPE, 340, -200, 20, 20)
    err = check("i inner 0", sg.from_masks, tip, nerve=long_nerve, scale_um_per_px=1.0)
    assert "equal-area circle" in err.allowed


def test_folder_errors_name_the_field(tmp_path: Path) -> None:
    check("i mask", sg.load_section, tmp_path, scale_um_per_px=1.0)
    m = two_fascicle_masks()
    save(tmp_path, "i", m["i"])
    check("sample.json scale.scale_bar_length", sg.load_section, tmp_path)
    (tmp_path / "sample.json").write_text(json.dumps({"scale": {"scale_bar_length": 100}}))
    check("s mask", sg.load_section, tmp_path)
    (tmp_path / "sample.json").write_text(json.dumps({"modes": {"mask_input": "OUTERS"}}))
    check("sample.json modes.mask_input", sg.load_section, tmp_path, scale_um_per_px=1.0)
    (tmp_path / "sample.json").write_text(json.dumps({"modes": {"nerve": "PRESENT"}}))
    check("n mask", sg.load_section, tmp_path, scale_um_per_px=1.0)
    shrink = {"scale": {"scale_ratio": 1, "shrinkage": 0.1}}
    shrink["modes"] = {"shrinkage_definition": "AREA_FORWARDS"}  # type: ignore[dict-item]
    (tmp_path / "sample.json").write_text(json.dumps(shrink))
    check("sample.json modes.shrinkage_definition", sg.load_section, tmp_path)
    (tmp_path / "sample.json").write_text("{not json")
    check(str(tmp_path / "sample.json"), sg.load_section, tmp_path)
    check("path_or_dir", sg.load_section, tmp_path / "missing.csv")


def test_polygon_errors_name_the_field(tmp_path: Path) -> None:
    inner = regular_polygon(30, 100.0)
    check("fascicles[0] inner", sg.from_polygons, [inner[:2]])
    check("fascicles[0] inner", sg.from_polygons, [np.zeros((5, 2))])
    check("outers", sg.from_polygons, [inner], outers=[])
    check("fascicles[0] inner", sg.from_polygons, [inner], outers=[regular_polygon(30, 90.0)])
    check("fascicles[0] inner", sg.from_polygons, [inner], nerve=regular_polygon(30, 105.0, 50))
    far = [inner, regular_polygon(30, 100.0, 150.0)]
    check("fascicles[1] inner", sg.from_polygons, far)  # the fits overlap
    path = tmp_path / "s.json"
    for doc, field in (
        (
            {"fascicles": [{"inner": inner.tolist(), "outer": inner.tolist()}, {"inner": []}]},
            "s.json fascicles[1] outer",
        ),
        ({"fascicles": [{"outer": inner.tolist()}]}, "s.json fascicles[0]"),
        ({"fascicles": "x"}, "s.json fascicles"),
        ({"format": "ascent", "fascicles": []}, "s.json format"),
        ({"units": "mm", "fascicles": []}, "s.json units"),
        ({"fascicles": []}, "inners"),
    ):
        path.write_text(json.dumps(doc))
        check(field, sg.load_section, path)
    check("scale_um_per_px", sg.load_section, path, scale_um_per_px=1.0)


@pytest.mark.parametrize(
    ("name", "image"),
    [
        ("bool.tif", lambda m: Image.fromarray(m)),  # mode "1"
        ("ones.tif", lambda m: Image.fromarray(m.astype(np.uint8))),  # 0/1 in mode "L"
        ("deep.tif", lambda m: Image.fromarray(m.astype(np.uint16) * 65535)),  # "I;16"
        (
            "rgba.png",
            lambda m: Image.fromarray(np.dstack([m * 200] * 3 + [~m * 255]).astype(np.uint8)),
        ),
    ],
)
def test_read_mask_image_modes(tmp_path: Path, name: str, image: object) -> None:
    mask = ellipse_mask((40, 60), 30, -20, 20, 10)
    image(mask).save(tmp_path / name)  # type: ignore[operator]
    assert np.array_equal(sg.read_mask(tmp_path / name), mask)
