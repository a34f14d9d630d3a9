"""The registry: every shipped parameter set loads, every value is sourced, names and units."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from openvns.errors import ValidationError
from openvns.parameters import (
    STATUSES,
    Parameter,
    ParameterSet,
    Provenance,
    available,
    describe,
    load_set,
    parse_set,
    register,
    unit_of,
)

SHIPPED = (
    "catalogue",
    "safety",
    "waveforms",
    "implant",
    "fibres",
    "fibres/mrg",
    "fibres/sundt",
    "fibres/solver",
    "population",
    "anatomy",
    "cuff",
    "recruitment",
    "physiology",
    "conditions/fibromyalgia",
    "conditions/neuropathic_pain",
    "conditions/crps",
    "conditions/diary",
)


def test_every_shipped_file_is_registered() -> None:
    assert set(SHIPPED) <= set(available())
    assert all(describe()[name] for name in SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_set_loads_with_every_value_sourced(name: str) -> None:
    s = load_set(name)
    assert isinstance(s, ParameterSet)
    assert s.name == name
    assert s.version not in ("", "unknown")
    assert s.schema_id.startswith("openvns.")
    assert len(s) > 0
    for p in s:
        assert isinstance(p, Parameter)
        assert isinstance(p, Provenance)
        assert p.status in STATUSES
        assert p.source.strip(), p.name
        if p.status in ("R", "NF", "A"):
            assert p.provisional, p.name
    assert s.provisional() == tuple(p for p in s if p.provisional)


def test_nested_catalogue_is_flattened_to_dotted_names() -> None:
    s = load_set("catalogue")
    rng = s["generators.1000.parameters.output_current_mA.max"]
    assert rng.value == 3.5
    assert rng.unit == "mA"
    assert rng.section == "generators"
    step = s["generators.1000.parameters.output_current_mA.step"]
    assert (step.value, step.status, step.provisional) == (0.125, "R", True)
    widths = s["generators.106.parameters.pulse_width_us.values"]
    assert widths.value == (130, 250, 500, 750, 1000)
    assert widths.unit == "µs"
    assert s["leads.304-20.geometry.impedance_high_ohm"].unit == "Ω"
    # `settings_status` gives the provenance of its sibling `settings`
    anchor = s["generators.1000.battery.anchors.0.settings.output_current_mA"]
    assert (anchor.value, anchor.status, anchor.provisional) == (1.0, "A", True)
    # anchor tables (keys starting with "_") are not parameters of their own
    assert not any(p.name.startswith("_") for p in s)


def test_sets_agree_with_the_layer_loaders() -> None:
    from openvns.device import catalogue
    from openvns.device.safety import SafetyLimits
    from openvns.physiology import load_parameters

    limits = SafetyLimits.default()
    safety = load_set("safety")
    assert safety["shannon_k_block"].value == limits.shannon_k_block
    assert safety["charge_density_warn_uC_per_cm2"].unit == "µC/cm²"
    gen = catalogue.generator("106")
    rng = gen.parameters["off_time_min"]
    assert load_set("catalogue")["generators.106.parameters.off_time_min.values"].value == (
        rng.values
    )
    phys = load_parameters()
    s = load_set("physiology")
    for name in type(phys).model_fields:
        if name != "version" and name in s:
            assert s[name].value == getattr(phys, name), name
    assert s.version == phys.version


def test_physiology_names_are_flat_with_sections() -> None:
    s = load_set("physiology")
    p = s["f_opt_Hz"]
    assert (p.unit, p.status, p.provisional, p.section) == ("Hz", "A", True, "drive")
    assert s.provenance("f_opt_Hz") == Provenance(status="A", provisional=True, source=p.source)
    assert type(s.provenance("f_opt_Hz")) is Provenance
    with pytest.raises(KeyError, match="no_such"):
        s["no_such"]


def test_conditions_have_one_set_each() -> None:
    fm = load_set("conditions/fibromyalgia")
    assert fm["P0_NRS"].unit == "NRS"
    assert fm["P0_NRS"].section == "fibromyalgia"
    assert fm["label"].value == "Fibromyalgia"
    assert "missing_rate" in load_set("conditions/diary")
    assert "missing_rate" not in fm


def test_fibres_combines_the_fibre_files() -> None:
    fibres = load_set("fibres")
    mrg = load_set("fibres/mrg")
    assert len(fibres) == sum(len(load_set(f"fibres/{m}")) for m in ("mrg", "sundt", "solver"))
    assert fibres["mrg.v_rest_mV"].value == mrg["v_rest_mV"].value == -80.0
    assert fibres["mrg.v_rest_mV"].unit == "mV"
    assert fibres["mrg.v_rest_mV"].section == "mrg"


def test_rows_for_display() -> None:
    rows = load_set("safety").to_rows()
    assert rows[0] == {
        "name": "shannon_k_block",
        "value": "1.85",
        "unit": "",
        "status": "V",
        "provisional": "no",
        "source": rows[0]["source"],
        "section": "",
        "range": "",
    }
    assert "Shannon 1992" in rows[0]["source"]
    only = load_set("safety").to_rows(provisional_only=True)
    assert {r["name"] for r in only} == {
        "shannon_k_warn",
        "charge_density_warn_uC_per_cm2",
        "duty_cycle_warn",
        "skin_current_density_warn_mA_per_cm2",
    }


def test_unknown_set_names_the_value_and_the_allowed_sets() -> None:
    with pytest.raises(ValidationError, match=r"'nope'.*allowed: one of .*physiology") as info:
        load_set("nope")
    assert info.value.value == "nope"
    assert "conditions/crps" in info.value.allowed


def test_register_a_set_and_refuse_a_duplicate_name() -> None:
    text = "schema: test/1\nversion: '1'\nx_mA: {value: 1.5, status: V, source: here}\n"
    register("test/extra", lambda: parse_set(text, "test/extra"), "a test set")
    try:
        assert "test/extra" in available()
        assert load_set("test/extra")["x_mA"].unit == "mA"
        with pytest.raises(ValueError, match="already registered"):
            register("test/extra", lambda: parse_set(text, "x"), "again")
    finally:
        from openvns.parameters import registry

        registry._REGISTRY.pop("test/extra", None)
        registry._CACHE.pop("test/extra", None)


@pytest.mark.parametrize(
    ("name", "unit"),
    [
        ("f_opt_Hz", "Hz"),
        ("output_current_mA", "mA"),
        ("pulse_width_us", "µs"),
        ("tau_S_d", "d"),
        ("h0_per_d", "1/d"),
        ("P0_NRS", "NRS"),
        ("autostim_threshold_pct", "%"),
        ("on_time_s", "s"),
        ("off_time_min", "min"),
        ("diameter_um", "µm"),
        ("impedance_low_ohm", "Ω"),
        ("charge_density_warn_uC_per_cm2", "µC/cm²"),
        ("phi", ""),
        ("n_S", ""),
        ("groups.cardiac_B.diameter_um.mean", "µm"),
    ],
)
def test_unit_from_the_name(name: str, unit: str) -> None:
    assert unit_of(name) == unit


def test_parameters_imports_no_layer() -> None:
    code = (
        "import sys, openvns.parameters as p; p.load_set('physiology'); "
        "p.load_set('catalogue'); layers = ('device', 'nerve', 'physiology', 'patients'); "
        "print([m for m in sys.modules if m.split('.')[1:2] and m.split('.')[1] in layers])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_values_are_finite_numbers_or_labels() -> None:
    for name in SHIPPED:
        for p in load_set(name):
            if isinstance(p.value, float):
                assert math.isfinite(p.value), (name, p.name)
