"""Fibre geometry and parameters against the PyFibers model dumps; bad input."""

from __future__ import annotations

import numpy as np
import pytest

from openvns.errors import ValidationError
from openvns.nerve.fibres import FIBER_MODELS, build_fiber
from openvns.nerve.fibres.parameters import load

from ._reference import load_json, stems

DUMPS = stems("models")
# PyFibers model name of a dump -> our build_fiber name (PENA = Pena et al. 2024 small-fibre MRG)
MODEL_NAMES = {
    "SUNDT": "C",
    "MRG_INTERPOLATION": "MRG",
    "MRG_DISCRETE": "MRG_DISCRETE",
    "PENA": "PENA",
}
# our geometry key -> PyFibers mrg_params key
MRG_PARAMS = {
    "delta_z": "delta_z",
    "flut_length": "paranodal_length_2",
    "nl": "nl",
    "node_diam": "node_diam",
    "axon_diam": "axon_diam",
}


def _relerr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


@pytest.mark.parametrize("name", DUMPS)
def test_geometry_matches_pyfibers_dump(name: str) -> None:
    dump = load_json("models", f"{name}.json")
    info = dump["fiber"]
    model = MODEL_NAMES[info["model"]]
    size = info["size_kwargs"]
    fiber = build_fiber(
        model, info["diameter_um"], n_nodes=size.get("n_nodes"), length_um=size.get("length")
    )
    sec = dump["sections"]
    assert fiber.n_sections == info["n_sections"] == len(sec)
    np.testing.assert_array_equal(fiber.node_indices, info["node_section_indices"])
    assert fiber.delta_z_um == pytest.approx(info["delta_z_um"], rel=1e-12)
    assert fiber.length_um == pytest.approx(info["length_um"], rel=1e-12)
    assert fiber.v_rest_mV == info["v_rest_mV"]
    ext = [s["extracellular"] for s in sec]
    checks = {
        "L": (fiber.L_um, [s["L"] for s in sec]),
        "diam": (fiber.diam_um, [s["diam"] for s in sec]),
        "Ra": (fiber.Ra_ohm_cm, [s["Ra"] for s in sec]),
        "cm": (fiber.cm_uF_cm2, [s["cm"] for s in sec]),
        "z": (fiber.z_um, [s["z_um"] for s in sec]),
        "area": (fiber.area_um2, [s["area_um2"] for s in sec]),
        "xraxial": (fiber.xraxial_Mohm_cm, [e["xraxial"][0] for e in ext]),
        "xg": (fiber.xg_S_cm2, [e["xg"][0] for e in ext]),
    }
    for what, (ours, theirs) in checks.items():
        assert _relerr(ours, theirs) < 1e-9, what
    np.testing.assert_allclose(fiber.xc_uF_cm2, [e["xc"][0] for e in ext], rtol=1e-9, atol=0)
    for i, s in enumerate(sec):
        mech = s["mechanisms"]
        if "pas" in mech:
            assert fiber.g_leak_S_cm2[i] == pytest.approx(mech["pas"]["g"], rel=1e-9)
            assert fiber.e_leak_mV[i] == pytest.approx(mech["pas"]["e"], rel=1e-12)
        if "axnode_myel" in mech:
            ax = mech["axnode_myel"]
            assert fiber.g_leak_S_cm2[i] == pytest.approx(ax["gl"])
            np.testing.assert_allclose(
                fiber.gbar_S_cm2[i], [ax["gnapbar"], ax["gnabar"], ax["gkbar"]]
            )
        if "nahh" in mech:
            assert fiber.gbar_S_cm2[i, 0] == pytest.approx(mech["nahh"]["gnabar"])
            assert fiber.gbar_S_cm2[i, 1] == pytest.approx(mech["borgkdr"]["gkdrbar"])
        assert (s["kind"] == "passive_node") == (fiber.kind[i] == 0)
    if "mrg_params" in info:
        geo = fiber.extra["geometry"]
        for ours, theirs in MRG_PARAMS.items():
            assert geo[ours] == pytest.approx(info["mrg_params"][theirs], rel=1e-12), ours


def test_small_fibre_dumps_are_present() -> None:
    # Pena, Pelot & Grill 2024 (doi 10.1371/journal.pcbi.1011833) small-fibre MRG, B-fibre sizes
    pena = {f"PENA_{d}" for d in (1.5, 2.0, 3.0, 4.0, 5.7)}
    assert pena <= set(DUMPS)
    small = build_fiber("SMALL_MRG", diameter_um=3.0, n_nodes=11)
    assert small.model == "PENA"
    np.testing.assert_array_equal(small.L_um, build_fiber("PENA", 3.0, n_nodes=11).L_um)


def test_model_names_and_public_attributes() -> None:
    assert FIBER_MODELS["SUNDT"] == "C"
    fiber = build_fiber("mrg_interpolation", diameter_um=5.7, n_nodes=11)
    assert fiber.model == "MRG"
    assert fiber.myelinated
    assert fiber.n_sections == 111
    assert fiber.temperature_C == 37.0
    assert fiber.z_um[0] == pytest.approx(0.5)
    c = build_fiber("SUNDT", diameter_um=1.0, length_um=1000)
    assert not c.myelinated
    assert c.node_indices.size == c.n_sections
    pena = build_fiber("PENA", diameter_um=3.0, n_nodes=21)
    assert pena.n_sections == 221
    assert pena.delta_z_um < build_fiber("MRG", 3.0, n_nodes=21).delta_z_um * 2


@pytest.mark.parametrize(
    ("model", "kwargs", "field"),
    [
        ("MRG", {"diameter_um": 1.5}, "diameter_um"),
        ("MRG", {"diameter_um": 16.5}, "diameter_um"),
        ("MRG", {"diameter_um": float("nan")}, "diameter_um"),
        ("MRG_DISCRETE", {"diameter_um": 6.0}, "diameter_um"),
        ("PENA", {"diameter_um": 0.9}, "diameter_um"),
        ("C", {"diameter_um": 5.0, "length_um": 1000}, "diameter_um"),
        ("C", {"diameter_um": 1.0}, "length_um"),
        ("MRG", {"diameter_um": 5.7, "n_nodes": 2}, "n_nodes"),
        ("MRG", {"diameter_um": 5.7, "temperature_C": -5.0}, "temperature_C"),
        ("HH", {"diameter_um": 5.7}, "model"),
    ],
)
def test_bad_fibre_input_names_the_field(model: str, kwargs: dict, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        build_fiber(model, **kwargs)
    assert err.value.field == field


@pytest.mark.parametrize("name", ["mrg", "sundt", "solver"])
def test_every_parameter_has_a_source(name: str) -> None:
    f = load(name)
    assert f.paths()
    for path in f.paths():
        entry = f.entry(path)
        assert entry.source.strip(), path
        assert entry.status in ("V", "D") or entry.provisional, path


def test_unknown_keyword_is_refused_with_its_name_value_and_the_allowed_keywords() -> None:
    with pytest.raises(ValidationError) as err:
        build_fiber("MRG", diameter_um=5.7, n_node=51)
    assert err.value.field == "n_node"
    assert err.value.value == 51
    for keyword in ("n_nodes", "length_um", "temperature_C"):
        assert keyword in err.value.allowed
    assert "n_node = 51" in str(err.value)
