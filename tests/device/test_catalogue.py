"""openvns.device.catalogue: generators, leads and their programmable ranges."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError as PydanticValidationError

from openvns.device import catalogue
from openvns.device.catalogue import ParameterRange, Sourced, default_catalogue, load_catalogue
from openvns.errors import UnknownModelError, ValidationError
from tests.strategies import generators, selectable_values

CAT = default_catalogue()
ALL_RANGES = [
    pytest.param(g.id, name, id=f"{g.id}-{name}")
    for g in CAT.generators.values()
    for name in g.parameters
]


def _range(gen_id: str, name: str) -> ParameterRange:
    return CAT.generators[gen_id].parameters[name]


# ------------------------------------------------------------------------------- lookups
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("1000", "1000"),
        ("Model 106", "106"),
        ("M102", "102"),
        ("SenTiva", "1000"),
        (" 105 ", "105"),
    ],
)
def test_generator_lookup_by_id_prefix_or_name(query: str, expected: str) -> None:
    assert catalogue.generator(query).id == expected


def test_unknown_generator_names_field_value_and_allowed() -> None:
    with pytest.raises(UnknownModelError) as info:
        catalogue.generator("999")
    assert isinstance(info.value, ValidationError)
    assert (info.value.field, info.value.value) == ("generator", "999")
    assert "1000" in info.value.allowed
    assert "gammacore-sapphire-cv" in info.value.allowed


@pytest.mark.parametrize(
    ("alias", "lead_id"), [("2mm", "304-20"), ("3 mm", "304-30"), ("302-20", "302-20")]
)
def test_lead_lookup_by_id_or_alias(alias: str, lead_id: str) -> None:
    assert catalogue.lead(alias).id == lead_id


def test_unknown_lead_is_refused() -> None:
    with pytest.raises(UnknownModelError) as info:
        catalogue.lead("5mm")
    assert info.value.field == "lead"
    assert "2mm" in info.value.allowed


def test_default_lead_is_the_2mm_perennia_flex() -> None:
    assert CAT.default_lead(catalogue.generator("106")).id == "304-20"
    assert CAT.default_lead(catalogue.generator("gammacore-sapphire-cv")).id == "gammacore-contacts"


# ------------------------------------------------------------------------- known values
@pytest.mark.parametrize(
    ("lead_id", "area"), [("2mm", 0.0471), ("3mm", 0.0707), ("302-20", 0.0471)]
)
def test_helical_contact_area_matches_reference(lead_id: str, area: float) -> None:
    # reference §3.1: A = pi * ID * w, w = 0.75 mm
    assert catalogue.lead(lead_id).contact_area_cm2 == pytest.approx(area, abs=5e-5)


def test_skin_electrodes_have_no_known_area() -> None:
    assert catalogue.lead("gammacore-contacts").contact_area_cm2 is None
    assert catalogue.lead("ear-clip").nominal_impedance_ohm is None


def test_implanted_output_range_and_steps() -> None:
    for gid in ("102", "103", "105", "106"):
        cur = _range(gid, "output_current_mA")
        assert (cur.min, cur.max, cur.step) == (0.0, 3.5, 0.25)
    assert _range("1000", "output_current_mA").step == 0.125
    assert _range("1000", "output_current_mA").provisional  # 0.125 mA steps are recalled (R)


def test_features_by_model() -> None:
    assert not catalogue.generator("102").has("autostim")
    assert catalogue.generator("106").has("autostim")
    assert {"autostim", "scheduled_programming", "day_night"} <= catalogue.generator(
        "1000"
    ).features
    gc = catalogue.generator("gammacore-sapphire-cv")
    assert gc.has("dose_limit")
    assert not gc.implanted


def test_gammacore_burst_and_dose_limit() -> None:
    gc = catalogue.generator("gammacore-sapphire-cv")
    assert gc.burst is not None
    assert gc.dose is not None
    assert gc.burst.carrier_frequency_Hz.value == 5000
    assert gc.burst.pulses_per_burst.value == 5
    assert gc.parameters["frequency_Hz"].values == (25.0,)
    assert gc.dose.max_per_day.value == 30
    assert gc.dose.duration_s.value == 120
    # five 5 kHz cycles last 1 ms: the catalogue pulse width of the burst
    assert gc.parameters["pulse_width_us"].values == (1000.0,)


def test_autostim_threshold_and_heartbeat_sensitivity_are_verified_ranges() -> None:
    thr = _range("106", "autostim_threshold_pct")
    assert thr.selectable() == (20, 30, 40, 50, 60, 70)
    assert _range("1000", "heartbeat_sensitivity").selectable() == (1, 2, 3, 4, 5)


def test_ramp_and_battery_blocks() -> None:
    g = catalogue.generator("103")
    assert g.ramp_s == 2.0
    assert g.battery is not None
    assert len(g.battery.anchors) == 2
    assert catalogue.generator("tavns-auricular").battery is None


# ---------------------------------------------------------------------------- provenance
@pytest.mark.parametrize(("gen_id", "name"), ALL_RANGES)
def test_every_range_has_a_source_and_unproven_values_are_provisional(
    gen_id: str, name: str
) -> None:
    rng = _range(gen_id, name)
    assert rng.source.strip()
    if rng.status in ("R", "NF", "A"):
        assert rng.provisional


def test_provisional_flag_is_enforced() -> None:
    with pytest.raises(PydanticValidationError, match="provisional"):
        Sourced(value=1.0, status="R", provisional=False, source="x")
    with pytest.raises(PydanticValidationError, match="provisional"):
        ParameterRange(min=0, max=1, step=0.5, status="A", provisional=False, source="x")


def test_bad_ranges_are_refused() -> None:
    with pytest.raises(PydanticValidationError):
        ParameterRange(min=2, max=1, status="V", provisional=False, source="x")
    with pytest.raises(PydanticValidationError):
        ParameterRange(min=0, max=1, step=0, status="V", provisional=False, source="x")
    with pytest.raises(PydanticValidationError):
        ParameterRange(values=(), status="V", provisional=False, source="x")


def test_catalogue_cross_references_are_checked() -> None:
    text = (
        "schema: s\nversion: '1'\nsources: {}\nleads: []\ngenerators:\n"
        "  - {id: x, name: X, family: f, kind: implanted, features: [], battery_indicator: none,"
        " leads: [nope], source: s, output: {compliance_voltage_V: {value: 1, status: V, "
        "provisional: false, source: s}, ramp_s: {value: 0, status: V, provisional: false, "
        "source: s}, magnet_ramp: false, off_greater_than_on_recommended: {value: true, "
        "status: V, provisional: false, source: s}}, parameters: {}}\n"
    )
    with pytest.raises(PydanticValidationError):
        load_catalogue(text)
    with pytest.raises(ValueError, match="mapping"):
        load_catalogue("- a\n- b\n")


# ---------------------------------------------------------------------- ParameterRange API
def test_grid_range_behaviour() -> None:
    cur = _range("102", "output_current_mA")
    assert cur.allows(1.25)
    assert cur.allows(0.0)
    assert cur.allows(3.5)
    assert not cur.allows(1.3)
    assert not cur.allows(3.75)
    assert not cur.allows(math.nan)
    assert cur.in_range(1.3)
    assert not cur.in_range(3.6)
    assert cur.nearest(1.3) == 1.25
    assert cur.nearest(1.375) == 1.25
    assert cur.nearest(9.0) == 3.5
    assert cur.nearest(-1.0) == 0.0
    assert cur.describe() == "0–3.5 mA in 0.25 mA steps"
    assert len(cur.selectable()) == 15
    assert cur.unit == "mA"


def test_list_range_behaviour() -> None:
    pw = _range("1000", "pulse_width_us")
    assert pw.allows(250)
    assert not pw.allows(300)
    assert not pw.allows(2000)
    assert pw.nearest(300) == 250
    assert pw.nearest(900) == 1000
    assert pw.describe() == "one of {130, 250, 500, 750, 1000} µs"
    off = _range("1000", "off_time_min")
    assert "…" in off.describe()  # long lists are abbreviated


def test_continuous_range_has_no_selectable_list() -> None:
    cur = _range("gammacore-sapphire-cv", "output_current_mA")
    assert cur.allows(12.345)
    assert not cur.allows(60.5)
    assert cur.nearest(70.0) == 60.0
    with pytest.raises(ValueError, match="continuous"):
        cur.selectable()


@given(st.data())
def test_selectable_values_are_allowed_and_nearest_is_selectable(data: st.DataObject) -> None:
    gen = data.draw(generators())
    name = data.draw(st.sampled_from(sorted(gen.parameters)))
    rng = gen.parameters[name]
    x = data.draw(selectable_values(rng))
    assert rng.allows(x)
    assert rng.in_range(x)
    assert rng.nearest(x) == pytest.approx(x, abs=1e-9)
    y = data.draw(st.floats(-10.0, 2 * rng.max + 10.0))
    near = rng.nearest(y)
    assert rng.allows(near)
    if rng.allows(y):  # allowed within the grid tolerance (1e-6 of a step)
        assert near == pytest.approx(y, abs=1e-6 * (rng.step or 1.0))


@given(st.data())
def test_nearest_is_closest_selectable(data: st.DataObject) -> None:
    gen = data.draw(generators())
    name = data.draw(st.sampled_from(sorted(gen.parameters)))
    rng = gen.parameters[name]
    if rng.values is None and rng.step is None:
        return
    y = data.draw(st.floats(rng.min - 5, rng.max + 5))
    best = min(abs(v - y) for v in rng.selectable())
    assert abs(rng.nearest(y) - y) <= best + 1e-9
